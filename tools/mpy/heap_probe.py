"""Smallest MicroPython heap a simulated day needs, with the .mpy files `lpwa flash` installs.

    python -m lpwa.tools.mpy.heap_probe [--hours 24] [--kind buoy] [--radio lora] [--modules]

Compiles every module boards/manifest.py names (and the host board, which stands in for
boards/esp32.py) with mpy-cross, then bisects `-X heapsize` of the ESP32-like unix port
(../shared/tools/micropython-unix/micropython, or $LPWA_MICROPYTHON) for the smallest heap in
which the day completes. The day is run wake by wake and the simulation's own log (frames,
events) is dropped after every wake, so what is measured is the node, not the log.
`--modules`: live heap each module adds when imported (after gc.collect), in import order.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

from lpwa.tools.mpy import board_sources, unix

KINDS = ("buoy", "drone-vital", "pedometer")
RADIOS = ("lora", "sigfox", "wisun")

DAY = r"""
import gc, sys
from lpwa.firmware import config
from lpwa.boards.host.board import HostBoard
from lpwa.boards.host.simulate import Simulation
with open(sys.argv[1]) as f:
    cfg = config.loads(f.read())
board = HostBoard(cfg["kind"], 1, None)
sim = Simulation(cfg, board)
sim.schedule()
end = sim.start + int(float(sys.argv[2]) * 3600000)
frames = 0
while board.clock.ms < end:
    sim.step()
    frames += len(sim.frames)
    sim.frames = []
    sim.events = []
print("DAY", sim.wakes, frames)
"""

MODULES = r"""
import gc, sys
gc.collect()
base = gc.mem_alloc()
with open(sys.argv[1]) as f:
    names = f.read().split(",")
for name in names:
    gc.collect()
    a = gc.mem_alloc()
    __import__(name)
    gc.collect()
    print("MOD", name, gc.mem_alloc() - a)
gc.collect()
print("MOD total", gc.mem_alloc() - base)
"""


def compile_tree(root, opt=None):
    """root/lpwa/<folder>/*.mpy for every board-side module (manifest + host board), compiled
    as `lpwa flash` compiles them unless opt (an -O level) says otherwise."""
    from lpwa.tools.cli.flash import MPY_OPT, _tool

    exe = _tool("mpy-cross")
    opt = MPY_OPT if opt is None else ("-O%d" % opt)
    for src, target in board_sources():
        dest = os.path.join(root, *target[:-3].split("/")) + ".mpy"
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        argv = [exe, opt, "-o", dest, src]
        subprocess.run(argv, check=True, capture_output=True)
    with open(os.path.join(root, "_day.py"), "w") as f:
        f.write(DAY)
    with open(os.path.join(root, "_modules.py"), "w") as f:
        f.write(MODULES)


def run(root, heap_k, script, *args):
    env = dict(os.environ, MICROPYPATH=root)
    r = subprocess.run([unix.find() or "micropython", "-X", "heapsize=%dK" % heap_k, os.path.join(root, script)] + list(args),
                       capture_output=True, text=True, env=env, timeout=900)
    return r.returncode, r.stdout, r.stderr


def day_ok(root, cfg_path, hours, heap_k):
    rc, out, err = run(root, heap_k, "_day.py", cfg_path, str(hours))
    return rc == 0 and "DAY" in out, out + err


def min_heap(root, cfg_path, hours, lo=24, hi=400):
    """Smallest heap (KiB) in which the day completes: bisect between lo (fails) and hi (passes)."""
    ok, out = day_ok(root, cfg_path, hours, hi)
    if not ok:
        raise RuntimeError("the day fails even in %d KiB:\n%s" % (hi, out[-2000:]))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if day_ok(root, cfg_path, hours, mid)[0]:
            hi = mid
        else:
            lo = mid
    return hi, out.split("DAY", 1)[1].split()


def module_costs(root, names):
    path = os.path.join(root, "_names.txt")
    with open(path, "w") as f:
        f.write(",".join(names))
    rc, out, err = run(root, 1500, "_modules.py", path)
    if rc != 0:
        raise RuntimeError(err[-2000:])
    return [(ln.split()[1], int(ln.split()[2])) for ln in out.splitlines() if ln.startswith("MOD")]


def main(argv=None):
    from lpwa.tools.cli.node import sim_config

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--kind", choices=KINDS, action="append")
    p.add_argument("--radio", choices=RADIOS, action="append")
    p.add_argument("--opt", type=int, choices=(0, 1, 2, 3), help="mpy-cross -O level (default: what lpwa flash uses)")
    p.add_argument("--modules", metavar="MOD,MOD", help="import cost of these modules, in this order")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as root:
        compile_tree(root, args.opt)
        if args.modules:
            for name, cost in module_costs(root, args.modules.split(",")):
                print("%-40s %7d" % (name, cost))
            return 0
        rows = []
        for kind in args.kind or KINDS:
            for radio in args.radio or RADIOS:
                cfg_path = os.path.join(root, "cfg-%s-%s.json" % (kind, radio))
                with open(cfg_path, "w") as f:
                    f.write(sim_config(kind, radio))
                k, (wakes, frames) = min_heap(root, cfg_path, args.hours)
                rows.append({"kind": kind, "radio": radio, "min_heap_kib": k, "wakes": int(wakes),
                             "frames": int(frames)})
                print("| %s | %s | %d KiB | %s wakes, %s frames |" % (kind, radio, k, wakes, frames), flush=True)
        if args.json:
            print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
