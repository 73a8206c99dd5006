"""Consent reaches the node: the real firmware app on the simulated board (under the real MicroPython)
and the real gateway pipeline, in a closed loop.

The simulation runs a whole stretch of hours at once, so the loop is closed by iteration: run the
node with the downlinks the gateway handed out last time (each at the receive window of the uplink
it was handed to), feed its frames to a fresh gateway whose registry withdraws consent at 1 h and
grants it again at 2 h, and repeat until the gateway hands out exactly the downlinks the node got:
that run is one consistent history of node and gateway.
"""

import argparse
import contextlib
import io
import json

from lpwa.codecs.schema import STATUS_NO_CONSENT
from lpwa.gateway import config as config_mod
from lpwa.gateway.frames import FrameDecoder
from lpwa.gateway.pipeline import Pipeline
from lpwa.tools.cli.gateway import _show
from lpwa.tools.cli.node import SIM_KEY, run_sim, sim_config

HOURS = 3.5


def _gateway(state_dir, device, now):
    cfg = config_mod.from_dict({"gateway": {"id": "gw-consent", "state_dir": str(state_dir)},
                                "devices": [{"id": device, "key": SIM_KEY, "kind": "drone-vital",
                                             "consent": True}]})
    return Pipeline(cfg, clock=lambda: now[0])


def status_text(gw):
    """What `lpwa gateway status` prints for this pipeline's status."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _show({"pipeline": gw.status(), "gateway": "gw-consent", "time": 0},
              argparse.Namespace(url="http://x", json=False), 0)
    return out.getvalue()


def _one_history(tmp_path, n, cfg_json, schedule, mpy):
    frames, events, info = run_sim(cfg_json, HOURS, "micropython", mpy=mpy, downlinks=schedule)
    device = json.loads(cfg_json)["device"]
    now = [frames[0]["time"]]
    gw = _gateway(tmp_path / ("s%d" % n), device, now)
    start, handed, views, texts = frames[0]["time"], [], [], []
    for f in frames:
        now[0] = f["time"]
        h = (f["time"] - start) / 3600
        if 1.0 <= h < 2.0 and gw.consent.granted[device]:
            gw.consent.set(device, False, why="test")
        if h >= 2.0 and not gw.consent.granted[device]:
            gw.consent.set(device, True, why="test")
        out = gw.ingest(f["radio"], bytes.fromhex(f["hex"]), f["meta"], "wisun")
        if out.downlink:
            handed.append((h - 0.5 / 3600, out.downlink))
        views.append(json.loads(json.dumps(gw.status()["consent"]["nodes"])))
        if views[-1].get(device) == {"wanted": "withdrawn", "node": "applied", "tries": 1}:
            texts.append(status_text(gw))
    gw.queue.close()
    return frames, events, handed, (views, texts)


def test_withdrawal_and_regrant_reach_the_node_and_its_frames_show_it(tmp_path, mpy):
    cfg_json = sim_config("drone-vital", "wisun")
    schedule = []
    for n in range(5):
        frames, events, handed, (status, texts) = _one_history(tmp_path, n, cfg_json, schedule, mpy)
        if n == 0:  # the node heard nothing: the gateway retried at each of its uplinks
            device = json.loads(cfg_json)["device"]
            assert len([h for h, _ in handed if 1.0 <= h < 2.0]) >= 3
            assert max(v[device]["tries"] for v in status if device in v) >= 3
            assert all(v[device]["node"] == "pending" for v in status if v.get(device, {}).get("wanted") == "withdrawn")
        if [d for _, d in handed] == [d for _, d in schedule]:
            break
        schedule = handed
    else:
        raise AssertionError("node and gateway did not settle on one history: %r" % handed)
    results = [e["result"] for e in events if e.get("event") == "downlink"]
    assert results[:2] == ["consent withdrawn", "consent granted"], results
    dec = FrameDecoder({json.loads(cfg_json)["device"]: bytes.fromhex(SIM_KEY)}.get)
    start = frames[0]["time"]
    timeline = []
    for f in frames:
        for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"]):
            timeline.append(((f["time"] - start) / 3600, d))
    withdrawn_at = schedule[0][0]
    regrant_at = schedule[1][0]
    quiet = [d for h, d in timeline if withdrawn_at + 0.01 < h < regrant_at]
    assert quiet and all(d["type"] == "status" for d in quiet)  # no personal field on the air
    assert quiet[0]["readings"]["fault_flags"]["value"] & STATUS_NO_CONSENT  # the node says it applied it
    assert any(d["type"] != "status" for h, d in timeline if h > regrant_at + 0.01)  # readings again
    before = [d for h, d in timeline if h < 1.0]
    assert any(d["type"] == "reading" for d in before)
    # the gateway's own view, per device, as `lpwa gateway status` shows it
    device = json.loads(cfg_json)["device"]
    views = [v[device] for v in status if device in v]
    assert {"wanted": "withdrawn", "node": "pending", "tries": 1} in views
    assert any(v["wanted"] == "withdrawn" and v["node"] == "applied" for v in views)
    assert views[-1]["wanted"] == "granted" and views[-1]["node"] == "applied"
    row = [line for line in texts[0].splitlines() if line.startswith(device)][0]
    assert row.endswith("withdrawn (node applied (1 tries))"), texts[0]
