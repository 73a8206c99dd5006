"""Gateway configuration: TOML in, one validated dict out.

Every section has a fixed set of keys with a type and a default; anything else is an error that
names the key, so a typo never silently turns a feature off. Source sections are checked against
each source module's ``OPTIONS`` dict (``{"key": (type, default, "help")}``), so a new source
needs no change here. Error messages never carry the value of a secret.
"""

import importlib
import re

from lpwa.gateway import tomlfile

from lpwa.codecs.schema import KIND_NAMES as KINDS
SECRET_KEYS = ("password", "key", "secret", "tls_key")
_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_TOPIC_WORD = re.compile(r"^[A-Za-z0-9_.-]+$")


class ConfigError(ValueError):
    """A bad or unknown configuration key; the message starts with the dotted key name."""


# section -> key -> (type, default, help)
SCHEMA = {
    "gateway": {
        "id": (str, "lpwa-gateway", "gateway name, used in MQTT topics and the client id"),
        "state_dir": (str, "/var/lib/lpwa", "where the durable queue, device state and status.json live"),
        "log_format": (str, "json", "json (one object a line) or text"),
        "log_level": (str, "info", "debug, info, warning or error"),
    },
    "mqtt": {
        "url": (str, "mqtt://127.0.0.1:1883", "broker URL: mqtt://host:port or mqtts://host:port (TLS)"),
        "username": (str, "", "broker user name"),
        "password": (str, "", "broker password (never logged)"),
        "protocol": (int, 5, "MQTT protocol: 5 or 311"),
        "qos": (int, 1, "QoS of uplink publishes: 0, 1 or 2 (zero loss needs 1 or 2)"),
        "topic_prefix": (str, "lpwa", "first topic level"),
        "raw_topic": (bool, False, "also publish the raw frame bytes to .../<device>/raw"),
        "ha_discovery": (bool, False, "publish Home Assistant MQTT discovery configs"),
        "ha_prefix": (str, "homeassistant", "Home Assistant discovery prefix"),
        "tls_ca": (str, "", "CA certificate file; setting it (or mqtts://) turns TLS on"),
        "tls_cert": (str, "", "client certificate file (mutual TLS)"),
        "tls_key": (str, "", "client private key file (mutual TLS)"),
        "tls_insecure": (bool, False, "skip the server host name check (testing only)"),
        "client_id": (str, "", "MQTT client id; default lpwa-<gateway id>"),
        "keepalive": (int, 30, "seconds between keep-alive pings"),
        "sink_process": (bool, False, "run the MQTT sink in a process of its own (uses a second CPU core)"),
    },
    "queue": {
        "max_frames": (int, 100000, "size cap of the durable queue; new frames are refused beyond it"),
        "max_inflight": (int, 100, "publishes awaiting the broker's acknowledgement at once"),
        "synchronous": (str, "normal", "SQLite synchronous: normal (survives a crash) or full (also power loss)"),
        "batch": (int, 500, "rows read or deleted per SQLite transaction by the sink"),
    },
    "metrics": {
        "listen": (str, "", "host:port for Prometheus text at /metrics and JSON at /status; empty = off"),
    },
    "consent": {
        "file": (str, "", "TOML file {devices = {\"0a1b2c3d\" = true}}, reloaded on SIGHUP"),
    },
}

DEVICE_SCHEMA = {
    "id": (str, None, "device id, 8 lowercase hex characters"),
    "key": (str, None, "device key, 32 hex characters (never logged)"),
    "kind": (str, None, "buoy, drone-vital or pedometer"),
    "consent": (bool, False, "whether personal-data kinds from this device may be published"),
    "name": (str, "", "a human name, used by Home Assistant discovery"),
}


def load(path):
    """Read and validate a TOML config file."""
    try:
        raw = tomlfile.load(path)
    except tomlfile.TomlFileError as e:
        raise ConfigError(str(e))
    config = from_dict(raw)
    if config["consent"]["file"]:  # a file config names must exist and parse, now rather than at start
        from lpwa.gateway.consent import read_file

        read_file(config["consent"]["file"])
    return config


