"""The `host` board: the firmware's hardware, simulated, so the unchanged app runs on a PC.

Simulations answer at the bus level, like the parts do: a 1-Wire bus with a DS18B20 scratchpad
(and its CRC), I2C register maps for the MPU-6050 and MAX30102 (FIFO), ADCs, a UART printing
NMEA with checksums, a `lora` modem with micropython-lib's send/recv, a Sigfox AT module and a
SKSTACK-IP module built on lpwa.radio's own line builders. The clock is simulated: sleeping
costs nothing, so a day runs in seconds, under MicroPython or CPython.

`simulate(cfg, hours)` runs wakes back to back, with power losses, resets and downlinks on a
schedule, and returns every frame sent plus the scheduler's decisions.
"""

import math

from lpwa.firmware.store import MemoryStore

START_S = 1767225600  # 2026-01-01T00:00:00Z: the simulated world's clock at t = 0
MOORING = (35.0, 139.8)  # simulated buoy mooring (Tokyo Bay)


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


class Rng:
    """A small deterministic generator (same sequence under MicroPython and CPython)."""

    def __init__(self, seed):
        self.state = (seed * 2654435761 + 1) & 0x7FFFFFFF or 1

    def next(self):
        self.state = (1103515245 * self.state + 12345) & 0x7FFFFFFF
        return self.state

    def uniform(self, lo, hi):
        return lo + (hi - lo) * (self.next() / 2147483648.0)


class World:
    """The truth the simulated sensors measure, as functions of world time (seconds)."""

    def __init__(self, seed=1, scenario=None):
        self.rng = Rng(seed)
        self.sc = scenario or {}

    def hours(self, t_s):
        return (t_s - START_S) / 3600.0

    def water_temp_c(self, t_s):
        return 18.0 + 1.5 * math.sin(2 * math.pi * (t_s % 86400) / 86400) + self.rng.uniform(-0.02, 0.02)

    def salinity_psu(self, t_s):
        return 34.2 + 0.3 * math.sin(2 * math.pi * t_s / 44712)  # a tidal swing

    def position(self, t_s):
        lat, lon = MOORING
        drift_h = self.sc.get("drift_at_h")
        if drift_h is not None and self.hours(t_s) >= drift_h:
            metres = 300 + (self.hours(t_s) - drift_h) * 600  # broke free: 0.6 km/h away
            lat += metres / 111320.0
        return lat + self.rng.uniform(-1e-5, 1e-5), lon + self.rng.uniform(-1e-5, 1e-5)

    def heave_mg(self, t_s):
        """Vertical acceleration of a 1.2 m, 8 s swell plus a little wind sea, in mg."""
        out = 1000.0
        for h, period in ((1.2, 8.0), (0.3, 3.5)):
            w = 2 * math.pi / period
            out += -(h / 2) * w * w * math.sin(w * t_s) / 9.80665 * 1000
        return out + self.rng.uniform(-5, 5)

    def walking(self, t_s):
        """Three 10-minute walks a day (the gait-model day in lpwa.tools.sim.gait_day is the realistic one)."""
        h = (t_s % 86400) / 3600.0
        return 8 <= h < 8 + 1 / 6.0 or 12 <= h < 12 + 1 / 6.0 or 17 <= h < 17 + 1 / 6.0

    def accel_mg(self, t_s):
        if self.walking(t_s):
            phase = 2 * math.pi * 1.8 * t_s
            return (int(120 * math.sin(phase / 2)), int(60 * math.cos(phase)),
                    int(1000 + 350 * math.sin(phase) + self.rng.uniform(-20, 20)))
        return int(self.rng.uniform(-8, 8)), int(self.rng.uniform(-8, 8)), int(1000 + self.rng.uniform(-8, 8))

    def vitals(self, t_s):
        """(hr_bpm, spo2_pct) of the casualty."""
        hr, spo2 = 78.0, 97.0
        drop = self.sc.get("spo2_drop_at_h")
        if drop is not None and self.hours(t_s) >= drop:
            hr, spo2 = 118.0, 86.0
        return hr, spo2


# --- buses ------------------------------------------------------------------------------------
def _crc8(data):
    from lpwa.firmware.drivers.ds18b20 import crc8

    return crc8(data)


