"""Duty-cycle budget: the scheduler the node asks before every transmission.

It enforces, for one radio (ARIB STD-T108 / MIC Notice 123 of 2019; Sigfox RC3 subscription):
  * the longest single emission (`max_tx_us`; a longer frame is refused for good: split it);
  * the pause after each transmission (`pause_ms`);
  * the rolling per-hour transmit time (`hour_budget_ms`, 360 s/h);
  * the rolling daily message cap (`day_messages`, Sigfox 140/day);
  * listen before talk through the driver's `carrier_sense(duration_us)`, with back-off;
  * an alarm reserve: routine frames may use at most `hour_budget_ms - reserve_ms` of any hour and
    `day_messages - reserve_msgs` of any day, so the reserve is always there for alarms.

Firmware flow: `ok, wait_ms, reason = b.request(now_ms, airtime_us, alarm)`; when ok,
`b.listen_before_talk(driver, now_ms)` (True = free), transmit at once, then
`b.record(now_ms, airtime_us, alarm)` and `b.save()` before deep sleep. `now_ms` is a millisecond
clock that keeps running across deep sleep (RTC); if it ever goes backwards the budget assumes no
time passed (it never forgets airtime because of a clock reset).

Policy for routine frames that cannot go now (the firmware owns the queue; see LIMITS.md):
reason "pause"/"busy": retry after wait_ms; "hour-budget"/"day-cap"/"reserve": keep the frame
queued if wait_ms is short, otherwise merge it into the next reading (the latest value of each
field wins; counters/step totals are cumulative so nothing is lost), dropping the oldest when the
queue is full; "too-long": never legal as one emission, so fragment or use a faster data rate.
A frame is never sent against a refusal.

Alarm latency (checked by tests/radio/test_budget.py against an independent oracle over
simulated weeks): an alarm whose single emission fits `max_tx_us` is granted at once, or refused
with reason "pause" and `wait_ms` no longer than the pause still running after the previous
transmission, whenever (a) the alarms that started in the last hour plus two minutes (the
accounting granularity) total at most `reserve_ms` including this one, and (b) with a daily cap,
fewer than `reserve_msgs` alarms started in the last 25 hours. Routine traffic cannot take this
away: it is admitted only while everything counted stays within the budget minus the reserve.

Accounting is in fixed-size rings (no growing lists): 62 one-minute slots of airtime (a frame
counts from the minute it starts until one hour after the end of the next minute, which covers any
emission up to 60 s: never under-counted) and 25 one-hour slots of message counts. The state
packs into a fixed 677-byte record with a version and a checksum; a missing record is a fresh
node, a corrupt one is treated as a full hour and a full day (nothing may be sent until they
expire) instead of crashing or forgetting airtime.
Portable (CPython and MicroPython).
"""

import struct

from lpwa.radio import limits
from lpwa.radio.memory_store import MemoryStore  # noqa: F401  (budget.MemoryStore: the gateway, tests)

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

# const() with a leading underscore: folded by mpy-cross, no heap and no interned name on the node.
_MINUTE_MS = const(60000)
_HOUR_MS = const(3600000)
_DAY_MS = const(86400000)
_MAX_FRAME_US = const(60000000)  # longest message (all repeats) the minute slots can account for
_MIN_SLOTS = const(62)  # counted while (m + 2) * MINUTE_MS + HOUR_MS > now
_HOUR_SLOTS = const(25)  # counted while (h + 1) * HOUR_MS + DAY_MS > now

_VERSION = const(2)
_MAGIC = b"LB"
_HEAD = "<2sBBqqqqqII"  # magic, version, flags, offset, last_ms, last_end_ms, min_head, hour_head, rng, busy
_HEAD_SIZE = const(52)  # struct.calcsize(_HEAD), checked by tests/radio/test_budget.py
_MIN_FMT = "<124I"  # 2 * _MIN_SLOTS
_HOUR_FMT = "<50H"  # 2 * _HOUR_SLOTS
_DL_FMT = "<25B"  # _HOUR_SLOTS
STATE_SIZE = const(677)  # _HEAD_SIZE + 8 * _MIN_SLOTS + 4 * _HOUR_SLOTS + _HOUR_SLOTS + 4

