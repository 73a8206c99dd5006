"""The `host` board: the interface boards/esp32.py gives the app, over simulated parts.

Sensors answer at the bus level, like the parts do; radios are simulated modules behind the
same drivers the ESP32 uses, and what they send goes onto the simulated air (air.py), as a real
board's radio would put it on the real one. The clock is simulated: sleeping costs nothing.
"""

import json
import os

from lpwa.boards.host.air import Air
from lpwa.boards.host.clock import START_S, SimClock, SimWatchdog
from lpwa.boards.host.rng import Rng
from lpwa.boards.host.world import World


_CARRIED = ("rtc_base_ms", "next_cause", "sigfox_seq", "light_sleeps")
# the modules simulating each kind's parts and each radio's module (none imports node code when loaded)
_PARTS = {"buoy": ("analog", "ds18b20", "gps", "i2c", "mpu6050"), "drone-vital": ("analog", "gps", "i2c", "max30102"),
          "pedometer": ("analog", "i2c", "mpu6050", "motion")}


def part_modules(kind, radio):
    """The host modules a node of this kind and radio makes the board import: the RAM measurement
    (lpwa.tools.sim.ram) loads them before the node and leaves them out, as a real board has no simulator."""
    return ["lpwa.boards.host." + m for m in _PARTS.get(kind, ()) + (radio,)]


