"""Frame version 2 (codecs/packed.py): the same bytes from MicroPython and CPython, one LoRa
emission per reading at SF10, positions relative to the last full frame, and bad input refused
with a reason (never another exception)."""

import random

import pytest

from lpwa.codecs.decoder import decode
from lpwa.codecs.errors import FrameError
from lpwa.codecs.frame import FrameEncoder
from lpwa.codecs.packed import resolve, reference_of
from lpwa.radio.airtime import lora_airtime_us

KEY = bytes(range(16))
DEV = 0x0A1B2C3D
READINGS = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
             "battery_v": 3.7, "fault_flags": 5, "salinity_psu": 34.5, "conductivity_ms_cm": 52.1},
    "drone-vital": {"heart_rate_bpm": 112, "spo2_pct": 93, "body_temp_c": 38.4, "lat_deg": 35.681236,
                    "lon_deg": 139.767125, "triage": 3, "battery_v": 3.9},
    "pedometer": {"steps": 1234, "steps_total": 123456, "interval_start": 1767225600, "battery_v": 3.8,
                  "interval_s": 900},
}
# the largest error each field may have after the trip (half its version 2 step)
TOLERANCE = {"water_temp_c": 0.1, "wave_height_m": 0.05, "lat_deg": 5e-6, "lon_deg": 5e-6, "battery_v": 0.01,
             "salinity_psu": 0.1, "conductivity_ms_cm": 0.25, "body_temp_c": 0.05}

SNIPPET = """
from lpwa.codecs.frame import FrameEncoder
_r = %r
_enc = FrameEncoder(%r, 0x0a1b2c3d, bytes(range(16)), radio="lora", sf=10, version=2, long_ok=True)
_full = [f.hex() for f in _enc.encode(40, _r)]
_enc.reference = _enc.ref_values() + [40]
_moved = dict(_r)
if "lat_deg" in _moved:
    _moved["lat_deg"] = "%%.6f" %% (_r["lat_deg"] + 0.0004)  # decimal text, as the GPS driver gives it
_rel = [f.hex() for f in _enc.encode(45, _moved)]
_out = [_full, _rel, _enc.long]
"""


def run(impl, kind):
    full, rel, _long = impl.eval_json(SNIPPET % (READINGS[kind], kind), "_out")
    return [bytes.fromhex(h) for h in full], [bytes.fromhex(h) for h in rel]


def close(kind, readings):
    for name, want in READINGS[kind].items():
        got = readings[name]["value"]
        assert abs(got - want) <= TOLERANCE.get(name, 0) + 1e-9, (name, got, want)


@pytest.mark.parametrize("kind", sorted(READINGS))
def test_full_and_relative_frames_round_trip_on_both_interpreters(impl, kind):
    full, rel = run(impl, kind)
    assert len(full) == 1 and len(rel) == 1  # one emission each at SF10
    assert len(rel[0]) <= 24  # the routine frame fits the 400 ms dwell
    d = decode(full[0], "lora", {}, lambda dev: KEY)
    assert d["ref"] == "full" and d["version"] == 2
    close(kind, d["readings"])
    ref = reference_of(d)
    r = resolve(decode(rel[0], "lora", {}, lambda dev: KEY), ref)
    assert r["ref"] == "relative" and r["counter"] == 45
    if "lat_deg" in READINGS[kind]:
        assert abs(r["readings"]["lat_deg"]["value"] - (READINGS[kind]["lat_deg"] + 0.0004)) <= 1e-5
    else:
        assert r["readings"]["interval_s"]["value"] == 900  # implied by the reference


def test_the_same_bytes_on_micropython_and_cpython(mpy):
    from conftest import CPython

    for kind in READINGS:
        assert run(mpy, kind) == run(CPython(), kind)


@pytest.mark.parametrize("kind", sorted(READINGS))
def test_without_the_reference_the_other_readings_still_arrive(kind):
    enc = FrameEncoder(kind, DEV, KEY, radio="lora", sf=10, version=2)
    enc.encode(10, READINGS[kind])
    enc.reference = enc.ref_values() + [10]
    d = decode(enc.encode(11, READINGS[kind])[0], "lora", {}, lambda dev: KEY)
    wrong = reference_of(decode(FrameEncoder(kind, DEV, KEY, version=2, long_ok=True).encode(9, READINGS[kind])[0], "lora", {},
                                lambda dev: KEY))  # a full frame, but not the one 1 counter value back
    for ref in (None, wrong):
        out = resolve(dict(d, readings=dict(d["readings"])), ref)
        assert out["ref"] == "missing"
        names = set(READINGS[kind]) - {"lat_deg", "lon_deg", "interval_s"}
        assert names <= set(out["readings"]) and not {"lat_deg", "interval_s"} & set(out["readings"])


