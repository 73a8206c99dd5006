"""Frame version 2 at the gateway: the reference (a device's last accepted full frame) is kept
in the store, so relative positions resolve after a restart; without it the reading is still
published, flagged "ref": "missing" and counted; an unaccepted full frame is no reference."""

import json

from lpwa.codecs.frame import FrameEncoder
from lpwa.gateway import positions
from lpwa.gateway.pipeline import Pipeline
from support.gateway import KEYS, make_config

DEV = "11223344"  # a drone-vital device of the test config
R = {"heart_rate_bpm": 80, "spo2_pct": 97, "body_temp_c": 36.9, "lat_deg": 35.681236, "lon_deg": 139.767125,
     "triage": 1, "battery_v": 3.9}


def v2(counter, ref=None, lat=R["lat_deg"]):
    enc = FrameEncoder("drone-vital", int(DEV, 16), bytes.fromhex(KEYS[DEV]), radio="lora", version=2)
    enc.reference = ref
    return enc.encode(counter, dict(R, lat_deg=lat))[0], enc


def ups(p):
    return [json.loads(r[4]) for r in p.queue.read_after(0, 100000) if r[3].endswith("/up")]


def test_relative_positions_resolve_across_a_restart(tmp_path):
    cfg = make_config(tmp_path)
    p = Pipeline(cfg)
    full, enc = v2(20)
    assert p.ingest("lora", full, {}, "udp").accepted
    ref = enc.ref_values() + [20]
    assert p.ingest("lora", v2(21, ref, R["lat_deg"] + 0.001)[0], {}, "udp").accepted
    p.queue.close()
    p2 = Pipeline(cfg)  # fresh memory, same state file
    assert p2.ingest("lora", v2(25, ref, R["lat_deg"] - 0.002)[0], {}, "udp").accepted
    msgs = ups(p2)
    assert [m["ref"] for m in msgs] == ["full", "relative", "relative"]
    assert abs(msgs[2]["readings"]["lat_deg"]["value"] - (R["lat_deg"] - 0.002)) < 1e-5
    assert msgs[2]["readings"]["heart_rate_bpm"]["value"] == 80
    assert p2.status()["positions"]["unresolved"] == 0
    assert DEV + positions.SUFFIX not in p2.status()["devices"]  # a reference is no device of its own
    p2.queue.close()


def test_without_the_reference_the_reading_is_published_flagged_and_counted(tmp_path):
    p = Pipeline(make_config(tmp_path))
    full, enc = v2(30)
    ref = enc.ref_values() + [30]  # the node sent it; the gateway never heard it
    out = p.ingest("lora", v2(31, ref)[0], {}, "udp")
    assert out.accepted
    (msg,) = ups(p)
    assert msg["ref"] == "missing" and "lat_deg" not in msg["readings"]
    assert msg["readings"]["spo2_pct"]["value"] == 97
    assert p.status()["positions"]["unresolved"] == 1
    p.queue.close()


def test_a_replayed_full_frame_does_not_become_the_reference(tmp_path):
    p = Pipeline(make_config(tmp_path))
    old, _ = v2(40, lat=10.0)
    assert p.ingest("lora", old, {}, "udp").accepted
    new, enc = v2(41)
    assert p.ingest("lora", new, {}, "udp").accepted
    assert not p.ingest("lora", old, {}, "udp").accepted  # replayed: rejected, reference unchanged
    assert p.ingest("lora", v2(42, enc.ref_values() + [41], R["lat_deg"] + 0.0005)[0], {}, "udp").accepted
    assert abs(ups(p)[-1]["readings"]["lat_deg"]["value"] - (R["lat_deg"] + 0.0005)) < 1e-5
    p.queue.close()


def test_pack_keeps_a_reference_exact():
    for ref in ([-89999990, 179999990, 4095], [35681240, 139767130, 7], [900, 12]):
        assert positions.unpack("pedometer" if len(ref) == 2 else "buoy", positions.pack(ref)) == ref
        assert 0 <= positions.pack(ref) < 2 ** 63
