"""A simulated Semtech UDP packet forwarder (a LoRa concentrator) at the gateway's udp source."""

import asyncio
import secrets
import time

from lpwa.radio import semtech_udp as sudp
from lpwa.tools.demo.errors import DemoError

FORWARDER_EUI = "b827ebfffe6c0de0"


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue = asyncio.Queue()

    def datagram_received(self, data, addr):
        self.queue.put_nowait(data)


class Forwarder:
    """PUSH_DATA for each uplink, PULL_DATA once; the downlinks (PULL_RESP) it gets are kept."""

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
