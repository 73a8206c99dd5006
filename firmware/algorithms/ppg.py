"""Heart rate and SpO2 from MAX30102 red / IR samples, with a signal-quality gate.

Method (README.md in this folder): per channel, DC by a ~1.3 s moving mean; AC = sample - DC,
smoothed by a 0.16 s boxcar (together a 0.12-4 Hz band-pass). Beats are found on the 100 ms
slope of the inverted IR AC (absorbance rises at systole): an upstroke starts above 1/4 of the
median slope of the last 3 upstrokes (a wrist pulse swings 2-5x from beat to beat and a
baseline wander's slope subtracts from a weak one; one strong beat does not lift the level
over the next; half the fast-attack peak until there are 3), not before 60 % of the shorter of
the last two intervals (after a missed beat the next one is still found), and ends when the
slope turns down; the beat is timed at the steepest point. Per beat: the interval, the pulse
amplitude (lowest smoothed AC of the cycle to the top of the upstroke, ppm of DC) and the ratio
of ratios R from the centred least-squares slope of red on IR over the cycle. A reading needs
_MIN_INTERVALS intervals (5 beats) and uses the last _NBEATS at most.

Quality gate (reading only at _QUALITY_MIN or more), over the longest recent run that passes:
every interval within _INTERVAL_TOL_PCT of the run's median (the rhythm, not the amplitude),
and a mean amplitude of _PI_MIN_PPM or more. HR = 60 / mean interval. SpO2 from the median R
through the node's calibration (spo2.py): none when R spreads beyond _R_SPREAD_PCT or the pulse
is under _SPO2_PI_MIN_PPM (flag NO_SPO2), none below the curve's validated range (BELOW_RANGE),
flagged UNCALIBRATED on the default curve. No finger, a clipped sample or motion (an AC swing
over _MOTION_PCT of DC) clears the beat history.
Per-sample arithmetic is integer.
"""

import array

from lpwa.firmware.algorithms import spo2 as spo2mod

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_FINGER_MIN = const(20000)       # IR DC counts: below it there is no finger on the sensor
_CLIP = const(262000)            # 18-bit ADC: at or above it the sample is saturated
_MOTION_PCT = const(3)           # an AC excursion above this % of DC is motion, not a pulse
_SLOPE_MS = const(100)           # the beat detector works on the 100 ms slope of the smoothed AC
_BOX_MS = const(160)             # the AC is smoothed over this long
_MIN_HYST = const(8)             # smallest hysteresis (counts of smoothed AC)
_UP_EIGHTHS = const(2)           # a beat starts at this many eighths of the recent upstroke slope (wrist: 4x swings)
_NBEATS = const(8)               # beat intervals kept (a reading averages up to this many)
_MIN_INTERVALS = const(4)        # a reading from 5 beats on
_QUALITY_MIN = const(50)
_INTERVAL_TOL_PCT = const(20)    # the largest deviation of an interval from the median (quality 50)
_PI_MIN_PPM = const(1000)        # perfusion index 0.1 %: weaker pulses give no reading
_SPO2_PI_MIN_PPM = const(2000)   # SpO2 only from a pulse of 0.2 % of DC or more (R is noise below)
_R_SPREAD_PCT = const(20)        # (max - min) / mean R beyond which no SpO2 is given


