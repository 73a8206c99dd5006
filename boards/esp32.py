"""The real board: an ESP32 / ESP32-S3 running MicroPython, wired as its profile says.

The only module that imports `machine` (and only when an Esp32Board is built), so the host
board, the tests and the type gate work without it. Drivers get bus objects from here.
"""

import time

CONFIG_PATH = "/lpwa_config.json"
_EPOCH_SHIFT_MS = 946684800000 if time.gmtime(0)[0] == 2000 else 0
_RESET_NAMES = {0: "power-on", 1: "power-on", 2: "hard-fault", 3: "watchdog", 4: "deep-sleep", 5: "software"}


class Clock:
    """ticks_ms and sleep_ms from MicroPython's time module (what the drivers wait with).

    `background` (the pedometer's FIFO drain) runs at least every second of a long wait, e.g.
    while a Sigfox module sends or waits for its downlink."""

    def __init__(self):
        self.background = None

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        """a - b for ticks_ms values, right across the counter's wrap (2**30 ms on the ESP32)."""
        return time.ticks_diff(a, b)

    def sleep_ms(self, ms):
        ms = int(ms)
        bg = self.background
        if bg is None:
            time.sleep_ms(ms)
            return
        while ms > 0:
            step = ms if ms < 1000 else 1000
            time.sleep_ms(step)
            ms -= step
            bg()


class RtcMemory:
    """machine.RTC().memory(): kept through deep sleep and soft/watchdog resets, lost on power-off."""

    def __init__(self, rtc):
        self.rtc = rtc

    def read(self):
        data = self.rtc.memory()  # bytes already: bytes() of it would be a second copy on MicroPython
        return data if data else None

    def write(self, data):
        self.rtc.memory(data)


class _ActiveLow:
    """A control pin whose `on()` drives it low (Heltec V3 ADC_CTRL, Vext)."""

    def __init__(self, pin):
        self.pin = pin

    def on(self):
        self.pin.value(0)

    def off(self):
        self.pin.value(1)


