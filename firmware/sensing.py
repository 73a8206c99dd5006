"""Sampling per sensor kind: drivers in, a readings dict (codec field names) and alarms out.

A sensor that fails sets its bit in `fault_flags` and its fields are left out; it is retried
every wake until FAULT_LIMIT failures in a row, then left alone until a reset-fault downlink.
The estimators (steps, waves, pulse oximetry) come from lpwa.firmware.algorithms when present.
"""

import math

from lpwa.codecs.schema import SPO2_BELOW_RANGE
from lpwa.firmware.drivers.errors import SensorError
from lpwa.firmware.drivers import gps

# fault_flags bits (codec schema BUOY_FIELDS): 0 temp, 1 salinity, 2 wave/IMU, 3 GNSS, 4 low battery
F_TEMP = 1
F_SALINITY = 2
F_IMU = 4
F_GNSS = 8
F_BATTERY = 16
F_PPG = 32  # drone-vital: pulse oximeter
FAULT_LIMIT = 3
WAVE_EVERY_S = 10800  # a wave record every 3 hours (plan wave_every_s): 8 a day
LOW_BATTERY_V = 3.4
EARTH_RADIUS_M = 6371000.0

# Triage levels as in the codec schema (START codes); derived from vitals alone, so this is a
# pre-triage hint for the medic, not a START assessment (no respiration or mental status).
TRIAGE_MINOR = 1
TRIAGE_DELAYED = 2
TRIAGE_IMMEDIATE = 3


