"""Full frames (LoRa, Wi-SUN): header, CBOR body (AES-CTR when encrypted), 4-byte MIC.

    0      hdr      version | type (0 reading, 1 status) | kind
    1      flags    bit 0 alarm, bit 1 encrypted (AES-128-CTR), bit 2 MIC is HMAC-SHA256 (else
                    AES-CMAC); bits 3-7 zero
    2..5   device   32-bit id, big-endian
    6..7   counter  low 16 bits of the 32-bit frame counter, big-endian
    8..    body     CBOR array of scaled integers (ciphertext when encrypted)
    last 4 MIC      first 4 bytes of AES-CMAC / HMAC-SHA256 over B0 || frame-without-MIC

B0 = dir (0 up, 1 down) || device (4) || counter (4, full 32 bits): the MIC covers the counter's
high bits, which are not sent (as LoRaWAN does with FCnt); the receiver reconstructs them.
`FullEncoder.encode_into` is allocation-free in steady state on MicroPython. Fragmentation
(fragment.py) is imported only when a frame does not fit.
"""

from lpwa.codecs import cbor
from lpwa.codecs import schema_base as _schema
from lpwa.codecs.encoding import EncoderBase
from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import (DIR_UP, F_ALARM, F_ENCRYPTED, F_HMAC, HEADER_LEN, MAX_BODY, MIC_LEN,
                                PREFIX_LEN, T_READING, T_STATUS, device_hex, header_byte, is_full_type, mic_equal,
                                parse_header, u32_into, write_b0)
from lpwa.codecs.keys import Keys, keys_of
from lpwa.codecs.readings import present_count, readings_from_body, result


class FullEncoder(EncoderBase):
    """Full frames of one node; overflow "fragment" (gateway reassembles) or "drop" (shorten)."""

    def __init__(self, kind, device_id, key, radio="lora", sf=10, bw_khz=125, encrypt=None,
                 mic="cmac", overflow="fragment", dwell_ms=400):
        EncoderBase.__init__(self, kind, device_id, radio, sf, bw_khz, dwell_ms)
        self.compact = False
        self.encrypt = kind in _schema.PERSONAL_KINDS if encrypt is None else encrypt
        if mic not in ("cmac", "hmac"):
            raise ValueError("mic must be 'cmac' or 'hmac'")
        self.hmac = mic == "hmac"
        if overflow not in ("fragment", "drop"):
            raise ValueError("overflow must be 'fragment' or 'drop'")
        self.overflow = overflow
        self.keys = Keys(key)
        self._cbor = cbor.Encoder(self.buf)

    def _header_into(self, counter, alarm, status):
        buf = self.buf
        s = self.start
        dev = self.device_id
        write_b0(buf, 0, DIR_UP, dev, counter)
        buf[s] = header_byte(T_STATUS if status else T_READING, self.kind_id)
        flags = 0
        if alarm:
            flags |= F_ALARM
        if self.encrypt:
            flags |= F_ENCRYPTED
        if self.hmac:
            flags |= F_HMAC
        buf[s + 1] = flags
        u32_into(buf, s + 2, dev)
        buf[s + 6] = (counter >> 8) & 0xFF
        buf[s + 7] = counter & 0xFF

    def _body_into(self, fields, values, count):
        enc = self._cbor
        enc.pos = self.start + HEADER_LEN
        try:
            enc.array(count)
            for i in range(count):
                v = values[i]
                if v is None:
                    enc.head(7, 22)
                else:
                    f = fields[i]
                    if not isinstance(v, int) or v < f[4] or v > f[5]:
                        raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))
                    enc.int(v)
        except cbor.CBOREncodeError:
            raise FrameError("too-large", "body over %d bytes" % MAX_BODY)
        return enc.pos

    def encode_into(self, counter, values, alarm=False, status=False, count=-1):
        """Write one full frame into self.buf at self.start; return its length.

        values: stored integers (or None) in schema order; count: array items to send
        (-1: up to the last present value). No heap allocation on success.
        """
        fields = _schema.STATUS_FIELDS if status else self.schema["fields"]
        if not 0 <= counter <= 0xFFFFFFFF:
            raise FrameError("out-of-range", "counter")
        self._header_into(counter, alarm, status)
        if count < 0:
            count = len(fields)
            while count and values[count - 1] is None:
                count -= 1
        end = self._body_into(fields, values, count)
        if self.encrypt:
            self.keys.crypt(DIR_UP, self.device_id, counter, self.buf, self.start + HEADER_LEN, end)
        self.keys.mic_into(self.buf, 0, end, end, self.hmac)
        return end + MIC_LEN - self.start

    def _frames(self, counter, values, alarm, status):
        n = self.encode_into(counter, values, alarm, status)
        self.dropped = 0
        if n <= self.limit:
            return [self.frame_bytes(n)]
        if self.overflow == "drop":
            return [self.frame_bytes(self._drop_until_fits(n, counter, values, alarm, status))]
        from lpwa.codecs.fragment import fragment

        return fragment(self.buf[self.start:self.start + n], self.limit)

    def _drop_until_fits(self, n, counter, values, alarm, status):
        count = present_count(values)
        while n > self.limit and count > 1:
            count -= 1
            self.dropped += 1
            n = self.encode_into(counter, values, alarm, status, count)
        if n > self.limit:
            raise FrameError("too-large", "%d bytes > %d even with one field" % (n, self.limit))
        return n


