"""MQTT sink: drains the durable queue into the broker with paho-mqtt 2.x, deleting a row only on its PUBACK.

One thread owns the paho client and drives its network loop itself (no `loop_start()` thread:
publishing, PUBACKs and reconnects all happen here, which saves a thread hand-off per message and
makes ordering simple). It reads rows in sequence order and hands at most `queue.max_inflight` of
them to paho at a time (back-pressure: the rest wait in SQLite, not in memory); acknowledged rows
are deleted in batches. After a reconnect paho re-sends its unacknowledged messages (DUP set)
inside the CONNACK handling, before this thread publishes anything new, so per-device order
holds. Delivery is at-least-once: a message whose PUBACK was lost in a crash is published again.
A broker that stops acknowledging is left after mqtt.puback_timeout (see _check_stall); personal
messages carry an MQTT 5 message expiry (mqtt.personal_expiry, see _personal_props).

Topics (prefix = `<topic_prefix>/<gateway id>`):
  <prefix>/status                       retained {"state": "online"|"offline", ...}; the last will says offline
                                        (see _status_payload: a will is fixed at connect time)
  <prefix>/<kind>/<device>/up           JSON uplinks (written by the pipeline)
  <prefix>/<kind>/<device>/raw          raw frame bytes (mqtt.raw_topic = true)
  <prefix>/consent/<device>             retained {"consent": "withdrawn"|"granted", "since": ...} (the pipeline)
  <prefix>/+/<device>/down              subscribed: JSON commands queued as downlinks
"""

import collections
import json
import logging
import random
import socket
import ssl
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from lpwa.gateway import config as config_mod

log = logging.getLogger("lpwa.gateway.mqtt")
BACKOFF_MIN_S = 0.2
BACKOFF_MAX_S = 30.0  # a refused login or a dead broker is retried at most this rarely


def set_tls(client, m):
    """paho's tls_set with the files of the [mqtt] section; a file that is missing or not a
    certificate/key is a ConfigError naming the key (no traceback, no file contents)."""
    try:
        client.tls_set(ca_certs=m["tls_ca"] or None, certfile=m["tls_cert"] or None,
                       keyfile=m["tls_key"] or None, cert_reqs=ssl.CERT_REQUIRED)
    except (OSError, ssl.SSLError, ValueError) as e:
        names = "/".join(k for k in ("tls_ca", "tls_cert", "tls_key") if m[k]) or "tls_ca"
        raise config_mod.ConfigError("mqtt.%s: cannot load for TLS (%s)" % (
            names, getattr(e, "strerror", None) or getattr(e, "reason", None) or type(e).__name__))


def check_tls(m):
    """Load the TLS files now (the sink process would only fail in its child)."""
    if config_mod.parse_url(m["url"])[2] or m["tls_ca"]:  # when MqttSink turns TLS on
        set_tls(paho.Client(CallbackAPIVersion.VERSION2), m)


class _Client(paho.Client):
    """paho's client with one fast path: a PUBACK that says plain success (just the packet id, or
    the id and reason code 0 without properties - what brokers send for almost every publish, in
    MQTT 5 as in 3.1.1) is handled without building a ReasonCode and a Properties object per
    message. Anything else (a failure reason code, properties, PUBCOMP) goes to paho's own code."""

    _SUCCESS = {}

    def _handle_pubackcomp(self, cmd):
        packet = self._in_packet["packet"]
        n = len(packet)
        if cmd == "PUBACK" and (n == 2 or (n in (3, 4) and not any(packet[2:]))):
            rc, props = _Client._SUCCESS.get(self._protocol) or self._success()
            mid = (packet[0] << 8) | packet[1]
            with self._out_message_mutex:
                if mid in self._out_messages:
                    return self._do_on_publish(mid, rc, props)
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return paho.Client._handle_pubackcomp(self, cmd)

    def _success(self):
        """The (reason code, properties) paho itself would pass for a plain PUBACK (shared)."""
        from paho.mqtt import _packet

        result = _packet.decode_puback(0x40, b"\x00\x01", self._protocol)
        _Client._SUCCESS[self._protocol] = (result.reason, result.properties)
        return result.reason, result.properties


