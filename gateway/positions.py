"""Frame version 2 references at the gateway: each device's last full frame, kept durably.

A version 2 frame is either full (every reference field: a position, a pedometer's interval) or
relative to the full frame its node sent `age` counter values earlier: offsets for positions,
nothing for an implied interval (codecs/packed.py). The gateway keeps each device's last
ACCEPTED full frame's reference as counter space "<device>/ref" in the store's devices table,
written in the same transaction as the message (a restart keeps it), packed into the integer
column: lat and lon at 1e-5 degree (what the frame carried) or the interval in seconds, and the
full frame's counter's low 12 bits.

A relative frame whose reference the gateway does not have (the full frame was lost, or the
gateway's state is not the node's) is published WITHOUT those fields and with "ref": "missing",
and counted (`positions.unresolved` in the status): the other readings (a firefighter's heart
rate) are never dropped for want of a position, and the next full frame (at most 12 counter
values later, or the next alarm) restores them.
"""

from lpwa.codecs.packed import reference_of

SUFFIX = "/ref"
_LAT0 = 9000000  # 90 degrees at 1e-5
_LON0 = 18000000


def pack(ref):
    """[lat, lon, counter] or [interval_s, counter] -> one non-negative integer below 2**63."""
    if len(ref) == 3:
        value = ((ref[0] // 10 + _LAT0) << 26) | (ref[1] // 10 + _LON0)
    else:
        value = ref[0]
    return value << 12 | (ref[-1] & 0xFFF)


def unpack(kind, value):
    if value is None or value < 0:
        return None
    counter = value & 0xFFF
    value >>= 12
    if kind == "pedometer":
        return [value, counter]
    return [((value >> 26) - _LAT0) * 10, ((value & ((1 << 26) - 1)) - _LON0) * 10, counter]


def key(device):
    return device + SUFFIX


def reference_update(msg):
    """The packed reference an accepted message sets, or None when it is not a full frame."""
    ref = reference_of(msg)
    return None if ref is None else pack(ref)
