"""Compact frames (Sigfox, <= 12 bytes): header (type 3 reading, 4 status) || packed fields.

The layouts are schema.*_COMPACT. No device, counter or MIC: the Sigfox network carries the
device id and sequence number and authenticates the frame. Allocation-free encode.

Personal kinds are sealed (type 5 reading, 6 status): the packed fields are XORed with an
AES-128-CTR keystream whose block is 0x01 || 2 || device || counter || 0^5 || 0x01, counter the
node's 32-bit Sigfox message counter (its low 12 bits are the Sigfox seqNumber). The counter
never repeats over the device's life, so neither does the keystream, although seqNumber wraps
at 4096; the gateway rebuilds the counter from seqNumber and the last one it saw.
"""

from lpwa.codecs import schema_base as _schema
from lpwa.codecs.encoding import EncoderBase
from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import (DIR_SIGFOX_UP, SEQ_BITS, T_COMPACT, T_COMPACT_STATUS, T_SEALED,
                                T_SEALED_STATUS, header_byte, parse_header)
from lpwa.codecs.readings import result


def requantise(v, step, offset, lo, hi):
    """A stored full-resolution integer -> a compact code, rounded half up and saturated to lo..hi."""
    code = (v + step // 2) // step - offset if step > 1 else v - offset
    if code < lo:
        return lo
    if code > hi:
        return hi
    return code


def pair_byte(a, b):
    """Two fields of at most 3 bits in one byte: a in bits 2-0 (7: absent), b in bits 5-3 when bit
    6 is set; both absent is 0xff, the one-field byte's sentinel, so older frames read the same."""
    if a is None and b is None:
        return 0xFF
    return (7 if a is None else a) | (0 if b is None else 0x40 | (b << 3))


def pair_of(code):
    """-> (a, b) of a pair byte, None for absent; "bad-schema" for a bit no encoder sets."""
    if code == 0xFF:
        return None, None
    if code & 0x80 or (not code & 0x40 and code & 0x38):
        raise FrameError("bad-schema", "pair byte 0x%02x" % code)
    a = code & 7
    return (None if a == 7 else a), ((code >> 3) & 7 if code & 0x40 else None)


def _checked(fields, name, values):
    i = _schema.field_index(fields, name)
    v = values[i]
    f = fields[i]
    if v is not None and (not isinstance(v, int) or v < f[4] or v > f[5]):
        raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))
    return v


def _code_of(entry, v):
    nbytes = entry[1]
    if entry[2]:
        hi = (1 << (8 * nbytes - 1)) - 1  # signed fields are at most 3 bytes
        return requantise(v, entry[3], entry[4], -hi, hi)
    hi = (1 << (8 * nbytes)) - 2 if nbytes < 4 else 0x3FFFFFFF  # small ints only
    return requantise(v, entry[3], entry[4], 0, hi)


class CompactEncoder(EncoderBase):
    """Compact frames of one Sigfox node."""

    def __init__(self, kind, device_id, key=None, radio="sigfox", sf=10, bw_khz=125, encrypt=None,
                 mic="cmac", overflow="fragment", dwell_ms=400):
        EncoderBase.__init__(self, kind, device_id, radio, sf, bw_khz, dwell_ms)
        if encrypt is None:
            encrypt = kind in _schema.PERSONAL_KINDS
        if mic not in ("cmac", "hmac"):
            raise ValueError("mic must be 'cmac' or 'hmac'")
        if overflow not in ("fragment", "drop"):
            raise ValueError("overflow must be 'fragment' or 'drop'")
        self.compact = True
        self.encrypt = bool(encrypt)
        self.hmac = mic == "hmac"
        self.overflow = overflow
        self.keys = None
        if self.encrypt:
            from lpwa.codecs.keys import Keys

            self.keys = Keys(key)

    def encode_into(self, counter, values, alarm=False, status=False, count=-1):
        """Write one compact frame into self.buf at self.start; return its length (no heap)."""
        layout = _schema.STATUS_COMPACT if status else self.schema["compact"]
        fields = _schema.STATUS_FIELDS if status else self.schema["fields"]
        buf = self.buf
        p = self.start
        if self.encrypt:
            if not 0 <= counter <= 0xFFFFFFFF:
                raise FrameError("out-of-range", "counter")
            buf[p] = header_byte(T_SEALED_STATUS if status else T_SEALED, self.kind_id)
        else:
            buf[p] = header_byte(T_COMPACT_STATUS if status else T_COMPACT, self.kind_id)
        p += 1
        for j in range(len(layout)):
            entry = layout[j]
            nbytes = entry[1]
            v = _checked(fields, entry[0], values)
            if len(entry) > 5:
                buf[p] = pair_byte(v, _checked(fields, entry[5], values))
            elif entry[0] == "battery_v":
                code = 127 if v is None else requantise(v, entry[3], entry[4], 0, 126)
                buf[p] = code | (0x80 if alarm else 0)
            elif v is None:  # the sentinel: 0x80 00.. signed, 0xff.. unsigned
                for k in range(nbytes):
                    buf[p + k] = 0xFF if not entry[2] else (0x80 if k == 0 else 0)
            else:
                code = _code_of(entry, v)
                for k in range(nbytes - 1, -1, -1):
                    buf[p + k] = code & 0xFF
                    code >>= 8
            p += nbytes
        if self.encrypt:
            self.keys.crypt(DIR_SIGFOX_UP, self.device_id, counter, buf, self.start + 1, p)
        return p - self.start

    def _frames(self, counter, values, alarm, status):
        n = self.encode_into(counter, values, alarm, status)
        self.dropped = 0
        if n > self.limit:
            raise FrameError("too-large", "compact frame %d > %d" % (n, self.limit))
        return [self.frame_bytes(n)]


