"""`lpwa node simulate`: run the unchanged firmware app on the host board with a simulated clock.

The app runs under the real MicroPython interpreter (the WebAssembly port) when Node.js and the
pinned npm package are present, else under CPython (`--interpreter` picks). Output is a replay
file (one JSON frame per line, the shared format) with airtime and the scheduler's decision in
each frame's meta; a summary goes to stderr (or stdout with --summary-json).
"""

import json
import sys

from lpwa.codecs.schema import KIND_NAMES as KINDS
from lpwa.radio.limits import RADIOS

SIM_KEY = "000102030405060708090a0b0c0d0e0f"  # simulation only: never flash this key
SIM_DEVICES = {"buoy": "0b000001", "drone-vital": "0d000001", "pedometer": "0e000001"}
SCENARIOS = {
    "calm": {},
    "drift": {"drift_at_h": 6},  # the buoy breaks its mooring six hours in
    "hypoxia": {"spo2_drop_at_h": 6},  # the casualty's SpO2 falls six hours in
}


def _hours(text):
    """argparse type: a finite number of simulated hours, more than zero."""
    import argparse
    import math

    try:
        h = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of hours" % text)
    if not math.isfinite(h) or h <= 0:
        raise argparse.ArgumentTypeError("hours must be a finite number above 0, not %r" % text)
    return h


def _hour_mark(text):
    """argparse type: a finite hour into the simulation, 0 or more."""
    import argparse
    import math

    try:
        h = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of hours" % text)
    if not math.isfinite(h) or h < 0:
        raise argparse.ArgumentTypeError("an hour mark must be a finite number of 0 or more, not %r" % text)
    return h


def register(sub):
    p = sub.add_parser("node", help="simulate a node on the host board")
    nsub = p.add_subparsers(dest="node_command", metavar="ACTION")
    s = nsub.add_parser("simulate", help="run the firmware app on the simulated host board")
    s.add_argument("--kind", choices=KINDS, default="buoy")
    s.add_argument("--radio", choices=RADIOS, default="lora")
    s.add_argument("--hours", type=_hours, default=24.0)
    s.add_argument("--out", help="replay file to write (JSON lines); '-' for stdout")
    s.add_argument("--config", help="node.toml to run instead of the simulation defaults")
    s.add_argument("--interpreter", choices=("micropython", "cpython"), default=None,
                   help="default: micropython when its harness is installed")
    s.add_argument("--scenario", choices=sorted(SCENARIOS), default=None,
                   help="drift for buoys, hypoxia for drone-vital (default: the kind's alarm case off)")
    s.add_argument("--events", metavar="FILE",
                   help="also write what did not go out (refusals, downlinks, resets) as JSON lines")
    s.add_argument("--wearer", choices=("gait-day", "simple"), default="gait-day",
                   help="pedometer: a day of the gait model (walks, a run, rides, shaking; default) or "
                        "the host World's three 10-minute walks")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--power-loss-at", type=_hour_mark, action="append", default=[], metavar="HOUR")
    s.add_argument("--reset-at", type=_hour_mark, action="append", default=[], metavar="HOUR")
    s.add_argument("--measure-mem", action="store_true", help="collect garbage at checkpoints to measure RAM (slower)")
    s.add_argument("--summary-json", action="store_true", help="print the summary as JSON on stdout")
    s.set_defaults(func=run_simulate)
    r = nsub.add_parser("report", help="frames, bytes, airtime a day and RAM, per kind and radio")
    r.add_argument("--hours", type=_hours, default=24.0)
    r.add_argument("--mem-wakes", type=int, default=14,
                   help="wakes in the RAM measurement on the unix port, fixed heap (0: skip)")
    r.add_argument("--interpreter", choices=("micropython", "cpython"), default=None)
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=run_report)
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
from lpwa.boards.host.simulate import simulate
_motion = None
if %r:
    from lpwa.boards.host.motion import MotionScene
    with open("/lpwa_motion.txt") as _fh:
        _motion = MotionScene(json.loads(_fh.readline()), bytes.fromhex(_fh.read().strip()))
_r = simulate(config.loads(%r), hours=%r, seed=%r, scenario=%r, power_loss_at_h=%r, reset_at_h=%r,
              measure_mem=%r, hang_at_h=%r, downlinks=%s, faults=%r, motion=_motion)
_motion = None
for _f in _r["frames"]:
    print("F" + json.dumps(_f))
for _e in _r["events"]:
    print("E" + json.dumps(_e))
print("S" + json.dumps({"wakes": _r["wakes"], "mem": _r["mem"], "rtc_bytes": _r["rtc_bytes"],
                        "pedometer": _r.get("pedometer")}))
