"""What `lpwa demo` starts, in order, and stops, in reverse: broker, subscriber, the real gateway
(lpwa.gateway.service.Gateway) with its three sources, and the three simulated radios."""

import asyncio
import contextlib
import secrets
import shutil
import tempfile

from lpwa.gateway import config as config_mod
from lpwa.gateway.service import Gateway
from lpwa.tools.demo.broker import start_embedded_broker
from lpwa.tools.demo.dongle import Dongle
from lpwa.tools.demo.errors import DemoError
from lpwa.tools.demo.forwarder import Forwarder
from lpwa.tools.demo.sigfox_cloud import SigfoxCloud
from lpwa.tools.demo.subscriber import Subscriber


def gateway_config(url, state_dir, nodes, tty_port, secret, gateway_id):
    """The gateway's config for the demo nodes: one source per radio, all on loopback."""
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


class Stack:
    """Everything the demo runs; each start_* step is one layer, stop() undoes what was started."""

    def __init__(self):
        self.loop = asyncio.get_running_loop()
        self.state_dir = tempfile.mkdtemp(prefix="lpwa-demo-")
        self.secret = secrets.token_urlsafe(16)
        self.dongle = Dongle()
        self.broker = self.gateway = self.subscriber = self.forwarder = self.cloud = None
        self.broker_url = None

    async def start_broker(self, broker_url):
        """The embedded amqtt broker unless `broker_url` names one -> where, for the banner."""
        if broker_url is not None:
            self.broker_url = broker_url
            return "broker at %s" % broker_url
        self.broker, self.broker_url = await start_embedded_broker()
        return "embedded amqtt broker at %s" % self.broker_url

    async def start_subscriber(self, topic, out):
        self.subscriber = Subscriber(self.broker_url, topic, out)
        await self.subscriber.start()

    async def start_gateway(self, nodes, gateway_id):
        config = gateway_config(self.broker_url, self.state_dir, nodes, self.dongle.port, self.secret, gateway_id)
        self.gateway = Gateway(config)
        await self.gateway.start()
        self.dongle.attach(self.loop)

    async def start_radios(self):
        """The forwarder and the Sigfox cloud at the gateway's sockets; wait for the dongle's port."""
        self.forwarder = Forwarder(tuple(self.gateway.sources["udp"].address))
        await self.forwarder.start()
        self.cloud = SigfoxCloud("http://%s:%d/sigfox" % tuple(self.gateway.sources["sigfox"].address), self.secret)
        await self.cloud.start()
        link = self.gateway.sources["wisun"].link
        if not await asyncio.to_thread(link.connected.wait, 5):
            raise DemoError("the gateway's wisun source could not open the pseudo-terminal %s" % self.dongle.port)

    def radios(self):
        return {"lora": self.forwarder, "wisun": self.dongle, "sigfox": self.cloud}

    async def stop(self):
        if self.cloud is not None:
            await self.cloud.close()
        if self.forwarder is not None:
            self.forwarder.close()
        if self.gateway is not None:
            with contextlib.suppress(Exception):
                await self.gateway.stop()
        self.dongle.close(self.loop)
        if self.subscriber is not None:
            self.subscriber.stop()
        if self.broker is not None:
            with contextlib.suppress(Exception):
                await self.broker.shutdown()
        shutil.rmtree(self.state_dir, ignore_errors=True)
