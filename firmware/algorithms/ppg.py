"""Heart rate and SpO2 from MAX30102 red / IR samples, with a signal-quality index.

Method (README.md in this folder): per channel, DC by a ~1.3 s moving mean; AC = sample - DC,
smoothed by a 0.16 s boxcar (together a 0.12-4 Hz band-pass). Beats are detected on the 100 ms
slope of the inverted IR AC (absorbance rises at systole): a beat when the slope rises above
half the recent upstroke peak, re-armed when it turns negative, 35-220 per minute. Per beat:
the IR peak-to-trough, and the ratio of ratios R = (AC_red / DC_red) / (AC_ir / DC_ir), with
AC_red / AC_ir the least-squares slope of the red signal on the IR signal over the whole beat
(every sample counts, not two noisy extremes). Over the last NBEATS beats: HR = 60 / mean
interval, SpO2 = 110 - 25 R (mean R). Quality (0-100) is the worst of three spreads over those
beats -- intervals, IR amplitude and R -- each scored against its limit. No finger (IR DC below
FINGER_MIN), a clipped sample, or an AC swing beyond MOTION_PCT of DC (motion) clears the beat
history, so nothing is reported until NBEATS clean beats follow; a quality below QUALITY_MIN
reports nothing either. Per-sample arithmetic is integer.
"""

import array

FINGER_MIN = 20000       # IR DC counts: below it there is no finger on the sensor
CLIP = 262000            # 18-bit ADC: at or above it the sample is saturated
MOTION_PCT = 3           # an AC excursion above this % of DC is motion, not a pulse
SLOPE_MS = 100           # the beat detector works on the 100 ms slope of the smoothed AC
MIN_HYST = 8             # smallest hysteresis (counts of smoothed AC)
NBEATS = 8               # beats averaged for a reading
QUALITY_MIN = 50
INTERVAL_SPREAD_PCT = 30   # (max - min) / mean interval at which quality reaches 0
AMP_SPREAD_PCT = 60        # the same for the IR beat amplitude
R_SPREAD_PCT = 40          # the same for R


