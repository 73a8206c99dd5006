"""What a subscriber sees: one decoded message -> the outbox rows (topic, JSON payload) to publish.

The JSON of `<prefix>/<kind>/<device>/up` is built here and nowhere else (the raw topic and Home
Assistant discovery rows beside it). Payloads are compact JSON without NaN or Infinity, so strict
parsers (JavaScript's JSON.parse, Go) accept every message.
"""

import datetime
import json

from lpwa.gateway.consent import is_personal
from lpwa.gateway.homeassistant import Discovery


def _json_default(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_json_default, check_circular=False,  # bodies are trees
                            allow_nan=False)


def _finite(value):
    """`value` with every NaN/Infinity float replaced by None: a forwarder's `"rssi": NaN` must not make
    the published message invalid JSON for strict parsers (JavaScript's JSON.parse, Go, ...)."""
    if isinstance(value, float):
        return value if value - value == 0 else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _no_negative_zero(meta):
    """rx metadata with -0.0 as 0.0: forwarders print `"lsnr": -0.0` for an SNR of -0.04 dB."""
    if not any(isinstance(v, float) and v == 0.0 for v in meta.values()):
        return meta
    return {k: (0.0 if isinstance(v, float) and v == 0.0 else v) for k, v in meta.items()}


def encode(body):
    """Compact JSON text of `body` (non-finite floats become null)."""
    try:
        return _ENCODER.encode(body)
    except ValueError:  # a non-finite float somewhere (rare): the slow path
        return _ENCODER.encode(_finite(body))


def iso_time(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


class Messages:
    """Builds outbox rows (device, personal, topic, payload, qos, retain, created) for one gateway."""

    def __init__(self, config):
        self.gateway_id = config["gateway"]["id"]
        mqtt = config["mqtt"]
        self.prefix = "%s/%s" % (mqtt["topic_prefix"], self.gateway_id)
        self.qos = mqtt["qos"]
        self.raw_topic = mqtt["raw_topic"]
        self.discovery = Discovery(config, self.prefix) if mqtt["ha_discovery"] else None
        self.now_text = ""  # iso_time of the current batch, set once per transaction

    def consent_notice(self, device, granted, now):
        """The retained `<prefix>/consent/<device>` row: what subscribers act on when consent is withdrawn
        (delete what they hold of the device; messages already with the broker cannot be recalled)."""
        body = {"device": device, "consent": "granted" if granted else "withdrawn", "since": iso_time(now),
                "ts": now, "gateway": self.gateway_id}
        return (device, 0, "%s/consent/%s" % (self.prefix, device), encode(body).encode(), max(self.qos, 1), 1, now)

    def rows(self, msg, radio, meta, source, now):
        device, kind = msg["device"], msg["kind"]
        personal = 1 if is_personal(kind) else 0
        base = "%s/%s/%s" % (self.prefix, kind, device)
        body = {k: v for k, v in msg.items() if k != "raw_hex"}
        body["gateway"] = self.gateway_id
        body["radio"] = radio
        body["source"] = source
        body["rx"] = _no_negative_zero(meta)
        body["time"] = self.now_text
        body["ts"] = now
        payload = encode(body).encode()
        rows = [(device, personal, base + "/up", payload, self.qos, 0, now)]
        if self.raw_topic and msg.get("raw_hex"):
            rows.append((device, personal, base + "/raw", bytes.fromhex(msg["raw_hex"]), self.qos, 0, now))
        if self.discovery is not None:
            rows.extend(self.discovery.rows(msg, base + "/up", personal, now))
        return rows
