"""In-place radix-2 FFT over preallocated `array('f')` buffers.

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
    """Forward DFT of (re, im) in place; len(re) == 2 * len(cos_t), a power of two."""
    n = len(re)
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
        step = n // size
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
