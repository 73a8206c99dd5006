"""The device config file on the board: who the node is and how it samples and sends.

`lpwa flash` writes it as JSON (from a node.toml); the app reads it at every boot. A bad file
gives ConfigError naming the field, never a half-configured node. The key is never put in an
error message.

    {"version": 1, "device": "0a1b2c3d", "key": "<32 hex>", "kind": "buoy", "radio": "lora",
     "region": "JP920", "board": "heltec-v3",
     "lora": {"sf": 10, "bw_khz": 125, "freq_khz": 923200, "power_dbm": 13},
     "plan": {"interval_s": 600, "status_every": 6, "rx_window_ms": 2000},
     "alarms": {"mooring": {"lat": 35.0, "lon": 139.0, "radius_m": 150}, "spo2_low": 90}}
"""

import json
from binascii import unhexlify

CONFIG_PATH = "/lpwa_config.json"
FORMAT_VERSION = 1

from lpwa.codecs.schema_base import KIND_NAMES as KINDS
from lpwa.radio.limits import RADIOS

REGIONS = ("JP920",)

# Default sampling plan per kind: how often a reading frame goes out, how often the node wakes
# to check for alarms, how long each wake samples the motion/pulse sensors. The pedometer counts
# continuously (IMU FIFO at imu_rate_hz, drained from light sleep): its interval is only how
# often the count is sent.
DEFAULT_PLANS = {
    "buoy": {"interval_s": 600, "check_s": 300, "status_every": 6, "wave_window_s": 1024, "wave_rate_hz": 8,
             "wave_every_s": 10800},
    "drone-vital": {"interval_s": 180, "check_s": 180, "status_every": 10, "ppg_window_s": 15, "ppg_rate_hz": 50},
    "pedometer": {"interval_s": 900, "check_s": 900, "status_every": 8, "imu_rate_hz": 25},
}
# Sigfox's subscription allows about 140 uplinks a day: 620 s between frames keeps under it.
SIGFOX_INTERVAL_S = 900
IMU_RATES_HZ = (25, 40, 50, 100)
STEP_MODES = ("body", "wrist")  # firmware.algorithms.steps.MODES
# the settings a downlink may change, checked there too (firmware/tunables.py)
from lpwa.firmware.tunables import (  # noqa: F401  (re-exported: config.ConfigError, config.check_lora...)
    DEFAULT_LORA, LORA_BW_KHZ, LORA_FREQ_MAX_KHZ, LORA_FREQ_MIN_KHZ, LORA_POWER_MAX_DBM, LORA_SF, MAX_INTERVAL_S,
    MIN_INTERVAL_S, MIN_LORA_PAYLOAD, ConfigError, check_interval, check_lora)


def _version(v, out):
    if v != FORMAT_VERSION:
        raise ConfigError("config version %r is not %d: re-flash with this lpwa" % (v, FORMAT_VERSION))
    return v


def _device(v, out):
    bad = ConfigError("device must be 8 lowercase hex characters")
    if not isinstance(v, str) or len(v) != 8 or v.lower() != v:
        raise bad
    try:
        out["device_id"] = int(v, 16)
    except ValueError:
        raise bad
    return v


def _key(v, out):
    """Never echoes the key: the error names the field only."""
    if isinstance(v, str) and len(v) == 32:
        try:
            return unhexlify(v)
        except ValueError:
            pass
    raise ConfigError("key must be 32 hex characters (16 bytes)")


def _one_of(name, choices):
    def check(v, out):
        if v not in choices:
            raise ConfigError("%s must be one of %s" % (name, ", ".join(choices)))
        return v

    return check


def _object(name):
    def check(v, out):
        if not isinstance(v, dict):
            raise ConfigError("%s must be an object" % name)
        return v

    return check


