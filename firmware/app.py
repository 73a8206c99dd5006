"""The node application: one wake from deep sleep, start to finish.

    boot -> load config -> restore counter, budget and state (RTC, else flash) -> sample ->
    build frames (codec) -> ask the duty-cycle budget -> listen before talk -> transmit ->
    receive window (downlinks) -> save state -> deep sleep until the next check

RAM is lost in deep sleep, so every wake builds a fresh Node; whatever must carry over lives in
RTC memory (and flash, for power loss). The same code runs on an ESP32 (boards/esp32.py) and
on the simulated host board (boards/host/); `wake()` returns how long to sleep, and the
caller sleeps.
"""

import gc

from lpwa.firmware import uplink
from lpwa.firmware import preload as phases
from lpwa.firmware.preload import preload, unload
from lpwa.firmware.drivers.errors import SensorError
from lpwa.firmware.store import MirroredStore, SlotStore, Slots, State
from lpwa.firmware.version import VERSION
from lpwa.codecs.schema_base import STATUS_NO_CONSENT

try:
    from micropython import const
except ImportError:  # CPython (lpwa.radio.const)
    from lpwa.radio.const import const  # type: ignore[assignment]

# folded into the bytecode by mpy-cross (no names interned, no globals kept)
_WATCHDOG_MS = const(90000)  # fed through the wave burst; the longest unfed step is a 50 s Sigfox downlink wait
_COUNTER_BLOCK = const(64)  # counters reserved per flash write
_MAX_WAIT_MS = const(10000)  # a budget wait up to this is slept through; longer defers the frame
_LBT_TRIES = const(4)
_DAY_MS = const(86400000)
_ALARM_REPEAT_S = const(900)  # an ongoing alarm is re-sent at most this often
# the status frame's reset_reason: the index of the board's reset cause (0 when unknown)
RESET_CODES = {"power-on": 0, "watchdog": 1, "brown-out": 2, "software": 3, "deep-sleep": 4,
               "hard-fault": 5, "external": 6}


# imported for one phase of the wake and dropped after it (firmware/preload.py, unload)
_TUNABLES = ("lpwa.firmware.tunables",)
_CONFIG = ("lpwa.firmware.config",) + _TUNABLES
_DOWNLINK = _TUNABLES + ("lpwa.codecs.command_node", "lpwa.firmware.downlink")  # each after what it imports


def load_config(path):
    """The device config: as `lpwa flash` validated it (firmware/config_stamp.py), else parsed by the
    validator, which is then dropped: it is boot-only work (a downlink that changes the config loads
    it again to check what it changes). Raises ConfigError (a ValueError) for a missing or bad file."""
    from lpwa.firmware import config_stamp

    cfg = config_stamp.read(path)
    config_stamp = None
    unload("lpwa.firmware.config_stamp")
    if cfg is not None:
        return cfg
    from lpwa.firmware import config

    try:
        return config.load(path)
    finally:
        config = None
        unload(*_CONFIG)


def _codec():
    from lpwa.codecs import encoder

    return encoder


def airtime_us(radio, length, lora):
    from lpwa.radio import airtime

    if radio == "lora":
        return airtime.lora_airtime_us(length, lora["sf"], lora["bw_khz"])
    if radio == "sigfox":
        return airtime.sigfox_total_airtime_us(length)
    return airtime.wisun_airtime_us(length)


