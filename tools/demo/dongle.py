"""A simulated ROHM SKSTACK-IP Wi-SUN dongle on a pseudo-terminal, for the gateway's wisun source."""

import contextlib
import os
import tty

from lpwa.radio import skstack

DONGLE_IPV6 = "FE80:0000:0000:0000:021D:1290:0000:0001"
WISUN_PORT = 0x0E1A  # 3610, the ECHONET Lite port nodes commonly use


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
