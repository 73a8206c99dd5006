"""Frames end to end: MicroPython encodes, CPython (cbor2, FrameDecoder) decodes, pycddl validates.

Every frame a test here produces goes through `fits()`, which checks it against its radio's limit.
"""

import binascii
import json
import os

import cbor2
import pycddl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lpwa.codecs import frame, schema
from lpwa.codecs.frame import FrameEncoder, FrameError
from lpwa.gateway.frames import FrameDecoder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = bytes(range(16))
DEV = 0x0A1B2C3D
DEV_HEX = "0a1b2c3d"
with open(os.path.join(ROOT, "codecs", "frame.cddl")) as _f:
    CDDL_TEXT = _f.read()
CDDL = {name: pycddl.Schema("root = %s-body\n%s" % (name, CDDL_TEXT))
        for name in ("buoy", "drone-vital", "pedometer", "status")}
RADIOS = [("lora", 7), ("lora", 9), ("lora", 10), ("wisun", 10), ("sigfox", 10)]
SAMPLE = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
             "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.5},
    "drone-vital": {"heart_rate_bpm": 112, "spo2_pct": 93, "body_temp_c": 38.4, "lat_deg": 35.68,
                    "lon_deg": 139.76, "triage": 3, "battery_v": 3.9},
    "pedometer": {"steps": 412, "steps_total": 123456, "interval_start": 1764000000, "battery_v": 3.8,
                  "interval_s": 300},
}
STATUS = {"battery_v": 3.61, "firmware": "1.4.2", "reset_reason": "watchdog", "uptime_s": 86400, "fault_flags": 2}


@pytest.fixture(autouse=True)
def every_frame_fits(monkeypatch):
    """Every frame any test here encodes on CPython is checked against its radio's limit."""
    for cls in (frame.FullEncoder, frame.CompactEncoder):
        monkeypatch.setattr(cls, "_frames", _checked(cls._frames))


def _checked(real):
    def checked(self, *args):
        frames = real(self, *args)
        for f in frames:
            assert 0 < len(f) <= self.limit, "%d-byte %s frame over the limit %d" % (len(f), self.radio, self.limit)
        return frames

    return checked


def fits(frames, radio, sf=10):
    limit = frame.max_payload(radio, sf)
    for f in frames:
        assert 0 < len(f) <= limit, "%d-byte frame over the %s SF%d limit %d" % (len(f), radio, sf, limit)
    return frames


def decoder(**kw):
    return FrameDecoder(lambda dev: KEY if dev == DEV_HEX else None, **kw)


def feed_all(dec, frames, radio, meta=None):
    out = []
    for f in frames:
        out += dec.feed(f, radio, dict(meta or {}))
    return out


def body_of(raw):
    """The decrypted CBOR body of a full frame (for the CDDL check)."""
    return frame.open_frame(raw, lambda dev: KEY)[5]


def assert_close(kind, sent, got, compact=False):
    fields = schema.STATUS_FIELDS if kind == "status" else schema.KINDS[kind]["fields"]
    layout = {e[0]: e for e in (schema.STATUS_COMPACT if kind == "status" else schema.KINDS[kind]["compact"])}
    for name, value in sent.items():
        if value is None or (compact and name not in layout):
            continue
        f = fields[schema.field_index(fields, name)]
        assert name in got, name
        v = got[name]["value"]
        assert got[name]["unit"] == f[1]
        if f[1] == "version":
            assert v == value
            continue
        step = (layout[name][3] if compact else 1) / f[2]
        if compact:  # documented saturation at the ends of the compact code range
            value = min(max(value, compact_range(f, layout[name])[0]), compact_range(f, layout[name])[1])
        assert abs(v - value) <= step / 2 + 1e-9, (name, value, v)


def compact_range(f, entry):
    """Natural values the compact code can carry (FRAMES.md: codes below the missing sentinel)."""
    name, nbytes, signed, step, offset = entry[:5]
    if name == "battery_v":
        lo, hi = 0, 126
    elif signed:
        lo, hi = -(2 ** (8 * nbytes - 1) - 1), 2 ** (8 * nbytes - 1) - 1
    else:
        lo, hi = 0, (2 ** (8 * nbytes) - 2 if nbytes < 4 else 0x3FFFFFFF)
    return schema.to_natural(f, (lo + offset) * step), schema.to_natural(f, (hi + offset) * step)


