"""Semtech UDP packet-forwarder protocol: what a Raspberry Pi LoRa concentrator HAT speaks.

Source: Lora-net/packet_forwarder PROTOCOL.TXT (protocol version 2; version 1 is accepted too).
Every datagram is: version (1 byte), random token (2 bytes), identifier (1 byte), then per type
the gateway EUI (8 bytes) and/or a JSON object. `parse` is strict: anything else raises
ProtocolError with a short `.reason`; nothing else escapes, whatever the input.
Acknowledgements and downlinks go out in the protocol version the forwarder used: the reference
forwarder (lora_pkt_fwd.c) drops any PUSH_ACK / PULL_ACK / PULL_RESP whose version byte is not its
own PROTOCOL_VERSION, and ChirpStack's UDP bridge likewise answers in the received version.
One bad rxpk does not sink its neighbours: `rxpk_entries` decodes each on its own.
Portable (CPython and MicroPython): json, binascii, bytes only.
"""

import binascii
import json

PUSH_DATA = 0
PUSH_ACK = 1
PULL_DATA = 2
PULL_RESP = 3
PULL_ACK = 4
TX_ACK = 5

VERSION = 2
TYPE_NAMES = ("PUSH_DATA", "PUSH_ACK", "PULL_DATA", "PULL_RESP", "PULL_ACK", "TX_ACK")
# TX_ACK error values (PROTOCOL.TXT section 6).
TX_ERRORS = ("NONE", "TOO_LATE", "TOO_EARLY", "COLLISION_PACKET", "COLLISION_BEACON", "TX_FREQ",
             "TX_POWER", "GPS_UNLOCKED")

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEX = "0123456789abcdef"


