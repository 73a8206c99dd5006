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
(fragment.py) is imported only when a frame does not fit. Receiving (counter, MIC, decryption,
decoding) is full_decode.py's: a node never loads it.
"""

from lpwa.codecs import cbor
from lpwa.codecs import schema_base as _schema
from lpwa.codecs.encoding import EncoderBase
from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import (DIR_UP, F_ALARM, F_ENCRYPTED, F_HMAC, HEADER_LEN, MAX_BODY, MIC_LEN, T_READING,
                                T_STATUS, header_byte, u32_into, write_b0)
from lpwa.codecs.keys import Keys
from lpwa.codecs.readings import present_count


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
