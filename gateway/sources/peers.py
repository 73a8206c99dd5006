"""Rejections per sender address, bounded: a flood from many addresses (or spoofed ones) must not
grow memory or the metrics' label set. The most recently active `limit` addresses keep their own
count (LRU); an address pushed out starts from zero if it comes back, and how many were pushed out
is counted, so nothing is silent."""

import collections

LIMIT = 256


class PeerCounts:
    def __init__(self, limit=LIMIT):
        self.limit = limit
        self.counts = collections.OrderedDict()  # address -> rejections, least recently active first
        self.evicted = 0

    def note(self, address, n=1):
        if not n:
            return
        self.counts[address] = self.counts.pop(address, 0) + n
        if len(self.counts) > self.limit:
            self.counts.popitem(last=False)
            self.evicted += 1

    def top(self, n=None):
        """{address: rejections} of the `n` (default all kept) addresses with the most, largest first."""
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return dict(ranked[:n] if n else ranked)
