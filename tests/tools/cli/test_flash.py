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
    return subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "flash", *args], capture_output=True, text=True,
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
    # --ignore-fit: a buoy as .mpy does not fit an ESP32 without PSRAM (test_fit_check.py); the steps are the same
    r = flash("--board", board, "--port", "/dev/ttyUSB0", "--config", node_toml(), "--dry-run", "--ignore-fit")
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
    assert "[3/9]" in r.stdout  # progress got as far as the probe


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
    from lpwa.tools.cli.flash import sources

    dests = [d for _s, d in sources()]
    # `lpwa` is a namespace package on the board too (MicroPython imports a folder without __init__)
    assert "lpwa/codecs/__init__.mpy" in dests and "lpwa/firmware/app.mpy" in dests and "lpwa/radio/budget.mpy" in dests
    assert not any(d.startswith("lpwa/boards/host") for d in dests) and "lpwa/firmware/main.mpy" not in dests


FAKE_MPREMOTE = r'''#!{python}
"""A stand-in for mpremote: answers like a MicroPython board, keeps its files in FAKE_BOARD."""
import os, shutil, sys
board = os.environ["FAKE_BOARD"]
with open(os.path.join(board, "..", "calls.log"), "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")
args = sys.argv[1:]
assert args[:2] == ["connect", os.environ["FAKE_PORT"]], args
args = args[2:]
while args:
    cmd, args = args, []
    if "+" in cmd:
        i = cmd.index("+")
        cmd, args = cmd[:i], cmd[i + 1:]
    if cmd[0] == "exec":
        code = cmd[1]
        if "sys.implementation" in code:
            print("micropython 3.4.0; MicroPython v1.24.1 on 2024-11-29")
        elif "import lora" in code:
            print("yes" if os.path.exists(os.path.join(board, "lib", "lora")) else "no")
        elif "os.stat" in code:
            print("yes" if os.path.exists(os.path.join(board, "lib")) else "no")
        elif "RTC().datetime" in code:
            open(os.path.join(board, "..", "rtc"), "w").write(code)
        elif "VERSION" in code:
            print("lpwa", os.environ.get("FAKE_VERSION") or open(os.path.join(board, "lib", "lpwa", "VERSION")).read())
    elif cmd[0] == "mip":
        os.makedirs(os.path.join(board, "lib", "lora"), exist_ok=True)
        for pkg in cmd[2:]:
            open(os.path.join(board, "lib", "lora", pkg), "w").close()
    elif cmd[:2] == ["fs", "mkdir"]:
        os.makedirs(os.path.join(board, cmd[2].lstrip(":/")), exist_ok=True)
    elif cmd[:2] == ["fs", "cp"]:
        rec = cmd[2] == "-r"
        src, dest = cmd[3:5] if rec else cmd[2:4]
        dest = os.path.join(board, dest.lstrip(":/"))
        if rec:
            shutil.copytree(src, os.path.join(dest, os.path.basename(src)), dirs_exist_ok=True)
            open(os.path.join(dest, "lpwa", "VERSION"), "w").write("0.1.0")
        else:
            shutil.copy(src, dest)
    else:
        sys.exit("fake mpremote: unknown " + " ".join(cmd))
'''


