"""Frame version 2 (LoRa): the bit layout of each kind's packed body, resolution set by the sensor.

Entry: (name, bits, step, base, signed, rel_bits[, short]): code = round((stored - base) / step)
on `bits` bits (two's complement when signed), `stored` being the version 1 integer of schema.py,
so both versions share one set of units and ranges. Positions have rel_bits > 0: in a relative
frame they are offsets from the device's reference fix on rel_bits bits instead. Unsigned codes
saturate at their ends (a value never wraps); a field not sent is a 0 bit in the presence mask,
not a code. An exact count with `short` bits is sent as 0 + its code on `short` bits when it
fits them, else 1 + its code on `bits` bits: every value stays exact, common ones cost less.

Resolution against each sensor's real accuracy (FRAMES.md "Frame version 2"):
  water 0.2 degC (DS18B20 +-0.5 degC), waves 0.1 m (IMU significant height, about +-0.1 m),
  positions 1e-5 degree = 1.1 m (GPS about 2.5 m CEP), battery 20 mV (ESP32 ADC about +-2 %),
  salinity 0.2 PSU and conductivity 0.5 mS/cm (analog EC probe, a few percent), heart rate 1 bpm,
  SpO2 1 %, body temperature 0.1 degC, steps and seconds exact.
"""

_BATTERY = ("battery_v", 7, 20, 2000, False, 0)  # 2.00 .. 4.54 V
_LAT = ("lat_deg", 25, 10, 0, True, 0)  # +-90 degrees at 1e-5
_LON = ("lon_deg", 26, 10, 0, True, 0)

BUOY = (
    ("water_temp_c", 8, 20, -500, False, 0),  # -5.0 .. 45.8 degC
    ("wave_height_m", 8, 10, 0, False, 0),  # 0 .. 25.5 m
    _LAT[:5] + (12,),  # relative: +-2.2 km around the reference (a mooring radius is 150 m)
    _LON[:5] + (12,),
    _BATTERY,
    ("fault_flags", 6, 1, 0, False, 0),  # bits 0-5 are the defined faults
    ("salinity_psu", 8, 20, 0, False, 0),  # 0 .. 51 PSU
    ("conductivity_ms_cm", 8, 50, 0, False, 0),  # 0 .. 127.5 mS/cm
)
DRONE_VITAL = (
    ("heart_rate_bpm", 9, 1, 0, False, 0),
    ("spo2_pct", 7, 1, 0, False, 0),
    ("spo2_flags", 3, 1, 0, False, 0),  # schema.py: uncalibrated, below range, no SpO2
    ("body_temp_c", 8, 10, 2000, False, 0),  # 20.0 .. 45.5 degC
    _LAT[:5] + (14,),  # relative: +-9 km from the last full fix (a firefighter moves)
    _LON[:5] + (14,),
    ("triage", 3, 1, 0, False, 0),
    _BATTERY,
)
PEDOMETER_R1 = (  # frame type 0: pedometer readings sent before layout revision 2 (still decoded)
    ("steps", 16, 1, 0, False, 0),
    ("steps_total", 30, 1, 0, False, 0),
    ("interval_start", 30, 1, 0, False, 0),  # seconds since 2020-01-01, as version 1
    _BATTERY,
    ("interval_s", 17, 1, 0, False, -1),  # implied by the reference in relative frames
)
PEDOMETER = (  # layout revision 2, frame type 3: the same fields and ranges, short codes
    ("steps", 16, 1, 0, False, 0, 12),  # below 4096 (a 15 min walk is ~1500): 13 bits, else 17
    ("steps_total", 30, 1, 0, False, 0, 24),  # below 16.8 million (4.6 years at 10000/day): 25, else 31
    ("interval_start", 30, 1, 0, False, 0),  # seconds since 2020-01-01, as version 1
    _BATTERY,
    ("interval_s", 17, 1, 0, False, -1, 12),  # up to 68 min (plans): 13 bits, else 18; implied
)
STATUS = (
    _BATTERY,
    ("firmware", 24, 1, 0, False, 0),
    ("reset_reason", 4, 1, 0, False, 0),
    ("uptime_s", 30, 1, 0, False, 0),
    ("fault_flags", 8, 1, 0, False, 0),
)
# The reference fields of each kind, in layout order: offsets (rel_bits > 0) or implied by the
# reference (rel_bits -1: left out of relative frames; a change makes a full frame).
REF_FIELDS = {"buoy": ("lat_deg", "lon_deg"), "drone-vital": ("lat_deg", "lon_deg"), "pedometer": ("interval_s",)}
LAYOUTS = {"buoy": BUOY, "drone-vital": DRONE_VITAL, "pedometer": PEDOMETER}
# kinds whose current layout is revision 2: their readings are frame type 3 (T_READING_R2), their
# type 0 readings are decoded with the revision 1 layout here
REVISION_1 = {"pedometer": PEDOMETER_R1}
# counter values between full frames: a frame whose reference is older is a full frame (the
# 4-bit age field could say 15)
FULL_EVERY = 12


def ref_indexes(layout):
    """The layout indexes of the reference fields (rel_bits != 0), in order."""
    return [j for j in range(len(layout)) if layout[j][5]]


def short_bits(entry):
    """The short code width of an entry, 0 when it has one fixed width."""
    return entry[6] if len(entry) > 6 else 0


def reading_layout(kind, revised):
    """The layout of a `kind` reading: revision 2 (type 3) when revised, else type 0's."""
    if revised:
        return LAYOUTS[kind]
    return REVISION_1.get(kind, LAYOUTS[kind])