# -- round trips on CPython -------------------------------------------------------------------

@pytest.mark.parametrize("radio,sf", RADIOS)
@pytest.mark.parametrize("kind", sorted(SAMPLE))
def test_roundtrip_every_kind_and_radio(kind, radio, sf):
    enc = FrameEncoder(kind, DEV, KEY, radio=radio, sf=sf)
    # a Sigfox node's counter runs with the network's seqNumber (its low 12 bits)
    frames = fits(enc.encode(5 if radio == "sigfox" else 17, SAMPLE[kind]), radio, sf)
    meta = {"device": DEV_HEX, "seq": 5} if radio == "sigfox" else {}
    out = feed_all(decoder(), frames, radio, meta)
    assert len(out) == 1
    d = out[0]
    assert d["kind"] == kind and d["device"] == DEV_HEX and d["type"] == "reading" and d["alarm"] is False
    assert d["counter"] == (5 if radio == "sigfox" else 17)
    assert_close(kind, SAMPLE[kind], d["readings"], compact=radio == "sigfox")
    if radio == "sigfox":
        assert len(frames) == 1 and len(frames[0]) <= 12
    elif radio == "lora" and sf == 10:
        assert len(frames) > 1  # 24-byte limit at SF10 within 400 ms: fragmented
    else:
        assert len(frames) == 1
        CDDL[kind].validate_cbor(body_of(frames[0]))


@pytest.mark.parametrize("radio", ["lora", "wisun", "sigfox"])
def test_status_frames(radio):
    enc = FrameEncoder("pedometer", DEV, KEY, radio=radio, sf=9)
    frames = fits(enc.encode_status(9 if radio == "sigfox" else 3, STATUS), radio, 9)
    d = feed_all(decoder(), frames, radio, {"device": DEV_HEX, "seq": 9})[0]
    assert d["type"] == "status" and d["kind"] == "pedometer"
    assert d["readings"]["firmware"]["value"] == "1.4.2"
    assert d["readings"]["reset_reason"]["value"] == schema.RESET_REASONS.index("watchdog")
    sent = dict(STATUS, reset_reason=1)
    assert_close("status", sent, d["readings"], compact=radio == "sigfox")
    if radio != "sigfox":
        CDDL["status"].validate_cbor(body_of(frames[0]))


def test_alarm_flag_and_type():
    for radio in ("wisun", "sigfox"):
        frames = FrameEncoder("drone-vital", DEV, KEY, radio=radio).encode(1, SAMPLE["drone-vital"], alarm=True)
        d = feed_all(decoder(), fits(frames, radio), radio, {"device": DEV_HEX, "seq": 1})[0]
        assert d["alarm"] is True and d["type"] == "alarm"


def test_personal_kinds_are_encrypted_by_default_and_buoys_are_not():
    for kind in schema.PERSONAL_KINDS:
        raw = FrameEncoder(kind, DEV, KEY, radio="wisun").encode(1, SAMPLE[kind])[0]
        assert raw[1] & frame.F_ENCRYPTED
        plain = FrameEncoder(kind, DEV, KEY, radio="wisun", encrypt=False).encode(1, SAMPLE[kind])[0]
        assert raw[8:-4] != plain[8:-4] and len(raw) == len(plain)
        assert cbor2.loads(plain[8:-4])[0] == SAMPLE[kind][schema.KINDS[kind]["fields"][0][0]]
    raw = FrameEncoder("buoy", DEV, KEY, radio="wisun").encode(1, SAMPLE["buoy"])[0]
    assert not raw[1] & frame.F_ENCRYPTED
    # over Sigfox too (issue #17): sealed compact frames, type 5
    for kind in schema.PERSONAL_KINDS:
        raw = FrameEncoder(kind, DEV, KEY, radio="sigfox").encode(1, SAMPLE[kind])[0]
        plain = FrameEncoder(kind, DEV, KEY, radio="sigfox", encrypt=False).encode(1, SAMPLE[kind])[0]
        assert (raw[0] >> 3) & 7 == frame.T_SEALED and (plain[0] >> 3) & 7 == frame.T_COMPACT
        assert raw[1:] != plain[1:] and len(raw) == len(plain)
    assert (FrameEncoder("buoy", DEV, KEY, radio="sigfox").encode(1, SAMPLE["buoy"])[0][0] >> 3) & 7 == frame.T_COMPACT


