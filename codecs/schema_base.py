"""Sensor schemas, the part every node needs: every reading is a scaled integer with a documented unit, resolution and range.

A field is a tuple (name, unit, scale, offset, lo, hi):
    stored = round(value * scale) - offset,   value = (stored + offset) / scale
and the encoder refuses a stored integer outside lo..hi ("out-of-range"). Fields are listed in
priority order: the full frame's CBOR body is an array in this order, so dropping the lowest
priority fields is shortening the array (see FRAMES.md, "Fitting the radio").

The compact layout (Sigfox, <= 12 bytes) packs the essential fields at a coarser resolution as
big-endian integers: entries (name, nbytes, signed, scale, offset). A stored value that does not
fit saturates at the largest (or smallest) code below the "missing" sentinel (max unsigned,
min signed), so a compact reading is never wrapped around. "battery_v" in a compact layout is
special: 7 bits of (V - 2.00) / 0.02 plus the alarm flag in bit 7.

A node imports this and its own kind's table only (kind_schema: codecs/schema_buoy.py,
schema_drone_vital.py, schema_pedometer.py); codecs/schema.py gathers every kind for the gateway
and the tools.

Ranges keep every stored integer below 2**30 so MicroPython holds it as a small int (no heap).
"""

import sys

LPWA_EPOCH = 1577836800  # 2020-01-01T00:00:00Z: time fields are seconds since this, fits 30 bits

# (name, unit, scale, offset, lo, hi) -- lo/hi are on the stored integer; shared by the kinds' tables
LAT = ("lat_deg", "deg", 1000000, 0, -90000000, 90000000)  # 1e-6 degree (~0.11 m)
LON = ("lon_deg", "deg", 1000000, 0, -180000000, 180000000)
BATTERY = ("battery_v", "V", 1000, 0, 0, 10000)  # 1 mV, 0..10 V
BATTERY_COMPACT = ("battery_v", 1, False, 20, 100)  # 20 mV from 2.00 V (2.00..4.52 V), 7 bits + alarm bit

STATUS_FIELDS = (
    BATTERY,
    ("firmware", "version", 1, 0, 0, 0xFFFFFE),  # "major.minor.patch" as major<<16 | minor<<8 | patch (not 255.255.255)
    ("reset_reason", "", 1, 0, 0, 15),  # see RESET_REASONS
    ("uptime_s", "s", 1, 0, 0, 0x3FFFFFFF),
    ("fault_flags", "", 1, 0, 0, 255),
)

# fault_flags bit 7 in a STATUS frame: the node has personal sampling and sending off (consent
# withdrawn by a `consent` downlink). A field every frame version has: older decoders see one more bit.
STATUS_NO_CONSENT = 0x80
RESET_REASONS = ("power-on", "watchdog", "brown-out", "software", "deep-sleep", "hard-fault", "external")

# Compact (Sigfox) layouts: (name, nbytes, signed, step, offset): code = round(stored / step) - offset,
# a big-endian integer of nbytes; 1 header byte + these <= 12. A sixth item names a 3-bit field
# sharing the byte of a 3-bit one (compact.pair_byte). The kinds' layouts are in their modules.
STATUS_COMPACT = (
    BATTERY_COMPACT,
    ("firmware", 3, False, 1, 0),
    ("reset_reason", 1, False, 1, 0),
    ("uptime_s", 4, False, 1, 0),
    ("fault_flags", 1, False, 1, 0),
)

STATUS = {"fields": STATUS_FIELDS, "compact": STATUS_COMPACT}
# "id" is the 3-bit kind code in the frame header: its place in KIND_NAMES plus one
KIND_NAMES = ("buoy", "drone-vital", "pedometer")  # the one list of kinds; radios: lpwa.radio.limits.RADIOS
KIND_BY_ID = {1: "buoy", 2: "drone-vital", 3: "pedometer"}
PERSONAL_KINDS = ("drone-vital", "pedometer")


def kind_schema(kind):
    """{"id", "fields", "compact"} of `kind` (None when there is no such kind), importing only that
    kind's module: a node never loads the other kinds' tables."""
    if kind not in KIND_NAMES:
        return None
    name = "lpwa.codecs.schema_" + kind.replace("-", "_")
    __import__(name)  # returns the top package; the module itself is in sys.modules
    return sys.modules[name].SCHEMA


def field_index(fields, name):
    for i in range(len(fields)):
        if fields[i][0] == name:
            return i
    return -1


def parse_version(text):
    """"1.2.3" -> 0x010203; an int passes through."""
    if isinstance(text, int):
        return text
    parts = str(text).split(".")
    if len(parts) != 3:
        raise ValueError("firmware version must be major.minor.patch")
    major, minor, patch = int(parts[0]), int(parts[1]), int(parts[2])
    if not (0 <= major < 256 and 0 <= minor < 256 and 0 <= patch < 256):
        raise ValueError("firmware version parts must be 0..255")
    return (major << 16) | (minor << 8) | patch


def format_version(n):
    return "%d.%d.%d" % ((n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF)


def decimal_to_scaled(text, scale):
    """"139.788636" -> 139788636 for scale 1000000, exactly (half up past the scale's digits).

    Boards with 32-bit floats (ESP32) cannot hold a position to 1e-6 degree, so the GPS driver
    hands positions over as decimal text built with integer arithmetic, and this keeps them exact.
    """
    t = text.strip()
    neg = t.startswith("-")
    if neg or t.startswith("+"):
        t = t[1:]
    whole, _, frac = t.partition(".")
    if not (whole or frac) or (whole and not whole.isdigit()) or (frac and not frac.isdigit()):
        raise ValueError("%r is not a decimal number" % text)
    digits = 0
    s = scale
    while s > 1:
        if s % 10:
            raise ValueError("scale %d is not a power of ten" % scale)
        s //= 10
        digits += 1
    kept = frac[:digits]
    kept = kept + "0" * (digits - len(kept))
    n = int(whole or "0") * scale + int(kept or "0")
    if len(frac) > digits and frac[digits] >= "5":
        n += 1
    return -n if neg else n


def to_stored(field, value):
    """Natural units -> stored integer (not range-checked)."""
    if field[1] == "version":
        return parse_version(value)
    if isinstance(value, str) and field[1] == "deg":  # positions only: exact decimal text (GPS)
        return decimal_to_scaled(value, field[2]) - field[3]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("%s must be a number" % field[0])
    if field[2] == 1:
        if isinstance(value, float):
            value = round(value)
        return value - field[3]
    return round(value * field[2]) - field[3]


def to_natural(field, stored):
    """Stored integer -> natural units (int when the scale is 1)."""
    if field[1] == "version":
        return format_version(stored)
    if field[2] == 1:
        return stored + field[3]
    return (stored + field[3]) / field[2]
