"""Significant wave height Hm0 and peak period Tp from the buoy's vertical acceleration.

Method (README.md in this folder): the window is cut into segments of at most 256 s (a power
of two of samples, 1024 at 4 Hz); each is mean-removed, Tukey-tapered (1/16 of its length each
side, so nearly every wave counts fully) and FFT'd, and the periodograms are averaged over the
window. The displacement spectrum is the acceleration spectrum divided by (2 pi f)**4 -- the
double integration done in the frequency domain -- kept only between F_LO (0.05 Hz, below which
accelerometer noise amplified by 1/f**4 would dominate) and F_HI (1 Hz). Hm0 = 4 sqrt(m0);
Tp = 1 / the centroid frequency of the strongest 5-bin band. The low cut-off rises to a third
of the acceleration peak for short seas, where tilt and noise would otherwise inflate m0.
Spectral rather than zero-crossing H1/3: it needs no displacement time series (double
integration in time drifts), and gives Tp and the spectrum's shape for free.
RAM: the segment's samples packed two per complex slot (a real FFT through a half-length complex
one), twiddles and one power accumulator: 10 KB at 4 Hz, whatever the window.
"""

import array
import math

from lpwa.firmware.algorithms.fft import real_power, twiddles

SEGMENT_MAX_S = 256      # longest FFT segment; longer windows average several segments
SEGMENT_MAX_POINTS = 1024  # and never more points than this (RAM: 10 KB)
TAPER_DIV = 16            # Tukey taper: n / TAPER_DIV samples at each end
F_LO_MHZ = 50            # displacement band kept, in millihertz
F_HI_MHZ = 1000
PEAK_BAND = 5            # bins averaged when looking for the spectral peak
MG_TO_MS2 = 980665 / 100000000   # a ratio of integers: the same double under every interpreter


def _pow2_at_most(n):
    p = 1
    while p * 2 <= n:
        p *= 2
    return p


class WaveEstimator:
    """Feed vertical acceleration (mg, gravity included) at `rate_hz`; `result()` gives
    (hm0_m, tp_s) for the last complete window of about `window_s` seconds, else None."""

    def __init__(self, rate_hz=4, window_s=256):
        self.rate_hz = rate_hz
        seg_s = window_s if window_s < SEGMENT_MAX_S else SEGMENT_MAX_S
        n = _pow2_at_most(rate_hz * seg_s)
        if n > SEGMENT_MAX_POINTS:          # faster rates: shorter segments, same RAM
            n = SEGMENT_MAX_POINTS
        if n < 16:
            raise ValueError("window too short for a spectrum")
        self._n = n
        per = rate_hz * window_s // n
        self._per_window = per if per > 0 else 1
        half = n // 2                  # the samples, packed two per complex slot, then the FFT
        self._re = array.array("f", [0.0] * half)
        self._im = array.array("f", [0.0] * half)
        self._cos, self._sin = twiddles(n)
        self._power = array.array("f", [0.0] * (n // 2 + 1))
        self._i = 0
        self._segments = 0
        self._result = None

    def feed(self, az_mg):
        i = self._i
        if i & 1:
            self._im[i >> 1] = az_mg
        else:
            self._re[i >> 1] = az_mg
        self._i = i + 1
        if self._i == self._n:
            self._i = 0
            self._segment()
            if self._segments >= self._per_window:
                self._finish()

    def result(self):
        return self._result

    def _segment(self):
        """Add the tapered periodogram of the segment (packed in _re/_im) to the accumulator."""
        n = self._n
        re = self._re
        im = self._im
        cos_t = self._cos
        total = 0.0
        for v in re:
            total += v
        for v in im:
            total += v
        mean = total / n
        m = n // TAPER_DIV
        for i in range(n):
            buf = im if i & 1 else re
            h = i >> 1
            j = i if i < m else n - 1 - i
            if j < m:                 # half a Hann over m samples: 0.5 - 0.5 cos(pi j / m)
                w = 0.5 - 0.5 * cos_t[j * TAPER_DIV // 2]
                buf[h] = (buf[h] - mean) * w
            else:
                buf[h] = buf[h] - mean
        real_power(re, im, cos_t, self._sin, self._power)
        self._segments += 1

    @staticmethod
    def _peak_bin(p, k_lo, k_hi):
        """Centre of the strongest PEAK_BAND-bin band of p[k_lo..k_hi]."""
        half = PEAK_BAND // 2
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

    def _finish(self):
        """Close a window: displacement spectrum, Hm0 and Tp; clear the accumulator."""
        p = self._power
        nseg = self._segments
        self._segments = 0
        n = self._n
        rate = self.rate_hz
        m = n // TAPER_DIV
        # sum of squared taper weights: n - 2m flat samples plus two half-Hann ends (3m/8 each)
        sum_w2 = (n - 2 * m) + 2 * (3 * m / 8)
        # one-sided PSD in (m/s^2)^2/Hz: 2 |X|^2 / (fs * sum w^2), X in mg
        scale = 2.0 * MG_TO_MS2 * MG_TO_MS2 / (rate * sum_w2 * nseg)
        df = rate / n
        two_pi_df = 2.0 * math.pi * df
        k_lo = (F_LO_MHZ * n + rate * 1000 - 1) // (rate * 1000)
        k_hi = F_HI_MHZ * n // (rate * 1000)
        if k_hi > n // 2 - 1:
            k_hi = n // 2 - 1
        if k_lo < 1:
            k_lo = 1
        # Adaptive low cut-off: a third of the acceleration spectrum's peak (about half the
        # displacement peak, below which a sea has no energy) keeps tilt and noise, amplified
        # by 1/f**4, out of small short seas; never below F_LO.
        k_acc = self._peak_bin(p, k_lo, k_hi)
        if k_acc // 3 > k_lo:
            k_lo = k_acc // 3
        m0 = 0.0
        for k in range(len(p)):
            if k_lo <= k <= k_hi:
                w = two_pi_df * k
                w2 = w * w
                s = p[k] * scale / (w2 * w2)
                p[k] = s                # the accumulator now holds the displacement spectrum
                m0 += s
            else:
                p[k] = 0.0
        m0 *= df
        half = PEAK_BAND // 2
        best = self._peak_bin(p, k_lo, k_hi)
        best_sum = 0.0
        for j in range(best - half, best + half + 1):
            best_sum += p[j]
        f_peak = 0.0
        if best_sum > 0.0:
            num = 0.0
            for j in range(best - half, best + half + 1):
                num += p[j] * j
            f_peak = num / best_sum * df
        for k in range(len(p)):
            p[k] = 0.0
        if m0 <= 0.0 or f_peak <= 0.0:
            self._result = None
            return
        self._result = (4.0 * math.sqrt(m0), 1.0 / f_peak)
