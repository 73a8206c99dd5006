"""The demo's subscriber: a paho-mqtt client on the gateway's uplink topics, printing each message
as `topic {json}`, the way any MQTT consumer would see it."""

import asyncio
import contextlib
import json
import secrets

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from lpwa.gateway.config import ConfigError, parse_url
from lpwa.tools.demo.errors import DemoError


class Subscriber:
    """Subscribes to `topic` on the broker at `url`; print_until(n) prints the first n messages."""

    def __init__(self, url, topic, out):
        try:
            self.host, self.port, tls = parse_url(url)
        except ConfigError:
            raise DemoError("--broker %s: expected mqtt://host:port" % url)
        if tls:
            raise DemoError("the demo subscriber speaks plain MQTT; give an mqtt:// broker URL")
        self.topic = topic
        self.out = out
        self.messages = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-demo-sub-%s" % secrets.token_hex(3),
                                  protocol=paho.MQTTv311)
        self.loop = None
        self.queue = None

    async def start(self):
        self.loop = asyncio.get_running_loop()
        self.queue = asyncio.Queue()
        subscribed = asyncio.Event()
        self.client.on_message = lambda c, u, m: self.loop.call_soon_threadsafe(
            self.queue.put_nowait, (m.topic, m.payload))
        self.client.on_subscribe = lambda *a: self.loop.call_soon_threadsafe(subscribed.set)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(self.topic, qos=1)
        try:
            await asyncio.to_thread(self.client.connect, self.host, self.port, 30)
        except OSError as e:
            raise DemoError("cannot connect to the MQTT broker at %s:%d (%s)" % (self.host, self.port, e.strerror or e))
        self.client.loop_start()
        try:
            await asyncio.wait_for(subscribed.wait(), 10)
        except asyncio.TimeoutError:
            raise DemoError("the MQTT broker at %s:%d did not confirm the subscription" % (self.host, self.port))

    async def print_until(self, count):
        while len(self.messages) < count:
            topic, payload = await self.queue.get()
            self.messages.append((topic, payload))
            try:
                text = json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False)
            except ValueError:
                text = payload.hex()
            self.out.write("%s %s\n" % (topic, text))
            self.out.flush()

    def stop(self):
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()
