"""boards/host/wisun.py prints its module's lines itself (so the simulated node does not carry the
gateway's lpwa.radio.skstack): they are the lines the gateway's builders make, and the node reads them."""

from lpwa.boards.host import wisun as host
from lpwa.radio import skstack
from lpwa.radio.skstack_node import StreamParser, build_sksendto


class _Clock:
    ms = 0

    def sleep_ms(self, ms):
        self.ms += ms


class _Air:
    def __init__(self, downlink):
        self.sent = []
        self.downlink = downlink

    def transmit(self, radio, payload, ms, air_us, meta):
        self.sent.append(bytes(payload))

    def pop_downlink(self, ms):
        out, self.downlink = self.downlink, None
        return out


class _Board:
    def __init__(self, downlink):
        self.clock = _Clock()
        self.air = _Air(downlink)


def test_the_simulated_module_prints_what_the_gateway_builders_print():
    down = b"\x01\r\n\x00down"
    uart = host.SimSkstackUart(_Board(down))
    uart.write(build_sksendto(1, host.WISUN_GATEWAY, 3610, b"up\r\n"))
    assert uart.board.air.sent == [b"up\r\n"]
    assert uart.read() == skstack.build_event(0x21, host.WISUN_NODE, 0) + b"OK\r\n"
    line = uart.read()
    assert line == skstack.build_erxudp(host.WISUN_GATEWAY, host.WISUN_NODE, 3610, 3610, "001D129000030890", 1, down,
                                        lqi=160)
    ev = StreamParser().feed(line)
    assert [e["event"] for e in ev] == ["ERXUDP"] and ev[0]["data"] == down and ev[0]["sender"] == host.WISUN_GATEWAY
