"""ROHM SKSTACK-IP line protocol (BP35A1, BP35C0/BP35C2 and compatible Wi-SUN modules).

The node sends `SKSENDTO`; the gateway reads `ERXUDP`, `EVENT`, `OK`/`FAIL` and friends from
the dongle. `ERXUDP` carries its payload as raw bytes right after the length field (unless the
module was switched to hex ASCII with `WOPT 01`), so the stream cannot be split on CRLF: the
parser reads the header, then exactly DATALEN bytes (or 2 DATALEN hex digits).

ERXUDP comes in three layouts, told apart by the width of the fields after SENDERLLA:
  a1      BP35A1:                     ... <SENDERLLA> <SECURED> <DATALEN> <DATA>
  c2      BP35C0/C2 (SA2 = 0, default): ... <SENDERLLA> <SECURED> <SIDE> <DATALEN> <DATA>
  c2-lqi  BP35C0/C2 with SKSREG SA2 1:  ... <SENDERLLA> <LQI> <SECURED> <SIDE> <DATALEN> <DATA>
(SECURED and SIDE are one digit, LQI two, DATALEN four, so the widths are unambiguous.)
The product commands WOPT/ROPT end their lines with CR alone (`OK 01\r`), so a bare CR ends a
text line too. `SKLL64` answers with a bare IPv6 address line and no OK.

Sources: ROHM "BP35A1 SKSTACK-IP command reference" and "BP35C0/BP35C2 command reference" as
implemented by nbtk/momonga (tests/test_sk_parser_unit.py) and smdn/Smdn.Net.SkStackIP. Echo back must be off (`SKSREG SFE 0`) as
momonga sets it: an echoed SKSENDTO would carry binary after its header.

The part a node uses (SKSENDTO, OK/FAIL/EVENT, binary ERXUDP) is lpwa.radio.skstack_node, which
a node imports alone; this module imports it and adds the rest of the grammar.

Portable (CPython and MicroPython).
"""

import binascii

from lpwa.radio import skstack_node as _node
from lpwa.radio.skstack_node import (LAYOUTS, SkStackError, StreamParser as _NodeParser, _check_ipv6,  # noqa: F401
                                     _is_hex, build_sksendto, erxudp_fields, erxudp_layout, rssi_from_lqi)

# the same limits as skstack_node's private constants (a node interns no name for them)
SKSENDTO_MAX = 0x04D0  # 1232 bytes
MAX_DATALEN = 2047  # 802.15.4g aMaxPhyPacketSize: no UDP payload can be longer
MAX_LINE = 512  # longest text line accepted before the buffer is declared garbage

# EVENT numbers (hex on the wire). Source: Smdn.Net.SkStackIP SkStackEventNumber.
EVENT_NAMES = {
    0x01: "ns-received", 0x02: "na-received", 0x05: "echo-request", 0x1F: "ed-scan-done",
    0x20: "beacon-received", 0x21: "udp-sent", 0x22: "active-scan-done", 0x24: "pana-failed",
    0x25: "pana-established", 0x26: "session-termination-request", 0x27: "session-terminated",
    0x28: "session-termination-timeout", 0x29: "session-expired", 0x32: "arib-limit-engaged",
    0x33: "arib-limit-released", 0xC0: "wake-up",
}
_EPANDESC_KEYS = {"Channel": "channel", "Channel Page": "channel_page", "Pan ID": "pan_id",
                  "Addr": "addr", "LQI": "lqi", "Side": "side", "PairID": "pair_id"}
# EVENT numbers after which the PANA session is gone (the gateway re-joins): PANA failed,
# termination requested by the peer, terminated, termination timed out, lifetime expired.
SESSION_LOST = (0x24, 0x26, 0x27, 0x28, 0x29)


def build_erxudp(sender, dest, rport, lport, sender_lla, secured, payload, lqi=None, side=None,
                 layout=None, hex_data=False):
    """An `ERXUDP` line as a module prints it, for simulators and tests. `layout` (see LAYOUTS)
    defaults to c2-lqi with `lqi`, c2 with only `side`, else a1; `hex_data` is the WOPT 01 form."""
    payload = bytes(payload)
    lla = sender_lla.encode() if isinstance(sender_lla, str) else bytes(sender_lla)
    if not _is_hex(lla, 16):
        raise SkStackError("sender LLA must be 16 hex digits")
    if len(payload) > 0xFFFF:
        raise SkStackError("payload too long")
    if layout is None:
        layout = "c2-lqi" if lqi is not None else ("c2" if side is not None else "a1")
    if layout not in LAYOUTS:
        raise SkStackError("layout must be one of " + ", ".join(LAYOUTS))
    out = b"ERXUDP " + _check_ipv6(sender) + b" " + _check_ipv6(dest) + b" %04X %04X " % (rport, lport)
    out += lla.upper() + b" "
    if layout == "c2-lqi":
        out += b"%02X " % (lqi or 0)
    out += b"%d " % (1 if secured else 0)
    if layout != "a1":
        out += b"%d " % (side or 0)
    data = binascii.hexlify(payload).upper() if hex_data else payload
    return out + b"%04X " % len(payload) + data + b"\r\n"


def build_ropt():
    """`ROPT`: read the product option byte (bit 0: ERXUDP data as hex ASCII); CR only."""
    return b"ROPT\r"


def build_skjoin(ipaddr):
    """`SKJOIN <IPADDR>`: start PANA authentication with the coordinator at `ipaddr`."""
    return b"SKJOIN " + _check_ipv6(ipaddr) + b"\r\n"


def build_event(code, sender, param=None, side=None):
    out = b"EVENT %02X " % code + _check_ipv6(sender)
    if side is not None:
        out += b" %d" % side
    if param is not None:
        out += b" %02X" % param
    return out + b"\r\n"


