"""Frozen into the image (boards/manifest.py, as an ESP32 image freezes it), every kind x radio runs
its measured day (lpwa.tools.sim.ram: boot, 14 wakes, full frames, a downlink) in 64 KiB of heap.
Needs a unix port with the project frozen in ($LPWA_MICROPYTHON_FROZEN, built by
lpwa.tools.mpy.frozen_unix from a MicroPython source tree); skipped, saying so, without one."""

import pytest

from lpwa.tools.mpy import unix

FROZEN_HEAP = 64 * 1024

pytestmark = pytest.mark.skipif(unix.find_frozen() is None, reason="no frozen unix port ($LPWA_MICROPYTHON_FROZEN "
                                "unset; build one with python -m lpwa.tools.mpy.frozen_unix SOURCE)")


@pytest.fixture(scope="module")
def frozen_port():
    with unix.UnixPort(frozen=True) as up:
        yield up


@pytest.mark.parametrize("radio", ["lora", "sigfox", "wisun"])
@pytest.mark.parametrize("kind", ["buoy", "drone-vital", "pedometer"])
def test_the_frozen_node_runs_its_day_in_64_kib(frozen_port, kind, radio):
    from lpwa.tools.cli.node import sim_config
    from lpwa.tools.sim import ram

    cfg = sim_config(kind, radio)
    ram.write_config(frozen_port, cfg)
    assert ram.day_fits(frozen_port, cfg, FROZEN_HEAP)
