"""A simulated SKSTACK-IP Wi-SUN module on a UART, transmitting onto the simulated air.

SKSENDTO -> EVENT 21 + OK; downlinks arrive as ERXUDP (BP35C2 layout with LQI). The lines are
printed here, not with lpwa.radio.skstack's builders: that is the gateway's module, and the
simulated node would carry it on its heap beside the node's own lpwa.radio.skstack_node
(issue #14). tests/boards/test_host_wisun.py checks them against those builders.
"""


WISUN_GATEWAY = "FE80:0000:0000:0000:021D:1290:0003:C890"
WISUN_NODE = "FE80:0000:0000:0000:021D:1290:0003:C891"
GATEWAY_RSSI = -70  # what the simulated border router measures of this node
_UDP_SENT = b"EVENT 21 " + WISUN_NODE.encode() + b" 00\r\nOK\r\n"  # EVENT 21, parameter 0: sent
# ERXUDP <sender> <dest> <rport> <lport> <sender LLA> <LQI> <secured> <side> (then DATALEN, data)
_ERXUDP = b"ERXUDP %s %s 0E1A 0E1A 001D129000030890 A0 1 0 " % (WISUN_GATEWAY.encode(), WISUN_NODE.encode())


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
        from lpwa.radio.airtime import wisun_airtime_us  # the node's, imported when used

        air_us = wisun_airtime_us(n)
        b.air.transmit("wisun", payload, b.clock.ms, air_us, {"rssi": GATEWAY_RSSI, "sender": WISUN_NODE})
        b.clock.sleep_ms(air_us // 1000 + 5)
        self.out += _UDP_SENT

    def read(self):
        data = self.board.air.pop_downlink(self.board.clock.ms) if not self.out else None
        if data is not None:
            self.out += _ERXUDP + b"%04X " % len(data) + bytes(data) + b"\r\n"
        out = self.out
        self.out = b""
        return out or None
