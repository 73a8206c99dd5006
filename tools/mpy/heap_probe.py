"""Smallest MicroPython heap a simulated day needs, with the .mpy files `lpwa flash` installs.

    python -m lpwa.tools.mpy.heap_probe [--hours 2] [--kind buoy] [--radio lora] [--modules]

The measurement of `lpwa node report` (lpwa.tools.sim.ram.need: the installed tree on the
unix port, each deep-sleep wake a fresh interpreter, the simulator's modules left out) over
`--hours` of simulated time instead of the report's 14 wakes (a day of a buoy is 269 boots:
minutes per row). `--opt` compiles at another mpy-cross -O level.
`--modules`: live heap each module adds when imported (lpwa.tools.sim.ram.module_costs), in that order.
"""

import argparse
import json
import sys

from lpwa.tools.mpy.unix import KIB, UnixPort

KINDS = ("buoy", "drone-vital", "pedometer")
RADIOS = ("lora", "sigfox", "wisun")


def day(up, cfg_json, hours):
    """(need in bytes, wakes, frames) of one config's `hours`; RuntimeError if 512 KiB is not enough."""
    from lpwa.tools.sim import ram

    need = ram.need(up, cfg_json, hours=hours)
    if need is None:
        raise RuntimeError("the day fails even in %d KiB" % (ram.HIGH // KIB))
    boots = ram.run_day(up, cfg_json, ram.PROBE_HEAP, hours=hours)
    return need, sum(b["wakes"] for b in boots), sum(b["frames"] for b in boots)


def main(argv=None):
    from lpwa.tools.cli.node import sim_config
    from lpwa.tools.sim.ram import module_costs

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=2.0)
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
                need, wakes, frames = day(up, sim_config(kind, radio), args.hours)
                rows.append({"kind": kind, "radio": radio, "need": need, "wakes": wakes, "frames": frames})
                print("| %s | %s | %.1f KiB | %d wakes, %d frames |" % (kind, radio, need / 1024.0, wakes, frames),
                      flush=True)
        if args.json:
            print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
