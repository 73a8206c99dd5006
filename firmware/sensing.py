"""Sampling per sensor kind: drivers in, a readings dict (codec field names) and alarms out.

A sensor that fails sets its bit in `fault_flags` and its fields are left out; it is retried
every wake until _FAULT_LIMIT failures in a row, then left alone until a reset-fault downlink.
The estimators (steps, waves, pulse oximetry) come from lpwa.firmware.algorithms when present.
What only one kind samples is in its own module (sensing_buoy, sensing_vitals, sensing_steps), so a
node loads only its own kind's code onto its heap (issue #14); `new_sampler` picks it.
"""

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


# fault_flags bits (codec schema BUOY_FIELDS): 0 temp, 1 salinity, 2 wave/IMU, 3 GNSS, 4 low battery
F_TEMP = 1
F_SALINITY = 2
F_IMU = 4
_F_GNSS = const(8)
_F_BATTERY = const(16)
F_PPG = 32  # drone-vital: pulse oximeter
_FAULT_LIMIT = const(3)
_LOW_BATTERY_V = const(3.4)


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
        if self.counts.get(key, 0) >= _FAULT_LIMIT:
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
        v = self._try(_F_BATTERY, lambda: self.board.sensor("battery").volts())
        if v is not None:
            readings["battery_v"] = v
            if v < _LOW_BATTERY_V:
                self.flags |= _F_BATTERY
        return v

    def position(self, readings):
        fix = self._try(_F_GNSS, self._fix)
        if fix is not None:
            if fix.get("lat_e6") is not None:  # exact: ESP32 floats cannot carry 1e-6 degree
                from lpwa.firmware.drivers.gps import e6_text  # a pedometer never loads the GPS driver

                readings["lat_deg"] = e6_text(fix["lat_e6"])
                readings["lon_deg"] = e6_text(fix["lon_e6"])
            else:
                readings["lat_deg"] = round(fix["lat"], 6)
                readings["lon_deg"] = round(fix["lon"], 6)
        return fix

    def _fix(self):
        fix = self.board.sensor("gps").fix(self.plan.get("gps_timeout_ms", 3000))
        if fix is None:
            raise SensorError("gps", "no fix")
        return fix

    def feed(self):
        if self.wdt is not None:
            self.wdt.feed()


_KIND_MODULES = {"buoy": ("sensing_buoy", "BuoySampler"), "drone-vital": ("sensing_vitals", "VitalsSampler"),
                 "pedometer": ("sensing_steps", "StepsSampler")}


def new_sampler(board, cfg, state, wdt=None):
    """The Sampler of this node's kind (its module imported on first use)."""
    module, name = _KIND_MODULES[cfg["kind"]]
    mod = __import__("lpwa.firmware." + module, None, None, [name])
    return getattr(mod, name)(board, cfg, state, wdt)
