"""Home Assistant's MQTT discovery schemas (sensor, device_tracker), copied for the tests.

Copied from Home Assistant Core (https://github.com/home-assistant/core, Apache License 2.0,
Copyright the Home Assistant authors), as of release 2026.4 (object_id removed; default_entity_id,
added in 2025.10, in its place):
  homeassistant/components/mqtt/schemas.py      MQTT_AVAILABILITY_*, MQTT_ENTITY_DEVICE_INFO_SCHEMA,
                                                MQTT_ORIGIN_INFO_SCHEMA, MQTT_ENTITY_COMMON_SCHEMA
  homeassistant/components/mqtt/config.py       MQTT_BASE_SCHEMA, MQTT_RO_SCHEMA
  homeassistant/components/mqtt/sensor.py       _PLATFORM_SCHEMA_BASE, validate_sensor_state_and_device_class_config,
                                                DISCOVERY_SCHEMA
  homeassistant/components/mqtt/device_tracker.py  PLATFORM_SCHEMA_MODERN_BASE, valid_config, DISCOVERY_SCHEMA
  homeassistant/components/sensor/const.py      SensorDeviceClass, SensorStateClass, DEVICE_CLASS_UNITS,
                                                DEVICE_CLASS_STATE_CLASSES (the classes this project uses)
  homeassistant/helpers/config_validation.py    string, boolean, positive_int, icon, ensure_list, template
The schemas are the same voluptuous expressions; Home Assistant's helpers they call are reduced to
what they check (cv.template compiles the text with Jinja2, as HA's Template.ensure_valid does).
Home Assistant (2024.3.3 is the newest release on PyPI for this Python) is not installed: its
schemas predate default_entity_id. DISCOVERY_SCHEMA drops unknown keys (REMOVE_EXTRA), so
`validate` also reports every key the schema would silently drop: an `object_id` is an error.
"""

import jinja2
import voluptuous as vol

# --- homeassistant/helpers/config_validation.py (reduced) ---


def string(value):
    if value is None:
        raise vol.Invalid("string value is None")
    if isinstance(value, (list, dict)):
        raise vol.Invalid("value should be a string")
    return str(value)


def boolean(value):
    if isinstance(value, bool):
        return value
    raise vol.Invalid("invalid boolean value %r" % (value,))


positive_int = vol.All(vol.Coerce(int), vol.Range(min=0))


def icon(value):
    value = string(value)
    if ":" in value:
        return value
    raise vol.Invalid('Icons should be specified in the form "prefix:name"')


def ensure_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def template(value):
    """cv.template: a string that compiles as a Home Assistant (Jinja2) template."""
    if value is None or isinstance(value, (list, dict)):
        raise vol.Invalid("template value should be a string")
    try:
        jinja2.Environment().parse(str(value))
    except jinja2.TemplateSyntaxError as e:
        raise vol.Invalid("invalid template (%s)" % e)
    return str(value)


def configuration_url(value):
    value = string(value)
    if not value.startswith(("http://", "https://", "homeassistant://")):
        raise vol.Invalid("invalid url")
    return value


def valid_subscribe_topic(value):
    value = string(value)
    if not value or len(value.encode()) > 65535 or "\0" in value:
        raise vol.Invalid("invalid MQTT topic")
    for i, level in enumerate(value.split("/")):
        if "+" in level and level != "+" or "#" in level and (level != "#" or i != len(value.split("/")) - 1):
            raise vol.Invalid("invalid MQTT topic wildcard use")
    return value


valid_qos_schema = vol.All(vol.Coerce(int), vol.In([0, 1, 2]))
ENTITY_CATEGORIES_SCHEMA = vol.In(["config", "diagnostic"])

