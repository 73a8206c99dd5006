"""Significant wave height Hm0 and peak period Tp from the buoy's vertical acceleration.

Method (README.md in this folder): Welch's method over the record -- segments of at most 256 s
(a power of two of samples, 1024 at 4 Hz), overlapping by half, each mean-removed, Hann-windowed
(low leakage: a leaked bin is amplified by 1/f**4 below) and FFT'd; the periodograms are averaged
over the record. The displacement spectrum is the acceleration spectrum divided by (2 pi f)**4
-- the double integration done in the frequency domain -- kept between a FIXED low cut-off
F_LO (0.05 Hz, 20 s: no swell is cut, whatever the wind sea does) and F_HI (1 Hz), and only in
bins whose acceleration power is at least _FLOOR_X times the record's own noise floor: the mean
acceleration power in 0.02-0.04 Hz (25-50 s), where no ocean wave has a measurable acceleration,
so what is there is sensor noise and the residue of tilt. Hm0 = 4 sqrt(m0); Tp = 1 / the
centroid frequency of the strongest 5-bin band.
A sea state is stationary over a record; a knock (a boat, a hand, a snatch of the mooring) is
not. Each segment's own band energy (its m0 before the floor test) is kept, one float a segment;
a segment over _TRANSIENT_X times the record's median segment is a transient, and m0 is scaled
to the mean of the other segments (the spectrum's shape, and so Tp, is left as it is).
Spectral rather than zero-crossing H1/3: it needs no displacement time series (double
integration in time drifts), and gives Tp and the spectrum's shape for free.
RAM: the last segment's samples (a ring), the FFT buffers (two per complex slot: a real FFT
through a half-length complex one), a quarter-wave twiddle table, one power accumulator and a
float per segment: 11.5 KB at 4 Hz (1 KB of twiddles, 28 B of segments for a 1024 s record).
"""

import array
import math

from lpwa.firmware.algorithms.fft import real_power, twiddles

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_SEGMENT_MAX_S = const(256)      # longest FFT segment; longer records average several segments
_SEGMENT_MAX_POINTS = const(1024)  # and never more points than this (RAM: 11.5 KB)
_F_LO_MHZ = const(50)            # displacement band kept, in millihertz (fixed: never follows the peak)
_F_HI_MHZ = const(1000)
_NOISE_LO_MHZ = const(20)        # the noise-floor band: no sea has acceleration energy at 25-50 s
_NOISE_HI_MHZ = const(40)
_FLOOR_X = const(2)              # a bin counts when its power is at least _FLOOR_X x the floor
_PEAK_BAND = const(5)            # bins averaged when looking for the spectral peak
_TRANSIENT_X = const(8)          # a segment over 8x the median segment's m0 is a knock, not a sea: a
                         # stationary sea of >= 4 degrees of freedom a segment (two resolved
                         # bins: the narrowest swell) passes it with p < 1e-4 (chi-square)
_MIN_SEGMENTS_TEST = const(3)    # a median needs at least three segments
MG_TO_MS2 = 980665 / 100000000   # a ratio of integers: the same double under every interpreter


def _pow2_at_most(n):
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