"""


def run_sim(cfg_json, hours, interpreter=None, seed=1, scenario=None, power_loss_at_h=(), reset_at_h=(),
            measure_mem=False, mpy=None, hang_at_h=(), downlinks=(), faults=None, motion=None):
    """Run the simulation; returns (frames, events, info) with info["interpreter"].

    motion: a pedometer wearer's day from lpwa.tools.sim.gait_day.pedometer_day() (what the simulated IMU
    feels); None keeps the host World's three short walks."""
    if interpreter is None:
        interpreter = "micropython" if _harness_ok() else "cpython"
    scenario = scenario or {}
    if interpreter == "cpython":
        from lpwa.boards.host.simulate import simulate
        from lpwa.firmware import config

        r = simulate(config.loads(cfg_json), hours=hours, seed=seed, scenario=scenario,
                     power_loss_at_h=tuple(power_loss_at_h), reset_at_h=tuple(reset_at_h), measure_mem=measure_mem,
                     hang_at_h=tuple(hang_at_h), downlinks=[(h, bytes(d)) for h, d in downlinks], faults=faults,
                     motion=_scene(motion))
        return r["frames"], r["events"], {"wakes": r["wakes"], "mem": r["mem"], "rtc_bytes": r["rtc_bytes"],
                                          "pedometer": r.get("pedometer"), "interpreter": "cpython"}
    from lpwa.tools.mpy import MicroPython

    own = mpy is None
    if own:
        mpy = MicroPython()
        mpy.load_board_files()
    try:
        if motion is not None:  # the wearer's day as a file in the interpreter (JSON segments, hex samples)
            mpy.write_files({"/lpwa_motion.txt": json.dumps(motion["segments"]) + "\n" + motion["blob"].hex()})
        dl = "[" + ", ".join("(%r, bytes.fromhex(%r))" % (float(h), bytes(d).hex()) for h, d in downlinks) + "]"
        out = mpy.run(_MPY_CODE % (motion is not None, cfg_json, float(hours), seed, scenario, tuple(power_loss_at_h),
                                    tuple(reset_at_h), bool(measure_mem), tuple(hang_at_h), dl, faults))
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


def _scene(motion):
    if motion is None:
        return None
    from lpwa.tools.sim.gait_day import scene

    return scene(motion)


def _harness_ok():
    import os
    import shutil

    from lpwa.tools import mpy as micropython

    return shutil.which("node") is not None and os.path.isdir(micropython.NODE_MODULES)