class SimOneWire:
    """A 1-Wire bus with one DS18B20: presence pulse, Convert T, Read Scratchpad with CRC."""

    def __init__(self, board):
        self.board = board
        self.last_cmd = None
        self.temp_c = 85.0  # the power-on value until a conversion runs
        self.corrupt = False

    def reset(self, required=False):
        return not self.board.faulty("temp")

    def select_rom(self, rom):
        pass

    def scan(self):
        return [] if self.board.faulty("temp") else [b"\x28\x01\x02\x03\x04\x05\x06\x9a"]

    def writebyte(self, b):
        if b == 0x44:
            self.temp_c = self.board.world.water_temp_c(self.board.now_s())
        self.last_cmd = b

    def readinto(self, buf):
        raw = int(round(self.temp_c * 16)) & 0xFFFF
        pad = bytearray((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10))
        pad.append(_crc8(pad) ^ (1 if self.corrupt else 0))
        for i in range(len(buf)):
            buf[i] = pad[i]


class SimADC:
    def __init__(self, volts_fn):
        self.volts_fn = volts_fn

    def read_u16(self):
        return max(0, min(65535, int(self.volts_fn() / 3.3 * 65535)))

    def read_uv(self):
        return int(self.volts_fn() * 1000000)


class SimMPU6050:
    """Register map, accelerometer and FIFO of an MPU-6050 (RM-MPU-6000A), in simulated time.

    The FIFO is a byte stream: sample k (6 bytes, big-endian x y z at the configured full scale)
    is written at fifo_t0 + (k + 1) sample periods, whatever the MCU does meanwhile; more than
    1024 unread bytes lose the oldest ones (misaligning samples) and latch FIFO_OFLOW. The motion
    bit latches when the board's motion scene says the wearer moved since INT_STATUS was last
    read. Buoys read heave from the world instead."""

    FIFO_BYTES = 1024

    def __init__(self, board):
        self.board = board
        self.regs = bytearray(128)
        self.regs[0x6B] = 0x40  # asleep after power-on
        self.fifo_t0 = None  # world ms when the FIFO started collecting
        self.rd = 0  # stream position of the oldest unread byte
        self.oflow = False
        self.status_ms = board.clock.ms
        self.sbuf = bytearray(6)
        self.sbuf_k = -1

    @property
    def awake(self):
        return self.regs[0x6B] & 0x40 == 0

    def _period_us(self):
        base = 1000 if 1 <= (self.regs[0x1A] & 7) <= 6 else 8000
        return (1 + self.regs[0x19]) * 1000000 // base

    def _written(self):
        if self.fifo_t0 is None:
            return 0
        produced = (self.board.clock.ms - self.fifo_t0) * 1000 // self._period_us()
        wr = 6 * produced
        if wr - self.rd > self.FIFO_BYTES:
            self.rd = wr - self.FIFO_BYTES
            self.oflow = True
        return wr

    def _mg(self, t_ms):
        if self.board.cfg_kind == "buoy":
            return 0, 0, int(self.board.world.heave_mg(t_ms / 1000.0))
        if self.board.motion is None:
            self.board.set_motion()
        return self.board.motion.sample(t_ms)

    def _encode(self, vals, out, j):
        lsb = 16384 >> ((self.regs[0x1C] >> 3) & 3)
        for i in range(3):
            v = vals[i] * lsb // 1000
            v = -32768 if v < -32768 else (32767 if v > 32767 else v)
            v &= 0xFFFF
            out[j + 2 * i] = v >> 8
            out[j + 2 * i + 1] = v & 0xFF

    def read(self, reg, n):
        if reg == 0x75:
            return bytes((0x68,))
        if reg == 0x3B:
            out = bytearray(n)
            self._encode(self._mg(self.board.clock.ms), out, 0)
            return bytes(out)
        if reg == 0x72:
            count = self._written() - self.rd
            return bytes((count >> 8, count & 0xFF))
        if reg == 0x3A:
            self._written()
            now = self.board.clock.ms
            bits = 0
            if self.oflow and self.regs[0x38] & 0x10:
                bits |= 0x10
            if self.board.motion is None:
                self.board.set_motion()
            if self.regs[0x38] & 0x40 and self.board.motion.moving(self.status_ms, now):
                bits |= 0x40
            self.oflow = False
            self.status_ms = now
            return bytes((bits,))
        return bytes(self.regs[reg : reg + n])

    def read_into(self, reg, buf):
        if reg != 0x74:
            data = self.read(reg, len(buf))
            for i in range(len(buf)):
                buf[i] = data[i]
            return
        wr = self._written()
        if self.fifo_t0 is None:
            raise OSError(5)
        period = self._period_us()
        sb = self.sbuf
        p = self.rd
        for i in range(len(buf)):
            if p >= wr:  # reading an empty FIFO returns the last byte again, as the part does
                buf[i] = sb[5]
                continue
            k = p // 6
            if k != self.sbuf_k:
                self._encode(self._mg(self.fifo_t0 + (k + 1) * period // 1000), sb, 0)
                self.sbuf_k = k
            buf[i] = sb[p - 6 * k]
            p += 1
        self.rd = p

    def write(self, reg, data):
        v = data[0]
        self.regs[reg] = v
        if reg == 0x6A:
            if v & 0x40 and self.fifo_t0 is None:
                self.fifo_t0 = self.board.clock.ms
                self.rd = 0
                self.sbuf_k = -1
            elif not v & 0x40:
                self.fifo_t0 = None
            if v & 0x04:
                self.rd = self._written()
                self.oflow = False
                self.regs[0x6A] = v & ~0x04


class SimMAX30102:
    """FIFO at 50 samples/s: red and IR with a pulse whose ratio encodes the true SpO2."""

    RATE = 50

    def __init__(self, board):
        self.board = board
        self.regs = {}
        self.t_read = None

    def _pending(self):
        if self.t_read is None:
            return 0
        n = (self.board.clock.ms - self.t_read) * self.RATE // 1000
        return min(31, n)

    def read(self, reg, n):
        if reg == 0xFF:
            return bytes((0x15,))
        if reg == 0x04:
            return bytes((self._pending(),))
        if reg == 0x06:
            return bytes((0,))
        return bytes(n)

    def read_into(self, reg, buf):
        count = len(buf) // 6
        t0 = self.board.clock.ms - count * 1000 // self.RATE
        hr, spo2 = self.board.world.vitals(self.board.now_s())
        r = (110.0 - spo2) / 25.0
        ir_dc, ir_ac = 100000.0, 1200.0
        red_dc = 90000.0
        red_ac = r * (ir_ac / ir_dc) * red_dc
        for i in range(count):
            t = (t0 + i * 1000 // self.RATE) / 1000.0
            p = math.sin(2 * math.pi * hr / 60.0 * t)
            pulse = p * p * p if p > 0 else 0.3 * p
            red = int(red_dc + red_ac * pulse) & 0x3FFFF
            ir = int(ir_dc + ir_ac * pulse) & 0x3FFFF
            j = 6 * i
            buf[j], buf[j + 1], buf[j + 2] = red >> 16, (red >> 8) & 0xFF, red & 0xFF
            buf[j + 3], buf[j + 4], buf[j + 5] = ir >> 16, (ir >> 8) & 0xFF, ir & 0xFF
        self.t_read = self.board.clock.ms

    def write(self, reg, data):
        self.regs[reg] = bytes(data)
        if reg == 0x09:  # MODE_CONFIG: sampling starts (0x03) or stops (reset, shutdown)
            self.t_read = self.board.clock.ms if data[0] & 0x07 == 0x03 else None


class SimI2C:
    """machine.I2C's memory API over simulated devices; a missing device raises OSError (ENODEV)."""

    def __init__(self, devices):
        self.devices = devices

    def _dev(self, addr):
        dev = self.devices.get(addr)
        if dev is None:
            raise OSError(19)
        return dev

    def readfrom_mem(self, addr, reg, n):
        return self._dev(addr).read(reg, n)

    def readfrom_mem_into(self, addr, reg, buf):
        dev = self._dev(addr)
        if hasattr(dev, "read_into"):
            dev.read_into(reg, buf)
            return
        data = dev.read(reg, len(buf))
        for i in range(len(buf)):
            buf[i] = data[i]

    def writeto_mem(self, addr, reg, data):
        self._dev(addr).write(reg, data)

    def scan(self):
        return sorted(self.devices)


def _nmea(body):
    total = 0
    for ch in body:
        total ^= ord(ch)
    return "$%s*%02X\r\n" % (body, total)


def _ddmm(value, pos, neg, width):
    hemi = pos if value >= 0 else neg
    value = abs(value)
    deg = int(value)
    minutes = (value - deg) * 60
    return ("%0" + str(width) + "d%07.4f") % (deg, minutes), hemi


class SimGpsUart:
    """A GPS receiver's UART: a GGA and an RMC sentence per second of simulated time."""

    def __init__(self, board):
        self.board = board
        self.queue = []
        self.last_s = None

    def readline(self):
        if self.board.faulty("gps"):
            self.board.clock.sleep_ms(100)
            return None
        if not self.queue:
            t = self.board.now_s()
            if self.last_s == t:
                return None
            self.last_s = t
            lat, lon = self.board.world.position(t)
            la, ns = _ddmm(lat, "N", "S", 2)
            lo, ew = _ddmm(lon, "E", "W", 3)
            tm = _utc(t)
            self.queue.append(_nmea("GPGGA,%s.00,%s,%s,%s,%s,1,08,0.9,2.0,M,39.0,M,," % (tm[1], la, ns, lo, ew)))
            self.queue.append(_nmea("GPRMC,%s.00,A,%s,%s,%s,%s,0.1,0.0,%s,,,A" % (tm[1], la, ns, lo, ew, tm[0])))
        return self.queue.pop(0).encode()


def _utc(t):
    days, rem = divmod(int(t), 86400)
    # civil from days (Howard Hinnant)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return "%02d%02d%02d" % (d, m, y % 100), "%02d%02d%02d" % (rem // 3600, rem // 60 % 60, rem % 60)


# --- radios -----------------------------------------------------------------------------------
class RxPacket(bytes):
    """Like micropython-lib's lora RxPacket: bytes with rssi and snr."""

    rssi = -92
    snr = 6.5


class SimLoraModem:
    """micropython-lib `lora` modem API: send(), recv(timeout_ms=), configure(); plus carrier_sense."""

    def __init__(self, board, lora):
        self.board = board
        self.cfg = dict(lora)
        self.busy_every = 0  # every Nth carrier sense finds the channel busy (0: never)
        self.senses = 0

    def configure(self, cfg):
        self.cfg["sf"] = cfg.get("sf", self.cfg["sf"])

    def carrier_sense(self, duration_us):
        self.board.clock.sleep_ms(max(1, duration_us // 1000))
        self.senses += 1
        return not (self.busy_every and self.senses % self.busy_every == 0)

    def send(self, payload):
        from lpwa.radio.airtime import lora_airtime_us

        self.board.clock.sleep_ms(lora_airtime_us(len(payload), self.cfg["sf"], self.cfg["bw_khz"]) // 1000 + 1)

    def recv(self, timeout_ms=None):
        data = self.board.pop_downlink()
        self.board.clock.sleep_ms(timeout_ms if data is None else 400)
        return None if data is None else RxPacket(data)


class SimSigfoxUart:
    """A Wisol-style Sigfox module: AT$SF=<hex>[,1] -> OK [, RX=...], airtime of 3 repeats."""

    def __init__(self, board):
        self.board = board
        self.out = []

    def write(self, data):
        from lpwa.radio.airtime import sigfox_airtime_us

        line = bytes(data).decode().strip()
        if not line.startswith("AT$SF="):
            self.out.append(b"ERR_CMD\r\n")
            return
        body = line[6:]
        downlink = body.endswith(",1")
        payload_len = len(body.split(",")[0]) // 2
        self.board.clock.sleep_ms(3 * sigfox_airtime_us(payload_len) // 1000 + 1000)
        self.board.sigfox_seq += 1
        self.out.append(b"OK\r\n")
        if downlink:
            self.board.clock.sleep_ms(25000)
            data8 = self.board.pop_downlink()
            if data8 is not None:
                self.out.append(b"RX=" + " ".join("%02X" % b for b in data8).encode() + b"\r\n")

    def readline(self):
        return self.out.pop(0) if self.out else None


WISUN_GATEWAY = "FE80:0000:0000:0000:021D:1290:0003:C890"
WISUN_NODE = "FE80:0000:0000:0000:021D:1290:0003:C891"


class SimSkstackUart:
    """A SKSTACK-IP module: SKSENDTO -> EVENT 21 + OK; downlinks arrive as ERXUDP."""

    def __init__(self, board):
        self.board = board
        self.out = b""

    def write(self, data):
        from lpwa.radio import skstack
        from lpwa.radio.airtime import wisun_airtime_us

        data = bytes(data)
        if not data.startswith(b"SKSENDTO "):
            self.out += b"FAIL ER04\r\n"
            return
        parts = data.split(b" ", 6)
        n = int(parts[5], 16)
        self.board.clock.sleep_ms(wisun_airtime_us(n) // 1000 + 5)
        self.out += skstack.build_event(0x21, WISUN_NODE, 0) + b"OK\r\n"

    def read(self):
        from lpwa.radio import skstack

        data = self.board.pop_downlink() if not self.out else None
        if data is not None:
            self.out += skstack.build_erxudp(WISUN_GATEWAY, WISUN_NODE, 3610, 3610,
                                             "001D129000030890", 1, data, lqi=160)
        out = self.out
        self.out = b""
        return out or None


# --- the board -----------------------------------------------------------------------------------
class HostBoard:
    """The board interface the app uses (boards/esp32.py is the same on real hardware)."""

    name = "host"
    config_path = "/lpwa_config.json"
    one_wake_per_main = True  # app.main() returns after one wake (and its light sleep)

    def __init__(self, kind="buoy", seed=1, scenario=None, start_s=START_S):
        self.clock = SimClock(start_s * 1000)
        self.world = World(seed, scenario)
        self.cfg_kind = kind
        self.rng = Rng(seed + 7)
        self.rtc = MemoryStore()
        self.flash_files = {}
        self.rtc_base_ms = 0  # the chip's RTC clock restarts at 0 on power loss
        self.next_cause = "power-on"
        self.cause = "power-on"
        self.downlinks = []  # (world ms, bytes) waiting for a receive window
        self.faults = {}  # sensor name -> True while the simulated part is broken
        self.sigfox_seq = 0  # the Sigfox module's own sequence number (kept in its NVM)
        self.radios = {}
        self.sensors = {}
        self.resets = 0
        self.hang = False  # the next battery read never returns (for the watchdog test)
        self.sensor_cfg = {}
        self.mpu = None  # the IMU part itself: powered through deep and light sleep, lost on power loss
        self.light_sleeps = 0
        self.motion = None  # what the wearer's IMU feels (boards/host_motion.py); default: World's walks

    def set_motion(self, scene=None):
        if scene is None:
            from lpwa.boards.host_motion import WorldScene

            scene = WorldScene(self.world)
        scene.origin_ms = self.clock.ms
        self.motion = scene

    # clock and power
    def now_s(self):
        return self.clock.ms // 1000

    def now_s_float(self):
        return self.clock.ms / 1000.0

    def time_ms(self):
        return self.clock.ms - self.rtc_base_ms

    def reset_cause(self):
        return self.cause

    def boot(self):
        """Start a wake: RAM is fresh (no drivers), the reset cause is what ended the last one."""
        self.cause = self.next_cause
        self.next_cause = "deep-sleep"
        self.sensors = {}
        self.radios = {}
        self.clock.wdt = None
        self.clock.background = None
        if self.motion is None:
            self.set_motion()

    def deep_sleep(self, ms):
        self.clock.ms += int(ms)
        self.next_cause = "deep-sleep"

    def light_sleep(self, ms):
        """CPU paused, RAM and peripherals kept (ESP32 light sleep); the IMU keeps sampling."""
        self.light_sleeps += 1
        bg = self.clock.background
        self.clock.background = None
        self.clock.sleep_ms(ms)
        self.clock.background = bg

    def light_wake(self):
        """The app's next wake follows a light sleep: no reset, RAM and RTC as they were."""
        self.next_cause = "light-sleep"

    def reset(self):
        self.next_cause = "software"

    def watchdog_reset(self):
        self.next_cause = "watchdog"

    def power_loss(self, off_ms=0):
        self.rtc = MemoryStore()
        self.mpu = None
        self.clock.ms += off_ms
        self.rtc_base_ms = self.clock.ms
        self.next_cause = "power-on"

    def random(self):
        return self.rng.next()

    def safe_mode(self):
        return False

    # storage
    def rtc_memory(self):
        return self.rtc

    def flash(self, name):
        st = self.flash_files.get(name)
        if st is None:
            st = self.flash_files[name] = MemoryStore()
        return st

    def watchdog(self, timeout_ms):
        return SimWatchdog(self.clock, timeout_ms)

    # sensors
    def faulty(self, name):
        return self.faults.get(name, False)

    def reset_sensors(self):
        self.sensors = {}

    def sensor(self, name):
        drv = self.sensors.get(name)
        if drv is None:
            drv = self.sensors[name] = self._make_sensor(name)
        return drv

    def _make_sensor(self, name):
        from lpwa.firmware.drivers.errors import SensorError

        if name == "battery" and self.hang:
            self.hang = False
            return _Hung(self)
        if name == "temp":
            from lpwa.firmware.drivers.ds18b20 import DS18B20

            return DS18B20(SimOneWire(self))
        if name == "cond":
            from lpwa.firmware.drivers.conductivity import Conductivity, calibration

            self.cond_cal = calibration(self.sensor_cfg.get("conductivity"))
            return Conductivity(SimADC(self._cond_volts), self.cond_cal[0], self.cond_cal[1])
        if name == "battery":
            from lpwa.firmware.drivers.battery import Battery

            return Battery(SimADC(self._battery_volts), 2.0)
        if name == "gps":
            from lpwa.firmware.drivers.gps import Gps

            return Gps(SimGpsUart(self), self.clock)
        if self.mpu is None:
            self.mpu = SimMPU6050(self)  # keeps sampling into its FIFO while the MCU sleeps
        devices = {} if self.faulty("i2c") else {0x68: self.mpu, 0x57: SimMAX30102(self)}
        if name == "imu":
            from lpwa.firmware.drivers.mpu6050 import MPU6050

            return MPU6050(SimI2C(devices))
        if name == "ppg":
            from lpwa.firmware.drivers.max30102 import MAX30102

            return MAX30102(SimI2C(devices))
        raise SensorError(name, "no such sensor on the host board")

    def _battery_volts(self):
        """Half the cell voltage (a 2:1 divider): 3.95 V sagging 0.05 V a day."""
        return (3.95 - 0.05 * ((self.now_s() - START_S) / 86400.0)) / 2.0

    def _cond_volts(self):
        if self.faulty("cond"):
            return 0.0
        from lpwa.firmware.drivers.conductivity import salinity_pss78

        t = self.now_s()
        temp = self.world.water_temp_c(t)
        want = self.world.salinity_psu(t)
        lo, hi = 1.0, 80.0
        for _ in range(30):  # invert PSS-78 by bisection: the EC that reads as the true salinity
            mid = (lo + hi) / 2
            if salinity_pss78(mid, temp) < want:
                lo = mid
            else:
                hi = mid
        slope, offset = getattr(self, "cond_cal", (20.0, 0.0))
        return (lo - offset) / slope  # the probe's voltage for that EC, per its calibration

    # radios
    def radio(self, cfg, lora):
        name = cfg["radio"]
        if name == "lora":
            from lpwa.firmware.drivers.radio_lora import LoraRadio

            self.modem = SimLoraModem(self, lora)
            return LoraRadio(self.modem, lora)
        if name == "sigfox":
            from lpwa.firmware.drivers.radio_sigfox import SigfoxRadio

            return SigfoxRadio(SimSigfoxUart(self), self.clock)
        from lpwa.firmware.drivers.radio_wisun import WisunRadio

        return WisunRadio(SimSkstackUart(self), self.clock, WISUN_GATEWAY)

    def annotate(self, entry):
        """Called by the app for each frame sent: world time and what the network adds."""
        entry["world_ms"] = entry.get("ticks_ms", self.clock.ms)  # when the frame started
        if entry.get("radio") == "sigfox":
            entry["seq"] = self.sigfox_seq

    def pop_downlink(self):
        if self.downlinks and self.downlinks[0][0] <= self.clock.ms:
            return self.downlinks.pop(0)[2]
        return None


def simulate(cfg, hours=24, seed=1, scenario=None, power_loss_at_h=(), reset_at_h=(), hang_at_h=(),
             downlinks=(), faults=None, board=None, measure_mem=False, motion=None):
    """Run the app on the host board for `hours` of simulated time.

    cfg: a parsed device config (lpwa.firmware.config.parse). downlinks: (hour, bytes) pairs
    delivered at the first receive window after that hour. motion: what the pedometer's IMU
    feels (a boards.host_motion.MotionScene; default the World's three short walks). Returns
    {"frames": [replay lines], "events": [...], "wakes": n, "mem": {...}, "pedometer": {...}}.
    """
    from lpwa.firmware.app import Node

    if board is None:
        board = HostBoard(cfg["kind"], seed, scenario)
    board.set_motion(motion)
    start = board.clock.ms
    end = start + int(hours * 3600000)
    for i in range(len(downlinks)):
        h, data = downlinks[i]
        board.downlinks.append((start + int(h * 3600000), i, bytes(data)))
    board.downlinks.sort()  # by time, then given order (MicroPython's sort is not stable)
    losses = sorted(int(h * 3600000) + start for h in power_loss_at_h)
    resets = sorted(int(h * 3600000) + start for h in reset_at_h)
    hangs = sorted(int(h * 3600000) + start for h in hang_at_h)
    frames = []
    events = []
    wakes = 0
    ped_stats = {}
    rtc_bytes = 0  # the largest RTC memory record (ESP32 MicroPython keeps at most 2048 bytes)
    mem = {"free_after_boot": None, "free_low": None, "alloc_after_boot": None, "alloc_high": None}

    while board.clock.ms < end:
        if losses and losses[0] <= board.clock.ms:
            losses.pop(0)
            board.power_loss(off_ms=5000)
            events.append({"event": "power-loss", "time": board.clock.ms / 1000.0})
        if resets and resets[0] <= board.clock.ms:
            resets.pop(0)
            board.next_cause = "external"
            events.append({"event": "reset", "time": board.clock.ms / 1000.0})
        board.boot()
        if faults:
            for name in faults:  # name -> (from hour, to hour): the part is broken in between
                lo, hi = faults[name]
                board.faults[name] = lo * 3600000 + start <= board.clock.ms < hi * 3600000 + start
        node = Node(board, cfg, measure_mem)
        hang = bool(hangs and hangs[0] <= board.clock.ms)
        if hang:
            hangs.pop(0)
            board.hang = True
        wakes += 1
        try:
            sleep_ms = node.wake()
            if node.continuous():
                node.idle(sleep_ms)  # light sleep, draining the IMU FIFO; then the next wake
                sleep_ms = 0
                board.light_wake()
        except WatchdogReset as bite:
            board.watchdog_reset()
            events.append({"event": "watchdog", "time": board.clock.ms / 1000.0, "why": str(bite)})
            sleep_ms = 1000
        if node.mem_boot is not None and mem["free_after_boot"] is None:
            mem["free_after_boot"] = node.mem_boot
            mem["alloc_after_boot"] = node.alloc_boot
        if node.alloc_high is not None and (mem["alloc_high"] is None or node.alloc_high > mem["alloc_high"]):
            mem["alloc_high"] = node.alloc_high
        if node.mem_low is not None and (mem["free_low"] is None or node.mem_low < mem["free_low"]):
            mem["free_low"] = node.mem_low
        for entry in node.log:
            if entry.get("event") == "tx" and entry.get("sent"):
                meta = dict(entry.get("meta") or {})
                meta.update({"counter": entry["counter"], "airtime_us": entry["airtime_us"], "what": entry["what"],
                             "alarm": entry["alarm"], "urgent": entry["urgent"], "budget": entry["budget"],
                             "kind": cfg["kind"]})
                if "alarm_reason" in entry:
                    meta["alarm_reason"] = entry["alarm_reason"]
                if cfg["radio"] == "sigfox":
                    meta["device"] = cfg["device"]
                    meta["seq"] = entry["seq"]
                elif cfg["radio"] == "lora":
                    meta.setdefault("rssi", RxPacket.rssi)
                    meta.setdefault("snr", RxPacket.snr)
                else:
                    meta.setdefault("rssi", -70)
                    meta.setdefault("sender", WISUN_NODE)
                frames.append({"radio": cfg["radio"], "time": entry["world_ms"] / 1000.0,
                               "hex": entry["hex"], "meta": meta})
            else:
                event = dict(entry)
                event["wake"] = wakes
                events.append(event)
        raw = board.rtc.read()
        if raw and len(raw) > rtc_bytes:
            rtc_bytes = len(raw)
        if sleep_ms:
            board.deep_sleep(sleep_ms)
        ped = getattr(node, "tracker", None)
        if ped is not None:
            ped_stats = ped.stats()
    out = {"frames": frames, "events": events, "wakes": wakes, "mem": mem, "sigfox_seq": board.sigfox_seq,
           "rtc_bytes": rtc_bytes}
    if cfg["kind"] == "pedometer":
        ped_stats["light_sleeps"] = board.light_sleeps
        out["pedometer"] = ped_stats
    return out


class _Hung:
    """A battery driver that never returns: the watchdog has to end the wake."""

    def __init__(self, board):
        self.board = board

    def volts(self):
        while True:
            self.board.clock.sleep_ms(1000)