def from_dict(raw):
    """Validate a raw config dict (as TOML gives it) and fill in every default."""
    if not isinstance(raw, dict):
        raise ConfigError("config: must be a table")
    known = set(SCHEMA) | {"devices", "sources"}
    for name in raw:
        if name not in known:
            raise ConfigError("%s: unknown section" % name)
    out = {}
    for section, keys in SCHEMA.items():
        out[section] = _section(section, raw.get(section, {}), keys)
    _check_values(out)
    out["devices"] = _devices(raw.get("devices", []))
    out["sources"] = _sources(raw.get("sources", {}))
    return out


def _typed(name, value, kind):
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ConfigError("%s: must be %s" % (name, {bool: "true or false", int: "an integer",
                                                        float: "a number", str: "a string"}.get(kind, kind.__name__)))
    return value


def _section(section, given, keys, required=()):
    if not isinstance(given, dict):
        raise ConfigError("%s: must be a table" % section)
    for key in given:
        if key not in keys:
            raise ConfigError("%s.%s: unknown key" % (section, key))
    out = {}
    for key, spec in keys.items():
        name = "%s.%s" % (section, key)
        if key in given:
            out[key] = _typed(name, given[key], spec[0])
        elif spec[1] is None or key in required:
            raise ConfigError("%s: required" % name)
        else:
            out[key] = spec[1]
    return out


def _check_values(c):
    g, m, q = c["gateway"], c["mqtt"], c["queue"]
    if not g["id"] or not _TOPIC_WORD.match(g["id"]):
        raise ConfigError("gateway.id: must be letters, digits, '_', '-' or '.' (it is a topic level)")
    if g["log_format"] not in ("json", "text"):
        raise ConfigError("gateway.log_format: must be json or text")
    if g["log_level"] not in ("debug", "info", "warning", "error"):
        raise ConfigError("gateway.log_level: must be debug, info, warning or error")
    if m["protocol"] not in (5, 311):
        raise ConfigError("mqtt.protocol: must be 5 or 311")
    if m["qos"] not in (0, 1, 2):
        raise ConfigError("mqtt.qos: must be 0, 1 or 2")
    parse_url(m["url"])
    for key in ("topic_prefix", "ha_prefix"):
        if not all(_TOPIC_WORD.match(level) for level in m[key].split("/")):
            raise ConfigError("mqtt.%s: must be topic levels without wildcards" % key)
    for key in ("username", "password", "client_id"):  # MQTT strings have a 16-bit length
        if len(m[key].encode("utf-8", "replace")) > 65535:
            raise ConfigError("mqtt.%s: longer than MQTT allows (65535 bytes)" % key)  # no value: may be a secret
    if not 5 <= m["keepalive"] <= 65535:  # a 16-bit field in CONNECT: paho failed every connect on more
        raise ConfigError("mqtt.keepalive: must be 5..65535")
    if bool(m["tls_cert"]) != bool(m["tls_key"]):
        raise ConfigError("mqtt.tls_cert: tls_cert and tls_key go together")
    if q["max_frames"] < 1:
        raise ConfigError("queue.max_frames: must be at least 1")
    if not 1 <= q["max_inflight"] <= 65535:
        raise ConfigError("queue.max_inflight: must be 1..65535")
    if q["synchronous"] not in ("normal", "full"):
        raise ConfigError("queue.synchronous: must be normal or full")
    if q["batch"] < 1:
        raise ConfigError("queue.batch: must be at least 1")
    if c["metrics"]["listen"]:
        parse_hostport("metrics.listen", c["metrics"]["listen"])


