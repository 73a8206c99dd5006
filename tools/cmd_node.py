"""`lpwa node simulate`: run the unchanged firmware app on the host board with a simulated clock.

The app runs under the real MicroPython interpreter (the WebAssembly port) when Node.js and the
pinned npm package are present, else under CPython (`--interpreter` picks). Output is a replay
file (one JSON frame per line, the shared format) with airtime and the scheduler's decision in
each frame's meta; a summary goes to stderr (or stdout with --summary-json).
"""

import json
import sys

SIM_KEY = "000102030405060708090a0b0c0d0e0f"  # simulation only: never flash this key
SIM_DEVICES = {"buoy": "0b000001", "drone-vital": "0d000001", "pedometer": "0e000001"}
SCENARIOS = {
    "calm": {},
    "drift": {"drift_at_h": 6},  # the buoy breaks its mooring six hours in
    "hypoxia": {"spo2_drop_at_h": 6},  # the casualty's SpO2 falls six hours in
}


def register(sub):
    p = sub.add_parser("node", help="simulate a node on the host board")
    nsub = p.add_subparsers(dest="node_command", metavar="ACTION")
    s = nsub.add_parser("simulate", help="run the firmware app on the simulated host board")
    s.add_argument("--kind", choices=("buoy", "drone-vital", "pedometer"), default="buoy")
    s.add_argument("--radio", choices=("lora", "sigfox", "wisun"), default="lora")
    s.add_argument("--hours", type=float, default=24.0)
    s.add_argument("--out", help="replay file to write (JSON lines); '-' for stdout")
    s.add_argument("--config", help="node.toml to run instead of the simulation defaults")
    s.add_argument("--interpreter", choices=("micropython", "cpython"), default=None,
                   help="default: micropython when its harness is installed")
    s.add_argument("--scenario", choices=sorted(SCENARIOS), default=None,
                   help="drift for buoys, hypoxia for drone-vital (default: the kind's alarm case off)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--power-loss-at", type=float, action="append", default=[], metavar="HOUR")
    s.add_argument("--reset-at", type=float, action="append", default=[], metavar="HOUR")
    s.add_argument("--measure-mem", action="store_true", help="collect garbage at checkpoints to measure RAM (slower)")
    s.add_argument("--summary-json", action="store_true", help="print the summary as JSON on stdout")
    s.set_defaults(func=run_simulate)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def sim_config(kind, radio, device=None):
    """The default simulation config for kind and radio (what `lpwa node simulate` runs)."""
    from lpwa.firmware import config

    doc = {"device": device or SIM_DEVICES[kind], "key": SIM_KEY, "kind": kind, "radio": radio,
           "board": "host", "alarms": {"mooring": {"lat": 35.0, "lon": 139.8, "radius_m": 150}, "spo2_low": 90}}
    return config.to_json(config.parse(doc))


_MPY_CODE = """
import json
from lpwa.firmware import config
from lpwa.boards.host import simulate
_r = simulate(config.loads(%r), hours=%r, seed=%r, scenario=%r, power_loss_at_h=%r, reset_at_h=%r,
              measure_mem=%r, hang_at_h=%r, downlinks=%s)
for _f in _r["frames"]:
    print("F" + json.dumps(_f))
for _e in _r["events"]:
    print("E" + json.dumps(_e))
print("S" + json.dumps({"wakes": _r["wakes"], "mem": _r["mem"]}))
"""


def run_sim(cfg_json, hours, interpreter=None, seed=1, scenario=None, power_loss_at_h=(), reset_at_h=(),
            measure_mem=False, mpy=None, hang_at_h=(), downlinks=()):
    """Run the simulation; returns (frames, events, info) with info["interpreter"]."""
    if interpreter is None:
        interpreter = "micropython" if _harness_ok() else "cpython"
    scenario = scenario or {}
    if interpreter == "cpython":
        from lpwa.boards.host import simulate
        from lpwa.firmware import config

        r = simulate(config.loads(cfg_json), hours=hours, seed=seed, scenario=scenario,
                     power_loss_at_h=tuple(power_loss_at_h), reset_at_h=tuple(reset_at_h), measure_mem=measure_mem,
                     hang_at_h=tuple(hang_at_h), downlinks=[(h, bytes(d)) for h, d in downlinks])
        return r["frames"], r["events"], {"wakes": r["wakes"], "mem": r["mem"], "interpreter": "cpython"}
    from lpwa.micropython import MicroPython

    own = mpy is None
    if own:
        mpy = MicroPython()
        mpy.load_board_files()
    try:
        dl = "[" + ", ".join("(%r, bytes.fromhex(%r))" % (float(h), bytes(d).hex()) for h, d in downlinks) + "]"
        out = mpy.run(_MPY_CODE % (cfg_json, float(hours), seed, scenario, tuple(power_loss_at_h),
                                    tuple(reset_at_h), bool(measure_mem), tuple(hang_at_h), dl))
    finally:
        if own:
            mpy.close()
    frames, events, info = [], [], {}
    for line in out.splitlines():
        if line[:1] == "F":
            frames.append(json.loads(line[1:]))
        elif line[:1] == "E":
            events.append(json.loads(line[1:]))
        elif line[:1] == "S":
            info = json.loads(line[1:])
    info["interpreter"] = "micropython"
    return frames, events, info


