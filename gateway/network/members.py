"""Which live instance owns a device: rendezvous hashing over the retained membership.

Membership is what the broker says: each instance's retained `_members/<id>` message, `online`
when it connects, `offline` from its last will (kill -9, lost link) or its clean stop. Every
instance sees the same messages, so every instance computes the same owner. A member that comes
online becomes an owner only GRACE_S after it was seen, on every instance alike, so the previous
owner's last window has closed before the owner moves.
"""

import hashlib
import time

GRACE_S = 1.0


def _score(member, device):
    return hashlib.blake2s((member + "\0" + device).encode(), digest_size=8).digest()


class Members:
    def __init__(self, me, grace_s=GRACE_S, clock=time.monotonic):
        self.me = me
        self.grace_s = grace_s
        self.clock = clock
        self.online = {}  # id -> monotonic time it was seen online here
        self.version = 0  # bumped on every change that can move an owner
        self._eligible = ()
        self._cache = {}

    def update(self, member, online, initial=False):
        """A `_members` message. `initial`: it was retained when we subscribed (already an owner)."""
        if online:
            if member not in self.online:
                self.online[member] = self.clock() - (self.grace_s if initial else 0.0)
                self.version += 1
        elif self.online.pop(member, None) is not None:
            self.version += 1

    def tick(self):
        """Re-evaluate who is eligible; True when that changed (held entries may now be ours)."""
        now = self.clock()
        eligible = tuple(sorted(m for m, t in self.online.items() if now - t >= self.grace_s))
        if eligible != self._eligible:
            self._eligible = eligible
            self._cache = {}
            return True
        return False

    def owner(self, device):
        o = self._cache.get(device)
        if o is None and self._eligible:
            o = max(self._eligible, key=lambda m: _score(m, device))
            if len(self._cache) < 100000:
                self._cache[device] = o
        return o

    def owns(self, device):
        return self.owner(device) == self.me

    def eligible(self):
        return list(self._eligible)
