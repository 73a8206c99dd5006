"""Copies of one frame from several gateways -> one entry, published once (design: NETWORK.md).

Pure bookkeeping, no MQTT: `offer()` a gateway's copy, `due()` the entries whose window closed,
`published()` / `learn()` what this or another instance published. Everything is bounded: entries
(pending + held), devices, and the held time.
"""

import collections
import time

from lpwa.gateway.network.window import ReplayWindow, fingerprint

CLOCK_OFF_S = 300.0  # a gateway's ts this far from ours is counted (and never used for anything)
GATEWAY_FIELDS = ("gateway", "rx", "source", "time", "ts")


class Entry:
    """One frame (device, counter space, counter): its first copy's body and every gateway's rx."""

    __slots__ = ("device", "space", "counter", "fp", "body", "copies", "first", "mids", "until")

    def __init__(self, key, fp, body, first):
        self.device, self.space, self.counter = key
        self.fp, self.body, self.first = fp, body, first
        self.copies = {}  # gateway id -> {"gateway", "rx", "source", "ts"}
        self.mids = []  # MQTT message ids of the copies, acknowledged when the frame is settled
        self.until = 0.0

    @property
    def key(self):
        return (self.device, self.space, self.counter)

    def gateways(self):
        """Copies best first: RSSI, then SNR (what the downlink choice uses)."""
        def rank(c):
            rx = c.get("rx") or {}
            return (-_num(rx.get("rssi")), -_num(rx.get("snr")), c["gateway"])
        return sorted(self.copies.values(), key=rank)


def _num(v):
    if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
        return float(v)
    return float("-inf")


def valid_copy(msg):
    """A gateway's uplink JSON as the pipeline publishes it, or None."""
    if not isinstance(msg, dict):
        return None
    dev, ctr = msg.get("device"), msg.get("counter")
    if not isinstance(dev, str) or len(dev) != 8 or any(c not in "0123456789abcdef" for c in dev):
        return None
    if not isinstance(ctr, int) or isinstance(ctr, bool) or not 0 <= ctr <= 0xFFFFFFFFFF:
        return None
    if not isinstance(msg.get("kind"), str) or not isinstance(msg.get("radio"), str):
        return None
    return msg


