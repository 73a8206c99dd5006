"""boards/esp32.py wires the profile's pins into machine and lora objects: checked under
MicroPython with recording stand-ins for `machine`, `onewire` and micropython-lib's `lora`."""

import json

import pytest

FAKES = {
    "/lib/machine.py": '''
CALLS = []
class Pin:
    IN = 1; OUT = 3; PULL_UP = 2
    def __init__(self, n, mode=None, pull=None, value=None):
        self.n = n; self.v = value; CALLS.append(("Pin", n, mode, value))
    def value(self, v=None):
        if v is None:
            return 1
        self.v = v; CALLS.append(("set", self.n, v))
    def on(self): self.value(1)
    def off(self): self.value(0)
class SPI:
    def __init__(self, id, baudrate=0, sck=None, mosi=None, miso=None):
        CALLS.append(("SPI", id, sck.n, mosi.n, miso.n))
class I2C:
    def __init__(self, id, scl=None, sda=None, freq=0):
        CALLS.append(("I2C", id, scl.n, sda.n))
    def readfrom_mem(self, addr, reg, n):
        return bytes((0x68,)) if reg == 0x75 else bytes(n)
    def writeto_mem(self, addr, reg, data): pass
class UART:
    def __init__(self, id, baudrate=0, tx=None, rx=None, timeout=0):
        CALLS.append(("UART", id, baudrate, tx, rx))
class ADC:
    ATTN_0DB = 0; ATTN_2_5DB = 1; ATTN_6DB = 2; ATTN_11DB = 3
    def __init__(self, pin): CALLS.append(("ADC", pin.n))
    def atten(self, a): CALLS.append(("atten", a))
    def read_uv(self): return 800000
class RTC:
    def __init__(self): self.mem = b""
    def memory(self, data=None):
        if data is None:
            return self.mem
        self.mem = bytes(data)
class WDT:
    def __init__(self, timeout=0): CALLS.append(("WDT", timeout))
    def feed(self): pass
def reset_cause(): return 4
def deepsleep(ms): CALLS.append(("deepsleep", ms))
def lightsleep(ms): CALLS.append(("lightsleep", ms))
def reset(): CALLS.append(("reset",))
''',
    "/lib/onewire.py": "class OneWire:\n    def __init__(self, pin):\n        self.pin = pin\n",
    "/lib/lora/__init__.py": '''
CALLS = []
class _Modem:
    def __init__(self, spi, cs, **kw):
        CALLS.append((type(self).__name__, cs.n, dict((k, getattr(v, "n", v)) for k, v in kw.items() if k != "lora_cfg"),
                      kw.get("lora_cfg")))
class SX1262(_Modem): pass
class SX1276(_Modem): pass
''',
}


@pytest.fixture
def fake_hw(mpy):
    mpy.write_files(FAKES)
    mpy.run("import sys\nfor _m in ('machine', 'onewire', 'lora'):\n    sys.modules.pop(_m, None)\n")
    yield mpy
    mpy.run("import os\nfor _p in ('/lib/machine.py', '/lib/onewire.py', '/lib/lora/__init__.py'):\n"
            "    os.remove(_p)\nimport sys\nfor _m in ('machine', 'onewire', 'lora'):\n    sys.modules.pop(_m, None)\n")


LORA = {"sf": 10, "bw_khz": 125, "freq_khz": 923200, "power_dbm": 13}


@pytest.mark.parametrize("board,chip,expect", [
    ("heltec-v3", None, ("SX1262", 8, {"busy": 13, "dio1": 14, "reset": 12, "dio3_tcxo_millivolts": 1800})),
    ("heltec-v2", None, ("SX1276", 18, {"dio0": 26, "dio1": 35, "reset": 14})),
    ("ttgo-lora32-v21", None, ("SX1276", 18, {"dio0": 26, "dio1": 33, "reset": 23})),
    ("tbeam", "sx1262", ("SX1262", 18, {"busy": 32, "dio1": 33, "reset": 23})),
])
def test_lora_modem_gets_the_profile_pins(fake_hw, board, chip, expect):
    setup = (
        "import machine, lora\n"
        "from lpwa.boards.esp32 import Esp32Board\n"
        "machine.CALLS[:] = []; lora.CALLS[:] = []\n"
        "b = Esp32Board(%r)\n"
        "r = b.radio({'radio': 'lora', 'radio_chip': %r}, %s)\n"
        "out = [lora.CALLS[-1][0], lora.CALLS[-1][1], lora.CALLS[-1][2], lora.CALLS[-1][3],\n"
        "       [c for c in machine.CALLS if c[0] == 'SPI'][0], r.lbt_supported]\n" % (board, chip, json.dumps(LORA))
    )
    cls, cs, kw, cfg, spi, lbt = fake_hw.eval_json(setup, "out")
    assert (cls, cs) == expect[:2]
    for k, v in expect[2].items():
        assert kw[k] == v, k
    assert cfg["freq_khz"] == 923200 and cfg["sf"] == 10 and cfg["output_power"] == 13
    assert cfg.get("tx_ant") == ("PA_BOOST" if cls == "SX1276" else None)
    assert spi[2:] == [{"heltec-v3": 9}.get(board, 5), {"heltec-v3": 10}.get(board, 27), {"heltec-v3": 11}.get(board, 19)]


