"""`lpwa demo`: the whole stack on one machine, with nothing to set up.

An MQTT broker (amqtt, in-process, on a free loopback port, unless --broker names a real one),
the real gateway service with three sources (Semtech UDP, a Wi-SUN dongle on a pseudo-terminal,
the Sigfox HTTP callback endpoint), and nine simulated nodes - a buoy, a drone-vital monitor and
a pedometer on each of LoRa, Sigfox and Wi-SUN - encoding plausible readings with the codec's
FrameEncoder exactly as the firmware does. A subscriber prints every message as it arrives. One
drone-vital frame is an alarm; one more pedometer has withdrawn its consent, so its frames are
verified and counted by the gateway but never published; and a command published on the first
buoy's .../down topic reaches it as a LoRa downlink in its receive window.

Everything runs in one asyncio loop; nothing is written outside a temporary state directory.
"""

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import time
import tty

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from lpwa.codecs.command import decode_command
from lpwa.codecs.frame import FrameEncoder
from lpwa.codecs.schema import KIND_NAMES as KINDS
from lpwa.radio import semtech_udp as sudp
from lpwa.radio import skstack
from lpwa.radio.limits import RADIOS

GATEWAY_ID = "demo"
FORWARDER_EUI = "b827ebfffe6c0de0"
DONGLE_IPV6 = "FE80:0000:0000:0000:021D:1290:0000:0001"
WISUN_PORT = 0x0E1A  # 3610, the ECHONET Lite port nodes commonly use
DEMO_COMMAND = {"cmd": "set-interval", "seconds": 600}
# Where the demo nodes are: Sagami Bay (buoys), and a disaster drill near Odawara (people).
BAY = (35.2631, 139.4512)
DRILL = (35.2564, 139.1556)


class DemoError(Exception):
    """A demo step failed; the message is what the user sees."""


def demo_key(device_hex):
    """Demo keys are derived from the device id so the demo needs no key file (never do this for real)."""
    return hashlib.sha256(b"lpwa-demo-key:" + device_hex.encode()).digest()[:16]


class Node:
    """A simulated node: one sensor kind on one radio, with its own frame counter."""

    def __init__(self, kind, radio, device_id, consent=True):
        self.kind = kind
        self.radio = radio
        self.device_id = device_id
        self.device = "%08x" % device_id
        self.key = demo_key(self.device)
        self.consent = consent
        self.encoder = FrameEncoder(kind, device_id, self.key, radio=radio)
        self.counter = 0
        self.seq = 0  # Sigfox sequence number, supplied by the Sigfox network
        self.steps_total = 1000 + device_id % 5000
        self.rng = random.Random(device_id)
        lat, lon = BAY if kind == "buoy" else DRILL
        self.lat = lat + self.rng.uniform(-0.01, 0.01)
        self.lon = lon + self.rng.uniform(-0.01, 0.01)

    @property
    def ipv6(self):
        return "FE80:0000:0000:0000:021D:1290:%04X:%04X" % (self.device_id >> 16, self.device_id & 0xFFFF)

    def readings(self, alarm=False):
        r = self.rng
        if self.kind == "buoy":
            return {"water_temp_c": round(r.uniform(17.5, 19.5), 2), "wave_height_m": round(r.uniform(0.4, 1.6), 2),
                    "lat_deg": round(self.lat, 6), "lon_deg": round(self.lon, 6),
                    "battery_v": round(r.uniform(3.7, 4.1), 3), "fault_flags": 0,
                    "salinity_psu": round(r.uniform(33.8, 34.6), 2)}
        if self.kind == "drone-vital":
            if alarm:
                return {"heart_rate_bpm": 142, "spo2_pct": 86, "body_temp_c": 38.9, "lat_deg": round(self.lat, 6),
                        "lon_deg": round(self.lon, 6), "triage": 3, "battery_v": 3.82}
            return {"heart_rate_bpm": r.randint(64, 96), "spo2_pct": r.randint(95, 99),
                    "body_temp_c": round(r.uniform(36.3, 37.1), 2), "lat_deg": round(self.lat, 6),
                    "lon_deg": round(self.lon, 6), "triage": 1, "battery_v": round(r.uniform(3.7, 4.0), 3)}
        steps = r.randint(80, 600)
        self.steps_total += steps
        return {"steps": steps, "steps_total": self.steps_total, "interval_start": int(time.time()) - 300,
                "battery_v": round(r.uniform(3.6, 4.0), 3), "interval_s": 300}

    def next_frames(self, alarm=False):
        self.counter += 1
        return [bytes(f) for f in self.encoder.encode(self.counter, self.readings(alarm), alarm=alarm)]