class Node:
    """One wake of one node. `log` collects what happened (frames, decisions) for the host sim."""

    def __init__(self, board, cfg=None, measure_mem=False):
        self.board = board
        self.cfg = cfg if cfg is not None else load_config(board.config_path)
        self.log = []
        self.measure_mem = measure_mem
        self.mem_low = None  # lowest gc.mem_free() seen at a checkpoint
        self.mem_boot = None  # gc.mem_free() after boot (config, stores, budget, radio up)
        self.alloc_boot = None  # the same as live heap: gc.mem_alloc()
        self.alloc_high = None  # highest live heap at a checkpoint
        self.encoder = None
        self.radio = None  # up from the sending phase on (_radio_up)
        self.tracker = None  # pedometer: the continuous step counter (firmware/pedometer.py)
        self.rebooting = False

    def _mem(self):
        """With measure_mem: free and live heap (after a collection) at this checkpoint."""
        free = getattr(gc, "mem_free", None)
        alloc = getattr(gc, "mem_alloc", None)
        if not self.measure_mem or free is None or alloc is None:
            return
        gc.collect()
        f = free()
        a = alloc()
        if self.mem_boot is None:
            self.mem_boot = f
            self.alloc_boot = a
        if self.mem_low is None or f < self.mem_low:
            self.mem_low = f
        if self.alloc_high is None or a > self.alloc_high:
            self.alloc_high = a

    def wake(self):
        """Run one wake; returns the milliseconds to sleep before the next one."""
        wdt, now = self._boot()
        due = now >= self.state.get("next_reading_ms", 0)
        readings = {}
        flags, alarm, reason = self._sample(due, readings, now)
        wdt.feed()
        self._sending_phase()
        self._mem()
        sent = self._send_due(due, readings, alarm, reason, now)
        self._account(due, sent, now)
        if self.state.get("status_now"):
            self.state.set("status_now", False)
            self._send_status(flags, now, wdt)
        self._mem()
        self._save(wdt)
        return self._sleep_ms()

    def _boot(self):
        """Step 1: watchdog, RTC slots, counter, state, duty-cycle budget, radio; (wdt, wake ms)."""
        b = self.board
        cfg = self.cfg
        # the wake's modules below its data (firmware/preload.py): sampling's now, sending's after it
        # a downlink is applied midway through sending, into a heap the frames have cut up: its
        # modules' names are interned now, at the bottom, so then only their bytecode is allocated
        phases.intern(_DOWNLINK)
        preload(cfg["kind"], cfg["radio"], phases.boot_modules(cfg["kind"], cfg["radio"]))
        wdt = b.watchdog(_WATCHDOG_MS)
        self.wdt = wdt
        b.sensor_cfg = cfg.get("sensors") or {}
        self.reset_cause = b.reset_cause()
        slots = Slots(b.rtc_memory())
        self.slots = slots
        self.counter = uplink.new_counter(b, cfg, slots, _COUNTER_BLOCK)
        state = State(slots, b.flash("state"))
        self.state = state
        now = self._now()
        if self.reset_cause not in ("deep-sleep", "light-sleep"):
            state.set("boots", state.get("boots", 0) + 1, durable=True)
            state.set("boot_ms", now)
            state.set("last_reset", self.reset_cause)
        self.lora = state.get("lora") or cfg["lora"]
        self._mem()
        wdt.feed()
        return wdt, now

    def _radio_up(self):
        """The duty-cycle budget and the radio, which only sending uses: brought up after the sensors,
        so their modules and state are not in the heap while sampling is (firmware/preload.py)."""
        b = self.board
        cfg = self.cfg
        from lpwa.radio import budget as bmod

        store = MirroredStore(SlotStore(self.slots, "budget"), b.flash("budget"))
        self.budget = bmod.Budget(store, uplink.budget_profile(bmod, cfg, self.lora))
        try:
            self.radio = b.radio(cfg, self.lora)
        except Exception as e:  # a radio that does not answer: sample and save anyway, retry next wake
            self.radio = None
            self.log.append({"event": "radio-error", "error": repr(e)})

    def _sample(self, due, readings, now):
        """Step 2: read this kind's sensors into `readings`; returns (fault flags, alarm, reason).

        Consent withdrawn: a personal kind's sensors are not even read."""
        b = self.board
        state = self.state
        from lpwa.firmware.sensing import new_sampler

        sampler = new_sampler(b, self.cfg, state, self.wdt)
        kind = self.cfg["kind"]
        sampling = self._sampling()
        if kind == "pedometer" and sampling:
            self.tracker = sampler.step_tracker(self.slots)
            if self.tracker is not None:
                b.clock.background = self._background  # drain the FIFO through long radio waits
        elif kind == "pedometer":
            self.tracker = None  # no step counting without consent
        alarm, reason = False, None
        if kind == "buoy":
            alarm, reason = sampler.buoy_position_alarm(readings)
            if due or alarm:
                sampler.buoy(readings, now // 1000)
        elif kind == "drone-vital":
            if sampling:
                alarm, reason = sampler.vitals(readings)
        elif sampling and due:
            since = state.get("last_reading_s") or (now - self._interval_s() * 1000) // 1000
            sampler.steps(readings, now // 1000, since, self.tracker, now)
        self.wdt.feed()
        flags = sampler.finish()
        if kind == "buoy":
            readings["fault_flags"] = flags
        return flags, alarm, reason

    def _sending_phase(self):
        """Sensors done: drop what only sampling used (drivers, estimators) and import the codec
        into the room it left (firmware/preload.py). The battery stays: status frames read it."""
        kind, radio = self.cfg["kind"], self.cfg["radio"]
        done = phases.sampling_only(kind)
        if done:
            self.board.release_sensors(("battery",))
            unload(*done)
            preload(kind, radio, phases.send_modules(radio))
        else:
            unload(*phases.sampler_modules(kind))  # the step counter keeps its drivers
        self._radio_up()

    def _sampling(self):
        """May this node read its sensors and send readings? Personal kinds need consent."""
        personal = self.cfg["kind"] != "buoy"
        return not personal or self.state.get("consent", self.cfg.get("consent", True))

    def _interval_s(self):
        return self.state.get("interval_s") or self.cfg["plan"]["interval_s"]

    def _send_due(self, due, readings, alarm, reason, now):
        """Step 3: frame, budget and send a due reading or an alarm; True when it went out.

        An ongoing alarm of the same sort bypasses the plan (and uses the alarm reserve) at
        most every _ALARM_REPEAT_S; in between, planned readings still carry the alarm flag."""
        state = self.state
        what = reason.split(" ")[0] if reason else ""
        urgent = alarm
        if not alarm:
            state.set("alarm_what", None)
        elif state.get("alarm_what") == what and now - state.get("alarm_ms", 0) < _ALARM_REPEAT_S * 1000:
            urgent = False
        if not ((due or urgent) and readings and self._sampling()):
            return False
        sent = self._send(readings, alarm, urgent, reason, self.wdt)
        if urgent and sent:
            state.set("alarm_ms", now)
            state.set("alarm_what", what)
        return sent

    def _account(self, due, sent, now):
        """Step 4: schedule the next reading and, every status_every readings, a status frame."""
        if not due:
            return
        state = self.state
        state.set("next_reading_ms", now + self._interval_s() * 1000)
        state.set("last_reading_s", now // 1000)
        if sent and self.cfg["kind"] == "pedometer":
            state.set("steps_pending", 0)
            state.set("steps_since", None)
        n = state.get("readings", 0) + 1
        state.set("readings", n)
        if n % self.cfg["plan"].get("status_every", 6) == 0:
            state.set("status_now", True)

    def _save(self, wdt):
        """Step 5: radio to sleep, state to RTC memory and flash; a commanded reboot happens here."""
        if self.radio is not None:
            self.radio.sleep()
        if self.tracker is not None:
            self.tracker.poll(self._now())
            self.tracker.save()
        state = self.state
        state.set("t_last", self._now(), durable=True)
        state.save()
        self.slots.flush()
        wdt.feed()
        self._mem()
        if state.get("reboot"):
            state.set("reboot", False, durable=True)
            state.save()
            self.slots.flush()
            self.log.append({"event": "reboot"})
            self.rebooting = True
            self.board.reset()

    def _sleep_ms(self):
        """Step 6: until the next alarm check or the next reading, whichever comes first."""
        plan = self.cfg["plan"]
        check_s = min(self.state.get("interval_s") or plan["check_s"], plan["check_s"])
        end = self._now()
        nxt = min(end + check_s * 1000, self.state.get("next_reading_ms", end))
        return max(1000, nxt - end)

    # --- pedometer: between wakes -------------------------------------------------------------
    def continuous(self):
        """Does this node count between wakes (light sleep + FIFO drains) instead of deep sleep?"""
        return self.tracker is not None and not self.rebooting

    def idle(self, sleep_ms):
        """Light-sleep until the next wake, waking every drain_ms to empty the IMU's FIFO into
        the step counter (RAM, radio config and the IMU stay up). State goes to RTC memory
        after every drain that fed samples, so a reset loses at most one FIFO's worth."""
        b = self.board
        t = self.tracker
        b.clock.background = None
        end = self._now() + sleep_ms
        while True:
            now = self._now()
            if now >= end:
                break
            try:
                fed = t.drain(now)
            except (SensorError, OSError) as e:
                self.log.append({"event": "imu-error", "error": repr(e)})
                b.light_sleep(end - now)
                break
            if fed:
                t.save()
                self.slots.flush()
            self.wdt.feed()
            b.light_sleep(min(end - now, t.drain_ms))
        t.save()
        self.state.set("t_last", self._now())
        self.state.save()
        self.slots.flush()

    def _background(self):
        t = self.tracker
        if t is None:
            return
        try:
            t.poll(self._now())
        except (SensorError, OSError) as e:  # never let the IMU break a transmission in progress
            self.board.clock.background = None
            self.log.append({"event": "imu-error", "error": repr(e)})

    def _now(self):
        """Milliseconds that never go backwards, even when power loss resets the RTC clock."""
        st = self.state if hasattr(self, "state") else None
        raw = self.board.time_ms()
        if st is None:
            return raw
        off = st.get("t_off", 0)
        now = raw + off
        last = st.get("t_last", 0)
        if now < last:
            off += last - now
            st.set("t_off", off, durable=True)
            now = last
        return now

    # --- transmit -----------------------------------------------------------------------------
    def _encoder(self):
        """One encoder per wake (key schedules are built once), rebuilt when the radio changes."""
        cfg = self.cfg
        key = (self.lora["sf"], self.lora["bw_khz"])
        if self.encoder is None or self.encoder_for != key:
            self.encoder = uplink.new_encoder(_codec(), cfg, self.lora)
            self.encoder_for = key
        return self.encoder

    def _send(self, readings, alarm, urgent, reason, wdt):
        """A reading; `alarm` flags the frame, `urgent` lets it use the budget's alarm reserve."""
        enc = self._encoder()
        try:
            enc.encode(0, readings, alarm=alarm)  # a dry run: a bad value must not cost a counter
        except ValueError:
            readings = self._encodable(enc, readings, alarm)
        counter = self.counter.take()
        uplink.before_encode(enc, self.state, alarm)
        try:
            frames = enc.encode(counter, readings, alarm=alarm)
        except ValueError as e:  # nothing encodable fits the radio: log it, never crash the wake
            self.log.append({"event": "tx", "what": "reading", "sent": False, "error": "encode: %s" % e})
            return False
        self._mem()
        sent = self._transmit(frames, "alarm" if alarm else "reading", urgent, reason, wdt)
        if sent:
            uplink.after_send(enc, self.state, counter)
        return sent

    def _encodable(self, enc, readings, alarm):
        """The readings without the fields the codec refuses (a sensor gone wild), logged."""
        keep = {}
        dropped = []
        for name in readings:
            try:
                enc.encode(0, {name: readings[name]}, alarm=alarm)
                keep[name] = readings[name]
            except ValueError:
                dropped.append(name)
        self.log.append({"event": "dropped-fields", "fields": dropped})
        return keep

    def _send_status(self, flags, now, wdt):
        status = {"firmware": VERSION, "reset_reason": RESET_CODES.get(self.state.get("last_reset"), 0),
                  "uptime_s": max(0, (now - self.state.get("boot_ms", now)) // 1000), "fault_flags": flags & 0x7F}
        if self.cfg["kind"] != "buoy" and not self.state.get("consent", self.cfg.get("consent", True)):
            status["fault_flags"] |= STATUS_NO_CONSENT  # tells the gateway the consent command was applied
        try:
            status["battery_v"] = self.board.sensor("battery").volts()
        except Exception:
            pass
        frames = self._encoder().encode_status(self.counter.take(), status)
        return self._transmit(frames, "status", False, None, wdt)

    def _transmit(self, frames, what, urgent, reason, wdt):
        """Send every frame (fragments) within the budget; False when any had to be dropped.

        `urgent` frames (a new alarm) may use the budget's alarm reserve."""
        if self.radio is None:
            self.log.append({"event": "tx", "what": what, "sent": False, "error": "no radio"})
            return False
        if len(frames) > 1 and not self._message_fits(frames, urgent):
            # Fragments the budget could not all carry now would reach the gateway as a torn
            # message: keep the whole reading back instead (the next one carries the latest values).
            self.log.append({"event": "tx", "what": what, "sent": False, "urgent": urgent,
                             "budget": {"ok": False, "reason": "message-budget", "fragments": len(frames)}})
            return False
        last = len(frames) - 1
        for i in range(len(frames)):
            entry = self._send_frame(bytes(frames[i]), what, urgent, reason, i == last)
            self.log.append(entry)
            if not entry["sent"]:
                return False
            wdt.feed()
            if i == last:
                self._receive_window(wdt)
        return True

    def _send_frame(self, payload, what, urgent, reason, last):
        """One frame through budget, listen-before-talk and the radio; returns its log entry."""
        air = airtime_us(self.cfg["radio"], len(payload), self.lora)
        now, ok, wait_ms, why, waited = self._admit(air, urgent)
        entry = {"event": "tx", "what": what, "time_ms": now, "bytes": len(payload), "airtime_us": air,
                 "alarm": what == "alarm", "urgent": urgent,
                 "budget": {"ok": ok, "wait_ms": wait_ms, "reason": why, "waited_ms": waited}}
        if reason:
            entry["alarm_reason"] = reason
        entry["sent"] = False
        if not ok:
            return entry
        now = self._listen(now, urgent)
        if now is None:
            entry["lbt"] = "busy"
            return entry
        want_dl = last and self._want_downlink(now)
        try:
            uplink.send(self.cfg, self.counter, self.radio, payload, want_dl)
        except OSError as e:
            entry["error"] = str(e)
            return entry
        self.budget.record(now, air, urgent, downlink=want_dl)
        self.budget.save()
        if want_dl:
            self.state.set("downlink_ms", now)
        entry["sent"] = True
        entry["downlink"] = want_dl
        entry["counter"] = self.counter.peek() - 1  # the message's counter (taken before encoding)
        return entry

    def _admit(self, air, urgent):
        """Ask the budget; a wait up to _MAX_WAIT_MS is slept through. (now, ok, wait, why, waited)."""
        now = self._now()
        ok, wait_ms, why = self.budget.request(now, air, urgent)
        waited = 0
        if not ok and wait_ms <= _MAX_WAIT_MS:
            self.board.clock.sleep_ms(wait_ms)
            waited = wait_ms
            now = self._now()
            ok, wait_ms, why = self.budget.request(now, air, urgent)
        return now, ok, wait_ms, why, waited

    def _listen(self, now, urgent):
        """Listen before talk, up to _LBT_TRIES with the budget's backoff; the time, or None if busy."""
        for _ in range(_LBT_TRIES):
            if self.budget.listen_before_talk(self.radio, now, urgent):
                return now
            self.board.clock.sleep_ms(self.budget.backoff_ms)
            now = self._now()
        return None

    def _message_fits(self, frames, urgent):
        """Do all fragments fit what is left of the rolling hour (and day) for this priority?"""
        total = 0
        for f in frames:
            total += airtime_us(self.cfg["radio"], len(f), self.lora)
        st = self.budget.status(self._now())
        if st.get("hour_budget_us"):
            limit = st["hour_budget_us"] - (0 if urgent else st.get("reserve_us", 0))
            if st["hour_used_us"] + total > limit:
                return False
        if st.get("day_cap"):
            limit = st["day_cap"] - (0 if urgent else st.get("reserve_msgs", 0))
            if st["day_messages"] + len(frames) > limit:
                return False
        return True

    def _want_downlink(self, now):
        """Ask for a downlink when the budget allows it (Sigfox: 4 a rolling day), spread evenly
        over the day so a command waits hours for its window, not until tomorrow."""
        b = self.budget
        if not b.downlink_allowed(now):
            return False
        last = self.state.get("downlink_ms")
        return not b.day_downlinks or last is None or now - last >= _DAY_MS // b.day_downlinks

    def _receive_window(self, wdt):
        got = self.radio.receive(self.cfg["plan"].get("rx_window_ms", 2000))
        wdt.feed()
        if got is None:
            return
        raw, meta = got
        preload(None, None, _DOWNLINK)  # one module at a time, a collection after each
        from lpwa.firmware import downlink

        result = downlink.apply(self, raw)
        downlink = None
        unload(*_DOWNLINK)  # a downlink phase: decoder and validator only while a command is applied
        self.log.append({"event": "downlink", "hex": _hex(raw), "meta": meta, "result": result})


def _hex(data):
    from binascii import hexlify

    return hexlify(data).decode()


def main(board=None):
    """Entry point on the board (main.py): one wake, then deep sleep. Never returns on hardware."""
    if board is None:
        from lpwa.boards import esp32

        board = esp32.Esp32Board()
    if board.safe_mode():
        print("lpwa: button held at boot: safe mode, app not started (REPL stays available)")
        return
    try:
        cfg = load_config(board.config_path)
    except ValueError as e:  # ConfigError: a missing or bad file sleeps an hour, never boot-loops
        print("lpwa: config error:", e)
        board.deep_sleep(3600000)
        return
    try:
        while True:
            node = Node(board, cfg)
            cfg = node.cfg
            sleep_ms = node.wake()
            if not node.continuous():
                break
            # pedometer: light sleep, counting every step from the IMU FIFO, then the next wake
            node.idle(sleep_ms)
            node = None
            board.light_wake()
            gc.collect()
            if getattr(board, "one_wake_per_main", False):
                return  # the host board's simulation drives the wakes itself
    except Exception as e:  # never a boot loop: the counter and budget are already saved
        print("lpwa: wake failed:", repr(e))
        sleep_ms = 600000
    board.deep_sleep(sleep_ms)
