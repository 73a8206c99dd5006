"""Board profiles: every pin group cites its source, vendor pins match the vendor files we
checked, no two groups on a board drive the same GPIO, and our own wiring is flagged."""

import pytest

from lpwa.boards import profiles
from lpwa.boards.profiles import BOARDS, BoardError, board_names, lora_pins, profile, unverified

HARDWARE = [n for n in board_names() if BOARDS[n]["mcu"] != "host"]
# Values read from the cited files (pins_arduino.h in espressif/arduino-esp32, Meshtastic variant.h).
VENDOR = {
    "heltec-v2": {"cs": 18, "sck": 5, "mosi": 27, "miso": 19, "reset": 14, "dio0": 26, "dio1": 35},
    "heltec-v3": {"cs": 8, "sck": 9, "mosi": 10, "miso": 11, "reset": 12, "busy": 13, "dio1": 14},
    "ttgo-lora32-v21": {"cs": 18, "sck": 5, "mosi": 27, "miso": 19, "reset": 23, "dio0": 26, "dio1": 33},
    "tbeam": {"cs": 18, "sck": 5, "mosi": 27, "miso": 19, "reset": 23, "dio0": 26, "dio1": 33},
}
INPUT_ONLY = {"esp32": (34, 35, 36, 37, 38, 39)}


def test_required_boards_exist():
    assert {"heltec-v2", "heltec-v3", "ttgo-lora32-v21", "tbeam", "host"} <= set(board_names())
    assert profile("heltec-v3")["radio_chip"] == "sx1262" and profile("heltec-v2")["radio_chip"] == "sx1276"
    assert lora_pins("tbeam", "sx1262")[0]["busy"] == 32
    with pytest.raises(BoardError):
        profile("nope")
    with pytest.raises(BoardError):
        lora_pins("heltec-v2", "sx1262")


@pytest.mark.parametrize("name", HARDWARE)
def test_every_pin_group_is_cited(name):
    p = profile(name)
    for group, g in p.items():
        if isinstance(g, dict):
            assert g.get("source"), "%s.%s has no source" % (name, group)
            assert g.get("verified") in (True, False), "%s.%s: verified must be stated" % (name, group)


@pytest.mark.parametrize("name", HARDWARE)
def test_vendor_lora_pins(name):
    pins, _chip = lora_pins(name)
    for k, v in VENDOR[name].items():
        assert pins[k] == v, (name, k)
    assert pins["verified"] is True


def _gpios(g):
    out = []
    for k in ("pin", "sda", "scl", "tx", "rx", "sck", "mosi", "miso", "cs", "reset", "dio0", "dio1", "busy", "ctrl"):
        if isinstance(g.get(k), int):
            out.append((k, g[k]))
    return out


@pytest.mark.parametrize("name", HARDWARE)
def test_no_gpio_is_used_twice(name):
    p = profile(name)
    used = {}
    for group, g in p.items():
        if not isinstance(g, dict) or group in ("lora_alt",):
            continue
        for role, pin in _gpios(g):
            assert pin not in used, "%s: GPIO%d is %s and %s.%s" % (name, pin, used.get(pin), group, role)
            used[pin] = group + "." + role
    # outputs never on input-only pins
    for group in ("module_uart", "gps_uart"):
        g = p.get(group) or {}
        assert g.get("tx") not in INPUT_ONLY.get(p["mcu"], ()), (name, group)
    assert "onewire" in unverified(name)  # our own wiring is always flagged


def test_boards_md_is_generated_from_the_profiles():
    import os

    from lpwa.tools.cli.flash import boards_markdown

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "boards", "BOARDS.md")
    with open(path) as f:
        assert f.read() == boards_markdown(), "regenerate boards/BOARDS.md with lpwa.tools.cli.flash.boards_markdown()"


@pytest.mark.parametrize("name,chip", [(n, None) for n in HARDWARE] + [("tbeam", "sx1262")])
def test_the_wiring_a_board_reads_is_its_pins_only(name, chip):
    """lpwa flash installs profiles.wiring() as the board's module: the same pin numbers, none of the text."""
    w = profiles.wiring(name, chip)
    pins, want_chip = profiles.lora_pins(name, chip)
    assert w["name"] == name and w["radio_chip"] == want_chip
    assert {k: v for k, v in pins.items() if k not in ("source", "verified", "tx_ant_note", "note")} == w["lora"]
    for group, value in w.items():
        if isinstance(value, dict) and group not in ("lora", "uart_baud"):
            assert value.items() <= profiles.profile(name)[group].items()
            assert not {"source", "note", "verified"} & set(value)
    assert w["uart_baud"] == {"sigfox": 9600, "wisun": 115200}
    space = {}
    exec(profiles.wiring_source(name, chip), space)
    assert space["WIRING"] == w
    assert len(profiles.wiring_source(name, chip)) < len(repr(profiles.profile(name))) / 2