def counter_candidates(low16, last=None):
    """Full 32-bit counters whose low 16 bits are low16, as LoRaWAN rebuilds FCnt: the first at
    or after `last` (the same counter again is a duplicate for the gateway to drop), then the
    one 65536 later; with no history, every epoch 0..255 (counters below 2**24) in turn. The MIC
    decides which one the node used, so a frame older than `last` fails with "bad-mic"."""
    if last is None:
        return [(e << 16) | low16 for e in range(256)]
    c = (last & 0xFFFF0000) | low16
    if c < last:
        c += 0x10000
    return [x for x in (c, c + 0x10000) if x <= 0xFFFFFFFF]


def _device_keys(raw, key_for):
    device = int.from_bytes(bytes(raw[2:6]), "big")
    dhex = device_hex(device)
    key = key_for(dhex)
    if key is None:
        raise FrameError("unknown-device", dhex)
    try:
        return device, dhex, keys_of(key)
    except ValueError:
        raise FrameError("unknown-device", "%s has no valid 16-byte key" % dhex)


def open_frame(raw, key_for, last_counter=None, version=1):
    """Verify the MIC and decrypt a full frame. -> (ftype, kind, flags, device, counter, body bytes).

    key_for(device_hex) -> 16-byte key or None; last_counter(device_hex) -> int or None.
    Version 2 (packed.py) has the same header and MIC; its flags use every bit.
    """
    ftype, kind = parse_header(raw, version)
    if not is_full_type(raw[0]):
        raise FrameError("bad-version", "not a full frame (type %d)" % ftype)
    if len(raw) < HEADER_LEN + 1 + MIC_LEN:
        raise FrameError("truncated", "%d bytes, a full frame has at least %d" % (len(raw), HEADER_LEN + 1 + MIC_LEN))
    flags = raw[1]
    if version == 1 and flags & 0xF8:
        raise FrameError("bad-version", "reserved flag bits set")
    device, dhex, keys = _device_keys(raw, key_for)
    low = (raw[6] << 8) | raw[7]
    n = len(raw) - MIC_LEN
    work = bytearray(PREFIX_LEN + n + MIC_LEN)
    work[PREFIX_LEN:PREFIX_LEN + n] = raw[:n]
    hm = bool(flags & F_HMAC)
    last = last_counter(dhex) if last_counter is not None else None
    for counter in counter_candidates(low, last):
        write_b0(work, 0, DIR_UP, device, counter)
        keys.mic_into(work, 0, PREFIX_LEN + n, PREFIX_LEN + n, hm)
        if mic_equal(work, PREFIX_LEN + n, raw, n):
            break
    else:
        raise FrameError("bad-mic", "device %s" % dhex)
    body = work[PREFIX_LEN + HEADER_LEN:PREFIX_LEN + n]
    if flags & F_ENCRYPTED:
        keys.crypt(DIR_UP, device, counter, body, 0, len(body))
    return ftype, kind, flags, device, counter, bytes(body)


def loads_strict(body):
    try:
        return cbor.loads(body)
    except cbor.CBORError as e:
        raise FrameError("bad-cbor", str(e))


def decode_full(raw, radio, meta, key_for, last_counter=None, loads=None, compact_needs_key=True):
    """A full frame -> the decoded dict; loads(body) decodes CBOR (default: the portable one)."""
    ftype, kind, flags, device, counter, body = open_frame(raw, key_for, last_counter)
    items = (loads or loads_strict)(body)
    status = ftype == T_STATUS
    fields = _schema.STATUS_FIELDS if status else _schema.kind_schema(kind)["fields"]
    readings = readings_from_body(items, fields)
    return result(kind, status, bool(flags & F_ALARM), device_hex(device), counter, readings, raw)
