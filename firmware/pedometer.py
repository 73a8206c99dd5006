"""Continuous step counting: every sample of the day goes through the step counter.

The MPU-6050 samples into its 1024-byte FIFO by itself (25 Hz x 6 bytes: 6.8 s) while the MCU
light-sleeps; the node wakes every `drain_ms` (3/4 of that) and drains it into the streaming
StepCounter (lpwa.firmware.algorithms.steps). Whatever the reading schedule, no sample is
skipped while the wearer moves. When the IMU's motion detector has seen nothing for _STILL_MS,
the samples are still ones and cannot hold a step: the node empties the FIFO without feeding
them (a few I2C bytes instead of ~170 samples through the counter) until motion latches again,
and then feeds the FIFO's whole content, the onset included.

The counter's state, the steps already handed to readings (`mark`) and the statistics live in
one RTC-memory slot, saved whenever samples were fed: a deep sleep, a reset or a watchdog bite
continue the count; a power loss restarts it (the total already reported is in flash).
"""

import struct

from lpwa.firmware.drivers.errors import SensorError

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


SLOT = "ped"
_STILL_MS = const(10000)  # no motion latched for this long: stop feeding still samples
RATE_HZ = 25
_RANGE_G = const(8)  # running peaks at 2.5-3.5 g at the waist; +-8 g leaves room for impacts
_HEAD = "<BiqiIIIII"  # version, mark, last_ms, quiet_ms, samples, drains, skipped, overflows, restarts
_VERSION = 1


class StepTracker:
    """The pedometer's IMU FIFO and step counter, across wakes."""

    def __init__(self, board, slots, plan, counter_cls, mode="body"):
        self.board = board
        self.slots = slots
        self.rate = plan.get("imu_rate_hz", RATE_HZ)
        self.counter = counter_cls(rate_hz=self.rate, mode=mode)
        fifo_ms = (1024 // 6) * 1000 // self.rate
        self.drain_ms = fifo_ms * 3 // 4
        self.mark = 0
        self.last_ms = None
        self.quiet_ms = 0
        self.samples = 0
        self.drains = 0
        self.skipped = 0
        self.overflows = 0
        self.restarts = 0
        self._restore(slots.get(SLOT))
        self.imu = board.sensor("imu")
        if not self.imu.fifo_running(self.rate):
            # cold boot (or the IMU lost power): start it; nothing before this can be counted
            self.imu.start_fifo(self.rate, _RANGE_G)
            self.restarts += 1
            self.counter.idle()
            self.quiet_ms = 0

    def _restore(self, raw):
        n = struct.calcsize(_HEAD)
        if not raw or len(raw) < n or raw[0] != _VERSION:
            return
        if not self.counter.load_state(raw[n:]):
            return
        v = struct.unpack_from(_HEAD, raw, 0)
        self.mark = v[1]
        self.last_ms = v[2]
        self.quiet_ms = v[3]
        self.samples, self.drains, self.skipped, self.overflows, self.restarts = v[4], v[5], v[6], v[7], v[8]

    def save(self):
        head = struct.pack(_HEAD, _VERSION, self.mark, self.last_ms or 0, self.quiet_ms, self.samples & 0xFFFFFFFF,
                           self.drains & 0xFFFFFFFF, self.skipped & 0xFFFFFFFF, self.overflows, self.restarts)
        self.slots.put(SLOT, head + self.counter.save_state())

    def poll(self, now_ms):
        """Drain when the FIFO is due (called often, e.g. while a radio module is busy)."""
        if self.last_ms is None or now_ms - self.last_ms >= self.drain_ms:
            return self.drain(now_ms)
        return 0

    def drain(self, now_ms):
        """Empty the FIFO into the counter (or, while still, just empty it); returns samples fed."""
        imu = self.imu
        status = imu.status()
        elapsed = now_ms - self.last_ms if self.last_ms is not None else 0
        self.last_ms = now_ms
        self.drains += 1
        if status & 0x10:  # FIFO overflowed: samples lost and the rest misaligned
            imu.fifo_reset()
            self.overflows += 1
            self.counter.idle()
            self.quiet_ms = 0
            return 0
        if status & 0x40:
            self.quiet_ms = 0
        elif self.quiet_ms >= _STILL_MS:
            imu.fifo_reset()  # still: nothing in there can be a step
            self.skipped += 1
            return 0
        else:
            self.quiet_ms += elapsed
            if self.quiet_ms >= _STILL_MS:
                self.counter.idle()
        n = imu.read_fifo(self.counter)
        self.samples += n
        return n

    def take(self):
        """Steps counted since the last take() (the interval's steps)."""
        steps = self.counter.steps - self.mark
        self.mark = self.counter.steps
        return steps

    def stats(self):
        return {"samples": self.samples, "drains": self.drains, "still_drains": self.skipped,
                "overflows": self.overflows, "fifo_starts": self.restarts, "steps": self.counter.steps}


def tracker(board, slots, plan, mode="body"):
    """A StepTracker (imported only on a pedometer); SensorError when the IMU fails."""
    from lpwa.firmware.algorithms.steps import StepCounter

    try:
        return StepTracker(board, slots, plan, StepCounter, mode)
    except OSError as e:
        raise SensorError("mpu6050", "I2C: %s" % e)
