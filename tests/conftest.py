"""Shared fixtures: the real MicroPython interpreter and a real Mosquitto broker."""

import json
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # `support` (brokers, fakes, subscribers, waits) for every test

from lpwa.tools.mpy import MicroPython, MicroPythonError  # noqa: E402,F401  (re-exported for tests)
from support.broker import Mosquitto  # noqa: E402

ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


@pytest.fixture(scope="session")
def mpy():
    """One MicroPython interpreter for the session, with the portable core under /lib/lpwa."""
    interp = MicroPython()
    interp.load_board_files()
    yield interp
    interp.close()


class CPython:
    """The host interpreter behind the same interface as the `mpy` fixture's `eval_json`."""

    name = "cpython"

    def eval_json(self, setup, expr):
        """Run `setup`, then return the value of `expr` round-tripped through JSON."""
        ns = {"__name__": "impl_snippet"}
        exec(setup, ns)
        return json.loads(json.dumps(eval(expr, ns)))


@pytest.fixture(params=["cpython", "micropython"])
def impl(request):
    """One codec test, two implementations (as cbor2's tests/conftest.py runs C and Python):
    the snippet runs under CPython here and under the real MicroPython (the `mpy` fixture)."""
    if request.param == "micropython":
        return request.getfixturevalue("mpy")
    return CPython()


@pytest.fixture
def mosquitto():
    """A fresh broker per test, on its own port."""
    broker = Mosquitto().start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.dir, ignore_errors=True)


@pytest.fixture
def unix_port_exe():
    """Path of the unix-port MicroPython (fixed heap, 32-bit, float32); skips saying where it looked."""
    from lpwa.tools.mpy import unix

    exe = unix.find()
    if exe is None:
        pytest.skip("no unix-port MicroPython (%s)" % unix.where_looked())
    return exe


@pytest.fixture(scope="session")
def shared_dir():
    return SHARED


def pytest_collection_modifyitems(config, items):
    """Every test that uses the interpreter is marked `mpy`, so `-m mpy` selects them."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_mpy = callspec is not None and callspec.params.get("impl") == "micropython"
        on_mpy = on_mpy or item.get_closest_marker("mpy") is not None  # e.g. a bench that starts its own
        if on_mpy or "mpy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mpy)
            item.user_properties.append(("runs_on", "mpy"))  # counted by this, not by keyword (tests/tools/mpy/)
        if "unix_port_exe" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.unixport)
            item.user_properties.append(("runs_on", "unixport"))


def _on(report, what):
    return ("runs_on", what) in getattr(report, "user_properties", ())


def pytest_terminal_summary(terminalreporter):
    """Say how many tests really ran under MicroPython."""
    passed = terminalreporter.stats.get("passed", [])
    failed = terminalreporter.stats.get("failed", [])
    ran = [r for r in passed + failed if r.when == "call" and _on(r, "mpy")]
    ok = [r for r in passed if r.when == "call" and _on(r, "mpy")]
    terminalreporter.write_line("MicroPython (WebAssembly port, real interpreter): %d tests ran, %d passed" % (len(ran), len(ok)))
    _unix_port_summary(terminalreporter)


def _unix_port_summary(terminalreporter):
    """Say how many tests ran on the unix port with a fixed heap, or that it was not found."""
    from lpwa.tools.mpy import unix

    stats = terminalreporter.stats
    ran = [r for r in stats.get("passed", []) + stats.get("failed", []) if r.when == "call" and _on(r, "unixport")]
    ok = [r for r in stats.get("passed", []) if r.when == "call" and _on(r, "unixport")]
    skipped = [r for r in stats.get("skipped", []) if _on(r, "unixport")]
    exe = unix.find()
    where = exe if exe else "not found (%s)" % unix.where_looked()
    terminalreporter.write_line("MicroPython unix port (fixed heap, float32; %s): %d tests ran, %d passed, %d skipped"
                                % (where, len(ran), len(ok), len(skipped)))
