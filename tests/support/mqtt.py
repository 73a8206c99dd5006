"""The tests' one MQTT subscriber: a paho client that records what a real client sees."""

import json
import threading

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from support.waits import wait_for


class Subscriber:
    """Subscribed to `topic` (QoS 1), recording (topic, payload, retain) in arrival order.

    The constructor returns once the broker has confirmed the subscription, so nothing published
    after it is missed. `persistent_id` keeps a session the broker holds across its restart."""

    def __init__(self, broker, topic="#", tls_ca=None, port=None, username=None, password=None,
                 persistent_id=None, protocol=paho.MQTTv5):
        self.messages = []
        self.lock = threading.Lock()
        self.topic = topic
        self.subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, protocol=protocol, client_id=persistent_id or "")
        if tls_ca:
            self.client.tls_set(ca_certs=tls_ca)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self.topic, qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect_async(broker.host, port or broker.port, **_session(persistent_id, protocol))
        self.client.loop_start()
        wait_for(self.subscribed.is_set, 10, "subscriber connected and subscribed")

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def uplinks(self):
        """Decoded JSON of every .../up message, in arrival order."""
        return [m for _t, m in self.ups()]

    def ups(self):
        """(topic, decoded JSON) of every .../up message, in arrival order."""
        with self.lock:
            return [(t, json.loads(p)) for t, p, r in self.messages if t.endswith("/up")]

    def topics(self):
        with self.lock:
            return [t for t, p, r in self.messages]

    def publish(self, topic, obj):
        """Publish `obj` as JSON at QoS 1, as a dashboard or operator would."""
        self.client.publish(topic, json.dumps(obj), qos=1).wait_for_publish(5)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def _session(persistent_id, protocol):
    """connect() arguments for a session the broker keeps (MQTT 5, clean_start off)."""
    if not persistent_id or protocol != paho.MQTTv5:
        return {}
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    return {"clean_start": False, "properties": props}