def distance_m(lat1, lon1, lat2, lon2):
    """Great-circle distance (haversine) in metres."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def triage_for(hr, spo2):
    if hr is None or spo2 is None:
        return None
    if spo2 < 90 or hr < 40 or hr > 140:
        return TRIAGE_IMMEDIATE
    if spo2 < 94 or hr < 50 or hr > 120:
        return TRIAGE_DELAYED
    return TRIAGE_MINOR


def _algorithm(module, name):
    """An estimator class from lpwa.firmware.algorithms, or None when that module is missing."""
    try:
        mod = __import__("lpwa.firmware.algorithms." + module, None, None, [name])
        return getattr(mod, name)
    except (ImportError, AttributeError):
        return None


class Sampler:
    """One wake's sampling for one kind. `faults` (bit -> consecutive failures) lives in State."""

    def __init__(self, board, cfg, state, wdt=None):
        self.board = board
        self.wdt = wdt
        self.cfg = cfg
        self.plan = cfg["plan"]
        self.state = state
        self.flags = 0
        self.counts = dict(state.get("faults", {}))

    def _try(self, bit, fn):
        key = str(bit)
        if self.counts.get(key, 0) >= FAULT_LIMIT:
            self.flags |= bit
            return None
        try:
            value = fn()
        except (SensorError, OSError, ValueError):  # ValueError: garbage a driver or estimator refused
            self.counts[key] = self.counts.get(key, 0) + 1
            self.flags |= bit
            return None
        if key in self.counts:
            del self.counts[key]
        return value

    def finish(self):
        self.state.set("faults", self.counts, durable=True)
        return self.flags

    def battery(self, readings):
        v = self._try(F_BATTERY, lambda: self.board.sensor("battery").volts())
        if v is not None:
            readings["battery_v"] = v
            if v < LOW_BATTERY_V:
                self.flags |= F_BATTERY
        return v

    def position(self, readings):
        fix = self._try(F_GNSS, self._fix)
        if fix is not None:
            if fix.get("lat_e6") is not None:  # exact: ESP32 floats cannot carry 1e-6 degree
                readings["lat_deg"] = gps.e6_text(fix["lat_e6"])
                readings["lon_deg"] = gps.e6_text(fix["lon_e6"])
            else:
                readings["lat_deg"] = round(fix["lat"], 6)
                readings["lon_deg"] = round(fix["lon"], 6)
        return fix

    def _fix(self):
        fix = self.board.sensor("gps").fix(self.plan.get("gps_timeout_ms", 3000))
        if fix is None:
            raise SensorError("gps", "no fix")
        return fix

    # --- buoy -------------------------------------------------------------------------------
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
        every = self.plan.get("wave_every_s", WAVE_EVERY_S)
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

    def feed(self):
        if self.wdt is not None:
            self.wdt.feed()

    # --- drone-vital ---------------------------------------------------------------------------
    def vitals(self, readings):
        """(alarm, reason): SpO2 below the threshold or the triage level changed."""
        vit = self._try(F_PPG, self._ppg)
        self.position(readings)
        self.battery(readings)
        if vit is None:
            return False, None
        hr, spo2, flags = vit
        readings["heart_rate_bpm"] = int(round(hr))
        readings["spo2_flags"] = flags
        below = flags & SPO2_BELOW_RANGE
        if spo2 is not None:
            readings["spo2_pct"] = int(round(spo2))
        tri = triage_for(hr, 0 if below else spo2)
        readings["triage"] = tri
        last = self.state.get("triage")
        self.state.set("triage", tri)
        low = self.cfg["alarms"].get("spo2_low", 90)
        if below:
            return True, "spo2 below range"
        if spo2 is not None and spo2 < low:
            return True, "spo2 %d" % int(spo2)
        if last is not None and tri != last:
            return True, "triage %d->%d" % (last, tri)
        return False, None

    def _ppg(self):
        cls = _algorithm("ppg", "PpgEstimator")
        if cls is None:
            return None
        rate = self.plan.get("ppg_rate_hz", 50)
        cal = self.state.get("spo2_cal") or self.cfg.get("spo2_cal")   # a downlinked curve first
        est = cls(rate_hz=rate, cal=tuple(cal) if cal else None)
        ppg = self.board.sensor("ppg")
        clock = self.board.clock
        samples = []
        most = rate * self.plan.get("ppg_window_s", 15)  # give up after this many samples
        got = 0
        res = None
        # the last reading of the window, or the first over 8 beats (5-beat ones are noisier)
        while got < most and not (res is not None and est.full()):
            clock.sleep_ms(200)  # the FIFO holds 32 samples: 0.64 s at 50/s
            del samples[:]
            ppg.read(samples)
            if not samples:
                raise SensorError("max30102", "FIFO empty")
            for red, ir in samples:
                est.feed(red, ir)
            got += len(samples)
            res = est.result() or res
            self.feed()
        ppg.shutdown()
        if res is None:
            raise SensorError("max30102", "no pulse found (finger off?)")
        return res[0], res[1], res[3]

    # --- pedometer -----------------------------------------------------------------------------
    def step_tracker(self, slots):
        """The continuous step counter (firmware/pedometer.py), or None when the IMU failed."""
        from lpwa.firmware import pedometer

        mode = self.cfg.get("step_mode", "body")
        return self._try(F_IMU, lambda: pedometer.tracker(self.board, slots, self.plan, mode))

    def steps(self, readings, now_s, since_s, tracker, now_ms):
        """Steps since the last reading, every one counted (the IMU FIFO is drained continuously)."""
        steps = 0
        if tracker is not None and self._try(F_IMU, lambda: tracker.drain(now_ms)) is not None:
            steps = tracker.take()
        pending = self.state.get("steps_pending", 0) + steps
        total = self.state.get("steps_total", 0) + steps
        # steps not yet sent (radio down, budget) stay pending: the interval runs from the first
        start = self.state.get("steps_since") or since_s
        self.state.set("steps_pending", pending)
        self.state.set("steps_since", start)
        self.state.set("steps_total", total, durable=True)
        readings["steps"] = min(pending, 65535)
        readings["steps_total"] = total
        readings["interval_start"] = int(start)
        readings["interval_s"] = max(1, min(86400, int(now_s - start)))
        self.battery(readings)