def make_nodes():
    """Nine publishing nodes (every kind on every radio) and one pedometer without consent."""
    nodes = []
    for k, kind in enumerate(KINDS):
        for r, radio in enumerate(RADIOS):
            nodes.append(Node(kind, radio, 0xD0000000 | ((k + 1) << 8) | (r + 1)))
    withdrawn = Node("pedometer", "lora", 0xD0000399, consent=False)
    return nodes, withdrawn


def plan(nodes, frames):
    """The send order: `frames` published messages round-robin over the nodes; the first
    drone-vital frame that is sent is an alarm."""
    out, alarm_done = [], False
    for i in range(frames):
        node = nodes[i % len(nodes)]
        alarm = node.kind == "drone-vital" and not alarm_done
        alarm_done = alarm_done or alarm
        out.append((node, alarm))
    return out


# -- the three radios, simulated at the gateway's doorstep ------------------------------------


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


class Forwarder:
    """A Semtech UDP packet forwarder (a LoRa concentrator) talking to the gateway's udp source."""

    def __init__(self, address):
        self.address = address
        self.transport = None
        self.proto = None
        self.token = 0
        self.downlinks = []

    async def start(self):
        loop = asyncio.get_running_loop()
        self.transport, self.proto = await loop.create_datagram_endpoint(
            _Datagrams, local_addr=("127.0.0.1", 0))
        self.token = secrets.randbelow(0xFFFF)
        await self._exchange(sudp.build_pull_data(self._next(), FORWARDER_EUI), sudp.PULL_ACK)

    def _next(self):
        self.token = (self.token + 1) & 0xFFFF
        return self.token

    async def _exchange(self, datagram, want, timeout=5.0):
        token = (datagram[1] << 8) | datagram[2]
        self.transport.sendto(datagram, self.address)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DemoError("the gateway's udp source did not answer %s" % sudp.TYPE_NAMES[want])
            data = await asyncio.wait_for(self.proto.queue.get(), left)
            msg = sudp.parse(data)
            if msg["type"] == sudp.PULL_RESP:
                self.downlinks.append(sudp.txpk_frame(msg)[0])
            elif msg["type"] == want and msg["token"] == token:
                return msg

    async def send(self, node, frame):
        rxpk = sudp.make_rxpk(frame, freq=923.2, datr="SF10BW125", rssi=node.rng.randint(-118, -70),
                              snr=round(node.rng.uniform(-6, 9), 1), tmst=int(time.monotonic() * 1e6) & 0xFFFFFFFF)
        await self._exchange(sudp.build_push_data(self._next(), FORWARDER_EUI, [rxpk]), sudp.PUSH_ACK)

    def close(self):
        if self.transport is not None:
            self.transport.close()


class Dongle:
    """The device end of a pseudo-terminal pair; the gateway's wisun source opens the other end
    as if it were a USB Wi-SUN dongle. ERXUDP lines go in; whatever the gateway writes is drained."""

    def __init__(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self.slave)
        self.written = b""

    def attach(self, loop):
        loop.add_reader(self.master, self._drain)

    def _drain(self):
        with contextlib.suppress(OSError):
            self.written += os.read(self.master, 4096)

    async def send(self, node, frame):
        os.write(self.master, skstack.build_erxudp(node.ipv6, DONGLE_IPV6, WISUN_PORT, WISUN_PORT,
                                                   node.ipv6[-19:].replace(":", ""), True, frame,
                                                   lqi=node.rng.randint(60, 200)))

    def close(self, loop=None):
        if loop is not None:
            with contextlib.suppress(Exception):
                loop.remove_reader(self.master)
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class SigfoxCloud:
    """The Sigfox backend calling the gateway's callback URL, as configured for a device type."""

    def __init__(self, url, secret):
        self.url = url
        self.secret = secret
        self.http = None

    async def start(self):
        import aiohttp
        self.http = aiohttp.ClientSession()

    async def send(self, node, frame):
        node.seq = (node.seq + 1) & 0xFFF
        body = {"device": node.device.upper(),
                "time": int(time.time()), "data": frame.hex(), "seqNumber": node.seq, "ack": False,
                "rssi": round(node.rng.uniform(-135, -100), 1), "snr": round(node.rng.uniform(5, 20), 1),
                "station": "7E2%d" % node.rng.randint(0, 9)}
        async with self.http.post(self.url, json=body, headers={"Authorization": "Bearer " + self.secret}) as r:
            if r.status not in (200, 204):
                raise DemoError("the gateway's sigfox endpoint answered HTTP %d" % r.status)

    async def close(self):
        if self.http is not None:
            await self.http.close()


