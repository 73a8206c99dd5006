"""Natural units <-> stored integers for a frame's fields, and the decoded dict of the contract."""

import binascii

from lpwa.codecs import schema_base as _schema
from lpwa.codecs.errors import FrameError


def scale_into(readings, fields, values):
    """Fill `values` with stored integers from natural-unit readings; unknown names refused."""
    for i in range(len(values)):
        values[i] = None
    for name in readings:
        i = _schema.field_index(fields, name)
        if i < 0:
            raise FrameError("bad-schema", "unknown field %s" % name)
        v = readings[name]
        if v is None:
            continue
        try:
            values[i] = _schema.to_stored(fields[i], v)
        except (TypeError, ValueError, OverflowError) as e:  # not a number, NaN, infinity
            raise FrameError("out-of-range", "%s: %s" % (name, e))


def status_values(status):
    """A status dict with reset_reason as text -> (alarm, dict with its index)."""
    status = dict(status)
    rr = status.get("reset_reason")
    if isinstance(rr, str):
        if rr not in _schema.RESET_REASONS:
            raise FrameError("out-of-range", "reset_reason %s" % rr)
        status["reset_reason"] = _schema.RESET_REASONS.index(rr)
    alarm = bool(status.pop("alarm", False))
    return alarm, status


def check_stored(f, v):
    """A stored value to encode must be an integer in its field's range (None passes)."""
    if v is not None and (not isinstance(v, int) or v < f[4] or v > f[5]):
        raise FrameError("out-of-range", "%s stored %r not in %d..%d" % (f[0], v, f[4], f[5]))


def present_count(values):
    count = len(values)
    while count and values[count - 1] is None:
        count -= 1
    return count


def readings_from_body(items, fields):
    """A decoded CBOR array -> {"name": {"value": v, "unit": u}}; checks types and ranges."""
    if not isinstance(items, list):
        raise FrameError("bad-schema", "body is not an array")
    if len(items) > len(fields):
        raise FrameError("bad-schema", "%d items for %d fields" % (len(items), len(fields)))
    out = {}
    for i in range(len(items)):
        v = items[i]
        if v is None:
            continue
        f = fields[i]
        if type(v) is not int:
            raise FrameError("bad-schema", "%s is not an integer" % f[0])
        if v < f[4] or v > f[5]:
            raise FrameError("bad-schema", "%s stored %d not in %d..%d" % (f[0], v, f[4], f[5]))
        out[f[0]] = {"value": _schema.to_natural(f, v), "unit": f[1]}
    return out


def result(kind, status, alarm, device, counter, readings, raw):
    """The decoded dict every frame type returns."""
    return {"kind": kind, "type": "status" if status else ("alarm" if alarm else "reading"),
            "device": device, "counter": counter, "alarm": alarm, "readings": readings,
            "raw_hex": binascii.hexlify(bytes(raw)).decode()}
