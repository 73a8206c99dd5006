"""Downlinks applied by the node, end to end on the simulated board: the gateway's encoder, the
node's decoder and firmware.downlink, the frames the gateway decodes afterwards."""

import json

from lpwa.codecs.command import encode_command
from lpwa.codecs.schema import SPO2_UNCALIBRATED
from lpwa.gateway.frames import FrameDecoder
from lpwa.tools.cli.node import SIM_KEY, run_sim, sim_config


def _readings(cfg_json, frames):
    cfg = json.loads(cfg_json)
    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    out = []
    for f in frames:
        for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"]):
            if d["type"] in ("reading", "alarm"):
                out.append((f["time"] - frames[0]["time"], {k: v["value"] for k, v in d["readings"].items()}))
    return out


def test_set_spo2_cal_downlinks_calibrate_the_node(mpy):
    """Before: flagged uncalibrated (default curve). A refused curve changes nothing; after the
    staged a, b, c and `apply`, readings come unflagged from the sensor's own curve."""
    cfg_json = sim_config("drone-vital", "lora")
    dev = int(json.loads(cfg_json)["device"], 16)
    key = bytes.fromhex(SIM_KEY)
    cal = [("a", 112.0), ("b", -14.0), ("c", -12.0)]
    downlinks = [(0.3, encode_command(dev, key, 1, {"cmd": "set-spo2-cal", "coef": "a", "value": 90.0})),
                 (0.3, encode_command(dev, key, 2, {"cmd": "set-spo2-cal", "coef": "b", "value": 25.0})),
                 (0.4, encode_command(dev, key, 3, {"cmd": "set-spo2-cal", "coef": "apply", "value": 70}))]
    downlinks += [(0.6, encode_command(dev, key, 4 + i, {"cmd": "set-spo2-cal", "coef": c, "value": v}))
                  for i, (c, v) in enumerate(cal)]
    downlinks.append((0.7, encode_command(dev, key, 7, {"cmd": "set-spo2-cal", "coef": "apply", "value": 65})))
    frames, events, info = run_sim(cfg_json, 1.2, "micropython", mpy=mpy, downlinks=downlinks)
    results = [e["result"] for e in events if e.get("event") == "downlink"]
    assert results[:3] == ["spo2 a staged", "spo2 b staged", results[2]] and results[2].startswith("refused")
    assert results[-1] == "spo2 calibration 11200 -1400 -1200 from 6500", results
    rows = _readings(cfg_json, frames)
    before = [r for t, r in rows if t < 0.3 * 3600 and "heart_rate_bpm" in r]
    after = [r for t, r in rows if t > 0.8 * 3600 and "heart_rate_bpm" in r]
    assert before and all(r["spo2_flags"] & SPO2_UNCALIBRATED for r in before)
    assert after and all(r["spo2_flags"] == 0 for r in after)
    # the simulated sensor follows the default curve: its own-curve reading of the same R differs
    assert {r["spo2_pct"] for r in after} != {r["spo2_pct"] for r in before}


def test_a_downlink_checks_with_tunables_not_the_config_validator():
    """Applying a downlink loads firmware.tunables (the interval and LoRa checks), not the whole
    boot-only validator; config re-exports the same checks and the same ConfigError."""
    import ast
    import pathlib

    from lpwa.firmware import config, downlink, tunables

    src = pathlib.Path(downlink.__file__).read_text(encoding="utf-8")
    imported = [n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert "config" not in imported and "tunables" in imported
    assert config.ConfigError is tunables.ConfigError and config.check_lora is tunables.check_lora
    assert config.check_interval is tunables.check_interval