def _harness_ok():
    import os
    import shutil

    from lpwa import micropython

    return shutil.which("node") is not None and os.path.isdir(
        os.path.join(micropython.HERE, "mpy", "node_modules", "@micropython"))


def summarize(frames, events, info, hours):
    """Per-day figures: frames, bytes, airtime, and what the scheduler refused."""
    scale = 24.0 / hours if hours else 1.0
    nbytes = sum(len(f["hex"]) // 2 for f in frames)
    air = sum(f["meta"].get("airtime_us", 0) for f in frames)
    refused = [e for e in events if e.get("event") == "tx" and not e.get("sent")]
    reasons = {}
    for e in refused:
        why = (e.get("budget") or {}).get("reason") if (e.get("budget") or {}).get("ok") is False else e.get("lbt") or e.get("error")
        reasons[why] = reasons.get(why, 0) + 1
    return {
        "frames_per_day": round(len(frames) * scale, 1),
        "bytes_per_day": round(nbytes * scale),
        "airtime_s_per_day": round(air * scale / 1e6, 2),
        "alarms": sum(1 for f in frames if f["meta"].get("alarm")),
        "refused": reasons,
        "downlinks": sum(1 for e in events if e.get("event") == "downlink"),
        "watchdog_resets": sum(1 for e in events if e.get("event") == "watchdog"),
        "wakes": info.get("wakes"),
        "mem": info.get("mem"),
        "interpreter": info.get("interpreter"),
    }


def run_simulate(args):
    from lpwa.firmware import config

    if args.config:
        try:
            cfg_json = _load_toml_config(args.config)
        except (OSError, ValueError) as e:
            sys.stderr.write("lpwa node: %s\n" % e)
            return 1
    else:
        cfg_json = sim_config(args.kind, args.radio)
    scenario = SCENARIOS.get(args.scenario or "calm")
    if args.interpreter == "micropython" and not _harness_ok():
        sys.stderr.write("lpwa node: the MicroPython harness is not installed (npm ci --prefix tools/mpy)\n")
        return 1
    try:
        frames, events, info = run_sim(cfg_json, args.hours, args.interpreter, args.seed, scenario,
                                       args.power_loss_at, args.reset_at, args.measure_mem)
    except config.ConfigError as e:
        sys.stderr.write("lpwa node: config: %s\n" % e)
        return 1
    if args.out:
        fh = sys.stdout if args.out == "-" else open(args.out, "w")
        try:
            for f in frames:
                fh.write(json.dumps(f, separators=(",", ":")) + "\n")
        finally:
            if fh is not sys.stdout:
                fh.close()
    summary = summarize(frames, events, info, args.hours)
    cfg = json.loads(cfg_json)
    summary.update({"kind": cfg["kind"], "radio": cfg["radio"], "device": cfg["device"], "hours": args.hours})
    if args.summary_json:
        print(json.dumps(summary))
    else:
        sys.stderr.write(
            "%s/%s on the host board (%s): %d wakes, %.1f frames/day, %d bytes/day, %.2f s airtime/day, "
            "%d alarms, refused %s%s\n" % (
                summary["kind"], summary["radio"], summary["interpreter"], summary["wakes"] or 0,
                summary["frames_per_day"], summary["bytes_per_day"], summary["airtime_s_per_day"], summary["alarms"],
                summary["refused"] or "none", (", wrote " + args.out) if args.out and args.out != "-" else ""))
    return 0


def _load_toml_config(path):
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # type: ignore[no-redef]
    from lpwa.firmware import config

    with open(path, "rb") as f:
        doc = tomllib.load(f)
    return config.to_json(config.parse(config.from_node_toml(doc)))
