"""Earth-frame vertical acceleration from a 6-axis IMU: a Mahony complementary filter.

The attitude quaternion is integrated from the gyro and pulled towards the accelerometer's
gravity direction with gain KP (rad/s per unit error). The split sits at KP / (2 pi) = 0.32 Hz:
faster tilts (a small hull rocking at 1-2 Hz, whose lever arm corrupts the accelerometer's
direction) come from the gyro; slower ones from the accelerometer, so a gyro that does not
integrate cleanly (bias, timing jitter, a scale error) cannot walk the attitude away. A gyro
bias b tilts the estimate by b / KP (1 deg/s: 0.5 degree, a 4e-5 g error in the vertical), so no
bias state is kept. Yaw is never observed and never needed: only the vertical is used.
State: four floats in an array('f') (float32 storage everywhere, see README.md); per sample a
few dozen multiplications and one sqrt, no allocation beyond MicroPython's boxed floats.
"""

import array
import math

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_KP_MILLI = const(2000)             # KP = 2 rad/s per unit of error (a ratio of integers: same double everywhere)


class Attitude:
    """Feed accel (mg) and gyro (0.1 deg/s), body frame, at `rate_hz`; get the specific force
    along the earth vertical in mg (about +1000 at rest, gravity included)."""

    def __init__(self, rate_hz):
        self._dt = 1.0 / rate_hz
        self._kp = _KP_MILLI / 1000
        self._rad = math.pi / 1800      # 0.1 deg/s -> rad/s
        self._q = array.array("f", [1.0, 0.0, 0.0, 0.0])
        self._started = False

    def _level(self, ax, ay, az):
        """Start from the accelerometer's tilt (roll and pitch; yaw 0)."""
        n = math.sqrt(ax * ax + ay * ay + az * az)
        if n <= 0.0:
            return
        x, y, z = ax / n, ay / n, az / n
        # the rotation taking body "up" (x, y, z) to earth up (0, 0, 1): axis (y, -x, 0)
        w = math.sqrt((1.0 + z) * 0.5) if z > -1.0 else 0.0
        q = self._q
        if w > 1 / 1000000:
            q[0] = w
            q[1] = y / (2.0 * w)
            q[2] = -x / (2.0 * w)
            q[3] = 0.0
        else:                           # upside down: half a turn about x
            q[0], q[1], q[2], q[3] = 0.0, 1.0, 0.0, 0.0
        self._started = True

    def vertical(self, ax, ay, az, gx, gy, gz):
        """One sample: update the attitude, return the earth-vertical specific force (mg)."""
        if not self._started:
            self._level(ax, ay, az)
        q = self._q
        w, x, y, z = q[0], q[1], q[2], q[3]
        # gravity ("up") in the body frame: the third row of the body-to-earth rotation
        vx = 2.0 * (x * z - w * y)
        vy = 2.0 * (w * x + y * z)
        vz = w * w - x * x - y * y + z * z
        rad = self._rad
        ox = gx * rad
        oy = gy * rad
        oz = gz * rad
        n = math.sqrt(ax * ax + ay * ay + az * az)
        if n > 0.0:
            kp = self._kp / n           # error = (a / |a|) x v
            ox += kp * (ay * vz - az * vy)
            oy += kp * (az * vx - ax * vz)
            oz += kp * (ax * vy - ay * vx)
        h = 0.5 * self._dt
        w2 = w + h * (-x * ox - y * oy - z * oz)
        x2 = x + h * (w * ox + y * oz - z * oy)
        y2 = y + h * (w * oy - x * oz + z * ox)
        z2 = z + h * (w * oz + x * oy - y * ox)
        m = math.sqrt(w2 * w2 + x2 * x2 + y2 * y2 + z2 * z2)
        q[0] = w2 / m
        q[1] = x2 / m
        q[2] = y2 / m
        q[3] = z2 / m
        w, x, y, z = q[0], q[1], q[2], q[3]
        return (ax * 2.0 * (x * z - w * y) + ay * 2.0 * (w * x + y * z)
                + az * (w * w - x * x - y * y + z * z))
