"""Wi-SUN source: a USB dongle speaking SKSTACK-IP (ROHM BP35A1/BP35C0 and kin) over serial.

Nodes send their frames as UDP datagrams to the dongle, which prints each one as an ERXUDP event
line; lpwa.radio.skstack parses the stream. A downlink the pipeline hands back goes to the sender
with SKSENDTO, to the UDP port it sent from, while it still listens. The port is kept open by
SerialLink, which reconnects when the dongle vanishes and comes back; on every (re)connect echo is
switched off and the operator's `init` commands (joining or starting the PAN is site-specific) are
sent again, since a re-plugged dongle has forgotten them.

What the dongle prints depends on the module and two of its settings (ROHM BP35A1 and BP35C0/C2
command references): ERXUDP data is binary (WOPT 00) or hex text (WOPT 01), and its header comes
in three layouts (see lpwa.radio.skstack: a1, c2 = BP35C2 default, c2-lqi after SKSREG SA2 1).
`data_format = "auto"` sends ROPT on every (re)connect and pins the parser to the answer (until it
comes, and on modules without ROPT, each line is read in whichever format it parses);
`erxudp_layout = "auto"` accepts all three layouts and reports the one seen. Pinning either makes
lines in the other form count as malformed. The PANA session state and re-joining are
gateway.sources.wisun_session.
"""

import ipaddress

from lpwa.gateway.sources.serial_link import SerialSource, check_serial
from lpwa.gateway.sources.wisun_session import PanaSession
from lpwa.radio import skstack

NAME = "wisun"
OPTIONS = {
    "port": (str, "/dev/ttyUSB0", "serial port of the dongle (a /dev/serial/by-id/ path survives re-plugging)"),
    "baudrate": (int, 115200, "serial speed"),
    "udp_handle": (int, 1, "SKSTACK UDP handle used for downlinks (SKSENDTO)"),
    "reconnect_max_s": (float, 5.0, "longest wait between attempts to re-open a vanished port"),
    "echo_off": (bool, True, "send SKSREG SFE 0 on every (re)connect: an echoed SKSENDTO would carry binary"),
    "init": (str, "", "more SKSTACK commands sent on every (re)connect, ';'-separated (e.g. your PAN setup)"),
    "data_format": (str, "auto", "ERXUDP data: binary (WOPT 00), hex (WOPT 01), or auto (read back with ROPT)"),
    "erxudp_layout": (str, "auto", "ERXUDP header: a1 (BP35A1), c2 (BP35C0/C2), c2-lqi (SKSREG SA2 1), or auto"),
    "join": (str, "", "IPv6 address of the PAN coordinator to SKJOIN on connect and after the session ends"),
    "rejoin_min_s": (float, 5.0, "wait before the first re-join attempt; doubled after each failure"),
    "rejoin_max_s": (float, 300.0, "longest wait between re-join attempts"),
}
DATA_FORMATS = {"auto": None, "binary": False, "hex": True}


def check(options):
    """Config-time check of the options (see check_serial)."""
    check_serial(options, "sources.wisun")
    if options["data_format"] not in DATA_FORMATS:
        raise ValueError("sources.wisun.data_format: must be auto, binary or hex")
    if options["erxudp_layout"] not in ("auto",) + skstack.LAYOUTS:
        raise ValueError("sources.wisun.erxudp_layout: must be auto, " + ", ".join(skstack.LAYOUTS))
    if not 0 < options["rejoin_min_s"] <= options["rejoin_max_s"] < float("inf"):
        raise ValueError("sources.wisun.rejoin_min_s/rejoin_max_s: need 0 < min <= max seconds")
    _coordinator(options)


def _coordinator(options):
    """The configured coordinator, else the address of an SKJOIN among the init commands, written
    out in full as SKSTACK takes it ("FE80::1" -> "FE80:0000:...:0001"); "" when there is none."""
    text, where = options["join"].strip(), "join"
    if not text:
        where = "init"
        for command in options["init"].split(";"):
            words = command.split()
            if len(words) == 2 and words[0].upper() == "SKJOIN":
                text = words[1]
    if not text:
        return ""
    try:
        return ipaddress.IPv6Address(text).exploded.upper()
    except ValueError:
        raise ValueError("sources.wisun.%s: the SKJOIN address must be an IPv6 address" % where)


