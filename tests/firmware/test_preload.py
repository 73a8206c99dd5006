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


PHASES = r"""
import json, sys
from lpwa.firmware.app import load_config
from lpwa.boards.host.board import HostBoard
from lpwa.boards.host.simulate import Simulation
with open(sys.argv[2], "w") as f:
    f.write(sys.argv[1])
cfg = load_config(sys.argv[2])
after_boot = sorted(m for m in sys.modules if m.startswith("lpwa."))
sim = Simulation(cfg, HostBoard(cfg["kind"]))
sim.schedule()
sim.step()
print(json.dumps({"boot": after_boot, "wake": sorted(m for m in sys.modules if m.startswith("lpwa.")),
                  "frames": len(sim.frames)}))
"""


def _phases(kind, radio, tmp_path):
    r = subprocess.run([sys.executable, "-c", PHASES, sim_config(kind, radio), str(tmp_path / "cfg.json")],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


@pytest.mark.parametrize("kind", KINDS)
def test_the_config_validator_is_gone_after_boot(kind, tmp_path):
    got = _phases(kind, "lora", tmp_path)
    assert "lpwa.firmware.config" not in got["boot"] + got["wake"]
    assert "lpwa.firmware.downlink" not in got["wake"] and "lpwa.codecs.command_node" not in got["wake"]
    assert "lpwa.firmware.tunables" not in got["boot"] + got["wake"]  # interned at boot, then forgotten


@pytest.mark.parametrize("kind", ["buoy", "drone-vital"])
def test_sampling_modules_leave_before_the_codec_is_used(kind, tmp_path):
    from lpwa.firmware import preload as phases

    got = _phases(kind, "lora", tmp_path)
    assert got["frames"] >= 1
    assert set(phases.sampling_only(kind)) and not set(phases.sampling_only(kind)) & set(got["wake"])
    assert set(phases.send_modules("lora")) <= set(got["wake"])


def test_the_pedometer_keeps_its_sensors_all_wake(tmp_path):
    from lpwa.firmware import preload as phases

    got = _phases("pedometer", "lora", tmp_path)
    assert phases.sampling_only("pedometer") == ()
    assert "lpwa.firmware.pedometer" in got["wake"] and "lpwa.firmware.drivers.mpu6050" in got["wake"]
    assert set(phases.sampler_modules("pedometer")) and not set(phases.sampler_modules("pedometer")) & set(got["wake"])


def test_unload_forgets_the_module_and_the_packages_attribute():
    code = ("import sys\nimport lpwa.firmware.drivers.ds18b20\nfrom lpwa.firmware.preload import unload\n"
            "unload('lpwa.firmware.drivers.ds18b20', 'lpwa.not.loaded')\nimport lpwa.firmware.drivers as d\n"
            "print('lpwa.firmware.drivers.ds18b20' in sys.modules, hasattr(d, 'ds18b20'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False"]


def test_intern_forgets_what_it_imported_and_keeps_what_was_loaded_before():
    """intern imports and forgets (their names stay interned on MicroPython): a module loaded
    before, and what the wake imports for itself, stay loaded."""
    code = ("import sys\nimport lpwa.codecs.errors\nfrom lpwa.firmware.preload import intern\n"
            "intern(('lpwa.firmware.tunables', 'lpwa.codecs.command', 'lpwa.not.there'))\n"
            "print(*[m in sys.modules for m in ('lpwa.firmware.tunables', 'lpwa.codecs.command', 'lpwa.codecs.errors')])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.split() == ["False", "False", "True"]