def _plan(user_plan, out):
    """The kind's default plan (Sigfox: fewer uplinks), then the config's integers over it."""
    kind, radio = out["kind"], out["radio"]
    plan = dict(DEFAULT_PLANS[kind])
    if radio == "sigfox":
        # 96 readings and 8 status frames a day leave the alarm reserve of the 140/day cap free
        plan["interval_s"] = max(plan["interval_s"], SIGFOX_INTERVAL_S)
        plan["check_s"] = max(plan["check_s"], plan["interval_s"] // 2)
        plan["status_every"] = 12
    plan["rx_window_ms"] = 2000
    for k in _object("plan")(user_plan, out):
        v = user_plan[k]
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError("plan.%s must be a non-negative integer" % k)
        plan[k] = v
    check_interval(plan["interval_s"], radio)
    if kind == "pedometer" and plan.get("imu_rate_hz") not in IMU_RATES_HZ:
        raise ConfigError("plan.imu_rate_hz must be one of %s (the step counter's range, 1 kHz / n)" % (IMU_RATES_HZ,))
    if plan.get("check_s", 0) <= 0 or plan["check_s"] > plan["interval_s"]:
        plan["check_s"] = plan["interval_s"]
    return plan


def _alarms(alarms, out):
    _object("alarms")(alarms, out)
    mooring = alarms.get("mooring")
    if mooring is not None:
        _object("alarms.mooring")(mooring, out)
        for f in ("lat", "lon", "radius_m"):
            if not _finite(mooring.get(f)):
                raise ConfigError("alarms.mooring.%s must be a number" % f)
        # NaN or a radius <= 0 would be a drift alarm that never fires, or fires every wake
        if not -90 <= mooring["lat"] <= 90 or not -180 <= mooring["lon"] <= 180:
            raise ConfigError("alarms.mooring.lat must be -90..90 and lon -180..180")
        if not mooring["radius_m"] > 0:
            raise ConfigError("alarms.mooring.radius_m must be above 0")
    low = alarms.get("spo2_low", 90)
    if not isinstance(low, (int, float)) or isinstance(low, bool) or not 50 <= low <= 100:
        raise ConfigError("alarms.spo2_low must be 50..100")
    return alarms


def _sensors(sensors, out):
    cond = _object("sensors")(sensors, out).get("conductivity")
    if cond is not None and not _good_calibration(cond):
        raise ConfigError("sensors.conductivity needs numbers slope/offset or two [volts, mS/cm] points "
                          "at different voltages")
    return sensors


def _board(name, out):
    if not isinstance(name, str) or not name:
        raise ConfigError("board must be a board profile name (lpwa flash --list-boards)")
    return name


def _lora(v, out):
    return check_lora(v)


def _sigfox(v, out):
    """`next_seq`: the seqNumber the module sends next (the backend's last seqNumber + 1 when the
    node is provisioned; 1 for a module that never sent): the start of the node's Sigfox counter."""
    if not isinstance(v, dict):
        raise ConfigError("sigfox must be an object")
    for k in v:
        if k != "next_seq":
            raise ConfigError("sigfox: unknown field %r" % k)
    n = v.get("next_seq", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 4095:
        raise ConfigError("sigfox.next_seq must be a Sigfox sequence number 0..4095")
    return {"next_seq": n}


def _consent(v, out):
    """Personal kinds send readings only with consent; a config may start without it."""
    if not isinstance(v, bool):
        raise ConfigError("consent must be true or false")
    return v


def _spo2_cal(v, out):
    """The pulse oximeter's own curve {a, b, c, lo} (firmware/algorithms/README.md, "SpO2
    calibration"); absent: the default curve, and every SpO2 reading is flagged uncalibrated."""
    if v is None:
        return None
    from lpwa.firmware.algorithms import spo2

    try:
        return spo2.from_config(v)
    except spo2.CalibrationError as e:
        raise ConfigError(str(e))


REQUIRED = object()
# One row per key, checked in this order (later rows may read earlier ones' clean values):
# (key, default or REQUIRED, check(value, clean config so far) -> clean value).
ROWS = (  # type: tuple
    ("version", FORMAT_VERSION, _version),
    ("device", REQUIRED, _device),
    ("key", REQUIRED, _key),
    ("kind", REQUIRED, _one_of("kind", KINDS)),
    ("radio", REQUIRED, _one_of("radio", RADIOS)),
    ("region", "JP920", _one_of("region", REGIONS)),
    ("plan", {}, _plan),
    ("alarms", {}, _alarms),
    ("sensors", {}, _sensors),
    ("wisun", {}, _object("wisun")),
    ("board", "host", _board),
    ("lora", {}, _lora),
    ("consent", True, _consent),
    # the pedometer's step counter: "body" (pocket, belt, bag, armband, neck pouch, in hand) or
    # "wrist" (a wrist band: one arm swing per stride, counted as two steps)
    ("step_mode", "body", _one_of("step_mode", STEP_MODES)),
    ("sigfox", {}, _sigfox),
    ("spo2_cal", None, _spo2_cal),
)


def parse(obj):
    """Validate a config dict (as loaded from JSON); returns a new dict with `key` as bytes."""
    if not isinstance(obj, dict):
        raise ConfigError("config must be a JSON object")
    out = {}
    for name, default, check in ROWS:
        v = obj.get(name, default)
        if v is REQUIRED:
            raise ConfigError("config: missing %r" % name)
        out[name] = check(v, out)
    return out


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v):
    """A number that is neither NaN nor infinite (TOML allows nan and inf)."""
    return _number(v) and v - v == 0


def _good_calibration(cal):
    if not isinstance(cal, dict):
        return False
    pts = cal.get("points")
    if pts is None:
        return all(_finite(cal[k]) for k in ("slope", "offset") if k in cal)
    if not isinstance(pts, list) or len(pts) != 2:
        return False
    for p in pts:
        if not isinstance(p, list) or len(p) != 2 or not _finite(p[0]) or not _finite(p[1]):
            return False
    return pts[0][0] != pts[1][0]


def loads(text):
    try:
        obj = json.loads(text)
    except ValueError:
        raise ConfigError("config is not valid JSON")
    return parse(obj)


def load(path=CONFIG_PATH):
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        raise ConfigError("no device config at %s: flash one with `lpwa flash --config node.toml`" % path)
    return loads(text)


def to_json(cfg):
    """The file `lpwa flash` writes: the JSON form of a parsed config (key back to hex)."""
    out = {}
    for k in cfg:
        if k == "device_id":
            continue
        v = cfg[k]
        if k == "spo2_cal" and v is not None:   # back to percent, as the config file has it
            v = dict(zip(("a", "b", "c", "lo"), [x / 100 for x in v]))
        out[k] = v.hex() if isinstance(v, (bytes, bytearray)) else v
    return json.dumps(out)


def _plain(v, where):
    """TOML has dates and times; a config holds only what JSON can (the device reads JSON)."""
    if isinstance(v, dict):
        for k in v:
            _plain(v[k], "%s.%s" % (where, k))
    elif isinstance(v, list):
        for x in v:
            _plain(x, where)
    elif v is not None and not isinstance(v, (str, int, float, bool)):
        raise ConfigError("%s: a TOML date or time is not a config value" % where)


def from_node_toml(doc):
    """A node.toml, as a dict (tomllib on the host), -> the config dict `parse` takes.

    Either flat (device = "...", key = "...", kind = ...) or with a [device] table holding id,
    key, kind, radio, board, region; [lora], [plan], [alarms], [sensors], [wisun] as they are.
    """
    if not isinstance(doc, dict):
        raise ConfigError("node.toml must be a table")
    _plain(doc, "node.toml")
    out = {}
    dev = doc.get("device")
    if isinstance(dev, dict):
        for k in dev:
            out["device" if k == "id" else k] = dev[k]
    elif dev is not None:
        out["device"] = dev
    for k in doc:
        if k != "device":
            out[k] = doc[k]
    return out
