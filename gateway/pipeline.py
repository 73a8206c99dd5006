"""The pipeline: raw frame in, durable MQTT messages out.

`Pipeline.ingest()` is what every source calls. It decodes (MIC with the device key, fragments,
CBOR, units - all in `lpwa.gateway.frames.FrameDecoder`), rejects replayed or stale counters and
de-duplicates the same frame heard twice, applies consent, and commits the resulting messages to
the SQLite queue BEFORE it returns, so a source may acknowledge the frame as soon as it has its
Outcome. Every rejection is counted by reason and logged with the device and the reason (rate
limited per device and reason so a flood cannot fill the disk); keys never reach a log line.
"""

import collections
import datetime
import json
import logging
import time

from lpwa.gateway import consent as consent_mod
from lpwa.gateway.queue import Queue
from lpwa.gateway.state import DeviceState

log = logging.getLogger("lpwa.gateway.pipeline")

FRAGMENT_KEEP_S = 600  # fragments kept for a restart; the decoder's own fragment timeout
DOWNLINK_MAX = {"sigfox": 8, "lora": 51, "wisun": 1232}  # bytes; Sigfox downlinks are exactly 8
LOG_EVERY_S = 10.0  # after the first, one line per (device, reason) per this many seconds
HA_UNITS = {"degC": "°C", "percent": "%", "pct": "%", "bpm": "bpm", "m": "m", "mps": "m/s", "V": "V",
            "mV": "mV", "hPa": "hPa", "steps": "steps", "s": "s"}


class Outcome:
    """What ingest() did with one raw frame (see the gateway-internal contract)."""

    __slots__ = ("accepted", "reason", "messages", "downlink")

    def __init__(self, accepted, reason=None, messages=0, downlink=None):
        self.accepted = accepted
        self.reason = reason
        self.messages = messages
        self.downlink = downlink

    def __repr__(self):
        return "Outcome(accepted=%r, reason=%r, messages=%r, downlink=%r)" % (
            self.accepted, self.reason, self.messages, self.downlink)


class _MissingDecoder:
    """Stands in when lpwa.gateway.frames is not installed: every frame is rejected, counted, logged."""

    def feed(self, raw, radio, meta):
        err = ValueError("no frame decoder installed")
        err.reason = "no-decoder"
        raise err


def _default_decoder(key_for, counters):
    try:
        from lpwa.gateway.frames import FrameDecoder
    except ImportError as e:
        log.error("frame decoder missing; every frame will be rejected", extra={"event": "no-decoder",
                                                                               "error": str(e)})
        return _MissingDecoder()
    return FrameDecoder(key_for, counters=counters)


def _json_default(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default, check_circular=False,  # bodies are trees
                            allow_nan=False)


def _finite(value):
    """`value` with every NaN/Infinity float replaced by None: a forwarder's `"rssi": NaN` must not make
    the published message invalid JSON for strict parsers (JavaScript's JSON.parse, Go, ...)."""
    if isinstance(value, float):
        return value if value - value == 0 else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _no_negative_zero(meta):
    """rx metadata with -0.0 as 0.0: forwarders print `"lsnr": -0.0` for an SNR of -0.04 dB."""
    if not any(isinstance(v, float) and v == 0.0 for v in meta.values()):
        return meta
    return {k: (0.0 if isinstance(v, float) and v == 0.0 else v) for k, v in meta.items()}


def _encode(body):
    try:
        return _ENCODER.encode(body)
    except ValueError:  # a non-finite float somewhere (rare): the slow path
        return _ENCODER.encode(_finite(body))


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class _MemStore:
    """Byte store for a gateway-side duty-cycle Budget (kept in memory: a restart starts a fresh hour)."""

    def __init__(self):
        self.data = None

    def read(self):
        return self.data

    def write(self, data):
        self.data = bytes(data)


def sigfox_extend(seq, last):
    """A 12-bit Sigfox sequence number -> a monotonic counter near `last` (the previous extended one):
    up to 2047 ahead is new, anything else is old (so a replay stays a replay across the wrap)."""
    if last < 0:
        return seq
    delta = (seq - last) % 4096
    if 0 < delta < 2048:
        return last + delta
    return last - ((last - seq) % 4096)