# --- homeassistant/components/sensor/const.py (the classes lpwa-edge uses, and their rules) ---
DEVICE_CLASS_UNITS = {
    "temperature": {"°C", "°F", "K"},
    "distance": {"km", "m", "cm", "mm", "mi", "nmi", "yd", "in", "ft"},
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "conductivity": {"S/cm", "mS/cm", "µS/cm"},
    "duration": {"d", "h", "min", "s", "ms", "µs"},
    "battery": {"%"},
}
NON_NUMERIC_DEVICE_CLASSES = {"date", "enum", "timestamp"}
DEVICE_CLASSES = set(DEVICE_CLASS_UNITS) | NON_NUMERIC_DEVICE_CLASSES | {"humidity", "pressure", "signal_strength"}
STATE_CLASSES = ["measurement", "measurement_angle", "total", "total_increasing"]
DEVICE_CLASS_STATE_CLASSES = {
    "temperature": {"measurement"}, "distance": {"measurement", "total", "total_increasing"},
    "voltage": {"measurement"}, "conductivity": {"measurement"},
    "duration": {"measurement", "total", "total_increasing"}, "enum": set(), "timestamp": set(), "date": set(),
}
DEVICE_CLASSES_SCHEMA = vol.All(vol.Lower, vol.In(DEVICE_CLASSES))
STATE_CLASSES_SCHEMA = vol.All(vol.Lower, vol.In(STATE_CLASSES))

# --- homeassistant/components/mqtt/schemas.py ---
MQTT_AVAILABILITY_SINGLE_SCHEMA = vol.Schema({
    vol.Exclusive("availability_topic", "availability"): valid_subscribe_topic,
    vol.Optional("availability_template"): template,
    vol.Optional("payload_available", default="online"): string,
    vol.Optional("payload_not_available", default="offline"): string,
})
MQTT_AVAILABILITY_LIST_SCHEMA = vol.Schema({
    vol.Optional("availability_mode", default="latest"): vol.All(string, vol.In(["all", "any", "latest"])),
    vol.Exclusive("availability", "availability"): vol.All(ensure_list, [{
        vol.Required("topic"): valid_subscribe_topic,
        vol.Optional("payload_available", default="online"): string,
        vol.Optional("payload_not_available", default="offline"): string,
        vol.Optional("value_template"): template,
    }]),
})
MQTT_AVAILABILITY_SCHEMA = MQTT_AVAILABILITY_SINGLE_SCHEMA.extend(MQTT_AVAILABILITY_LIST_SCHEMA.schema)


def validate_device_has_at_least_one_identifier(value):
    if value.get("identifiers") or value.get("connections"):
        return value
    raise vol.Invalid("Device must have at least one identifying value in 'identifiers' and/or 'connections'")


MQTT_ENTITY_DEVICE_INFO_SCHEMA = vol.All(vol.Schema({
    vol.Optional("identifiers", default=list): vol.All(ensure_list, [string]),
    vol.Optional("connections", default=list): vol.All(ensure_list, [vol.All(vol.Length(2), [string])]),
    vol.Optional("manufacturer"): string, vol.Optional("model"): string, vol.Optional("model_id"): string,
    vol.Optional("name"): string, vol.Optional("hw_version"): string, vol.Optional("serial_number"): string,
    vol.Optional("sw_version"): string, vol.Optional("via_device"): string, vol.Optional("suggested_area"): string,
    vol.Optional("configuration_url"): configuration_url,
}), validate_device_has_at_least_one_identifier)
MQTT_ORIGIN_INFO_SCHEMA = vol.Schema({
    vol.Required("name"): string, vol.Optional("sw_version"): string, vol.Optional("support_url"): configuration_url,
})
MQTT_ENTITY_COMMON_SCHEMA = MQTT_AVAILABILITY_SCHEMA.extend({
    vol.Optional("device"): MQTT_ENTITY_DEVICE_INFO_SCHEMA,
    vol.Optional("origin"): MQTT_ORIGIN_INFO_SCHEMA,
    vol.Optional("enabled_by_default", default=True): boolean,
    vol.Optional("entity_category"): ENTITY_CATEGORIES_SCHEMA,
    vol.Optional("entity_picture"): configuration_url,
    vol.Optional("icon"): icon,
    vol.Optional("json_attributes_topic"): valid_subscribe_topic,
    vol.Optional("json_attributes_template"): template,
    vol.Optional("default_entity_id"): string,
    vol.Optional("unique_id"): string,
})

# --- homeassistant/components/mqtt/config.py ---
MQTT_BASE_SCHEMA = vol.Schema({vol.Optional("qos", default=0): valid_qos_schema})
MQTT_RO_SCHEMA = MQTT_BASE_SCHEMA.extend({
    vol.Required("state_topic"): valid_subscribe_topic,
    vol.Optional("value_template"): template,
    vol.Optional("encoding", default="utf-8"): string,
})

