"""The pipeline: raw frame in, durable MQTT messages out.

`Pipeline.ingest()` is what every source calls. It decodes (MIC with the device key, fragments,
CBOR, units - all in `lpwa.gateway.frames.FrameDecoder`), rejects replayed or stale counters and
de-duplicates the same frame heard twice (`lpwa.gateway.counters`), applies consent, builds the
messages (`lpwa.gateway.messages`) and commits them to the store (`lpwa.gateway.store`) BEFORE it
returns, so a source may acknowledge the frame as soon as it has its Outcome. A downlink waiting
for the device rides on the same transaction (`lpwa.gateway.downlinks`). Every rejection is counted
by reason and logged with the device and the reason (rate limited per device and reason so a flood
cannot fill the disk); keys never reach a log line.
"""

import collections
import json
import logging
import os
import time

from lpwa.gateway import consent as consent_mod
from lpwa.gateway import counters
from lpwa.gateway import positions
from lpwa.gateway.consent_sync import ConsentSync
from lpwa.gateway.downlinks import Downlinks
from lpwa.gateway.frames import FrameDecoder
from lpwa.gateway.messages import Messages, encode, iso_time
from lpwa.gateway.state import DeviceState
from lpwa.gateway.store import Store

log = logging.getLogger("lpwa.gateway.pipeline")

LOG_EVERY_S = 10.0  # after the first, one line per (device, reason) per this many seconds
FRAGMENT_PURGE_S = 60  # how often old fragment copies are deleted


class Outcome:
    """What ingest() did with one raw frame (see the gateway-internal contract)."""

    __slots__ = ("accepted", "reason", "messages", "downlink", "held")

    def __init__(self, accepted, reason=None, messages=0, downlink=None, held=False):
        self.accepted = accepted
        self.held = held  # a fragment kept for reassembly: acknowledged, not (yet) a message
        self.reason = reason
        self.messages = messages
        self.downlink = downlink

    def __repr__(self):
        return "Outcome(accepted=%r, reason=%r, messages=%r, downlink=%r)" % (
            self.accepted, self.reason, self.messages, self.downlink)