class PpgEstimator:
    """Feed (red, ir) ADC counts at `rate_hz`; `result()` is (hr_bpm, spo2_pct or None, quality,
    flags) or None. `cal`: the sensor's SpO2 calibration (spo2.py), None for the default curve."""

    def __init__(self, rate_hz=50, cal=None):
        self.rate_hz = rate_hz
        self.cal = cal
        k = 1
        while (1 << (k + 1)) * 100 <= rate_hz * 130:
            k += 1
        self._k = k
        self._dc_red = 0
        self._dc_ir = 0
        nbox = (rate_hz * _BOX_MS + 500) // 1000
        if nbox < 2:
            nbox = 2
        self._box_red = array.array("i", [0] * nbox)
        self._box_ir = array.array("i", [0] * nbox)
        self._box_i = 0
        self._sum_red = 0
        self._sum_ir = 0
        nsl = (rate_hz * _SLOPE_MS + 500) // 1000
        if nsl < 1:
            nsl = 1
        self._slope_ir = array.array("i", [0] * nsl)
        self._slope_red = array.array("i", [0] * nsl)
        self._slope_i = 0
        self._min_int = rate_hz * 60 // 220
        self._max_int = rate_hz * 60 // 35
        self._intervals = array.array("i", [0] * _NBEATS)
        self._amps = array.array("i", [0] * _NBEATS)     # IR amplitude, ppm of DC
        self._rs = array.array("i", [0] * _NBEATS)       # ratio of ratios x 1000
        self._sorted = array.array("i", [0] * _NBEATS)   # scratch for the median
        self._beats = 0
        self._beat_i = 0
        self._n = 0
        self._settle = 0
        self._reset_detector()
        self._result = None

    def _reset_detector(self):
        self._high = False
        self._hi = 0
        self._lo = 0
        self._zmin = 1 << 30
        self._z = 0
        self._sxy = 0
        self._sxx = 0
        self._sx = 0
        self._sy = 0
        self._ns = 0
        self._peak = 0                   # the recent upstroke slope: median of the last 3
        self._h0 = self._h1 = self._h2 = 0   # the last 3 upstrokes' slope peaks
        self._nhis = 0                   # upstrokes seen: 0-2 filling, then 3-5 (slot = n % 3)
        self._last = -1
        self._refractory = 0
        self._thi = 0
        self._beats = 0
        self._result = None

    def feed(self, red, ir):
        red = int(red)
        ir = int(ir)
        k = self._k
        self._n += 1
        if self._dc_ir == 0 or ir < _FINGER_MIN or red < (_FINGER_MIN >> 2):
            # no finger (or first sample): track the level directly and report nothing
            self._dc_red = red << k
            self._dc_ir = ir << k
            self._settle = self._n + len(self._box_ir) + len(self._slope_ir)
            if self._beats or self._result is not None or self._last >= 0:
                self._reset_detector()
            return
        if red >= _CLIP or ir >= _CLIP:
            self._settle = self._n + len(self._box_ir)
            self._reset_detector()
            return
        self._dc_red += red - (self._dc_red >> k)
        self._dc_ir += ir - (self._dc_ir >> k)
        dc_red = self._dc_red >> k
        dc_ir = self._dc_ir >> k
        ac_red = red - dc_red
        ac_ir = dc_ir - ir               # inverted: absorbance up = light down
        i = self._box_i
        self._sum_red += ac_red - self._box_red[i]
        self._box_red[i] = ac_red
        self._sum_ir += ac_ir - self._box_ir[i]
        self._box_ir[i] = ac_ir
        i += 1
        self._box_i = i if i < len(self._box_ir) else 0
        nb = len(self._box_ir)
        zi = self._sum_ir // nb
        zr = -(self._sum_red // nb)      # red inverted the same way
        # slope over _SLOPE_MS: the systolic upstroke stands out, respiration wander does not
        j = self._slope_i
        y = zi - self._slope_ir[j]
        yr = zr - self._slope_red[j]
        self._slope_ir[j] = zi
        self._slope_red[j] = zr
        j += 1
        self._slope_i = j if j < len(self._slope_ir) else 0
        if 100 * abs(ac_ir) > _MOTION_PCT * dc_ir or 100 * abs(ac_red) > _MOTION_PCT * dc_red:
            self._settle = self._n + (2 << k)   # motion: wait until the filters settle again
            self._reset_detector()
            return
        if self._n < self._settle:
            return
        self._z = zi
        if zi < self._zmin:
            self._zmin = zi
        self._detect(y, yr, dc_red, dc_ir)

    def _detect(self, y, yr, dc_red, dc_ir):
        """One step of the beat detector on the IR slope `y` (red slope `yr` for SpO2's ratio).

        A beat is timed at its steepest upstroke (the slope's maximum: amplitude changes do not
        move it, as they move a threshold crossing) and booked when the slope turns down."""
        self._sxy += yr * y              # red slope regressed on IR slope over the beat
        self._sxx += y * y
        self._sx += y                    # with its mean: a wander's slope is taken out
        self._sy += yr
        self._ns += 1
        if self._high:
            if y > self._hi:
                self._hi = y
                self._thi = self._n
                if self._nhis < 3 and 2 * y > self._peak:
                    # fast attack until 3 upstrokes are known, at twice the slope: the level is
                    # then half of it (no refractory yet keeps the diastolic wave out)
                    self._peak = 2 * y
            if y < -_MIN_HYST:            # the upstroke is over: book the beat
                self._high = False
                self._upstroke(self._hi)
                # the upstroke's rise, the cycle's lowest point to the peak
                amp = self._z - self._zmin
                self._zmin = 1 << 30
                # centred sums (x n): the wander's slope, the same in both channels, drops out
                sxy = self._ns * self._sxy - self._sx * self._sy
                sxx = self._ns * self._sxx - self._sx * self._sx
                self._sxy = self._sxx = self._sx = self._sy = self._ns = 0
                self._beat(self._thi, amp, sxy, sxx, dc_red, dc_ir)
        else:
            if self._last >= 0 and self._n - self._last > 2 * self._refractory:
                self._peak -= self._peak >> 5    # a beat is overdue: the level was too high
            up = (self._peak * _UP_EIGHTHS) >> 3   # a share of the recent upstroke slope
            if up < _MIN_HYST:
                up = _MIN_HYST
            if y > up and (self._last < 0 or self._n - self._last >= self._refractory):
                self._high = True
                self._hi = y
                self._thi = self._n
        if self._last >= 0 and self._n - self._last > self._max_int:
            self._reset_detector()       # no beat for too long

    def _upstroke(self, hi):
        """The detector's level follows the median of the last 3 upstroke slopes: one strong
        beat (or a jolt under the motion limit) does not raise it over the next weaker ones."""
        k = self._nhis % 3
        if k == 0:
            self._h0 = hi
        elif k == 1:
            self._h1 = hi
        else:
            self._h2 = hi
        self._nhis = self._nhis + 1 if self._nhis < 5 else 3
        if self._nhis < 3:
            return
        a, b, c = self._h0, self._h1, self._h2
        if a > b:
            a, b = b, a
        self._peak = b if c > b else (a if c < a else c)

    def _beat(self, n, amp, sxy, sxx, dc_red, dc_ir):
        last = self._last
        self._last = n
        if last < 0 or self._nhis <= 1 or amp <= 0 or sxx <= 0:
            return                       # the first cycle only starts the clock
        dt = n - last
        # the next upstroke is not expected before 60 % of the interval (a diastolic wave is);
        # of the shorter of the last two: after one missed beat the next is still found
        prev = self._intervals[self._beat_i - 1 if self._beat_i else _NBEATS - 1] if self._beats else 0
        short = dt if prev <= 0 or dt < prev else prev
        self._refractory = short * 3 // 5
        if dt < self._min_int:
            self._reset_detector()
            self._last = n
            return
        i = self._beat_i
        self._intervals[i] = dt
        self._amps[i] = amp * 1000000 // dc_ir
        self._rs[i] = sxy * dc_ir * 1000 // (sxx * dc_red) if sxy > 0 else 0
        self._beat_i = (i + 1) % _NBEATS
        if self._beats < _NBEATS:
            self._beats += 1
        if self._beats >= _MIN_INTERVALS:
            self._evaluate()

    def _recent(self, ring, m):
        """The last `m` values of a beat ring, sorted, in the scratch array (no allocation)."""
        s = self._sorted
        j = self._beat_i
        for i in range(m):
            j = j - 1 if j > 0 else _NBEATS - 1
            v = ring[j]
            p = i
            while p > 0 and s[p - 1] > v:
                s[p] = s[p - 1]
                p -= 1
            s[p] = v
        return s

    def _score(self, ring, m, limit_pct, from_median):
        """(quality 0-100 of one spread, sum of the values): 50 at `limit_pct`."""
        s = self._recent(ring, m)
        total = 0
        for i in range(m):
            total += s[i]
        if total <= 0:
            return 0, total
        if from_median:
            med = s[m // 2] if m & 1 else (s[m // 2 - 1] + s[m // 2]) // 2
            dev = med - s[0] if med - s[0] > s[m - 1] - med else s[m - 1] - med
            return 100 - 50 * 100 * dev // (limit_pct * med), total
        return 100 - 50 * 100 * (s[m - 1] - s[0]) * m // (limit_pct * total), total

    def _quality(self, m):
        """(quality, sum of intervals, sum of amplitudes) over the last `m` beats.

        Judged on the rhythm only: a wrist or a cold finger changes the pulse amplitude 2-5x
        from beat to beat (respiration, vasomotion) while the intervals stay within 10-15 %;
        a missed, doubled or motion beat breaks the intervals. Amplitude only sets the floor."""
        q, sum_int = self._score(self._intervals, m, _INTERVAL_TOL_PCT, True)
        sum_amp = 0
        j = self._beat_i
        for _ in range(m):
            j = j - 1 if j > 0 else _NBEATS - 1
            sum_amp += self._amps[j]
        return (q if q > 0 else 0), sum_int, sum_amp

    def _evaluate(self):
        # the longest recent run of beats that passes the gate (a bad first beat ages out)
        m = self._beats
        while True:
            q, sum_int, sum_amp = self._quality(m)
            if q >= _QUALITY_MIN or m == _MIN_INTERVALS:
                break
            m -= 1
        if q < _QUALITY_MIN or sum_amp < _PI_MIN_PPM * m:
            self._result = None
            return
        hr = 60 * self.rate_hz * m / sum_int
        q_r, _ = self._score(self._rs, m, _R_SPREAD_PCT, False)
        if q_r < 50 or self._sorted[0] <= 0 or sum_amp < _SPO2_PI_MIN_PPM * m:
            spo2, flags = None, spo2mod.NO_SPO2 | (0 if self.cal else spo2mod.UNCALIBRATED)
        else:
            spo2, flags = spo2mod.evaluate(self._sorted[m // 2], self.cal)    # the median R
        self._result = (hr, spo2, q, flags)

    def result(self):
        return self._result

    def full(self):
        """True once a reading averages _NBEATS beats: a caller may stop sampling there."""
        return self._result is not None and self._beats >= _NBEATS
