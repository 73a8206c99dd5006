"""The unix port with a fixed heap: found the documented way, the heap really is the size asked, the
bisection finds the smallest heap a program runs in, and failures other than MemoryError are errors."""

import os

import pytest

from lpwa.tools.mpy import unix


def test_an_explicit_interpreter_that_is_not_there_means_none(monkeypatch, tmp_path):
    monkeypatch.setenv("LPWA_MICROPYTHON", str(tmp_path / "nope"))
    assert unix.find() is None
    with pytest.raises(unix.UnixPortError, match="no unix-port MicroPython"):
        unix.UnixPort()


def test_the_heap_is_the_size_asked(unix_port_exe):
    with unix.UnixPort(unix_port_exe) as up:
        usable = up.usable(100 * 1024)
        r = up.run("b = bytearray(%d)" % (usable - 4096), 100 * 1024)  # about all of it
        over = up.run("b = bytearray(%d)" % (usable + 1024), 100 * 1024)
        rom = up.rom_bytes
    assert 0.95 * 100 * 1024 < usable + rom < 100 * 1024  # the rest holds the collector's tables
    assert 10000 < rom < 40000  # the host simulation's ROM image is left out of what the node gets
    assert r.returncode == 0 and "MemoryError" in over.stdout


def test_the_bisection_finds_the_smallest_heap(unix_port_exe):
    code = "b = bytearray(%d)\nc = bytearray(%d)" % (60000, 60000)  # both live at once: ~118 KiB
    with unix.UnixPort(unix_port_exe) as up:
        need = up.smallest_heap(code, 32 * 1024, 512 * 1024)
        assert 120000 < need - up.rom_bytes < 130 * 1024 and need % 1024 == 0
        assert up.fits(code, need) and not up.fits(code, need - 1024)
        assert up.smallest_heap("bytearray(600000)", 32 * 1024, 512 * 1024) is None
        with pytest.raises(unix.UnixPortError, match="ZeroDivisionError"):
            up.fits("1 / 0", 64 * 1024)


def test_the_tree_is_what_flash_installs_plus_the_host_board(unix_port_exe):
    from lpwa.tools.cli.flash import sources

    with unix.UnixPort(unix_port_exe) as up:
        installed = set(up.modules)
        r = up.run("import lpwa.firmware.app as a\nprint(a.__file__)", 256 * 1024)
    assert {t for _s, t in sources()} <= installed
    assert all(t.endswith(".mpy") for t in installed) and "lpwa/boards/host/board.mpy" in installed
    assert r.returncode == 0, r.stdout


def test_the_host_simulation_runs_from_rom_outside_the_measured_heap(unix_port_exe):
    """The simulated hardware is not node code: its bytecode runs in place from a ROMFS image."""
    with unix.UnixPort(unix_port_exe) as up:
        r = up.run("import gc, lpwa.firmware.app\ngc.collect()\na = gc.mem_alloc()\nimport lpwa.boards.host.board as b\n"
                   "gc.collect()\nprint(b.__file__, gc.mem_alloc() - a)", 256 * 1024)
        assert not os.path.exists(os.path.join(up.dir, "lpwa", "boards", "host"))
    path, cost = r.stdout.split()
    assert path.endswith("lpwa/boards/host/board.mpy")
    assert int(cost) < 8000  # after the firmware it imports; as a posix .mpy it costs over 9 KB