# Profiles: one per radio (and channel class). Every value cites its rule in radio/limits.py. Only
# the node's own is ever built (profile_for); the rows differ in these items:
#   (name, radio, max_tx_us, day_messages, reserve_msgs, repeats, backoff_ms, alarm_backoff_ms)
# and all share 5 ms carrier sense, the 50 ms pause, 360 s/h and a 36 s/h alarm reserve.
# lora: strictest reading of both MIC Notice 123 rows, legal on every channel 24-61: 5 ms carrier
#   sense (LoRaMac-node AS923 Japan), emissions <= 400 ms (AS923 dwell), 50 ms pause, 360 s/h.
# lora-long: 4 s emissions after 5 ms carrier sense, channels 24-38 only (ARIB_LONG_* ; JP_CH24_CH38_LBT).
# sigfox: RC3: each of the 3 repeats (2.08 s at 12 bytes) is one <= 4 s emission after 5 ms LBT;
#   140 uplinks a day (subscription), 10 of them kept for alarms; 4 downlinks a day.
# wisun: the modules run their own ARIB limiter (EVENT 32/33); we keep the same strict budget.


def _row(key):
    if key == "lora":
        return "lora-arib-lbt", "lora", limits.ARIB_SHORT_MAX_TX_US, 0, 0, 1, 100, 10
    if key == "lora-long":
        return "lora-arib-lbt-4s", "lora", limits.ARIB_LONG_MAX_TX_US, 0, 0, 1, 100, 10
    if key == "sigfox":
        return "sigfox-rc3", "sigfox", limits.ARIB_LONG_MAX_TX_US, limits.SIGFOX_UPLINKS_PER_DAY, 10, 3, 500, 50
    if key == "wisun":
        return "wisun-arib", "wisun", limits.ARIB_SHORT_MAX_TX_US, 0, 0, 1, 100, 10
    raise ValueError("unknown radio %r" % (key,))


def profile_for(radio, channel=None, long_emissions=False):
    """The budget profile for `radio`; `long_emissions=True` selects 4 s LoRa emissions, which
    need 5 ms carrier sense on ARIB channels 24-38 (`channel`, default 37 = 923.2 MHz)."""
    row = _row(radio)
    if radio == "lora" and long_emissions:
        if not limits.long_emission_allowed(37 if channel is None else channel):
            raise ValueError("4 s emissions are only allowed on ARIB channels 24-38")
        row = _row("lora-long")
    p = {"name": row[0], "radio": row[1], "cs_us": limits.ARIB_LONG_CS_US, "max_tx_us": row[2],
         "pause_ms": limits.ARIB_LONG_PAUSE_MS, "hour_budget_ms": limits.ARIB_HOUR_BUDGET_MS,
         "reserve_ms": 36000, "day_messages": row[3], "reserve_msgs": row[4], "repeats": row[5],
         "backoff_ms": row[6], "alarm_backoff_ms": row[7], "channel": channel}
    if row[1] == "sigfox":
        p["repeat_gap_ms"] = limits.SIGFOX_T_IFU_MAX_MS
        p["day_downlinks"] = limits.SIGFOX_DOWNLINKS_PER_DAY
    return p


def _check(data):
    """Fletcher-32 style checksum: small ints only, so it is cheap on the board too."""
    a = 1
    b = 0
    for c in data:
        a = (a + c) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


