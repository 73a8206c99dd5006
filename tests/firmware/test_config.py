"""The spo2_cal row of the device config: one declarative row, checked, round-tripped, used."""

import json

import pytest

from lpwa.firmware import config
from lpwa.tools.cli.node import sim_config


def _cfg(**extra):
    return dict(json.loads(sim_config("drone-vital", "lora")), **extra)


def test_spo2_cal_row_parses_to_hundredths_and_round_trips():
    assert config.parse(_cfg())["spo2_cal"] is None          # absent: the default curve, flagged
    cfg = config.parse(_cfg(spo2_cal={"a": 112, "b": -14, "c": -12, "lo": 65}))
    assert cfg["spo2_cal"] == (11200, -1400, -1200, 6500)
    again = config.loads(config.to_json(cfg))
    assert again["spo2_cal"] == cfg["spo2_cal"]


@pytest.mark.parametrize("bad", [
    {"a": 90, "b": 25, "lo": 70}, {"a": 110, "b": -25, "lo": 30}, {"a": 110, "lo": 70},
    {"a": 110, "b": -25, "lo": 70, "x": 1}, [110, -25], {"a": True, "b": -25, "lo": 70},
])
def test_a_bad_spo2_cal_names_the_field(bad):
    with pytest.raises(config.ConfigError) as e:
        config.parse(_cfg(spo2_cal=bad))
    assert "spo2_cal" in str(e.value)


def test_a_configured_calibration_is_used_from_the_first_reading(mpy):
    from lpwa.gateway.frames import FrameDecoder
    from lpwa.tools.cli.node import run_sim
    cfg_json = json.dumps(_cfg(spo2_cal={"a": 112, "b": -14, "c": -12, "lo": 65}))
    frames, _, _ = run_sim(cfg_json, 0.5, "micropython", mpy=mpy)
    cfg = json.loads(cfg_json)
    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    flags = [d["readings"]["spo2_flags"]["value"] for f in frames
             for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"])
             if d["type"] in ("reading", "alarm") and "spo2_flags" in d["readings"]]
    assert flags and set(flags) == {0}


def test_without_a_calibration_sigfox_readings_are_flagged_uncalibrated_too(mpy):
    """The whole node under MicroPython on Sigfox: spo2_flags rides in the compact frame's triage byte."""
    from lpwa.gateway.frames import FrameDecoder
    from lpwa.tools.cli.node import run_sim
    cfg_json = sim_config("drone-vital", "sigfox")
    frames, _, _ = run_sim(cfg_json, 1.0, "micropython", mpy=mpy)
    cfg = json.loads(cfg_json)
    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    got = [d["readings"] for f in frames for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"])
           if d["type"] in ("reading", "alarm")]
    assert got and all(r["spo2_flags"]["value"] & 1 for r in got)  # SPO2_UNCALIBRATED on every reading
