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
