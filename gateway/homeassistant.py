"""Home Assistant MQTT discovery: one retained sensor config per reading field of each device.

Moved verbatim out of the pipeline (its content is reviewed separately); `Discovery.rows` is the
old `Pipeline._ha_rows`.
"""

import json

HA_UNITS = {"degC": "°C", "percent": "%", "pct": "%", "bpm": "bpm", "m": "m", "mps": "m/s", "V": "V",
            "mV": "mV", "hPa": "hPa", "steps": "steps", "s": "s"}


class Discovery:
    """Discovery rows for fields not announced yet in this process."""

    def __init__(self, config, prefix):
        self.gateway_id = config["gateway"]["id"]
        self.ha_prefix = config["mqtt"]["ha_prefix"]
        self.prefix = prefix
        self._devices = {d["id"]: d for d in config["devices"]}
        self._ha_done = set()

    def rows(self, msg, state_topic, personal, now):
        device, kind = msg["device"], msg["kind"]
        rows = []
        name = self._devices.get(device, {}).get("name") or "%s %s" % (kind, device)
        for field, reading in sorted((msg.get("readings") or {}).items()):
            if (device, field) in self._ha_done:
                continue
            self._ha_done.add((device, field))
            uid = "lpwa_%s_%s_%s" % (self.gateway_id, device, field)
            cfg = {"name": field.replace("_", " "), "unique_id": uid, "object_id": uid, "state_topic": state_topic,
                   "value_template": "{{ value_json.readings.%s.value }}" % field,
                   "availability_topic": self.prefix + "/status",
                   "availability_template": "{{ value_json.state }}",
                   "payload_available": "online", "payload_not_available": "offline",
                   "device": {"identifiers": ["lpwa_%s" % device], "name": name, "model": kind,
                              "manufacturer": "lpwa-edge"}}
            unit = reading.get("unit") if isinstance(reading, dict) else None
            if unit:
                cfg["unit_of_measurement"] = HA_UNITS.get(unit, unit)
            topic = "%s/sensor/lpwa_%s_%s/%s/config" % (self.ha_prefix, self.gateway_id, device, field)
            rows.append((device, personal, topic, json.dumps(cfg, separators=(",", ":")).encode(), 1, 1, now))
        return rows