class ProtocolError(ValueError):
    """A datagram or JSON field that does not follow PROTOCOL.TXT; `.reason` says which rule."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        super().__init__(reason + (": " + detail if detail else ""))


def _hex(b):
    return binascii.hexlify(b).decode()


def _eui_bytes(eui_hex):
    if not isinstance(eui_hex, str) or len(eui_hex) != 16:
        raise ProtocolError("bad-eui", "gateway EUI must be 16 hex digits")
    for c in eui_hex.lower():
        if c not in _HEX:
            raise ProtocolError("bad-eui", "gateway EUI must be 16 hex digits")
    return binascii.unhexlify(eui_hex)


def _header(token, kind, version=VERSION):
    if not isinstance(token, int) or not 0 <= token <= 0xFFFF:
        raise ProtocolError("bad-token", "token must be 0..65535")
    if version not in (1, 2):
        raise ProtocolError("bad-version", "protocol version %r" % (version,))
    return bytes((version, token >> 8, token & 0xFF, kind))


def _json_bytes(obj):
    return json.dumps(obj).encode()


def _load_object(raw, what):
    while raw and raw[-1] == 0:  # some forwarders NUL-terminate the JSON string
        raw = raw[:-1]
    for c in raw:  # raw control characters are never valid JSON; MicroPython's parser lets them by
        if c < 0x20 and c not in (9, 10, 13):
            raise ProtocolError("bad-json", what + " has a control character")
    try:
        obj = json.loads(bytes(raw).decode())
    except (ValueError, RuntimeError):  # bad UTF-8, bad JSON, too deeply nested
        raise ProtocolError("bad-json", what + " is not valid JSON")
    if not isinstance(obj, dict):
        raise ProtocolError("bad-json", what + " must be a JSON object")
    return obj


def parse(datagram):
    """Decode one datagram into {"version", "token", "type", "eui", "json"}."""
    if not isinstance(datagram, (bytes, bytearray, memoryview)):
        raise ProtocolError("bad-type", "datagram must be bytes")
    d = bytes(datagram)
    if len(d) < 4:
        raise ProtocolError("truncated", "shorter than the 4-byte header")
    version, kind = d[0], d[3]
    if version not in (1, 2):
        raise ProtocolError("bad-version", "protocol version %d" % version)
    if kind > TX_ACK:
        raise ProtocolError("bad-identifier", "identifier 0x%02x" % kind)
    msg = {"version": version, "token": (d[1] << 8) | d[2], "type": kind, "eui": None, "json": None}
    if kind in (PUSH_DATA, PULL_DATA, TX_ACK):
        if len(d) < 12:
            raise ProtocolError("truncated", TYPE_NAMES[kind] + " needs the 8-byte gateway EUI")
        msg["eui"] = _hex(d[4:12])
        body = d[12:]
        if kind == PUSH_DATA:
            msg["json"] = _load_object(body, "PUSH_DATA")
            _check_push(msg["json"])
        elif kind == PULL_DATA:
            if body:
                raise ProtocolError("trailing-bytes", "PULL_DATA carries nothing after the EUI")
        elif body.rstrip(b"\x00"):
            msg["json"] = _load_object(body, "TX_ACK")
            ack = msg["json"].get("txpk_ack")
            if ack is not None and not isinstance(ack, dict):
                raise ProtocolError("bad-field", "txpk_ack must be an object")
    elif kind == PULL_RESP:
        msg["json"] = _load_object(d[4:], "PULL_RESP")
        if not isinstance(msg["json"].get("txpk"), dict):
            raise ProtocolError("bad-field", "PULL_RESP needs a txpk object")
    elif kind == PULL_ACK:
        if len(d) == 12:  # protocol v1 echoed the EUI
            msg["eui"] = _hex(d[4:12])
        elif len(d) != 4:
            raise ProtocolError("trailing-bytes", "PULL_ACK is 4 bytes")
    elif len(d) != 4:
        raise ProtocolError("trailing-bytes", "PUSH_ACK is 4 bytes")
    return msg


def _check_push(obj):
    rx = obj.get("rxpk")
    if rx is not None and not isinstance(rx, list):
        raise ProtocolError("bad-field", "rxpk must be an array")
    st = obj.get("stat")
    if st is not None and not isinstance(st, dict):
        raise ProtocolError("bad-field", "stat must be an object")


def ack_for(msg):
    """The reply a network server owes, in the datagram's own protocol version: PUSH_ACK for
    PUSH_DATA, PULL_ACK for PULL_DATA, else None."""
    kind = msg.get("type")
    version = msg.get("version", VERSION)
    if kind == PUSH_DATA:
        return _header(msg["token"], PUSH_ACK, version)
    if kind == PULL_DATA:
        return _header(msg["token"], PULL_ACK, version)
    return None


def b64decode(text):
    """Strict base64 (the alphabet, '=' padding only at the end); missing padding is tolerated."""
    if not isinstance(text, str):
        raise ProtocolError("bad-field", "data must be a base64 string")
    raw = text.encode()
    body = raw.rstrip(b"=")
    if len(raw) - len(body) > 2:
        raise ProtocolError("bad-base64", "too much padding")
    for c in body:
        if c not in _B64:
            raise ProtocolError("bad-base64", "character outside the base64 alphabet")
    if len(body) % 4 == 1:
        raise ProtocolError("bad-base64", "impossible length")
    body += b"=" * (-len(body) % 4)
    try:
        return binascii.a2b_base64(body)
    except ValueError:
        raise ProtocolError("bad-base64", "undecodable")


def b64encode(data):
    return binascii.b2a_base64(bytes(data)).decode().strip()


def _num(pk, key, required=False):
    v = pk.get(key)
    if v is None:
        if required:
            raise ProtocolError("bad-field", "rxpk." + key + " is required")
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProtocolError("bad-field", "rxpk." + key + " must be a number")
    return v


def rxpk_entries(msg):
    """One (payload, meta, None) or (None, None, reason) per rxpk of a parsed PUSH_DATA, so a bad
    entry (bad base64, size mismatch, missing data, a string where a number is due) is counted
    and the good ones beside it still delivered. meta as for rxpk_frames."""
    obj = msg.get("json") if msg.get("type") == PUSH_DATA else None
    if not obj:
        return []
    out = []
    for pk in obj.get("rxpk") or ():
        try:
            data, meta = _rxpk(pk)
        except ProtocolError as e:
            out.append((None, None, e.reason))
            continue
        out.append((data, meta, None))
    return out


def rxpk_frames(msg):
    """(payload bytes, meta) for every rxpk in a parsed PUSH_DATA; meta has rssi, snr, freq, datr,
    tmst, time, chan, crc_ok (stat == 1). Frames with a failed CRC are returned, flagged. Strict:
    the first bad entry raises (rxpk_entries keeps the good ones)."""
    out = []
    for data, meta, reason in rxpk_entries(msg):
        if reason is not None:
            raise ProtocolError(reason, "bad rxpk entry")
        out.append((data, meta))
    return out


def _rxpk(pk):
    if not isinstance(pk, dict):
        raise ProtocolError("bad-field", "rxpk entries must be objects")
    data = b64decode(pk.get("data"))
    size = _num(pk, "size")
    if size is not None and size != len(data):
        raise ProtocolError("bad-size", "rxpk.size %r but data has %d bytes" % (size, len(data)))
    datr = pk.get("datr")
    if datr is not None and not isinstance(datr, (str, int)):
        raise ProtocolError("bad-field", "rxpk.datr must be a string or a bit rate")
    rssi = _num(pk, "rssi")
    snr = _num(pk, "lsnr")
    rsig = pk.get("rsig")  # v2 multi-antenna concentrators: per-antenna rssic / lsnr
    if rssi is None and isinstance(rsig, list) and rsig and isinstance(rsig[0], dict):
        rssi = _num(rsig[0], "rssic")
        if snr is None:
            snr = _num(rsig[0], "lsnr")
    t = pk.get("time")
    if t is not None and not isinstance(t, str):
        raise ProtocolError("bad-field", "rxpk.time must be a string")
    stat = _num(pk, "stat")
    meta = {"rssi": rssi, "snr": snr, "freq": _num(pk, "freq"), "datr": datr,
            "tmst": _num(pk, "tmst"), "time": t, "chan": _num(pk, "chan"),
            "crc_ok": stat is None or stat == 1}
    return data, meta


def make_rxpk(payload, freq=923.2, datr="SF10BW125", rssi=-80, snr=7.5, tmst=0):
    """An rxpk object as a concentrator reports one received LoRa frame."""
    payload = bytes(payload)
    return {"tmst": tmst, "chan": 0, "rfch": 0, "freq": freq, "stat": 1, "modu": "LORA",
            "datr": datr, "codr": "4/5", "rssi": rssi, "lsnr": snr, "size": len(payload),
            "data": b64encode(payload)}


def build_push_data(token, eui_hex, rxpks, stat=None, version=VERSION):
    obj = {}
    if rxpks:
        obj["rxpk"] = list(rxpks)
    if stat is not None:
        obj["stat"] = stat
    return _header(token, PUSH_DATA, version) + _eui_bytes(eui_hex) + _json_bytes(obj)


def build_pull_data(token, eui_hex, version=VERSION):
    return _header(token, PULL_DATA, version) + _eui_bytes(eui_hex)


def make_txpk(payload, freq, datr, tmst=None, imme=False, powe=13):
    """A txpk for PULL_RESP. `imme` sends at once; otherwise at concentrator time `tmst` (us).
    ipol is True: downlinks use inverted IQ (the LoRaWAN convention our nodes listen with)."""
    payload = bytes(payload)
    pk = {"imme": bool(imme), "freq": freq, "rfch": 0, "powe": powe, "modu": "LORA",
          "datr": datr, "codr": "4/5", "ipol": True, "size": len(payload), "data": b64encode(payload)}
    if not imme:
        if tmst is None:
            raise ProtocolError("bad-field", "txpk needs tmst unless imme")
        pk["tmst"] = tmst
    return pk


def build_pull_resp(token, txpk, version=VERSION):
    """PULL_RESP in `version`, the one the forwarder's PULL_DATA used (v1 forwarders ignore the
    token, PROTOCOL.TXT section 5; lora_pkt_fwd.c still checks the version byte)."""
    return _header(token, PULL_RESP, version) + _json_bytes({"txpk": txpk})


def build_tx_ack(token, eui_hex, error=None):
    """TX_ACK; `error` is one of TX_ERRORS, or None for a bare acknowledgement."""
    out = _header(token, TX_ACK) + _eui_bytes(eui_hex)
    if error is not None:
        if error not in TX_ERRORS:
            raise ProtocolError("bad-field", "unknown TX_ACK error %r" % (error,))
        out += _json_bytes({"txpk_ack": {"error": error}})
    return out


def tx_ack_error(msg):
    """The TX_ACK error string ("NONE" when accepted), or None when the ack carries none."""
    obj = msg.get("json") or {}
    ack = obj.get("txpk_ack") or {}
    err = ack.get("error")
    return err if isinstance(err, str) else None


def txpk_frame(msg):
    """(payload bytes, txpk dict) of a parsed PULL_RESP."""
    if msg.get("type") != PULL_RESP:
        raise ProtocolError("bad-type", "not a PULL_RESP")
    pk = msg["json"]["txpk"]
    data = b64decode(pk.get("data"))
    size = pk.get("size")
    if size is not None and size != len(data):
        raise ProtocolError("bad-size", "txpk.size does not match data")
    return data, pk
