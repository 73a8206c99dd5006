"""Per-device state: the last accepted frame counter (persisted), recent frames for de-duplication,
and the counters `lpwa gateway status` shows.

A frame whose counter is not above the last accepted one is either the same frame heard twice
(two forwarders, or a retransmission: "duplicate") or an old frame played back ("replayed"). The
difference matters to an operator, so recent (device, counter, frame digest) triples are remembered.
Counters live in the store's SQLite file (`lpwa.gateway.store`) and are written in the same
transaction as the messages; this module keeps their in-memory view and writes no SQL itself.
"""

import collections

RECENT = 4096  # remembered (device, counter) pairs for telling duplicates from replays


class DeviceState:
    def __init__(self, store):
        self.store = store
        self.devices = {}  # device -> dict(counter, last_seen, radio, down_counter, accepted, rejected, kind)
        self._recent = collections.OrderedDict()
        for device, counter, last_seen, radio, down in store.device_rows():
            self.devices[device] = self._new(counter, last_seen, radio, down)

    @staticmethod
    def _new(counter=-1, last_seen=0.0, radio="", down=0):
        return {"counter": counter, "last_seen": last_seen, "radio": radio, "down_counter": down,
                "accepted": 0, "rejected": 0, "kind": None, "source": None}

    def last_counter(self, device):
        """The last accepted counter of `device`, or None: what the decoder rebuilds high bits from."""
        d = self.devices.get(device)
        return d["counter"] if d is not None and d["counter"] >= 0 else None

    def get(self, device):
        d = self.devices.get(device)
        if d is None:
            d = self.devices[device] = self._new()
        return d

    @staticmethod
    def digest(raw_hex):
        """A frame's fingerprint for telling duplicates from replays. Python's own string hash
        (SipHash, keyed per process) is enough: fingerprints live in memory only, and a forged
        collision would need the MIC key anyway."""
        return hash(raw_hex)

    def check(self, device, counter, digest):
        """None if `counter` is new for `device`, else "duplicate" or "replayed"."""
        d = self.devices.get(device)
        if d is None or counter > d["counter"]:
            return None
        if self._recent.get((device, counter)) == digest:
            return "duplicate"
        return "replayed"

    def remember(self, device, counter, digest):
        recent = self._recent
        recent[(device, counter)] = digest
        if len(recent) > RECENT:
            recent.popitem(last=False)

    def next_down_counter(self, batch, device):
        """The next downlink counter of `device`, persisted inside the caller's transaction."""
        d = self.get(device)
        d["down_counter"] += 1
        batch.save_down_counter(device, d["down_counter"])
        return d["down_counter"]

    def summary(self):
        """Per-device view for status output (no keys here: state never holds them)."""
        out = {}
        for key, d in sorted(self.devices.items()):
            dev, _, space = key.partition("/")  # "0a1b2c3d/sigfox": the Sigfox sequence-number space
            o = out.get(dev)
            if o is None:
                o = out[dev] = {"kind": None, "counter": None, "last_seen": None, "radio": None, "source": None,
                                "accepted": 0, "rejected": 0}
            if space == "ref":  # a version 2 position reference (lpwa.gateway.positions), not a counter
                continue
            if space:
                o["sigfox_seq"] = d["counter"] % 4096 if d["counter"] >= 0 else None
            elif d["counter"] >= 0:
                o["counter"] = d["counter"]
            o["accepted"] += d["accepted"]
            o["rejected"] += d["rejected"]
            if (d["last_seen"] or 0) >= (o["last_seen"] or 0) and d["last_seen"]:
                o["last_seen"], o["radio"], o["source"] = d["last_seen"], d["radio"] or None, d["source"]
            o["kind"] = o["kind"] or d["kind"]
        return out