def test_hmac_mic_option_decodes():
    raw = FrameEncoder("buoy", DEV, KEY, radio="wisun", mic="hmac").encode(2, SAMPLE["buoy"])[0]
    assert raw[1] & frame.F_HMAC
    assert decoder().feed(raw, "wisun", {})[0]["readings"]["water_temp_c"]["value"] == 18.25


def test_deterministic_bytes_and_header_layout():
    a = FrameEncoder("buoy", DEV, KEY, radio="wisun").encode(258, SAMPLE["buoy"])
    b = FrameEncoder("buoy", DEV, KEY, radio="wisun").encode(258, dict(reversed(list(SAMPLE["buoy"].items()))))
    assert a == b
    raw = a[0]
    assert raw[0] == (1 << 6) | (0 << 3) | 1 and raw[1] == 0
    assert raw[2:6] == bytes.fromhex(DEV_HEX) and raw[6:8] == b"\x01\x02"
    assert cbor2.loads(raw[8:-4]) == [1825, 125, 35123456, 139654321, 3700, 0, 3450]
    assert cbor2.dumps(cbor2.loads(raw[8:-4]), canonical=True) == raw[8:-4]


# -- radio limits: fragments and the drop rule ---------------------------------------------------

def test_fragments_reassemble_in_any_order_with_duplicates():
    frames = fits(FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10).encode(40, SAMPLE["buoy"]), "lora", 10)
    assert len(frames) >= 2
    dec = decoder()
    order = list(reversed(frames)) + [frames[0]]
    outs = [dec.feed(f, "lora", {}) for f in order]
    assert [len(o) for o in outs[:-1]] == [0] * (len(frames) - 1) + [1]
    assert outs[len(frames) - 1][0]["counter"] == 40
    assert outs[-1] == []  # a late duplicate starts a new group; it never completes a second frame


def test_fragments_with_a_forwarders_iso_time_reassemble():
    """Semtech forwarders stamp rxpk with an ISO string; fragments then age by the gateway clock."""
    frames = fits(FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10).encode(41, SAMPLE["buoy"]), "lora", 10)
    dec = decoder()
    meta = {"time": "2026-11-25T08:00:00.000000Z", "rssi": -90}
    outs = [dec.feed(f, "lora", meta) for f in frames]
    assert outs[-1][0]["counter"] == 41 and all(o == [] for o in outs[:-1])


def test_interleaved_fragments_of_two_devices_with_equal_counters():
    other = 0x0A1B2C3E
    keys = {DEV_HEX: KEY, "%08x" % other: bytes(16)}
    a = FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10).encode(7, SAMPLE["buoy"])
    b = FrameEncoder("buoy", other, bytes(16), radio="lora", sf=10).encode(7, SAMPLE["buoy"])
    dec = FrameDecoder(keys.get)
    out = []
    for fa, fb in zip(a, b):
        out += dec.feed(fa, "lora", {}) + dec.feed(fb, "lora", {})
    assert sorted(d["device"] for d in out) == sorted(keys)


@pytest.mark.parametrize("meta", [{"sender": [1]}, {"device": {"a": 1}}, {"sender": {"x": [2]}}])
def test_fragment_with_an_unhashable_meta_source_is_a_fragment_rejection(meta):
    """A replay line's meta is JSON: a list or object as sender/device was a TypeError."""
    frames = FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10).encode(17, SAMPLE["buoy"])
    assert len(frames) > 1
    with pytest.raises(FrameError) as e:
        decoder().feed(frames[0], "lora", dict(meta))
    assert e.value.reason == "fragment"


def test_conflicting_fragment_is_never_reassembled_and_does_not_kill_the_real_one():
    """Was: a conflicting copy raised "fragment" and dropped the group, so a forged copy destroyed
    an acknowledged message (issue #13). Now the copy is held, only the MIC-verified combination
    comes out, and at most `copies` different copies of one index are held (the oldest goes, counted)."""
    frames = FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10).encode(41, SAMPLE["buoy"])
    dec = decoder()
    dec.feed(frames[0], "lora", {})
    bad = bytearray(frames[0])
    bad[-1] ^= 1
    assert dec.feed(bytes(bad), "lora", {}) == []
    got = feed_all(dec, frames[1:], "lora")
    assert [m["counter"] for m in got] == [41]
    for i in range(3 * dec.reassembler.copies):
        bad[-2] = i
        assert dec.feed(bytes(bad), "lora", {}) == []
    assert len(dec.reassembler.groups) == 1 and dec.reassembler.pending() == dec.reassembler.copies
    assert dec.reassembler.lost["copies"] >= 2 * dec.reassembler.copies


