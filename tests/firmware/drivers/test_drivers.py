"""Drivers against their datasheet facts and the host board's bus-level simulations, under
MicroPython where it matters; plus the device config's validation."""

import json

import pytest

from lpwa.boards.host.board import HostBoard
from lpwa.firmware import config
from lpwa.firmware.drivers import gps
from lpwa.firmware.drivers.conductivity import salinity_pss78
from lpwa.firmware.drivers.ds18b20 import DS18B20, crc8
from lpwa.firmware.drivers.errors import SensorError

KEY = "00112233445566778899aabbccddeeff"


def test_nmea_checksum_and_parse():
    gga = "$GPGGA,092750.000,5321.6802,N,00630.3372,W,1,8,1.03,61.7,M,55.2,M,,*76"
    msg = gps.parse(gga)
    assert msg["type"] == "GGA" and msg["quality"] == 1 and msg["sats"] == 8
    assert abs(msg["lat"] - 53.361337) < 1e-6 and abs(msg["lon"] + 6.505620) < 1e-6
    assert gps.parse(gga[:-2] + "77") is None  # bad checksum
    assert gps.parse(gga.replace("*76", "")) is None  # no checksum
    rmc = "$GPRMC,092750.000,A,5321.6802,N,00630.3372,W,0.02,31.66,280511,,,A*43"
    r = gps.parse(rmc)
    assert r["valid"] and r["date"] == "280511"
    assert gps.unix_time("280511", "092750.000") == 1306574870


def test_ds18b20_crc_and_values():
    # Maxim application note 27 example ROM: 02 1C B8 01 00 00 00 has CRC A2
    assert crc8(bytes((0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00))) == 0xA2
    b = HostBoard("buoy")
    b.boot()
    t = b.sensor("temp").measure(b.clock)
    assert 16 < t < 20
    bus = b.sensor("temp").bus
    bus.corrupt = True
    with pytest.raises(SensorError):
        b.sensor("temp").measure(b.clock)
    bus.corrupt = False
    fresh = DS18B20(bus)
    bus.temp_c = 85.0
    with pytest.raises(SensorError):  # conversion never ran: the power-on 85 degC is refused
        fresh.read_c()
    b.faults["temp"] = True
    with pytest.raises(SensorError):
        fresh.measure(b.clock)


def test_pss78_reference_point():
    # by definition S = 35 at C(35, 15, 0) = 42.914 mS/cm
    assert abs(salinity_pss78(42.914, 15.0) - 35.0) < 1e-3
    # the temperature correction's b coefficients sum to zero: Rt = 1 is S = 35 at any temperature
    for t in (0.0, 10.0, 20.0, 30.0):
        rt = 0.6766097 + t * (2.00564e-2 + t * (1.104259e-4 + t * (-6.9698e-7 + t * 1.0031e-9)))
        assert abs(salinity_pss78(42.914 * rt, t) - 35.0) < 1e-6
    assert salinity_pss78(30.0, 15.0) < salinity_pss78(40.0, 15.0) < 35.0


def test_host_sensors_read_through_the_drivers():
    b = HostBoard("buoy")
    b.boot()
    ec, sal = b.sensor("cond").read(18.0)
    assert 33.5 < sal < 35 and 30 < ec < 60
    fix = b.sensor("gps").fix()
    assert abs(fix["lat"] - 35.0) < 0.001 and fix["time"] is not None and fix["sats"] == 8
    assert 3.5 < b.sensor("battery").volts() < 4.2
    ax, ay, az = b.sensor("imu").accel_mg()
    assert 900 < az < 1100
    samples = []
    b.sensor("ppg")
    b.clock.sleep_ms(300)
    assert b.sensor("ppg").read(samples) > 5 and all(0 < r < 262144 and 0 < i < 262144 for r, i in samples)
    b.faults["i2c"] = True
    b.reset_sensors()
    with pytest.raises(SensorError):
        b.sensor("imu")


