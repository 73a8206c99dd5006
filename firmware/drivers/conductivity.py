"""Conductivity and salinity from an analogue EC probe on an ADC pin, with a two-point calibration.

EC (mS/cm) = slope * volts + offset, from the probe's calibration in the device config;
compensated to 25 degC (2 %/K), then practical salinity by PSS-78 at zero pressure (UNESCO
technical paper 44, 1983), valid for 2..42 PSU and -2..35 degC.
"""

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_C_35_15 = const(42.914)  # conductivity of standard seawater, S=35, T=15 degC, in mS/cm
_A = (0.0080, -0.1692, 25.3851, 14.0941, -7.0261, 2.7081)
_B = (0.0005, -0.0056, -0.0066, -0.0375, 0.0636, -0.0144)
_C = (0.6766097, 2.00564e-2, 1.104259e-4, -6.9698e-7, 1.0031e-9)
_K = 0.0162


def salinity_pss78(ec_ms_cm, temp_c):
    """Practical salinity from in-situ conductivity and temperature (pressure 0)."""
    r = ec_ms_cm / _C_35_15
    t = temp_c
    rt_t = _C[0] + t * (_C[1] + t * (_C[2] + t * (_C[3] + t * _C[4])))
    rt = r / rt_t
    if rt <= 0:
        return 0.0
    root = rt ** 0.5
    s = 0.0
    ds = 0.0
    p = 1.0
    for i in range(6):
        s += _A[i] * p
        ds += _B[i] * p
        p *= root
    return s + (t - 15) / (1 + _K * (t - 15)) * ds


def calibration(cal):
    """(slope, offset) from a config entry: {"slope", "offset"}, or two points
    {"points": [[volts, ms_cm], [volts, ms_cm]]} measured in two standard solutions."""
    if not cal:
        return 20.0, 0.0
    pts = cal.get("points")
    if pts:
        (v1, c1), (v2, c2) = pts[0], pts[1]
        if v1 == v2:
            raise ValueError("conductivity calibration points need two different voltages")
        slope = (c2 - c1) / (v2 - v1)
        return slope, c1 - slope * v1
    return float(cal.get("slope", 20.0)), float(cal.get("offset", 0.0))


class Conductivity:
    def __init__(self, adc, slope=20.0, offset=0.0, vref=3.3, samples=8):
        self.adc = adc
        self.slope = slope
        self.offset = offset
        self.vref = vref
        self.samples = samples

    def volts(self):
        total = 0
        for _ in range(self.samples):
            total += self.adc.read_u16()
        return total / self.samples * self.vref / 65535

    def read(self, temp_c):
        """(ec_ms_cm at 25 degC, salinity_psu) or SensorError when the probe is out of the water."""
        v = self.volts()
        if v < 0.01:
            raise SensorError("conductivity", "no signal (probe dry or unplugged)")
        ec = self.slope * v + self.offset
        ec25 = ec / (1 + 0.02 * (temp_c - 25))
        return ec25, salinity_pss78(ec, temp_c)
