"""`lpwa flash`: the dry run lists every step, and a missing or silent board is one clear line."""

import os
import pty
import subprocess
import sys

import pytest

NODE_TOML = """
[device]
id = "0a1b2c3d"
key = "00112233445566778899aabbccddeeff"
kind = "{kind}"
radio = "{radio}"

[alarms.mooring]
lat = 35.0
lon = 139.8
radius_m = 150
"""


def flash(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "lpwa.cli", "flash", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def node_toml(tmp_path):
    def make(kind="buoy", radio="lora"):
        p = tmp_path / ("%s-%s.toml" % (kind, radio))
        p.write_text(NODE_TOML.format(kind=kind, radio=radio))
        return str(p)
    return make


def test_list_boards():
    r = flash("--list-boards")
    assert r.returncode == 0
    for name in ("heltec-v2", "heltec-v3", "ttgo-lora32-v21", "tbeam", "host"):
        assert name in r.stdout


@pytest.mark.parametrize("board,chip_pkg", [("heltec-v3", "lora-sx126x"), ("heltec-v2", "lora-sx127x"),
                                            ("ttgo-lora32-v21", "lora-sx127x"), ("tbeam", "lora-sx127x")])
def test_dry_run_lists_the_steps(node_toml, board, chip_pkg):
    r = flash("--board", board, "--port", "/dev/ttyUSB0", "--config", node_toml(), "--dry-run")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for what in ("compile", "mpy-cross", "mip install lora-sync " + chip_pkg, ":/lpwa_config.json", ":/lib/",
                 ":/main.py", ":/boot.py", "VERSION"):
        assert what in out, what
    assert "00112233445566778899aabbccddeeff" not in out + r.stderr  # the key is never shown


def test_dry_run_tbeam_sx1262_and_non_lora_radio(node_toml):
    r = flash("--board", "tbeam", "--radio-chip", "sx1262", "--config", node_toml(), "--dry-run")
    assert r.returncode == 0 and "lora-sx126x" in r.stdout
    r = flash("--board", "heltec-v3", "--config", node_toml("drone-vital", "sigfox"), "--dry-run")
    assert r.returncode == 0 and "mip" not in r.stdout


def test_missing_port_is_one_line(node_toml, tmp_path):
    r = flash("--board", "heltec-v3", "--port", str(tmp_path / "ttyUSB9"), "--config", node_toml())
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no serial port" in lines[0] and "Traceback" not in r.stderr
    r = flash("--board", "heltec-v3", "--config", node_toml())
    assert r.returncode == 1 and "--port is required" in r.stderr


def test_a_board_that_does_not_answer(node_toml):
    master, slave = pty.openpty()  # a serial port with nothing behind it
    try:
        r = flash("--board", "heltec-v3", "--port", os.ttyname(slave), "--config", node_toml(), "--timeout", "3")
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "does not answer" in lines[0], r.stderr
    assert "[3/8]" in r.stdout  # progress got as far as the probe


def test_bad_config_and_board_are_one_line(tmp_path, node_toml):
    bad = tmp_path / "bad.toml"
    bad.write_text('[device]\nid = "0a1b2c3d"\nkey = "00112233445566778899aabbccddeeff"\nkind = "kite"\nradio = "lora"\n')
    r = flash("--board", "heltec-v3", "--port", "/dev/ttyUSB0", "--config", str(bad))
    assert r.returncode == 1 and "kind must be one of" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    leak = tmp_path / "leak.toml"
    leak.write_text('[device]\nid = "0a1b2c3d"\nkey = "00112233445566778899aabbccddeeZZ"\nkind = "buoy"\nradio = "lora"\n')
    r = flash("--board", "heltec-v3", "--port", "/dev/ttyUSB0", "--config", str(leak), "--dry-run")
    assert r.returncode == 1 and "eeZZ" not in r.stderr
    r = flash("--board", "esp8266", "--port", "/dev/ttyUSB0", "--config", node_toml())
    assert r.returncode == 1 and "unknown board" in r.stderr
    r = flash("--board", "host", "--port", "/dev/ttyUSB0", "--config", node_toml())
    assert r.returncode == 1 and "simulated" in r.stderr


def test_compile_covers_every_board_module():
    from lpwa.cmd_flash import sources

    dests = [d for _s, d in sources()]
    assert "lpwa/__init__.mpy" in dests and "lpwa/firmware/app.mpy" in dests and "lpwa/radio/budget.mpy" in dests
    assert "lpwa/boards/host.mpy" not in dests and "lpwa/firmware/main.mpy" not in dests
