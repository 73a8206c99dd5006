"""Sigfox for the 920 MHz band (RC3): the module's AT commands (node side) and the Sigfox
cloud's HTTP callback body (gateway side).

AT dialect: Wisol/Kyocera style modules (WSSFM10R3 and compatibles): `AT$SF=<hex>` sends,
`AT$SF=<hex>,1` also asks for a downlink, answered `OK` then `RX=xx xx ..` (8 bytes);
`AT$RC` resets the RC macro channel; `AT$I=10` device id, `AT$I=11` PAC; lines end with CR.
Callback: Sigfox backend "custom callback" variables {device} {time} {data} {seqNumber} {ack}
{station} {rssi} {snr}; a bidirectional callback answers {"<device>": {"downlinkData": "<16
hex>"}}. Sources: sigfox/sigfox-downlink example, Sigfox backend callback documentation.
Portable (CPython and MicroPython).
"""

import binascii

UPLINK_MAX = 12
DOWNLINK_BYTES = 8
_HEX = "0123456789abcdefABCDEF"
_NUMCHARS = "0123456789+-.eE"


class SigfoxError(ValueError):
    """A module reply or callback body that is not what a Sigfox module or the cloud sends."""


def _is_hex(text):
    for c in text:
        if c not in _HEX:
            return False
    return True


def build_send(payload, downlink=False):
    """`AT$SF=<hex>[,1]\\r` for a 0..12 byte uplink; downlink=True waits for an 8-byte reply."""
    payload = bytes(payload)
    if len(payload) > UPLINK_MAX:
        raise SigfoxError("Sigfox uplink is at most 12 bytes, got %d" % len(payload))
    cmd = b"AT$SF=" + binascii.hexlify(payload).upper()
    if downlink:
        cmd += b",1"
    return cmd + b"\r"


def build_reset_channel():
    """`AT$RC`: reset the macro channel before sending (Wisol modules need it in RC2/RC4)."""
    return b"AT$RC\r"


def build_query_id():
    return b"AT$I=10\r"


def build_query_pac():
    return b"AT$I=11\r"


def parse_reply(line):
    """One module reply line -> {"reply": "OK"} | {"reply": "RX", "data": bytes(8)} |
    {"reply": "ERROR", "code": text} | {"reply": "VALUE", "value": text}."""
    if isinstance(line, (bytes, bytearray, memoryview)):
        try:
            line = bytes(line).decode()
        except (UnicodeError, ValueError):
            raise SigfoxError("reply is not ASCII")
    if not isinstance(line, str):
        raise SigfoxError("reply must be text")
    text = line.strip()
    if not text:
        raise SigfoxError("empty reply")
    if len(text) > 80:
        raise SigfoxError("reply too long")
    for c in text:
        if not " " <= c <= "~":
            raise SigfoxError("reply has control characters")
    if text == "OK":
        return {"reply": "OK"}
    if text.startswith("RX="):
        hexes = text[3:].replace(" ", "")
        if len(hexes) != 2 * DOWNLINK_BYTES or not _is_hex(hexes):
            raise SigfoxError("RX= must carry 8 hex bytes")
        return {"reply": "RX", "data": binascii.unhexlify(hexes)}
    if text.startswith("ERR") or text.startswith("ERROR"):
        return {"reply": "ERROR", "code": text}
    return {"reply": "VALUE", "value": text}


def _number(body, key, default=None, kind=int):
    v = body.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool):
        raise SigfoxError("%s must be a number" % key)
    if isinstance(v, str):
        if not v or len(v) > 32 or not all(c in _NUMCHARS for c in v):  # ASCII numbers only
            raise SigfoxError("%s must be a number" % key)
        try:
            v = float(v) if kind is float else int(v)
        except ValueError:
            raise SigfoxError("%s must be a number" % key)
    if not isinstance(v, (int, float)):
        raise SigfoxError("%s must be a number" % key)
    try:
        v = kind(v)
    except (ValueError, OverflowError):  # NaN or infinity where an integer is due
        raise SigfoxError("%s must be a finite number" % key)
    if v != v or v - v != 0:  # NaN, or infinity (inf - inf is NaN)
        raise SigfoxError("%s must be a finite number" % key)
    return v


def parse_callback(body):
    """Validate a Sigfox cloud callback body; return {"device": "<8 hex>", "device_id", "seq",
    "data", "time", "ack", "rssi", "snr", "station"}. `device` is lower-cased and zero-padded (our
    key); `device_id` is the id exactly as the cloud spelled it ("1B29CC4"), which a bidirectional
    answer must be keyed by."""
    if not isinstance(body, dict):
        raise SigfoxError("callback body must be a JSON object")
    dev = body.get("device")
    if not isinstance(dev, str) or not 1 <= len(dev) <= 8 or not _is_hex(dev):
        raise SigfoxError("device must be up to 8 hex digits")
    data = body.get("data", "")
    if not isinstance(data, str) or len(data) % 2 or len(data) > 2 * UPLINK_MAX or not _is_hex(data):
        raise SigfoxError("data must be 0..12 bytes of hex")
    seq = body.get("seqNumber", body.get("seq"))
    if seq is None:
        raise SigfoxError("seqNumber is required")
    seq = _number({"seqNumber": seq}, "seqNumber")
    if not 0 <= seq <= 0xFFF:
        raise SigfoxError("seqNumber must be 0..4095")
    t = _number(body, "time")
    if t is None or t < 0:
        raise SigfoxError("time must be Unix seconds")
    ack = body.get("ack", False)
    if isinstance(ack, str) and ack in ("true", "false"):
        ack = ack == "true"
    if not isinstance(ack, bool):
        raise SigfoxError("ack must be true or false")
    station = body.get("station")
    if station is not None and not isinstance(station, str):
        raise SigfoxError("station must be text")
    return {"device": ("00000000" + dev.lower())[-8:], "device_id": dev, "seq": seq, "data": binascii.unhexlify(data),
            "time": t, "ack": ack, "rssi": _number(body, "rssi", kind=float),
            "snr": _number(body, "snr", kind=float), "station": station}


def build_downlink_response(device_hex, data8):
    """The body a bidirectional callback answers with: exactly 8 bytes for `device_hex`, which
    must be the id as the callback spelled it (the backend matches the key as text)."""
    data8 = bytes(data8)
    if len(data8) != DOWNLINK_BYTES:
        raise SigfoxError("Sigfox downlink is exactly 8 bytes, got %d" % len(data8))
    if not isinstance(device_hex, str) or not 1 <= len(device_hex) <= 8 or not _is_hex(device_hex):
        raise SigfoxError("device must be up to 8 hex digits")
    return {device_hex: {"downlinkData": binascii.hexlify(data8).decode()}}