class Source(SerialSource):
    NAME = NAME
    RADIO = "wisun"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SerialSource.__init__(self, options, pipeline, gateway_id)
        check(self.options)
        self.stats.update({"events": 0, "fail": 0, "downlinks_lost": 0,
                           "data_format": self.options["data_format"], "erxudp_layout": self.options["erxudp_layout"]})
        self._ascii = DATA_FORMATS[self.options["data_format"]]
        self._layout = None if self.options["erxudp_layout"] == "auto" else self.options["erxudp_layout"]
        self._ropt_pending = False
        self.session = PanaSession(self.link.write, self.stats, self.log, _coordinator(self.options),
                                   self.options["rejoin_min_s"], self.options["rejoin_max_s"])
        self.parser = self._new_parser()

    def _new_parser(self):
        return skstack.StreamParser(self._ascii, self._layout)

    async def stop(self):
        self.session.stop()
        await SerialSource.stop(self)

    def _on_open(self):
        self._ascii = DATA_FORMATS[self.options["data_format"]]  # a re-plugged dongle may be another one
        self.parser = self._new_parser()  # never splice bytes from a previous connection
        commands = ["SKSREG SFE 0"] if self.options["echo_off"] else []
        commands += [c.strip() for c in self.options["init"].split(";") if c.strip()]
        for command in commands:
            if command.split()[0].upper() == "SKJOIN":
                continue  # joining is the session's job, after the setup
            self.link.write(command.encode("ascii", "replace") + b"\r\n")
        if self.options["data_format"] == "auto":
            self._ropt_pending = True
            self.link.write(skstack.build_ropt())
        if _coordinator(self.options):
            self.session.join_now()

    def _on_ropt(self, event):
        """`OK <hex byte>` answers ROPT only: bit 0 set means ERXUDP data comes as hex."""
        args = event.get("args") or []
        if not self._ropt_pending or len(args) != 1 or len(args[0]) != 2:
            return False
        try:
            hex_mode = bool(int(args[0], 16) & 1)
        except ValueError:
            return False
        self._ropt_pending = False
        self._ascii = self.parser.ascii_data = hex_mode
        self.stats["data_format"] = "hex" if hex_mode else "binary"
        self.log.info("wisun: dongle sends ERXUDP data as %s (ROPT %s)", self.stats["data_format"], args[0])
        return True

    def _on_idle(self):
        """The line went quiet: a half-read line (say a torn ERXUDP whose length field was hit by
        noise and now waits for bytes that never come) is dropped so the next frame parses."""
        if getattr(self.parser, "_buf", b""):
            self.malformed("torn-line")
        self.parser = self._new_parser()

    def _on_data(self, data):
        try:
            events = self.parser.feed(data)
        except (skstack.SkStackError, ValueError):
            self.parser = self._new_parser()
            self.malformed("malformed-line")
            return
        for event in events:
            self._handle(event)

    def _handle(self, event):
        name = event.get("event")
        if name == "ERXUDP":
            self.stats["erxudp_layout"] = event.get("layout") or self.stats["erxudp_layout"]
            meta = {"sender": event.get("sender")}
            for key in ("rssi", "lqi", "rport", "lport", "secured", "dest", "side"):
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
        elif name == "OK":
            self.stats["events"] += 1
            self._on_ropt(event)
        elif name == "EVENT":
            self.stats["events"] += 1
            self.session.on_event(event)
        elif name in (None, "ERROR", "UNKNOWN", "GARBAGE"):
            self.malformed("malformed-line")
        else:
            self.stats["events"] += 1

    def _downlink(self, payload, meta):
        port = meta.get("rport") or 3610
        try:
            # BP35C0/C2 take a SIDE argument (the side the uplink came in on); BP35A1 has none
            command = skstack.build_sksendto(self.options["udp_handle"], meta["sender"], port, bytes(payload),
                                             side=meta.get("side"))
        except (skstack.SkStackError, ValueError, TypeError, KeyError):
            self.stats["downlinks_lost"] += 1
            return
        if self.link.write(command):
            self.stats["downlinks"] += 1
        else:
            self.stats["downlinks_lost"] += 1
            self.warn_once("downlink-lost", "wisun: a downlink was lost because the dongle is not connected")
