"""The frozen unix-port build freezes exactly what `lpwa flash` installs plus the host simulation, and
a frozen port without the host simulation is refused with what to do (the build itself needs a
MicroPython source tree: run by hand, see lpwa.tools.mpy.frozen_unix)."""

import os

import pytest

from lpwa.tools.mpy import board_sources, frozen_unix, unix
from support.manifest_eval import evaluate


def test_the_manifest_freezes_the_board_modules_and_the_host_simulation(tmp_path):
    tree = str(tmp_path / "tree")
    man = str(tmp_path / "manifest.py")
    frozen_unix.write_manifest(man, frozen_unix.host_targets(tree))
    got = evaluate(man, {"LPWA_TREE": tree})
    want = sorted(t for _s, t in board_sources())
    assert sorted(t for _f, t in got) == want
    assert "lpwa/boards/host/simulate.py" in want and "lpwa/firmware/app.py" in want
    for full, target in got:
        assert full == os.path.join(tree, *target.split("/"))


def test_axtls_decides_cryptolib(tmp_path):
    assert frozen_unix.ssl_flags(str(tmp_path)) == ["MICROPY_PY_SSL=0"]
    (tmp_path / "lib" / "axtls").mkdir(parents=True)
    (tmp_path / "lib" / "axtls" / "README").write_text("x")
    assert "MICROPY_SSL_AXTLS=1" in frozen_unix.ssl_flags(str(tmp_path))


def test_a_port_without_the_frozen_tree_is_refused(unix_port_exe):
    with pytest.raises(unix.UnixPortError, match="frozen_unix"):
        unix.UnixPort(unix_port_exe, frozen=True)


def test_not_a_source_tree_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        frozen_unix.main([str(tmp_path)])
    assert "not a MicroPython source tree" in capsys.readouterr().err
