"""In-place radix-2 FFT over preallocated `array('f')` buffers, and the power spectrum of a
real signal through a half-length complex FFT.

Twiddles are a float32 table built once, so the board (float32) and the test interpreters
(float64 arithmetic, float32 storage) all start from the same numbers and CPython and the
MicroPython test port produce bit-identical spectra.
"""

import array
import math


def twiddles(n):
    """cos and sin of -2*pi*k/n for k < n/2, as float32 tables (n a power of two)."""
    half = n // 2
    cos_t = array.array("f", [0.0] * half)
    sin_t = array.array("f", [0.0] * half)
    for k in range(half):
        a = 2.0 * math.pi * k / n
        cos_t[k] = math.cos(a)
        sin_t[k] = -math.sin(a)
    return cos_t, sin_t


def fft(re, im, cos_t, sin_t):
    """Forward DFT of (re, im) in place. len(re) is a power of two and at most 2 * len(cos_t):
    a table built for n points also serves every shorter power of two."""
    n = len(re)
    table_n = 2 * len(cos_t)
    j = 0
    for i in range(1, n):          # bit-reversal permutation
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    size = 2
    while size <= n:
        half = size >> 1
        step = table_n // size
        for start in range(0, n, size):
            k = 0
            for a in range(start, start + half):
                b = a + half
                wr = cos_t[k]
                wi = sin_t[k]
                xr = re[b]
                xi = im[b]
                tr = wr * xr - wi * xi
                ti = wr * xi + wi * xr
                ur = re[a]
                ui = im[a]
                re[a] = ur + tr
                im[a] = ui + ti
                re[b] = ur - tr
                im[b] = ui - ti
                k += step
        size <<= 1


def real_power(re, im, cos_t, sin_t, acc):
    """Add |X[k]|^2, k = 0..n/2, of a real signal x of n = 2 * len(re) samples to `acc`.

    x is stored packed: x[2j] in re[j], x[2j+1] in im[j]; (cos_t, sin_t) is the n-point table.
    One n/2-point complex FFT, then the split X[k] = E[k] + W^k O[k] -- half the time and half
    the buffers of an n-point complex FFT. re and im are overwritten.
    """
    fft(re, im, cos_t, sin_t)
    m = len(re)
    for k in range(m + 1):
        a = k if k < m else 0
        b = m - k if k > 0 else 0
        zr = re[a]
        zi = im[a]
        cr = re[b]                      # conj(Z[m - k])
        ci = -im[b]
        er = (zr + cr) * 0.5            # E = (Z[k] + conj Z[m-k]) / 2
        ei = (zi + ci) * 0.5
        orr = (zi - ci) * 0.5           # O = (Z[k] - conj Z[m-k]) / 2i
        oi = (cr - zr) * 0.5
        if k < m:
            wr = cos_t[k]
            wi = sin_t[k]
        else:
            wr = -1.0
            wi = 0.0
        xr = er + wr * orr - wi * oi
        xi = ei + wr * oi + wi * orr
        acc[k] += xr * xr + xi * xi
