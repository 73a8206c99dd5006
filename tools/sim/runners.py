"""Run an algorithm over a model trace, the same code under CPython and under MicroPython.

`program(algo, trace)` builds one self-contained script: it unpacks the samples from hex, builds
the estimator, streams every sample, records the outputs at checkpoints (floats as the hex of
their IEEE doubles, so "identical" means bit-identical), the RAM the estimator keeps (gc.mem_alloc
after gc.collect, MicroPython only; "after stream" is an upper bound: the WebAssembly port's
conservative GC keeps some garbage alive through integer buffers whose values look like its small
heap addresses), the garbage it allocates per sample and the time per sample against a baseline loop that
unpacks the same samples into a no-op feed(). `run_cpython` execs it here; `run_micropython`
sends it to the harness interpreter (lpwa.tools.mpy.MicroPython).
"""

import array
import binascii
import contextlib
import io
import json
import struct

SPLIT = "\n#--- part ---\n"

PRELUDE = r'''
import array, binascii, gc, json, struct
try:
    from time import ticks_us, ticks_diff
except ImportError:
    import time as _time
    def ticks_us():
        return _time.perf_counter_ns() // 1000
    def ticks_diff(a, b):
        return a - b
def heap():
    try:
        return gc.mem_alloc()
    except AttributeError:
        return None
def mem():
    # MicroPython's WebAssembly port only reclaims garbage at the start of a top-level run,
    # so each mem() is the first statement of its own part (see SPLIT)
    gc.collect()
    return heap()
def fhex(x):
    return binascii.hexlify(struct.pack('>d', x)).decode()
class Nop:
    """The baseline's feed: same call shape as the estimator's, no work, no allocation."""
    def feed(self, a, b=0, c=0, d=0, e=0, f=0):
        pass
'''

SPECS = {
    # algo: (import, constructor, typecode, width, output at a checkpoint, final output)
    "steps": ("from lpwa.firmware.algorithms.steps import StepCounter",
              "StepCounter(%(rate)d, %(mode)r)", "h", 3, "obj.steps", "obj.steps"),
    "waves": ("from lpwa.firmware.algorithms.waves import WaveEstimator",
              "WaveEstimator(%(rate)d, %(window)d)", "h", 1,
              "None if obj.result() is None else [fhex(v) for v in obj.result()]", "None"),
    "imu_waves": ("from lpwa.firmware.algorithms.imu_waves import ImuWaveEstimator",
                  "ImuWaveEstimator(%(rate)d, %(window)d)", "h", 6,
                  "None if obj.result() is None else [fhex(v) for v in obj.result()]", "None"),
    "ppg": ("from lpwa.firmware.algorithms.ppg import PpgEstimator",
            "PpgEstimator(%(rate)d, %(cal)s)", "i", 2,
            "None if obj.result() is None else [fhex(obj.result()[0]), None if obj.result()[1] is None"
            " else fhex(obj.result()[1]), obj.result()[2], obj.result()[3], obj.full()]",
            "None"),
}

BODY = r"""
%(imp)s
data = array.array(%(typecode)r, binascii.unhexlify(%(hex)r))
W = %(width)d
EVERY = %(every)d
BASELINE_REPEAT = 10
def stream(obj, out):
    n = len(data)
    i = 0
    k = 0
    if W == 6:
        while i < n:
            obj.feed(data[i], data[i + 1], data[i + 2], data[i + 3], data[i + 4], data[i + 5])
            i += 6
            k += 1
            if k == EVERY:
                k = 0
                if out is not None:
                    out.append(%(check)s)
    elif W == 3:
        while i < n:
            obj.feed(data[i], data[i + 1], data[i + 2])
            i += 3
            k += 1
            if k == EVERY:
                k = 0
                if out is not None:
                    out.append(%(check)s)
    elif W == 2:
        while i < n:
            obj.feed(data[i], data[i + 1])
            i += 2
            k += 1
            if k == EVERY:
                k = 0
                if out is not None:
                    out.append(%(check)s)
    else:
        while i < n:
            obj.feed(data[i])
            i += 1
            k += 1
            if k == EVERY:
                k = 0
                if out is not None:
                    out.append(%(check)s)
""" + SPLIT + r"""
m0 = mem()
""" + SPLIT + r"""
obj = %(ctor)s
""" + SPLIT + r"""
m1 = mem()
""" + SPLIT + r"""
checks = []
stream(Nop(), None)     # warm-up: the WebAssembly engine compiles the loop on first use
a0 = heap()
t0 = ticks_us()
stream(obj, checks)
t1 = ticks_us()
a1 = heap()
""" + SPLIT + r"""
m2 = mem()
final = %(final)s
nop = obj
obj = Nop()
t2 = ticks_us()
for _ in range(BASELINE_REPEAT):   # the baseline is cheap: repeat it past the 1 ms timer grain
    stream(obj, None)
t3 = ticks_us()
obj = nop
print('\x1e' + json.dumps({"final": final, "checks": checks, "samples": len(data) // W,
    "us": ticks_diff(t1, t0), "baseline_us": ticks_diff(t3, t2) / BASELINE_REPEAT,
    "ram_kept": None if m0 is None else m1 - m0,
    "ram_kept_after_stream": None if m0 is None else m2 - m0,
    "alloc_per_sample": None if a0 is None or a1 < a0 else (a1 - a0) / max(1, len(data) // W)}))
data = None
obj = None
nop = None
"""


def _flatten(algo, trace):
    if algo in ("steps", "imu_waves"):
        return [v for s in trace.samples for v in s]
    if algo == "ppg":
        return [v for s in trace.samples for v in s]
    return list(trace.samples)


def program(algo, trace, every=None, window_s=256, mode="body"):
    """The script's parts, to be run one after the other in one interpreter."""
    imp, ctor, typecode, width, check, final = SPECS[algo]
    raw = array.array(typecode, _flatten(algo, trace)).tobytes()
    if every is None:
        every = trace.rate_hz * (window_s if algo in ("waves", "imu_waves") else 1)
    params = {"rate": trace.rate_hz, "window": window_s, "mode": mode,   # mode: the step counter's
              "cal": repr(getattr(trace, "cal", None))}
    return (PRELUDE + BODY % {
        "imp": imp, "typecode": typecode, "hex": binascii.hexlify(raw).decode(), "width": width,
        "every": every, "check": check, "ctor": ctor % params, "final": final % params,
    }).split(SPLIT)


def _parse(stdout):
    return json.loads(stdout.rsplit("\x1e", 1)[1])


def run_cpython(algo, trace, **kw):
    buf = io.StringIO()
    env = {"__name__": "lpwa_trace"}
    with contextlib.redirect_stdout(buf):
        for part in program(algo, trace, **kw):
            exec(part, env)
    return _parse(buf.getvalue())


def run_micropython(mpy, algo, trace, **kw):
    out = ""
    for part in program(algo, trace, **kw):
        out += mpy.run(part)
    return _parse(out)


def unhex(value):
    """Decode a checkpoint's hex doubles back to floats (lists, recursively)."""
    if isinstance(value, str):
        return struct.unpack(">d", binascii.unhexlify(value))[0]
    if isinstance(value, list):
        return [unhex(v) for v in value]
    return value
