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
        _, pts = recordings.read_imu(path)
        axes = [recordings.resample([(t, v[a]) for t, v in pts], rate_hz) for a in range(3)]
        n = min(len(x) for x in axes)
        out.append((os.path.basename(path).split("_IMU_")[0], list(zip(axes[0][:n], axes[1][:n], axes[2][:n]))))
    return out
