"""Sensor schemas: every reading is a scaled integer with a documented unit, resolution and range.

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

Ranges keep every stored integer below 2**30 so MicroPython holds it as a small int (no heap).
"""

LPWA_EPOCH = 1577836800  # 2020-01-01T00:00:00Z: time fields are seconds since this, fits 30 bits

# (name, unit, scale, offset, lo, hi) -- lo/hi are on the stored integer
_LAT = ("lat_deg", "deg", 1000000, 0, -90000000, 90000000)  # 1e-6 degree (~0.11 m)
_LON = ("lon_deg", "deg", 1000000, 0, -180000000, 180000000)
_BATTERY = ("battery_v", "V", 1000, 0, 0, 10000)  # 1 mV, 0..10 V

BUOY_FIELDS = (
    ("water_temp_c", "degC", 100, 0, -500, 4500),  # 0.01 degC, -5..45
    ("wave_height_m", "m", 100, 0, 0, 3000),  # significant wave height, 0.01 m, 0..30
    _LAT,
    _LON,
    _BATTERY,
    ("fault_flags", "", 1, 0, 0, 255),  # bit 0 temp, 1 salinity, 2 wave/IMU, 3 GNSS, 4 low battery, 5 leak
    ("salinity_psu", "PSU", 100, 0, 0, 4500),  # practical salinity, 0.01, 0..45
    ("conductivity_ms_cm", "mS/cm", 100, 0, 0, 10000),  # 0.01 mS/cm, 0..100 (when no salinity)
)

DRONE_VITAL_FIELDS = (
    ("heart_rate_bpm", "bpm", 1, 0, 0, 300),
    ("spo2_pct", "%", 1, 0, 0, 100),
    ("body_temp_c", "degC", 100, 0, 2000, 4500),  # 0.01 degC, 20..45
    _LAT,
    _LON,
    ("triage", "", 1, 0, 0, 4),  # START: 0 unassessed, 1 minor, 2 delayed, 3 immediate, 4 expectant
    _BATTERY,
    # bit 0: SpO2 from the default (uncalibrated) curve; bit 1: below the curve's validated range
    # (spo2_pct absent); bit 2: no SpO2 (R inconsistent over the beats). Compact: in triage's byte.
    ("spo2_flags", "", 1, 0, 0, 7),
)
SPO2_UNCALIBRATED = 1  # the same bits as lpwa.firmware.algorithms.spo2
SPO2_BELOW_RANGE = 2
SPO2_NONE = 4

PEDOMETER_FIELDS = (
    ("steps", "steps", 1, 0, 0, 65535),  # steps in this interval
    ("steps_total", "steps", 1, 0, 0, 999999999),  # cumulative since commissioning
    ("interval_start", "s", 1, LPWA_EPOCH, 0, 0x3FFFFFFF),  # Unix seconds; on air: since 2020-01-01
    _BATTERY,
    ("interval_s", "s", 1, 0, 1, 86400),  # interval length
)

STATUS_FIELDS = (
    _BATTERY,
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
# sharing the byte of a 3-bit one (compact.pair_byte).
BUOY_COMPACT = (
    ("water_temp_c", 2, True, 1, 0),  # 0.01 degC
    ("wave_height_m", 1, False, 10, 0),  # 0.1 m, 0..25.4
    ("lat_deg", 3, True, 100, 0),  # 1e-4 degree (~11 m)
    ("lon_deg", 3, True, 100, 0),
    ("battery_v", 1, False, 20, 100),  # 20 mV from 2.00 V (2.00..4.52 V), 7 bits + alarm bit
    ("fault_flags", 1, False, 1, 0),
)
DRONE_VITAL_COMPACT = (
    ("heart_rate_bpm", 1, False, 1, 0),  # 0..254
    ("spo2_pct", 1, False, 1, 0),
    ("body_temp_c", 1, False, 10, 240),  # 0.1 degC from 24.0, 24.0..49.4
    ("lat_deg", 3, True, 100, 0),
    ("lon_deg", 3, True, 100, 0),
    # triage 0..4 needs 3 bits of its byte: spo2_flags (3 bits) rides in the rest (compact.py)
    ("triage", 1, False, 1, 0, "spo2_flags"),
    ("battery_v", 1, False, 20, 100),
)
PEDOMETER_COMPACT = (
    ("steps", 2, False, 1, 0),
    ("steps_total", 4, False, 1, 0),
    ("interval_start", 4, False, 1, 0),  # seconds since 2020-01-01 as in the full frame
    ("battery_v", 1, False, 20, 100),
)
STATUS_COMPACT = (
    ("battery_v", 1, False, 20, 100),
    ("firmware", 3, False, 1, 0),
    ("reset_reason", 1, False, 1, 0),
    ("uptime_s", 4, False, 1, 0),
    ("fault_flags", 1, False, 1, 0),
)

# name -> schema. "id" is the 3-bit kind code in the frame header.
KINDS = {
    "buoy": {"id": 1, "fields": BUOY_FIELDS, "compact": BUOY_COMPACT},
    "drone-vital": {"id": 2, "fields": DRONE_VITAL_FIELDS, "compact": DRONE_VITAL_COMPACT},
    "pedometer": {"id": 3, "fields": PEDOMETER_FIELDS, "compact": PEDOMETER_COMPACT},
}
STATUS = {"fields": STATUS_FIELDS, "compact": STATUS_COMPACT}
KIND_BY_ID = {1: "buoy", 2: "drone-vital", 3: "pedometer"}
KIND_NAMES = ("buoy", "drone-vital", "pedometer")  # the one list of kinds; radios: lpwa.radio.limits.RADIOS
PERSONAL_KINDS = ("drone-vital", "pedometer")


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
