"""The buoy's sampling: water temperature, salinity, waves from the IMU, drift off the mooring."""

import math

from lpwa.firmware.sensing import F_IMU, F_SALINITY, F_TEMP, Sampler, _algorithm

EARTH_RADIUS_M = 6371000.0


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine) in metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class BuoySampler(Sampler):
    """One buoy wake's sampling (Sampler's fault handling, GNSS and battery)."""

    def buoy_position_alarm(self, readings):
        """(alarm, reason): the buoy is outside its mooring radius."""
        fix = self.position(readings)
        mooring = self.cfg["alarms"].get("mooring")
        if fix is None or not mooring:
            return False, None
        d = distance_m(mooring["lat"], mooring["lon"], fix["lat"], fix["lon"])
        if d > mooring["radius_m"]:
            return True, "drift %dm" % int(d)
        return False, None

    def buoy(self, readings):
        temp = self._try(F_TEMP, lambda: self.board.sensor("temp").measure(self.board.clock))
        if temp is not None:
            readings["water_temp_c"] = round(temp, 2)
            cond = self._try(F_SALINITY, lambda: self.board.sensor("cond").read(temp))
            if cond is not None:
                readings["conductivity_ms_cm"] = round(cond[0], 2)
                if 2 <= cond[1] <= 42:
                    readings["salinity_psu"] = round(cond[1], 2)
        waves = self._try(F_IMU, self._waves)
        if waves is not None:
            readings["wave_height_m"] = round(waves[0], 2)
        self.battery(readings)

    def _waves(self):
        cls = _algorithm("waves", "WaveEstimator")
        if cls is None:
            return None
        rate = self.plan.get("wave_rate_hz", 4)
        window = self.plan.get("wave_window_s", 128)
        if window <= 0:  # waves switched off in the plan
            return None
        est = cls(rate_hz=rate, window_s=window)
        imu = self.board.sensor("imu")
        clock = self.board.clock
        step = 1000 // rate
        for i in range(rate * window):
            est.feed(imu.accel_mg()[2])
            clock.sleep_ms(step)
            if i % 64 == 0:
                self.feed()
        return est.result()
