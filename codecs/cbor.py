"""Deterministic CBOR (RFC 8949) for the portable core: same source on the board and the host.

The encoder writes into a caller's preallocated bytearray with core deterministic encoding
(shortest integer and length heads, definite lengths, map keys sorted by their encoded bytes,
floats in the shortest form that keeps their value), so identical readings give identical
bytes. The decoder (cbor_decode.py, behind `loads`) exists for downlinks and tests; the gateway
decodes with cbor2.

Deliberately not supported on encode: indefinite lengths (never deterministic). On MicroPython
builds with single-precision floats (ESP32), floats lose precision: frames carry scaled
integers instead.
"""

import struct

from lpwa.codecs.cbor_types import (  # noqa: F401  (re-exported: cbor.Tag, cbor.CBORError, ...)
    _MAX_DEPTH, UNDEFINED, CBORDecodeError, CBOREncodeError, CBORError, Simple, Tag)

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

_MAX_U64 = const(0xFFFFFFFFFFFFFFFF)


def _half_bits(x):
    """IEEE 754 binary16 bits of x if x converts exactly, else None."""
    if x != x:
        return 0x7E00
    sign = 0x8000 if (x < 0 or (x == 0 and str(x)[0] == "-")) else 0
    a = -x if x < 0 else x
    if a == float("inf"):
        return sign | 0x7C00
    if a == 0:
        return sign
    # normal range 2^-14 .. 65504, subnormal down to 2^-24
    if a >= 2.0 ** -14:
        e = 0
        m = a
        while m >= 2.0:
            m /= 2.0
            e += 1
        while m < 1.0:
            m *= 2.0
            e -= 1
        if e > 15:
            return None
        frac = (m - 1.0) * 1024.0
        if frac != int(frac):
            return None
        return sign | ((e + 15) << 10) | int(frac)
    frac = a * 16777216.0  # a / 2^-24
    if frac != int(frac) or frac >= 1024:
        return None
    return sign | int(frac)