# --- homeassistant/components/mqtt/sensor.py ---
_SENSOR_BASE = MQTT_RO_SCHEMA.extend({
    vol.Optional("device_class"): vol.Any(DEVICE_CLASSES_SCHEMA, None),
    vol.Optional("expire_after"): positive_int,
    vol.Optional("force_update", default=False): boolean,
    vol.Optional("last_reset_value_template"): template,
    vol.Optional("name"): vol.Any(string, None),
    vol.Optional("options"): ensure_list,
    vol.Optional("suggested_display_precision"): positive_int,
    vol.Optional("state_class"): vol.Any(STATE_CLASSES_SCHEMA, None),
    vol.Optional("unit_of_measurement"): vol.Any(string, None),
}).extend(MQTT_ENTITY_COMMON_SCHEMA.schema)


def validate_sensor_state_and_device_class_config(config):
    if "last_reset_value_template" in config and config.get("state_class") != "total":
        raise vol.Invalid("The option `last_reset_value_template` cannot be used together with state class `%s`"
                          % config.get("state_class"))
    if (options := config.get("options")) is not None:
        if not options:
            raise vol.Invalid("An empty options list is not allowed")
        if config.get("state_class") or config.get("unit_of_measurement"):
            raise vol.Invalid("Specifying `options` is not allowed together with the `state_class` or "
                              "`unit_of_measurement` option")
        if config.get("device_class") != "enum":
            raise vol.Invalid("The option `options` must be used together with device class `enum`")
    return config


SENSOR_DISCOVERY_SCHEMA = vol.All(_SENSOR_BASE.extend({}, extra=vol.REMOVE_EXTRA),
                                  validate_sensor_state_and_device_class_config)

# --- homeassistant/components/mqtt/device_tracker.py ---
_TRACKER_BASE = MQTT_BASE_SCHEMA.extend({
    vol.Optional("name"): vol.Any(string, None),
    vol.Optional("payload_home", default="home"): string,
    vol.Optional("payload_not_home", default="not_home"): string,
    vol.Optional("payload_reset", default="None"): string,
    vol.Optional("source_type", default="gps"): vol.In(["bluetooth", "bluetooth_le", "gps", "router"]),
    vol.Optional("state_topic"): valid_subscribe_topic,
    vol.Optional("value_template"): template,
}).extend(MQTT_ENTITY_COMMON_SCHEMA.schema)


def valid_tracker_config(config):
    if "state_topic" not in config and "json_attributes_topic" not in config:
        raise vol.Invalid("At least `state_topic` or `json_attributes_topic` must be set")
    return config


TRACKER_DISCOVERY_SCHEMA = vol.All(_TRACKER_BASE.extend({}, extra=vol.REMOVE_EXTRA), valid_tracker_config)
SCHEMAS = {"sensor": SENSOR_DISCOVERY_SCHEMA, "device_tracker": TRACKER_DISCOVERY_SCHEMA}


def sensor_entity_rules(config):
    """The sensor entity's own checks (homeassistant/components/sensor/__init__.py): unit and state
    class fit the device class; a non-numeric class has no unit and no state class."""
    dc, unit, sc = config.get("device_class"), config.get("unit_of_measurement"), config.get("state_class")
    if dc in NON_NUMERIC_DEVICE_CLASSES and (unit or sc):
        raise vol.Invalid("sensor of device class %s must not have a unit or state class" % dc)
    if dc in DEVICE_CLASS_UNITS and unit not in DEVICE_CLASS_UNITS[dc]:
        raise vol.Invalid("unit %r is not valid for device class %s" % (unit, dc))
    if dc in DEVICE_CLASS_STATE_CLASSES and sc and sc not in DEVICE_CLASS_STATE_CLASSES[dc]:
        raise vol.Invalid("state class %s is not valid for device class %s" % (sc, dc))


def validate(component, payload):
    """Validated config, as Home Assistant's discovery would take it; raises vol.Invalid, also for a
    key the schema does not know (it would be dropped without a word)."""
    out = SCHEMAS[component](dict(payload))
    dropped = set(payload) - set(out)
    if dropped:
        raise vol.Invalid("keys %s are not in Home Assistant's %s discovery schema" % (sorted(dropped), component))
    if component == "sensor":
        sensor_entity_rules(out)
    return out
