"""What the host board's accelerometer feels, over world time: the truth its simulated IMU samples.

A scene is a list of segments (times in ms from the simulation's start) over one blob of samples:

    ["rest", t0_ms, t1_ms, gx, gy, gz]            still, gravity in the sensor frame (mg) + noise
    ["trace", t0_ms, t1_ms, rate_hz, first, n, [[a_ms, b_ms], ...]]
        samples first .. first+n-1 of the blob (int16 little-endian x, y, z in mg), sampled at
        rate_hz from t0_ms; the [a, b) windows are when the wearer moves (what the IMU's motion
        detector reacts to)

The samples come from a model outside the board (lpwa.tools.sim.gait_day builds a day from the documented
gait model in tools/sim/gait.py); firmware never imports tools/, it only reads the simulated
IMU. Between segments the wearer rests with the last gravity vector.
"""

import struct

from lpwa.boards.host.rng import Rng

REST_NOISE_MG = 12  # triangular, +-24 mg: below the motion detector's 40 mg


class MotionScene:
    def __init__(self, segments, blob, seed=3):
        self.segments = segments
        self.blob = blob
        self.origin_ms = 0  # world ms of t = 0 (set by the simulation)
        self.rng = Rng(seed)
        self.i = 0
        self.gravity = (0, 0, 1000)

    def _segment(self, t):
        segs = self.segments
        i = self.i
        while i + 1 < len(segs) and t >= segs[i + 1][1]:
            i += 1
        while i > 0 and t < segs[i][1]:
            i -= 1
        self.i = i
        return segs[i] if segs and segs[i][1] <= t < segs[i][2] else None

    def sample(self, world_ms):
        """(ax, ay, az) in mg at world time world_ms."""
        t = world_ms - self.origin_ms
        seg = self._segment(t)
        if seg is not None and seg[0] == "trace":
            k = (t - seg[1]) * seg[3] // 1000
            if k >= seg[5]:
                k = seg[5] - 1
            return struct.unpack_from("<hhh", self.blob, 6 * (seg[4] + k))
        g = self.gravity
        if seg is not None:
            g = (seg[3], seg[4], seg[5])
        elif self.segments:
            prev = self.segments[self.i]
            if prev[0] == "rest" and prev[2] <= t:
                g = (prev[3], prev[4], prev[5])
        r = self.rng
        n = REST_NOISE_MG
        return (g[0] + int(r.uniform(-n, n) + r.uniform(-n, n)), g[1] + int(r.uniform(-n, n) + r.uniform(-n, n)),
                g[2] + int(r.uniform(-n, n) + r.uniform(-n, n)))

    def moving(self, from_ms, to_ms):
        """Did the wearer move at any time in [from_ms, to_ms)? (the IMU's motion detector)"""
        a = from_ms - self.origin_ms
        b = to_ms - self.origin_ms
        for seg in self.segments:
            if seg[0] != "trace" or seg[2] <= a:
                continue
            if seg[1] >= b:
                break
            for w in seg[6]:
                if w[0] < b and a < w[1]:
                    return True
        return False


class WorldScene:
    """The host World's own simple walking schedule (a 1.8 Hz sinusoid), for sims given no scene."""

    def __init__(self, world):
        self.world = world
        self.origin_ms = 0

    def sample(self, world_ms):
        return self.world.accel_mg(self.world.rel_s(world_ms))

    def moving(self, from_ms, to_ms):
        w = self.world
        t = from_ms
        while t < to_ms:
            if w.walking(t / 1000.0):
                return True
            t += 60000
        return w.walking(to_ms / 1000.0)