@pytest.fixture
def fake_board(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "mpremote"
    exe.write_text(FAKE_MPREMOTE.replace("{python}", sys.executable))
    exe.chmod(0o755)
    board = tmp_path / "board"
    board.mkdir()
    port = tmp_path / "ttyUSB0"
    port.write_text("")
    env = dict(os.environ, PATH=str(bindir) + os.pathsep + os.environ["PATH"], FAKE_BOARD=str(board),
               FAKE_PORT=str(port))
    return board, str(port), env, tmp_path / "calls.log"


def test_flash_end_to_end_against_a_stand_in_board(fake_board, node_toml):
    import json as _json

    board, port, env, log = fake_board
    args = [sys.executable, "-m", "lpwa.tools.cli", "flash", "--board", "heltec-v3", "--port", port, "--config", node_toml()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "[9/9] read back the firmware version" in r.stdout and "verified" in r.stdout
    import time as _time

    rtc = (board / ".." / "rtc").read_text()
    assert "machine.RTC().datetime((%d, " % _time.gmtime().tm_year in rtc
    conf = _json.loads((board / "lpwa_config.json").read_text())
    assert conf["device"] == "0a1b2c3d" and conf["board"] == "heltec-v3" and conf["key"] == "00112233445566778899aabbccddeeff"
    assert (board / "lib" / "lpwa" / "firmware" / "app.mpy").read_bytes()[:1] == b"M"  # mpy-cross output
    assert (board / "lib" / "lpwa" / "codecs" / "__init__.mpy").exists() and not (board / "lib" / "lpwa" / "boards" / "host").exists()
    assert (board / "lib" / "lpwa" / "boards" / "wiring.mpy").read_bytes()[:1] == b"M"  # this board's pins
    assert "app.main()" in (board / "main.py").read_text() and (board / "boot.py").exists()
    assert (board / "lib" / "lora" / "lora-sx126x").exists()
    calls = log.read_text().splitlines()
    assert any(" mip install lora-sync lora-sx126x" in c for c in calls)
    assert "00112233445566778899aabbccddeeff" not in r.stdout + r.stderr
    # a second flash finds the lora drivers there and does not reinstall them
    log.write_text("")
    r = subprocess.run(args, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0 and "already installed" in r.stdout
    assert not any(" mip " in c for c in log.read_text().splitlines())


def test_flash_fails_when_the_version_read_back_differs(fake_board, node_toml):
    board, port, env, log = fake_board
    env["FAKE_VERSION"] = "0.0.9"
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "flash", "--board", "tbeam", "--port", port, "--config",
                        node_toml("pedometer", "wisun")], capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == ["lpwa flash: version read back as '0.0.9', expected 0.1.0: the copy did not take"]
    assert not any(" mip " in c for c in log.read_text().splitlines())  # Wi-SUN node: no lora drivers


def test_a_radio_chip_the_board_lacks_is_one_line(node_toml):
    r = flash("--board", "heltec-v3", "--radio-chip", "sx1276", "--config", node_toml(), "--dry-run")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpwa flash:") and "sx1276" in lines[0]


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "soon"])
def test_a_bad_timeout_is_a_usage_error(node_toml, value):
    """NaN and inf reached subprocess as a ValueError/OverflowError traceback; -1 'timed out after -1 s'."""
    r = flash("--board", "heltec-v3", "--port", "/dev/null", "--config", node_toml(), "--timeout", value)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "argument --timeout" in r.stderr and "[3/" not in r.stdout


def test_a_config_that_is_not_utf8_is_one_line(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'[device]\nid = "0a1b2c3d"\nnote = "caf\xe9"\n')
    r = flash("--board", "heltec-v3", "--config", str(bad), "--dry-run")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "not valid TOML" in lines[0]


@pytest.mark.parametrize("script", ["#!/bin/sh\nsleep 5\n", None])
def test_an_mpy_cross_that_hangs_or_cannot_run_is_a_flash_error(tmp_path, monkeypatch, script):
    """A hung mpy-cross raised subprocess.TimeoutExpired (a traceback) out of the compile pool."""
    from lpwa.tools.cli import flash as cmd_flash

    exe = tmp_path / "mpy-cross"
    if script is None:
        exe.write_text("not a program")  # not executable: OSError
    else:
        exe.write_text(script)
        exe.chmod(0o755)
    monkeypatch.setattr(cmd_flash, "_tool", lambda name: str(exe))
    monkeypatch.setattr(cmd_flash, "COMPILE_TIMEOUT_S", 0.5)
    monkeypatch.setattr(cmd_flash, "sources", lambda root=None: [(str(tmp_path / "a.py"), "lpwa/a.mpy")])
    with pytest.raises(cmd_flash.FlashError) as e:
        cmd_flash.compile_all(str(tmp_path / "build"), lambda msg: None)
    assert "mpy-cross failed on" in str(e.value)


