"""A Sigfox AT module (Wisol style, RC3) on a UART: `AT$SF=<hex>[,1]`, answered OK [and RX=...].

Commands and replies are built and parsed by lpwa.radio.sigfox; this adapter only moves lines
over the UART and waits with the board's clock. The module does its own carrier sense (RC3
LBT) and repeats, so `carrier_sense` reports the channel free and leaves it to the module.
"""

from lpwa.firmware.drivers.deadline import elapsed_ms
from lpwa.radio import sigfox

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_SEND_TIMEOUT_MS = const(12000)  # three repeats of a 12-byte frame at 100 bps plus the module's pauses
DOWNLINK_TIMEOUT_MS = 50000  # uplink, 20 s wait, up to 25 s receive window (Sigfox RC3)


class SigfoxRadio:
    name = "sigfox"
    lbt_supported = True  # done inside the module

    def __init__(self, uart, clock):
        self.uart = uart
        self.clock = clock
        self.downlink = None
        self.errors = 0
        self.maybe_sent = False  # after a failed send: could the module have sent it (no answer)?

    def carrier_sense(self, duration_us):
        return True

    def _read_reply(self, timeout_ms):
        start = self.clock.ticks_ms()
        while elapsed_ms(self.clock, start) < timeout_ms:
            line = self.uart.readline()
            if not line:
                self.clock.sleep_ms(20)
                continue
            try:
                reply = sigfox.parse_reply(line)
            except sigfox.SigfoxError:
                self.errors += 1
                continue
            if reply["reply"] == "VALUE":
                continue
            return reply
        return None

    def send(self, payload, want_downlink=False):
        """Send one uplink; with want_downlink, keep the 8-byte answer for receive()."""
        self.downlink = None
        self.uart.write(sigfox.build_send(payload, downlink=want_downlink))
        timeout = DOWNLINK_TIMEOUT_MS if want_downlink else _SEND_TIMEOUT_MS
        reply = self._read_reply(timeout)
        if reply is None:
            self.maybe_sent = True  # it may be sending still: its sequence number may have moved
            raise OSError("sigfox module did not answer")
        if reply["reply"] == "ERROR":
            self.maybe_sent = False  # refused the command: nothing sent, sequence number unchanged
            raise OSError("sigfox module: " + reply["code"])
        if want_downlink:
            # OK comes first, RX=... follows after the downlink window (or nothing when none came)
            rx = reply if reply["reply"] == "RX" else self._read_reply(timeout)
            if rx is not None and rx["reply"] == "RX":
                self.downlink = rx["data"]
        return {}

    def receive(self, timeout_ms):
        data = self.downlink
        self.downlink = None
        return None if data is None else (data, {})

    def sleep(self):
        pass
