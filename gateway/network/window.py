"""Which counters of one device were published: an anti-replay window (RFC 4303, 3.4.3).

`last` is the highest published counter, `mask` bit i says whether `last - 1 - i` was published.
A gateway's backlog arriving late and out of order is still published once; a counter below the
window cannot be proven new and is "stale". The window travels in the retained `_state` message,
so a restarted or second instance continues from it.
"""

import hashlib
import json

WIDTH = 1024  # counters below `last` remembered


class ReplayWindow:
    __slots__ = ("last", "mask")

    def __init__(self, last=-1, mask=0):
        self.last = last
        self.mask = mask

    def state(self, counter):
        """"new", "published" or "stale" for `counter`."""
        if counter > self.last:
            return "new"
        if counter == self.last:
            return "published"
        i = self.last - 1 - counter
        if i >= WIDTH:
            return "stale"
        return "published" if self.mask >> i & 1 else "new"

    def mark(self, counter):
        if counter > self.last:
            shift = counter - self.last
            if self.last >= 0:
                self.mask = ((self.mask << shift) | (1 << (shift - 1))) & ((1 << WIDTH) - 1) if shift <= WIDTH else 0
            self.last = counter
        elif counter < self.last:
            i = self.last - 1 - counter
            if i < WIDTH:
                self.mask |= 1 << i

    def merge(self, last, mask):
        """Fold in another instance's view (the union of both published sets), by shifting masks."""
        if last < 0:
            return
        if self.last < 0:
            self.last, self.mask = last, mask
            return
        hi, hi_mask, lo, lo_mask = (last, mask, self.last, self.mask) if last >= self.last else \
            (self.last, self.mask, last, mask)
        shift = hi - lo
        full = (hi_mask << 1) | 1
        if shift <= WIDTH:
            full |= ((lo_mask << 1) | 1) << shift
        self.last, self.mask = hi, (full >> 1) & ((1 << WIDTH) - 1)

    def published(self):
        if self.last < 0:
            return []
        out = [self.last]
        m, i = self.mask, 0
        while m:
            if m & 1:
                out.append(self.last - 1 - i)
            m >>= 1
            i += 1
        return out

    def dump(self):
        return [self.last, "%x" % self.mask]

    @classmethod
    def load(cls, value):
        last, mask = value
        if not isinstance(last, int) or isinstance(last, bool) or not -1 <= last <= 0xFFFFFFFFFF:
            raise ValueError("bad last")
        mask = int(mask, 16) & ((1 << WIDTH) - 1)
        return cls(last, mask)


_BODY = ("kind", "type", "device", "counter", "alarm", "readings")


def fingerprint(msg):
    """The frame's identity across gateways: its decoded content, not any gateway's metadata.
    Stable across processes (blake2s, not Python's per-process hash)."""
    body = {k: msg.get(k) for k in _BODY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2s(text.encode(), digest_size=8).hexdigest()
