"""The config `lpwa flash` validated is read at boot without the validator, to the same dict parse()
gives; a file that is not the stamped one (edited, another version's, no stamp) goes through it."""

import json

import pytest

from lpwa.firmware import app, config, config_stamp
from lpwa.tools.cli.flash import write_device_config
from lpwa.tools.cli.node import sim_config

SPO2_CAL = {"a": 110.0, "b": -25.0, "c": 0.0, "lo": 70}


def _configs():
    for kind in ("buoy", "drone-vital", "pedometer"):
        for radio in ("lora", "sigfox", "wisun"):
            yield sim_config(kind, radio)
    doc = json.loads(sim_config("drone-vital", "lora"))
    doc["spo2_cal"] = SPO2_CAL
    yield config.to_json(config.parse(doc))


@pytest.mark.parametrize("cfg_json", list(_configs()))
def test_a_stamped_config_reads_as_the_validator_parses_it(tmp_path, cfg_json):
    path = write_device_config(str(tmp_path), "lpwa_config.json", cfg_json)
    got = config_stamp.read(path)
    assert got == config.loads(cfg_json)
    assert app.load_config(path) == got


def test_a_config_changed_after_stamping_goes_through_the_validator(tmp_path):
    path = write_device_config(str(tmp_path), "lpwa_config.json", sim_config("buoy", "lora"))
    doc = json.loads(open(path).read())
    doc["plan"]["interval_s"] = 5  # below the minimum: only the validator knows
    with open(path, "w") as f:
        f.write(json.dumps(doc))
    assert config_stamp.read(path) is None
    with pytest.raises(config.ConfigError):
        app.load_config(path)


def test_another_versions_stamp_or_none_is_not_trusted(tmp_path):
    path = write_device_config(str(tmp_path), "lpwa_config.json", sim_config("pedometer", "wisun"))
    with open(config_stamp.stamp_path(path), "rb") as f:
        mark = f.read()
    with open(config_stamp.stamp_path(path), "wb") as f:
        f.write(mark.split(b" ")[0] + b" 0.0.0")
    assert config_stamp.read(path) is None
    assert app.load_config(path) == config.loads(sim_config("pedometer", "wisun"))  # validated instead
    (tmp_path / "lpwa_config.json.ok").unlink()
    assert config_stamp.read(path) is None
