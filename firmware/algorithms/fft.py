"""In-place radix-2 FFT over preallocated `array('f')` buffers, and the power spectrum of a
real signal through a half-length complex FFT.

Twiddles are a float32 quarter-wave table built once -- cos(2 pi j / n) for j = 0..n/4; every
other cosine and every sine is one of its entries by symmetry (n/4 + 1 floats instead of n: 1 KB
for 1024 points, not 4 KB) -- so the board (float32) and the test interpreters (float64
arithmetic, float32 storage) all start from the same numbers and CPython and the MicroPython
test port produce bit-identical spectra.
"""

import array
import math


def twiddles(n):
    """cos(2*pi*j/n) for j = 0..n/4, a float32 table (n a power of two, at least 4)."""
    q = n // 4
    table = array.array("f", [0.0] * (q + 1))
    for j in range(q + 1):
        table[j] = math.cos(2.0 * math.pi * j / n)
    return table


def fft(re, im, table):
    """Forward DFT of (re, im) in place. len(re) is a power of two and at most the table's n:
    a table built for n points also serves every shorter power of two."""
    n = len(re)
    q = len(table) - 1                 # the table's n / 4
    h = 2 * q
    table_n = 4 * q
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
                # W^k = exp(-2 pi i k / table_n), k < table_n / 2, from the quarter wave
                if k <= q:
                    wr = table[k]
                    wi = -table[q - k]
                else:
                    wr = -table[h - k]
                    wi = -table[k - q]
                b = a + half
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


def real_power(re, im, table, acc):
    """Add |X[k]|^2, k = 0..n/2, of a real signal x of n = 2 * len(re) samples to `acc`.

    x is stored packed: x[2j] in re[j], x[2j+1] in im[j]; `table` is the n-point quarter wave.
    One n/2-point complex FFT, then the split X[k] = E[k] + W^k O[k] -- half the time and half
    the buffers of an n-point complex FFT. re and im are overwritten.
    """
    fft(re, im, table)
    m = len(re)
    q = len(table) - 1
    h = 2 * q
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
        if k <= q:                      # W^k = exp(-2 pi i k / n), n = 2m = 4q
            wr = table[k]
            wi = -table[q - k]
        elif k < m:
            wr = -table[h - k]
            wi = -table[k - q]
        else:
            wr = -1.0
            wi = 0.0
        xr = er + wr * orr - wi * oi
        xi = ei + wr * oi + wi * orr
        acc[k] += xr * xr + xi * xi