class Esp32Board:
    name = "esp32"
    config_path = CONFIG_PATH

    def __init__(self, board_name=None, cfg=None):
        import machine

        self.machine = machine
        if board_name is None:
            board_name = _board_from_config()
        self.name = board_name
        self.profile = _wiring(board_name)
        self.clock = Clock()
        self.sensors = {}
        self.sensor_cfg = {}  # the config's "sensors" table (calibrations), set by the app
        self._rtc = machine.RTC()
        self._i2c = None
        self._cause = None  # "light-sleep" once the app continues after machine.lightsleep()
        self._wdt = None

    def safe_mode(self):
        """The user button held at boot: stay at the REPL (so mpremote can reach a sleeping node)."""
        g = self.profile.get("button")
        if not g:
            return False
        m = self.machine
        return m.Pin(g["pin"], m.Pin.IN, m.Pin.PULL_UP).value() == 0

    # clock and power
    def time_ms(self):
        """Unix time in ms from the RTC: keeps counting through deep sleep (resets on power loss).
        Ports whose epoch is 2000 (older ESP32 builds) are shifted to the Unix epoch."""
        return time.time_ns() // 1000000 + _EPOCH_SHIFT_MS

    def reset_cause(self):
        if self._cause is not None:
            return self._cause
        return _RESET_NAMES.get(self.machine.reset_cause(), "external")

    def light_sleep(self, ms):
        """CPU paused, RAM, Vext and the I2C sensors kept: the pedometer's IMU FIFO keeps filling."""
        self.machine.lightsleep(int(ms))

    def light_wake(self):
        """The app's next wake continues after a light sleep (no reset happened)."""
        self._cause = "light-sleep"

    def deep_sleep(self, ms):
        self.sensor_power(False)
        self.machine.deepsleep(int(ms))

    def sensor_power(self, on):
        """Switch the board's Vext rail (external 3.3 V for sensors, the OLED) where it has one."""
        g = self.profile.get("vext")
        if not g:
            return
        m = self.machine
        level = (0 if on else 1) if g.get("active_low") else (1 if on else 0)
        m.Pin(g["pin"], m.Pin.OUT, value=level)
        if on:
            time.sleep_ms(50)  # let the sensors power up

    def reset(self):
        self.machine.reset()

    def random(self):
        import os

        return int.from_bytes(os.urandom(4), "big")

    # storage
    def rtc_memory(self):
        return RtcMemory(self._rtc)

    def flash(self, name):
        from lpwa.firmware.store import FileStore

        return FileStore("/lpwa_" + name + ".bin")

    def watchdog(self, timeout_ms):
        """One WDT per boot: the pedometer's wakes after light sleep reuse it (a second
        machine.WDT() would re-add the task to ESP-IDF's task watchdog)."""
        if self._wdt is None:
            self._wdt = self.machine.WDT(timeout=int(timeout_ms))
        return self._wdt

    # buses
    def _pin_group(self, group):
        g = self.profile.get(group)
        if not g or "pin" not in g and "sda" not in g and "tx" not in g:
            from lpwa.firmware.drivers.errors import SensorError

            raise SensorError(group, "board %s has no %s wiring" % (self.name, group))
        return g

    def i2c(self):
        if self._i2c is None:
            m = self.machine
            g = self._pin_group("i2c")
            self._i2c = m.I2C(g["id"], scl=m.Pin(g["scl"]), sda=m.Pin(g["sda"]), freq=400000)
        return self._i2c

    def uart(self, group, baud):
        m = self.machine
        g = self._pin_group(group)
        return m.UART(g["id"], baudrate=baud, tx=g["tx"], rx=g["rx"], timeout=50)

    def adc(self, pin, atten_db):
        m = self.machine
        adc = m.ADC(m.Pin(pin))
        atten = {0: m.ADC.ATTN_0DB, 2: m.ADC.ATTN_2_5DB, 6: m.ADC.ATTN_6DB}.get(atten_db, m.ADC.ATTN_11DB)
        adc.atten(atten)
        return adc

    # sensors
    def reset_sensors(self):
        self.sensors = {}
        self._i2c = None

    def release_sensors(self, keep=()):
        """Forget every sensor driver but `keep` (powered parts stay powered): the end of the wake's
        sampling, so the drivers' code can leave the heap (firmware/preload.py)."""
        for name in list(self.sensors):
            if name not in keep:
                del self.sensors[name]

    def sensor(self, name):
        drv = self.sensors.get(name)
        if drv is None:
            if not self.sensors:
                self.sensor_power(True)
            drv = self.sensors[name] = self._make_sensor(name)
        return drv

    def _make_sensor(self, name):
        from lpwa.firmware.drivers.errors import SensorError

        m = self.machine
        if name == "temp":
            import onewire

            from lpwa.firmware.drivers.ds18b20 import DS18B20

            bus = onewire.OneWire(m.Pin(self._pin_group("onewire")["pin"]))
            return DS18B20(bus)
        if name == "cond":
            from lpwa.firmware.drivers.conductivity import Conductivity, calibration

            g = self._pin_group("adc_conductivity")
            slope, offset = calibration(self.sensor_cfg.get("conductivity"))
            return Conductivity(self.adc(g["pin"], g.get("atten_db", 11)), slope, offset)
        if name == "battery":
            from lpwa.firmware.drivers.battery import Battery

            g = self.profile.get("battery") or {}
            if "pin" not in g:
                raise SensorError("battery", "no battery ADC on %s (%s)" % (self.name, g.get("note", "")))
            ctrl = None
            if "ctrl" in g:
                pin = m.Pin(g["ctrl"], m.Pin.OUT)
                ctrl = _ActiveLow(pin) if g.get("ctrl_active_low") else pin
            return Battery(self.adc(g["pin"], g.get("atten_db", 11)), g["divider"], ctrl)
        if name == "gps":
            from lpwa.firmware.drivers.gps import Gps

            g = self._pin_group("gps_uart")
            return Gps(self.uart("gps_uart", g.get("baud", 9600)), self.clock)
        if name == "imu":
            from lpwa.firmware.drivers.mpu6050 import MPU6050

            return MPU6050(self.i2c())
        if name == "ppg":
            from lpwa.firmware.drivers.max30102 import MAX30102

            return MAX30102(self.i2c())
        raise SensorError(name, "unknown sensor")

    # radios
    def radio(self, cfg, lora):
        name = cfg["radio"]
        if name == "lora":
            return self._lora(cfg, lora)
        if name == "sigfox":
            from lpwa.firmware.drivers.radio_sigfox import SigfoxRadio

            return SigfoxRadio(self.uart("module_uart", self.profile["uart_baud"]["sigfox"]), self.clock)
        from lpwa.firmware.drivers.radio_wisun import WisunRadio

        wisun = cfg.get("wisun") or {}
        return WisunRadio(self.uart("module_uart", self.profile["uart_baud"]["wisun"]), self.clock,
                          wisun.get("dest", "FF02:0000:0000:0000:0000:0000:0000:0001"), wisun.get("port", 3610))

    def _lora(self, cfg, lora):
        from lpwa.firmware.drivers.radio_lora import LoraRadio, lora_cfg

        m = self.machine
        pins, chip = self.profile["lora"], self.profile["radio_chip"]
        if cfg.get("radio_chip") and cfg["radio_chip"] != chip:  # the config picks the other chip
            from lpwa.boards.profiles import lora_pins

            pins, chip = lora_pins(self.name, cfg["radio_chip"])
        spi = m.SPI(pins["spi"], baudrate=2000000, sck=m.Pin(pins["sck"]), mosi=m.Pin(pins["mosi"]),
                    miso=m.Pin(pins["miso"]))
        cs = m.Pin(pins["cs"], m.Pin.OUT, value=1)
        reset = m.Pin(pins["reset"], m.Pin.OUT, value=1)
        if chip == "sx1262":
            from lora import SX1262  # type: ignore[import-not-found]

            modem = SX1262(spi, cs, busy=m.Pin(pins["busy"], m.Pin.IN), dio1=m.Pin(pins["dio1"], m.Pin.IN),
                           reset=reset, dio2_rf_sw=pins.get("dio2_rf_switch", True),
                           dio3_tcxo_millivolts=pins.get("tcxo_mv"), lora_cfg=lora_cfg(lora))
        else:
            from lora import SX1276  # type: ignore[import-not-found]

            modem = SX1276(spi, cs, dio0=m.Pin(pins["dio0"], m.Pin.IN), dio1=m.Pin(pins["dio1"], m.Pin.IN),
                           reset=reset, lora_cfg=lora_cfg(lora, pins.get("tx_ant")))
        return LoraRadio(modem, lora, pins.get("tx_ant"))


def _wiring(name):
    """This board's pins: lpwa.boards.wiring, which `lpwa flash` renders for the board it installs
    (under 1 KB of heap), else the same from the whole profile table (11 KB: a tree copied by hand,
    the host's tests)."""
    try:
        from lpwa.boards.wiring import WIRING  # type: ignore[import-not-found]  # rendered by lpwa flash
    except ImportError:
        from lpwa.boards.profiles import wiring

        return wiring(name)
    if WIRING["name"] != name:
        raise ValueError("lpwa/boards/wiring was installed for %s, the config says %s: flash again" % (WIRING["name"], name))
    return WIRING


def _board_from_config():
    import json

    try:
        with open(CONFIG_PATH) as f:
            return json.load(f).get("board", "heltec-v3")
    except (OSError, ValueError):
        return "heltec-v3"