def test_drop_rule_keeps_highest_priority_fields():
    enc = FrameEncoder("buoy", DEV, KEY, radio="lora", sf=10, overflow="drop")
    frames = fits(enc.encode(5, SAMPLE["buoy"]), "lora", 10)
    assert len(frames) == 1 and enc.dropped > 0
    got = decoder().feed(frames[0], "lora", {})[0]["readings"]
    order = [f[0] for f in schema.BUOY_FIELDS]
    kept = [n for n in order if n in got]
    assert kept == order[:len(kept)] and len(kept) >= 1


def test_too_large_when_nothing_fits():
    for sf in (11, 12):  # no LoRa frame of any size fits 400 ms at SF11/12
        with pytest.raises(FrameError) as e:
            FrameEncoder("buoy", DEV, KEY, radio="lora", sf=sf).encode(1, SAMPLE["buoy"])
        assert e.value.reason == "too-large"


# -- counters ------------------------------------------------------------------------------------

def test_counter_high_bits_are_rebuilt_and_replays_across_epochs_fail():
    enc = FrameEncoder("buoy", DEV, KEY, radio="wisun")
    dec = decoder()
    first = enc.encode(70000, SAMPLE["buoy"])[0]
    assert dec.feed(first, "wisun", {})[0]["counter"] == 70000  # no history: epochs searched
    assert dec.feed(enc.encode(70001 + 65536, SAMPLE["buoy"])[0], "wisun", {})[0]["counter"] == 70001 + 65536
    again = enc.encode(70001 + 65536, SAMPLE["buoy"])[0]  # the same counter: decodes, a duplicate
    assert dec.feed(again, "wisun", {})[0]["counter"] == 70001 + 65536
    for older in (70001 + 65536 - 5, 70005):  # older than the last counter, in this or an earlier epoch
        with pytest.raises(FrameError) as e:
            dec.feed(enc.encode(older, SAMPLE["buoy"])[0], "wisun", {})
        assert e.value.reason == "bad-mic"


# -- bad input -------------------------------------------------------------------------------------

def seal(body, kind_id=1, ftype=frame.T_READING, flags=0, counter=1, hdr=None):
    """A full frame with any body and a valid MIC, for malformed-body tests."""
    head = bytes([hdr if hdr is not None else (1 << 6) | (ftype << 3) | kind_id, flags]) + \
        bytes.fromhex(DEV_HEX) + counter.to_bytes(2, "big")
    work = bytearray(frame.PREFIX_LEN) + head + body + bytes(4)
    frame.write_b0(work, 0, 0, DEV, counter)
    frame.Keys(KEY).mic_into(work, 0, len(work) - 4, len(work) - 4)
    return bytes(work[frame.PREFIX_LEN:])


BAD = [
    (b"", "truncated"),
    (bytes.fromhex("4100"), "truncated"),
    (bytes.fromhex("41000a1b2c3d0001"), "truncated"),
    (seal(bytes.fromhex("8219072118"))[:-1], "bad-mic"),  # MIC cut short
    (seal(bytes.fromhex("1c")), "bad-cbor"),  # reserved additional information
    (seal(bytes.fromhex("8201")), "bad-cbor"),  # truncated array
    (seal(bytes.fromhex("810102")), "bad-cbor"),  # trailing bytes
    (seal(bytes.fromhex("a10101")), "bad-schema"),  # a map, not an array
    (seal(cbor2.dumps(["x"])), "bad-schema"),
    (seal(cbor2.dumps([1.5])), "bad-schema"),
    (seal(cbor2.dumps([True])), "bad-schema"),
    (seal(cbor2.dumps([99999])), "bad-schema"),  # water temp 999.99 degC
    (seal(cbor2.dumps([0] * 9)), "bad-schema"),  # more items than fields
    (seal(cbor2.dumps([1]), hdr=0x01), "bad-version"),  # version 0
    (seal(cbor2.dumps([1]), hdr=0xC1), "bad-version"),  # version 3
    (seal(cbor2.dumps([1]), ftype=7), "bad-version"),  # unknown frame type
    (seal(cbor2.dumps([1]), flags=0x40), "bad-version"),  # reserved flag bit
    (seal(cbor2.dumps([1]), kind_id=0), "unknown-kind"),
    (seal(cbor2.dumps([1]), kind_id=6), "unknown-kind"),
    (bytes.fromhex("590721"), "truncated"),  # compact frame cut short
    (bytes.fromhex("5907210c055b18154d2055ff00"), "bad-schema"),  # compact frame too long
    (bytes.fromhex("510000"), "truncated"),  # fragment with no chunk
    (bytes.fromhex("51000000"), "bad-version"),  # a 1-fragment "frame" of one zero byte
    (bytes.fromhex("513000aa"), "fragment"),  # fragment index 3 of 1
]


