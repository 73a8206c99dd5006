"""Real recordings for `lpwa bench algorithms`: Oxford step-counter walks and microSWIFT buoy records.

Steps come from `../shared/datasets/steps/` (100 Hz mg) when that checkout-sibling exists, else
from the compact copy vendored under tests/data/steps/ (25 Hz int16, gzip'd; see its README).
Either way each walk reaches the step counter at the firmware's rate (25 Hz), resampled the way
the sensor would (averaging blocks of samples, never dropping them). Waves are research data
without a licence: read only from ../shared, never vendored.
"""

import array
import gzip
import json
import math
import os
import sys

from lpwa.tools.sim.gait import Trace
from lpwa.tools.sim.sea import SeaTrace

STEP_RATE_HZ = 25         # the firmware pedometer's default IMU rate (firmware/pedometer.py)
WAVE_RATE_HZ = 8          # the buoy plan's wave_rate_hz and wave_window_s (firmware/config.py)
WAVE_WINDOW_S = 1024
PERIOD_S = 1800           # CDIP reports one row per 30-minute period
G_MG = 1000 / 9.80665     # m/s^2 -> mg

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "datasets")
VENDORED = os.path.join(ROOT, "tests", "data", "steps")


def block_mean(rows, k):
    """Average consecutive blocks of k (x, y, z) samples into int mg (a partial tail is dropped)."""
    out = []
    for i in range(0, len(rows) - k + 1, k):
        blk = rows[i:i + k]
        out.append(tuple(int(round(sum(r[a] for r in blk) / k)) for a in range(3)))
    return out


def _read_csv(path):
    with open(path) as f:
        next(f)
        return [tuple(int(v) for v in line.split(",")) for line in f if line.strip()]


def _walk(meta, samples):
    info = "%s %s %s %s" % (meta["placement"], meta["phone"], meta["user"], meta["surface"])
    t = Trace(os.path.basename(meta["file"]).split(".")[0], STEP_RATE_HZ, samples, meta["truth_steps"], info)
    t.placement = meta["placement"]
    t.suspect = meta.get("suspect", False)
    return t


