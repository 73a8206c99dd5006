"""Real PPG recordings for `lpwa bench algorithms`: a wrist PPG with the device's own heart rate.

The only PPG with a reference heart rate that a registry package ships under a licence that lets
us vendor it: the sample recording of e2epyppg (MIT; tests/data/ppg/README.md): 735 s of a
smartwatch's wrist PPG at ~20 Hz (one wavelength) with the watch's own heart rate
(`hrm`, its built-in estimator, 1 bpm steps) beside every sample. It is cut into consecutive
records of RECORD_S seconds; each record's truth is the mean of the watch's heart rate over it
(records where the watch reported none have no truth). Samples are interpolated onto the
firmware's 50 Hz grid and mapped to MAX30102-like counts: IR = 100 000 x value / the record's
median, which keeps the record's own pulsatile fraction. The watch's value is received light,
as the MAX30102's is: it falls fast at systole and recovers slowly (its 0.1 s slope is skewed
negative, -0.8 to -3.1 per 50 s of the recording); the earlier mapping 2 - value / median
turned the pulse upside down, so the estimator timed beats on the slow diastolic phase. Red = IR (one wavelength): no SpO2 truth.
A second reference per record, `acf_hr`, comes from the record's autocorrelation (offline).

A third, `ref_hr`, is the record's own beats found offline (reference_beats: non-causal, the
whole recording at once, the steepest light drop of each cycle): `ref_good` says the record's
rhythm is clean (5 or more beats, every interval within 20 % of the median), which is what a
"good signal" means in the bench: no reading there is a yield loss, a reading on a record that
is not good is scored against `ref_hr` and counted as a false reading when it is more than 3 bpm
off. The watch's own HR lags the pulse: over 10 s windows its mean agrees best with the beats'
HR WATCH_LAG_S later (median |difference| 2.1 bpm at no lag, 1.35 at 6 s); `hr_lagged` is the
watch averaged over the record shifted by that much.
"""

import gzip
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENDORED = os.path.join(ROOT, "tests", "data", "ppg")
GEAR_FILE = "e2epyppg_201902020222.csv.gz"
RATE_HZ = 50
RECORD_S = (5, 10, 30)
IR_LEVEL = 100000
WATCH_LAG_S = 6          # the watch's HR follows the pulse this much later (see the docstring)
REF_TOL = 0.2            # a good record: every reference interval within 20 % of the median


def read_gear(path=None):
    """[(t_ms, value, hrm)] of the vendored watch recording (t from its first sample)."""
    path = path or os.path.join(VENDORED, GEAR_FILE)
    rows = []
    with gzip.open(path, "rt") as f:
        next(f)
        for line in f:
            t, v, h = line.split(",")
            rows.append((int(t), int(v), int(h)))
    return rows


def _resample(rows, rate_hz):
    """Linear interpolation of (t_ms, value) onto a regular grid from the first sample."""
    out, j = [], 0
    step = 1000.0 / rate_hz
    t = rows[0][0]
    while t <= rows[-1][0]:
        while rows[j + 1][0] < t:
            j += 1
        (t0, v0), (t1, v1) = rows[j][:2], rows[j + 1][:2]
        out.append(v0 + (v1 - v0) * (t - t0) / float(t1 - t0) if t1 > t0 else v0)
        t += step
    return out