def test_radio_drivers_over_simulated_modules(mpy):
    """Sigfox AT and SKSTACK-IP adapters, with a downlink each, under MicroPython."""
    setup = (
        "from lpwa.boards.host.board import HostBoard\n"
        "b = HostBoard('buoy'); b.boot()\n"
        "cfg = {'radio': 'sigfox'}\n"
        "r = b.radio(cfg, None)\n"
        "b.air.downlinks.append((0, 0, bytes(range(8))))\n"
        "r.send(b'\\x01\\x02', True)\n"
        "got = r.receive(1000)\n"
        "w = b.radio({'radio': 'wisun'}, None)\n"
        "w.send(b'hello wisun')\n"
        "b.air.downlinks.append((0, 0, b'\\xaa\\xbb'))\n"
        "got2 = w.receive(2000)\n"
        "import binascii\n"
        "res = [binascii.hexlify(got[0]).decode(), b.sigfox_seq, binascii.hexlify(got2[0]).decode(), got2[1]]\n"
    )
    hex8, seq, hex2, meta = mpy.eval_json(setup, "res")
    assert hex8 == "0001020304050607" and seq == 1 and hex2 == "aabb" and meta["rssi"] < 0


def test_config_validation_and_no_key_in_errors():
    good = {"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora"}
    cfg = config.parse(good)
    assert cfg["device_id"] == 0x0A1B2C3D and cfg["key"] == bytes.fromhex(KEY)
    assert json.loads(config.to_json(cfg))["key"] == KEY
    assert config.loads(config.to_json(cfg))["plan"] == cfg["plan"]
    assert config.parse(dict(good, radio="sigfox"))["plan"]["interval_s"] >= 620
    bad = [
        (dict(good, device="0A1B2C3D"), "device"),
        (dict(good, device="0a1b2c3"), "device"),
        (dict(good, key=KEY[:-2] + "zz"), "key"),
        (dict(good, kind="kite"), "kind"),
        (dict(good, radio="wifi"), "radio"),
        (dict(good, lora={"sf": 6}), "sf"),
        (dict(good, lora={"freq_khz": 923300}), "freq"),
        (dict(good, lora={"power_dbm": 20}), "power"),
        (dict(good, plan={"interval_s": 5}), "interval"),
        (dict(good, version=9), "version"),
    ]
    for doc, word in bad:
        with pytest.raises(config.ConfigError) as e:
            config.parse(doc)
        assert word in str(e.value) and KEY[:-2] not in str(e.value)
    with pytest.raises(config.ConfigError):
        config.loads("{not json")
    toml_doc = {"device": {"id": "0a1b2c3d", "key": KEY, "kind": "pedometer", "radio": "wisun"}, "plan": {"interval_s": 600}}
    assert config.parse(config.from_node_toml(toml_doc))["plan"]["interval_s"] == 600


@pytest.mark.parametrize("mooring,word", [
    ({"lat": float("nan"), "lon": 139.8, "radius_m": 150}, "lat"),
    ({"lat": 35.0, "lon": float("inf"), "radius_m": 150}, "lon"),
    ({"lat": 135.0, "lon": 139.8, "radius_m": 150}, "lat"),
    ({"lat": 35.0, "lon": 239.8, "radius_m": 150}, "lon"),
    ({"lat": 35.0, "lon": 139.8, "radius_m": float("nan")}, "radius_m"),
    ({"lat": 35.0, "lon": 139.8, "radius_m": 0}, "radius_m"),
    ({"lat": 35.0, "lon": 139.8, "radius_m": -150}, "radius_m"),
])
def test_config_refuses_a_mooring_alarm_that_could_never_work(mooring, word):
    """NaN (TOML allows `nan`) made the drift alarm never fire; radius <= 0 fired it every wake."""
    doc = {"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora", "alarms": {"mooring": mooring}}
    with pytest.raises(config.ConfigError) as e:
        config.parse(doc)
    assert word in str(e.value)


def test_config_refuses_non_finite_conductivity_calibration():
    doc = {"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora"}
    for cal in ({"slope": float("nan")}, {"offset": float("inf")}, {"points": [[0.1, float("nan")], [0.5, 50]]}):
        with pytest.raises(config.ConfigError):
            config.parse(dict(doc, sensors={"conductivity": cal}))


