"""Home Assistant discovery against Home Assistant's own schemas and template engine.

Every discovery payload the real pipeline queues is validated with Home Assistant's MQTT discovery
schemas (tests/support/ha_mqtt.py, copied from Home Assistant Core 2026.4, cited there), and every
template is rendered with Jinja2, with HA's `value_json` and `this` variables and its
`timestamp_custom` filter, against the real messages of every frame type (reading, alarm, status;
full and compact) that the real codec encodes and the real pipeline turns into MQTT payloads.
"""

import datetime
import json

import jinja2
import pytest
import voluptuous as vol

from lpwa.codecs.frame import FrameEncoder
from lpwa.gateway.homeassistant import fields_of
from lpwa.gateway.pipeline import Pipeline
from support import ha_mqtt
from support.gateway import KEYS, KINDS, make_config

FULL = {
    "buoy": {"water_temp_c": 18.25, "wave_height_m": 1.2, "lat_deg": "35.681236", "lon_deg": "139.767125",
             "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.1},
    "drone-vital": {"heart_rate_bpm": 72, "spo2_pct": 98, "body_temp_c": 36.6, "lat_deg": "35.0",
                    "lon_deg": "139.0", "triage": 3, "battery_v": 3.8},
    "pedometer": {"steps": 120, "steps_total": 5000, "interval_start": 1764547200, "battery_v": 3.9,
                  "interval_s": 3600},
}
STATUS = {"battery_v": 3.6, "firmware": "1.4.2", "reset_reason": "watchdog", "uptime_s": 86400, "fault_flags": 2}


class This:
    """HA's `this` (the entity's current state object) as the template sees it."""

    def __init__(self, state, attributes=None):
        self.state = state
        self.attributes = attributes or {}


def timestamp_custom(value, fmt, local=True):
    """HA's timestamp_custom filter (homeassistant/helpers/template.py), local=False: UTC."""
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime(fmt)


ENV = jinja2.Environment(undefined=jinja2.StrictUndefined)  # an undefined attribute raises, as the issue saw
ENV.filters["timestamp_custom"] = timestamp_custom
ENV.filters["tojson"] = lambda v: json.dumps(v)


def render(text, message, this):
    return ENV.from_string(text).render(value_json=json.loads(message), this=this)


def pipeline_rows(tmp_path):
    """(discovery payloads by topic, uplink payloads) the real pipeline queued for every kind and frame type."""
    cfg = make_config(tmp_path, mqtt={"ha_discovery": True}, consent=True)
    p = Pipeline(cfg)
    counter = 0
    for device, kind in KINDS.items():
        for radio in ("lora", "sigfox"):
            enc = FrameEncoder(kind, int(device, 16), bytes.fromhex(KEYS[device]), radio=radio)
            for made in (enc.encode(counter + 1, FULL[kind]), enc.encode(counter + 2, FULL[kind], alarm=True),
                         enc.encode_status(counter + 3, STATUS)):
                counter += 1
                meta = {"device": device, "seq": counter} if radio == "sigfox" else {"rssi": -80.0}
                for raw in made:
                    assert p.ingest(radio, bytes(raw), meta, "test").accepted
    rows = p.queue.read_after(0, 10000)
    p.queue.close()
    configs = {t: json.loads(pl) for _, _, _, t, pl, _, r, _c in rows if t.startswith("homeassistant/")}
    ups = [(t, pl.decode()) for _, _, _, t, pl, _, _, _c in rows if t.endswith("/up")]
    return configs, ups


@pytest.fixture(scope="module")
def queued(tmp_path_factory):
    return pipeline_rows(tmp_path_factory.mktemp("ha"))


def test_every_discovery_payload_passes_home_assistants_schema(queued):
    configs, _ = queued
    # every field of the kind and of the status frame, a position (lat + lon) being one device_tracker
    assert len(configs) == sum(len(fields_of(k)) - ("lon_deg" in fields_of(k)) for k in KINDS.values()) == 40
    for topic, payload in configs.items():
        component = topic.split("/")[1]
        out = ha_mqtt.validate(component, payload)
        assert "object_id" not in payload
        assert payload["default_entity_id"] == "%s.%s" % (component, payload["unique_id"])
        if component == "sensor":
            assert out["expire_after"] > 0  # a silent node goes unavailable


def test_the_schema_copy_refuses_what_the_issue_found():
    ok = {"state_topic": "a/b", "unique_id": "x", "value_template": "{{ value_json.x }}"}
    ha_mqtt.validate("sensor", ok)
    for bad in ({"object_id": "x"}, {"device_class": "temperature", "unit_of_measurement": "steps"},
                {"device_class": "timestamp", "state_class": "measurement"},
                {"value_template": "{{ value_json.x "}, {"device_class": "enum", "options": ["a"], "state_class": "total"}):
        with pytest.raises(vol.Invalid):
            ha_mqtt.validate("sensor", dict(ok, **bad))
    with pytest.raises(vol.Invalid):
        ha_mqtt.validate("device_tracker", {"unique_id": "x"})


def _check_state(cfg, state):
    if state == "prev":
        return
    if cfg.get("device_class") == "timestamp":
        assert datetime.datetime.fromisoformat(state).tzinfo is not None
    elif "options" in cfg:
        assert state in cfg["options"]
    elif cfg.get("unit_of_measurement") or cfg.get("state_class"):
        float(state)  # HA refuses a non-numeric state for a sensor with a unit or state class


def test_every_template_renders_against_every_frame_type(queued):
    configs, ups = queued
    seen = set()
    for topic, cfg in configs.items():
        own = [pl for t, pl in ups if t == cfg.get("state_topic", cfg.get("json_attributes_topic"))]
        assert own and {json.loads(m)["type"] for m in own} == {"reading", "alarm", "status"}
        for message in own:
            body = json.loads(message)
            if "value_template" in cfg:
                state = render(cfg["value_template"], message, This("prev")).strip()
                _check_state(cfg, state)
                if state != "prev":
                    seen.add(topic.split("/")[3])
            if "json_attributes_template" in cfg:
                attrs = json.loads(render(cfg["json_attributes_template"], message, This("home", {"k": 1})))
                if "lat_deg" in body["readings"]:
                    assert abs(attrs["latitude"] - body["readings"]["lat_deg"]["value"]) < 1e-9
                    assert -180 <= attrs["longitude"] <= 180
                    seen.add("position")
                else:
                    assert attrs == {"k": 1}
            for name in cfg.get("availability", []):
                assert render(name["value_template"], '{"state": "online"}', None) == "online"
    assert {"firmware", "interval_start", "triage", "reset_reason", "water_temp_c", "position"} <= seen


def test_fields_are_typed_for_statistics_and_units(queued):
    configs, ups = queued
    by_field = {t.split("/")[3]: c for t, c in configs.items() if "_0a1b2c3d/" in t or "_55667788/" in t}
    assert by_field["water_temp_c"]["device_class"] == "temperature"
    assert by_field["water_temp_c"]["state_class"] == "measurement"
    assert by_field["steps_total"]["state_class"] == "total_increasing"
    assert "unit_of_measurement" not in by_field["firmware"]
    assert by_field["interval_start"]["device_class"] == "timestamp"
    ped = [m for t, m in ups if "/55667788/" in t and json.loads(m)["type"] == "reading"][0]
    assert render(by_field["interval_start"]["value_template"], ped, This("prev")) == "2025-12-01T00:00:00+00:00"
    fw = [m for t, m in ups if "/0a1b2c3d/" in t and json.loads(m)["type"] == "status"][0]
    assert render(by_field["firmware"]["value_template"], fw, This("prev")) == "1.4.2"
    assert render(by_field["water_temp_c"]["value_template"], fw, This("18.25")) == "18.25"  # status keeps it
