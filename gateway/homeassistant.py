"""Home Assistant MQTT discovery: retained configs for every field of a device, sent at its first message.

Each reading field is a `sensor` with the device_class / state_class / unit Home Assistant needs
for statistics and unit conversion; a position is one `device_tracker` (latitude/longitude as
JSON attributes); `interval_start` is a `timestamp` sensor (ISO 8601). Every entity reads the one
`.../<device>/up` topic, and every template falls back to the entity's current state (`this.state`)
when the message does not carry its field, so a status frame never blanks (or breaks) a reading
sensor and the other way round. Availability is the gateway's status topic AND each sensor's
`expire_after`: a node that stops sending goes unavailable. Entity ids are set with
`default_entity_id` (`object_id` is removed in Home Assistant 2026.4). The payloads are checked
against Home Assistant's own discovery schemas in tests/gateway/test_homeassistant.py.
"""

import json

from lpwa.codecs.schema import KINDS, RESET_REASONS, STATUS_FIELDS

TRIAGE = ("unassessed", "minor", "delayed", "immediate", "expectant")
# field -> sensor options: Home Assistant's device classes, state classes and units
SENSORS = {
    "water_temp_c": {"device_class": "temperature", "state_class": "measurement", "unit_of_measurement": "°C"},
    "body_temp_c": {"device_class": "temperature", "state_class": "measurement", "unit_of_measurement": "°C"},
    "wave_height_m": {"device_class": "distance", "state_class": "measurement", "unit_of_measurement": "m"},
    "battery_v": {"device_class": "voltage", "state_class": "measurement", "unit_of_measurement": "V"},
    "salinity_psu": {"state_class": "measurement", "unit_of_measurement": "PSU", "icon": "mdi:shaker-outline"},
    "conductivity_ms_cm": {"device_class": "conductivity", "state_class": "measurement",
                           "unit_of_measurement": "mS/cm"},
    "heart_rate_bpm": {"state_class": "measurement", "unit_of_measurement": "bpm", "icon": "mdi:heart-pulse"},
    "spo2_pct": {"state_class": "measurement", "unit_of_measurement": "%", "icon": "mdi:water-percent"},
    "triage": {"device_class": "enum", "options": list(TRIAGE)},
    "spo2_flags": {"entity_category": "diagnostic", "icon": "mdi:flag-outline"},  # 1 uncalibrated, 2 below range
    "steps": {"state_class": "measurement", "unit_of_measurement": "steps", "icon": "mdi:walk"},
    "steps_total": {"state_class": "total_increasing", "unit_of_measurement": "steps", "icon": "mdi:walk"},
    "interval_start": {"device_class": "timestamp"},
    "interval_s": {"device_class": "duration", "state_class": "measurement", "unit_of_measurement": "s"},
    "fault_flags": {"entity_category": "diagnostic", "icon": "mdi:alert-circle-outline"},
    "firmware": {"entity_category": "diagnostic"},  # "1.4.2": text, so no unit and no state class
    "reset_reason": {"device_class": "enum", "options": list(RESET_REASONS), "entity_category": "diagnostic"},
    "uptime_s": {"device_class": "duration", "state_class": "total_increasing", "unit_of_measurement": "s",
                 "entity_category": "diagnostic"},
}


def _value(field):
    """Jinja2 for the field's state: the value when this message has it, else the current state."""
    r = "value_json.readings.%s" % field
    if field == "interval_start":  # Unix seconds -> ISO 8601 UTC (HA's timestamp_custom filter)
        v = "(%s.value | int) | timestamp_custom('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', false)" % r
    elif field == "triage":
        v = "%s[%s.value | int]" % (list(TRIAGE), r)
    elif field == "reset_reason":
        v = "%s.value if %s.value is string else %s[%s.value | int]" % (r, r, list(RESET_REASONS), r)
    else:
        v = "%s.value" % r
    return ("{%% if value_json.readings is mapping and '%s' in value_json.readings and %s.value is not none %%}"
            "{{ %s }}{%% else %%}{{ this.state }}{%% endif %%}") % (field, r, v)


_POSITION_ATTRS = ("{%% if value_json.readings is mapping and 'lat_deg' in value_json.readings and "
                   "'lon_deg' in value_json.readings %%}"
                   "{{ {'latitude': value_json.readings.lat_deg.value, 'longitude': value_json.readings.lon_deg.value,"
                   " 'gps_accuracy': %d} | tojson }}{%% else %%}{{ this.attributes | tojson }}{%% endif %%}")


def fields_of(kind):
    """Every field a device of `kind` can report: its kind's fields, then the status frame's."""
    names = [f[0] for f in KINDS[kind]["fields"]]
    return names + [f[0] for f in STATUS_FIELDS if f[0] not in names]


class Discovery:
    """Discovery rows for devices not announced yet in this process."""

    def __init__(self, config, prefix):
        self.gateway_id = config["gateway"]["id"]
        mqtt = config["mqtt"]
        self.ha_prefix = mqtt["ha_prefix"]
        self.expire_after = mqtt.get("ha_expire_after", 7200)
        self.prefix = prefix
        self._devices = {d["id"]: d for d in config["devices"]}
        self._done = set()

    def _common(self, device, kind, field, state_topic):
        dev = self._devices.get(device, {})
        uid = "lpwa_%s_%s_%s" % (self.gateway_id, device, field)
        return {"name": field.replace("_", " "), "unique_id": uid,
                "availability": [{"topic": self.prefix + "/status", "value_template": "{{ value_json.state }}",
                                  "payload_available": "online", "payload_not_available": "offline"}],
                "device": {"identifiers": ["lpwa_%s" % device], "name": dev.get("name") or "%s %s" % (kind, device),
                           "model": kind, "manufacturer": "lpwa-edge"},
                "origin": {"name": "lpwa-edge"}, "qos": 1, "_uid": uid, "_state_topic": state_topic}

    def configs(self, device, kind, state_topic):
        """-> [(component, field, config dict)] for every entity of one device."""
        expire = self._devices.get(device, {}).get("expire_after") or self.expire_after
        out = []
        for field in fields_of(kind):
            if field == "lon_deg":
                continue
            cfg = self._common(device, kind, "position" if field == "lat_deg" else field, state_topic)
            uid, topic = cfg.pop("_uid"), cfg.pop("_state_topic")
            if field == "lat_deg":
                cfg.update({"name": "position", "json_attributes_topic": topic, "source_type": "gps",
                            "json_attributes_template": _POSITION_ATTRS % 50,
                            "default_entity_id": "device_tracker." + uid})
                out.append(("device_tracker", "position", cfg))
                continue
            cfg.update(SENSORS.get(field, {}))
            cfg.update({"state_topic": topic, "value_template": _value(field), "expire_after": expire,
                        "default_entity_id": "sensor." + uid})
            out.append(("sensor", field, cfg))
        return out

    def rows(self, msg, state_topic, personal, now):
        device, kind = msg["device"], msg["kind"]
        if device in self._done or kind not in KINDS:
            return []
        self._done.add(device)
        rows = []
        for component, field, cfg in self.configs(device, kind, state_topic):
            topic = "%s/%s/lpwa_%s_%s/%s/config" % (self.ha_prefix, component, self.gateway_id, device, field)
            rows.append((device, personal, topic, json.dumps(cfg, separators=(",", ":")).encode(), 1, 1, now))
        return rows