def parse_url(url):
    """mqtt://host:port or mqtts://host:port -> (host, port, tls). Credentials belong in their own keys."""
    m = re.match(r"^(mqtts?)://([^/:@]+|\[[0-9a-fA-F:]+\])(?::(\d+))?/?$", url)
    if not m:
        raise ConfigError("mqtt.url: must look like mqtt://host:port or mqtts://host:port "
                          "(user name and password go in mqtt.username / mqtt.password)")
    tls = m.group(1) == "mqtts"
    port = int(m.group(3)) if m.group(3) else (8883 if tls else 1883)
    if not 0 < port < 65536:
        raise ConfigError("mqtt.url: port must be 1..65535")
    return m.group(2).strip("[]"), port, tls


def parse_hostport(name, text):
    """'host:port' -> (host, port), for listen keys."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError("%s: must be host:port" % name)
    return host.strip("[]") or "0.0.0.0", int(port)


def _devices(given):
    if not isinstance(given, list):
        raise ConfigError("devices: must be an array of tables ([[devices]])")
    out, seen = [], set()
    for i, dev in enumerate(given):
        where = "devices[%d]" % i
        d = _section(where, dev, DEVICE_SCHEMA)
        d["id"] = d["id"].lower()
        if not _HEX8.match(d["id"]):
            raise ConfigError("%s.id: must be 8 hex characters" % where)
        if not _HEX32.match(d["key"]):
            raise ConfigError("%s.key: must be 32 hex characters" % where)  # no value: it is a secret
        d["key"] = d["key"].lower()
        if d["kind"] not in KINDS:
            raise ConfigError("%s.kind: must be one of %s" % (where, ", ".join(KINDS)))
        if d["id"] in seen:
            raise ConfigError("%s.id: device %s is listed twice" % (where, d["id"]))
        seen.add(d["id"])
        out.append(d)
    return out


def source_registry():
    """The sources engineer's REGISTRY (name -> module path), or {} before it exists."""
    try:
        return dict(importlib.import_module("lpwa.gateway.sources").REGISTRY)
    except (ImportError, AttributeError):
        return {}


def source_options(name, registry=None):
    """OPTIONS of source `name` plus the implicit `enabled` key."""
    registry = source_registry() if registry is None else registry
    try:
        module = importlib.import_module(registry[name])
    except KeyError:
        raise ConfigError("sources.%s: unknown source (known: %s)" % (name, ", ".join(sorted(registry)) or "none"))
    except ImportError as e:
        raise ConfigError("sources.%s: source module cannot be imported (%s)" % (name, e))
    options = {"enabled": (bool, True, "run this source (a listed section is on unless enabled = false)")}
    options.update(getattr(module, "OPTIONS", {}))
    return options


def _sources(given):
    if not isinstance(given, dict):
        raise ConfigError("sources: must be a table of [sources.<name>] tables")
    registry = source_registry() if given else {}
    out = {}
    for name, options in given.items():
        out[name] = section = _section("sources." + name, options, source_options(name, registry))
        # a source may check how its options fit together (e.g. sigfox needs a secret)
        check = getattr(importlib.import_module(registry[name]), "check", None)
        if check is not None and section["enabled"]:
            try:
                check(section)
            except ValueError as e:
                raise ConfigError(str(e))
    return out


# SKSTACK commands in a Wi-SUN `init` that carry a secret: PAN password/PSK, B-route id; the last word goes
_SKSTACK_SECRET = re.compile(r"(\b(?:SKSETPWD|SKSETPSK)\s+\S+\s+|\bSKSETRBID\s+)[^\s;]+", re.IGNORECASE)


def redacted(config):
    """A copy safe to print or log: every secret replaced by '***' when set (also the password, PSK
    and B-route id inside SKSTACK `init` commands)."""
    def scrub(value, key=None):
        if key == "init" and isinstance(value, str):
            return _SKSTACK_SECRET.sub(r"\1***", value)
        if isinstance(value, dict):
            return {k: ("***" if k in SECRET_KEYS and v else scrub(v, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value
    return scrub(config)
