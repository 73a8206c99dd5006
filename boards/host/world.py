"""The truth the simulated sensors measure: sea, weather, walks and vitals over world time."""

import math

from lpwa.boards.host.clock import START_S
from lpwa.boards.host.rng import Rng

MOORING_E6 = (35000000, 139800000)  # simulated buoy mooring (Tokyo Bay), micro-degrees


class World:
    """The truth the simulated sensors measure, as functions of world time (seconds).

    Waves, tides and gait are computed from seconds since the world's start, never from epoch
    seconds (~1.8e9): in float32 (MicroPython on an ESP32) those step by 128 s and the swell
    falls apart. `rel_s` makes relative seconds from the clock's integer milliseconds."""

    def __init__(self, seed=1, scenario=None):
        self.rng = Rng(seed)
        self.sc = scenario or {}

    @staticmethod
    def rel_s(t_ms):
        """Seconds since the world's start from integer ms: exact before the float division."""
        return (t_ms - START_S * 1000) / 1000.0

    def hours(self, t_s):
        return (t_s - START_S) / 3600.0

    def water_temp_c(self, t_s):
        return 18.0 + 1.5 * math.sin(2 * math.pi * (t_s % 86400) / 86400) + self.rng.uniform(-0.02, 0.02)

    def salinity_psu(self, t_s):
        return 34.2 + 0.3 * math.sin(2 * math.pi * (t_s - START_S) / 44712)  # a tidal swing

    def position_e6(self, t_s):
        """(lat, lon) in integer micro-degrees: 139.8 + 1e-5 in float32 rounds to 1.5e-5 steps, so the
        jitter and the drift are added as integers to the mooring's exact micro-degrees."""
        lat, lon = MOORING_E6
        drift_h = self.sc.get("drift_at_h")
        if drift_h is not None and self.hours(t_s) >= drift_h:
            metres = 300 + (self.hours(t_s) - drift_h) * 600  # broke free: 0.6 km/h away
            lat += int(metres * (1e6 / 111320.0))
        return lat + int(round(self.rng.uniform(-10, 10))), lon + int(round(self.rng.uniform(-10, 10)))

    def heave_mg(self, t_s):
        """Vertical acceleration of a 1.2 m, 8 s swell plus a little wind sea, in mg (t_s: rel_s)."""
        out = 1000.0
        for h, period in ((1.2, 8.0), (0.3, 3.5)):
            w = 2 * math.pi / period
            out += -(h / 2) * w * w * math.sin(w * t_s) / 9.80665 * 1000
        return out + self.rng.uniform(-5, 5)

    def walking(self, t_s):
        """Three 10-minute walks a day (the gait-model day in lpwa.tools.sim.gait_day is the realistic one)."""
        h = (t_s % 86400) / 3600.0
        return 8 <= h < 8 + 1 / 6.0 or 12 <= h < 12 + 1 / 6.0 or 17 <= h < 17 + 1 / 6.0

    def accel_mg(self, t_s):
        """The wearer's acceleration, t_s relative (rel_s); walks are by time of day."""
        if self.walking(t_s):
            phase = 2 * math.pi * 1.8 * t_s
            return (int(120 * math.sin(phase / 2)), int(60 * math.cos(phase)),
                    int(1000 + 350 * math.sin(phase) + self.rng.uniform(-20, 20)))
        return int(self.rng.uniform(-8, 8)), int(self.rng.uniform(-8, 8)), int(1000 + self.rng.uniform(-8, 8))

    def vitals(self, t_s):
        """(hr_bpm, spo2_pct) of the casualty."""
        hr, spo2 = 78.0, 97.0
        drop = self.sc.get("spo2_drop_at_h")
        if drop is not None and self.hours(t_s) >= drop:
            hr, spo2 = 118.0, 86.0
        return hr, spo2