def summarize(frames, events, info, hours):
    """Per-day figures: frames, bytes, airtime, and what the scheduler refused."""
    scale = 24.0 / hours if hours else 1.0
    messages = len({(f["meta"].get("counter"), f["meta"].get("what")) for f in frames})
    nbytes = sum(len(f["hex"]) // 2 for f in frames)
    air = sum(f["meta"].get("airtime_us", 0) for f in frames)
    refused = [e for e in events if e.get("event") == "tx" and not e.get("sent")]
    reasons = {}
    for e in refused:
        why = (e.get("budget") or {}).get("reason") if (e.get("budget") or {}).get("ok") is False else e.get("lbt") or e.get("error")
        reasons[why] = reasons.get(why, 0) + 1
    return {
        "frames_per_day": round(len(frames) * scale, 1),
        "messages_per_day": round(messages * scale, 1),
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
        from lpwa.gateway.tomlfile import TomlFileError

        try:
            cfg_json = _load_toml_config(args.config)
        except TomlFileError as e:  # unreadable, or not TOML
            sys.stderr.write("lpwa node: %s\n" % e)
            return 1
        except ValueError as e:  # TOML syntax or config.ConfigError (never echoes the key)
            sys.stderr.write("lpwa node: %s: %s\n" % (args.config, e))
            return 1
    else:
        cfg_json = sim_config(args.kind, args.radio)
    scenario = SCENARIOS.get(args.scenario or "calm")
    if args.interpreter == "micropython" and not _harness_ok():
        sys.stderr.write("lpwa node: the MicroPython harness is not installed (npm ci --prefix tools/mpy)\n")
        return 1
    motion = None
    if json.loads(cfg_json)["kind"] == "pedometer" and args.wearer == "gait-day":
        from lpwa.tools.sim.gait_day import pedometer_day

        motion = pedometer_day(0.0, args.hours)
    try:
        frames, events, info = run_sim(cfg_json, args.hours, args.interpreter, args.seed, scenario,
                                       args.power_loss_at, args.reset_at, args.measure_mem, motion=motion)
    except config.ConfigError as e:
        sys.stderr.write("lpwa node: config: %s\n" % e)
        return 1
    try:
        if args.out:
            fh = sys.stdout if args.out == "-" else open(args.out, "w")
            try:
                for f in frames:
                    fh.write(json.dumps(f, separators=(",", ":")) + "\n")
            finally:
                if fh is not sys.stdout:
                    fh.close()
        if args.events:
            with open(args.events, "w") as fh:
                for e in events:
                    fh.write(json.dumps(e, separators=(",", ":")) + "\n")
    except OSError as e:
        sys.stderr.write("lpwa node: cannot write %s: %s\n" % (e.filename, e.strerror or e))
        return 1
    summary = summarize(frames, events, info, args.hours)
    cfg = json.loads(cfg_json)
    summary.update({"kind": cfg["kind"], "radio": cfg["radio"], "device": cfg["device"], "hours": args.hours})
    if motion is not None:
        summary["steps"] = step_accuracy(cfg_json, frames, motion)
    if args.summary_json:
        print(json.dumps(summary))
    else:
        sys.stderr.write(
            "%s/%s on the host board (%s): %d wakes, %.1f frames/day, %d bytes/day, %.2f s airtime/day, "
            "%d alarms, refused %s%s\n" % (
                summary["kind"], summary["radio"], summary["interpreter"], summary["wakes"] or 0,
                summary["frames_per_day"], summary["bytes_per_day"], summary["airtime_s_per_day"], summary["alarms"],
                summary["refused"] or "none", (", wrote " + args.out) if args.out and args.out != "-" else ""))
        if "steps" in summary:
            st = summary["steps"]
            sys.stderr.write("steps: %d true (gait model), %d reported at the gateway, error %+.2f %%\n"
                             % (st["truth"], st["reported"], st["error_pct"]))
    return 0


def step_accuracy(cfg_json, frames, day):
    """The model's true steps against the steps the gateway decodes from the frames."""
    from lpwa.gateway.frames import FrameDecoder

    cfg = json.loads(cfg_json)
    dec = FrameDecoder({cfg["device"]: bytes.fromhex(cfg["key"])}.get)
    got = 0
    for f in frames:
        for d in dec.feed(bytes.fromhex(f["hex"]), f["radio"], f["meta"]):
            if d["type"] == "reading" and "steps" in d["readings"]:
                got += d["readings"]["steps"]["value"]
    truth = day["truth"]
    return {"truth": truth, "reported": got, "error_pct": round(100.0 * (got - truth) / truth, 2) if truth else 0.0}


def _load_toml_config(path):
    from lpwa.firmware import config
    from lpwa.gateway import tomlfile

    doc = tomlfile.load(path)
    return config.to_json(config.parse(config.from_node_toml(doc)))


def run_report(args):
    interp = args.interpreter or ("micropython" if _harness_ok() else "cpython")
    rows = []
    mpy = None
    if interp == "micropython":
        from lpwa.tools.mpy import MicroPython

        mpy = MicroPython()
        mpy.load_board_files()
    try:
        from lpwa.tools.sim.gait_day import pedometer_day

        day = pedometer_day(0.0, args.hours)
        for kind in KINDS:
            for radio in RADIOS:
                cfg = sim_config(kind, radio)
                motion = day if kind == "pedometer" else None
                frames, events, info = run_sim(cfg, args.hours, interp, mpy=mpy, motion=motion)
                row = summarize(frames, events, info, args.hours)
                row.update({"kind": kind, "radio": radio})
                if motion is not None:
                    row["steps"] = step_accuracy(cfg, frames, day)
                    row["pedometer"] = info.get("pedometer")
                rows.append(row)
    finally:
        if mpy is not None:
            mpy.close()
    from lpwa.tools.sim import energy_report

    energy_report.add(rows, sim_config, args.hours, day)  # the energy section: a metered day through the model
    from lpwa.tools.sim import ram_report

    facts = ram_report.add(rows, sim_config, args.mem_wakes) if args.mem_wakes > 0 else None
    if args.json:
        print(json.dumps(rows))
        return 0
    print("Firmware on the host board, %g simulated hours scaled to a day (%s); default plans, calm sea/patient"
          % (args.hours, interp))
    print("| kind | radio | messages/day | frames/day | bytes/day | airtime s/day | refused |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %.0f | %.0f | %d | %.1f | %s |" % (
            r["kind"], r["radio"], r["messages_per_day"], r["frames_per_day"], r["bytes_per_day"],
            r["airtime_s_per_day"], sum(r["refused"].values()) if r["refused"] else 0))
    peds = [r for r in rows if "steps" in r]
    if peds:
        print()
        print("Pedometer: the gait-model wearer's day (lpwa.tools.sim.gait_day: walks at waist/pocket/bag, a run, a bus and a "
              "car ride, shaking, rests); every step counted from the IMU FIFO, decoded at the gateway")
        print("| radio | true steps | reported | error % | samples fed/day | drains/day (moving + still) | "
              "FIFO overflows | MCU awake s/day (heltec-v2) | avg current heltec-v2 / v3 |")
        print("|---|---|---|---|---|---|---|---|---|")
        for r in peds:
            st, p, e = r["steps"], r["pedometer"], r["energy"]["boards"]
            print("| %s | %d | %d | %+.2f | %d | %d + %d | %d | %.0f | %.2f / %.2f mA |" % (
                r["radio"], st["truth"], st["reported"], st["error_pct"], p["samples"], p["drains"] - p["still_drains"],
                p["still_drains"], p["overflows"], e["heltec-v2"]["seconds"]["awake"],
                e["heltec-v2"]["avg_ma"], e["heltec-v3"]["avg_ma"]))
        print("Energy: the model, its currents and their sources are in the energy section below.")
    energy_report.print_section(rows)
    if facts is not None:
        ram_report.print_section(rows, facts)
    return 0
