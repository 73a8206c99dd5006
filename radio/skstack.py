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

Portable (CPython and MicroPython).
"""

import binascii

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
LAYOUTS = ("a1", "c2", "c2-lqi")
_LAYOUT_FIELDS = {"a1": 7, "c2": 8, "c2-lqi": 9}  # header fields after ERXUDP, DATALEN included
# EVENT numbers after which the PANA session is gone (the gateway re-joins): PANA failed,
# termination requested by the peer, terminated, termination timed out, lifetime expired.
SESSION_LOST = (0x24, 0x26, 0x27, 0x28, 0x29)
_HEXCHARS = b"0123456789abcdefABCDEF"


class SkStackError(ValueError):
    """A command argument or module line that breaks the SKSTACK-IP grammar."""


def _is_hex(tok, n=None):
    if not tok or (n is not None and len(tok) != n):
        return False
    for c in tok:
        if c not in _HEXCHARS:
            return False
    return True


def _check_ipv6(addr):
    """SKSTACK prints IPv6 addresses as 8 groups of 4 upper-case hex digits."""
    if isinstance(addr, str):
        addr = addr.encode()
    groups = bytes(addr).split(b":")
    if len(groups) != 8 or not all(_is_hex(g) and len(g) <= 4 for g in groups):
        raise SkStackError("IPv6 address must be 8 colon-separated hex groups: %r" % (addr,))
    return b":".join(b"0" * (4 - len(g)) + g.upper() for g in groups)


def rssi_from_lqi(lqi):
    """BP35C2 datasheet conversion, dBm = 0.275 LQI - 104.27 (one decimal)."""
    return round(0.275 * lqi - 104.27, 1)


def build_sksendto(handle, ipaddr, port, payload, sec=1, side=None):
    """`SKSENDTO <HANDLE> <IPADDR> <PORT> <SEC> [<SIDE>] <DATALEN> <DATA>`; DATA is raw and not
    followed by CRLF (the module reads exactly DATALEN bytes). SIDE exists on BP35C2 only."""
    payload = bytes(payload)
    if not 1 <= len(payload) <= SKSENDTO_MAX:
        raise SkStackError("SKSENDTO payload must be 1..1232 bytes, got %d" % len(payload))
    if not isinstance(handle, int) or not 1 <= handle <= 6:
        raise SkStackError("UDP handle must be 1..6")
    if not isinstance(port, int) or not 1 <= port <= 0xFFFF:
        raise SkStackError("port must be 1..65535")
    if sec not in (0, 1, 2):
        raise SkStackError("SEC must be 0, 1 or 2")
    head = b"SKSENDTO %d " % handle + _check_ipv6(ipaddr) + b" %04X %d " % (port, sec)
    if side is not None:
        if side not in (0, 1):
            raise SkStackError("SIDE must be 0 or 1")
        head += b"%d " % side
    return head + b"%04X " % len(payload) + payload


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


def _erxudp_layout(toks):
    """The layout named by the header tokens read so far, or None until that shows."""
    if len(toks) < 6:
        return None
    if len(toks[5]) == 2:
        return "c2-lqi"
    if len(toks[5]) != 1:
        raise SkStackError("ERXUDP field after the sender LLA must be SECURED or LQI")
    if len(toks) < 7:
        return None
    if len(toks[6]) == 4:
        return "a1"
    if len(toks[6]) == 1:
        return "c2"
    raise SkStackError("ERXUDP field after SECURED must be SIDE or DATALEN")


def _erxudp_fields(toks, layout):
    """Header tokens after ERXUDP up to and including DATALEN -> event dict and data length."""
    ev = {"event": "ERXUDP", "layout": layout, "lqi": None, "side": None}
    ev["sender"] = _check_ipv6(toks[0]).decode()
    ev["dest"] = _check_ipv6(toks[1]).decode()
    for key, tok in (("rport", toks[2]), ("lport", toks[3])):
        if not _is_hex(tok, 4):
            raise SkStackError("ERXUDP %s must be 4 hex digits" % key)
        ev[key] = int(tok, 16)
    if not _is_hex(toks[4], 16):
        raise SkStackError("ERXUDP sender LLA must be 16 hex digits")
    ev["sender_lla"] = toks[4].decode()
    rest = toks[5:]
    if layout == "c2-lqi":
        if not _is_hex(rest[0], 2):
            raise SkStackError("ERXUDP LQI must be 2 hex digits")
        ev["lqi"] = int(rest[0], 16)
        ev["rssi"] = rssi_from_lqi(ev["lqi"])
        rest = rest[1:]
    sec, dlen = rest[0], rest[-1]
    if layout != "a1":
        if rest[1] not in (b"0", b"1"):
            raise SkStackError("ERXUDP SIDE must be 0 or 1")
        ev["side"] = int(rest[1])
    if sec not in (b"0", b"1"):
        raise SkStackError("ERXUDP SECURED must be 0 or 1")
    ev["secured"] = sec == b"1"
    if not _is_hex(dlen, 4):
        raise SkStackError("ERXUDP DATALEN must be 4 hex digits")
    n = int(dlen, 16)
    if n > MAX_DATALEN:  # a damaged length must not swallow the stream that follows
        raise SkStackError("ERXUDP DATALEN %d exceeds a PHY frame" % n)
    return ev, n


def _erxudp_header(buf):
    """Split an ERXUDP header off `buf`: (event, data offset, data length), or None if more bytes
    are needed. The layout shows in the widths of the fields after the sender LLA."""
    pos = 7  # after b"ERXUDP "
    toks = []
    while True:
        sp = buf.find(b" ", pos)
        limit = sp if sp >= 0 else len(buf)
        if b"\r" in buf[pos:limit] or b"\n" in buf[pos:limit]:
            raise SkStackError("ERXUDP line ends before its data")
        if sp < 0:
            if len(buf) - pos > 64:
                raise SkStackError("ERXUDP header field too long")
            return None
        toks.append(bytes(buf[pos:sp]))
        pos = sp + 1
        layout = _erxudp_layout(toks)
        if layout is not None and len(toks) == _LAYOUT_FIELDS[layout]:
            ev, dlen = _erxudp_fields(toks, layout)
            return ev, pos, dlen


def _erxudp_hex_line(toks):
    """A whole hex-mode (WOPT 01) ERXUDP line split on spaces -> event with its data."""
    layout = _erxudp_layout(toks[1:-1]) if len(toks) >= 8 else None
    if layout is None or len(toks) != _LAYOUT_FIELDS[layout] + 2:
        raise SkStackError("ERXUDP has %d fields" % (len(toks) - 1))
    ev, dlen = _erxudp_fields(toks[1:-1], layout)
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
    if name == b"OK":
        return {"event": "OK", "args": [t.decode() for t in toks[1:]]}
    if name == b"FAIL":
        if len(toks) != 2 or not toks[1].startswith(b"ER"):
            raise SkStackError("FAIL must carry one ERxx code")
        return {"event": "FAIL", "code": toks[1].decode()}
    if name == b"EVENT":
        return _parse_event(toks)
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


def _parse_event(toks):
    if len(toks) < 3 or not _is_hex(toks[1], 2):
        raise SkStackError("EVENT needs a 2-digit hex number and a sender")
    code = int(toks[1], 16)
    ev = {"event": "EVENT", "code": code, "name": EVENT_NAMES.get(code, "unknown"),
          "sender": _check_ipv6(toks[2]).decode(), "side": None, "param": None}
    rest = toks[3:]
    if rest and len(rest[0]) == 1:  # BP35C2 SIDE
        if rest[0] not in (b"0", b"1"):
            raise SkStackError("EVENT SIDE must be 0 or 1")
        ev["side"] = int(rest[0])
        rest = rest[1:]
    if len(rest) > 1:
        raise SkStackError("EVENT has too many fields")
    if rest:
        if not _is_hex(rest[0]) or len(rest[0]) > 4:
            raise SkStackError("EVENT parameter must be hex")
        ev["param"] = int(rest[0], 16)
    if code == 0x21:
        ev["ok"] = ev["param"] == 0
    return ev


class StreamParser:
    """Incremental parser for the byte stream a dongle prints; feed() returns complete events.

    Never raises on module output: a malformed line becomes {"event": "ERROR", "reason": ...}
    (the caller counts it) and parsing resumes at the next line. EPANDESC blocks are folded
    into one {"event": "EPANDESC", "channel", "channel_page", "pan_id", "addr", "lqi", "side",
    "pair_id"}. `ascii_data`: False binary ERXUDP data (WOPT 00), True hex (WOPT 01), None
    either, told per line (a hex line never has CRLF where its binary data would end).
    `layout`: one of LAYOUTS to reject ERXUDP lines of any other, None to accept all three.
    """

    def __init__(self, ascii_data=False, layout=None):
        if layout is not None and layout not in LAYOUTS:
            raise SkStackError("layout must be one of " + ", ".join(LAYOUTS))
        self.ascii_data = ascii_data
        self.layout = layout
        self._buf = b""  # bytes, not bytearray: MicroPython cannot delete bytearray slices
        self._pan = None
        self._skip = False  # dropping the rest of a bad line that has not fully arrived

    def feed(self, data):
        self._buf += bytes(data)
        out = []
        while True:
            ev = self._next()
            if ev is None:
                break
            self._emit(ev, out)
        return out

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

    def _next(self):
        buf = self._buf
        if self._skip:
            cut = _eol(buf)
            if cut is None:
                self._buf = b""
                return None
            buf = self._buf = buf[cut[1]:]
            self._skip = False
        if not buf:
            return None
        if self.ascii_data is not True and buf[:7] == b"ERXUDP "[:len(buf[:7])]:
            if len(buf) < 7:
                return None
            return self._erxudp(buf)
        cut = _eol(buf)
        if cut is None:
            if len(buf) > MAX_LINE + 2 * SKSENDTO_MAX + 200:
                self._buf = b""
                self._skip = True
                return {"event": "ERROR", "reason": "line too long"}
            return None
        line = buf[:cut[0]]
        self._buf = buf[cut[1]:]
        try:
            return parse_line(line, self.ascii_data is not False)
        except SkStackError as e:
            return {"event": "ERROR", "reason": str(e)}

    def _erxudp(self, buf):
        """An ERXUDP line read by its length field: binary data, or (auto mode) hex data."""
        try:
            head = _erxudp_header(buf)
        except SkStackError as e:
            return self._drop_line(str(e))
        if head is None:
            return None
        ev, start, dlen = head
        end = start + dlen
        if len(buf) < end + 2:
            return None
        if buf[end:end + 2] != b"\r\n" and self.ascii_data is None:
            hex_end = start + 2 * dlen
            if len(buf) < hex_end + 2:
                return None
            if buf[hex_end:hex_end + 2] == b"\r\n" and _is_hex(buf[start:hex_end]):
                ev["data"] = binascii.unhexlify(buf[start:hex_end])
                self._buf = buf[hex_end + 2:]
                return ev
        ev["data"] = bytes(buf[start:end])
        if buf[end:end + 2] != b"\r\n":
            self._buf = buf[end:]
            return {"event": "ERROR", "reason": "ERXUDP data not followed by CRLF", "partial": ev}
        self._buf = buf[end + 2:]
        return ev

    def _drop_line(self, reason):
        cut = _eol(self._buf)
        if cut is None:
            self._buf = b""
            self._skip = True
        else:
            self._buf = self._buf[cut[1]:]
        return {"event": "ERROR", "reason": reason}


def _eol(buf):
    """(end of the first text line, start of the next) in `buf`, or None. CRLF, LF, or CR alone
    (WOPT/ROPT answers) end a line; a CR last in `buf` is taken as the end (a LF after it then
    reads as an empty line)."""
    cr = buf.find(b"\r")
    nl = buf.find(b"\n")
    if cr < 0 and nl < 0:
        return None
    if cr < 0 or 0 <= nl < cr:
        return nl, nl + 1
    return cr, cr + (2 if buf[cr + 1:cr + 2] == b"\n" else 1)


def _int16(value):
    try:
        return int(value, 16)
    except ValueError:
        return None
