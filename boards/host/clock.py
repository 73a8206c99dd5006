"""The simulated clock and watchdog: sleeping costs nothing, so a day runs in seconds."""

START_S = 1767225600  # 2026-01-01T00:00:00Z: the simulated world's clock at t = 0


class WatchdogReset(Exception):
    """The simulated watchdog bit: the wake is cut short, as the real chip would reset."""


class SimClock:
    """World time in ms. `ticks_ms` is what the board's code sees; sleeping just advances it.

    `background` (set by the app, e.g. the pedometer draining the IMU FIFO) runs at least every
    second of a long wait, as it would between the board's polls of a busy radio module."""

    def __init__(self, start_ms=0):
        self.ms = start_ms
        self.wdt = None
        self.background = None

    def ticks_ms(self):
        return self.ms

    def ticks_diff(self, a, b):
        """The simulated clock never wraps: plain a - b (the ESP32's clock handles the wrap)."""
        return a - b

    def sleep_ms(self, ms):
        ms = int(ms)
        bg = self.background
        if bg is None:
            self.ms += ms
        else:
            while ms > 0:
                step = ms if ms < 1000 else 1000
                self.ms += step
                ms -= step
                bg()
        if self.wdt is not None:
            self.wdt.check()


class SimWatchdog:
    def __init__(self, clock, timeout_ms):
        self.clock = clock
        self.timeout_ms = timeout_ms
        self.last = clock.ms
        clock.wdt = self

    def feed(self):
        self.check()
        self.last = self.clock.ms

    def check(self):
        if self.clock.ms - self.last > self.timeout_ms:
            self.clock.wdt = None
            raise WatchdogReset("watchdog: no feed for %d ms" % (self.clock.ms - self.last))

