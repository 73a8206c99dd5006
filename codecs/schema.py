"""Sensor schemas of every kind, for the gateway and the tools (a node imports schema_base and its
own kind's module only: see codecs/schema_base.py for what a field and a compact entry are).
"""

from lpwa.codecs import schema_buoy, schema_drone_vital, schema_pedometer
from lpwa.codecs.schema_base import (  # noqa: F401  (this module is the gateway's one place for them)
    KIND_BY_ID, KIND_NAMES, LPWA_EPOCH, PERSONAL_KINDS, RESET_REASONS, STATUS, STATUS_COMPACT, STATUS_FIELDS,
    STATUS_NO_CONSENT, decimal_to_scaled, field_index, format_version, kind_schema, parse_version, to_natural,
    to_stored)
from lpwa.codecs.schema_drone_vital import SPO2_BELOW_RANGE, SPO2_NONE, SPO2_UNCALIBRATED  # noqa: F401

BUOY_FIELDS = schema_buoy.FIELDS
BUOY_COMPACT = schema_buoy.COMPACT
DRONE_VITAL_FIELDS = schema_drone_vital.FIELDS
DRONE_VITAL_COMPACT = schema_drone_vital.COMPACT
PEDOMETER_FIELDS = schema_pedometer.FIELDS
PEDOMETER_COMPACT = schema_pedometer.COMPACT

# name -> schema ({"id": the 3-bit kind code in the frame header, "fields", "compact"})
KINDS = {"buoy": schema_buoy.SCHEMA, "drone-vital": schema_drone_vital.SCHEMA, "pedometer": schema_pedometer.SCHEMA}
