"""The drone-vital's sampling: pulse and SpO2 from the MAX30102, a pre-triage hint, position."""

from lpwa.codecs.schema_drone_vital import SPO2_BELOW_RANGE
from lpwa.firmware.drivers.errors import SensorError
from lpwa.firmware.sensing import F_PPG, Sampler, _algorithm

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


# Triage levels as in the codec schema (START codes); derived from vitals alone, so this is a
# pre-triage hint for the medic, not a START assessment (no respiration or mental status).
_TRIAGE_MINOR = const(1)
_TRIAGE_DELAYED = const(2)
_TRIAGE_IMMEDIATE = const(3)


def triage_for(hr, spo2):
    if hr is None or spo2 is None:
        return None
    if spo2 < 90 or hr < 40 or hr > 140:
        return _TRIAGE_IMMEDIATE
    if spo2 < 94 or hr < 50 or hr > 120:
        return _TRIAGE_DELAYED
    return _TRIAGE_MINOR


class VitalsSampler(Sampler):
    """One drone-vital wake's sampling."""

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