@pytest.mark.parametrize("extra", [
    {"board": __import__("datetime").date(2020, 1, 1)},
    {"wisun": {"joined": __import__("datetime").datetime(2020, 1, 1, 12, 0)}},
    {"sensors": {"installed": [__import__("datetime").time(12, 0)]}},
])
def test_node_toml_dates_and_times_are_config_errors(extra):
    """tomllib gives datetime objects for TOML dates; they reached json.dumps as a TypeError."""
    doc = {"device": {"id": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora"}}
    doc.update(extra)
    with pytest.raises(config.ConfigError) as e:
        config.to_json(config.parse(config.from_node_toml(doc)))
    assert "date or time" in str(e.value) and KEY not in str(e.value)


@pytest.mark.parametrize("board", [1, "", ["heltec-v3"], None])
def test_config_board_must_be_a_name(board):
    with pytest.raises(config.ConfigError) as e:
        config.parse({"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora", "board": board})
    assert "board" in str(e.value)


def test_node_simulate_with_a_toml_date_is_one_line(tmp_path):
    import subprocess
    import sys

    p = tmp_path / "node.toml"
    p.write_text('board = 2020-01-01\n[device]\nid = "0a1b2c3d"\nkey = "%s"\nkind = "buoy"\nradio = "lora"\n' % KEY)
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "node", "simulate", "--config", str(p), "--hours", "0.1",
                        "--interpreter", "cpython"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "date or time" in r.stderr and KEY not in r.stderr


def test_config_parses_the_same_under_micropython(mpy):
    doc = {"device": "0a1b2c3d", "key": KEY, "kind": "drone-vital", "radio": "sigfox", "board": "heltec-v3"}
    got = mpy.eval_json("from lpwa.firmware import config\nimport json\n"
                        "c = json.loads(config.to_json(config.loads(%r)))" % json.dumps(doc), "c")
    assert got == json.loads(config.to_json(config.parse(doc)))


def test_lora_carrier_sense_through_the_driver_registers(mpy):
    """RSSI from SX127x RegRssiValue / SX126x GetRssiInst while receiving; -80 dBm threshold."""
    setup = (
        "from lpwa.firmware.drivers.radio_lora import LoraRadio\n"
        "class Sx127x:\n"
        "    _pa_boost = True\n"
        "    def __init__(self, raw): self.raw = raw; self.calls = []\n"
        "    def _reg_read(self, reg): self.calls.append(reg); return self.raw\n"
        "    def start_recv(self, continuous=False): self.calls.append('rx')\n"
        "    def standby(self): self.calls.append('stby')\n"
        "class Sx126x:\n"
        "    def __init__(self, raw): self.raw = raw\n"
        "    def _cmd(self, fmt, op, n_read=0): return bytes((0, self.raw))\n"
        "    def start_recv(self, continuous=False): pass\n"
        "    def standby(self): pass\n"
        "class Bare:\n"
        "    pass\n"
        "P = {'sf': 10, 'bw_khz': 125, 'freq_khz': 923200, 'power_dbm': 13}\n"
        "quiet, loud = Sx127x(157 - 100), Sx127x(157 - 60)\n"
        "r = [LoraRadio(quiet, P).carrier_sense(1000), LoraRadio(loud, P).carrier_sense(1000),\n"
        "     LoraRadio(Sx126x(200), P).carrier_sense(1000), LoraRadio(Sx126x(120), P).carrier_sense(1000),\n"
        "     LoraRadio(Bare(), P).lbt_supported, quiet.calls[0], quiet.calls[-1], 0x1B in quiet.calls]\n"
    )
    assert mpy.eval_json(setup, "r") == [True, False, True, False, False, "rx", "stby", True]


def test_conductivity_two_point_calibration():
    from lpwa.firmware.drivers.conductivity import calibration

    slope, offset = calibration({"points": [[0.5, 12.88], [2.0, 53.0]]})  # 12.88 and 53 mS/cm standards
    assert abs(slope * 0.5 + offset - 12.88) < 1e-9 and abs(slope * 2.0 + offset - 53.0) < 1e-9
    assert calibration(None) == (20.0, 0.0)
    b = HostBoard("buoy")
    b.boot()
    b.sensor_cfg = {"conductivity": {"points": [[0.5, 12.88], [2.0, 53.0]]}}
    ec, sal = b.sensor("cond").read(18.0)
    assert 33.5 < sal < 35
    with pytest.raises(config.ConfigError):
        config.parse({"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora",
                      "sensors": {"conductivity": {"points": [[1.0, 5.0], [1.0, 9.0]]}}})


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=90))
def test_nmea_garbage_never_crashes(line):
    msg = gps.parse(line)
    assert msg is None or msg["type"] in ("GGA", "RMC")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["GPGGA", "GNRMC", "", "1", "N", "W", "99.9", "abc", "-", "0000.0000"]),
                min_size=1, max_size=14))
