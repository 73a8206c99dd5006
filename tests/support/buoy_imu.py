"""The microSWIFT buoy records' three accelerometer axes at a pedometer's rate: real motion that
is not walking, for the step counter's false-step checks. Read from ../shared only (no licence:
never vendored)."""

import glob
import os

from lpwa.tools.sim import recordings


def records(rate_hz=25):
    """[(name, [(x, y, z) mg])]: every microSWIFT IMU record, the 1 s timestamps spread evenly over
    their samples and each axis bin-averaged to rate_hz as the wave bench does; [] without ../shared."""
    out = []
    for path in sorted(glob.glob(os.path.join(recordings.SHARED, "waves", "microswift", "*_IMU_*.dat"))):
        groups = []
        with open(path) as f:
            for line in f:
                p = line.split(",")
                if len(p) < 4:
                    continue
                sec = recordings._seconds(p[0])
                v = tuple(float(p[1 + a]) * recordings.G_MG for a in range(3))
                if groups and groups[-1][0] == sec:
                    groups[-1][1].append(v)
                else:
                    groups.append((sec, [v]))
        t0 = groups[0][0]
        axes = []
        for a in range(3):
            pts = [(sec - t0 + i / len(vs), v[a]) for sec, vs in groups for i, v in enumerate(vs)]
            axes.append(recordings.resample(pts, rate_hz))
        n = min(len(x) for x in axes)
        out.append((os.path.basename(path).split("_IMU_")[0], list(zip(axes[0][:n], axes[1][:n], axes[2][:n]))))
    return out