class Pipeline:
    def __init__(self, config, queue=None, decoder=None, consent=None, clock=time.time):
        self.config = config
        self.gateway_id = config["gateway"]["id"]
        self.clock = clock
        self._keys = {d["id"]: bytes.fromhex(d["key"]) for d in config["devices"]}
        self._devices = {d["id"]: d for d in config["devices"]}
        if queue is None:
            q = config["queue"]
            queue = Store(os.path.join(config["gateway"]["state_dir"], "queue.sqlite3"), q["max_frames"],
                          q["synchronous"])
        self.queue = queue
        self.state = DeviceState(queue)
        self.consent = consent if consent is not None else consent_mod.Consent(
            config["devices"], config["consent"]["file"])
        self.consent.on_withdraw.append(self._purge_personal)
        self._pending = {}  # the open transaction's accepted counters (see lpwa.gateway.counters)
        # The decoder rebuilds the counter's high 16 bits from the last counter we accepted (the
        # store's state, or this transaction's): it keeps no copy of its own.
        self.decoder = decoder if decoder is not None else FrameDecoder(self.key_for, last_counter=self._last_counter,
                                                                        reference=self._last_counter)
        self.messages_out = Messages(config)
        self.rejections = collections.Counter()
        self.downlinks = Downlinks(queue, self.state, self._keys, self._devices, self.rejections, clock)
        self.consent_sync = ConsentSync(self.downlinks, self.state, self._keys, self._devices)
        self.consent.on_change.append(self.consent_sync.changed)
        self.consent.on_change.append(self._consent_notice)
        self.withdrawals = {}  # device -> what its last withdrawal could and could not recall (status)
        self._fragments_purged = 0.0
        self._restore_fragments()
        self.lock = queue.lock  # one lock for decoder, state and writer connection
        self.sources = collections.defaultdict(lambda: {"received": 0, "accepted": 0, "rejected": 0})
        self.accepted = 0
        self.messages = 0
        self.consent_purged = 0
        self.rejected_unknown = 0
        self.fragments_held = collections.Counter()  # per source: acknowledged, held for reassembly
        self._log_times = {}
        self.on_enqueue = []  # callables() run after a commit that added rows (wakes the sink)
        self._full_logged = False
        self.observer = None  # lpwa.gateway.metrics.Observer: told of each message after its commit
        self._observed = []

    def key_for(self, device_hex):
        """Key lookup for the decoder; the key never leaves the pipeline."""
        return self._keys.get(device_hex)

    def _last_counter(self, device):
        p = self._pending.get(device)
        return p[0] if p else self.state.last_counter(device)

    def queue_downlink(self, device, command, kind=None):
        """For the MQTT sink: see lpwa.gateway.downlinks.Downlinks.queue."""
        return self.downlinks.queue(device, command, kind)

    # -- ingest --------------------------------------------------------------------------------

    def ingest(self, radio, raw, meta, source):
        """Decode, check and durably queue one raw frame; returns an Outcome (never raises for bad input)."""
        return self.ingest_batch(((radio, raw, meta, source),))[0]

    def ingest_batch(self, frames):
        """ingest() for many frames (radio, raw, meta, source) in ONE SQLite transaction."""
        now = self.clock()
        with self.lock:
            self._observed = []
            self._pending = pending = {}  # device -> (counter, digests, radio, kind, source) applied after COMMIT
            try:
                outcomes = self._write(frames, pending, now)
            except Exception as e:  # storage failure: nothing of this batch is accepted
                log.error("queue write failed", extra={"event": "store-error", "error": str(e)})
                self.downlinks.reload()
                outcomes = None
            finally:
                self._pending = {}
            if outcomes is None:
                for radio, raw, meta, source in frames:
                    self._count_reject(source, "store-error", None)
                return [Outcome(False, "store-error") for _ in frames]
            self._committed(frames, pending, outcomes, now)
            if self.observer is not None:
                for seen in self._observed:
                    self.observer.uplink(*seen)
        if any(o.messages for o in outcomes):
            for hook in self.on_enqueue:
                hook()
        return outcomes

    def _write(self, frames, pending, now):
        """The transaction: every frame's rows, then each device's last counter."""
        outcomes = []
        with self.queue.transaction() as batch:
            self.messages_out.now_text = iso_time(now)
            for radio, raw, meta, source in frames:
                outcomes.append(self._one(batch, pending, radio, raw, meta or {}, source, now))
            for skey, (counter, _d, radio, _k, _s) in pending.items():
                batch.save_counter(skey, counter, now, radio)
        return outcomes

    def _committed(self, frames, pending, outcomes, now):
        """After COMMIT: the in-memory state and counters catch up with the file."""
        for device, (counter, digest, radio, kind, source) in pending.items():
            d = self.state.get(device)
            d["counter"], d["last_seen"], d["radio"] = counter, now, radio
            d["kind"], d["source"] = kind, source
            for c, dg in digest:
                self.state.remember(device, c, dg)
            if self._full_logged and self.queue.room() > 0:
                self._full_logged = False
        for (_r, _raw, _m, source), outcome in zip(frames, outcomes):
            s = self.sources[source]
            s["received"] += 1
            if outcome.held:
                self.fragments_held[source] += 1
            elif outcome.accepted:
                s["accepted"] += 1
                self.accepted += 1
                self.messages += outcome.messages
            if outcome.downlink is not None:
                self.downlinks.sent += 1

    def _one(self, batch, pending, radio, raw, meta, source, now):
        try:
            decoded = self.decoder.feed(bytes(raw), radio, meta)
        except Exception as e:  # FrameError (a ValueError with .reason) or a decoder bug: never crash
            return self._decode_failed(e, meta, source, raw)
        if not decoded:  # a fragment: the decoder holds it until the rest arrives, the store keeps a copy
            purge = now - self._fragments_purged > FRAGMENT_PURGE_S
            batch.add_fragment(radio, raw, encode(meta), now, purge)
            if purge:
                self._fragments_purged = now
            return Outcome(True, None, 0, held=True)
        accepted_msgs, reason, device = 0, None, None
        for msg in decoded:
            device = msg["device"]
            why = self._accept(batch, pending, msg, radio, meta, source, now)
            if why is None:
                accepted_msgs += 1
            else:
                reason = reason or why
        if device is not None and (accepted_msgs or reason == "no-consent"):
            self.consent_sync.retry(batch, device, now)
        downlink = self.downlinks.take(batch, device, radio, meta) if accepted_msgs or reason == "no-consent" \
            else None
        if accepted_msgs == 0 and reason is not None:
            return Outcome(False, reason, 0, downlink)  # a withdrawn node's frame still carries its consent command
        return Outcome(True, None, accepted_msgs, downlink)

    def _decode_failed(self, e, meta, source, raw=b""):
        reason = getattr(e, "reason", None) or "bad-frame"
        if not isinstance(e, ValueError):
            log.exception("decoder failed", extra={"event": "decoder-error", "source": source})
            reason = "decoder-error"
        device = getattr(e, "device", None) or meta.get("device")
        if not isinstance(device, str):  # meta is the radio's (or a replay file's): a list here failed the batch
            device = None
        if device is None and len(raw) >= 6 and (raw[0] >> 3) & 7 in (0, 1):
            device = bytes(raw[2:6]).hex()  # the claimed id, in the clear header (issue #13 point 8)
        self._count_reject(source, reason, device)
        return Outcome(False, reason)

    def _accept(self, batch, pending, msg, radio, meta, source, now):
        """Check and queue one decoded message -> None (queued) or the rejection reason."""
        device, kind = msg["device"], msg["kind"]
        digest = self.state.digest(msg.get("raw_hex") or "%s:%d" % (device, msg["counter"]))
        skey = counters.space(device, radio)
        last = counters.last_counter(self.state, pending, skey)
        counter, why = counters.verdict(self.state, pending, skey, radio, msg["counter"], digest)
        if why is None:
            self.consent_sync.observe(msg)  # authenticated and in order: what it says of the node's consent
            if not self.consent.allowed(device, kind):
                why = "no-consent"
        if why is not None:
            self._count_reject(source, why, device)
            if why == "no-consent":
                counters.advance(pending, skey, counter, digest, radio, kind, source)
                self._observed.append((device, radio, meta, msg.get("readings"), last, counter))
            return why
        rows = self.messages_out.rows(msg, radio, meta, source, now)
        if self.queue.depth + len(batch.rows) + len(rows) > self.queue.max_frames:
            self._queue_full(source, device)  # not stored: the counter does not move, the retry decodes
            return "queue-full"
        for row in rows:
            batch.add(*row)
        counters.advance(pending, skey, counter, digest, radio, kind, source)
        ref = positions.reference_update(msg)  # version 2: an accepted full frame is the new reference
        if ref is not None:
            counters.advance(pending, positions.key(device), ref, None, radio, kind, source)
        self.state.get(skey)["accepted"] += 1
        self._observed.append((device, radio, meta, msg.get("readings"), last, counter))
        return None

    def _restore_fragments(self):
        """After a restart, give the decoder back the fragments kept by the store, so a message whose
        first fragments arrived (and were acknowledged) before a crash still completes. Messages this
        rebuilds were already handled then: they are dropped here (the decoder keeps no counters, so
        nothing needs resetting)."""
        for radio, raw, meta, created in self.queue.recent_fragments(self.clock()):
            try:
                m = json.loads(meta)
                m["time"] = created  # the reassembler ages groups by this
                self.decoder.feed(bytes(raw), radio, m)
            except Exception:
                pass

    # -- consent -------------------------------------------------------------------------------

    def _purge_personal(self, device):
        """Withdrawal: delete what is still ours; say how many were already handed to the broker."""
        n, handed = self.queue.purge_personal(device)
        self.consent_purged += n
        self.withdrawals[device] = {"since": iso_time(self.clock()), "purged": n, "handed_to_broker": handed}
        if n or handed:
            log.warning("queued personal messages purged", extra={
                "event": "consent-purged", "device": device, "messages": n, "handed_to_broker": handed})

    def _consent_notice(self, device, granted):
        """Queue the retained consent notice (durable, published in order after what was handed)."""
        try:
            with self.lock, self.queue.transaction() as batch:
                batch.add(*self.messages_out.consent_notice(device, granted, self.clock()))
        except Exception as e:  # queue full or storage failure: logged, the withdrawal itself stands
            log.error("consent notice not queued", extra={"event": "consent-notice-failed", "device": device,
                                                          "error": type(e).__name__})
            return
        for hook in self.on_enqueue:
            hook()

    # -- rejections ----------------------------------------------------------------------------

    def count_rejection(self, source, reason, device=None):
        """For sources: input that could not even be parsed at the protocol level."""
        with self.lock:
            self.sources[source]["received"] += 1
            self._count_reject(source, reason, device)

    def _count_reject(self, source, reason, device):
        self.rejections[reason] += 1
        self.sources[source]["rejected"] += 1
        if device and device in self._keys:  # only configured devices: garbage ids must not grow state
            self.state.get(device)["rejected"] += 1
        elif device:
            self.rejected_unknown += 1  # claimed ids we have no key for: one bucket
        now = time.monotonic()
        key = (device, reason)
        seen = self._log_times.get(key)
        if seen is None or now - seen[0] >= LOG_EVERY_S:
            extra = {"event": "rejected", "device": device, "reason": reason, "source": source}
            if seen and seen[1]:
                extra["suppressed"] = seen[1]
            log.warning("frame rejected", extra=extra)
            self._log_times[key] = [now, 0]
            if len(self._log_times) > 10000:
                self._log_times.clear()
        else:
            seen[1] += 1

    def _queue_full(self, source, device):
        self.queue.full_events += 1
        self._count_reject(source, "queue-full", device)
        if not self._full_logged:
            self._full_logged = True
            log.error("queue full: refusing new frames", extra={
                "event": "queue-full", "depth": self.queue.depth, "max_frames": self.queue.max_frames})

    # -- status --------------------------------------------------------------------------------

    def status(self):
        with self.lock:  # the metrics thread asks while sources ingest
            return self._status()

    def _device_summary(self):
        """Every configured device (seen or not) plus any other the state knows, kind from the config."""
        out = self.state.summary()
        for dev, d in self._devices.items():
            entry = out.setdefault(dev, {"kind": None, "counter": None, "last_seen": None, "radio": None,
                                         "source": None, "accepted": 0, "rejected": 0})
            entry["kind"] = entry["kind"] or d["kind"]
            if d.get("name"):
                entry["name"] = d["name"]
        nodes = self.consent_sync.status()
        for dev, entry in out.items():
            if consent_mod.is_personal(entry["kind"]):
                entry["consent"] = "granted" if self.consent.allowed_personal(dev) else "withdrawn"
                if dev in nodes:
                    entry["consent_node"] = "%s (%d tries)" % (nodes[dev]["node"], nodes[dev]["tries"])
        return dict(sorted(out.items()))

    def _fragment_status(self):
        """Held (acknowledged) fragments, chunks waiting in memory, groups lost (counted, not silent)."""
        r = getattr(self.decoder, "reassembler", None)
        return {"held": sum(self.fragments_held.values()),
                "held_by_source": dict(sorted(self.fragments_held.items())),
                "pending": r.pending() if r is not None else 0,
                "lost": dict(r.lost) if r is not None else {}, "stored": self.queue.fragment_rows()}

    def _status(self):
        return {"accepted": self.accepted, "messages": self.messages,
                "rejections": dict(sorted(self.rejections.items())), "rejected_unknown_device": self.rejected_unknown,
                "sources": {k: dict(v) for k, v in sorted(self.sources.items())},
                "devices": self._device_summary(),
                "downlinks": {"queued": self.downlinks.queued, "sent": self.downlinks.sent,
                              "rejected": self.downlinks.rejected},
                "fragments": self._fragment_status(),
                "positions": {"unresolved": getattr(self.decoder, "unresolved", 0)},
                "consent": {"purged": self.consent_purged, "reloads": self.consent.reloads,
                            "withdrawals": dict(sorted(self.withdrawals.items())),
                            "nodes": self.consent_sync.status()},
                "budgets": self.downlinks.budget_status(),
                "queue": {"depth": self.queue.depth, "max_frames": self.queue.max_frames,
                          "oldest_age_s": self.queue.oldest_age(),
                          "full": self.queue.depth >= self.queue.max_frames,
                          "full_events": self.queue.full_events, "enqueued": self.queue.enqueued,
                          "published": self.queue.deleted, "dead": self.queue.dead}}