@pytest.mark.parametrize("raw,reason", BAD, ids=[r for _, r in BAD])
def test_bad_frames_give_their_documented_reason(raw, reason):
    with pytest.raises(FrameError) as e:
        decoder().feed(raw, "sigfox" if raw[:1] == b"\x59" else "lora", {"device": DEV_HEX, "seq": 1})
    assert e.value.reason == reason, str(e.value)
    assert e.value.reason in frame.REASONS


def test_wrong_mic_unknown_device_and_wrong_key():
    raw = FrameEncoder("buoy", DEV, KEY, radio="wisun").encode(3, SAMPLE["buoy"])[0]
    tampered = bytearray(raw)
    tampered[9] ^= 0x01
    for data, reason, key_for in [(bytes(tampered), "bad-mic", lambda d: KEY),
                                  (raw, "bad-mic", lambda d: bytes(16)),
                                  (raw, "unknown-device", lambda d: None),
                                  (raw, "unknown-device", lambda d: b"short")]:
        with pytest.raises(FrameError) as e:
            FrameDecoder(key_for).feed(data, "wisun", {})
        assert e.value.reason == reason
        assert KEY.hex() not in str(e.value)


def test_compact_frames_of_unknown_devices_and_without_network_meta():
    raw = FrameEncoder("buoy", DEV, KEY, radio="sigfox").encode(1, SAMPLE["buoy"])[0]
    for meta in ({"device": "ffffffff", "seq": 1}, {}):
        with pytest.raises(FrameError) as e:
            decoder().feed(raw, "sigfox", meta)
        assert e.value.reason == "unknown-device"


@pytest.mark.parametrize("meta", [
    {"device": DEV_HEX, "seq": "x"}, {"device": DEV_HEX, "seq": None}, {"device": DEV_HEX, "seq": -1},
    {"device": DEV_HEX, "seq": 1.5}, {"device": DEV_HEX, "seq": [1]}, {"device": "zz", "seq": 1},
    {"device": 5, "seq": 1}, {"device": "0a1b2c3d0a", "seq": 1}, {"device": "0a1b2c3g", "seq": 1},
])
def test_compact_frames_with_malformed_network_meta_are_unknown_device(meta):
    """A replay line or forwarder with a bad device/seq is a counted rejection, not a ValueError
    from int() nor a reading published under a device id that is not 8 hex digits."""
    raw = FrameEncoder("buoy", DEV, KEY, radio="sigfox").encode(1, SAMPLE["buoy"])[0]
    for dec in (decoder(), decoder(unknown_compact=True)):
        with pytest.raises(FrameError) as e:
            dec.feed(raw, "sigfox", dict(meta))
        assert e.value.reason == "unknown-device", str(e.value)


@pytest.mark.parametrize("kind,field,value", [
    ("buoy", "water_temp_c", 45.01), ("buoy", "lat_deg", 90.5), ("buoy", "wave_height_m", -0.01),
    ("drone-vital", "spo2_pct", 101), ("drone-vital", "triage", 5), ("pedometer", "steps", 70000),
    ("pedometer", "interval_start", 1000), ("buoy", "battery_v", "3.7"), ("buoy", "water_temp_c", float("nan")),
    ("buoy", "water_temp_c", float("inf")), ("buoy", "fault_flags", True),
])
def test_out_of_range_on_encode(kind, field, value):
    for radio in ("wisun", "sigfox"):
        with pytest.raises(FrameError) as e:
            FrameEncoder(kind, DEV, KEY, radio=radio).encode(1, {field: value})
        assert e.value.reason == "out-of-range"