def test_full_frames_on_schedule_on_alarm_and_when_an_offset_does_not_fit():
    r = READINGS["drone-vital"]
    enc = FrameEncoder("drone-vital", DEV, KEY, version=2)
    enc.encode(100, r)
    enc.reference = enc.ref_values() + [100]
    for counter, full, moved in ((101, False, 0), (112, False, 0), (113, True, 0), (101, True, 0.2)):
        enc.full = False
        enc.encode(counter, dict(r, lat_deg=r["lat_deg"] + moved))
        assert enc.is_ref == full, (counter, moved)
    enc.full = True  # the app asks for one on an alarm
    enc.encode(101, r, alarm=True)
    assert enc.is_ref
    ped = FrameEncoder("pedometer", DEV, KEY, version=2)
    ped.encode(1, READINGS["pedometer"])
    ped.reference = ped.ref_values() + [1]
    ped.encode(2, dict(READINGS["pedometer"], interval_s=2700))  # a longer interval (radio was down)
    assert ped.is_ref


def test_a_frame_longer_than_400_ms_is_one_emission_only_where_the_4_s_rule_allows():
    r = dict(READINGS["pedometer"], steps_total=20000000, interval_s=5000)  # both past their short codes
    long_ok = FrameEncoder("pedometer", DEV, KEY, sf=10, version=2, long_ok=True).encode(12, r)
    short = FrameEncoder("pedometer", DEV, KEY, sf=10, version=2).encode(12, r)
    assert len(long_ok) == 1 and len(long_ok[0]) > 24 and len(short) == 2
    assert lora_airtime_us(len(long_ok[0]), 10, 125) < sum(lora_airtime_us(len(f), 10, 125) for f in short)


def test_status_frames_are_version_2_and_fit_sf10():
    enc = FrameEncoder("buoy", DEV, KEY, version=2)
    f = enc.encode_status(7, {"battery_v": 3.61, "firmware": "1.4.2", "reset_reason": "watchdog", "uptime_s": 86400,
                              "fault_flags": 2})
    assert len(f) == 1 and len(f[0]) <= 24
    d = decode(f[0], "lora", {}, lambda dev: KEY)
    assert d["type"] == "status" and d["readings"]["firmware"]["value"] == "1.4.2"


def test_version_2_refuses_what_it_cannot_carry():
    enc = FrameEncoder("buoy", DEV, KEY, version=2)
    with pytest.raises(FrameError) as e:
        enc.encode(1, dict(READINGS["buoy"], fault_flags=64))  # only the six defined fault bits
    assert e.value.reason == "out-of-range"


def _sealed(kind, body, flags=0):
    """A version 2 frame of `kind` with an arbitrary body and a valid MIC (what a key holder could send)."""
    enc = FrameEncoder(kind, DEV, KEY, version=2, encrypt=False)
    s = enc.start
    enc.encode_into(5, [None] * len(enc.values))
    enc.buf[s + 1] = flags
    enc.buf[s + 8:s + 8 + len(body)] = body
    end = s + 8 + len(body)
    enc.keys.mic_into(enc.buf, 0, end, end)
    return bytes(enc.buf[s:end + 4])


@pytest.mark.parametrize("kind", sorted(READINGS))
def test_random_bodies_with_a_valid_mic_decode_or_fail_with_a_reason(kind):
    rng = random.Random(kind)
    ok = 0
    for _ in range(400):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 16)))
        flags = rng.choice((0, 0x08, 0x10, 0x30, 0xF0, 0x18))
        try:
            d = resolve(decode(_sealed(kind, body, flags), "lora", {}, lambda dev: KEY), None)
            ok += 1
            assert d["kind"] == kind
        except FrameError as e:
            assert e.reason in ("truncated", "bad-schema", "bad-version")
    assert ok  # some are well-formed


