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
from lpwa.codecs.errors import FrameError
from lpwa.codecs.keys import Keys
from lpwa.radio.limits import RADIOS

VERSION = 1
RADIO_IDS = RADIOS  # a radio's id on the wire is its index
# name -> (id, argument bytes)
COMMANDS = {
    "set-interval": (1, 2),  # {"seconds": 1..65535}
    "set-radio": (2, 1),  # {"radio": "lora"|"sigfox"|"wisun", "sf": 7..12 (lora only)}
    "reboot": (3, 0),
    "reset-fault": (4, 1),  # {"mask": 0..255}, default 255 (all)
    "consent": (5, 1),  # {"granted": bool}: personal-data sending allowed
    "request-status": (6, 0),  # send a status frame now
    # {"coef": "a"|"b"|"c", "value": percent} stages one SpO2 curve coefficient (0.01 steps);
    # {"coef": "apply", "value": lo %} checks and applies the staged curve, valid from lo; lo 0
    # drops a downlinked curve (back to the config's, or the default)
    "set-spo2-cal": (7, 2),
}
SPO2_COEFS = ("a", "b", "c", "apply")
_BY_ID = {}
for _name in COMMANDS:
    _BY_ID[COMMANDS[_name][0]] = _name
MAX_LEN = 8


def _device_int(device_id):
    if isinstance(device_id, str):
        return int(device_id, 16)
    return device_id


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


def _spo2_decode(a):
    word = (a[0] << 8) | a[1]
    slot, code = word >> 14, word & 0x3FFF
    if slot == 0:
        code += 5000
    elif slot < 3 and code & 0x2000:
        code -= 0x4000
    return {"coef": SPO2_COEFS[slot], "value": code / 100}


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


def next_counter(low8, last=None):
    """The only full counter a node accepts: the next after `last` whose low byte is low8."""
    if last is None:
        return low8
    c = ((last + 1) & 0xFFFFFF00) | low8
    if c <= last:
        c += 0x100
    return c


def decode_command(raw, device_id, key, last_counter=None):
    """Downlink bytes -> {"cmd": ..., args..., "counter": N}; raises FrameError."""
    if len(raw) < 2 + _frame.MIC_LEN:
        raise FrameError("truncated", "downlink of %d bytes" % len(raw))
    if len(raw) > MAX_LEN:
        raise FrameError("too-large", "downlink of %d bytes" % len(raw))
    if raw[0] >> 6 != VERSION:
        raise FrameError("bad-version", "command version %d" % (raw[0] >> 6))
    name = _BY_ID.get(raw[0] & 0x3F)
    if name is None:
        raise FrameError("unknown-kind", "command id %d" % (raw[0] & 0x3F))
    nargs = COMMANDS[name][1]
    want = 2 + nargs + _frame.MIC_LEN
    if len(raw) < want:
        raise FrameError("truncated", "%s downlink has %d bytes" % (name, len(raw)))
    for i in range(want, len(raw)):
        if raw[i]:
            raise FrameError("bad-schema", "%s downlink has %d bytes" % (name, len(raw)))
    raw = raw[:want]
    dev = _device_int(device_id)
    n = len(raw) - _frame.MIC_LEN
    counter = next_counter(raw[n - 1], last_counter)
    buf = bytearray(_frame.PREFIX_LEN + len(raw))
    _frame.write_b0(buf, 0, _frame.DIR_DOWN, dev, counter)
    for i in range(n):
        buf[_frame.PREFIX_LEN + i] = raw[i]
    Keys(key).mic_into(buf, 0, _frame.PREFIX_LEN + n, _frame.PREFIX_LEN + n)
    if not _frame.mic_equal(buf, _frame.PREFIX_LEN + n, raw, n):
        raise FrameError("bad-mic", "downlink")
    out = {"cmd": name, "counter": counter}
    a = raw[1:1 + nargs]
    if name == "set-interval":
        out["seconds"] = (a[0] << 8) | a[1]
    elif name == "set-radio":
        if a[0] >> 6 >= len(RADIO_IDS):
            raise FrameError("bad-schema", "radio id %d" % (a[0] >> 6))
        out["radio"] = RADIO_IDS[a[0] >> 6]
        if a[0] & 0x0F:
            out["sf"] = a[0] & 0x0F
    elif name == "reset-fault":
        out["mask"] = a[0]
    elif name == "consent":
        out["granted"] = bool(a[0])
    elif name == "set-spo2-cal":
        out.update(_spo2_decode(a))
    return out
