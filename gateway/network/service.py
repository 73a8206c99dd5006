"""`lpwa network run`: one instance of the merging role, on the broker the gateways use.

One thread drives paho's loop and the merge, so no state is shared between threads. Copies are
acknowledged by hand (paho's manual_ack): a copy is acknowledged only when its frame is published
(PUBACKed), settled as a duplicate, or held as a backup for another owner; with a persistent
session an instance killed mid-window gets its unacknowledged copies again after a restart.
"""

import json
import logging
import os
import threading
import time
import urllib.parse

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from lpwa.gateway.network import downlinks
from lpwa.gateway.network.members import Members
from lpwa.gateway.network.merge import Merger
from lpwa.gateway.network.topics import Topics

log = logging.getLogger("lpwa.network")
SESSION_EXPIRY_S = 3600
MAX_DEFERRED = 1000  # commands taken before the start-up sync


def _json(data):
    return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


class NetworkService:
    def __init__(self, url, prefix="lpwa", instance="network-1", window_s=0.2, keepalive=5,
                 username=None, password=None, grace_s=None):
        u = urllib.parse.urlparse(url)
        if u.scheme != "mqtt" or not u.hostname:
            raise ValueError("broker URL must be mqtt://host:port")
        self.host, self.port = u.hostname, u.port or 1883
        self.instance = instance
        self.topics = Topics(prefix)
        self.keepalive = keepalive
        self.merger = Merger(window_s=window_s)
        self.members = Members(instance) if grace_s is None else Members(instance, grace_s)
        self.gateways_online = {}
        self.synced = False
        self._nonce = None
        self._acks = {}  # our publish mid -> copy mids to acknowledge on its PUBACK
        self._deferred = []
        self._stop = threading.Event()
        self.client = self._make_client(username, password)
        self.cmd_client = self._make_cmd_client(username, password)
        self.counts = self.merger.counts

    def _make_client(self, username, password):
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-net-" + self.instance,
                        protocol=paho.MQTTv5, manual_ack=True)
        if username:
            c.username_pw_set(username, password)
        c.will_set(self.topics.members + self.instance, _json({"state": "offline"}), qos=1, retain=True)
        c.on_connect, c.on_disconnect = self._on_connect, self._on_disconnect
        c.on_message, c.on_publish = self._on_message, self._on_publish
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        return c

    def _make_cmd_client(self, username, password):
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-net-%s-cmd" % self.instance,
                        protocol=paho.MQTTv5, manual_ack=True)
        if username:
            c.username_pw_set(username, password)
        c.on_connect = lambda client, u, f, rc, p: None if rc.is_failure else client.subscribe([self.topics.commands])
        c.on_message = self._on_command
        return c

    def _on_command(self, client, userdata, message):
        what, fields = self.topics.parse(message.topic)
        try:
            settled = what != "down" or self._command(fields, message)
        except Exception:
            log.exception("command handling failed", extra={"event": "network-error", "topic": message.topic})
            settled = True
        if settled and message.qos:
            client.ack(message.mid, message.qos)

    # -- connection ------------------------------------------------------------------------------

    def _connect(self):
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = 65535
        self.client.connect(self.host, self.port, keepalive=self.keepalive, clean_start=False, properties=props)
        if not self.cmd_client.is_connected():
            self.cmd_client.connect(self.host, self.port, keepalive=self.keepalive, clean_start=True)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker refused the connection", extra={"event": "connect-failed", "reason": str(reason_code)})
            return
        self.synced = False
        self._nonce = os.urandom(6).hex()
        subs = [(t, SubscribeOptions(qos=1, noLocal=no_local)) for t, no_local in self.topics.subscriptions]
        client.subscribe(subs + [(self.topics.sync + self.instance + "/+", SubscribeOptions(qos=1))])
        # delivered after every retained message of the subscriptions above: the start-up barrier
        client.publish(self.topics.sync + self.instance + "/" + self._nonce, b"", qos=1)
        log.info("connected", extra={"event": "connected", "instance": self.instance})

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.synced = False
        log.warning("broker connection lost", extra={"event": "disconnected", "reason": str(reason_code)})

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        for copy_mid in self._acks.pop(mid, ()):
            if isinstance(copy_mid, tuple):
                self.cmd_client.ack(copy_mid[1], 1)
            else:
                client.ack(copy_mid, 1)

    # -- incoming ----------------------------------------------------------------------------------

    def _on_message(self, client, userdata, message):
        try:
            settled = self._dispatch(message)
        except Exception:  # a bug on one message must not stop the network
            log.exception("message handling failed", extra={"event": "network-error", "topic": message.topic})
            settled = True
        if settled and message.qos:
            client.ack(message.mid, message.qos)

    def _dispatch(self, message):
        """-> True when the message is settled now (acknowledge it), False when an entry keeps it."""
        what, fields = self.topics.parse(message.topic)
        if what is None:
            return True
        if what == "sync":
            if fields == (self.instance, self._nonce):
                self._synced()
            return True
        try:
            body = json.loads(message.payload) if message.payload else None
        except (ValueError, UnicodeDecodeError):
            self.counts["bad-copy" if what == "up" else "bad-message"] += 1
            return True
        if what == "up":
            return self._uplink(fields, body, message)
        if what == "down":
            return self._command(fields, message)
        if what == "member":
            self.members.update(fields, isinstance(body, dict) and body.get("state") == "online",
                                initial=not self.synced)
        elif what == "state" and body is not None:
            self._learn_state(fields, body)
        elif what == "status":
            self.gateways_online[fields] = isinstance(body, dict) and body.get("state") == "online"
        return True

    def _learn_state(self, device, body):
        try:
            self.merger.learn_state(device, body)
        except (ValueError, TypeError):
            self.counts["bad-state"] += 1
            return
        if isinstance(body.get("routed"), str):
            self.merger.routed[device] = body["routed"]
        best = body.get("best")
        if device not in self.merger.latest and isinstance(best, list) and isinstance(body.get("kind"), str):
            self.merger.latest[device] = (body["kind"], [{"gateway": g} for g in best if isinstance(g, str)])

    def _uplink(self, fields, body, message):
        gateway, _kind, _device = fields
        if gateway == "network":
            self.merger.learn_uplink(body)
            return True
        if message.retain:  # a retained copy is not a fresh uplink (and would be published again)
            self.counts["bad-copy"] += 1
            return True
        verdict = self.merger.offer(gateway, body, mid=message.mid if message.qos else None)
        return verdict not in ("new", "joined")

    def _synced(self):
        self.synced = True
        self.client.publish(self.topics.members + self.instance, _json({"state": "online", "ts": time.time()}),
                            qos=1, retain=True)
        deferred, self._deferred = self._deferred, []
        for fields, message in deferred:
            if self._command(fields, message):
                self.cmd_client.ack(message.mid, message.qos)
        log.info("synced", extra={"event": "synced", "devices": len(self.merger.windows)})

    # -- downlinks ----------------------------------------------------------------------------------

    def _command(self, fields, message):
        kind, device = fields
        if not self.synced:  # the device's downlink counter may not be known yet
            if len(self._deferred) < MAX_DEFERRED:
                self._deferred.append((fields, message))
                return False
            return self._down_reject(device, "busy")
        cmd = downlinks.parse_command(message.payload)
        if isinstance(cmd, str):
            return self._down_reject(device, cmd)
        gateway = downlinks.choose_gateway(self.merger.latest.get(device), kind, self.gateways_online,
                                           self.merger.routed.get(device))
        if gateway in ("no-uplink", "wrong-kind", "no-gateway-online"):
            return self._down_reject(device, gateway)
        counter = downlinks.assign_counter(self.merger, device)
        if counter is None:
            return self._down_reject(device, "counter-exhausted")
        self._publish_state(device)  # the counter is consumed before the command leaves
        cmd["network_counter"] = counter
        self.merger.routed[device] = gateway
        info = self.client.publish(self.topics.gateway_down(gateway, kind, device), _json(cmd), qos=1)
        if message.qos:
            self._acks.setdefault(info.mid, []).append(("cmd", message.mid))
        self.counts["downlinks"] += 1
        log.info("downlink routed", extra={"event": "downlink-routed", "device": device, "gateway": gateway,
                                           "counter": counter, "cmd": cmd["cmd"]})
        return False if message.qos else True

    def _down_reject(self, device, reason):
        self.counts["downlink-" + reason] += 1
        log.warning("downlink rejected", extra={"event": "downlink-rejected", "device": device, "reason": reason})
        return True

    # -- outgoing ------------------------------------------------------------------------------------

    def _publish_state(self, device):
        state = self.merger.state_of(device)
        latest = self.merger.latest.get(device)
        if latest is not None:
            state["kind"] = latest[0]
            state["best"] = [g.get("gateway") for g in latest[1][:4]]
        if device in self.merger.routed:
            state["routed"] = self.merger.routed[device]
        state["by"], state["ts"] = self.instance, round(time.time(), 3)
        self.client.publish(self.topics.state + device, _json(state), qos=1, retain=True)

    def _publish(self, entry):
        now = time.time()
        body = dict(entry.body)
        body["gateways"] = entry.gateways()
        body["network"] = self.instance
        body["time"], body["ts"] = iso(now), round(now, 3)
        self.merger.published(entry)
        try:
            payload = _json(body)
        except ValueError:  # NaN in a gateway's rx meta (the gateway writes null, but never trust it)
            payload = json.dumps(body, separators=(",", ":")).replace("NaN", "null").encode()
        info = self.client.publish(self.topics.network_up(body.get("kind"), entry.device), payload, qos=1)
        self._publish_state(entry.device)
        if entry.mids:
            self._acks.setdefault(info.mid, []).extend(entry.mids)

    def tick(self):
        """Close due windows, publish what we own, take over what a dead owner left."""
        if not self.synced:
            return
        changed = self.members.tick()
        publish, held = self.merger.due(self.members.owns)
        for entry in held:
            for mid in entry.mids:
                self.client.ack(mid, 1)
            entry.mids = []
        if changed or self._takeover_due():
            publish.extend(self.merger.takeover(self.members.owns))
        for entry in publish:
            self._publish(entry)

    def _takeover_due(self, period=1.0):
        now = time.monotonic()
        if now - getattr(self, "_last_takeover", 0.0) >= period:
            self._last_takeover = now
            return True
        return False

    # -- running -------------------------------------------------------------------------------------

    def run(self, stop=None, status_every=10.0):
        """Run until `stop` (an Event) is set or stop() is called; reconnects with back-off."""
        stop = stop or self._stop
        backoff, next_status, need_connect = 0.5, time.monotonic() + status_every, True
        while not stop.is_set():
            if need_connect:
                try:
                    self._connect()
                    need_connect = False
                except OSError as e:
                    log.warning("cannot reach the broker", extra={"event": "connect-failed", "error": str(e)})
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 10.0)
                    continue
            if self.cmd_client.loop(timeout=0.0) != paho.MQTT_ERR_SUCCESS:
                try:
                    self.cmd_client.reconnect()
                except OSError:
                    pass  # the main connection's back-off paces the retries
            if self.client.loop(timeout=0.02) != paho.MQTT_ERR_SUCCESS:
                need_connect = True
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if self.synced:
                backoff = 0.5
            self.tick()
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + status_every
                log.info("network status", extra={"event": "status", "counts": dict(self.counts),
                                                  "owners": self.members.eligible()})
        self._shutdown()

    def _shutdown(self):
        if self.client.is_connected():
            info = self.client.publish(self.topics.members + self.instance, _json({"state": "offline"}),
                                       qos=1, retain=True)
            deadline = time.monotonic() + 2.0
            while not info.is_published() and time.monotonic() < deadline:
                self.client.loop(timeout=0.05)
            self.client.disconnect()
        if self.cmd_client.is_connected():
            self.cmd_client.disconnect()

    def stop(self):
        self._stop.set()

    def status(self):
        return {"instance": self.instance, "synced": self.synced, "owners": self.members.eligible(),
                "pending": len(self.merger.pending), "held": len(self.merger.held), "counts": dict(self.counts)}