def test_the_version_2_worked_examples_decode_to_what_frames_md_says():
    import os
    import re

    from lpwa.gateway.frames import FrameDecoder

    path = os.path.join(os.path.dirname(__file__), "..", "..", "codecs", "FRAMES.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    hexes = [h for b in re.findall(r"```\n(.*?)```", text, re.S) for h in b.split()]
    full, rel = bytes.fromhex(hexes[-2]), bytes.fromhex(hexes[-1])
    assert (len(full), len(rel)) == (24, 21)
    dec = FrameDecoder(lambda dev: KEY)  # standalone: it keeps the full frames it decoded as references
    a = dec.feed(full, "lora", {})[0]
    b = dec.feed(rel, "lora", {})[0]
    assert a["ref"] == "full" and b["ref"] == "relative" and b["counter"] == 25
    assert abs(b["readings"]["lat_deg"]["value"] - 35.123856) < 1e-5
    assert b["readings"]["lon_deg"] == a["readings"]["lon_deg"]


# a pedometer full frame and the next routine frame as main sent them before layout revision 2
# (frame type 0: steps_total, interval_start 30 bits, interval_s 17), READINGS["pedometer"], counters 40, 41
PEDOMETER_R1_FRAMES = ("830a0a1b2c3d0028c8ac16cfac5f8df4e215cc8d24318328c391",
                       "83120a1b2c3d002969feea1216b3281a1ac40601339188")
# exact counts at the ends of their short and long codes (layout2.PEDOMETER)
PEDOMETER_EDGES = [dict(READINGS["pedometer"], steps=s, steps_total=t, interval_s=i)
                   for s, t, i in ((0, 0, 1), (4095, 16777215, 4095), (4096, 16777216, 4096), (65535, 999999999, 86400))]


def test_the_pedometer_full_frame_is_at_most_0_6_of_lpp_with_lorawan():
    """LPP with the LoRaWAN header is 41 bytes for this reading (lpwa bench codec): at most 24."""
    enc = FrameEncoder("pedometer", DEV, KEY, sf=10, version=2)
    full = enc.encode(40, READINGS["pedometer"])
    assert len(full) == 1 and len(full[0]) <= 0.6 * 41 and enc.is_ref
    assert full[0][0] >> 3 & 7 == 3  # layout revision 2
    enc.reference = enc.ref_values() + [40]
    assert len(enc.encode(41, READINGS["pedometer"])[0]) <= 22


EDGES = """
from lpwa.codecs.frame import FrameEncoder
_enc = FrameEncoder("pedometer", 0x0a1b2c3d, bytes(range(16)), radio="lora", sf=10, version=2, long_ok=True)
_out = [_enc.encode(40 + _k, _r)[0].hex() for _k, _r in enumerate(%r)]
"""


def test_pedometer_counts_stay_exact_at_both_code_widths_on_both_interpreters(mpy):
    from conftest import CPython

    hexes = mpy.eval_json(EDGES % PEDOMETER_EDGES, "_out")
    assert hexes == CPython().eval_json(EDGES % PEDOMETER_EDGES, "_out")
    for r, h in zip(PEDOMETER_EDGES, hexes):
        d = decode(bytes.fromhex(h), "lora", {}, lambda dev: KEY)
        assert {k: v["value"] for k, v in d["readings"].items()} == r


def test_pedometer_frames_of_layout_revision_1_still_decode():
    full, rel = (bytes.fromhex(h) for h in PEDOMETER_R1_FRAMES)
    a = decode(full, "lora", {}, lambda dev: KEY)
    assert a["ref"] == "full" and {k: v["value"] for k, v in a["readings"].items()} == READINGS["pedometer"]
    b = resolve(decode(rel, "lora", {}, lambda dev: KEY), reference_of(a))
    assert b["ref"] == "relative" and b["readings"] == a["readings"]


def test_layout_revision_2_is_refused_for_kinds_that_have_none():
    enc = FrameEncoder("buoy", DEV, KEY, version=2)
    n = enc.encode_into(1, enc.values)
    enc.buf[enc.start] |= 3 << 3  # type 3, with a valid MIC
    enc.keys.mic_into(enc.buf, 0, enc.start + n - 4, enc.start + n - 4)
    with pytest.raises(FrameError) as e:
        decode(bytes(enc.buf[enc.start:enc.start + n]), "lora", {}, lambda dev: KEY)
    assert e.value.reason == "bad-version"
