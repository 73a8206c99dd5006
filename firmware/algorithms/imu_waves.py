"""Wave height and period from a strapdown 6-axis IMU: earth vertical first, then the spectrum.

The body-frame z axis is not the vertical on a tilting buoy (its spectrum below 0.07 Hz is 10-300x
a reference buoy's: issue #11), so each sample goes through the attitude filter (attitude.py)
at the IMU's rate -- fast enough to follow the hull's 1-2 Hz rocking -- and the earth-vertical
specific force, averaged over `decimate` samples (the anti-alias before the lower rate), feeds
the spectral estimator (waves.py). RAM: the estimator's 11.5 KB plus four floats.
"""

from lpwa.firmware.algorithms.attitude import Attitude
from lpwa.firmware.algorithms.waves import WaveEstimator


class ImuWaveEstimator:
    """Feed accel (mg) and gyro (0.1 deg/s), body frame, at `rate_hz`; `result()` is
    WaveEstimator's (hm0_m, tp_s) over records of `window_s` at rate_hz / decimate."""

    def __init__(self, rate_hz=8, window_s=1024, decimate=2):
        if rate_hz % decimate:
            raise ValueError("rate_hz must be a multiple of decimate")
        self._att = Attitude(rate_hz)
        self._dec = decimate
        self._sum = 0.0
        self._k = 0
        self._waves = WaveEstimator(rate_hz // decimate, window_s)

    def feed(self, ax, ay, az, gx, gy, gz):
        self._sum += self._att.vertical(ax, ay, az, gx, gy, gz)
        self._k += 1
        if self._k == self._dec:
            self._waves.feed(self._sum / self._dec)
            self._sum = 0.0
            self._k = 0

    def result(self):
        return self._waves.result()