class Encoder:
    """Writes CBOR items into a preallocated buffer; `pos` is the number of bytes written."""

    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def reset(self):
        self.pos = 0

    def _room(self, n):
        if self.pos + n > len(self.buf):
            raise CBOREncodeError("buffer full: need %d bytes at offset %d of %d" % (n, self.pos, len(self.buf)))

    def head(self, major, n):
        """Major type and argument in the shortest form (RFC 8949 section 4.2.1)."""
        mt = major << 5
        buf = self.buf
        if n < 24:
            self._room(1)
            buf[self.pos] = mt | n
            self.pos += 1
        elif n < 0x100:
            self._room(2)
            buf[self.pos] = mt | 24
            buf[self.pos + 1] = n
            self.pos += 2
        elif n < 0x10000:
            self._room(3)
            buf[self.pos] = mt | 25
            struct.pack_into(">H", buf, self.pos + 1, n)
            self.pos += 3
        elif n < 0x100000000:
            self._room(5)
            buf[self.pos] = mt | 26
            struct.pack_into(">I", buf, self.pos + 1, n)
            self.pos += 5
        elif n <= _MAX_U64:
            self._room(9)
            buf[self.pos] = mt | 27
            struct.pack_into(">I", buf, self.pos + 1, n >> 32)
            struct.pack_into(">I", buf, self.pos + 5, n & 0xFFFFFFFF)
            self.pos += 9
        else:
            raise CBOREncodeError("argument too large")

    def int(self, n):
        if n >= 0:
            if n > _MAX_U64:
                self._bignum(2, n)
            else:
                self.head(0, n)
        else:
            m = -1 - n
            if m > _MAX_U64:
                self._bignum(3, m)
            else:
                self.head(1, m)

    def _bignum(self, tag, n):
        length = 0
        t = n
        while t:
            length += 1
            t >>= 8
        self.head(6, tag)
        self.bytes(n.to_bytes(length, "big"))

    def bytes(self, data):
        n = len(data)
        self.head(2, n)
        self._room(n)
        self.buf[self.pos:self.pos + n] = data
        self.pos += n

    def text(self, s):
        data = s.encode("utf-8")
        n = len(data)
        self.head(3, n)
        self._room(n)
        self.buf[self.pos:self.pos + n] = data
        self.pos += n

    def array(self, n):
        """Head of a definite-length array of n items; the caller writes the items."""
        self.head(4, n)

    def map(self, n):
        """Head of a definite-length map of n pairs; the caller writes keys in sorted order."""
        self.head(5, n)

    def tag(self, tag):
        self.head(6, tag)

    def simple(self, value):
        if value < 24:
            self.head(7, value)
        elif value < 32:
            raise CBOREncodeError("simple values 24..31 are reserved")
        else:
            self._room(2)
            self.buf[self.pos] = 0xF8
            self.buf[self.pos + 1] = value
            self.pos += 2

    def float(self, x):
        """Shortest of binary16/32/64 that keeps the value (NaN is f97e00)."""
        h = _half_bits(x)
        if h is not None:
            self._room(3)
            self.buf[self.pos] = 0xF9
            struct.pack_into(">H", self.buf, self.pos + 1, h)
            self.pos += 3
            return
        f32 = struct.unpack(">f", struct.pack(">f", x))[0] if -3.4028234663852886e38 <= x <= 3.4028234663852886e38 else None
        if f32 is not None and f32 == x:
            self._room(5)
            self.buf[self.pos] = 0xFA
            struct.pack_into(">f", self.buf, self.pos + 1, x)
            self.pos += 5
        else:
            self._room(9)
            self.buf[self.pos] = 0xFB
            struct.pack_into(">d", self.buf, self.pos + 1, x)
            self.pos += 9

    def value(self, obj, depth=0):
        """Any supported Python value, deterministically."""
        if depth > _MAX_DEPTH:
            raise CBOREncodeError("nesting deeper than %d" % _MAX_DEPTH)
        if obj is False:
            self.head(7, 20)
        elif obj is True:
            self.head(7, 21)
        elif obj is None:
            self.head(7, 22)
        elif isinstance(obj, int):
            self.int(obj)
        elif isinstance(obj, float):
            self.float(obj)
        elif isinstance(obj, (bytes, bytearray, memoryview)):
            self.bytes(obj)
        elif isinstance(obj, str):
            self.text(obj)
        elif isinstance(obj, (list, tuple)):
            self.array(len(obj))
            for item in obj:
                self.value(item, depth + 1)
        elif isinstance(obj, dict):
            self._sorted_map(obj, depth)
        elif isinstance(obj, Tag):
            self.tag(obj.tag)
            self.value(obj.value, depth + 1)
        elif isinstance(obj, Simple):
            self.simple(obj.value)
        else:
            raise CBOREncodeError("cannot encode %s" % type(obj).__name__)

    def _sorted_map(self, obj, depth):
        # Core deterministic order: keys sorted bytewise by their own encodings.
        keyed = []
        for k in obj:
            keyed.append((dumps(k), k))
        keyed.sort(key=lambda pair: pair[0])
        self.map(len(keyed))
        for enc, k in keyed:
            n = len(enc)
            self._room(n)
            self.buf[self.pos:self.pos + n] = enc
            self.pos += n
            self.value(obj[k], depth + 1)


def dumps(obj, size=256):
    """Encode obj to new bytes (convenience; the hot path reuses an Encoder and its buffer)."""
    while True:
        enc = Encoder(bytearray(size))
        try:
            enc.value(obj)
        except CBOREncodeError as e:
            if "buffer full" in str(e) and size < 1 << 20:
                size *= 4
                continue
            raise
        return bytes(enc.buf[:enc.pos])


def loads(data):
    """Decode exactly one CBOR item; trailing bytes are an error (codecs/cbor_decode.py: a node
    that only encodes never loads the decoder)."""
    from lpwa.codecs.cbor_decode import loads as _loads

    return _loads(data)
