"""Fragments of a full frame that does not fit the radio, and their reassembly at the gateway.

Fragment: hdr (type 2, same kind) || index << 4 | (count - 1) || tag || chunk, tag = XOR of the
device id's 4 bytes and the counter's low byte (groups fragments; devices with equal counters
do not collide); the chunks, in order, concatenated, are the full frame.
"""

from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import FRAG_HEADER_LEN, MAX_FRAGMENTS, T_FRAGMENT


def fragment(frame, limit):
    """Split a full frame into fragments of at most `limit` bytes."""
    chunk = limit - FRAG_HEADER_LEN
    if chunk < 1:
        raise FrameError("too-large", "radio limit %d leaves no room for a fragment" % limit)
    count = (len(frame) + chunk - 1) // chunk
    if count > MAX_FRAGMENTS:
        raise FrameError("too-large", "%d bytes need %d fragments of %d (max %d)" % (len(frame), count, limit, MAX_FRAGMENTS))
    hdr = (frame[0] & 0xC7) | (T_FRAGMENT << 3)
    tag = frame[2] ^ frame[3] ^ frame[4] ^ frame[5] ^ frame[7]
    out = []
    for i in range(count):
        piece = bytearray(FRAG_HEADER_LEN)
        piece[0] = hdr
        piece[1] = (i << 4) | (count - 1)
        piece[2] = tag
        out.append(bytes(piece) + bytes(frame[i * chunk:(i + 1) * chunk]))
    return out


def parse_fragment(raw, source):
    """A fragment's (group key, index, count, chunk); the key is (source, header, count, tag).
    Raises FrameError("truncated"/"fragment"). One parse for every reassembler."""
    if len(raw) <= FRAG_HEADER_LEN:
        raise FrameError("truncated", "fragment of %d bytes" % len(raw))
    index = raw[1] >> 4
    count = (raw[1] & 0x0F) + 1
    if index >= count:
        raise FrameError("fragment", "index %d of %d" % (index, count))
    gkey = (source, raw[0], count, raw[2])
    try:
        hash(gkey)
    except TypeError:  # e.g. a replay line whose meta "sender" is a list
        raise FrameError("fragment", "fragment source is not a plain value")
    return gkey, index, count, bytes(raw[FRAG_HEADER_LEN:])


class Reassembler:
    """Collects fragments until a full frame is complete; bounded, stale groups expire."""

    def __init__(self, max_groups=64, max_age_s=600):
        self.groups = {}
        self.max_groups = max_groups
        self.max_age_s = max_age_s

    def _group(self, gkey, count, now):
        for k in [k for k, g in self.groups.items() if now - g[0] > self.max_age_s]:
            del self.groups[k]
        g = self.groups.get(gkey)
        if g is None:
            if len(self.groups) >= self.max_groups:
                oldest = min(self.groups, key=lambda k: self.groups[k][0])
                del self.groups[oldest]
            g = [now, [None] * count]
            self.groups[gkey] = g
        return g

    def add(self, raw, source, now):
        """-> the full frame bytes when complete, else None. Raises FrameError("fragment")."""
        gkey, index, count, chunk = parse_fragment(raw, source)
        g = self._group(gkey, count, now)
        if g[1][index] is not None and g[1][index] != chunk:
            del self.groups[gkey]
            raise FrameError("fragment", "conflicting copies of fragment %d" % index)
        g[1][index] = chunk
        if any(c is None for c in g[1]):
            return None
        del self.groups[gkey]
        return b"".join(g[1])