def test_encode_into_refuses_non_integers():
    for radio in ("wisun", "sigfox"):
        enc = FrameEncoder("buoy", DEV_HEX, KEY, radio=radio)  # a hex device id works too
        enc.values[0] = 18.25
        with pytest.raises(FrameError) as e:
            enc.encode_into(1, enc.values)
        assert e.value.reason == "out-of-range"


def test_unknown_kind_and_field_on_encode():
    with pytest.raises(FrameError) as e:
        FrameEncoder("submarine", DEV, KEY)
    assert e.value.reason == "unknown-kind"
    with pytest.raises(FrameError) as e:
        FrameEncoder("buoy", DEV, KEY).encode(1, {"colour": 3})
    assert e.value.reason == "bad-schema"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from(["lora", "wisun", "sigfox"]))
def test_fuzzed_bytes_only_ever_raise_frame_error(raw, radio):
    dec = decoder()
    try:
        dec.feed(raw, radio, {"device": DEV_HEX, "seq": 1})
    except FrameError as e:
        assert e.reason in frame.REASONS


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzzed_bodies_with_valid_mics_only_ever_raise_frame_error(data):
    body = data.draw(st.binary(min_size=1, max_size=40))
    raw = seal(body, kind_id=data.draw(st.integers(1, 3)), ftype=data.draw(st.integers(0, 1)))
    try:
        decoder().feed(raw, "lora", {})
    except FrameError as e:
        assert e.reason in ("bad-cbor", "bad-schema")


# -- MicroPython encodes, CPython decodes --------------------------------------------------------

def stored_strategy(fields):
    """Per field: None or an in-range stored integer."""
    return st.tuples(*[st.one_of(st.none(), st.integers(f[4], f[5])) for f in fields])


def natural(fields, stored):
    out = {}
    for f, v in zip(fields, stored):
        if v is not None:
            out[f[0]] = schema.to_natural(f, v)
    return out


MPY_ENCODE = """
from lpwa.codecs.frame import FrameEncoder
import binascii
res = []
for kind, radio, sf, counter, alarm, status, readings, mic in %r:
    enc = FrameEncoder(kind, 0x0a1b2c3d, bytes(range(16)), radio=radio, sf=sf, mic=mic)
    frames = enc.encode_status(counter, readings) if status else enc.encode(counter, readings, alarm)
    res.append([binascii.hexlify(f).decode() for f in frames])
"""


@st.composite
def cases(draw):
    kind = draw(st.sampled_from(sorted(schema.KINDS)))
    radio, sf = draw(st.sampled_from(RADIOS))
    status = draw(st.booleans())
    fields = schema.STATUS_FIELDS if status else schema.KINDS[kind]["fields"]
    readings = natural(fields, draw(stored_strategy(fields)))
    return [kind, radio, sf, draw(st.integers(0, 0xFFFFFF)), draw(st.booleans()), status, readings,
            draw(st.sampled_from(["cmac", "hmac"]))]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(cases(), min_size=1, max_size=12))
def test_micropython_encodes_cpython_decodes(mpy, batch):
    got = mpy.eval_json(MPY_ENCODE % (batch,), "res")
    for (kind, radio, sf, counter, alarm, status, readings, mic), hexes in zip(batch, got):
        frames = fits([binascii.unhexlify(h) for h in hexes], radio, sf)
        # the same source on CPython writes the same bytes
        enc = FrameEncoder(kind, DEV, KEY, radio=radio, sf=sf, mic=mic)
        mine = enc.encode_status(counter, readings) if status else enc.encode(counter, readings, alarm)
        assert mine == frames
        meta = {"device": DEV_HEX, "seq": counter & 0xFFF} if radio == "sigfox" else {}
        # the gateway's per-device state: the sealed counter it last saw (here: this epoch's start)
        out = feed_all(decoder(last_counter={DEV_HEX + "/sigfox": counter & ~0xFFF}.get), frames, radio, meta)
        assert len(out) == 1
        d = out[0]
        assert d["kind"] == kind and d["type"] == ("status" if status else ("alarm" if alarm else "reading"))
        assert d["counter"] == (counter & 0xFFF if radio == "sigfox" else counter)
        if radio == "sigfox" and kind in schema.PERSONAL_KINDS:
            assert d["sealed_counter"] == counter
        assert_close("status" if status else kind, readings, d["readings"], compact=radio == "sigfox")
        if radio != "sigfox":
            full = frames[0] if len(frames) == 1 else b"".join(f[3:] for f in frames)
            CDDL["status" if status else kind].validate_cbor(body_of(full))


