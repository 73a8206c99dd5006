"""Gateway-side frame decoding: the portable header/MIC/fragment code plus cbor2 for the body.

FrameDecoder(key_for).feed(raw, radio, meta) -> list of decoded dicts (empty while fragments are
missing); raises lpwa.codecs.errors.FrameError with `.reason` for anything it cannot accept. The
counter's high 16 bits are rebuilt from the device's last counter: the gateway passes
`last_counter` (device hex -> int or None), the store's view of what it ACCEPTED, so the decoder keeps
no copy to rewind; standalone (CLI, tests) it remembers the last counter it decoded itself.
"""

import io
import time

import cbor2

from lpwa.codecs import decoder as _decoder
from lpwa.codecs import header as _header
from lpwa.codecs.errors import FrameError
from lpwa.codecs.full_decode import open_frame
from lpwa.codecs.keys import Keys
from lpwa.gateway import positions
from lpwa.gateway.reassembly import Reassembler

__all__ = ["FrameDecoder", "FrameError", "loads_body"]
SEALED_SUFFIX = "/sigfox"  # the Sigfox counter space of a device (lpwa.gateway.counters' key)


def loads_body(body):
    """Exactly one CBOR item with cbor2; malformed or trailing bytes are "bad-cbor"."""
    fp = io.BytesIO(body)
    try:
        obj = cbor2.CBORDecoder(fp).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, EOFError, RecursionError) as e:
        raise FrameError("bad-cbor", str(e)[:200])
    if fp.tell() != len(body):
        raise FrameError("bad-cbor", "%d trailing bytes after the body" % (len(body) - fp.tell()))
    return obj


class BlindBudget:
    """Per-device budget of blind counter searches (issue #13 point 3).

    A device with no accepted counter makes open_frame try all 256 high counter bytes: a forged
    frame claiming it cost 256 MICs. Each device may do `burst` such searches, refilled one per
    `refill_s`; past that its frames are checked against epoch 0 only (2 MICs: what a freshly
    flashed node sends), so a flood aimed at one device costs the others nothing."""

    def __init__(self, burst=4, refill_s=60.0, clock=time.time):
        self.burst, self.refill_s, self.clock = burst, refill_s, clock
        self.tokens = {}  # device -> (tokens, at)
        self.refused = 0

    def take(self, device):
        now = self.clock()
        tokens, at = self.tokens.get(device, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) / self.refill_s)
        ok = tokens >= 1
        self.tokens[device] = (tokens - 1 if ok else tokens, now)
        if not ok:
            self.refused += 1
        return ok


class FrameDecoder:
    """Verifies, decrypts, reassembles and decodes uplink frames from every radio."""

    def __init__(self, key_for, last_counter=None, max_pending=64, fragment_timeout_s=600, clock=time.time,
                 unknown_compact=False, reference=None):
        self.key_for = key_for
        self.unknown_compact = unknown_compact  # accept compact (Sigfox) frames of devices without a key
        self._own = {} if last_counter is None else None  # standalone: the counters it decoded
        self._history = self._own.get if last_counter is None else last_counter
        # version 2 positions: device -> packed reference (gateway.positions); standalone: its own
        self._refs = {} if reference is None else None
        self._reference = self._refs.get if reference is None else reference
        self.unresolved = 0  # relative positions published without a reference
        self.blind = BlindBudget(clock=clock)
        self.reassembler = Reassembler(max_pending, fragment_timeout_s)
        self.clock = clock
        self._keys = {}

    def _key(self, device):
        key = self.key_for(device)
        if key is None:
            return None
        key = bytes(key)
        cached = self._keys.get(device)
        if cached is None or cached[0] != key:
            try:
                cached = (key, Keys(key))
            except ValueError:
                raise FrameError("unknown-device", "%s has no valid 16-byte key" % device)
            self._keys[device] = cached
        return cached[1]

    def last_counter(self, device):
        """The device's last counter; with none, a blind search only while its budget lasts."""
        last = self._history(device)
        if last is None and not self.blind.take(device):
            return 0
        return last

    def _sealed_last(self, device):
        """A sealed frame's keystream counter follows the device's Sigfox counter space."""
        return self._history(device + SEALED_SUFFIX)

    def _position(self, msg):
        """Version 2: rebuild a relative frame's fields from the device's reference (standalone:
        keep the full frames decoded here; in the gateway the pipeline stores accepted ones)."""
        from lpwa.codecs.packed import resolve

        if "relative" in msg:
            resolve(msg, positions.unpack(msg["kind"], self._reference(positions.key(msg["device"]))))
            if msg["ref"] == "missing":
                self.unresolved += 1
        elif self._refs is not None and msg.get("ref") == "full":
            self._refs[positions.key(msg["device"])] = positions.reference_update(msg)

    def _verifies(self, full):
        """Does a rebuilt frame's MIC hold? (decides which fragment copies belong together)"""
        try:
            open_frame(full, self._key, self.last_counter)
        except FrameError as e:  # a wrong combination fails its MIC (or names a device with no key)
            return e.reason not in ("bad-mic", "unknown-device")
        return True

    def feed(self, raw, radio, meta=None):
        meta = meta or {}
        raw = bytes(raw)
        ftype, _kind = _header.parse_header(raw)  # version 1 or 2
        if ftype == _header.T_FRAGMENT:
            source = (radio, meta.get("sender") or meta.get("device") or "")
            now = meta.get("time")
            if isinstance(now, bool) or not isinstance(now, (int, float)) or not now:
                now = self.clock()  # absent, or a forwarder's ISO string: age fragments by our clock
            full = self.reassembler.add(raw, source, now, self._verifies)
            if full is None:
                return []
            raw = full
            if not _header.is_full_type(raw[0]):
                raise FrameError("fragment", "reassembled frame is not a full frame")
        sealed = ftype in (_header.T_SEALED, _header.T_SEALED_STATUS)
        last = self._sealed_last if sealed else self.last_counter
        decoded = _decoder.decode(raw, radio, meta, self._key, last, loads=loads_body,
                                  compact_needs_key=not self.unknown_compact)
        if decoded.get("version") == 2:
            self._position(decoded)
        own = self._own
        if own is not None and (sealed or ftype not in (_header.T_COMPACT, _header.T_COMPACT_STATUS)):
            dev = decoded["device"] + SEALED_SUFFIX if sealed else decoded["device"]
            counter = decoded["sealed_counter"] if sealed else decoded["counter"]
            if counter > own.get(dev, -1):
                own[dev] = counter
        return [decoded]
