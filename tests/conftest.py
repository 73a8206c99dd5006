"""Shared fixtures: the real MicroPython interpreter and a real Mosquitto broker."""

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


@pytest.fixture
def mosquitto():
    """A fresh broker per test, on its own port."""
    broker = Mosquitto().start()
    yield broker
    broker.stop()
    shutil.rmtree(broker.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def shared_dir():
    return SHARED


def pytest_collection_modifyitems(config, items):
    """Every test that uses the interpreter is marked `mpy`, so `-m mpy` selects them."""
    for item in items:
        if "mpy" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.mpy)


def pytest_terminal_summary(terminalreporter):
    """Say how many tests really ran under MicroPython."""
    passed = terminalreporter.stats.get("passed", [])
    failed = terminalreporter.stats.get("failed", [])
    ran = [r for r in passed + failed if r.when == "call" and "mpy" in r.keywords]
    ok = [r for r in passed if r.when == "call" and "mpy" in r.keywords]
    terminalreporter.write_line("MicroPython (WebAssembly port, real interpreter): %d tests ran, %d passed" % (len(ran), len(ok)))
