"""Fixed RAM by construction: streaming never adds state. After any number of samples every
estimator holds the same attributes, of the same kinds, with buffers of the same length, and
no container that could grow. (MicroPython's gc.mem_alloc after streaming is not a clean
measure on the WebAssembly port: its conservative GC keeps garbage alive through integer
buffers whose values look like the port's small heap addresses.)"""

import array

from lpwa.firmware.algorithms.ppg import PpgEstimator
from lpwa.firmware.algorithms.steps import StepCounter
from lpwa.firmware.algorithms.waves import WaveEstimator
from lpwa.tools.sim import gait, ppg, sea


def shape(obj):
    out = {}
    for name, value in vars(obj).items():
        assert not isinstance(value, (list, dict, set, bytearray)), name   # nothing growable
        if isinstance(value, array.array):
            out[name] = ("array", value.typecode, len(value))
        elif isinstance(value, tuple):
            out[name] = ("tuple", len(value))
        elif value is None:
            out[name] = ("value",)          # a result slot: None or a tuple of fixed size
        else:
            assert isinstance(value, (int, float, bool)), name
            out[name] = ("value",)
    return out


def same_shape(before, after):
    assert before.keys() == after.keys()
    for k in before:
        if before[k][0] == "array":
            assert before[k] == after[k], k


def test_step_counter_state_is_fixed():
    c = StepCounter(50)
    before = shape(c)
    for s in gait.gait("w", 61, 1.8, 40, "pocket").samples + gait.shake("s", 62, 10).samples:
        c.feed(*s)
    same_shape(before, shape(c))


def test_wave_estimator_state_is_fixed():
    e = WaveEstimator(4, 256)
    before = shape(e)
    for s in sea.sea_state("a", 63, 1.5, 8.0, seconds=600).samples:
        e.feed(s)
    after = shape(e)
    same_shape(before, after)
    assert after["_result"] == ("tuple", 2)


def test_ppg_estimator_state_is_fixed():
    e = PpgEstimator(50)
    before = shape(e)
    t = ppg.ppg("a", 64, 70, 97, segments=[("finger", 20), ("motion", 5), ("none", 3), ("finger", 20)])
    for red, ir in t.samples:
        e.feed(red, ir)
    after = shape(e)
    same_shape(before, after)
    assert after["_result"] == ("tuple", 4)
