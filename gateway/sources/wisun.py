"""Wi-SUN source: a USB dongle speaking SKSTACK-IP (ROHM BP35A1/BP35C0 and kin) over serial.

Nodes send their frames as UDP datagrams to the dongle, which prints each one as an ERXUDP event
line; lpwa.radio.skstack parses the stream. A downlink the pipeline hands back goes to the sender
with SKSENDTO, to the UDP port it sent from, while it still listens. The port is kept open by
SerialLink, which reconnects when the dongle vanishes and comes back; on every (re)connect echo is
switched off and the operator's `init` commands (joining or starting the PAN is site-specific) are
sent again, since a re-plugged dongle has forgotten them.
"""

from lpwa.gateway.sources.serial_link import SerialSource, check_serial
from lpwa.radio import skstack

NAME = "wisun"
OPTIONS = {
    "port": (str, "/dev/ttyUSB0", "serial port of the dongle (a /dev/serial/by-id/ path survives re-plugging)"),
    "baudrate": (int, 115200, "serial speed"),
    "udp_handle": (int, 1, "SKSTACK UDP handle used for downlinks (SKSENDTO)"),
    "reconnect_max_s": (float, 5.0, "longest wait between attempts to re-open a vanished port"),
    "echo_off": (bool, True, "send SKSREG SFE 0 on every (re)connect: an echoed SKSENDTO would carry binary"),
    "init": (str, "", "more SKSTACK commands sent on every (re)connect, ';'-separated (e.g. your PAN setup)"),
}


def check(options):
    """Config-time check of the options (see check_serial)."""
    check_serial(options, "sources.wisun")


class Source(SerialSource):
    NAME = NAME
    RADIO = "wisun"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SerialSource.__init__(self, options, pipeline, gateway_id)
        self.stats.update({"events": 0, "fail": 0, "downlinks_lost": 0})
        self.parser = skstack.StreamParser()

    def _on_open(self):
        self.parser = skstack.StreamParser()  # never splice bytes from a previous connection
        commands = ["SKSREG SFE 0"] if self.options["echo_off"] else []
        commands += [c.strip() for c in self.options["init"].split(";") if c.strip()]
        for command in commands:
            self.link.write(command.encode("ascii", "replace") + b"\r\n")

    def _on_idle(self):
        """The line went quiet: a half-read line (say a torn ERXUDP whose length field was hit by
        noise and now waits for bytes that never come) is dropped so the next frame parses."""
        if getattr(self.parser, "_buf", b""):
            self.malformed("torn-line")
        self.parser = skstack.StreamParser()

    def _on_data(self, data):
        try:
            events = self.parser.feed(data)
        except (skstack.SkStackError, ValueError):
            self.parser = skstack.StreamParser()
            self.malformed("malformed-line")
            return
        for event in events:
            self._handle(event)

    def _handle(self, event):
        name = event.get("event")
        if name == "ERXUDP":
            meta = {"sender": event.get("sender")}
            for key in ("rssi", "lqi", "rport", "lport", "secured", "dest"):
                if event.get(key) is not None:
                    meta[key] = event[key]
            data = event.get("data")
            if not isinstance(data, (bytes, bytearray)):
                self.malformed("malformed-erxudp")
                return
            outcome = self.ingest(data, meta)
            if outcome is not None and outcome.downlink:
                self._downlink(outcome.downlink, meta)
        elif name == "FAIL":
            self.stats["fail"] += 1
            self.warn_once("fail-" + str(event.get("code")), "wisun: dongle answered FAIL %s", event.get("code"))
        elif name in ("OK", "EVENT"):
            self.stats["events"] += 1
        elif name in (None, "ERROR", "UNKNOWN", "GARBAGE"):
            self.malformed("malformed-line")
        else:
            self.stats["events"] += 1

    def _downlink(self, payload, meta):
        port = meta.get("rport") or 3610
        try:
            command = skstack.build_sksendto(self.options["udp_handle"], meta["sender"], port, bytes(payload))
        except (skstack.SkStackError, ValueError, TypeError, KeyError):
            self.stats["downlinks_lost"] += 1
            return
        if self.link.write(command):
            self.stats["downlinks"] += 1
        else:
            self.stats["downlinks_lost"] += 1
            self.warn_once("downlink-lost", "wisun: a downlink was lost because the dongle is not connected")
