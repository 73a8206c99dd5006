"""`lpwa node report`'s LoRa rows (issue #17 point 3): at SF10 every message is one LoRa frame."""

import pytest

from lpwa.codecs import schema
from lpwa.tools.cli.node import run_sim, sim_config, summarize


@pytest.mark.parametrize("kind", schema.KIND_NAMES)
def test_a_simulated_day_on_lora_sf10_sends_one_frame_per_message(kind):
    cfg = sim_config(kind, "lora")
    assert '"sf": 10' in cfg and '"freq_khz": 923200' in cfg  # ARIB channel 37: the 4 s rule is allowed
    frames, events, info = run_sim(cfg, 24, "cpython")
    day = summarize(frames, events, info, 24)
    assert day["messages_per_day"] > 0 and day["frames_per_day"] == day["messages_per_day"]
    sizes = sorted(len(f["hex"]) // 2 for f in frames)
    # the 400 ms dwell (24 B) but for the buoy's full frame with salinity and conductivity (4 s rule)
    assert sizes[-1] <= (25 if kind == "buoy" else 24)