class WaveEstimator:
    """Feed vertical acceleration (mg, gravity included) at `rate_hz`; `result()` gives
    (hm0_m, tp_s) for the last complete record of about `window_s` seconds, else None."""

    def __init__(self, rate_hz=4, window_s=256):
        self.rate_hz = rate_hz
        seg_s = window_s if window_s < _SEGMENT_MAX_S else _SEGMENT_MAX_S
        n = _pow2_at_most(rate_hz * seg_s)
        if n > _SEGMENT_MAX_POINTS:          # faster rates: shorter segments, same RAM
            n = _SEGMENT_MAX_POINTS
        if n < 16:
            raise ValueError("window too short for a spectrum")
        self._n = n
        self._hop = n // 2                  # Welch: segments overlap by half
        total = rate_hz * window_s
        self._per_window = (total - n) // self._hop + 1 if total > n else 1
        self._x = array.array("f", [0.0] * n)      # ring: the last n samples
        half = n // 2                  # the segment, packed two per complex slot, then the FFT
        self._re = array.array("f", [0.0] * half)
        self._im = array.array("f", [0.0] * half)
        self._table = twiddles(n)          # quarter-wave cosines: n/4 + 1 floats
        self._power = array.array("f", [0.0] * (n // 2 + 1))
        self._seg = array.array("f", [0.0] * self._per_window)   # each segment's band m0 (bins)
        self._k_lo = self._bin(_F_LO_MHZ, True)
        self._k_hi = self._bin(_F_HI_MHZ, False)
        self._w = 0                    # next ring slot (the oldest sample)
        self._due = n                  # samples until the next segment closes
        self._segments = 0
        self._band_total = 0.0         # the accumulator's band m0 after the last segment
        self._result = None

    def feed(self, az_mg):
        w = self._w
        self._x[w] = az_mg
        w += 1
        self._w = 0 if w == self._n else w
        self._due -= 1
        if self._due == 0:
            self._segment()
            if self._segments >= self._per_window:
                self._finish()
                self._due = self._n    # the next record starts afresh
            else:
                self._due = self._hop

    def result(self):
        return self._result

    def _segment(self):
        """Add the Hann-windowed periodogram of the ring's last n samples to the accumulator."""
        n = self._n
        half = n // 2
        x = self._x
        re = self._re
        im = self._im
        table = self._table
        q = n // 4
        total = 0.0
        for v in x:
            total += v
        mean = total / n
        w0 = self._w
        for i in range(n):
            j = w0 + i
            if j >= n:
                j -= n
            k = i if i < half else n - i                 # cos(2 pi i / n), from the quarter wave
            c = table[k] if k <= q else -table[half - k]
            v = (x[j] - mean) * (0.5 - 0.5 * c)        # Hann: 0.5 - 0.5 cos(2 pi i / n)
            if i & 1:
                im[i >> 1] = v
            else:
                re[i >> 1] = v
        real_power(re, im, table, self._power)
        total = self._band_m0()
        self._seg[self._segments] = total - self._band_total
        self._band_total = total
        self._segments += 1

    def _band_m0(self):
        """The accumulator's displacement energy in the band, in bin units (sum of p[k] / k^4)."""
        p = self._power
        total = 0.0
        for k in range(self._k_lo, self._k_hi + 1):
            w = float(k) * k               # a float: k^4 would overflow MicroPython's small ints
            total += p[k] / (w * w)
        return total

    def _stationary_share(self, nseg):
        """The mean segment m0 without transients over the mean with them (1.0: none found).
        Sorts self._seg in place (insertion sort: a handful of floats, no allocation)."""
        s = self._seg
        if nseg < _MIN_SEGMENTS_TEST:
            return 1.0
        for i in range(1, nseg):
            v = s[i]
            j = i - 1
            while j >= 0 and s[j] > v:
                s[j + 1] = s[j]
                j -= 1
            s[j + 1] = v
        mid = nseg // 2
        median = s[mid] if nseg & 1 else 0.5 * (s[mid - 1] + s[mid])
        limit = _TRANSIENT_X * median
        total = 0.0
        kept = 0.0
        n_kept = 0
        for i in range(nseg):
            total += s[i]
            if s[i] <= limit:
                kept += s[i]
                n_kept += 1
        if n_kept == nseg or total <= 0.0:
            return 1.0
        return (kept / n_kept) / (total / nseg)

    @staticmethod
    def _peak_bin(p, k_lo, k_hi):
        """Centre of the strongest _PEAK_BAND-bin band of p[k_lo..k_hi]."""
        half = _PEAK_BAND // 2
        best = k_lo + half
        best_sum = -1.0
        for k in range(k_lo + half, k_hi - half + 1):
            b = 0.0
            for j in range(k - half, k + half + 1):
                b += p[j]
            if b > best_sum:
                best_sum = b
                best = k
        return best

    def _bin(self, mhz, up):
        """The FFT bin of a frequency in mHz, rounded up or down, within 1 .. n/2 - 1."""
        d = self.rate_hz * 1000
        k = (mhz * self._n + d - 1) // d if up else mhz * self._n // d
        top = self._n // 2 - 1
        return 1 if k < 1 else (top if k > top else k)

    def _floor(self, p):
        """Mean power in the noise band (0 when the segments cannot resolve it)."""
        lo = self._bin(_NOISE_LO_MHZ, True)
        hi = self._bin(_NOISE_HI_MHZ, True)
        if hi <= lo:
            return 0.0
        total = 0.0
        for k in range(lo, hi):
            total += p[k]
        return total / (hi - lo)

    def _finish(self):
        """Close a record: displacement spectrum, Hm0 and Tp; clear the accumulator."""
        p = self._power
        nseg = self._segments
        self._segments = 0
        self._band_total = 0.0
        n = self._n
        rate = self.rate_hz
        # one-sided PSD in (m/s^2)^2/Hz: 2 |X|^2 / (fs * sum w^2 * segments), X in mg; Hann: 3n/8
        scale = 2.0 * MG_TO_MS2 * MG_TO_MS2 / (rate * (3 * n / 8) * nseg)
        df = rate / n
        two_pi_df = 2.0 * math.pi * df
        k_lo = self._k_lo
        k_hi = self._k_hi
        keep = _FLOOR_X * self._floor(p)
        m0 = 0.0
        for k in range(len(p)):
            if k_lo <= k <= k_hi and p[k] >= keep:
                w = two_pi_df * k
                w2 = w * w
                s = p[k] * scale / (w2 * w2)
                p[k] = s                # the accumulator now holds the displacement spectrum
                m0 += s
            else:
                p[k] = 0.0
        m0 *= df * self._stationary_share(nseg)
        f_peak = self._peak_frequency(p, k_lo, k_hi) * df
        for k in range(len(p)):
            p[k] = 0.0
        if m0 <= 0.0 or f_peak <= 0.0:
            self._result = None
            return
        self._result = (4.0 * math.sqrt(m0), 1.0 / f_peak)

    def _peak_frequency(self, p, k_lo, k_hi):
        """The centroid (in bins) of the strongest _PEAK_BAND-bin band; 0 for an empty spectrum."""
        half = _PEAK_BAND // 2
        best = self._peak_bin(p, k_lo, k_hi)
        total = 0.0
        num = 0.0
        for j in range(best - half, best + half + 1):
            total += p[j]
            num += p[j] * j
        return num / total if total > 0.0 else 0.0
