"""The buoy's schema (codecs/schema_base.py says what the tuples mean)."""

from lpwa.codecs.schema_base import BATTERY, BATTERY_COMPACT, LAT, LON

FIELDS = (
    ("water_temp_c", "degC", 100, 0, -500, 4500),  # 0.01 degC, -5..45
    ("wave_height_m", "m", 100, 0, 0, 3000),  # significant wave height, 0.01 m, 0..30
    LAT,
    LON,
    BATTERY,
    ("fault_flags", "", 1, 0, 0, 255),  # bit 0 temp, 1 salinity, 2 wave/IMU, 3 GNSS, 4 low battery, 5 leak
    ("salinity_psu", "PSU", 100, 0, 0, 4500),  # practical salinity, 0.01, 0..45
    ("conductivity_ms_cm", "mS/cm", 100, 0, 0, 10000),  # 0.01 mS/cm, 0..100 (when no salinity)
)

COMPACT = (
    ("water_temp_c", 2, True, 1, 0),  # 0.01 degC
    ("wave_height_m", 1, False, 10, 0),  # 0.1 m, 0..25.4
    ("lat_deg", 3, True, 100, 0),  # 1e-4 degree (~11 m)
    ("lon_deg", 3, True, 100, 0),
    BATTERY_COMPACT,
    ("fault_flags", 1, False, 1, 0),
)

SCHEMA = {"id": 1, "fields": FIELDS, "compact": COMPACT}