def test_an_mpremote_that_cannot_run_is_a_flash_error(tmp_path, monkeypatch):
    from lpwa.tools.cli import flash as cmd_flash

    exe = tmp_path / "mpremote"
    exe.write_text("not a program")  # exists, not executable
    monkeypatch.setattr(cmd_flash, "_tool", lambda name: str(exe))
    with pytest.raises(cmd_flash.FlashError) as e:
        cmd_flash.Board("/dev/ttyUSB0").call("exec", "print(1)", timeout=5, what="probe")
    assert "cannot run mpremote" in str(e.value)


def test_tree_lays_out_exactly_what_the_manifest_freezes(tmp_path):
    """`--tree DIR` copies the manifest's files to DIR/lpwa/<folder>; the manifest, evaluated as
    MicroPython's makemanifest evaluates it with LPWA_TREE=DIR, finds every file it names there
    and nothing else is in the tree to be swept up by package()."""
    from support.manifest_eval import evaluate

    from lpwa.tools.mpy.manifest import manifest_path, read

    r = flash("--tree", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "MICROPY_MANIFEST_LPWA_TREE=%s" % tmp_path in r.stdout
    laid = sorted(os.path.relpath(os.path.join(d, n), str(tmp_path)).replace(os.sep, "/")
                  for d, _dirs, names in os.walk(str(tmp_path)) for n in names)
    frozen = evaluate(manifest_path(), {"LPWA_TREE": str(tmp_path)})
    assert sorted(target for _full, target in frozen) == laid
    assert sorted(target for _src, target in read()) == laid
    for full, target in frozen:
        assert full == os.path.join(str(tmp_path), *target.split("/"))
    src = dict((t, s) for s, t in read())
    with open(src["lpwa/codecs/cbor.py"], "rb") as a, open(str(tmp_path / "lpwa" / "codecs" / "cbor.py"), "rb") as b:
        assert a.read() == b.read()


def test_tree_refuses_a_folder_that_already_has_lpwa(tmp_path):
    (tmp_path / "lpwa" / "codecs").mkdir(parents=True)
    (tmp_path / "lpwa" / "codecs" / "stale.py").write_text("x = 1\n")
    r = flash("--tree", str(tmp_path))
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "already exists" in r.stderr
    assert os.listdir(str(tmp_path / "lpwa" / "codecs")) == ["stale.py"]


def test_modules_are_compiled_without_line_numbers(tmp_path, monkeypatch):
    """A .mpy module's bytecode lives on the node's heap: -O3 leaves out the line-number tables
    (issue #14: several KiB per node, measured with tools/mpy/heap_probe.py)."""
    from lpwa.tools.cli import flash as cmd_flash

    seen = tmp_path / "argv"
    exe = tmp_path / "mpy-cross"
    exe.write_text('#!/bin/sh\necho "$@" > %s\n' % seen)
    exe.chmod(0o755)
    monkeypatch.setattr(cmd_flash, "_tool", lambda name: str(exe))
    monkeypatch.setattr(cmd_flash, "sources", lambda root=None: [(str(tmp_path / "a.py"), "lpwa/a.mpy")])
    cmd_flash.compile_all(str(tmp_path / "build"), lambda msg: None)
    assert seen.read_text().split()[0] == "-O3"


def test_a_module_carries_its_board_path_as_its_source_name(tmp_path):
    """The source name inside a .mpy is interned on the board when it loads: flash makes it the module's
    path there (the same string as its __file__), not the path of the checkout it was compiled from."""
    from lpwa.tools.cli import flash as cmd_flash

    src = tmp_path / "checkout-path-that-must-not-ship" / "a.py"
    src.parent.mkdir()
    src.write_text("x = 1\n")
    cmd_flash.compile_files(str(tmp_path / "build"), [(str(src), "lpwa/a.mpy")])
    data = (tmp_path / "build" / "lpwa" / "a.mpy").read_bytes()
    assert b"/lib/lpwa/a.mpy" in data and b"checkout-path-that-must-not-ship" not in data
