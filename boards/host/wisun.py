"""A simulated SKSTACK-IP Wi-SUN module on a UART, transmitting onto the simulated air.

SKSENDTO -> EVENT 21 + OK; downlinks arrive as ERXUDP, built with lpwa.radio.skstack's own
line builders.
"""

from lpwa.radio import skstack
from lpwa.radio.airtime import wisun_airtime_us

WISUN_GATEWAY = "FE80:0000:0000:0000:021D:1290:0003:C890"
WISUN_NODE = "FE80:0000:0000:0000:021D:1290:0003:C891"
GATEWAY_RSSI = -70  # what the simulated border router measures of this node


class SimSkstackUart:
    def __init__(self, board):
        self.board = board
        self.out = b""

    def write(self, data):
        data = bytes(data)
        if not data.startswith(b"SKSENDTO "):
            self.out += b"FAIL ER04\r\n"
            return
        parts = data.split(b" ", 6)
        n = int(parts[5], 16)
        payload = parts[6][:n]
        b = self.board
        air_us = wisun_airtime_us(n)
        b.air.transmit("wisun", payload, b.clock.ms, air_us, {"rssi": GATEWAY_RSSI, "sender": WISUN_NODE})
        b.clock.sleep_ms(air_us // 1000 + 5)
        self.out += skstack.build_event(0x21, WISUN_NODE, 0) + b"OK\r\n"

    def read(self):
        data = self.board.air.pop_downlink(self.board.clock.ms) if not self.out else None
        if data is not None:
            self.out += skstack.build_erxudp(WISUN_GATEWAY, WISUN_NODE, 3610, 3610,
                                             "001D129000030890", 1, data, lqi=160)
        out = self.out
        self.out = b""
        return out or None