def _moving_mean(x, w):
    n, pre = len(x), [0.0]
    for v in x:
        pre.append(pre[-1] + v)
    return [(pre[min(n, i + w // 2 + 1)] - pre[max(0, i - w // 2)]) / (min(n, i + w // 2 + 1) - max(0, i - w // 2))
            for i in range(n)]


def reference_beats(values, rate_hz):
    """Beat times (s) found offline: on the 0.1 s-smoothed light minus its 1.2 s mean, the
    steepest drop of each cycle (a local minimum of the 80 ms slope over +-0.3 s, below 0.8 x
    its rms over 3 s), refined by a parabola. Non-causal and whole-record: not the firmware's
    method, a check on it."""
    n = len(values)
    b = _moving_mean(values, max(1, rate_hz // 10))
    base = _moving_mean(b, int(1.2 * rate_hz) | 1)
    y = [b[i] - base[i] for i in range(n)]
    h = max(1, rate_hz * 40 // 1000)
    d = [0.0] * n
    for i in range(h, n - h):
        d[i] = y[i + h] - y[i - h]
    rms = [v ** 0.5 for v in _moving_mean([v * v for v in d], 3 * rate_hz)]
    w = int(0.3 * rate_hz)
    out = []
    for i in range(w, n - w):
        if d[i] < -0.8 * rms[i] and d[i] == min(d[i - w:i + w + 1]):
            den = d[i - 1] - 2 * d[i] + d[i + 1]
            out.append((i + (0.5 * (d[i - 1] - d[i + 1]) / den if den else 0.0)) / rate_hz)
    return out


def reference_hr(beats, a_s, b_s):
    """(HR from the reference beats in [a_s, b_s) or None, whether the rhythm there is clean)."""
    bb = [t for t in beats if a_s <= t < b_s]
    if len(bb) < 2:
        return None, False
    iv = [bb[i + 1] - bb[i] for i in range(len(bb) - 1)]
    med = sorted(iv)[len(iv) // 2]
    good = len(bb) >= 5 and max(abs(x - med) for x in iv) <= REF_TOL * med
    return 60.0 * (len(bb) - 1) / (bb[-1] - bb[0]), good


def _watch_mean(rows, a_ms, b_ms):
    hrm = [r[2] for r in rows if a_ms <= r[0] < b_ms and r[2] > 0]
    return sum(hrm) / float(len(hrm)) if hrm else None


_BEATS = {}


def records(seconds, rows=None):
    """The recording cut into consecutive `seconds`-long PpgTraces (truth: the watch's HR)."""
    from lpwa.tools.sim.ppg import PpgTrace
    rows = rows or read_gear()
    key = (len(rows), rows[0][0], rows[-1][0])
    if key not in _BEATS:
        _BEATS[key] = reference_beats(_resample(rows, RATE_HZ), RATE_HZ)
    beats = _BEATS[key]
    out = []
    start = rows[0][0]
    while True:
        part = [r for r in rows if start <= r[0] < start + seconds * 1000]
        if len(part) < 2 or part[-1][0] - part[0][0] < (seconds - 1) * 1000:
            break
        values = _resample(part, RATE_HZ)
        med = sorted(values)[len(values) // 2]
        ir = [int(round(IR_LEVEL * v / med)) for v in values]
        hrm = [h for _, _, h in part if h > 0]
        truth = sum(hrm) / float(len(hrm)) if len(hrm) > len(part) // 2 else None
        name = "gear %3d-%3d s" % ((start - rows[0][0]) // 1000, (start - rows[0][0]) // 1000 + seconds)
        trace = PpgTrace(name, RATE_HZ, [(v, v) for v in ir], truth, None, [True] * len(ir),
                         "smartwatch wrist PPG, %d s (e2epyppg sample, MIT)" % seconds)
        trace.acf_hr = acf_hr(ir, RATE_HZ)
        a_s = (start - rows[0][0]) / 1000.0
        trace.ref_hr, trace.ref_good = reference_hr(beats, a_s, a_s + seconds)
        trace.ref_beats = [b - a_s for b in beats if a_s <= b < a_s + seconds]
        lag = WATCH_LAG_S * 1000
        trace.hr_lagged = _watch_mean(rows, start + lag, start + seconds * 1000 + lag) if truth is not None else None
        out.append(trace)
        start += seconds * 1000
    return out


def acf_hr(values, rate_hz):
    """A second, offline reference: HR from the record's autocorrelation (45-180 bpm), on the
    signal minus its 1 s moving mean, the peak lag refined by a parabola. Not our estimator's
    method (no beats, the whole record at once); it can lock on a harmonic."""
    n, w = len(values), rate_hz
    pre = [0.0]
    for v in values:
        pre.append(pre[-1] + v)
    y = []
    for i in range(n):
        a, b = max(0, i - w // 2), min(n, i + w // 2)
        y.append(values[i] - (pre[b] - pre[a]) / (b - a))
    lags = range(rate_hz * 60 // 180, rate_hz * 60 // 45 + 2)
    c = [sum(y[i] * y[i + lag] for i in range(n - lag)) / (n - lag) for lag in lags]
    k = max(range(1, len(c) - 1), key=lambda j: c[j])
    den = c[k - 1] - 2 * c[k] + c[k + 1]
    lag = lags[k] + (0.5 * (c[k - 1] - c[k + 1]) / den if den else 0.0)
    return 60.0 * rate_hz / lag


def write_vendored(src, dest=None):
    """The compact copy from e2epyppg's data/201902020222_Data.csv (tab-separated, ms stamps)."""
    dest = os.path.join(dest or VENDORED, GEAR_FILE)
    with open(src) as f:
        head = f.readline().split("\t")
        it, iv, ih = head.index("timestamp"), head.index("ppg"), head.index("hrm")
        rows = [line.split("\t") for line in f if line.strip()]
    t0 = int(rows[0][it])
    with gzip.GzipFile(dest, "wb", mtime=0) as g:
        g.write(b"t_ms,ppg,hrm\n")
        for r in rows:
            g.write(("%d,%d,%d\n" % (int(r[it]) - t0, int(float(r[iv])), int(float(r[ih])))).encode())
    return dest
