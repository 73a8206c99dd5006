"""Sealed compact frames (personal kinds over Sigfox): the keystream never repeats although the
Sigfox seqNumber wraps at 4096; the gateway rebuilds the counter from seqNumber and its state."""

import pytest

from lpwa.codecs import compact
from lpwa.gateway.frames import FrameDecoder

KEY = bytes(range(16))
DEV = 0x0A1B2C3D
VITAL = {"heart_rate_bpm": 72, "spo2_pct": 97, "body_temp_c": 36.6, "lat_deg": 35.6812,
         "lon_deg": 139.7671, "triage": 1, "battery_v": 3.7}
SEALED = """
from lpwa.codecs.encoder import new_encoder
import binascii
enc = new_encoder('drone-vital', 0x0a1b2c3d, bytes(range(16)), radio='sigfox')
res = [binascii.hexlify(enc.encode(c, %r)[0]).decode() for c in %r]
"""
COUNTERS = [0, 1, 4095, 4096, 4097, 8191, 8192, 3 * 4096 + 7]


def test_seq_counter_bridges_the_wrap():
    assert compact.seq_counter(5) == 5
    assert compact.seq_counter(0, 4095) == 4096
    assert compact.seq_counter(4095, 4095) == 4095  # the same message again: a duplicate
    assert compact.seq_counter(3, 8190) == 8195
    assert compact.seq_counter(4094, 4095) == 8190  # older than the last: moves on, never back


def test_keystream_never_repeats_across_seq_wraps(impl):
    """Counters 1 and 4097 share seqNumber 1 but not their ciphertext (same readings)."""
    hexes = impl.eval_json(SEALED % (VITAL, COUNTERS), "res")
    assert len(set(h[2:] for h in hexes)) == len(COUNTERS)
    assert all(int(h[:2], 16) >> 3 & 7 == 5 for h in hexes)


def test_gateway_decodes_the_sigfox_callback_across_the_wrap(mpy):
    """Frames sealed under MicroPython, fed as the Sigfox callback gives them (device, seqNumber
    wrapping at 4096), decode at the gateway with the right counter and readings."""
    sent = [4094, 4095, 4096, 4097, 8000]
    hexes = mpy.eval_json(SEALED % (VITAL, sent), "res")

    dec = FrameDecoder(lambda d: KEY if d == "0a1b2c3d" else None)
    for c, h in zip(sent, hexes):
        callback = {"device": "0A1B2C3D", "seqNumber": c % 4096, "data": h}
        d = dec.feed(bytes.fromhex(callback["data"]), "sigfox",
                     {"device": callback["device"], "seq": callback["seqNumber"]})[0]
        assert d["sealed_counter"] == c and d["counter"] == c % 4096
        assert d["readings"]["heart_rate_bpm"]["value"] == 72 and d["readings"]["triage"]["value"] == 1
        assert abs(d["readings"]["lat_deg"]["value"] - 35.6812) < 1e-4
    assert dec.last_counter("0a1b2c3d/sigfox") == 8000  # standalone: its own record


def test_sealed_frame_needs_the_key():
    raw = compact.CompactEncoder("drone-vital", DEV, KEY).encode(1, VITAL)[0]
    with pytest.raises(Exception) as e:
        FrameDecoder(lambda d: None, unknown_compact=True).feed(raw, "sigfox", {"device": "0a1b2c3d", "seq": 1})
    assert e.value.reason == "unknown-device"


FLAGGED = """
from lpwa.codecs.encoder import new_encoder
import binascii
enc = new_encoder('drone-vital', 0x0a1b2c3d, bytes(range(16)), radio='sigfox')
res = [binascii.hexlify(enc.encode(c, r)[0]).decode() for c, r in %r]
"""
# what each reading's spo2_flags and triage come back as (None: absent)
FLAG_CASES = [(dict(VITAL, spo2_flags=1), 1, 1),  # SpO2 from the uncalibrated default curve
              (dict(VITAL, spo2_pct=None, spo2_flags=2), 2, 1),  # below the validated range
              (dict(VITAL, triage=None, spo2_flags=7), 7, None), (dict(VITAL, triage=4, spo2_flags=0), 0, 4),
              (dict(VITAL, triage=None), None, None), (VITAL, None, 1)]


def test_spo2_flags_ride_in_the_triage_byte_of_sealed_frames(impl):
    """Encoded under both interpreters, decoded at the gateway from the Sigfox callback."""
    sent = [(10 + k, r) for k, (r, _f, _t) in enumerate(FLAG_CASES)]
    hexes = impl.eval_json(FLAGGED % sent, "res")
    dec = FrameDecoder(lambda d: KEY)
    for (c, r), (_r, flags, triage), h in zip(sent, FLAG_CASES, hexes):
        assert len(h) == 24  # still 12 bytes
        got = dec.feed(bytes.fromhex(h), "sigfox", {"device": "0a1b2c3d", "seq": c})[0]["readings"]
        assert got.get("spo2_flags", {}).get("value") == flags and got.get("triage", {}).get("value") == triage
        assert ("spo2_pct" in got) == (r["spo2_pct"] is not None)


def test_sealed_frames_sent_before_the_flags_still_decode():
    """Counters 5 and 6 of main's encoder (no spo2_flags on Sigfox): triage 1, then triage absent."""
    dec = FrameDecoder(lambda d: KEY)
    for seq, h, triage in ((5, "6a21eeb30dc839a8adb2be45", 1), (6, "6a9bd041f2205fd451de01eb", None)):
        got = dec.feed(bytes.fromhex(h), "sigfox", {"device": "0a1b2c3d", "seq": seq})[0]["readings"]
        assert got.get("triage", {}).get("value") == triage and "spo2_flags" not in got
        assert got["heart_rate_bpm"]["value"] == 72


@pytest.mark.parametrize("code", [0x80, 0x08, 0x38, 0x05, 0x46])
def test_a_pair_byte_no_encoder_sends_is_refused(code):
    from lpwa.codecs.errors import FrameError

    raw = bytearray(compact.CompactEncoder("drone-vital", DEV, KEY, encrypt=False).encode(1, VITAL)[0])
    raw[10] = code  # the triage byte: header, heart rate, SpO2, temperature, lat 3, lon 3
    with pytest.raises(FrameError) as e:
        compact.decode_compact(bytes(raw), "0a1b2c3d", 1)
    assert e.value.reason == "bad-schema"
