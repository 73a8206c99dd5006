"""The node's half of the downlink commands (lpwa.codecs.command: the format, and the gateway's
encoder): decode and check one. Its own module so that a node, which only decodes, loads no
encoder onto its heap (issue #14); command.py imports it and adds the encoder.
"""

from lpwa.codecs.errors import FrameError
from lpwa.codecs.header import DIR_DOWN, MIC_LEN, PREFIX_LEN, mic_equal, write_b0
from lpwa.codecs.keys import keys_of
from lpwa.radio.limits import RADIOS  # a radio's id on the wire is its index

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

VERSION = 1
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
_MAX_LEN = const(8)  # private, so no name is interned on a node (command.py: MAX_LEN)


def _device_int(device_id):
    if isinstance(device_id, str):
        return int(device_id, 16)
    return device_id


def _spo2_decode(a):
    word = (a[0] << 8) | a[1]
    slot, code = word >> 14, word & 0x3FFF
    if slot == 0:
        code += 5000
    elif slot < 3 and code & 0x2000:
        code -= 0x4000
    return {"coef": SPO2_COEFS[slot], "value": code / 100}


def next_counter(n, last=None):
    """The only full counter a node accepts: the next after `last` whose low byte is n."""
    if last is None:
        return n
    c = ((last + 1) & 0xFFFFFF00) | n
    if c <= last:
        c += 0x100
    return c


def decode_command(raw, device_id, key, last_counter=None):
    """Downlink bytes -> {"cmd": ..., args..., "counter": N}; raises FrameError. `key`: the device key or
    a Keys built from it (a node passes its encoder's: no second key schedule)."""
    if len(raw) < 2 + MIC_LEN:
        raise FrameError("truncated", "downlink of %d bytes" % len(raw))
    if len(raw) > _MAX_LEN:
        raise FrameError("too-large", "downlink of %d bytes" % len(raw))
    if raw[0] >> 6 != VERSION:
        raise FrameError("bad-version", "command version %d" % (raw[0] >> 6))
    for name in COMMANDS:  # seven: a scan, not a second table
        if COMMANDS[name][0] == raw[0] & 0x3F:
            break
    else:
        raise FrameError("unknown-kind", "command id %d" % (raw[0] & 0x3F))
    nargs = COMMANDS[name][1]
    want = 2 + nargs + MIC_LEN
    if len(raw) < want:
        raise FrameError("truncated", "%s downlink has %d bytes" % (name, len(raw)))
    for i in range(want, len(raw)):
        if raw[i]:
            raise FrameError("bad-schema", "%s downlink has %d bytes" % (name, len(raw)))
    raw = raw[:want]
    dev = _device_int(device_id)
    n = len(raw) - MIC_LEN
    counter = next_counter(raw[n - 1], last_counter)
    buf = bytearray(PREFIX_LEN + len(raw))
    write_b0(buf, 0, DIR_DOWN, dev, counter)
    for i in range(n):
        buf[PREFIX_LEN + i] = raw[i]
    keys_of(key).mic_into(buf, 0, PREFIX_LEN + n, PREFIX_LEN + n)  # a Keys the caller holds, or the raw key
    if not mic_equal(buf, PREFIX_LEN + n, raw, n):
        raise FrameError("bad-mic", "downlink")
    out = {"cmd": name, "counter": counter}
    a = raw[1:1 + nargs]
    if name == "set-interval":
        out["seconds"] = (a[0] << 8) | a[1]
    elif name == "set-radio":
        if a[0] >> 6 >= len(RADIOS):
            raise FrameError("bad-schema", "radio id %d" % (a[0] >> 6))
        out["radio"] = RADIOS[a[0] >> 6]
        if a[0] & 0x0F:
            out["sf"] = a[0] & 0x0F
    elif name == "reset-fault":
        out["mask"] = a[0]
    elif name == "consent":
        out["granted"] = bool(a[0])
    elif name == "set-spo2-cal":
        out.update(_spo2_decode(a))
    return out
