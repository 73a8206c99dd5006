"""Fragment reassembly that a stranger's fragment cannot break (issue #13, point 1).

A fragment carries no sender identity and only an 8-bit tag, so two real devices' tags collide and
a forger can sniff one. Nothing is trusted until the MIC of the rebuilt frame verifies:

- each index of a group keeps up to `copies` different chunks instead of dropping the group on a
  conflict; when every index has one, combinations with the newest chunk are tried (at most
  `tries` MIC checks per fragment) and the first whose MIC verifies wins, its chunks leave the
  group and the others wait for their own message;
- a first fragment is checked against its tag (device id and counter low byte are in the clear
  full-frame header it starts with) before it is kept;
- groups are bounded per source and in all, copies per index too (the oldest goes); an evicted or
  expired group that still holds chunks, and a dropped copy, is counted in `lost` (the fragments
  were acknowledged), never dropped silently. Leftover chunks after a message verified may be a
  forger's: `lost` counts what was dropped unfinished, real or forged; it cannot tell which.
"""

import itertools

from lpwa.codecs.errors import FrameError
from lpwa.codecs.fragment import parse_fragment
from lpwa.codecs.header import is_full_type

__all__ = ["Reassembler"]


def _first_matches(hdr, tag, chunk):
    """A first fragment starts with the full frame's header: its type, kind and tag must agree."""
    if len(chunk) < 8:
        return True  # too short to carry the device id: the MIC decides
    if (chunk[0] & 0xC7) != (hdr & 0xC7) or not is_full_type(chunk[0]):
        return False
    return tag == chunk[2] ^ chunk[3] ^ chunk[4] ^ chunk[5] ^ chunk[7]


class Reassembler:
    """Collects fragments per (source, header, count, tag); bounded, counted, MIC-checked."""

    def __init__(self, max_groups=64, max_age_s=600, per_source=16, copies=4, tries=16):
        self.groups = {}
        self.max_groups, self.max_age_s, self.per_source = max_groups, max_age_s, per_source
        self.copies, self.tries = copies, tries
        self.lost = {"expired": 0, "evicted": 0, "copies": 0}  # unfinished groups / copies dropped

    def pending(self):
        """Chunks held in memory (the status figure)."""
        return sum(len(c) for g in self.groups.values() for c in g[1])

    def add(self, raw, source, now, check=None):
        """-> the full frame bytes whose MIC `check(full)` accepts, else None. Raises FrameError."""
        gkey, index, count, chunk = parse_fragment(raw, source)
        if index == 0 and not _first_matches(raw[0], raw[2], chunk):
            raise FrameError("fragment", "first fragment does not match its tag")
        self._expire(now)
        g = self.groups.get(gkey)
        if g is None:
            self._make_room(source)
            g = self.groups[gkey] = [now, [[] for _ in range(count)]]
        slot = g[1][index]
        if chunk in slot:
            return None  # a repeat (forwarder, retry): nothing new
        if len(slot) >= self.copies:  # the oldest copy goes: a forger must outpace every real fragment
            slot.pop(0)
            self.lost["copies"] += 1
        slot.append(chunk)
        g[0] = now
        return self._complete(gkey, g, index, chunk, check)

    def _complete(self, gkey, g, index, chunk, check):
        """Try the combinations that contain the new chunk; take out the first that verifies."""
        slots = g[1]
        if any(not s for s in slots):
            return None
        choices = [s if i != index else [chunk] for i, s in enumerate(slots)]
        for combo in itertools.islice(itertools.product(*choices), self.tries):
            full = b"".join(combo)
            if check is None or check(full):
                for s, c in zip(slots, combo):
                    s.remove(c)
                if not any(slots):
                    del self.groups[gkey]
                return full
        return None

    def _expire(self, now):
        for k in [k for k, g in self.groups.items() if now - g[0] > self.max_age_s]:
            self._drop(k, "expired")

    def _make_room(self, source):
        """Room for a new group: first within the source's own share, then in all (the source holding
        the most groups gives one up, so one busy or hostile source pays for itself). The victim is
        the group with the fewest indices filled, the newest of those: a flood of forged first fragments
        evicts its own groups, not an older message that is filling up."""
        mine = [k for k in self.groups if k[0] == source]
        if len(mine) >= self.per_source:
            self._drop(self._victim(mine), "evicted")
        if len(self.groups) < self.max_groups:
            return
        by_source = {}
        for k in self.groups:
            by_source.setdefault(k[0], []).append(k)
        self._drop(self._victim(max(by_source.values(), key=len)), "evicted")

    def _victim(self, keys):
        """Fewest indices filled (a first fragment, checked against the tag, counts double), newest."""
        def rank(k):
            slots = self.groups[k][1]
            return (sum(1 for c in slots if c) + (1 if slots[0] else 0), -self.groups[k][0])
        return min(keys, key=rank)

    def _drop(self, gkey, why):
        g = self.groups.pop(gkey)
        if any(g[1]):
            self.lost[why] += 1
