"""The CBOR decoder (RFC 8949) of codecs/cbor.py: `cbor.loads` imports it on first use, so a node
that only encodes (every uplink) never holds it on its heap (issue #14)."""

import struct

from lpwa.codecs.cbor_types import CBORDecodeError, Simple, Tag, _MAX_DEPTH


def _half_to_float(h):
    exp = (h >> 10) & 0x1F
    frac = h & 0x3FF
    if exp == 0:
        val = frac * 2.0 ** -24
    elif exp == 31:
        val = float("nan") if frac else float("inf")
    else:
        val = (1.0 + frac / 1024.0) * 2.0 ** (exp - 15)
    return -val if h & 0x8000 else val


class Decoder:
    """Reads CBOR items from bytes; strict about truncation and reserved values."""

    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise CBORDecodeError("truncated: need %d bytes at offset %d of %d" % (n, self.pos, len(self.data)))
        start = self.pos
        self.pos += n
        return self.data[start:self.pos]

    def _byte(self):
        if self.pos >= len(self.data):
            raise CBORDecodeError("truncated at offset %d" % self.pos)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def _arg(self, info):
        if info < 24:
            return info
        if info == 24:
            return self._byte()
        if info == 25:
            return struct.unpack(">H", self._take(2))[0]
        if info == 26:
            return struct.unpack(">I", self._take(4))[0]
        if info == 27:
            hi, lo = struct.unpack(">II", self._take(8))
            return (hi << 32) | lo
        raise CBORDecodeError("reserved additional information %d" % info)

    def value(self, depth=0):
        if depth > _MAX_DEPTH:
            raise CBORDecodeError("nesting deeper than %d" % _MAX_DEPTH)
        ib = self._byte()
        major = ib >> 5
        info = ib & 0x1F
        if major == 7:
            return self._major7(info)
        if info == 31:
            return self._indefinite(major, depth)
        n = self._arg(info)
        if major == 0:
            return n
        if major == 1:
            return -1 - n
        if major == 2:
            return bytes(self._take(n))
        if major == 3:
            return self._text(self._take(n))
        if major == 4:
            return [self.value(depth + 1) for _ in range(self._count(n))]
        if major == 5:
            out = {}
            for _ in range(self._count(n)):
                k = self.value(depth + 1)
                out[_hashable(k)] = self.value(depth + 1)
            return out
        inner = self.value(depth + 1)
        if n in (2, 3) and isinstance(inner, bytes):
            big = int.from_bytes(inner, "big") if inner else 0
            return big if n == 2 else -1 - big
        return Tag(n, inner)

    def _count(self, n):
        # Each item takes at least one byte: refuse counts the data cannot hold.
        if n > len(self.data) - self.pos:
            raise CBORDecodeError("truncated: %d items announced, %d bytes left" % (n, len(self.data) - self.pos))
        return n

    def _text(self, raw):
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeError:
            raise CBORDecodeError("text string is not valid UTF-8")

    def _indefinite(self, major, depth):
        if major in (2, 3):
            chunks = []
            while True:
                if self.pos < len(self.data) and self.data[self.pos] == 0xFF:
                    self.pos += 1
                    break
                ib = self._byte()
                if ib >> 5 != major or ib & 0x1F == 31:
                    raise CBORDecodeError("bad chunk in indefinite-length string")
                chunks.append(bytes(self._take(self._arg(ib & 0x1F))))
            raw = b"".join(chunks)
            return raw if major == 2 else self._text(raw)
        if major == 4:
            out = []
            while not self._at_break():
                out.append(self.value(depth + 1))
            return out
        if major == 5:
            out = {}
            while not self._at_break():
                k = self.value(depth + 1)
                out[_hashable(k)] = self.value(depth + 1)
            return out
        raise CBORDecodeError("indefinite length not allowed for major type %d" % major)

    def _at_break(self):
        if self.pos >= len(self.data):
            raise CBORDecodeError("truncated: missing break")
        if self.data[self.pos] == 0xFF:
            self.pos += 1
            return True
        return False

    def _major7(self, info):
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info < 24:
            return Simple(info)
        if info == 24:
            v = self._byte()
            if v < 32:
                raise CBORDecodeError("simple value %d in two-byte form" % v)
            return Simple(v)
        if info == 25:
            return _half_to_float(struct.unpack(">H", self._take(2))[0])
        if info == 26:
            return struct.unpack(">f", self._take(4))[0]
        if info == 27:
            return struct.unpack(">d", self._take(8))[0]
        if info == 31:
            raise CBORDecodeError("unexpected break")
        raise CBORDecodeError("reserved simple value encoding %d" % info)


def _hashable(k):
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    if isinstance(k, dict):
        raise CBORDecodeError("map used as a map key")
    if isinstance(k, Tag):
        return Tag(k.tag, _hashable(k.value))
    return k


def loads(data):
    """Decode exactly one CBOR item; trailing bytes are an error."""
    dec = Decoder(data)
    obj = dec.value()
    if dec.pos != len(data):
        raise CBORDecodeError("%d trailing bytes after the item" % (len(data) - dec.pos))
    return obj
