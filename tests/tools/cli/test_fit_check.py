"""`lpwa flash` refuses a kind x radio whose measured heap need (unix port, installed .mpy) is above the
board's heap, in one line saying what would fit; --ignore-fit flashes anyway; with no unix port it says
it could not check and goes on."""

import pytest

from lpwa.boards import profiles
from lpwa.tools.cli import main

NODE_TOML = """
[device]
id = "0a1b2c3d"
key = "00112233445566778899aabbccddeeff"
kind = "drone-vital"
radio = "sigfox"
"""


@pytest.fixture
def node_toml(tmp_path):
    p = tmp_path / "node.toml"
    p.write_text(NODE_TOML)
    return str(p)


@pytest.fixture
def small_heltec_v3(monkeypatch):
    """heltec-v3 with a fake 40 KiB heap: nothing fits it as .mpy."""
    monkeypatch.setitem(profiles.BOARDS["heltec-v3"], "heap", dict(profiles.BOARDS["heltec-v3"]["heap"], bytes=40 * 1024))


def test_a_node_that_does_not_fit_is_refused_in_one_line(unix_port_exe, node_toml, small_heltec_v3, capsys):
    rc = main(["flash", "--board", "heltec-v3", "--config", node_toml, "--dry-run"])
    out, err = capsys.readouterr()
    assert rc == 2 and len(err.strip().splitlines()) == 1, err
    assert "drone-vital/sigfox needs" in err and "heltec-v3 has 40.0 KiB" in err
    assert "tbeam" in err and "frozen image" in err and "--ignore-fit" in err
    assert "00112233445566778899aabbccddeeff" not in out + err
    assert "[1/" not in out  # refused before any step


def test_ignore_fit_flashes_anyway(node_toml, small_heltec_v3, capsys):
    rc = main(["flash", "--board", "heltec-v3", "--config", node_toml, "--dry-run", "--ignore-fit"])
    assert rc == 0 and "[1/" in capsys.readouterr().out


def test_a_node_that_fits_shows_its_margin(unix_port_exe, node_toml, capsys):
    rc = main(["flash", "--board", "tbeam", "--config", node_toml, "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0 and "fits: drone-vital/sigfox needs" in out and "tbeam has 4096.0 KiB (margin" in out


def test_without_a_unix_port_flash_says_it_could_not_check(node_toml, small_heltec_v3, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("LPWA_MICROPYTHON", str(tmp_path / "no-such-micropython"))
    rc = main(["flash", "--board", "heltec-v3", "--config", node_toml, "--dry-run"])
    out = capsys.readouterr().out
    assert rc == 0 and "could not check that drone-vital/sigfox fits heltec-v3's heap" in out and "[1/" in out
