"""The Sigfox backend, simulated: it calls the gateway's callback URL as configured for a device type."""

import time

import aiohttp

from lpwa.tools.demo.errors import DemoError


class SigfoxCloud:
    """POSTs each uplink as the Sigfox cloud's JSON callback, with the shared bearer secret."""

    def __init__(self, url, secret):
        self.url = url
        self.secret = secret
        self.http = None

    async def start(self):
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
