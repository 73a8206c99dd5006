"""Downlink commands (gateway encodes, firmware decodes); at most 8 bytes so Sigfox can carry them.

    0      cmd      version (bits 7-6) | command id (bits 5-0)
    1..    args     per command, big-endian (0..2 bytes)
    n-5    counter  low 8 bits of the gateway's 32-bit downlink counter for this device
    n-4..  MIC      first 4 bytes of AES-CMAC(mic key, B0 || bytes before the MIC), B0 = 0x01
                    (downlink) || device (4) || counter (4, full 32 bits)

Sigfox downlinks are exactly 8 bytes: `pad_downlink` appends zero bytes after the MIC, and the
decoder, which knows each command's length from its id, accepts only zeros there.

The node keeps the last accepted downlink counter; the only counter it will try is the next one
(within 256) with the received low byte, so a replayed command fails its MIC ("bad-mic").
"""

from lpwa.codecs import header as _frame
from lpwa.codecs.command_node import (COMMANDS, SPO2_COEFS, VERSION, FrameError, _device_int,  # noqa: F401
                                      decode_command, next_counter)
from lpwa.codecs.keys import Keys
from lpwa.radio.limits import RADIOS

RADIO_IDS = RADIOS  # a radio's id on the wire is its index
MAX_LEN = 8  # command_node's private _MAX_LEN


def _args(command):
    name = command.get("cmd")
    if name not in COMMANDS:
        raise FrameError("unknown-kind", "command %r" % (name,))
    try:
        if name == "set-interval":
            s = int(command["seconds"])
            if not 1 <= s <= 65535:
                raise FrameError("out-of-range", "seconds must be 1..65535")
            return bytes(((s >> 8) & 0xFF, s & 0xFF))
        if name == "set-radio":
            radio = command["radio"]
            if radio not in RADIO_IDS:
                raise FrameError("out-of-range", "radio %r" % (radio,))
            sf = int(command.get("sf") or 0)
            if sf and not 7 <= sf <= 12:
                raise FrameError("out-of-range", "sf must be 7..12")
            return bytes(((RADIO_IDS.index(radio) << 6) | sf,))
        if name == "reset-fault":
            mask = int(command.get("mask", 255))
            if not 0 <= mask <= 255:
                raise FrameError("out-of-range", "mask must be 0..255")
            return bytes((mask,))
        if name == "consent":
            return bytes((1 if command["granted"] else 0,))
        if name == "set-spo2-cal":
            return _spo2_arg(command)
    except KeyError as e:
        raise FrameError("bad-schema", "%s needs %s" % (name, e))
    return b""


def _spo2_arg(command):
    """2 bytes: slot (bits 15-14) | 14-bit code: a - 50.00 %, b and c signed, apply: lo x 100."""
    coef = command["coef"]
    if coef not in SPO2_COEFS:
        raise FrameError("out-of-range", "coef must be one of %s" % (SPO2_COEFS,))
    v = command["value"]
    if not isinstance(v, (int, float)) or isinstance(v, bool) or v - v != 0:
        raise FrameError("out-of-range", "value must be a number")
    code = int(round(v * 100))
    slot = SPO2_COEFS.index(coef)
    if coef == "a":
        code -= 5000
        ok = 0 <= code <= 0x3FFF
    elif coef == "apply":
        ok = code == 0 or 5000 <= code <= 9900
    else:
        ok = -0x2000 <= code <= 0x1FFF
        code &= 0x3FFF
    if not ok:
        raise FrameError("out-of-range", "%s %r cannot be sent (a 50..213.83, b/c +-81.91, lo 50..99 or 0)"
                         % (coef, v))
    word = (slot << 14) | code
    return bytes((word >> 8, word & 0xFF))


def encode_command(device_id, key, counter, command):
    """command dict -> downlink bytes (<= 8). counter: the gateway's 32-bit downlink counter."""
    if not 0 <= counter <= 0xFFFFFFFF:
        raise FrameError("out-of-range", "counter")
    dev = _device_int(device_id)
    cid = COMMANDS.get(command.get("cmd"), (0, 0))[0]
    args = _args(command)
    n = 1 + len(args) + 1
    keys = Keys(key)
    buf = bytearray(_frame.PREFIX_LEN + n + _frame.MIC_LEN)
    _frame.write_b0(buf, 0, _frame.DIR_DOWN, dev, counter)
    p = _frame.PREFIX_LEN
    buf[p] = (VERSION << 6) | cid
    for i in range(len(args)):
        buf[p + 1 + i] = args[i]
    buf[p + n - 1] = counter & 0xFF
    keys.mic_into(buf, 0, p + n, p + n)
    return bytes(buf[p:])


def pad_downlink(raw, size=MAX_LEN):
    """Zero-pad an encoded command to `size` bytes (Sigfox downlinks are exactly 8)."""
    if len(raw) > size:
        raise FrameError("too-large", "downlink of %d bytes" % len(raw))
    return bytes(raw) + bytes(size - len(raw))