def test_sensors_uarts_battery_and_sleep(fake_hw):
    setup = (
        "import machine\n"
        "from lpwa.boards.esp32 import Esp32Board\n"
        "machine.CALLS[:] = []\n"
        "b = Esp32Board('heltec-v3')\n"
        "imu = b.sensor('imu')\n"
        "v = b.sensor('battery').volts()\n"
        "g = b.sensor('gps')\n"
        "s = b.radio({'radio': 'sigfox'}, None)\n"
        "w = b.radio({'radio': 'wisun', 'wisun': {'dest': 'FE80:0000:0000:0000:021D:1290:0003:C890'}}, None)\n"
        "t = b.sensor('temp')\n"
        "b.deep_sleep(5000)\n"
        "calls = [list(c) for c in machine.CALLS]\n"
        "cause = b.reset_cause()\n"
    )
    calls, v, cause = fake_hw.eval_json(setup, "[calls, v, cause]")
    assert ["I2C", 0, 42, 41] in calls  # the header I2C: SCL 42, SDA 41
    assert ["UART", 1, 9600, 48, 47] in calls and ["UART", 2, 9600, 33, 34] in calls
    assert ["UART", 2, 115200, 33, 34] in calls
    assert ["ADC", 1] in calls and ["set", 37, 0] in calls  # battery divider switched in (active low)
    assert abs(v - 0.8 * 5.12) < 0.01
    assert calls.index(["Pin", 36, 3, 0]) < calls.index(["I2C", 0, 42, 41])  # Vext on before sensors
    assert calls[-2:] == [["Pin", 36, 3, 1], ["deepsleep", 5000]]  # Vext off, then sleep
    assert cause == "deep-sleep"


def test_pedometer_light_sleep_keeps_sensors_powered(fake_hw):
    """Between pedometer wakes the board light-sleeps (Vext and the IMU stay on) and the next
    wake is not a boot."""
    setup = (
        "import machine\n"
        "from lpwa.boards.esp32 import Esp32Board\n"
        "b = Esp32Board('heltec-v3')\n"
        "b.sensor('imu')\n"
        "machine.CALLS[:] = []\n"
        "before = b.reset_cause()\n"
        "w = b.watchdog(90000)\n"
        "b.light_sleep(5100)\n"
        "b.light_wake()\n"
        "same = b.watchdog(90000) is w\n"
        "calls = [list(c) for c in machine.CALLS]\n"
    )
    calls, before, after, same = fake_hw.eval_json(setup, "[calls, before, b.reset_cause(), same]")
    assert calls == [["WDT", 90000], ["lightsleep", 5100]]  # no Vext switching, no deep sleep, one WDT
    assert same
    assert before == "deep-sleep" and after == "light-sleep"



def test_clock_ticks_diff_spans_the_tick_wrap(fake_hw):
    """The drivers' timeouts (firmware/drivers/deadline.py) rely on the board clock's ticks_diff."""
    got = fake_hw.eval_json(
        "from lpwa.boards.esp32 import Clock\nimport time\n_c = Clock()\n"
        "_p = time.ticks_add(0, -1) + 1\n",  # the tick period of this port
        "[_c.ticks_diff(time.ticks_add(_p - 5, 15), _p - 5), _c.ticks_diff(5, _p - 5), _c.ticks_diff(_p - 5, 5)]")
    assert got == [15, 10, -10]


def test_the_board_reads_the_wiring_flash_installed_not_the_profile_table(fake_hw):
    """With lpwa/boards/wiring.py present (what `lpwa flash` renders) the board never imports the
    profile table, and a wiring installed for another board is an error, not wrong pins."""
    from lpwa.boards.profiles import wiring_source

    fake_hw.write_files({"/lib/lpwa/boards/wiring.py": wiring_source("heltec-v2")})
    try:
        got = fake_hw.eval_json(
            "import sys\nsys.modules.pop('lpwa.boards.profiles', None)\n"
            "from lpwa.boards.esp32 import Esp32Board\n"
            "b = Esp32Board('heltec-v2')\n"
            "s = b.radio({'radio': 'sigfox'}, None)\n"
            "try:\n    Esp32Board('heltec-v3')\n    other = 'accepted'\nexcept ValueError as e:\n    other = str(e)\n",
            "[b.profile['lora']['dio0'], 'lpwa.boards.profiles' in sys.modules, other]")
    finally:
        fake_hw.run("import os, sys\nos.remove('/lib/lpwa/boards/wiring.py')\nsys.modules.pop('lpwa.boards.wiring', None)\n")
    dio0, loaded_table, other = got
    assert dio0 == 26 and not loaded_table
    assert "installed for heltec-v2" in other