class Budget:
    """Duty-cycle scheduler for one radio; see the module docstring for the rules it proves."""

    def __init__(self, store, profile):
        self.store = store
        self.profile = profile
        self.max_tx_us = int(profile["max_tx_us"])
        self.pause_ms = int(profile["pause_ms"])
        self.hour_us = int(profile["hour_budget_ms"]) * 1000
        self.reserve_us = int(profile.get("reserve_ms", 0)) * 1000
        self.day_cap = int(profile.get("day_messages", 0))
        self.reserve_msgs = int(profile.get("reserve_msgs", 0))
        self.day_downlinks = int(profile.get("day_downlinks", 0))
        self.repeats = int(profile.get("repeats", 1)) or 1
        # the repeats of one message are spread over up to (repeats - 1) gaps: the pause runs from
        # the end of the last one
        self.spread_ms = (self.repeats - 1) * int(profile.get("repeat_gap_ms", 0))
        self.backoff_ms = 0  # suggested wait after a busy carrier sense
        self._min_r = [0] * _MIN_SLOTS  # routine airtime (us) per minute slot
        self._min_a = [0] * _MIN_SLOTS  # alarm airtime (us)
        self._hr_r = [0] * _HOUR_SLOTS  # routine messages per hour slot
        self._hr_a = [0] * _HOUR_SLOTS
        self._hr_d = [0] * _HOUR_SLOTS  # downlink requests per hour slot (Sigfox: 4 a day)
        self._buf = bytearray(STATE_SIZE)
        self.restored = self.load()

    # -- state ---------------------------------------------------------------------------------

    def _reset(self):
        self._offset = 0
        self._last = 0
        self._last_end = -(1 << 40)
        self._min_head = 0
        self._hour_head = 0
        self._rng = 0x2545F491
        self._busy = 0
        self._poisoned = False
        for i in range(_MIN_SLOTS):
            self._min_r[i] = 0
            self._min_a[i] = 0
        for i in range(_HOUR_SLOTS):
            self._hr_r[i] = 0
            self._hr_a[i] = 0
            self._hr_d[i] = 0
        self._resum()

    def load(self):
        """Restore from the store: "fresh" (nothing stored), "restored", or "corrupt" (then the
        conservative state: the whole hour budget and day cap count as used from the next request)."""
        self._reset()
        try:
            raw = self.store.read()
        except OSError:
            raw = b"?"
        if raw is None or len(raw) == 0:
            return "fresh"
        raw = bytes(raw)
        if (len(raw) != STATE_SIZE or raw[:2] != _MAGIC or raw[2] != _VERSION
                or struct.unpack_from("<I", raw, STATE_SIZE - 4)[0] != _check(raw[:STATE_SIZE - 4])):
            self._poisoned = True
            return "corrupt"
        h = struct.unpack_from(_HEAD, raw, 0)
        self._offset, self._last, self._last_end, self._min_head, self._hour_head, self._rng, self._busy = h[3:]
        mins = struct.unpack_from(_MIN_FMT, raw, _HEAD_SIZE)
        hours = struct.unpack_from(_HOUR_FMT, raw, _HEAD_SIZE + 8 * _MIN_SLOTS)
        dls = struct.unpack_from(_DL_FMT, raw, _HEAD_SIZE + 8 * _MIN_SLOTS + 4 * _HOUR_SLOTS)
        for i in range(_MIN_SLOTS):
            self._min_r[i] = mins[2 * i]
            self._min_a[i] = mins[2 * i + 1]
        for i in range(_HOUR_SLOTS):
            self._hr_r[i] = hours[2 * i]
            self._hr_a[i] = hours[2 * i + 1]
            self._hr_d[i] = dls[i]
        self._resum()
        return "restored"

    def dump(self):
        """The fixed-size state record (what save() writes)."""
        return bytes(self._pack())

    def _pack(self):
        """The state record into the budget's own buffer (stores copy what they are given)."""
        buf = self._buf
        struct.pack_into(_HEAD, buf, 0, _MAGIC, _VERSION, 0, self._offset, self._last, self._last_end,
                         self._min_head, self._hour_head, self._rng & 0xFFFFFFFF, min(self._busy, 0xFFFFFFFF))
        off = _HEAD_SIZE
        for i in range(_MIN_SLOTS):
            struct.pack_into("<II", buf, off, min(self._min_r[i], 0xFFFFFFFF), min(self._min_a[i], 0xFFFFFFFF))
            off += 8
        for i in range(_HOUR_SLOTS):
            struct.pack_into("<HH", buf, off, min(self._hr_r[i], 0xFFFF), min(self._hr_a[i], 0xFFFF))
            off += 4
        for i in range(_HOUR_SLOTS):
            buf[off] = min(self._hr_d[i], 0xFF)
            off += 1
        struct.pack_into("<I", buf, off, _check(memoryview(buf)[:off]))
        return buf

    def save(self):
        self.store.write(self._pack())

    # -- clock and rings -------------------------------------------------------------------------

    def _now(self, now_ms):
        """Monotonic internal time; a clock that went backwards is taken as 'no time passed'."""
        t = int(now_ms) + self._offset
        if t < self._last:
            self._offset += self._last - t
            t = self._last
        self._last = t
        if self._poisoned:
            self._poisoned = False
            self._fill_conservative(t)
        self._advance(t)
        return t

    def _fill_conservative(self, t):
        self._advance(t)
        self._min_a[(t // _MINUTE_MS) % _MIN_SLOTS] = self.hour_us
        if self.day_cap:
            self._hr_a[(t // _HOUR_MS) % _HOUR_SLOTS] = self.day_cap
        if self.day_downlinks:
            self._hr_d[(t // _HOUR_MS) % _HOUR_SLOTS] = self.day_downlinks
        self._resum()
        self._last_end = t

    def _advance(self, t):
        m = t // _MINUTE_MS
        if m > self._min_head:
            for k in range(self._min_head + 1, min(m, self._min_head + _MIN_SLOTS) + 1):
                s = k % _MIN_SLOTS
                self._sum_mr -= self._min_r[s]
                self._sum_ma -= self._min_a[s]
                self._min_r[s] = 0
                self._min_a[s] = 0
            self._min_head = m
        h = t // _HOUR_MS
        if h > self._hour_head:
            for k in range(self._hour_head + 1, min(h, self._hour_head + _HOUR_SLOTS) + 1):
                s = k % _HOUR_SLOTS
                self._sum_hr -= self._hr_r[s]
                self._sum_ha -= self._hr_a[s]
                self._sum_hd -= self._hr_d[s]
                self._hr_r[s] = 0
                self._hr_a[s] = 0
                self._hr_d[s] = 0
            self._hour_head = h

    def _resum(self):
        """Running totals of the rings, so a request costs O(1) instead of a pass over 87 slots."""
        self._sum_mr = sum(self._min_r)
        self._sum_ma = sum(self._min_a)
        self._sum_hr = sum(self._hr_r)
        self._sum_ha = sum(self._hr_a)
        self._sum_hd = sum(self._hr_d)

    def _hour_wait(self, t, excess):
        """ms until at least `excess` us of counted airtime has expired (oldest minute first)."""
        head = self._min_head
        freed = 0
        for m in range(head - _MIN_SLOTS + 1, head + 1):
            s = m % _MIN_SLOTS
            freed += self._min_r[s] + self._min_a[s]
            if freed >= excess:
                return max(0, (m + 2) * _MINUTE_MS + _HOUR_MS - t)
        return -1

    def _day_wait(self, t, excess):
        head = self._hour_head
        freed = 0
        for h in range(head - _HOUR_SLOTS + 1, head + 1):
            s = h % _HOUR_SLOTS
            freed += self._hr_r[s] + self._hr_a[s]
            if freed >= excess:
                return max(0, (h + 1) * _HOUR_MS + _DAY_MS - t)
        return -1

    # -- the questions the firmware asks ---------------------------------------------------------

    def request(self, now_ms, airtime_us, alarm=False):
        """May a frame of `airtime_us` (all repeats) start at `now_ms`? -> (ok, wait_ms, reason).

        wait_ms is the earliest time from now at which the same request can pass (0 when ok, -1
        when it never can). reason: "ok", "too-long", "pause", "hour-budget", "reserve"
        (routine would eat into the alarm reserve), "day-cap".
        """
        airtime_us = int(airtime_us)
        if airtime_us <= 0:
            raise ValueError("airtime_us must be positive")
        t = self._now(now_ms)
        per_emission = (airtime_us + self.repeats - 1) // self.repeats
        if per_emission > self.max_tx_us or airtime_us > _MAX_FRAME_US:
            return False, -1, "too-long"
        wait = 0
        reason = "ok"
        gap = self._last_end + self.pause_ms - t
        if gap > 0:
            wait, reason = gap, "pause"
        if self.hour_us:
            limit = self.hour_us if alarm else self.hour_us - self.reserve_us
            r, a = self._sum_mr, self._sum_ma
            if r + a + airtime_us > limit:
                w = self._hour_wait(t, r + a + airtime_us - limit) if airtime_us <= limit else -1
                why = "hour-budget" if alarm or r + a + airtime_us > self.hour_us else "reserve"
                if w < 0 or w > wait:
                    wait, reason = w, why
                    if w < 0:
                        return False, -1, why
        if self.day_cap:
            limit = self.day_cap if alarm else self.day_cap - self.reserve_msgs
            r, a = self._sum_hr, self._sum_ha
            if r + a + 1 > limit:
                w = self._day_wait(t, r + a + 1 - limit) if limit >= 1 else -1
                why = "day-cap" if alarm or r + a + 1 > self.day_cap else "reserve"
                if w < 0:
                    return False, -1, why
                if w > wait:
                    wait, reason = w, why
        return wait == 0, wait, reason

    def downlink_allowed(self, now_ms):
        """May this uplink ask for a downlink? (Sigfox: 4 a day, rolling; others: always.)"""
        self._now(now_ms)
        return not self.day_downlinks or self._sum_hd < self.day_downlinks

    def record(self, now_ms, airtime_us, alarm=False, downlink=False):
        """Account a frame that started at `now_ms` and lasted `airtime_us` (all repeats);
        `downlink=True` when it asked the network for a downlink."""
        airtime_us = int(airtime_us)
        t = self._now(now_ms)
        slot = (t // _MINUTE_MS) % _MIN_SLOTS
        hslot = (t // _HOUR_MS) % _HOUR_SLOTS
        if downlink:
            self._hr_d[hslot] += 1
            self._sum_hd += 1
        if alarm:
            self._min_a[slot] += airtime_us
            self._hr_a[hslot] += 1
            self._sum_ma += airtime_us
            self._sum_ha += 1
        else:
            self._min_r[slot] += airtime_us
            self._hr_r[hslot] += 1
            self._sum_mr += airtime_us
            self._sum_hr += 1
        end = t + (airtime_us + 999) // 1000 + self.spread_ms
        if end > self._last_end:
            self._last_end = end

    def _random(self):
        # xorshift32: the same back-off sequence on the board and on the host
        x = self._rng & 0xFFFFFFFF or 1
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self._rng = x
        return x

    def listen_before_talk(self, radio_driver, now_ms, alarm=False):
        """Carrier sense for the profile's time; True when the channel is free (transmit at once).
        When busy, `self.backoff_ms` holds a randomised binary-exponential back-off (shorter for
        alarms) before the next try."""
        self._now(now_ms)
        if radio_driver.carrier_sense(int(self.profile["cs_us"])):
            self._busy = 0
            self.backoff_ms = 0
            return True
        self._busy += 1
        base = int(self.profile["alarm_backoff_ms" if alarm else "backoff_ms"])
        window = base << min(self._busy - 1, 5)
        self.backoff_ms = base + self._random() % window
        return False

    def status(self, now_ms):
        """What is used and left in the rolling hour and day (for logs and the CLI)."""
        t = self._now(now_ms)
        hr, ha = self._sum_mr, self._sum_ma
        dr, da = self._sum_hr, self._sum_ha
        return {"profile": self.profile["name"], "hour_used_us": hr + ha, "hour_alarm_us": ha,
                "hour_budget_us": self.hour_us, "reserve_us": self.reserve_us,
                "day_messages": dr + da, "day_alarms": da, "day_cap": self.day_cap,
                "reserve_msgs": self.reserve_msgs, "day_downlinks": self._sum_hd,
                "downlink_cap": self.day_downlinks, "pause_left_ms": max(0, self._last_end + self.pause_ms - t)}

    def frames_per_hour(self, airtime_us, alarm=False):
        """How many routine frames of `airtime_us` one hour allows (pause, hour budget, day cap)."""
        airtime_us = int(airtime_us)
        per_emission = (airtime_us + self.repeats - 1) // self.repeats
        if airtime_us <= 0 or per_emission > self.max_tx_us:
            return 0
        n = _HOUR_MS // ((airtime_us + 999) // 1000 + self.spread_ms + self.pause_ms)
        if self.hour_us:
            n = min(n, (self.hour_us - (0 if alarm else self.reserve_us)) // airtime_us)
        if self.day_cap:
            n = min(n, self.day_cap - (0 if alarm else self.reserve_msgs))
        return n
