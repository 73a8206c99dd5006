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
from lpwa.gateway.options import ConfigError, Row, as_row, at_least, between, max_utf8, one_of, raises, section

__all__ = ["ConfigError", "Row", "SCHEMA", "DEVICE_SCHEMA", "load", "from_dict", "parse_url", "parse_hostport",
           "redacted", "source_options"]
SECRET_KEYS = ("password", "key", "secret", "tls_key")
_HEX8 = re.compile(r"^[0-9a-f]{8}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_TOPIC_WORD = re.compile(r"^[A-Za-z0-9_.-]+$")


def _topic_word(v):
    return None if v and _TOPIC_WORD.match(v) else "must be letters, digits, '_', '-' or '.' (it is a topic level)"


def _topic_levels(v):
    return None if all(_TOPIC_WORD.match(level) for level in v.split("/")) else \
        "must be topic levels without wildcards"


def _hostport_or_empty(v):
    return _raises_hostport(v) if v else None


_MQTT_STRING = max_utf8(65535, "longer than MQTT allows (65535 bytes)")  # 16-bit length; no value: may be secret

# section -> key -> Row(type, default, help, check): the one declaration of every gateway key
SCHEMA = {
    "gateway": {
        "id": Row(str, "lpwa-gateway", "gateway name, used in MQTT topics and the client id", _topic_word),
        "state_dir": Row(str, "/var/lib/lpwa", "where the durable queue, device state and status.json live"),
        "log_format": Row(str, "json", "json (one object a line) or text", one_of("json", "text")),
        "log_level": Row(str, "info", "debug, info, warning or error", one_of("debug", "info", "warning", "error")),
    },
    "mqtt": {
        "url": Row(str, "mqtt://127.0.0.1:1883", "broker URL: mqtt://host:port or mqtts://host:port (TLS)",
                   None),  # checked by parse_url below (it is defined after the rows)
        "username": Row(str, "", "broker user name", _MQTT_STRING),
        "password": Row(str, "", "broker password (never logged)", _MQTT_STRING),
        "protocol": Row(int, 5, "MQTT protocol: 5 or 311", one_of(5, 311)),
        "qos": Row(int, 1, "QoS of uplink publishes: 0, 1 or 2 (zero loss needs 1 or 2)", one_of(0, 1, 2)),
        "topic_prefix": Row(str, "lpwa", "first topic level", _topic_levels),
        "raw_topic": Row(bool, False, "also publish the raw frame bytes to .../<device>/raw"),
        "ha_discovery": Row(bool, False, "publish Home Assistant MQTT discovery configs"),
        "ha_prefix": Row(str, "homeassistant", "Home Assistant discovery prefix", _topic_levels),
        "ha_expire_after": Row(int, 7200, "seconds without a frame before Home Assistant shows a node unavailable",
                               at_least(1)),
        "tls_ca": Row(str, "", "CA certificate file; setting it (or mqtts://) turns TLS on"),
        "tls_cert": Row(str, "", "client certificate file (mutual TLS)"),
        "tls_key": Row(str, "", "client private key file (mutual TLS)"),
        "tls_insecure": Row(bool, False, "skip the server host name check (testing only)"),
        "client_id": Row(str, "", "MQTT client id; default lpwa-<gateway id>", _MQTT_STRING),
        "keepalive": Row(int, 30, "seconds between keep-alive pings", between(5, 65535)),  # a 16-bit CONNECT field
        "puback_timeout": Row(int, 10, "seconds the oldest publish in flight (or the CONNACK) may wait before the broker "
                              "counts as stalled and the connection is renewed (well under the keep-alive)",
                              between(1, 3600, "s")),
        "personal_expiry": Row(int, 3600, "MQTT 5 message expiry of personal-data publishes, in seconds from reception; "
                               "older ones are not published, the broker drops undelivered ones; 0 = never",
                               between(0, 4294967295, "s")),
        "sink_process": Row(bool, False, "run the MQTT sink in a process of its own (uses a second CPU core)"),
    },
    "queue": {
        "max_frames": Row(int, 100000, "size cap of the durable queue; new frames are refused beyond it", at_least(1)),
        "max_inflight": Row(int, 100, "publishes awaiting the broker's acknowledgement at once", between(1, 65535)),
        "synchronous": Row(str, "normal", "SQLite synchronous: normal (survives a crash) or full (also power loss)",
                           one_of("normal", "full")),
        "batch": Row(int, 500, "rows read or deleted per SQLite transaction by the sink", at_least(1)),
    },
    "metrics": {
        "listen": Row(str, "", "host:port for Prometheus text at /metrics and JSON at /status; empty = off",
                      _hostport_or_empty),
    },
    "consent": {
        "file": Row(str, "", "TOML file {devices = {\"0a1b2c3d\" = true}}, reloaded on SIGHUP"),
    },
}

DEVICE_SCHEMA = {
    "id": Row(str, None, "device id, 8 lowercase hex characters",
              lambda v: None if _HEX8.match(v.lower()) else "must be 8 hex characters"),
    "key": Row(str, None, "device key, 32 hex characters (never logged)",
               lambda v: None if _HEX32.match(v) else "must be 32 hex characters"),  # no value: it is a secret
    "kind": Row(str, None, "buoy, drone-vital or pedometer",
                lambda v: None if v in KINDS else "must be one of %s" % ", ".join(KINDS)),
    "consent": Row(bool, False, "whether personal-data kinds from this device may be published"),
    "name": Row(str, "", "a human name, used by Home Assistant discovery"),
    "expire_after": Row(int, 0, "this node's Home Assistant expire_after in seconds (0: mqtt.ha_expire_after)",
                        at_least(0)),
}
ENABLED = Row(bool, True, "run this source (a listed section is on unless enabled = false)")


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
    for given in raw:
        if given not in known:
            raise ConfigError("%s: unknown section" % given)
    out = {}
    for name, keys in SCHEMA.items():
        out[name] = section(name, raw.get(name, {}), keys)
    _check_together(out)
    out["devices"] = _devices(raw.get("devices", []))
    out["sources"] = _sources(raw.get("sources", {}))
    return out


def _check_together(c):
    """What no single row can check: keys that go together."""
    m = c["mqtt"]
    if bool(m["tls_cert"]) != bool(m["tls_key"]):
        raise ConfigError("mqtt.tls_cert: tls_cert and tls_key go together")


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
        d = section(where, dev, DEVICE_SCHEMA)
        d["id"] = d["id"].lower()
        d["key"] = d["key"].lower()
        if d["id"] in seen:
            raise ConfigError("%s.id: device %s is listed twice" % (where, d["id"]))
        seen.add(d["id"])
        out.append(d)
    return out


def source_registry():
    """The sources' REGISTRY (name -> module path)."""
    from lpwa.gateway.sources import REGISTRY

    return dict(REGISTRY)


def source_options(name, registry=None):
    """OPTIONS of source `name` plus the implicit `enabled` key."""
    registry = source_registry() if registry is None else registry
    try:
        module = importlib.import_module(registry[name])
    except KeyError:
        raise ConfigError("sources.%s: unknown source (known: %s)" % (name, ", ".join(sorted(registry)) or "none"))
    except ImportError as e:
        raise ConfigError("sources.%s: source module cannot be imported (%s)" % (name, e))
    options = {"enabled": ENABLED}
    options.update((key, as_row(spec)) for key, spec in getattr(module, "OPTIONS", {}).items())
    return options


def _sources(given):
    if not isinstance(given, dict):
        raise ConfigError("sources: must be a table of [sources.<name>] tables")
    registry = source_registry() if given else {}
    out = {}
    for name, options in given.items():
        out[name] = table = section("sources." + name, options, source_options(name, registry))
        # a source may check how its options fit together (e.g. sigfox needs a secret)
        check = getattr(importlib.import_module(registry[name]), "check", None)
        if check is not None and table["enabled"]:
            try:
                check(table)
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


SCHEMA["mqtt"]["url"] = SCHEMA["mqtt"]["url"]._replace(check=raises(parse_url))
_raises_hostport = raises(lambda v: parse_hostport("metrics.listen", v))


def reference_tables():
    """[(heading, rows)] of every gateway key, sources included, in README order."""
    tables = list(SCHEMA.items()) + [("[[devices]]", DEVICE_SCHEMA)]
    tables += [("sources." + name, source_options(name)) for name in sorted(source_registry())]
    return tables


README_BEGIN = "<!-- config-reference: rendered from lpwa.gateway.config rows; do not edit -->"
README_END = "<!-- end config-reference -->"


def reference_markdown():
    """The README's configuration reference table, rendered from the rows."""
    from lpwa.gateway.options import reference_rows

    return "\n".join([README_BEGIN] + reference_rows(reference_tables()) + [README_END])