def _fast_path_ok():
    """The fast path relies on paho 2.x internals; use plain paho when they are not there."""
    try:
        from paho.mqtt import _packet

        return all(hasattr(paho.Client, a) for a in ("_handle_pubackcomp", "_do_on_publish")) and \
            hasattr(_packet, "decode_puback")
    except ImportError:
        return False


CLIENT_CLASS = _Client if _fast_path_ok() else paho.Client


class MqttSink:
    def __init__(self, config, queue, consent=None, on_downlink=None, clock=time.time):
        self.config = config
        self.queue = queue
        self.consent = consent
        self.on_downlink = on_downlink  # callable(device_hex, command_dict, kind) -> None | reason
        self.clock = clock
        m = config["mqtt"]
        q = config["queue"]
        self.host, self.port, url_tls = config_mod.parse_url(m["url"])
        self.tls = url_tls or bool(m["tls_ca"])
        self.gateway_id = config["gateway"]["id"]
        self.prefix = "%s/%s" % (m["topic_prefix"], self.gateway_id)
        self.status_topic = self.prefix + "/status"
        self.max_inflight = q["max_inflight"]
        self.batch = q["batch"]
        self.client_id = m["client_id"] or "lpwa-" + self.gateway_id
        self.connected = False
        self.connects = 0
        self.disconnects = 0
        self.connect_attempts = self.connect_refused = 0
        self.refused_reason = None  # set while the broker refuses our CONNECT (status; one log line)
        self._backoff = BACKOFF_MIN_S
        self.published = 0
        self.refused = 0
        self.consent_dropped = 0
        self.expired = 0  # personal rows older than mqtt.personal_expiry: never published
        self.puback_timeout = m["puback_timeout"]
        self.personal_expiry = m["personal_expiry"] if m["protocol"] == 5 else 0
        self.stalls = 0
        self.stalled_reason = None  # set while the broker holds our publishes unacknowledged (status)
        self._progress = time.monotonic()  # the last PUBACK, CONNACK or connect attempt
        self.last_error = None
        self._acks = collections.deque()  # (mid, reason_code) from paho's thread
        self._inflight = {}  # mid -> (seq, device, personal, monotonic time handed to paho), oldest first
        self._cursor = 0
        self._flushed = 0.0
        self._stop = threading.Event()
        self._thread = None
        self._woken = False
        self.client = self._make_client(m)

    # -- paho setup ----------------------------------------------------------------------------

    def _make_client(self, m):
        protocol = paho.MQTTv5 if m["protocol"] == 5 else paho.MQTTv311
        kwargs = {"client_id": self.client_id, "protocol": protocol}
        if protocol == paho.MQTTv311:
            kwargs["clean_session"] = True
        c = CLIENT_CLASS(CallbackAPIVersion.VERSION2, **kwargs)
        if m["username"]:
            c.username_pw_set(m["username"], m["password"] or None)
        if self.tls:
            set_tls(c, m)
            if m["tls_insecure"]:
                c.tls_insecure_set(True)
        self._since = None
        # The window is ours (_feed never has more than max_inflight rows out); paho's own limit
        # would only add a walk over all its outgoing messages on every PUBACK (_update_inflight).
        c.max_inflight_messages_set(0)
        c.max_queued_messages_set(0)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.on_message = self._on_message
        c.enable_logger(logging.getLogger("lpwa.gateway.paho"))
        c.connect_timeout = 5.0
        return c

    def _status_payload(self, state, will=False):
        """The retained status. `since` is when the current connection began. The last will is handed
        to the broker in CONNECT and published unchanged when the connection dies, so it cannot know
        the time of death: it carries `since` (and `will: true`) but no `ts`; the death time is when a
        subscriber receives it. "online" and a clean "offline" carry `ts`, the time they were sent."""
        body = {"state": state, "gateway": self.gateway_id, "since": self._since}
        if will:
            body["will"] = True
        else:
            body["ts"] = self.clock()
        return json.dumps(body, separators=(",", ":"))

    def start(self):
        self._thread = threading.Thread(target=self._run, name="lpwa-mqtt", daemon=True)
        self._thread.start()
        log.info("mqtt sink started", extra={"event": "mqtt-start", "host": self.host, "port": self.port,
                                             "tls": self.tls, "client_id": self.client_id,
                                             "protocol": self.config["mqtt"]["protocol"]})

    def stop(self, timeout=10.0):
        """Publish the offline status, flush acknowledged deletes and disconnect (in the sink thread).
        The timeout covers a connect attempt in progress (5 s) plus the 2 s shutdown flush."""
        if self._thread is None:
            return
        self._stop.set()
        self.wake()
        self._thread.join(timeout)
        self._thread = None

    def wake(self):
        """Called by the pipeline after a commit that added rows: interrupt the sink's select()."""
        self._woken = True  # seen by the sink thread even while _feed() has the socket pair unplugged
        pair = getattr(self.client, "_sockpairW", None)  # what paho's own publish() uses from other threads
        if pair is not None:
            try:
                pair.send(b"\0")
            except OSError:
                pass

    # -- paho callbacks (run on the sink thread, inside client.loop()) --------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:  # e.g. a refused login: one line per episode, back-off keeps growing
            self.last_error = str(reason_code)
            self.connect_refused += 1
            if self.refused_reason is None:
                log.error("mqtt connect refused", extra={"event": "mqtt-refused", "reason": str(reason_code)})
            self.refused_reason = str(reason_code)
            return
        if self.refused_reason is not None:
            log.info("mqtt connect accepted again", extra={"event": "mqtt-refused-end",
                                                           "refusals": self.connect_refused})
        self.refused_reason = None
        self._backoff = BACKOFF_MIN_S
        self._progress = time.monotonic()
        self.connected = True
        self.connects += 1
        client.publish(self.status_topic, self._status_payload("online"), qos=1, retain=True)
        client.subscribe(self.prefix + "/+/+/down", qos=1)
        log.info("mqtt connected", extra={"event": "mqtt-connected", "host": self.host, "port": self.port,
                                          "session_present": bool(getattr(flags, "session_present", False))})

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        was = self.connected
        self.connected = False
        if was:
            self.disconnects += 1
            self.last_error = str(reason_code)
            # our own disconnect (stop) or a broker's "normal disconnection" is not a fault
            normal = self._stop.is_set() or not getattr(reason_code, "is_failure", True)
            (log.info if normal else log.warning)("mqtt disconnected", extra={
                "event": "mqtt-disconnected", "reason": str(reason_code), "inflight": len(self._inflight)})

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        self._acks.append((mid, reason_code))

    def _on_message(self, client, userdata, message):
        # <prefix>/<kind>/<device>/down: the kind level is checked against the device's kind
        parts = message.topic.split("/")
        device, kind = (parts[-2], parts[-3]) if len(parts) >= 3 else ("", "")
        if self.on_downlink is None:
            return
        try:
            command = json.loads(message.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            command = None
        try:
            self.on_downlink(device, command, kind)
        except Exception:
            log.exception("downlink handling failed", extra={"event": "downlink-error", "device": device})

    # -- the sink thread -----------------------------------------------------------------------

    def _back_off(self):
        """Exponential with full jitter; reset only by an accepted CONNACK, not by a TCP connect."""
        self._stop.wait(random.uniform(self._backoff / 2, self._backoff))
        self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)

    def _run(self):
        while not self._stop.is_set():
            try:
                if self.client.socket() is None:
                    if not self._connect():
                        self._back_off()
                        continue
                self._woken = False
                self._process_acks()
                self._feed()
                rc = self.client.loop(timeout=0.0 if self._woken else 0.5 if self._sockpair_ok() else 0.005)
                if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
                    self._check_stall()
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    if self.connected or not self.last_error:
                        self.last_error = paho.error_string(rc)
                    self.connected = False
                    self._back_off()
            except Exception as e:  # e.g. a transient SQLite error: log, back off, keep going
                self.last_error = str(e)
                log.exception("mqtt sink error", extra={"event": "sink-error"})
                self._stop.wait(0.5)
        self._shutdown()

    def _check_stall(self):
        """A hung broker keeps its TCP connection open: keep-alive notices it only after 1.5 periods, with
        the whole window stuck. When the oldest publish in flight has had no PUBACK (or our CONNECT no
        CONNACK) for mqtt.puback_timeout seconds, renew the connection; paho keeps the unacknowledged
        messages and re-sends them after the next CONNACK (at-least-once: their rows are still queued)."""
        if self.client.socket() is None or (self.connected and not self._inflight):
            return
        since = self._progress
        if self.connected:
            since = max(since, next(iter(self._inflight.values()))[3])
        waited = time.monotonic() - since
        if waited < self.puback_timeout:
            return
        reason = "no %s for %.0f s (%d in flight)" % ("PUBACK" if self.connected else "CONNACK", waited,
                                                       len(self._inflight))
        self.stalls += 1
        if self.stalled_reason is None:
            log.warning("mqtt broker stalled; renewing the connection", extra={
                "event": "mqtt-stalled", "reason": reason, "inflight": len(self._inflight)})
        self.stalled_reason = self.last_error = reason
        self._progress = time.monotonic()
        try:
            self.client.socket().shutdown(socket.SHUT_RDWR)  # paho's next read sees the loss and closes
        except OSError:
            pass

    def _sockpair_ok(self):
        return getattr(self.client, "_sockpairW", None) is not None

    def _connect(self):
        self.connect_attempts += 1
        self._progress = time.monotonic()  # the CONNACK is due within puback_timeout
        self._since = self.clock()  # the will of this connection says since when it was up
        self.client.will_set(self.status_topic, self._status_payload("offline", will=True), qos=1, retain=True)
        try:
            self.client.connect(self.host, self.port, keepalive=self.config["mqtt"]["keepalive"])
            return True
        except (OSError, ValueError) as e:  # refused, unreachable, TLS failure (ssl.SSLError is an OSError)
            error = "%s: %s" % (type(e).__name__, e)
            if error != self.last_error:
                log.warning("mqtt connect failed", extra={"event": "mqtt-connect-failed", "host": self.host,
                                                          "port": self.port, "error": error})
            self.last_error = error
            return False

    def _shutdown(self):
        try:
            if self.connected:
                info = self.client.publish(self.status_topic, self._status_payload("offline"), qos=1, retain=True)
                deadline = time.monotonic() + 2.0
                while not info.is_published() and self.client.socket() is not None and time.monotonic() < deadline:
                    self.client.loop(timeout=0.05)
                # let PUBACKs of rows in flight arrive, so they are deleted rather than re-sent next time
                while self._inflight and self.client.socket() is not None and time.monotonic() < deadline:
                    self.client.loop(timeout=0.05)
                    self._process_acks()
            self.client.disconnect()
            if self.client.socket() is not None:
                self.client.loop(timeout=0.05)
        except Exception:
            pass
        self.connected = False
        self._process_acks()
        self.queue.flush_acked(blocking=True)

    def _process_acks(self):
        done = []
        acks = self._acks
        while acks:
            mid, rc = acks.popleft()
            entry = self._inflight.pop(mid, None)
            if entry is None:
                continue  # e.g. the status message
            if rc is not None and getattr(rc, "is_failure", False):
                self.refused += 1
                log.error("broker refused a publish; moved to the dead table", extra={
                    "event": "publish-refused", "device": entry[1], "reason": str(rc), "seq": entry[0]})
                self.queue.bury(entry[0], str(rc))
            else:
                done.append(entry[0])
        if done:
            self.queue.ack(done)
            self.published += len(done)
            self._progress = time.monotonic()
            if self.stalled_reason is not None:
                log.info("mqtt broker acknowledging again", extra={"event": "mqtt-stalled-end", "stalls": self.stalls})
                self.stalled_reason = None
        # Deletes ride along with the pipeline's next transaction; when it is quiet, delete here
        # (a commit per 200 rows or 50 ms, or when nothing is in flight) if the writer is free.
        pending = self.queue.acked_pending()
        if pending and (pending >= 200 or not self._inflight or time.monotonic() - self._flushed > 0.05):
            if self.queue.flush_acked(blocking=False):
                self._flushed = time.monotonic()

    def _feed(self):
        if not self.connected:
            return
        # paho's publish() writes a byte to its socket pair on every call, to wake a loop thread
        # blocked in select(); the loop runs on this very thread, so that is a wasted system call
        # (and a wasted loop round) per message. Unplug the pair while we publish; a wake() from
        # the pipeline meanwhile sets _woken, and the next loop() does not block.
        pair = getattr(self.client, "_sockpairW", None)
        if pair is not None:
            self.client._sockpairW = None
        try:
            self._publish_rows()
        finally:
            if pair is not None:
                self.client._sockpairW = pair

    def _publish_rows(self):
        # (after a reconnect paho has already re-sent what it holds: that happens while it handles
        # the CONNACK, inside client.loop() on this thread)
        while self.connected and len(self._inflight) < self.max_inflight and not self._stop.is_set():
            room = self.max_inflight - len(self._inflight)
            rows = self.queue.read_after(self._cursor, min(room, self.batch))
            if not rows:
                return
            for seq, device, personal, topic, payload, qos, retain, created in rows:
                props = None
                if personal:
                    props = self._personal_props(device, created)
                    if props is False:
                        self.queue.ack([seq])  # deleted with the next write, never published
                        self._cursor = self.queue.handed = seq
                        continue
                info = self.client.publish(topic, payload, qos=qos, retain=bool(retain), properties=props)
                if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE or (qos == 0 and info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS):
                    return  # not taken by paho; this row is retried later (cursor not advanced)
                # QoS 1/2: paho keeps the message until its PUBACK, re-sending it after a reconnect;
                # QoS 0: on_publish fires once it is written to the socket.
                self._cursor = self.queue.handed = seq
                self._inflight[info.mid] = (seq, device, personal, time.monotonic())
            self._process_acks()

    def _personal_props(self, device, created):
        """False: not to be published (consent withdrawn, or older than mqtt.personal_expiry); else the
        PUBLISH properties: MQTT 5 message expiry, the rest of personal_expiry, so a broker holding it
        for a slow or offline subscriber drops it rather than delivering it much later."""
        if self.consent is not None and not self.consent.allowed_personal(device):
            self.consent_dropped += 1
            return False
        if not self.personal_expiry:
            return None
        left = int(created + self.personal_expiry - self.clock())
        if left <= 0:
            self.expired += 1
            return False
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = left
        return props

    # -- status --------------------------------------------------------------------------------

    def status(self):
        m = self.config["mqtt"]
        return {"connected": self.connected, "host": self.host, "port": self.port, "tls": self.tls,
                "protocol": m["protocol"], "qos": m["qos"], "client_id": self.client_id,
                "username": m["username"] or None, "inflight": len(self._inflight), "published": self.published,
                "refused": self.refused, "consent_dropped": self.consent_dropped, "connects": self.connects,
                "disconnects": self.disconnects, "last_error": self.last_error,
                "connect_attempts": self.connect_attempts, "connect_refused": self.connect_refused,
                "refused_reason": self.refused_reason, "backoff_s": round(self._backoff, 2),
                "expired": self.expired, "puback_timeout_s": self.puback_timeout, "stalls": self.stalls,
                "stalled_reason": self.stalled_reason, "handed_seq": self._cursor}
