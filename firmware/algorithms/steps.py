"""Step counter: 3-axis accelerometer in, total steps out.

Method (README.md in this folder): magnitude |a| (integer square root, so any orientation works),
gravity removed by a ~0.64 s moving mean, smoothed by a 0.12 s boxcar (a step's doubled peaks
merge), then a swing detector with an adaptive hysteresis (a quarter of the recent peak-to-peak,
at least _MIN_HYST_MG): each swing up and back down is a candidate step, timed at its peak.
Candidates only count once CONFIRM regular ones in a row have been seen -- strides (left +
right step, steady when a pocket's leg swings harder than the other) within 20 % of the last
stride and of the run's mean, swings within a factor of 2 of the same leg's last swing -- and then
all of them count, with the candidates of irregular runs just before (a walk's start and turns).
Steps closer than 0.28 s break the run (shaking) unless one is a weak echo; a gap over 1 s ends
it, or, once its rhythm is known, over 3.5 of its mean steps (a gap of 1.6-3.5 counts its missed
steps with the run that confirms next). While counting, such a gap counts its missed steps, and
too many intervals off the rhythm end the run (a bumpy ride keeps no rhythm); if the swings go
on and a run at the same cadence confirms, the stretch in between counts the steps its duration
holds at that cadence, if at least half of them showed as candidates (a swinging purse scrambles the peaks, the feet keep walking).
Wrist mode: one arm swing per stride is the candidate (0.4 s smoothing, intervals doubled) and
counts two steps.
All per-sample arithmetic is on small integers, so the board and CPython count identically.
"""
import array
import struct

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]


MODES = ("body", "wrist")
_BOX_S100 = const(12)           # smoothing boxcar: 0.12 s (3 samples at 25 Hz) merges a step's doubled peaks
_WRIST_BOX_S100 = const(40)     # wrist mode: 0.4 s, the period of the fastest walking step (2.5 Hz): the steps' peaks
                        # are smoothed away and the arm's swing (one per stride) is the candidate
_MIN_HYST_MG = const(60)        # smallest accepted half-swing of the filtered magnitude
_MIN_INTERVAL_S100 = const(28)  # shortest step interval in hundredths of a second (0.28 s)
_MAX_INTERVAL_S100 = const(100)  # longest step interval (1.0 s, 60 steps/min): longer ends the run
CONFIRM = 8             # regular steps in a row before counting starts (then all of them count)
_GAP_X10 = const(35)            # while counting, a gap up to 3.5 mean steps: 1-2 steps too weak to see
_CARRY_MAX = const(16)          # at most this many such candidates join a confirmed run
_STEP_TOL_X10 = const(3)        # while counting, a step 0.7-1.3 mean intervals long is on the rhythm
_ODD_COST = const(2)            # ... an interval off it costs 2, one on it pays 1 back
_ODD_MAX = const(6)             # ... over 6 owed (4 odd in a row, or 2 odd per step kept up) ends the run
FLUSH_MIN = 4           # flush(): a pending run this long counts at the end of a short window

# save_state() / load_state(): every int of the detector, then the boxcar ring (RTC memory on
# the board keeps it through deep sleep and resets; sample indices wrap after 2**31 samples,
# 2.7 years at 25 Hz).
_STATE_VERSION = 3
_STATE_HEAD = "<BHBB"       # version, rate_hz, boxcar length, steps per candidate (the mode)
_STATE_INTS = "<29i"
_STATE_NAMES = ("steps", "_g", "_mag", "_box_i", "_box_sum", "_n", "_high", "_hi", "_hi_n", "_lo", "_pp",
                "_last", "_last_seen", "_run_sum", "_run_n", "_prev_dt", "_prev2_dt", "_pp1", "_pp2",
                "_pending", "_carry", "_counting", "_close", "_odd", "_avg16", "_first", "_bridge", "_bridge16", "_bridge_c")
_STATE_BOOLS = ("_high", "_counting", "_close")


def _shift_for(rate_hz):
    """log2 of the gravity-removal window: about 0.64 s at any rate."""
    k = 1
    while (1 << (k + 1)) * 100 <= rate_hz * 64:
        k += 1
    return k


