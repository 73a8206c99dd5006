"""The FFT against a direct DFT, and the real-signal power spectrum through the half-length
complex FFT, the same to the bit under MicroPython."""

import array
import cmath
import math

from hypothesis import given, settings, strategies as st

from lpwa.firmware.algorithms.fft import fft, real_power, twiddles


def dft(x):
    n = len(x)
    return [sum(x[t] * cmath.exp(-2j * math.pi * k * t / n) for t in range(n)) for k in range(n)]


@settings(max_examples=20, deadline=None)
@given(log_n=st.integers(1, 6), data=st.data())
def test_fft_matches_the_dft(log_n, data):
    n = 1 << log_n
    xs = data.draw(st.lists(st.integers(-1000, 1000), min_size=2 * n, max_size=2 * n))
    re = array.array("f", xs[:n])
    im = array.array("f", xs[n:])
    expect = dft([complex(a, b) for a, b in zip(xs[:n], xs[n:])])
    fft(re, im, twiddles(4 * n))               # a longer table serves shorter transforms
    scale = max(1.0, max(abs(v) for v in expect))
    for k in range(n):
        assert abs(complex(re[k], im[k]) - expect[k]) <= 1e-4 * scale


@settings(max_examples=20, deadline=None)
@given(log_n=st.integers(2, 7), data=st.data())
def test_real_power_matches_the_dft(log_n, data):
    n = 1 << log_n
    xs = data.draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
    re = array.array("f", xs[0::2])
    im = array.array("f", xs[1::2])
    acc = array.array("f", [0.0] * (n // 2 + 1))
    real_power(re, im, twiddles(n), acc)
    expect = [abs(v) ** 2 for v in dft(xs)[: n // 2 + 1]]
    scale = max(1.0, max(expect))
    for k in range(n // 2 + 1):
        assert abs(acc[k] - expect[k]) <= 1e-4 * scale


def test_real_power_is_identical_under_micropython(mpy):
    xs = [int(1000 * math.sin(0.37 * t) + 300 * math.cos(1.9 * t)) for t in range(256)]
    code = (
        "import array, binascii, struct\n"
        "from lpwa.firmware.algorithms.fft import real_power, twiddles\n"
        "xs = %r\n"
        "re = array.array('f', xs[0::2]); im = array.array('f', xs[1::2])\n"
        "acc = array.array('f', [0.0] * 129)\n"
        "real_power(re, im, twiddles(256), acc)\n"
        "out = binascii.hexlify(bytes(acc)).decode()\n" % xs)
    theirs = mpy.eval_json(code, "out")
    ns = {}
    exec(code, ns)
    assert ns["out"] == theirs