class PpgEstimator:
    """Feed (red, ir) ADC counts at `rate_hz`; `result()` is (hr_bpm, spo2_pct, quality) or None."""

    def __init__(self, rate_hz=50):
        self.rate_hz = rate_hz
        k = 1
        while (1 << (k + 1)) * 100 <= rate_hz * 130:
            k += 1
        self._k = k
        self._dc_red = 0
        self._dc_ir = 0
        nbox = (rate_hz * 16 + 50) // 100
        if nbox < 2:
            nbox = 2
        self._box_red = array.array("i", [0] * nbox)
        self._box_ir = array.array("i", [0] * nbox)
        self._box_i = 0
        self._sum_red = 0
        self._sum_ir = 0
        nsl = (rate_hz * SLOPE_MS + 500) // 1000
        if nsl < 1:
            nsl = 1
        self._slope_ir = array.array("i", [0] * nsl)
        self._slope_red = array.array("i", [0] * nsl)
        self._slope_i = 0
        self._min_int = rate_hz * 60 // 220
        self._max_int = rate_hz * 60 // 35
        self._intervals = array.array("i", [0] * NBEATS)
        self._amps = array.array("i", [0] * NBEATS)     # IR amplitude, ppm of DC
        self._rs = array.array("i", [0] * NBEATS)       # ratio of ratios x 1000
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
        self._sxy = 0
        self._sxx = 0
        self._peak = 0                   # recent upstroke slope peak
        self._last = -1
        self._beats = 0
        self._result = None

    def feed(self, red, ir):
        red = int(red)
        ir = int(ir)
        k = self._k
        self._n += 1
        if self._dc_ir == 0 or ir < FINGER_MIN or red < (FINGER_MIN >> 2):
            # no finger (or first sample): track the level directly and report nothing
            self._dc_red = red << k
            self._dc_ir = ir << k
            self._settle = self._n + (1 << k)
            if self._beats or self._result is not None or self._last >= 0:
                self._reset_detector()
            return
        if red >= CLIP or ir >= CLIP:
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
        # slope over SLOPE_S: the systolic upstroke stands out, respiration wander does not
        j = self._slope_i
        y = zi - self._slope_ir[j]
        yr = zr - self._slope_red[j]
        self._slope_ir[j] = zi
        self._slope_red[j] = zr
        j += 1
        self._slope_i = j if j < len(self._slope_ir) else 0
        if 100 * abs(ac_ir) > MOTION_PCT * dc_ir or 100 * abs(ac_red) > MOTION_PCT * dc_red:
            self._settle = self._n + (2 << k)   # motion: wait until the filters settle again
            self._reset_detector()
            return
        if self._n < self._settle:
            return
        self._detect(y, yr, dc_red, dc_ir)

    def _detect(self, y, yr, dc_red, dc_ir):
        """One step of the beat detector on the IR slope `y` (red slope `yr` for SpO2's ratio)."""
        self._sxy += yr * y              # red slope regressed on IR slope over the beat
        self._sxx += y * y
        if self._high:
            if y > self._hi:
                self._hi = y
            if y < -MIN_HYST:            # re-armed once the slope turns down
                self._high = False
                self._lo = y
        else:
            if y < self._lo:
                self._lo = y
            up = self._peak >> 1         # half the recent upstroke: above the diastolic wave
            if up < MIN_HYST:
                up = MIN_HYST
            if y > up:
                self._high = True
                pp = self._hi - self._lo
                hi = self._hi
                self._peak = hi if self._peak == 0 else (3 * self._peak + hi) >> 2
                sxy = self._sxy
                sxx = self._sxx
                self._sxy = 0
                self._sxx = 0
                self._hi = y
                self._beat(pp, sxy, sxx, dc_red, dc_ir)
        if self._last >= 0 and self._n - self._last > self._max_int:
            self._reset_detector()       # no beat for too long

    def _beat(self, pp, sxy, sxx, dc_red, dc_ir):
        n = self._n
        last = self._last
        self._last = n
        if last < 0 or pp <= 0 or sxy <= 0 or sxx <= 0:
            return                       # the first cycle only starts the clock
        dt = n - last
        if dt < self._min_int:
            self._reset_detector()
            self._last = n
            return
        i = self._beat_i
        self._intervals[i] = dt
        self._amps[i] = pp * 1000000 // dc_ir
        self._rs[i] = sxy * dc_ir * 1000 // (sxx * dc_red)
        self._beat_i = (i + 1) % NBEATS
        if self._beats < NBEATS:
            self._beats += 1
        if self._beats == NBEATS:
            self._evaluate()

    @staticmethod
    def _spread(values):
        lo = hi = values[0]
        total = 0
        for v in values:
            total += v
            if v < lo:
                lo = v
            if v > hi:
                hi = v
        return hi - lo, total

    def _evaluate(self):
        d_int, sum_int = self._spread(self._intervals)
        d_amp, sum_amp = self._spread(self._amps)
        d_r, sum_r = self._spread(self._rs)
        # each spread scored 100 (none) .. 0 (at its limit); quality is the worst
        q_int = 100 - 100 * 100 * d_int * NBEATS // (INTERVAL_SPREAD_PCT * sum_int)
        q_amp = 100 - 100 * 100 * d_amp * NBEATS // (AMP_SPREAD_PCT * sum_amp) if sum_amp else 0
        q_r = 100 - 100 * 100 * d_r * NBEATS // (R_SPREAD_PCT * sum_r) if sum_r > 0 else 0
        q = q_int
        if q_amp < q:
            q = q_amp
        if q_r < q:
            q = q_r
        if q < 0:
            q = 0
        if q < QUALITY_MIN:
            self._result = None
            return
        hr = 60 * self.rate_hz * NBEATS / sum_int
        spo2 = (110 * 1000 * NBEATS - 25 * sum_r) / (1000 * NBEATS)
        if spo2 > 100:
            spo2 = 100.0
        self._result = (hr, spo2, q)

    def result(self):
        return self._result