class StepCounter:
    """Streaming step counter; `feed` one sample (mg per axis), read `steps`."""

    def __init__(self, rate_hz=50, mode="body"):
        if mode not in MODES:
            raise ValueError("step mode must be one of %s" % (MODES,))
        self.rate_hz = rate_hz
        # wrist: one arm swing per stride is the candidate, so intervals are twice as long
        # and each one counts two steps
        self._per = 2 if mode == "wrist" else 1
        box_s100 = _WRIST_BOX_S100 if mode == "wrist" else _BOX_S100
        self.steps = 0
        self._k = _shift_for(rate_hz)
        self._g = 1000 << self._k          # gravity estimate, scaled by 2**k
        self._mag = 1000
        n = rate_hz * box_s100 // 100
        self._box = array.array("i", [0] * (n if n > 1 else 2))
        self._box_i = 0
        self._box_sum = 0
        self._min_int = (self._per * rate_hz * _MIN_INTERVAL_S100 + 50) // 100
        self._max_int = (self._per * rate_hz * _MAX_INTERVAL_S100 + 50) // 100
        self._n = 0                        # samples seen (a small int for 248 days at 50 Hz)
        self._high = False                 # detector state: above +hyst since the last -hyst
        self._hi = 0
        self._hi_n = 0
        self._lo = 0
        self._pp = 0                       # recent peak-to-peak (mg), smoothed over cycles
        self._last = -1                    # sample index of the last cycle's peak
        self._last_seen = 0                # sample index when it was recognised
        self._run_sum = 0                  # confirming a run: sum and count of its intervals
        self._run_n = 0
        self._prev_dt = 0                  # the previous two step intervals, for the stride check
        self._prev2_dt = 0
        self._pp1 = 0                      # the previous two swings, for the same-leg check
        self._pp2 = 0
        self._pending = 0
        self._carry = 0                    # candidates of irregular runs just before this one
        self._counting = False
        self._close = False                # while counting: the last candidate was merged
        self._odd = 0                      # while counting: recent intervals off the rhythm
        self._avg16 = 0                    # while counting: mean step interval x 16
        self._first = 0                    # sample index of the first candidate of the run
        self._bridge = -1                  # rhythm lost while walking on: the last counted peak
        self._bridge16 = 0                 # ... and that run's mean step interval x 16
        self._bridge_c = 0                 # ... and the candidates seen since

    def feed(self, ax_mg, ay_mg, az_mg):
        n2 = int(ax_mg * ax_mg + ay_mg * ay_mg + az_mg * az_mg)   # int() also takes float input
        x = self._mag
        if x < 1:
            x = 1
        for _ in range(6):  # Newton from the previous magnitude: 1-2 rounds while it moves slowly
            y = (x + n2 // x) >> 1
            if -1 <= y - x <= 1:
                x = y
                break
            x = y
        self._mag = x
        k = self._k
        self._g += x - (self._g >> k)
        d = x - (self._g >> k)
        box = self._box
        i = self._box_i
        self._box_sum += d - box[i]
        box[i] = d
        i += 1
        self._box_i = i if i < len(box) else 0
        y = self._box_sum // len(box)
        self._n += 1
        hyst = self._pp >> 2
        if hyst < _MIN_HYST_MG:
            hyst = _MIN_HYST_MG
        if self._high:
            if y > self._hi:
                self._hi = y
                self._hi_n = self._n
            if y < -hyst or (y < 0 and y < self._hi - 2 * hyst):   # a swing up and back down: one step,
                self._high = False     # timed at its peak (steadier than the crossings)
                self._last_seen = self._n
                self._cycle(self._hi - self._lo, self._hi_n)
                self._lo = y
        else:
            if y < self._lo:
                self._lo = y
            if y > hyst:
                self._high = True
                self._hi = y
                self._hi_n = self._n
        limit = self._max_int
        if self._counting:             # while counting, allow for one missed step
            limit = self._avg16 * _GAP_X10 // 160
        elif self._run_n >= 2 and self._last >= 0:   # confirming a rhythm: the same
            limit = self._run_sum * _GAP_X10 // (10 * self._run_n)
        if limit < self._max_int:
            limit = self._max_int
        if self._bridge >= 0 and self._n - self._last_seen > self._bridge16 * _GAP_X10 // 160:
            self._bridge = -1          # no swing for 3.5 steps: the wearer stood still
        if self._last >= 0 and self._n - self._last_seen > limit:
            self._last = -1            # stopped: forget the run and let the threshold relax
            self._pending = 0
            self._carry = 0
            self._counting = False
            self._pp = 0

    def flush(self):
        """End of a short sampling window: a run still being confirmed counts if it has at
        least FLUSH_MIN regular steps (a window of a few seconds cannot show CONFIRM).
        Returns `steps`. Streaming callers never need it."""
        if not self._counting and self._pending >= FLUSH_MIN and self._run_n:
            self._start_counting()
        return self.steps

    def _cycle(self, pp, n):
        """One full swing of the filtered magnitude, peaking at sample n: a candidate step."""
        last = self._last
        if last >= 0 and n - last < self._min_int and not self._close \
                and (self._counting or 2 * pp <= self._pp1):
            self._close = True             # a doubled peak inside one step (or, confirming, a
            return                         # weak echo of it): merged, once
        self._close = False
        self._bridge_c += 1
        self._pp = pp if self._pp == 0 else (3 * self._pp + pp) >> 2
        self._last = n
        if last < 0:
            self._new_run(pp)
            return
        dt = n - last
        if dt < self._min_int:         # too fast for a step: shaking or vibration
            self._new_run(pp)
            self._pending = 0
            return
        if self._counting:
            self._count(dt, pp)
        else:
            self._confirm(dt, pp)

    def _new_run(self, pp):
        """This candidate is the first of a run to confirm (nothing before it counts)."""
        self._counting = False
        self._pending = 1
        self._carry = 0
        self._run_sum = 0
        self._run_n = 0
        self._pp1 = pp
        self._pp2 = 0
        self._first = self._last

    def _count(self, dt, pp):
        """Counting: this interval's steps (missed ones included); too many intervals off the
        rhythm end the run -- a walk keeps its rhythm, a bumpy ride does not."""
        avg = self._avg16
        r10 = 160 * dt // avg          # this interval in tenths of the run's mean step
        if r10 >= 16:                  # 1.6-2.4 mean steps: one too weak to see, 2.5-3.4: two
            self.steps += self._per * ((r10 + 5) // 10)
        else:
            self.steps += self._per
            self._avg16 = avg + ((16 * dt - avg) >> 3)
        if r10 < 10 - _STEP_TOL_X10 or 10 + _STEP_TOL_X10 < r10:
            self._odd += _ODD_COST
            if self._odd > _ODD_MAX:
                self._odd = 0
                self._bridge = self._last      # counted; walking may go on through the stretch
                self._bridge16 = avg
                self._bridge_c = 0
                self._new_run(pp)
        elif self._odd:
            self._odd -= 1

    def _confirm(self, dt, pp):
        """Confirming a run: every stride (this step + the previous one: left + right, steady
        even when a pocket's leg swings harder than the other) within 20 % of the previous
        stride and of the run's mean, every step within 50 % of the mean, every swing within a
        factor of 2 of the same leg's previous swing (two candidates back); else the run
        restarts at the previous candidate. CONFIRM in a row and they all count."""
        p2 = self._pp2
        self._pp2 = self._pp1
        self._pp1 = pp
        if self._pending == 1:
            # the first interval after standing still is distorted by the filters settling:
            # bounds only, and it does not set the run's rhythm
            self._pending = 2
            self._prev_dt = dt
            self._prev2_dt = 0
            return
        rs = self._run_sum
        rn = self._run_n
        if rn >= 2 and 5 * dt * rn > 8 * rs:
            self._skip_gap(10 * dt * rn // rs, pp)
            return
        stride = dt + self._prev_dt
        ref = self._prev_dt + self._prev2_dt if self._prev2_dt else 0
        self._prev2_dt = self._prev_dt
        self._prev_dt = dt
        if ((ref == 0 or 5 * abs(stride - ref) <= ref) and (p2 == 0 or (2 * pp >= p2 and pp <= 2 * p2))
                and (rn < 2 or (5 * abs(stride * rn - 2 * rs) <= 2 * rs and 2 * abs(dt * rn - rs) <= rs))):
            self._pending += 1
            self._run_sum = rs + dt
            self._run_n = rn + 1
        else:
            # irregular: restart at the previous candidate, but keep the candidates dropped
            # (walking all along: no gap, no shake) to count if the new run confirms
            c = self._carry + self._pending - 1
            self._carry = c if c < _CARRY_MAX else _CARRY_MAX
            self._pending = 2
            self._run_sum = dt
            self._run_n = 1
            self._first = self._last - dt
        if self._pending >= CONFIRM:
            self._start_counting()

    def _skip_gap(self, r10, pp):
        """Confirming, a gap of 1.6-3.5 of the run's mean steps (longer ends the run in feed()):
        1-2 steps too weak to see, as while counting. The run so far and its missed steps are
        kept to count if the run that starts here confirms (a walk's first steps are weak)."""
        c = self._carry + self._pending + (r10 + 5) // 10 - 1
        self._new_run(pp)
        self._carry = c if c < _CARRY_MAX else _CARRY_MAX

    def _start_counting(self):
        """A run confirmed: its candidates count, with those of the irregular stretch before it --
        or, when a counted run lost its rhythm and the swings never stopped (_bridge) and this run
        walks at the same cadence (within 20 %), the steps that stretch's duration holds at that
        cadence, if at least half of them showed as candidates: a purse swinging on its strap hides and doubles steps for a while, the feet do
        not stop."""
        avg16 = 16 * self._run_sum // self._run_n
        before = self._carry
        b16 = self._bridge16
        if self._bridge >= 0 and 5 * abs(avg16 - b16) <= b16:
            mean16 = (avg16 + b16) >> 1
            held = (32 * (self._first - self._bridge) + mean16) // (2 * mean16) - 1
            if 2 * self._bridge_c >= held:     # the swings went on at about the step rate
                before = held if held > 0 else 0
        self.steps += self._per * (self._pending + before)
        self._pending = 0
        self._carry = 0
        self._bridge = -1
        self._counting = True
        self._odd = 0
        self._avg16 = avg16

    def save_state(self):
        """The whole detector as bytes (133 B at 25 Hz): restore it with load_state()."""
        vals = [int(getattr(self, name)) for name in _STATE_NAMES]
        box = self._box
        return (struct.pack(_STATE_HEAD, _STATE_VERSION, self.rate_hz, len(box), self._per)
                + struct.pack(_STATE_INTS, *vals) + struct.pack("<%di" % len(box), *box))

    def load_state(self, data):
        """Continue from save_state()'s bytes; False (and a fresh state kept) when they do not
        fit this counter (other rate or mode, other version, truncated)."""
        head = struct.calcsize(_STATE_HEAD)
        ints = struct.calcsize(_STATE_INTS)
        if not data or len(data) < head:
            return False
        version, rate, nbox, per = struct.unpack_from(_STATE_HEAD, data, 0)
        if version != _STATE_VERSION or rate != self.rate_hz or nbox != len(self._box) or per != self._per \
                or len(data) != head + ints + 4 * nbox:
            return False
        vals = struct.unpack_from(_STATE_INTS, data, head)
        for i in range(len(_STATE_NAMES)):
            name = _STATE_NAMES[i]
            v = vals[i]
            setattr(self, name, bool(v) if name in _STATE_BOOLS else v)
        box = struct.unpack_from("<%di" % nbox, data, head + ints)
        for i in range(nbox):
            self._box[i] = box[i]
        return True

    def idle(self):
        """The wearer was still and the samples in between were not fed (the node skipped
        them): forget any run in progress, as a gap of still samples would have."""
        self._last = -1
        self._pending = 0
        self._carry = 0
        self._counting = False
        self._bridge = -1
        self._pp = 0
        self._high = False
        self._hi = 0
        self._lo = 0