class Pipeline:
    def __init__(self, config, queue=None, decoder=None, consent=None, clock=time.time):
        self.config = config
        self.gateway_id = config["gateway"]["id"]
        mqtt = config["mqtt"]
        self.prefix = "%s/%s" % (mqtt["topic_prefix"], self.gateway_id)
        self.qos = mqtt["qos"]
        self.raw_topic = mqtt["raw_topic"]
        self.ha_discovery = mqtt["ha_discovery"]
        self.ha_prefix = mqtt["ha_prefix"]
        self.clock = clock
        self._keys = {d["id"]: bytes.fromhex(d["key"]) for d in config["devices"]}
        self._devices = {d["id"]: d for d in config["devices"]}
        if queue is None:
            import os
            q = config["queue"]
            queue = Queue(os.path.join(config["gateway"]["state_dir"], "queue.sqlite3"), q["max_frames"],
                          q["synchronous"])
        self.queue = queue
        self.state = DeviceState(queue)
        self.consent = consent if consent is not None else consent_mod.Consent(
            config["devices"], config["consent"]["file"])
        self.consent.on_withdraw.append(self._purge_personal)
        # The decoder rebuilds the counter's high 16 bits from the last counter it saw; seed it from
        # the persisted state so that survives a restart (its own copy: our replay check needs ours).
        seed = {dev: d["counter"] for dev, d in self.state.devices.items()
                if ("/" not in dev or dev.endswith("/sigfox")) and d["counter"] >= 0}  # /sigfox: sealed frames' keystream
        self.decoder = decoder if decoder is not None else _default_decoder(self.key_for, seed)
        self._fragments_purged = 0.0
        self._restore_fragments(seed)
        self.lock = queue.lock  # one lock for decoder, state and writer connection
        self.rejections = collections.Counter()
        self.sources = collections.defaultdict(lambda: {"received": 0, "accepted": 0, "rejected": 0})
        self.accepted = 0
        self.messages = 0
        self.downlinks_sent = 0
        self.downlinks_queued = 0
        self.downlinks_rejected = 0
        self.consent_purged = 0
        self._log_times = {}
        self._ha_done = set()
        self._downlink_devices = queue.downlink_devices()
        self._budgets = {}
        self.on_enqueue = []  # callables() run after a commit that added rows (wakes the sink)
        self._full_logged = False
        self._now_text = ""
        self.observer = None  # lpwa.gateway.metrics.Observer: told of each message after its commit
        self._observed = []

    def key_for(self, device_hex):
        """Key lookup for the decoder; the key never leaves the pipeline."""
        return self._keys.get(device_hex)

    # -- ingest --------------------------------------------------------------------------------

    def ingest(self, radio, raw, meta, source):
        """Decode, check and durably queue one raw frame; returns an Outcome (never raises for bad input)."""
        return self.ingest_batch(((radio, raw, meta, source),))[0]

    def ingest_batch(self, frames):
        """ingest() for many frames (radio, raw, meta, source) in ONE SQLite transaction."""
        now = self.clock()
        outcomes = []
        committed = False
        with self.lock:
            pending = {}  # device -> (counter, digest, radio, kind, source) applied after COMMIT
            self._observed = []
            stats = []
            try:
                with self.queue.transaction() as batch:
                    self._now_text = iso_time(now)
                    for radio, raw, meta, source in frames:
                        outcome = self._one(batch, pending, radio, raw, meta or {}, source, now)
                        outcomes.append(outcome)
                        stats.append(source)
                    for skey, (counter, _d, radio, _k, _s) in pending.items():
                        self.state.save(batch.db, skey, counter, now, radio)
                committed = True
            except Exception as e:  # storage failure: nothing of this batch is accepted
                log.error("queue write failed", extra={"event": "store-error", "error": str(e)})
                for skey in pending:
                    if "/" not in skey:
                        self._rewind_decoder(skey, self.state.get(skey)["counter"])
                try:  # a downlink taken in the rolled-back transaction is still queued
                    self._downlink_devices = self.queue.downlink_devices()
                except Exception:
                    pass
                outcomes = [Outcome(False, "store-error") for _ in frames]
                for radio, raw, meta, source in frames:
                    self._count_reject(source, "store-error", None)
            if committed:
                for device, (counter, digest, radio, kind, source) in pending.items():
                    d = self.state.get(device)
                    d["counter"], d["last_seen"], d["radio"] = counter, now, radio
                    d["kind"], d["source"] = kind, source
                    for c, dg in digest:
                        self.state.remember(device, c, dg)
                    if self._full_logged and self.queue.room() > 0:
                        self._full_logged = False
                for source, outcome in zip(stats, outcomes):
                    s = self.sources[source]
                    s["received"] += 1
                    if outcome.accepted:
                        s["accepted"] += 1
                        self.accepted += 1
                        self.messages += outcome.messages
                    if outcome.downlink is not None:
                        self.downlinks_sent += 1
                if self.observer is not None:
                    for seen in self._observed:
                        self.observer.uplink(*seen)
        if committed and any(o.messages for o in outcomes):
            for hook in self.on_enqueue:
                hook()
        return outcomes

    def _one(self, batch, pending, radio, raw, meta, source, now):
        try:
            decoded = self.decoder.feed(bytes(raw), radio, meta)
        except Exception as e:  # FrameError (a ValueError with .reason) or a decoder bug: never crash
            reason = getattr(e, "reason", None) or "bad-frame"
            if not isinstance(e, ValueError):
                log.exception("decoder failed", extra={"event": "decoder-error", "source": source})
                reason = "decoder-error"
            device = getattr(e, "device", None) or meta.get("device")
            if not isinstance(device, str):  # meta is the radio's (or a replay file's): a list here failed the batch
                device = None
            self._count_reject(source, reason, device)
            return Outcome(False, reason)
        if not decoded:  # a fragment: the decoder holds it until the rest arrives, the queue keeps a copy
            batch.db.execute("INSERT INTO fragments (radio, raw, meta, created) VALUES (?, ?, ?, ?)",
                             (radio, bytes(raw), _encode(meta), now))
            if now - self._fragments_purged > 60:
                batch.db.execute("DELETE FROM fragments WHERE created < ?", (now - FRAGMENT_KEEP_S,))
                self._fragments_purged = now
            return Outcome(True, None, 0)
        accepted_msgs, reason, downlink, device = 0, None, None, None
        for msg in decoded:
            device = msg["device"]
            counter = msg["counter"]
            digest = self.state.digest(msg.get("raw_hex") or "%s:%d" % (device, counter))
            # Sigfox sequence numbers (12 bits, wrapping) are a counter space of their own.
            skey = device + "/sigfox" if radio == "sigfox" else device
            p = pending.get(skey)
            last = p[0] if p else self.state.get(skey)["counter"]
            sigfox_seq_ok = radio != "sigfox" or 0 <= counter <= 0xFFF
            if radio == "sigfox" and sigfox_seq_ok:
                counter = sigfox_extend(counter, last)
            why = None
            if not sigfox_seq_ok:
                # not the network's 12-bit sequence number: forged meta (it would overflow SQLite and fail
                # every other frame of its batch)
                why = "out-of-range"
            elif counter <= last:
                seen = (p and any(c == counter and dg == digest for c, dg in p[1])) or \
                    self.state.check(skey, counter, digest) == "duplicate"
                why = "duplicate" if seen else "replayed"
            elif not self.consent.allowed(device, msg["kind"]):
                why = "no-consent"
            if why is not None:
                reason = reason or why
                self._count_reject(source, why, device)
                if why == "no-consent":
                    self._advance(batch, pending, skey, counter, digest, radio, msg["kind"], source, now)
                    self._observed.append((device, radio, meta, msg.get("readings"), last, counter))
                continue
            rows = self._rows(msg, radio, meta, source, now)
            if self.queue.depth + len(batch.rows) + len(rows) > self.queue.max_frames:
                reason = reason or "queue-full"
                self._queue_full(source, device)
                self._rewind_decoder(device, last)  # not stored: the node's retry must still decode
                continue
            for row in rows:
                batch.add(*row)
            self._advance(batch, pending, skey, counter, digest, radio, msg["kind"], source, now)
            self.state.get(skey)["accepted"] += 1
            self._observed.append((device, radio, meta, msg.get("readings"), last, counter))
            accepted_msgs += 1
        if accepted_msgs and device in self._downlink_devices:
            downlink = self._take_downlink(batch, device, radio, meta)
        if accepted_msgs == 0 and reason is not None:
            return Outcome(False, reason)
        return Outcome(True, None, accepted_msgs, downlink)

    def _restore_fragments(self, seed):
        """After a restart, give the decoder back the fragments of the last FRAGMENT_KEEP_S seconds,
        so a message whose first fragments arrived (and were acknowledged) before a crash still
        completes. Messages this rebuilds were already handled then: they are dropped here."""
        now = self.clock()
        with self.queue.lock:
            rows = self.queue.db.execute("SELECT radio, raw, meta, created FROM fragments WHERE created >= ? "
                                         "ORDER BY id", (now - FRAGMENT_KEEP_S,)).fetchall()
        for radio, raw, meta, created in rows:
            try:
                m = json.loads(meta)
                m["time"] = created  # the reassembler ages groups by this
                self.decoder.feed(bytes(raw), radio, m)
            except Exception:
                pass
        counters = getattr(self.decoder, "counters", None)
        if rows and counters is not None:  # rebuilt messages must not move the decoder past our state
            counters.clear()
            counters.update(seed)

    def _rewind_decoder(self, device, last):
        """Give the decoder back the last counter we STORED for `device` (it advanced on decode)."""
        counters = getattr(self.decoder, "counters", None)
        if counters is not None and "/" not in device:
            if last is None or last < 0:
                counters.pop(device, None)
            else:
                counters[device] = last

    def _advance(self, batch, pending, device, counter, digest, radio, kind, source, now):
        """Note an accepted counter; written once per device at the end of the transaction."""
        p = pending.get(device)
        digests = (p[1] if p else []) + [(counter, digest)]
        pending[device] = (counter, digests, radio, kind, source)

    # -- messages ------------------------------------------------------------------------------

    def _rows(self, msg, radio, meta, source, now):
        device, kind = msg["device"], msg["kind"]
        personal = 1 if consent_mod.is_personal(kind) else 0
        base = "%s/%s/%s" % (self.prefix, kind, device)
        body = {k: v for k, v in msg.items() if k != "raw_hex"}
        body["gateway"] = self.gateway_id
        body["radio"] = radio
        body["source"] = source
        body["rx"] = _no_negative_zero(meta)
        body["time"] = self._now_text
        body["ts"] = now
        payload = _encode(body).encode()
        rows = [(device, personal, base + "/up", payload, self.qos, 0, now)]
        if self.raw_topic and msg.get("raw_hex"):
            rows.append((device, personal, base + "/raw", bytes.fromhex(msg["raw_hex"]), self.qos, 0, now))
        if self.ha_discovery:
            rows.extend(self._ha_rows(msg, base + "/up", personal, now))
        return rows

    def _ha_rows(self, msg, state_topic, personal, now):
        device, kind = msg["device"], msg["kind"]
        rows = []
        name = self._devices.get(device, {}).get("name") or "%s %s" % (kind, device)
        for field, reading in sorted((msg.get("readings") or {}).items()):
            if (device, field) in self._ha_done:
                continue
            self._ha_done.add((device, field))
            uid = "lpwa_%s_%s_%s" % (self.gateway_id, device, field)
            cfg = {"name": field.replace("_", " "), "unique_id": uid, "object_id": uid, "state_topic": state_topic,
                   "value_template": "{{ value_json.readings.%s.value }}" % field,
                   "availability_topic": self.prefix + "/status",
                   "availability_template": "{{ value_json.state }}",
                   "payload_available": "online", "payload_not_available": "offline",
                   "device": {"identifiers": ["lpwa_%s" % device], "name": name, "model": kind,
                              "manufacturer": "lpwa-edge"}}
            unit = reading.get("unit") if isinstance(reading, dict) else None
            if unit:
                cfg["unit_of_measurement"] = HA_UNITS.get(unit, unit)
            topic = "%s/sensor/lpwa_%s_%s/%s/config" % (self.ha_prefix, self.gateway_id, device, field)
            rows.append((device, personal, topic, json.dumps(cfg, separators=(",", ":")).encode(), 1, 1, now))
        return rows

    # -- downlinks -----------------------------------------------------------------------------

    def queue_downlink(self, device, command, kind=None):
        """Encode a command (dict, see lpwa.codecs.command) for `device` and queue it durably for its next
        receive window. `kind` (the topic's kind level) must be the device's kind, so an ACL on
        `.../drone-vital/+/down` cannot be used to command a buoy. Returns None on success or a
        reason string (counted and logged)."""
        key = self._keys.get(device)
        if key is None:
            return self._downlink_reject(device, "unknown-device")
        if kind is not None and kind != self._devices[device]["kind"]:
            return self._downlink_reject(device, "wrong-kind", "topic says %s" % kind)
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            return self._downlink_reject(device, "bad-command")
        try:
            from lpwa.codecs.command import encode_command
        except ImportError:
            return self._downlink_reject(device, "no-codec")
        with self.lock:
            try:
                with self.queue.transaction() as batch:
                    counter = self.state.next_down_counter(batch.db, device)
                    try:
                        data = encode_command(int(device, 16), key, counter, command)
                    except (ValueError, TypeError, KeyError, OverflowError) as e:  # OverflowError: int(inf)
                        raise _BadCommand(getattr(e, "reason", None) or str(e).split(":")[0][:40] or "bad-command")
                    batch.db.execute("INSERT INTO downlinks (device, payload, created) VALUES (?, ?, ?)",
                                     (device, bytes(data), self.clock()))
            except _BadCommand as e:
                self.state.get(device)["down_counter"] -= 1
                return self._downlink_reject(device, "bad-command", str(e))
            self._downlink_devices.add(device)
            self.downlinks_queued += 1
        log.info("downlink queued", extra={"event": "downlink-queued", "device": device, "cmd": command["cmd"],
                                           "bytes": len(data)})
        return None

    def _downlink_reject(self, device, reason, detail=None):
        self.downlinks_rejected += 1
        self.rejections["downlink-" + reason] += 1
        extra = {"event": "downlink-rejected", "device": device, "reason": reason}
        if detail:
            extra["detail"] = detail
        log.warning("downlink rejected", extra=extra)
        return reason

    def _take_downlink(self, batch, device, radio, meta):
        if radio == "sigfox" and meta.get("ack") is False:
            return None  # the device did not ask for a downlink on this uplink
        data = batch.take_downlink(device, DOWNLINK_MAX.get(radio))
        if data is None:
            return None
        verdict = self._budget(radio, meta, len(data))
        if verdict != "ok":
            # keep it for a later window (it goes to the back of this device's line): "never" means
            # too long for one transmission at this data rate; a faster uplink can still carry it
            batch.db.execute("INSERT INTO downlinks (device, payload, created) VALUES (?, ?, ?)",
                             (device, data, self.clock()))
            self.rejections["downlink-deferred-" + ("too-long" if verdict == "never" else "duty-cycle")] += 1
            return None
        if not batch.has_downlink(device):
            self._downlink_devices.discard(device)
        log.info("downlink taken", extra={"event": "downlink-sent", "device": device, "radio": radio,
                                          "bytes": len(data)})
        return data

    def _budget(self, radio, meta, length):
        """Gateway transmissions obey the same ARIB duty-cycle budget as nodes (lpwa.radio.budget).
        -> "ok" (charged), "wait" (not now) or "never" (too long for one transmission).
        Sigfox downlinks are sent by the Sigfox network, not by us."""
        if radio == "sigfox":
            return "ok"
        try:
            from lpwa.radio import airtime, budget
            b = self._budgets.get(radio)
            if b is None:
                b = self._budgets[radio] = budget.Budget(_MemStore(), budget.profile_for(radio))
            if radio == "lora":
                sf = 10
                datr = str(meta.get("datr") or "")
                if datr.startswith("SF") and "BW" in datr:
                    sf = datr[2:datr.index("BW")]
                    if not sf.isdigit() or not 5 <= int(sf) <= 12:
                        return "never"  # a data rate we cannot charge: keep it for an uplink with a sane one
                    sf = int(sf)
                us = airtime.lora_airtime_us(length, sf)
            else:
                us = airtime.wisun_airtime_us(length)
            now_ms = int(self.clock() * 1000)
            ok, wait_ms, _why = b.request(now_ms, us)
            if ok:
                b.record(now_ms, us)
                return "ok"
            return "never" if wait_ms < 0 else "wait"
        except ImportError:
            return "ok"
        except Exception:  # a budget bug must not stop uplinks
            log.exception("duty-cycle budget failed", extra={"event": "budget-error", "radio": radio})
            return "ok"

    # -- consent -------------------------------------------------------------------------------

    def _purge_personal(self, device):
        n = self.queue.purge_personal(device)
        self.consent_purged += n
        if n:
            log.warning("queued personal messages purged", extra={"event": "consent-purged", "device": device,
                                                                  "messages": n})

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
        return dict(sorted(out.items()))

    def _status(self):
        return {"accepted": self.accepted, "messages": self.messages,
                "rejections": dict(sorted(self.rejections.items())),
                "sources": {k: dict(v) for k, v in sorted(self.sources.items())},
                "devices": self._device_summary(),
                "downlinks": {"queued": self.downlinks_queued, "sent": self.downlinks_sent,
                              "rejected": self.downlinks_rejected},
                "consent": {"purged": self.consent_purged, "reloads": self.consent.reloads},
                "budgets": self._budget_status(),
                "queue": {"depth": self.queue.depth, "max_frames": self.queue.max_frames,
                          "oldest_age_s": self.queue.oldest_age(),
                          "full": self.queue.depth >= self.queue.max_frames,
                          "full_events": self.queue.full_events, "enqueued": self.queue.enqueued,
                          "published": self.queue.deleted, "dead": self.queue.dead}}


    def _budget_status(self):
        """The gateway's own duty-cycle use per radio (the budgets downlinks are charged to)."""
        now_ms = int(self.clock() * 1000)
        return {radio: b.status(now_ms) for radio, b in sorted(self._budgets.items())}


class _BadCommand(Exception):
    pass