def test_portable_decoder_agrees_under_micropython(mpy):
    """The portable decoder (the firmware's and tests') on the board gives the gateway's result."""
    frames = {k: FrameEncoder(k, DEV, KEY, radio="wisun").encode(9, SAMPLE[k])[0].hex() for k in SAMPLE}
    frames["bad"] = seal(bytes.fromhex("1c")).hex()
    got = mpy.eval_json(
        "from lpwa.codecs import frame\nimport binascii\nres = {}\n"
        "for k, h in %r.items():\n"
        "    try:\n"
        "        d = frame.decode(binascii.unhexlify(h), 'wisun', {}, lambda dev: bytes(range(16)))\n"
        "        res[k] = d['readings']\n"
        "    except frame.FrameError as e:\n"
        "        res[k] = e.reason\n" % (frames,), "res")
    assert got.pop("bad") == "bad-cbor"
    for k, readings in got.items():
        assert readings == decoder().feed(bytes.fromhex(frames[k]), "wisun", {})[0]["readings"]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.binary(max_size=48), min_size=20, max_size=40))
def test_fuzzed_bytes_under_micropython_only_raise_frame_error(mpy, blobs):
    """The portable decoder on the board: random frames never raise anything but FrameError."""
    got = mpy.eval_json(
        "from lpwa.codecs import frame\nimport binascii\nres = []\n"
        "for h in %r:\n"
        "    try:\n"
        "        frame.decode(binascii.unhexlify(h), 'lora', {'device': '0a1b2c3d', 'seq': 1},"
        " lambda d: bytes(range(16)))\n"
        "        res.append('ok')\n"
        "    except frame.FrameError as e:\n"
        "        res.append(e.reason)\n" % ([b.hex() for b in blobs],), "res")
    assert len(got) == len(blobs)
    assert set(got) <= set(frame.REASONS) | {"ok"}


HEAP = """
from lpwa.codecs.frame import FrameEncoder
import gc
res = {}
before = after = 0  # globals exist before the window: a new name could grow the globals dict inside it
for kind, radio, status in %r:
    enc = FrameEncoder(kind, 0x0a1b2c3d, bytes(range(16)), radio=radio, sf=7)
    fields = enc.schema["fields"]
    vals = enc.values
    for i in range(len(vals)):
        vals[i] = fields[i][5] - 1 if fields[i][4] >= 0 else fields[i][4] + 1
    for c in range(50):
        enc.encode_into(c, vals, c & 1, status)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for c in range(%d):
        enc.encode_into(c, vals, c & 1, status)
    after = gc.mem_alloc()
    gc.enable()
    res[kind + "/" + radio + ("/status" if status else "")] = after - before
"""
ENCODES = 1000
# every kind's reading frame on both paths (full frame with MIC/CTR; compact), status frames once
HEAP_CASES = [(k, r, False) for k in sorted(schema.KINDS) for r in ("lora", "sigfox")] + \
    [("buoy", "lora", True), ("buoy", "sigfox", True)]


def test_steady_state_encode_allocates_no_heap_under_micropython(mpy):
    """1000 encodes into the reused buffer, gc disabled: gc.mem_alloc() must not move."""
    # status frames use the kind's own value list sized for its fields; give them the status list
    res = mpy.eval_json(HEAP.replace("vals = enc.values", "vals = enc.status_values if status else enc.values")
                        .replace('fields = enc.schema["fields"]',
                                 'fields = __import__("lpwa.codecs.schema", None, None, ["x"]).STATUS_FIELDS '
                                 'if status else enc.schema["fields"]') % (HEAP_CASES, ENCODES), "res")
    print("heap bytes per 1000 encodes:", json.dumps(res, sort_keys=True))
    assert res == {k: 0 for k in res} and len(res) == len(HEAP_CASES)


def test_frame_limits_are_the_radio_modules():
    """The codec's radio limits are lpwa.radio.limits' own (the fallback copy of the table went)."""
    from lpwa.radio import limits

    assert frame.max_payload is limits.max_payload
    expected = {(r, sf): limits.max_payload(r, sf) for r in ("lora", "sigfox", "wisun") for sf in range(7, 13)}
    assert {(r, sf): frame.max_payload(r, sf) for r, sf in expected} == expected