# -- broker and subscriber --------------------------------------------------------------------


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def start_embedded_broker():
    """amqtt in this process on a free loopback port -> (broker, url). amqtt speaks MQTT 3.1.1."""
    from amqtt.broker import Broker
    for name in ("amqtt", "transitions"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    port = free_port()
    broker = Broker({"listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:%d" % port}},
                     "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}})
    await broker.start()
    return broker, "mqtt://127.0.0.1:%d" % port


class Subscriber:
    """A paho-mqtt client subscribed to the gateway's uplink topics, printing what it receives."""

    def __init__(self, url, topic, out):
        from lpwa.gateway.config import ConfigError, parse_url
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


# -- the gateway --------------------------------------------------------------------------------


def gateway_config(url, state_dir, nodes, tty_port, secret, gateway_id=GATEWAY_ID):
    from lpwa.gateway import config as config_mod
    raw = {
        "gateway": {"id": gateway_id, "state_dir": state_dir, "log_format": "text", "log_level": "warning"},
        "mqtt": {"url": url, "protocol": 311, "qos": 1, "topic_prefix": "lpwa"},
        "devices": [{"id": n.device, "key": n.key.hex(), "kind": n.kind, "consent": n.consent,
                     "name": "demo %s on %s" % (n.kind, n.radio)} for n in nodes],
        "sources": {"udp": {"listen": "127.0.0.1:0"},
                    "wisun": {"port": tty_port, "reconnect_max_s": 0.5},
                    "sigfox": {"listen": "127.0.0.1:0", "secret": secret}},
    }
    return config_mod.from_dict(raw)


def make_gateway(config):
    """The real service (lpwa.gateway.service.Gateway)."""
    from lpwa.gateway.service import Gateway
    return Gateway(config)


# -- the demo itself ----------------------------------------------------------------------------


async def run_demo(frames=18, broker_url=None, timeout=30.0, out=None, gateway_id=GATEWAY_ID, stop_event=None):
    """Run the demo; returns 0 when `frames` messages arrived, raises DemoError otherwise."""
    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    stop_event = stop_event or asyncio.Event()
    state_dir = tempfile.mkdtemp(prefix="lpwa-demo-")
    nodes, withdrawn = make_nodes()
    secret = secrets.token_urlsafe(16)
    broker = gateway = subscriber = forwarder = cloud = None
    dongle = Dongle()
    try:
        if broker_url is None:
            broker, broker_url = await start_embedded_broker()
            where = "embedded amqtt broker at %s" % broker_url
        else:
            where = "broker at %s" % broker_url
        topic = "lpwa/%s/+/+/up" % gateway_id
        subscriber = Subscriber(broker_url, topic, out)
        await subscriber.start()

        config = gateway_config(broker_url, state_dir, nodes + [withdrawn], dongle.port, secret, gateway_id)
        gateway = make_gateway(config)
        await gateway.start()
        dongle.attach(loop)
        udp_addr = gateway.sources["udp"].address
        sigfox_addr = gateway.sources["sigfox"].address
        forwarder = Forwarder(tuple(udp_addr))
        await forwarder.start()
        cloud = SigfoxCloud("http://%s:%d/sigfox" % tuple(sigfox_addr), secret)
        await cloud.start()
        link = getattr(gateway.sources["wisun"], "link", None)
        if link is not None and not await asyncio.to_thread(link.connected.wait, 5):
            raise DemoError("the gateway's wisun source could not open the pseudo-terminal %s" % dongle.port)
        out.write("lpwa demo: gateway %r -> %s; subscribed to %s\n"
                  "  9 nodes (buoy, drone-vital, pedometer x LoRa, Sigfox, Wi-SUN) + 1 pedometer without consent;"
                  " waiting for %d messages\n" % (gateway_id, where, topic, frames))
        out.flush()

        # a command for the first LoRa buoy, published like any MQTT client would: the gateway queues it
        # and hands it to the forwarder (PULL_RESP) in the node's receive window after its next uplink
        first = nodes[0]
        pipeline, sink = gateway.pipeline, getattr(gateway, "sink", None)
        await _until(lambda: getattr(sink, "connected", True), 10)
        for _ in range(5):  # a publish that beats the gateway's SUBSCRIBE is dropped by the broker: retry
            subscriber.client.publish("lpwa/%s/%s/%s/down" % (gateway_id, first.kind, first.device),
                                      json.dumps(DEMO_COMMAND), qos=1)
            if await _until(lambda: pipeline.downlinks.queued >= 1, 1.0):
                break

        radios = {"lora": forwarder, "wisun": dongle, "sigfox": cloud}
        printer = loop.create_task(subscriber.print_until(frames))
        stopper = loop.create_task(stop_event.wait())

        async def send_all():
            for i, (node, alarm) in enumerate(plan(nodes, frames)):
                for frame in node.next_frames(alarm):
                    await radios[node.radio].send(node, frame)
                while forwarder.downlinks:
                    raw = forwarder.downlinks.pop(0)
                    try:
                        command = json.dumps(decode_command(raw, node.device_id, node.key), separators=(",", ":"))
                    except ValueError as e:
                        command = "undecodable (%s)" % e
                    out.write("  (downlink to %s %s over LoRa, PULL_RESP in its receive window, decoded by the "
                              "node: %s)\n" % (node.kind, node.device, command))
                if i == 2 or (i == frames - 1 and frames <= 2):
                    before = _no_consent(pipeline)
                    for frame in withdrawn.next_frames():
                        await radios[withdrawn.radio].send(withdrawn, frame)  # returns after PUSH_ACK
                    verdict = ("the gateway verified it; consent is withdrawn, so it is not published"
                               if _no_consent(pipeline) > before else "it must not be published")
                    out.write("  (pedometer %s sent a frame over LoRa: %s)\n" % (withdrawn.device, verdict))
                    out.flush()
                await asyncio.sleep(0.05)

        sender = loop.create_task(send_all())
        waiting = {printer, stopper, sender}
        deadline = loop.time() + timeout
        try:
            while True:
                done, _ = await asyncio.wait(waiting, timeout=max(0.0, deadline - loop.time()),
                                             return_when=asyncio.FIRST_COMPLETED)
                if sender in done:
                    exc = sender.exception()
                    if exc is not None:
                        raise exc if isinstance(exc, DemoError) else DemoError("sending failed: %r" % (exc,))
                    waiting.discard(sender)
                    continue
                break
        finally:
            for task in (printer, stopper, sender):
                task.cancel()
        got = len(subscriber.messages)
        if stopper in done:
            out.write("lpwa demo: interrupted after %d messages\n" % got)
            return 130
        if got < frames:
            raise DemoError("only %d of %d messages arrived within %.0f s (%s)"
                            % (got, frames, timeout, _status_line(gateway)))
        out.write("lpwa demo: %d messages from %d nodes over LoRa, Sigfox and Wi-SUN; %s\n"
                  % (got, len({t.split("/")[3] for t, _ in subscriber.messages}), _status_line(gateway)))
        out.flush()
        return 0
    finally:
        if cloud is not None:
            await cloud.close()
        if forwarder is not None:
            forwarder.close()
        if gateway is not None:
            with contextlib.suppress(Exception):
                await gateway.stop()
        dongle.close(loop)
        if subscriber is not None:
            subscriber.stop()
        if broker is not None:
            with contextlib.suppress(Exception):
                await broker.shutdown()
        shutil.rmtree(state_dir, ignore_errors=True)


def _no_consent(pipeline):
    rejections = getattr(pipeline, "rejections", None) or {}
    return rejections.get("no-consent", 0)


async def _until(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return predicate()


def _status_line(gateway):
    """A one-line summary of the gateway's own counters."""
    try:
        pipeline = gateway.pipeline
        rejected = dict(pipeline.rejections)
        parts = ["gateway accepted %d frames" % pipeline.accepted]
        if rejected:
            parts.append("rejected %s" % ", ".join("%s=%d" % kv for kv in sorted(rejected.items())))
        return "; ".join(parts)
    except Exception:
        return "gateway status unavailable"


def main(frames=18, broker_url=None, timeout=30.0, verbose=False, gateway_id=GATEWAY_ID):
    """Entry point for the CLI: exit status 0 (all arrived), 1 (failed, one clear line), 130 (Ctrl-C)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not verbose:
        logging.getLogger("lpwa").setLevel(logging.ERROR)
        logging.getLogger("lpwa.gateway.paho").setLevel(logging.CRITICAL)  # paho's own chatter at shutdown

    async def runner():
        stop_event = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop_event.set)
        return await run_demo(frames, broker_url, timeout, sys.stdout, gateway_id, stop_event)

    from lpwa.gateway.config import ConfigError
    try:
        return asyncio.run(runner())
    except DemoError as e:
        sys.stderr.write("lpwa demo: %s\n" % e)
        return 1
    except ConfigError as e:  # e.g. a --gateway-id that cannot be a topic level
        sys.stderr.write("lpwa demo: %s\n" % e)
        return 2
