"""A Wi-SUN SKSTACK-IP module (ROHM BP35C0 / BP35A1 class) on a UART: UDP out with SKSENDTO,
UDP in as ERXUDP events.

Lines are built and parsed by lpwa.radio.skstack_node (the node's part of lpwa.radio.skstack:
a node loads only that); this adapter moves bytes and waits with the board's clock. The module must already have joined the PAN (SKJOIN, done once at commissioning
and kept by the module); the module applies ARIB carrier sense itself (EVENT 32 when the
transmit-time limit engages), so `carrier_sense` leaves it to the module.
"""

from lpwa.firmware.drivers.deadline import elapsed_ms
from lpwa.radio.skstack_node import StreamParser, build_sksendto

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

_SEND_TIMEOUT_MS = const(5000)
_UDP_PORT = const(3610)  # the node's and the border router's UDP port


class WisunRadio:
    name = "wisun"
    lbt_supported = True  # done inside the module

    def __init__(self, uart, clock, dest, port=_UDP_PORT, handle=1):
        self.uart = uart
        self.clock = clock
        self.dest = dest
        self.port = port
        self.handle = handle
        self.parser = StreamParser()
        self.inbox = []
        self.errors = 0

    def carrier_sense(self, duration_us):
        return True

    def _events(self):
        data = self.uart.read()
        if not data:
            return []
        return self.parser.feed(data)  # never raises: bad lines come back as ERROR events

    def send(self, payload, want_downlink=False):
        self.uart.write(build_sksendto(self.handle, self.dest, self.port, payload, sec=1))
        start = self.clock.ticks_ms()
        while elapsed_ms(self.clock, start) < _SEND_TIMEOUT_MS:
            events = self._events()
            if not events:
                self.clock.sleep_ms(10)
                continue
            for ev in events:
                kind = ev.get("event")
                if kind == "ERXUDP":
                    self.inbox.append(ev)
                elif kind == "FAIL":
                    raise OSError("wisun module: FAIL %s" % ev.get("code"))
                elif kind == "ERROR":
                    self.errors += 1
                elif kind == "EVENT" and ev.get("code") == 0x21:
                    if not ev.get("ok"):
                        raise OSError("wisun module: UDP send failed")
                    return {}
                elif kind == "EVENT" and ev.get("code") == 0x32:
                    raise OSError("wisun module: ARIB transmit-time limit engaged")
        raise OSError("wisun module did not confirm the send")

    def receive(self, timeout_ms):
        start = self.clock.ticks_ms()
        while True:
            if self.inbox:
                ev = self.inbox.pop(0)
                meta = {"sender": ev.get("sender")}
                if ev.get("rssi") is not None:
                    meta["rssi"] = ev.get("rssi")
                return bytes(ev["data"]), meta
            if elapsed_ms(self.clock, start) >= timeout_ms:
                return None
            for ev in self._events():
                if ev.get("event") == "ERXUDP":
                    self.inbox.append(ev)
            if not self.inbox:
                self.clock.sleep_ms(50)

    def sleep(self):
        pass
