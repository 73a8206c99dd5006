"""The buoy's sampling: water temperature, salinity, waves from the IMU, drift off the mooring."""

import math

from lpwa.firmware.sensing import F_IMU, F_SALINITY, F_TEMP, Sampler, _algorithm

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


_EARTH_RADIUS_M = const(6371000.0)
_WAVE_EVERY_S = const(10800)  # a wave record every 3 hours (plan wave_every_s): 8 a day


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine) in metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


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

    def buoy(self, readings, now_s=None):
        temp = self._try(F_TEMP, lambda: self.board.sensor("temp").measure(self.board.clock))
        if temp is not None:
            readings["water_temp_c"] = round(temp, 2)
            cond = self._try(F_SALINITY, lambda: self.board.sensor("cond").read(temp))
            if cond is not None:
                readings["conductivity_ms_cm"] = round(cond[0], 2)
                if 2 <= cond[1] <= 42:
                    readings["salinity_psu"] = round(cond[1], 2)
        if self._wave_due(now_s):
            waves = self._try(F_IMU, self._waves)
            if waves is not None:
                readings["wave_height_m"] = round(waves[0], 2)
                self.state.set("wave_at_s", now_s)
        self.battery(readings)

    def _wave_due(self, now_s):
        """A wave record is due every plan wave_every_s (a 17 min record costs 17 min awake)."""
        last = self.state.get("wave_at_s")
        every = self.plan.get("wave_every_s", _WAVE_EVERY_S)
        return now_s is None or last is None or now_s - last >= every or now_s < last

    def _waves(self):
        """One record: accel + gyro at wave_rate_hz through the earth-vertical wave estimator."""
        cls = _algorithm("imu_waves", "ImuWaveEstimator")
        if cls is None:
            return None
        rate = self.plan.get("wave_rate_hz", 8)
        window = self.plan.get("wave_window_s", 1024)
        if window <= 0:  # waves switched off in the plan
            return None
        est = cls(rate_hz=rate, window_s=window)
        imu = self.board.sensor("imu")
        imu.start_motion(rate)
        clock = self.board.clock
        step = 1000 // rate
        try:
            for i in range(rate * window):
                m = imu.motion()
                est.feed(m[0], m[1], m[2], m[3], m[4], m[5])
                clock.sleep_ms(step)
                if i % 64 == 0:
                    self.feed()
        finally:
            imu.sleep()            # gyro off: 3.9 mA -> 5 uA between records
        return est.result()
