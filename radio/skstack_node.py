"""The part of the SKSTACK-IP line protocol a node uses: build `SKSENDTO`, read `OK`, `FAIL`,
`EVENT` and binary `ERXUDP` (downlinks) from its module.

Its own module so that a node loads only this (issue #14: every name and function a module
holds stays on the heap); lpwa.radio.skstack, the gateway's side, imports it and adds the rest
of the grammar (hex ERXUDP, EPANDESC, echoes, event names, line builders for simulators).
ERXUDP carries raw bytes after its length field, so the stream is not split on CRLF: the
header is read, then exactly DATALEN bytes. Layouts (widths after SENDERLLA tell them apart):
  a1      BP35A1:                     ... <SENDERLLA> <SECURED> <DATALEN> <DATA>
  c2      BP35C0/C2 (SA2 = 0, default): ... <SENDERLLA> <SECURED> <SIDE> <DATALEN> <DATA>
  c2-lqi  BP35C0/C2 with SKSREG SA2 1:  ... <SENDERLLA> <LQI> <SECURED> <SIDE> <DATALEN> <DATA>

Portable (CPython and MicroPython).
"""

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

# private, so mpy-cross folds them and a node interns no name (skstack.py has the public ones)
_SKSENDTO_MAX = const(0x04D0)  # 1232 bytes
_MAX_DATALEN = const(2047)  # 802.15.4g aMaxPhyPacketSize: no UDP payload can be longer
_TOO_LONG = const(3176)  # MAX_LINE 512 + 2 * SKSENDTO_MAX + 200: no line is longer
LAYOUTS = ("a1", "c2", "c2-lqi")  # header fields after ERXUDP, DATALEN included: 7 + index


class SkStackError(ValueError):
    """A command argument or module line that breaks the SKSTACK-IP grammar."""


def _is_hex(data, n=None):
    if not data or (n is not None and len(data) != n):
        return False
    for c in data:
        if c not in b"0123456789abcdefABCDEF":
            return False
    return True


def _check_ipv6(data):
    """SKSTACK prints IPv6 addresses as 8 groups of 4 upper-case hex digits."""
    if isinstance(data, str):
        data = data.encode()
    groups = bytes(data).split(b":")
    out = []
    for g in groups:
        if not _is_hex(g) or len(g) > 4:
            break
        out.append(b"0" * (4 - len(g)) + g.upper())
    if len(out) != 8 or len(groups) != 8:
        raise SkStackError("IPv6 address must be 8 colon-separated hex groups: %r" % (data,))
    return b":".join(out)


def rssi_from_lqi(lqi):
    """BP35C2 datasheet conversion, dBm = 0.275 LQI - 104.27 (one decimal)."""
    return round(0.275 * lqi - 104.27, 1)


def build_sksendto(handle, dest, port, payload, sec=1, side=None):
    """`SKSENDTO <HANDLE> <IPADDR> <PORT> <SEC> [<SIDE>] <DATALEN> <DATA>`; DATA is raw and not
    followed by CRLF (the module reads exactly DATALEN bytes). SIDE exists on BP35C2 only."""
    payload = bytes(payload)
    if not 1 <= len(payload) <= _SKSENDTO_MAX:
        raise SkStackError("SKSENDTO payload must be 1..1232 bytes, got %d" % len(payload))
    if not isinstance(handle, int) or not 1 <= handle <= 6:
        raise SkStackError("UDP handle must be 1..6")
    if not isinstance(port, int) or not 1 <= port <= 0xFFFF:
        raise SkStackError("port must be 1..65535")
    if sec not in (0, 1, 2):
        raise SkStackError("SEC must be 0, 1 or 2")
    head = b"SKSENDTO %d " % handle + _check_ipv6(dest) + b" %04X %d " % (port, sec)
    if side is not None:
        if side not in (0, 1):
            raise SkStackError("SIDE must be 0 or 1")
        head += b"%d " % side
    return head + b"%04X " % len(payload) + payload


def erxudp_layout(args):
    """The layout named by the ERXUDP header fields read so far (`args`, the words after
    ERXUDP), or None until that shows."""
    if len(args) < 6:
        return None
    if len(args[5]) == 2:
        return "c2-lqi"
    if len(args[5]) != 1:
        raise SkStackError("ERXUDP field after the sender LLA must be SECURED or LQI")
    if len(args) < 7:
        return None
    if len(args[6]) == 4:
        return "a1"
    if len(args[6]) == 1:
        return "c2"
    raise SkStackError("ERXUDP field after SECURED must be SIDE or DATALEN")