def shared_walks(base=None):
    """The Oxford walks from ../shared, block-averaged from their rate to STEP_RATE_HZ."""
    d = os.path.join(base or SHARED, "steps")
    with open(os.path.join(d, "index.json")) as f:
        index = json.load(f)["walks"]
    return [_walk(m, block_mean(_read_csv(os.path.join(d, m["file"])), m["rate_hz"] // STEP_RATE_HZ))
            for m in index]


def vendored_walks(base=None):
    """The vendored copy: index.json + <walk>.i16.gz (little-endian int16 x, y, z at 25 Hz)."""
    base = base or VENDORED
    with open(os.path.join(base, "index.json")) as f:
        index = json.load(f)["walks"]
    walks = []
    for m in index:
        a = array.array("h")
        with gzip.open(os.path.join(base, m["file"]), "rb") as f:
            a.frombytes(f.read())
        if sys.byteorder != "little":
            a.byteswap()
        walks.append(_walk(m, [tuple(a[i:i + 3]) for i in range(0, len(a), 3)]))
    return walks


def steps():
    """(source, walks): "shared" when ../shared exists, else "vendored", else ("none", [])."""
    if os.path.isfile(os.path.join(SHARED, "steps", "index.json")):
        return "shared", shared_walks()
    if os.path.isfile(os.path.join(VENDORED, "index.json")):
        return "vendored", vendored_walks()
    return "none", []


# --- waves (../shared only) ---------------------------------------------------------------------

def _seconds(stamp):
    hh, mm, ss = stamp.split(" ")[1].split(":")
    return int(hh) * 3600 + int(mm) * 60 + int(ss)


def read_imu(path, gyro=False):
    """(start second of day, [(t_s, (ax, ay, az) mg)]): the record's body-frame accelerometer, the
    1 s timestamps spread evenly over the samples that share them (the logger's rate is ~12 Hz,
    not exact). gyro=True appends the gyro (gx, gy, gz) in 0.1 deg/s (the firmware's unit)."""
    groups = []
    with open(path) as f:
        for line in f:
            p = line.split(",")
            if len(p) < (10 if gyro else 4):
                continue
            sec = _seconds(p[0])
            v = (float(p[1]) * G_MG, float(p[2]) * G_MG, float(p[3]) * G_MG)
            if gyro:
                v += (float(p[7]) * 10, float(p[8]) * 10, float(p[9]) * 10)
            if groups and groups[-1][0] == sec:
                groups[-1][1].append(v)
            else:
                groups.append((sec, [v]))
    t0 = groups[0][0]
    out = []
    for sec, vs in groups:
        n = len(vs)
        out.extend((sec - t0 + i / n, v) for i, v in enumerate(vs))
    return t0, out


def resample(points, rate_hz):
    """Average the samples falling in each 1/rate_hz bin (an empty bin repeats the last value)."""
    n = int(points[-1][0] * rate_hz) + 1
    sums = [0.0] * n
    counts = [0] * n
    for t, v in points:
        b = int(t * rate_hz)
        sums[b] += v
        counts[b] += 1
    out, last = [], points[0][1]
    for s, c in zip(sums, counts):
        last = s / c if c else last
        out.append(int(round(last)))
    return out


def _cdip_rows(path):
    """(key (day "27-Oct-2021", second of day), fields) of every row of the CDIP192 csv."""
    with open(path) as f:
        next(f)
        for line in f:
            p = line.split(";")
            yield (p[0].split(" ")[0], _seconds(p[0])), p


def read_cdip(path):
    """{(day "27-Oct-2021", second of day): (hm0_m, tp_s)} from the CDIP192 csv."""
    return {key: (float(p[3]), float(p[4])) for key, p in _cdip_rows(path)}


def read_cdip_spectrum(path, key):
    """[(freq_hz, bandwidth_hz, energy_m2_per_hz)] of the CDIP192 row at key (day, second of day)."""
    for k, p in _cdip_rows(path):
        if k == key:
            freq = [float(v) for v in p[7].strip("[]").split(",")]
            energy = [float(v) for v in p[8].strip("[]").split(",")]
            out = []
            for i, fr in enumerate(freq):
                lo = freq[i - 1] if i else fr - (freq[1] - fr)
                hi = freq[i + 1] if i + 1 < len(freq) else fr + (fr - freq[i - 1])
                out.append((fr, (hi - lo) / 2, energy[i]))
            return out
    return None


def _day(path):
    stamp = os.path.basename(path).split("_")[2]          # 27Oct2021
    return "%s-%s-%s" % (stamp[:2], stamp[2:5], stamp[5:])


def _axes(pts, rate_hz):
    """Each of the points' axes resampled to rate_hz (resample), as tuples of ints."""
    axes = [resample([(t, v[a]) for t, v in pts], rate_hz) for a in range(len(pts[0][1]))]
    return list(zip(*axes))


def waves(base=None):
    """The microSWIFT014 record cut into WAVE_WINDOW_S records, one from the start of each CDIP
    30-minute period it covers (with that period's CDIP192 row), then the whole of each period;
    and the bench units' records whole (truth: no waves). Samples: (ax, ay, az mg, gx, gy, gz
    0.1 deg/s) at WAVE_RATE_HZ. Each trace's `window_s` is the record length to score it with.
    [] without ../shared."""
    d = os.path.join(base or SHARED, "waves", "microswift")
    if not os.path.isdir(d):
        return []
    cdip = read_cdip(os.path.join(d, "CDIP192_Oct2021.csv"))
    rate = WAVE_RATE_HZ
    out = []
    for name in sorted(os.listdir(d)):
        if "_IMU_" not in name:
            continue
        path = os.path.join(d, name)
        t0, pts = read_imu(path, gyro=True)
        z = _axes(pts, rate)
        unit = name.split("_")[0]
        if unit != "microSWIFT014":
            seconds = len(z) // rate // 64 * 64
            t = SeaTrace(name.rsplit(".", 1)[0], rate, z[:seconds * rate], 0.0, None,
                         "bench unit on land, %d s" % seconds)
            t.window_s = seconds
            out.append(t)
            continue
        out.extend(_periods(z, t0, cdip, _day(path), unit))
    return out


def _periods(z, t0, cdip, day, unit):
    """The record's traces per CDIP period: its first WAVE_WINDOW_S, then the whole period."""
    rate = WAVE_RATE_HZ
    first = int(math.ceil(t0 / PERIOD_S)) * PERIOD_S if t0 % PERIOD_S > 60 else (t0 // PERIOD_S) * PERIOD_S
    records, wholes = [], []
    start = first
    while True:
        i0 = max(0, (start - t0) * rate)
        seg = z[i0:(start + PERIOD_S - t0) * rate]
        if len(seg) < rate * WAVE_WINDOW_S:
            break
        ref = cdip.get((day, start))
        label = "%02d:%02d" % (start // 3600, start % 3600 // 60)
        for lst, n, what in ((records, rate * WAVE_WINDOW_S, "first %d s" % WAVE_WINDOW_S),
                             (wholes, len(seg) // (64 * rate) * 64 * rate, "whole period")):
            t = SeaTrace("%s %s %s" % (unit, label, what.split(" ")[0]), rate, seg[:n], ref and ref[0], ref and ref[1],
                         "CDIP192 %s UTC period, %s, %d s" % (label, what, n // rate))
            t.window_s = n // rate
            t.period = (day, start)        # the CDIP row's key (read_cdip_spectrum)
            lst.append(t)
        start += PERIOD_S
    return records + wholes


def write_vendored(dest=None, base=None):
    """Regenerate the vendored copy from ../shared (python -c "from lpwa.tools.sim import
    recordings; recordings.write_vendored()"): 25 Hz int16, gzip'd, the index without step times."""
    dest, base = dest or VENDORED, base or SHARED
    with open(os.path.join(base, "steps", "index.json")) as f:
        index = json.load(f)["walks"]
    keep = ("placement", "phone", "user", "surface", "truth_steps", "truth_feet", "suspect")
    rows = []
    for m, walk in zip(index, shared_walks(base)):
        name = os.path.basename(m["file"]).rsplit(".", 1)[0] + ".i16.gz"
        a = array.array("h", [v for s in walk.samples for v in s])
        if sys.byteorder != "little":
            a.byteswap()
        with gzip.GzipFile(os.path.join(dest, name), "wb", mtime=0) as f:
            f.write(a.tobytes())
        row = {"file": name, "rate_hz": STEP_RATE_HZ}
        row.update((k, m[k]) for k in keep)
        rows.append(row)
    with open(os.path.join(dest, "index.json"), "w") as f:
        json.dump({"walks": rows}, f, indent=0)
        f.write("\n")
