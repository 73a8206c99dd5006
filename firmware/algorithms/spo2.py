"""SpO2 from the ratio of ratios R through a per-sensor calibration curve (README.md, "SpO2").

A calibration is (a, b, c, lo) in integer hundredths of a percent: SpO2 = a + b R + c R^2, valid
from `lo` % up (the lowest plateau it was fitted at). Integers, so every interpreter computes the
same value; one long-int product per reading. The default is Maxim's MAX30102 reference curve,
fitted on other optics than ours: a reading from it is flagged UNCALIBRATED. Below `lo` no number
is given (BELOW_RANGE): an empirical curve says nothing where it was never fitted.
"""

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


DEFAULT = (9485, 3035, -4506, 7000)   # Maxim: 94.845 + 30.354 R - 45.060 R^2, from 70 %
UNCALIBRATED = 1      # the default curve was used: the number is indicative only
BELOW_RANGE = 2       # the curve gives less than its validated range: no number
NO_SPO2 = 4           # R not consistent over the beats (or implausible): no number
_R_MIN = const(200)           # R x 1000 outside 0.2 .. 2.5 is not a pulse oximetry ratio
_R_MAX = const(2500)
_COEF_LIMIT = const(819100)   # what a downlink can carry: |b|, |c| <= 8191 hundredths


class CalibrationError(ValueError):
    """A calibration that is not a usable SpO2 curve."""


def evaluate(r_milli, cal=None):
    """(spo2 % or None, flags) for R x 1000 through `cal` (None: the default curve)."""
    flags = 0
    if not cal:
        cal = DEFAULT
        flags = UNCALIBRATED
    if r_milli < _R_MIN or r_milli > _R_MAX:
        return None, flags | NO_SPO2
    a, b, c, lo = cal
    r = r_milli
    if c < 0:
        top = -b * 1000 // (2 * c)    # the parabola's top: below it R means 100 %
        if r < top:
            r = top
    num = a * 1000000 + b * r * 1000 + c * r * r     # hundredths x 10^6
    if num >= 10000 * 1000000:
        return 100.0, flags
    if num < lo * 1000000:
        return None, flags | BELOW_RANGE
    return num / 100000000, flags


def from_config(obj):
    """{"a": 94.845, "b": 30.354, "c": -45.06, "lo": 70} (percent) -> a checked calibration."""
    if not isinstance(obj, dict):
        raise CalibrationError("spo2_cal must be an object {a, b, c, lo}")
    out = []
    for k in ("a", "b", "c", "lo"):
        v = obj.get(k, 0 if k == "c" else None)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or v - v != 0:
            raise CalibrationError("spo2_cal.%s must be a number" % k)
        out.append(int(round(v * 100)))
    for k in obj:
        if k not in ("a", "b", "c", "lo"):
            raise CalibrationError("spo2_cal: unknown field %r" % k)
    return check(tuple(out))


def check(cal):
    """The curve must fall steadily with R from 100 % down to its `lo` (50-99 %)."""
    a, b, c, lo = cal
    if not 5000 <= lo <= 9900:
        raise CalibrationError("spo2_cal.lo must be 50..99 %")
    if abs(b) > _COEF_LIMIT // 100 or abs(c) > _COEF_LIMIT // 100 or not 5000 <= a <= 21383:
        raise CalibrationError("spo2_cal: a must be 50..213.83, b and c within +-81.91")
    prev = None
    reached = False
    for r in range(400, _R_MAX + 1, 50):
        v, flags = evaluate(r, cal)
        if v is None:
            reached = bool(flags & BELOW_RANGE)
            break
        if prev is not None and v > prev:
            raise CalibrationError("spo2_cal: SpO2 must fall as R rises (it rises near R = %d/1000)" % r)
        prev = v
    if prev is None or prev >= 100 and not reached:
        raise CalibrationError("spo2_cal: the curve never falls below 100 % for R 0.4..2.5")
    return cal


def r_for(spo2, cal=None):
    """The R x 1000 that the curve maps to `spo2` (for simulators and calibration checks)."""
    lo_r, hi_r = _R_MIN, _R_MAX
    for _ in range(40):
        mid = (lo_r + hi_r) / 2
        a, b, c, _lo = cal or DEFAULT
        top = -b * 1000.0 / (2 * c) if c < 0 else 0
        r = mid if mid > top else top
        v = (a + b * r / 1000 + c * r * r / 1000000) / 100
        if v > spo2:
            lo_r = mid
        else:
            hi_r = mid
    return (lo_r + hi_r) / 2