def erxudp_fields(args, layout):
    """Header fields (`args`) after ERXUDP up to and including DATALEN -> event dict and data length."""
    ev = {"event": "ERXUDP", "layout": layout, "lqi": None, "side": None}
    ev["sender"] = _check_ipv6(args[0]).decode()
    ev["dest"] = _check_ipv6(args[1]).decode()
    for key, tok in (("rport", args[2]), ("lport", args[3])):
        if not _is_hex(tok, 4):
            raise SkStackError("ERXUDP %s must be 4 hex digits" % key)
        ev[key] = int(tok, 16)
    if not _is_hex(args[4], 16):
        raise SkStackError("ERXUDP sender LLA must be 16 hex digits")
    ev["sender_lla"] = args[4].decode()
    rest = args[5:]
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
    if n > _MAX_DATALEN:  # a damaged length must not swallow the stream that follows
        raise SkStackError("ERXUDP DATALEN %d exceeds a PHY frame" % n)
    return ev, n


def _erxudp_header(buf):
    """Split an ERXUDP header off `buf`: (event, data offset, data length), or None if more bytes
    are needed. The layout shows in the widths of the fields after the sender LLA."""
    pos = 7  # after b"ERXUDP "
    args = []
    while True:
        sp = buf.find(b" ", pos)
        limit = sp if sp >= 0 else len(buf)
        if b"\r" in buf[pos:limit] or b"\n" in buf[pos:limit]:
            raise SkStackError("ERXUDP line ends before its data")
        if sp < 0:
            if len(buf) - pos > 64:
                raise SkStackError("ERXUDP header field too long")
            return None
        args.append(bytes(buf[pos:sp]))
        pos = sp + 1
        layout = erxudp_layout(args)
        if layout is not None and len(args) == 7 + LAYOUTS.index(layout):
            ev, dlen = erxudp_fields(args, layout)
            return ev, pos, dlen


def parse_reply(args):
    """An `OK`, `FAIL` or `EVENT` line split on spaces (`args`) -> event dict; None for any other line."""
    name = args[0]
    if name == b"OK":
        return {"event": "OK", "args": [t.decode() for t in args[1:]]}
    if name == b"FAIL":
        if len(args) != 2 or not args[1].startswith(b"ER"):
            raise SkStackError("FAIL must carry one ERxx code")
        return {"event": "FAIL", "code": args[1].decode()}
    if name != b"EVENT":
        return None
    if len(args) < 3 or not _is_hex(args[1], 2):
        raise SkStackError("EVENT needs a 2-digit hex number and a sender")
    code = int(args[1], 16)
    ev = {"event": "EVENT", "code": code, "sender": _check_ipv6(args[2]).decode(), "side": None, "param": None}
    rest = args[3:]
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
    """Incremental parser for the bytes a module prints; feed() returns complete events.

    Never raises on module output: a malformed line, or one a node does not expect (anything but
    OK, FAIL, EVENT and binary ERXUDP), becomes {"event": "ERROR", "reason": ...} and parsing
    resumes at the next line. lpwa.radio.skstack.StreamParser reads the whole grammar.
    """

    ascii_data = False  # ERXUDP data as raw bytes (WOPT 00); the gateway's parser has the others

    def __init__(self):
        self._buf = b""  # bytes, not bytearray: MicroPython cannot delete bytearray slices
        self._skip = False  # dropping the rest of a bad line that has not fully arrived

    def feed(self, data):
        self._buf += bytes(data)
        out = []
        while True:
            ev = self._next()
            if ev is None:
                break
            if ev:  # {}: an empty line, also the LF of a CRLF split after its CR
                self._emit(ev, out)
        return out

    def _emit(self, event, out):
        out.append(event)

    def _line(self, line):
        """One complete text line (without its end) -> event ({} if empty); raises ValueError."""
        if not line:
            return {}
        ev = parse_reply(line.split(b" "))
        if ev is None:
            raise SkStackError("unexpected line %r" % (line[:40],))
        return ev

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
            if len(buf) > _TOO_LONG:
                self._buf = b""
                self._skip = True
                return {"event": "ERROR", "reason": "line too long"}
            return None
        line = buf[:cut[0]]
        self._buf = buf[cut[1]:]
        try:
            return self._line(line)
        except ValueError as e:  # SkStackError, or a line that is not ASCII
            return {"event": "ERROR", "reason": str(e)}

    def _erxudp(self, buf):
        """An ERXUDP line read by its length field."""
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
        return self._erxudp_data(buf, ev, start, end)

    def _erxudp_data(self, buf, event, start, end):
        """The binary data of a whole ERXUDP line buf[start:end], then its CRLF."""
        event["data"] = bytes(buf[start:end])
        if buf[end:end + 2] != b"\r\n":
            self._buf = buf[end:]
            return {"event": "ERROR", "reason": "ERXUDP data not followed by CRLF", "partial": event}
        self._buf = buf[end + 2:]
        return event

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
