"""The pedometer's schema (codecs/schema_base.py says what the tuples mean)."""

from lpwa.codecs.schema_base import BATTERY, BATTERY_COMPACT, LPWA_EPOCH

FIELDS = (
    ("steps", "steps", 1, 0, 0, 65535),  # steps in this interval
    ("steps_total", "steps", 1, 0, 0, 999999999),  # cumulative since commissioning
    ("interval_start", "s", 1, LPWA_EPOCH, 0, 0x3FFFFFFF),  # Unix seconds; on air: since 2020-01-01
    BATTERY,
    ("interval_s", "s", 1, 0, 1, 86400),  # interval length
)

COMPACT = (
    ("steps", 2, False, 1, 0),
    ("steps_total", 4, False, 1, 0),
    ("interval_start", 4, False, 1, 0),  # seconds since 2020-01-01 as in the full frame
    BATTERY_COMPACT,
)

SCHEMA = {"id": 3, "fields": FIELDS, "compact": COMPACT}
