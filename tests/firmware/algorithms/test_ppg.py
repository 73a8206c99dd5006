"""PPG estimator: HR within 3 bpm and SpO2 within 2 points on the synthetic MAX30102 model,
no reading on motion or without a finger, identical under MicroPython and CPython, fixed RAM."""

import pytest
from hypothesis import given, settings, strategies as st

from lpwa.firmware.algorithms.ppg import PpgEstimator
from lpwa.tools.sim import ppg, runners

LATENCY_S = 0.5      # a reading may outlive the good signal by this much while motion is detected


def stream(trace):
    """(final result, outputs given where the trace says no reading is possible)."""
    e = PpgEstimator(trace.rate_hz)
    wrong = 0
    bad_since = None
    for i, (red, ir) in enumerate(trace.samples):
        e.feed(red, ir)
        if trace.valid[i]:
            bad_since = None
        else:
            bad_since = i if bad_since is None else bad_since
            if i - bad_since >= LATENCY_S * trace.rate_hz and e.result() is not None:
                wrong += 1
    return e.result(), wrong


@pytest.fixture(scope="module")
def traces():
    return ppg.bench_traces(scale=0.5)


def test_hr_within_3_bpm_and_spo2_within_2_points(traces):
    for t in traces:
        if t.hr is None:
            continue
        res, wrong = stream(t)
        assert res is not None, t.name
        hr, spo2, quality = res
        assert abs(hr - t.hr) <= 3, (t.name, t.hr, hr)
        assert abs(spo2 - t.spo2) <= 2, (t.name, t.spo2, spo2)
        assert 50 <= quality <= 100
        assert wrong == 0, t.name


def test_no_reading_on_motion_or_without_a_finger(traces):
    for t in traces:
        if t.hr is None:
            res, wrong = stream(t)
            assert res is None and wrong == 0, t.name


def test_calibration_curve_is_110_minus_25_r():
    for spo2 in (84, 90, 96, 100):
        t = ppg.ppg("cal", 40 + spo2, 72, spo2, 25)
        res, _ = stream(t)
        assert res is not None and abs(res[1] - spo2) <= 1.5


def test_identical_under_micropython_and_cpython(mpy):
    for t in (ppg.ppg("a", 51, 68, 97, 20),
              ppg.ppg("b", 52, 90, 91, segments=[("finger", 15), ("motion", 4), ("none", 3), ("finger", 15)])):
        a = runners.run_cpython("ppg", t)
        b = runners.run_micropython(mpy, "ppg", t)
        assert a["checks"] == b["checks"], t.name
        assert a["checks"][-1] is not None


def test_ram_is_fixed(mpy):
    r = runners.run_micropython(mpy, "ppg", ppg.ppg("c", 53, 75, 96, 20))
    assert r["ram_kept"] < 2048


@settings(max_examples=20, deadline=None)
@given(rate=st.sampled_from([25, 50, 100]),
       data=st.lists(st.tuples(st.integers(0, 262143), st.integers(0, 262143)), max_size=300))
def test_any_stream_never_crashes_and_is_identical(mpy, rate, data):
    t = ppg.PpgTrace("h", rate, data, None, None, [False] * len(data), "hypothesis")
    a = runners.run_cpython("ppg", t, every=5)
    b = runners.run_micropython(mpy, "ppg", t, every=5)
    assert a["checks"] == b["checks"]
    for c in a["checks"]:
        if c is not None:
            hr, spo2, q = runners.unhex(c)
            assert 35 <= hr <= 220 and spo2 <= 100 and 50 <= q <= 100