class HostBoard:
    name = "host"
    config_path = "/lpwa_config.json"
    one_wake_per_main = True  # app.main() returns after one wake (and its light sleep)

    def __init__(self, kind="buoy", seed=1, scenario=None, start_s=START_S, storage=None):
        self.clock = SimClock(start_s * 1000)
        self.world = World(seed, scenario)
        self.air = Air()
        self.cfg_kind = kind
        self.rng = Rng(seed + 7)
        # a folder: RTC memory and flash are files there, as on a board neither is heap, and they
        # outlast the interpreter (suspend/resume: each deep-sleep wake a fresh one, lpwa.tools.sim.ram)
        self.storage = storage
        self.rtc = self._store("rtc")
        self.flash_files = {}
        self.rtc_base_ms = 0  # the chip's RTC clock restarts at 0 on power loss
        self.next_cause = "power-on"
        self.cause = "power-on"
        self.faults = {}  # sensor name -> True while the simulated part is broken
        self.sigfox_seq = 0  # the Sigfox module's own sequence number (kept in its NVM)
        self.sigfox_refuse = 0  # the module answers ERROR to this many sends (tests)
        self.radios = {}
        self.sensors = {}
        self.hang = False  # the next battery read never returns (for the watchdog test)
        self.sensor_cfg = {}
        self.mpu = None  # the IMU part itself: powered through deep and light sleep, lost on power loss
        self.light_sleeps = 0
        self.motion = None  # what the wearer's IMU feels (motion.py); default: World's walks

    def set_motion(self, scene=None):
        if scene is None:
            from lpwa.boards.host.motion import WorldScene

            scene = WorldScene(self.world)
        scene.origin_ms = self.clock.ms
        self.motion = scene

    # clock and power
    def now_s(self):
        return self.clock.ms // 1000

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
        self.rtc.write(b"")  # RTC memory is lost
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
            st = self.flash_files[name] = self._store("flash-" + name)
        return st

    def _store(self, name):
        from lpwa.firmware.store import FileStore, MemoryStore

        if self.storage is None:
            return MemoryStore()
        return FileStore(self.storage + "/" + name + ".bin")

    def rtc_size(self):
        """Bytes in RTC memory now (a file-backed RTC is not read into the heap for this)."""
        if self.storage is None:
            return len(self.rtc.data or b"")
        try:
            return os.stat(self.rtc.path)[6]
        except OSError:
            return 0

    # what outlasts the chip's reset besides RTC memory and flash (the world, the air, the modules'
    # own memory), carried from one interpreter to the next through storage/board.json
    def suspend(self):
        from binascii import hexlify

        d = {"ms": self.clock.ms, "rng": self.rng.state, "world_rng": self.world.rng.state,
             "downlinks": [[t, o, hexlify(b).decode()] for t, o, b in self.air.downlinks]}
        for k in _CARRIED:
            d[k] = getattr(self, k)
        with open(self.storage + "/board.json", "w") as f:
            json.dump(d, f)

    def resume(self):
        """Pick up where the last interpreter's suspend() left the board; False: nothing to resume
        (the day's first boot). The simulated parts start afresh, as after a reset."""
        from binascii import unhexlify

        try:
            with open(self.storage + "/board.json") as f:
                d = json.load(f)
        except OSError:
            return False
        self.clock.ms = d["ms"]
        self.rng.state = d["rng"]
        self.world.rng.state = d["world_rng"]
        self.air.downlinks = [(t, o, unhexlify(h)) for t, o, h in d["downlinks"]]
        for k in _CARRIED:
            setattr(self, k, d[k])
        return True

    def watchdog(self, timeout_ms):
        return SimWatchdog(self.clock, timeout_ms)

    # sensors
    def faulty(self, name):
        return self.faults.get(name, False)

    def reset_sensors(self):
        self.sensors = {}

    def release_sensors(self, keep=()):
        """Forget every sensor driver but `keep` (powered parts stay powered): the end of the wake's
        sampling, so the drivers' code can leave the heap (firmware/preload.py)."""
        for name in list(self.sensors):
            if name not in keep:
                del self.sensors[name]  # the simulated part goes with its driver (a real part costs no heap)

    def sensor(self, name):
        drv = self.sensors.get(name)
        if drv is None:
            drv = self.sensors[name] = self._make_sensor(name)
        return drv

    def _make_sensor(self, name):
        if name == "battery" and self.hang:
            self.hang = False
            return _Hung(self)
        if name in ("temp", "cond", "battery", "gps"):
            return self._uart_and_analog_sensor(name)
        return self._i2c_sensor(name)

    def _uart_and_analog_sensor(self, name):
        from lpwa.boards.host.analog import SimADC

        if name == "temp":
            from lpwa.boards.host.ds18b20 import SimOneWire
            from lpwa.firmware.drivers.ds18b20 import DS18B20

            return DS18B20(SimOneWire(self))
        if name == "cond":
            from lpwa.boards.host.analog import conductivity_volts
            from lpwa.firmware.drivers.conductivity import Conductivity, calibration

            cal = calibration(self.sensor_cfg.get("conductivity"))
            return Conductivity(SimADC(lambda: conductivity_volts(self, cal)), cal[0], cal[1])
        if name == "battery":
            from lpwa.boards.host.analog import battery_volts
            from lpwa.firmware.drivers.battery import Battery

            return Battery(SimADC(lambda: battery_volts(self)), 2.0)
        from lpwa.boards.host.gps import SimGpsUart
        from lpwa.firmware.drivers.gps import Gps

        return Gps(SimGpsUart(self), self.clock)

    def _i2c_sensor(self, name):
        """Only the parts this sensor talks to are simulated (and imported): a buoy's heap never
        holds the pulse oximeter, a drone-vital's never the IMU."""
        from lpwa.boards.host.i2c import SimI2C
        from lpwa.firmware.drivers.errors import SensorError

        devices = {}
        if name == "imu":
            from lpwa.firmware.drivers.mpu6050 import MPU6050

            if not self.faulty("i2c"):
                devices[0x68] = self._mpu()
            return MPU6050(SimI2C(devices))
        if name == "ppg":
            from lpwa.boards.host.max30102 import SimMAX30102
            from lpwa.firmware.drivers.max30102 import MAX30102

            if not self.faulty("i2c"):
                devices[0x57] = SimMAX30102(self)
            return MAX30102(SimI2C(devices))
        raise SensorError(name, "no such sensor on the host board")

    def _mpu(self):
        if self.mpu is None:
            from lpwa.boards.host.mpu6050 import SimMPU6050

            self.mpu = SimMPU6050(self)  # keeps sampling into its FIFO while the MCU sleeps
        return self.mpu

    # radios: the same drivers as on the ESP32, over simulated modules on the simulated air
    def radio(self, cfg, lora):
        name = cfg["radio"]
        if name == "lora":
            from lpwa.boards.host.lora import SimLoraModem
            from lpwa.firmware.drivers.radio_lora import LoraRadio

            self.modem = SimLoraModem(self, lora)
            return LoraRadio(self.modem, lora)
        if name == "sigfox":
            from lpwa.boards.host.sigfox import SimSigfoxUart
            from lpwa.firmware.drivers.radio_sigfox import SigfoxRadio

            return SigfoxRadio(SimSigfoxUart(self, cfg.get("device")), self.clock)
        from lpwa.boards.host.wisun import WISUN_GATEWAY, SimSkstackUart
        from lpwa.firmware.drivers.radio_wisun import WisunRadio

        return WisunRadio(SimSkstackUart(self), self.clock, WISUN_GATEWAY)


class _Hung:
    """A battery driver that never returns: the watchdog has to end the wake."""

    def __init__(self, board):
        self.board = board

    def volts(self):
        while True:
            self.board.clock.sleep_ms(1000)
