"""Smallest MicroPython heap a simulated day needs, with the .mpy files `lpwa flash` installs.

    python -m lpwa.tools.mpy.heap_probe [--hours 24] [--kind buoy] [--radio lora] [--modules]

Installs the tree as `lpwa node report` measures it (lpwa.tools.mpy.unix.UnixPort: the manifest
and the host board, mpy-cross, at `--opt` if given), then bisects `-X heapsize` for the smallest
heap in which a whole simulated day (`--hours`, not the report's 14 wakes) completes. The day
is run wake by wake and the simulation's own log (frames, events) is dropped after every wake,
so what is measured is the node, not the log.
`--modules`: live heap each module adds when imported (lpwa.tools.sim.ram.module_costs), in that order.
"""

import argparse
import json
import sys

from lpwa.tools.mpy.unix import KIB, UnixPort

KINDS = ("buoy", "drone-vital", "pedometer")
RADIOS = ("lora", "sigfox", "wisun")
LOW, HIGH = 24 * KIB, 400 * KIB

DAY = r"""
from lpwa.firmware.app import load_config
from lpwa.boards.host.board import HostBoard
from lpwa.boards.host.simulate import Simulation
cfg = load_config("cfg.json")  # as the node reads it at boot (the validator is dropped after)
board = HostBoard(cfg["kind"], 1, None)
sim = Simulation(cfg, board)
sim.schedule()
end = sim.start + int(%(hours)r * 3600000)
frames = 0
while board.clock.ms < end:
    sim.step()
    frames += len(sim.frames)
    sim.frames = []
    sim.events = []
print("DAY", sim.wakes, frames)
"""


def day(up, cfg_json, hours):
    """(smallest heapsize in KiB, wakes, frames) of one config's day; RuntimeError if HIGH is not enough."""
    up.write("cfg.json", cfg_json)
    code = DAY % {"hours": float(hours)}
    heap = up.smallest_heap(code, LOW, HIGH)
    if heap is None:
        raise RuntimeError("the day fails even in %d KiB" % (HIGH // KIB))
    for _try in range(4):  # the collector scans the C stack conservatively: at the edge a rerun can fail
        out = up.run(code, heap).stdout
        if "DAY" in out:
            wakes, frames = out.split("DAY", 1)[1].split()
            return heap // KIB, int(wakes), int(frames)
        heap += KIB
    raise RuntimeError("the day fits %d KiB once and then fails above it" % (heap // KIB - 4))


def main(argv=None):
    from lpwa.tools.cli.node import sim_config
    from lpwa.tools.sim.ram import module_costs

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=24.0)
    p.add_argument("--kind", choices=KINDS, action="append")
    p.add_argument("--radio", choices=RADIOS, action="append")
    p.add_argument("--opt", type=int, choices=(0, 1, 2, 3), help="mpy-cross -O level (default: what lpwa flash uses)")
    p.add_argument("--modules", metavar="MOD,MOD", help="import cost of these modules, in this order")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    with UnixPort(opt=None if args.opt is None else "-O%d" % args.opt) as up:
        if args.modules:
            for name, cost, why in module_costs(up, args.modules.split(",")):
                print("%-40s %7s" % (name, cost if why is None else "- " + why))
            return 0
        rows = []
        for kind in args.kind or KINDS:
            for radio in args.radio or RADIOS:
                k, wakes, frames = day(up, sim_config(kind, radio), args.hours)
                rows.append({"kind": kind, "radio": radio, "min_heap_kib": k, "wakes": wakes, "frames": frames})
                print("| %s | %s | %d KiB | %d wakes, %d frames |" % (kind, radio, k, wakes, frames), flush=True)
        if args.json:
            print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