def _erxudp_hex_line(toks):
    """A whole hex-mode (WOPT 01) ERXUDP line split on spaces -> event with its data."""
    layout = erxudp_layout(toks[1:-1]) if len(toks) >= 8 else None
    if layout is None or len(toks) != 9 + LAYOUTS.index(layout):
        raise SkStackError("ERXUDP has %d fields" % (len(toks) - 1))
    ev, dlen = erxudp_fields(toks[1:-1], layout)
    hexdata = toks[-1]
    if len(hexdata) != 2 * dlen or not (dlen == 0 or _is_hex(hexdata)):
        raise SkStackError("ERXUDP hex data does not match DATALEN")
    ev["data"] = binascii.unhexlify(hexdata)
    return ev




def parse_line(line, ascii_data=False):
    """Parse one complete text line (without CRLF) into an event dict; raise SkStackError."""
    if isinstance(line, str):
        line = line.encode()
    line = bytes(line)
    if len(line) > MAX_LINE + 2 * SKSENDTO_MAX + 200:
        raise SkStackError("line too long")
    try:
        text = line.decode()
    except (UnicodeError, ValueError):
        text = None
    if line.startswith(b"  ") and text is not None:  # EPANDESC member
        key, sep, value = text.strip().partition(":")
        if not sep or key not in _EPANDESC_KEYS:
            raise SkStackError("unknown EPANDESC field %r" % key)
        return {"event": "EPANDESC-FIELD", "key": _EPANDESC_KEYS[key], "value": value}
    toks = line.split(b" ")
    name = toks[0]
    if text is None and name != b"ERXUDP":
        raise SkStackError("line is not ASCII")
    ev = _node.parse_reply(toks)  # OK, FAIL, EVENT: what a node reads too
    if ev is not None:
        if name == b"EVENT":
            ev["name"] = EVENT_NAMES.get(ev["code"], "unknown")
        return ev
    if name == b"ERXUDP":
        if not ascii_data:
            raise SkStackError("binary ERXUDP must go through StreamParser")
        return _erxudp_hex_line(toks)
    if name == b"EPANDESC":
        return {"event": "EPANDESC"}
    if name.startswith(b"SK") or name.startswith(b"WOPT") or name.startswith(b"ROPT"):
        return {"event": "ECHO", "line": text}
    if name.startswith(b"E") and len(name) >= 4 and name.isalpha() and name.upper() == name:
        return {"event": name.decode(), "args": [t.decode() for t in toks[1:]]}
    if not line:
        return {"event": "EMPTY"}
    if b":" in name and len(toks) == 1:  # SKLL64's answer: the address alone
        return {"event": "IPADDR", "addr": _check_ipv6(name).decode()}
    raise SkStackError("unrecognised line %r" % (line[:40],))


class StreamParser(_NodeParser):
    """Incremental parser for the byte stream a dongle prints; feed() returns complete events.

    Never raises on module output: a malformed line becomes {"event": "ERROR", "reason": ...}
    (the caller counts it) and parsing resumes at the next line. EPANDESC blocks are folded
    into one {"event": "EPANDESC", "channel", "channel_page", "pan_id", "addr", "lqi", "side",
    "pair_id"}. `ascii_data`: False binary ERXUDP data (WOPT 00), True hex (WOPT 01), None
    either, told per line (a hex line never has CRLF where its binary data would end).
    `layout`: one of LAYOUTS to reject ERXUDP lines of any other, None to accept all three.
    The stream reading itself is lpwa.radio.skstack_node's (the node's parser); this one reads
    every line the grammar has.
    """

    def __init__(self, ascii_data=False, layout=None):
        if layout is not None and layout not in LAYOUTS:
            raise SkStackError("layout must be one of " + ", ".join(LAYOUTS))
        _NodeParser.__init__(self)
        self.ascii_data = ascii_data
        self.layout = layout
        self._pan = None

    def _line(self, line):
        return parse_line(line, self.ascii_data is not False)

    def _emit(self, ev, out):
        kind = ev["event"]
        if kind == "EMPTY":  # also the LF of a CRLF split after its CR: not the end of a block
            return
        if kind == "EPANDESC-FIELD":
            if self._pan is None:
                out.append({"event": "ERROR", "reason": "EPANDESC field outside a block"})
                return
            key, value = ev["key"], ev["value"]
            self._pan[key] = value if key in ("addr", "pair_id") else _int16(value)
            if key == "pair_id":
                out.append(self._pan)
                self._pan = None
            return
        if self._pan is not None:  # a block cut short: hand over what arrived
            out.append(self._pan)
            self._pan = None
        if kind == "EPANDESC":
            self._pan = {"event": "EPANDESC"}
        elif kind == "ERXUDP" and self.layout is not None and ev["layout"] != self.layout:
            out.append({"event": "ERROR", "reason": "ERXUDP in layout %s, dongle set to %s"
                        % (ev["layout"], self.layout)})
        else:
            out.append(ev)

    def _erxudp_data(self, buf, ev, start, end):
        """Binary data (the node's reading), or in auto mode hex data where CRLF follows it."""
        if buf[end:end + 2] != b"\r\n" and self.ascii_data is None:
            hex_end = start + 2 * (end - start)
            if len(buf) < hex_end + 2:
                return None
            if buf[hex_end:hex_end + 2] == b"\r\n" and _is_hex(buf[start:hex_end]):
                ev["data"] = binascii.unhexlify(buf[start:hex_end])
                self._buf = buf[hex_end + 2:]
                return ev
        return _NodeParser._erxudp_data(self, buf, ev, start, end)


def _int16(value):
    try:
        return int(value, 16)
    except ValueError:
        return None
