"""The drone-vital's schema (codecs/schema_base.py says what the tuples mean)."""

from lpwa.codecs.schema_base import BATTERY, BATTERY_COMPACT, LAT, LON

FIELDS = (
    ("heart_rate_bpm", "bpm", 1, 0, 0, 300),
    ("spo2_pct", "%", 1, 0, 0, 100),
    ("body_temp_c", "degC", 100, 0, 2000, 4500),  # 0.01 degC, 20..45
    LAT,
    LON,
    ("triage", "", 1, 0, 0, 4),  # START: 0 unassessed, 1 minor, 2 delayed, 3 immediate, 4 expectant
    BATTERY,
    # bit 0: SpO2 from the default (uncalibrated) curve; bit 1: below the curve's validated range
    # (spo2_pct absent); bit 2: no SpO2 (R inconsistent over the beats). Compact: in triage's byte.
    ("spo2_flags", "", 1, 0, 0, 7),
)
SPO2_UNCALIBRATED = 1  # the same bits as lpwa.firmware.algorithms.spo2
SPO2_BELOW_RANGE = 2
SPO2_NONE = 4

COMPACT = (
    ("heart_rate_bpm", 1, False, 1, 0),  # 0..254
    ("spo2_pct", 1, False, 1, 0),
    ("body_temp_c", 1, False, 10, 240),  # 0.1 degC from 24.0, 24.0..49.4
    ("lat_deg", 3, True, 100, 0),
    ("lon_deg", 3, True, 100, 0),
    # triage 0..4 needs 3 bits of its byte: spo2_flags (3 bits) rides in the rest (compact.py)
    ("triage", 1, False, 1, 0, "spo2_flags"),
    BATTERY_COMPACT,
)

SCHEMA = {"id": 2, "fields": FIELDS, "compact": COMPACT}