def test_nmea_well_checksummed_nonsense_never_crashes(fields):
    body = ",".join(fields)
    total = 0
    for ch in body:
        total ^= ord(ch)
    msg = gps.parse("$%s*%02X" % (body, total))
    assert msg is None or msg["type"] in ("GGA", "RMC")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=600))
def test_slots_and_config_survive_garbage(data):
    from lpwa.firmware.store import MemoryStore, Slots

    assert isinstance(Slots(MemoryStore(data)).slots, dict)
    try:
        config.loads(data.decode("latin-1"))
    except config.ConfigError:
        pass


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) |
                     st.text(max_size=12), lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                     max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional={k: _JSON for k in ("lora", "plan", "alarms", "sensors", "wisun", "consent",
                                                                "region", "version")}))
def test_config_rejects_any_bad_shape_with_config_error(extra):
    doc = {"device": "0a1b2c3d", "key": KEY, "kind": "buoy", "radio": "lora"}
    doc.update(extra)
    try:
        config.parse(doc)
    except config.ConfigError as e:
        assert KEY not in str(e)


# -- timeouts across the tick counter's wrap (MicroPython's ticks_ms wraps every 2**30 ms) ---------

WRAP_CLOCK = '''
class WrappingClock:
    """time.ticks_ms/ticks_diff as on an ESP32, started just before the wrap."""
    PERIOD = 1 << 30

    def __init__(self, before_wrap_ms):
        self.ms = self.PERIOD - before_wrap_ms

    def ticks_ms(self):
        return self.ms % self.PERIOD

    def ticks_diff(self, a, b):
        half = self.PERIOD >> 1
        return ((a - b + half) % self.PERIOD) - half

    def sleep_ms(self, ms):
        self.ms += int(ms)


class SilentUart:
    """A module that vanished: nothing ever comes back. Bounded so a spin fails, not hangs."""

    def __init__(self):
        self.calls = 0

    def _tick(self):
        self.calls += 1
        if self.calls > 200000:
            raise RuntimeError("still waiting after the timeout: the deadline never came")

    def readline(self):
        self._tick()
        return None

    def read(self, n=None):
        self._tick()
        return None

    def write(self, data):
        return len(data)


def timeouts_across_the_wrap():
    from lpwa.firmware.drivers.gps import Gps
    from lpwa.firmware.drivers.radio_sigfox import SigfoxRadio
    from lpwa.firmware.drivers.radio_wisun import WisunRadio

    out = []
    for before in (1, 100, 5000):
        clock = WrappingClock(before)
        try:
            SigfoxRadio(SilentUart(), clock).send(bytes(12))
            out.append("sigfox sent")
        except OSError as e:
            out.append(str(e))
        out.append(Gps(SilentUart(), WrappingClock(before)).fix(2000))
        w = WisunRadio(SilentUart(), WrappingClock(before), "FE80:0000:0000:0000:021D:1290:0003:C890")
        try:
            w.send(b"x")
            out.append("wisun sent")
        except OSError as e:
            out.append(str(e))
        out.append(WisunRadio(SilentUart(), WrappingClock(before), "FE80::1").receive(1000))
    return out
'''

WRAP_EXPECTED = ["sigfox module did not answer", None, "wisun module did not confirm the send", None] * 3


def test_driver_timeouts_end_across_the_tick_wrap():
    ns = {}
    exec(WRAP_CLOCK, ns)
    assert ns["timeouts_across_the_wrap"]() == WRAP_EXPECTED


def test_driver_timeouts_end_across_the_tick_wrap_under_micropython(mpy):
    assert mpy.eval_json(WRAP_CLOCK, "timeouts_across_the_wrap()") == WRAP_EXPECTED
