"""firmware/preload.py: the modules a wake imports are all imported at boot, before its data.

Run in a fresh CPython per kind x radio (this test process has imported everything already):
preload, then a few simulated hours; any lpwa module the wake imports after that would have been
loaded in the middle of the wake's data, fragmenting a small heap (issue #14)."""

import json
import subprocess
import sys

import pytest

from lpwa.tools.cli.node import RADIOS, KINDS, sim_config

PROGRAM = r"""
import json, sys
from lpwa.firmware import config
from lpwa.boards.host.simulate import simulate
from lpwa.firmware import app  # main.py imports it first
from lpwa.firmware.preload import preload
cfg = config.loads(sys.argv[1])
preload(cfg["kind"], cfg["radio"])
before = set(m for m in sys.modules if m.startswith("lpwa."))
simulate(cfg, hours=3)
print(json.dumps({"after": sorted(m for m in sys.modules if m.startswith("lpwa.")), "late": sorted(m for m in sys.modules
      if m.startswith("lpwa.") and m not in before and not m.startswith("lpwa.boards.host"))}))
"""


def _run(kind, radio):
    r = subprocess.run([sys.executable, "-c", PROGRAM, sim_config(kind, radio)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("radio", RADIOS)
def test_a_wake_imports_nothing_after_the_preload(kind, radio):
    assert _run(kind, radio)["late"] == []


OTHER_KINDS = {"buoy": ("ppg", "spo2", "steps", "pedometer", "max30102", "sensing_vitals", "sensing_steps"),
               "drone-vital": ("waves", "fft", "steps", "pedometer", "mpu6050", "ds18b20", "sensing_buoy",
                               "sensing_steps"),
               "pedometer": ("waves", "fft", "ppg", "max30102", "ds18b20", "sensing_buoy", "sensing_vitals")}


@pytest.mark.parametrize("kind", KINDS)
def test_a_node_never_loads_another_kinds_code(kind):
    """Nor does the host board simulate (and import) parts the kind does not have."""
    got = _run(kind, "lora")["after"]
    leaf = set(m.rsplit(".", 1)[1] for m in got)
    assert not leaf & set(OTHER_KINDS[kind]), got
