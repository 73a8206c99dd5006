"""The source registry and each module's contract: NAME, OPTIONS (type, default, help), Source."""

import asyncio
import inspect

import pytest

from lpwa.gateway import config as config_mod
from lpwa.gateway import sources
from lpwa.gateway.options import as_row
from support.fakes import FakePipeline


@pytest.mark.parametrize("name", sorted(sources.REGISTRY))
def test_module_contract(name):
    module = sources.load(name)
    assert module.NAME == name
    for key, spec in module.OPTIONS.items():
        row = as_row(spec)  # a (type, default, help) tuple or a Row with its check
        kind, default, help_text = row.type, row.default, row.help
        assert row.check is None or callable(row.check), key
        assert kind in (str, int, float, bool) and isinstance(default, kind), key
        assert help_text and key != "enabled"
    cls = module.Source
    assert inspect.iscoroutinefunction(cls.start) and inspect.iscoroutinefunction(cls.stop)
    options = {"secret": "x"} if name == "sigfox" else {}
    source = sources.create(name, options, FakePipeline(), "gw")
    for counter in ("received", "accepted", "rejected", "malformed", "errors"):
        assert source.stats[counter] == 0
    assert (source.done is not None) == (name == "replay")
    if name == "replay":
        assert isinstance(source.done, asyncio.Event)


@pytest.mark.parametrize("name", sorted(sources.REGISTRY))
def test_config_validates_each_section_with_the_modules_options(name):
    section = {"secret": "x"} if name == "sigfox" else {}
    cfg = config_mod.from_dict({"sources": {name: section}})
    module = sources.load(name)
    for key, spec in module.OPTIONS.items():
        if key not in section:
            assert cfg["sources"][name][key] == spec[1]
    with pytest.raises(config_mod.ConfigError, match="sources.%s.bogus: unknown key" % name):
        config_mod.from_dict({"sources": {name: {"bogus": 1}}})


def test_unknown_source_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown source 'zigbee'"):
        sources.load("zigbee")


def test_listen_parsing():
    from lpwa.gateway.sources.base import parse_listen
    assert parse_listen("0.0.0.0:1700") == ("0.0.0.0", 1700)
    assert parse_listen("[::1]:8080") == ("::1", 8080)
    assert parse_listen(":9") == ("0.0.0.0", 9)
    for bad in ("1700", "host:", "host:99999", "host:x"):
        with pytest.raises(ValueError, match="listen"):
            parse_listen(bad)


@pytest.mark.parametrize("section, bad", [
    ("wisun", {"reconnect_max_s": -1.0}), ("wisun", {"reconnect_max_s": 0.0}),
    ("wisun", {"reconnect_max_s": float("nan")}), ("wisun", {"baudrate": -5}),
    ("lora_serial", {"reconnect_max_s": -1.0}), ("lora_serial", {"baudrate": 0}),
    ("udp", {"rx_delay_s": float("nan")}), ("udp", {"rx_delay_s": -1.0}), ("udp", {"rx_delay_s": 1e300}),
])
def test_option_values_that_would_spin_or_crash_are_config_errors(section, bad):
    """A negative or NaN back-off retried a missing serial port in a busy loop (100 % CPU); a bad
    baud rate looked like a missing port forever; a NaN rx_delay_s crashed every downlink (int(nan))
    and so withheld the PUSH_ACK; one past the 32-bit tmst wrap cannot be meant."""
    key = next(iter(bad))
    with pytest.raises(config_mod.ConfigError, match=r"^sources\.%s\.%s: " % (section, key)):
        config_mod.from_dict({"sources": {section: bad}})
    config_mod.from_dict({"sources": {section: dict(bad, enabled=False)}})  # off: not checked