class Merger:
    def __init__(self, window_s=0.2, hold_s=30.0, max_entries=20000, max_devices=100000,
                 clock=time.monotonic, wall=time.time):
        self.window_s, self.hold_s = window_s, hold_s
        self.max_entries, self.max_devices = max_entries, max_devices
        self.clock, self.wall = clock, wall
        self.windows = {}  # (device, space) -> ReplayWindow
        self.down = {}  # device -> the last downlink counter the network assigned
        self.latest = {}  # device -> (kind, [gateway copies best first]) of its latest published uplink
        self.routed = {}  # device -> the gateway its latest network downlink went to
        self.pending = collections.OrderedDict()  # key -> Entry, window open (arrival order)
        self.held = collections.OrderedDict()  # key -> Entry, closed, owned by another instance
        self.counts = collections.Counter()

    def window(self, device, space, create=True):
        w = self.windows.get((device, space))
        if w is None and create and len(self.windows) < self.max_devices:
            w = self.windows[(device, space)] = ReplayWindow()
        return w

    def offer(self, gateway, msg, mid=None):
        """Take one copy. -> verdict: "new", "joined" (the copy belongs to the returned entry's mids),
        or a reason it is settled at once: late-copy, stale, redelivered, conflict,
        gateway-id-conflict, window-full, bad-copy (counted)."""
        msg = valid_copy(msg)
        if msg is None or gateway == "network":
            return self._count("bad-copy")
        ts = msg.get("ts")
        if isinstance(ts, (int, float)) and not isinstance(ts, bool) and abs(ts - self.wall()) > CLOCK_OFF_S:
            self.counts["clock-off"] += 1
        space = "sigfox" if msg["radio"] == "sigfox" else ""
        key = (msg["device"], space, msg["counter"])
        entry = self.pending.get(key)
        if entry is not None:
            return self._join(entry, gateway, msg, mid)
        if key in self.held:
            return self._late(self.held[key], gateway, msg)
        w = self.window(msg["device"], space)
        if w is None:
            return self._count("window-full")
        state = w.state(msg["counter"])
        if state != "new":
            return self._count("late-copy" if state == "published" else "stale")
        if len(self.pending) + len(self.held) >= self.max_entries:
            return self._count("window-full")
        body = {k: v for k, v in msg.items() if k not in GATEWAY_FIELDS}
        entry = self.pending[key] = Entry(key, fingerprint(msg), body, self.clock())
        self._add(entry, gateway, msg, mid)
        self.counts["copies"] += 1
        return "new"

    def _join(self, entry, gateway, msg, mid):
        if fingerprint(msg) != entry.fp:
            return self._count("conflict")
        have = entry.copies.get(gateway)
        if have is not None:
            return self._count("redelivered" if have["rx"] == msg.get("rx") else "gateway-id-conflict")
        self._add(entry, gateway, msg, mid)
        self.counts["copies"] += 1
        return "joined"

    def _late(self, entry, gateway, msg):
        if fingerprint(msg) != entry.fp:
            return self._count("conflict")
        have = entry.copies.get(gateway)
        if have is not None:
            return self._count("redelivered" if have["rx"] == msg.get("rx") else "gateway-id-conflict")
        return self._count("late-copy")

    @staticmethod
    def _add(entry, gateway, msg, mid):
        entry.copies[gateway] = {"gateway": gateway, "rx": msg.get("rx"), "source": msg.get("source"),
                                 "ts": msg.get("ts")}
        if mid is not None:
            entry.mids.append(mid)

    def _count(self, reason):
        self.counts[reason] += 1
        return reason

    def due(self, owns):
        """Close the entries whose window is over. -> (to publish: owned by us, newly held: not ours)."""
        now = self.clock()
        publish, held = [], []
        while self.pending:
            entry = next(iter(self.pending.values()))
            if now - entry.first < self.window_s:
                break
            del self.pending[entry.key]
            if self.window(entry.device, entry.space).state(entry.counter) != "new":
                self.counts["seen-elsewhere"] += 1
                held.append(entry)  # published by another instance meanwhile: settled
                continue
            if owns(entry.device):
                publish.append(entry)
            else:
                entry.until = now + self.hold_s
                self.held[entry.key] = entry
                held.append(entry)
        return publish, held

    def takeover(self, owns):
        """After a membership change (or to expire): held entries that are now ours and unpublished."""
        now = self.clock()
        out = []
        for key in list(self.held):
            entry = self.held[key]
            w = self.window(entry.device, entry.space)
            if w.state(entry.counter) != "new":
                del self.held[key]
            elif owns(entry.device):
                del self.held[key]
                self.counts["takeover"] += 1
                out.append(entry)
            elif entry.until <= now:
                del self.held[key]
                self.counts["held-expired"] += 1
        return out

    def published(self, entry):
        """We published `entry` (its PUBACK is pending): mark it so nothing publishes it again."""
        self.window(entry.device, entry.space).mark(entry.counter)
        self.latest[entry.device] = (entry.body.get("kind"), entry.gateways())
        self.counts["published"] += 1

    def learn_uplink(self, msg):
        """A network message (ours or another instance's): mark it and remember who heard it best."""
        msg = valid_copy(msg)
        if msg is None or not isinstance(msg.get("gateways"), list):
            return
        space = "sigfox" if msg["radio"] == "sigfox" else ""
        w = self.window(msg["device"], space)
        if w is not None:
            w.mark(msg["counter"])
            gws = [g for g in msg["gateways"] if isinstance(g, dict) and isinstance(g.get("gateway"), str)]
            self.latest[msg["device"]] = (msg["kind"], gws)
            self.held.pop((msg["device"], space, msg["counter"]), None)

    def learn_state(self, device, state):
        """A retained `_state` message: fold in its windows and its downlink counter."""
        spaces = state.get("spaces") if isinstance(state, dict) else None
        if not isinstance(spaces, dict):
            return False
        for space, value in spaces.items():
            if space not in ("", "sigfox"):
                continue
            w = self.window(device, space)
            if w is not None:
                loaded = ReplayWindow.load(value)
                w.merge(loaded.last, loaded.mask)
        down = state.get("down")
        if isinstance(down, int) and not isinstance(down, bool) and 0 <= down <= 0xFFFFFFFF:
            self.down[device] = max(self.down.get(device, 0), down)
        return True

    def state_of(self, device):
        """The retained `_state` payload for `device` (counters only, no readings)."""
        spaces = {}
        for space in ("", "sigfox"):
            w = self.windows.get((device, space))
            if w is not None and w.last >= 0:
                spaces[space] = w.dump()
        return {"spaces": spaces, "down": self.down.get(device, 0)}