def _is_hex(text):
    for c in text:
        if c not in "0123456789abcdef":
            return False
    return True


def network_ids(meta, key_for, needs_key=True):
    """The Sigfox network's (device hex, seq) from meta; "unknown-device" when missing or malformed."""
    meta = meta or {}
    dev = meta.get("device")
    seq = meta.get("seq")
    if dev is None or seq is None:
        raise FrameError("unknown-device", "compact frame without network device/seq")
    dev = str(dev).lower()
    if len(dev) != 8 or not _is_hex(dev):
        raise FrameError("unknown-device", "network device id %r is not 8 hex digits" % dev[:16])
    if type(seq) is not int or seq < 0:
        raise FrameError("unknown-device", "network seq %r is not a non-negative integer" % (seq,))
    if needs_key and key_for(dev) is None:
        raise FrameError("unknown-device", dev)
    return dev, seq


def _value_of(entry, code):
    """A compact code -> (stored code or None for the sentinel, alarm bit)."""
    name, nbytes, signed = entry[0], entry[1], entry[2]
    if name == "battery_v":
        return (None if code & 0x7F == 127 else code & 0x7F), bool(code & 0x80)
    if signed:
        if code == 1 << (8 * nbytes - 1):
            return None, False
        if code >> (8 * nbytes - 1):
            code -= 1 << (8 * nbytes)
    elif code == (1 << (8 * nbytes)) - 1:
        return None, False
    return code, False


def seq_counter(seq, last=None):
    """The node's full counter from the 12-bit Sigfox seqNumber: the first at or after `last`
    (the same again is a duplicate), as LoRaWAN rebuilds FCnt; with no history, seq itself.
    Up to 4095 lost messages in a row are bridged; more cannot be told apart (FRAMES.md)."""
    seq &= (1 << SEQ_BITS) - 1
    if last is None:
        return seq
    c = (last & ~((1 << SEQ_BITS) - 1)) | seq
    if c < last:
        c += 1 << SEQ_BITS
    return c


def unseal(raw, keys, device_id, counter):
    """The plaintext of a sealed compact frame (type 5/6 -> 3/4)."""
    out = bytearray(raw)
    out[0] = raw[0] - ((T_SEALED - T_COMPACT) << 3)
    keys.crypt(DIR_SIGFOX_UP, device_id, counter, out, 1, len(out))
    return bytes(out)


def _put(readings, fields, name, stored, exact):
    """One decoded reading; an exact code (a pair byte's) over its field's range is refused."""
    if stored is None:
        return
    f = fields[_schema.field_index(fields, name)]
    if exact and stored > f[5]:
        raise FrameError("bad-schema", "%s code %d over %d" % (name, stored, f[5]))
    readings[name] = {"value": _schema.to_natural(f, stored), "unit": f[1]}


def decode_compact(raw, device, seq):
    """A compact Sigfox frame; device (8 hex) and seq come from the Sigfox network."""
    ftype, kind = parse_header(raw, 1)
    if ftype in (T_SEALED, T_SEALED_STATUS):
        raise FrameError("bad-version", "sealed compact frame: unseal first")
    status = ftype == T_COMPACT_STATUS
    layout = _schema.STATUS_COMPACT if status else _schema.kind_schema(kind)["compact"]
    fields = _schema.STATUS_FIELDS if status else _schema.kind_schema(kind)["fields"]
    size = 1
    for entry in layout:
        size += entry[1]
    if len(raw) != size:
        raise FrameError("truncated" if len(raw) < size else "bad-schema",
                         "compact %s frame is %d bytes, not %d" % (kind, len(raw), size))
    p = 1
    readings = {}
    alarm = False
    for entry in layout:
        code = 0
        for k in range(entry[1]):
            code = (code << 8) | raw[p + k]
        p += entry[1]
        if len(entry) > 5:
            for name, v in zip((entry[0], entry[5]), pair_of(code)):
                _put(readings, fields, name, v, True)
            continue
        code, bit = _value_of(entry, code)
        alarm = alarm or bit
        if code is not None:
            _put(readings, fields, entry[0], (code + entry[4]) * entry[3], False)
    return result(kind, status, alarm, device, seq, readings, raw)


def decode_compact_frame(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """The decoder's entry: network ids from meta, then the frame."""
    dev, seq = network_ids(meta, key_for, compact_needs_key)
    return decode_compact(raw, dev, seq)


def decode_sealed_frame(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """A sealed compact frame: the counter rebuilt from seqNumber, decrypted, then decoded.

    last_counter(device) is the device's last sealed counter (the gateway's durable state).
    "counter" is seqNumber, as for every compact frame (the gateway extends it the same way);
    "sealed_counter" is the rebuilt full counter the keystream used."""
    from lpwa.codecs.keys import keys_of

    dev, seq = network_ids(meta, key_for, True)
    try:
        keys = keys_of(key_for(dev))
    except ValueError:
        raise FrameError("unknown-device", "%s has no valid 16-byte key" % dev)
    counter = seq_counter(seq, last_counter(dev) if last_counter is not None else None)
    out = decode_compact(unseal(raw, keys, int(dev, 16), counter), dev, seq)
    out["raw_hex"] = result("", False, False, dev, counter, {}, raw)["raw_hex"]
    out["sealed_counter"] = counter
    return out
