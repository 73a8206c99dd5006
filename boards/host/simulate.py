"""Run the unchanged app on the host board for hours of simulated time.

Wakes run back to back, with power losses, resets, hung sensors, broken parts and downlinks
on a schedule. The frames are what the simulated radios put on the simulated air (air.py);
the app's log adds only its decisions (which message, its counter, the budget's answer) and
everything that did not go out becomes an event.
"""

from lpwa.boards.host.board import HostBoard
from lpwa.boards.host.clock import WatchdogReset

HOUR_MS = 3600000
DECISIONS = ("counter", "airtime_us", "what", "alarm", "urgent", "budget", "downlink")


def simulate(cfg, hours=24, seed=1, scenario=None, power_loss_at_h=(), reset_at_h=(), hang_at_h=(),
             downlinks=(), faults=None, board=None, measure_mem=False, motion=None):
    """cfg: a parsed device config (lpwa.firmware.config.parse). downlinks: (hour, bytes) pairs
    delivered at the first receive window after that hour. motion: what the pedometer's IMU
    feels (a boards.host.motion.MotionScene; default the World's three short walks). Returns
    {"frames": [replay lines], "events": [...], "wakes": n, "mem": {...}, "pedometer": {...}}.
    """
    if board is None:
        board = HostBoard(cfg["kind"], seed, scenario)
    sim = Simulation(cfg, board, motion, measure_mem)
    sim.schedule(power_loss_at_h, reset_at_h, hang_at_h, downlinks, faults)
    end = sim.start + int(hours * HOUR_MS)
    while board.clock.ms < end:
        sim.step()
    return sim.result()


class Simulation:
    def __init__(self, cfg, board, motion=None, measure_mem=False):
        self.cfg = cfg
        self.board = board
        self.measure_mem = measure_mem
        board.set_motion(motion)
        self.start = board.clock.ms
        self.frames = []
        self.events = []
        self.wakes = 0
        self.ped_stats = {}
        self.rtc_bytes = 0  # the largest RTC memory record (ESP32 MicroPython keeps at most 2048 bytes)
        self.mem = {"free_after_boot": None, "free_low": None, "alloc_after_boot": None, "alloc_high": None}

    def _at(self, hours):
        return sorted(self.start + int(h * HOUR_MS) for h in hours)

    def schedule(self, power_loss_at_h=(), reset_at_h=(), hang_at_h=(), downlinks=(), faults=None):
        self.losses = self._at(power_loss_at_h)
        self.resets = self._at(reset_at_h)
        self.hangs = self._at(hang_at_h)
        self.faults = faults or {}  # name -> (from hour, to hour): the part is broken in between
        self.board.air.schedule_downlinks([(self.start + int(h * HOUR_MS), d) for h, d in downlinks])

    def step(self):
        """One wake: what the world does to the board first, then the app, then its traffic."""
        self._power_events()
        self.board.boot()
        self._set_faults()
        from lpwa.firmware.app import Node

        node = Node(self.board, self.cfg, self.measure_mem)
        self.wakes += 1
        sleep_ms = self._run_wake(node)
        self._track_mem(node)
        self._collect(node)
        size = self.board.rtc_size()
        if size > self.rtc_bytes:
            self.rtc_bytes = size
        if sleep_ms:
            self.board.deep_sleep(sleep_ms)
        if node.tracker is not None:
            self.ped_stats = node.tracker.stats()

    def _power_events(self):
        b = self.board
        if self.losses and self.losses[0] <= b.clock.ms:
            self.losses.pop(0)
            b.power_loss(off_ms=5000)
            self.events.append({"event": "power-loss", "time": b.clock.ms / 1000.0})
        if self.resets and self.resets[0] <= b.clock.ms:
            self.resets.pop(0)
            b.next_cause = "external"
            self.events.append({"event": "reset", "time": b.clock.ms / 1000.0})

    def _set_faults(self):
        b = self.board
        for name in self.faults:
            lo, hi = self.faults[name]
            b.faults[name] = lo * HOUR_MS + self.start <= b.clock.ms < hi * HOUR_MS + self.start
        if self.hangs and self.hangs[0] <= b.clock.ms:
            self.hangs.pop(0)
            b.hang = True

    def _run_wake(self, node):
        """The app's wake (and the pedometer's light sleep after it); ms left to deep-sleep."""
        b = self.board
        try:
            sleep_ms = node.wake()
            if node.continuous():
                node.idle(sleep_ms)  # light sleep, draining the IMU FIFO; then the next wake
                b.light_wake()
                return 0
            return sleep_ms
        except WatchdogReset as bite:
            b.watchdog_reset()
            self.events.append({"event": "watchdog", "time": b.clock.ms / 1000.0, "why": str(bite)})
            return 1000

    def _track_mem(self, node):
        mem = self.mem
        if node.mem_boot is not None and mem["free_after_boot"] is None:
            mem["free_after_boot"] = node.mem_boot
            mem["alloc_after_boot"] = node.alloc_boot
        if node.alloc_high is not None and (mem["alloc_high"] is None or node.alloc_high > mem["alloc_high"]):
            mem["alloc_high"] = node.alloc_high
        if node.mem_low is not None and (mem["free_low"] is None or node.mem_low < mem["free_low"]):
            mem["free_low"] = node.mem_low

    def _collect(self, node):
        """Frames from the air, each with the decision the app logged for it; the rest: events."""
        sent = []
        for entry in node.log:
            if entry.get("event") == "tx" and entry.get("sent"):
                sent.append(entry)
            else:
                event = dict(entry)
                event["wake"] = self.wakes
                self.events.append(event)
        uplinks = self.board.air.take()
        for i in range(len(uplinks)):
            self.frames.append(self._frame(uplinks[i], sent[i] if i < len(sent) else None))
        if len(sent) > len(uplinks):
            raise RuntimeError("the app logged %d frames sent, the radio put %d on the air" % (len(sent), len(uplinks)))

    def _frame(self, up, decision):
        """A replay line: the air's bytes, time and radio metadata, the app's decision for it."""
        meta = {}
        if decision is not None:
            for k in DECISIONS:
                meta[k] = decision[k]
            if "alarm_reason" in decision:
                meta["alarm_reason"] = decision["alarm_reason"]
        meta["kind"] = self.cfg["kind"]
        meta.update(up["meta"])
        meta["airtime_us"] = up["airtime_us"]
        return {"radio": up["radio"], "time": up["time_ms"] / 1000.0, "hex": _hex(up["bytes"]), "meta": meta}

    def result(self):
        out = {"frames": self.frames, "events": self.events, "wakes": self.wakes, "mem": self.mem,
               "sigfox_seq": self.board.sigfox_seq, "rtc_bytes": self.rtc_bytes}
        if self.cfg["kind"] == "pedometer":
            self.ped_stats["light_sleeps"] = self.board.light_sleeps
            out["pedometer"] = self.ped_stats
        return out


def _hex(data):
    from binascii import hexlify

    return hexlify(data).decode()
