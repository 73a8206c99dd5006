"""`lpwa bench algorithms`: step, wave and PPG algorithms against ground truth.

Every trace runs through the same script under CPython and under the real MicroPython
(WebAssembly port); the table shows the estimate, its error, and whether both interpreters
produced bit-identical outputs at every checkpoint. Traces are the documented physical models
in `lpwa.tools.sim`; beside them the real recordings (lpwa.tools.bench.recordings: walks from
../shared or the vendored copy, buoy records from ../shared only) are scored, no goal applied yet. Cost is the
time per sample as a ratio to a baseline loop measured in the same run (same data, no-op
feed), and RAM is what the estimator keeps after gc.collect() under MicroPython.
"""

import json
import os

GOALS = {"steps_trace_pct": 5.0, "steps_total_pct": 2.0, "hm0_pct": 10.0, "hr_bpm": 3.0, "spo2_pts": 2.0}
PPG_LATENCY_S = 0.5      # a reading may outlive the good signal this long while motion is detected
PPG_WARMUP_S = 12        # coverage counts checkpoints this long into a good segment


def add_arguments(parser):
    parser.add_argument("--quick", action="store_true", help="shorter traces (a fifth of the length)")
    parser.add_argument("--no-micropython", action="store_true",
                        help="CPython only (no identity check, no MicroPython cost or RAM)")


def _datasets_dir():
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(os.path.dirname(here), "shared", "datasets")


def _run_both(mpy, algo, trace, **kw):
    from lpwa.tools.sim import runners
    a = runners.run_cpython(algo, trace, **kw)
    b = runners.run_micropython(mpy, algo, trace, **kw) if mpy else None
    return a, b


class _Cost:
    """Sums time, baseline time and samples over traces, per interpreter."""

    def __init__(self):
        self.c = [0, 0, 0]
        self.m = [0, 0, 0]
        self.ram = 0
        self.garbage = 0.0

    def add(self, a, b):
        for acc, r in ((self.c, a), (self.m, b)):
            if r:
                acc[0] += r["us"]
                acc[1] += r["baseline_us"]
                acc[2] += r["samples"]
        if b:
            self.ram = max(self.ram, b["ram_kept"] or 0)
            self.garbage = max(self.garbage, b["alloc_per_sample"] or 0.0)

    def as_dict(self, rate):
        def per(acc):
            if not acc[2] or not acc[1]:
                return None, None
            return round(acc[0] / acc[2], 2), round(acc[0] / acc[1], 2)
        cu, cr = per(self.c)
        mu, mr = per(self.m)
        return {"rate_hz": rate, "cpython_us_per_sample": cu, "cpython_ratio_to_baseline": cr,
                "micropython_us_per_sample": mu, "micropython_ratio_to_baseline": mr,
                "micropython_ram_kept_bytes": self.ram if self.m[2] else None,
                "micropython_garbage_bytes_per_sample": round(self.garbage, 1) if self.m[2] else None}


def bench_steps(mpy, scale):
    from lpwa.tools.sim import gait
    rows, cost = [], _Cost()
    for t in gait.bench_traces(scale):
        a, b = _run_both(mpy, "steps", t)
        cost.add(a, b)
        est = a["final"]
        err = 100.0 * (est - t.truth) / t.truth if t.truth else None
        rows.append({"name": t.name, "model": t.info, "rate_hz": t.rate_hz, "truth": t.truth, "estimate": est,
                     "error_pct": None if err is None else round(err, 2),
                     "identical_micropython": None if b is None else (a["checks"] == b["checks"] and a["final"] == b["final"])})
    truth = sum(r["truth"] for r in rows if r["truth"])
    est = sum(r["estimate"] for r in rows if r["truth"])
    total_err = 100.0 * (est - truth) / truth
    false_steps = sum(r["estimate"] for r in rows if not r["truth"])
    ok = (all(abs(r["error_pct"]) <= GOALS["steps_trace_pct"] for r in rows if r["truth"])
          and abs(total_err) <= GOALS["steps_total_pct"])
    return {"traces": rows, "total": {"truth": truth, "estimate": est, "error_pct": round(total_err, 2)},
            "false_steps_non_walking": false_steps, "goal_met": ok, "cost": cost.as_dict(50)}


def bench_waves(mpy, scale):
    from lpwa.tools.sim import runners, sea
    rows, cost = [], _Cost()
    seconds = 1024             # the buoy plan's record (wave_window_s)
    for t in sea.bench_traces(seconds):
        a, b = _run_both(mpy, "waves", t, window_s=seconds)
        cost.add(a, b)
        hm0, tp = runners.unhex(a["checks"][-1]) if a["checks"] and a["checks"][-1] else (None, None)
        err = None if hm0 is None else 100.0 * (hm0 - t.hm0) / t.hm0
        rows.append({"name": t.name, "model": t.info, "window_s": seconds,
                     "truth": round(t.hm0, 3), "estimate": None if hm0 is None else round(hm0, 3),
                     "error_pct": None if err is None else round(err, 2),
                     "truth_tp_s": t.tp, "estimate_tp_s": None if tp is None else round(tp, 2),
                     "identical_micropython": None if b is None else a["checks"] == b["checks"]})
    ok = all(r["error_pct"] is not None and abs(r["error_pct"]) <= GOALS["hm0_pct"] for r in rows)
    return {"traces": rows, "goal_met": ok, "cost": cost.as_dict(4)}


def bench_ppg(mpy, scale):
    from lpwa.tools.sim import ppg, runners
    rows, cost = [], _Cost()
    for t in ppg.bench_traces(scale):
        a, b = _run_both(mpy, "ppg", t)
        cost.add(a, b)
        every = t.rate_hz
        bad_out = covered = coverable = 0
        bad_since = good_since = None
        checks = a["checks"]
        ci = 0
        for i, v in enumerate(t.valid):
            if v:
                bad_since = None
                good_since = i if good_since is None else good_since
            else:
                good_since = None
                bad_since = i if bad_since is None else bad_since
            if (i + 1) % every == 0:
                out = checks[ci]
                ci += 1
                if not v and i - bad_since >= PPG_LATENCY_S * t.rate_hz and out is not None:
                    bad_out += 1
                if v and i - good_since >= PPG_WARMUP_S * t.rate_hz:
                    coverable += 1
                    covered += out is not None
        from lpwa.tools.bench.ppg_records import firmware_reading
        final = firmware_reading(checks)      # what sensing.py would send from this trace
        row = {"name": t.name, "model": t.info, "truth_hr": None if t.hr is None else round(t.hr, 1),
               "estimate_hr": None, "hr_error_bpm": None, "truth_spo2": t.spo2, "estimate_spo2": None,
               "spo2_error_pts": None, "quality": None,
               "coverage_pct": round(100.0 * covered / coverable, 1) if coverable else None,
               "outputs_on_bad_segments": bad_out,
               "identical_micropython": None if b is None else a["checks"] == b["checks"]}
        row.update(_ppg_final(final, t))
        rows.append(row)
    ok = all(r["outputs_on_bad_segments"] == 0 for r in rows) and all(_ppg_ok(r) for r in rows)
    hard = [r for r in rows if r["hard"]]
    return {"traces": rows, "goal_met": ok, "cost": cost.as_dict(50),
            "hard_yield": "%d of %d" % (sum(r["estimate_hr"] is not None for r in hard), len(hard))}


def _ppg_final(final, t):
    """The trace's last reading against its truth; SpO2 "below range" when the curve's range ends."""
    from lpwa.firmware.algorithms import spo2
    row = {"spo2_flags": None, "calibrated": t.cal is not None, "hard": t.hard}
    if final:
        row.update(estimate_hr=round(final[0], 1), quality=final[2], spo2_flags=final[3],
                   estimate_spo2=None if final[1] is None else round(final[1], 1))
        if t.hr is not None:
            row["hr_error_bpm"] = round(final[0] - t.hr, 2)
            if final[1] is not None:
                row["spo2_error_pts"] = round(final[1] - t.spo2, 2)
            elif final[3] & spo2.BELOW_RANGE:
                row["estimate_spo2"] = "below range"
    return row


def _ppg_ok(r):
    """HR within the goal; SpO2 within it, or "below range" where the truth is below the curve's."""
    if r["truth_hr"] is None:
        return r["estimate_hr"] is None
    if r["hard"] and r["estimate_hr"] is None:
        return True                   # at the sensor's limit: no reading is fine, a wrong one is not
    if r["hr_error_bpm"] is None or abs(r["hr_error_bpm"]) > GOALS["hr_bpm"]:
        return False
    if r["hard"] and r["estimate_spo2"] is None:
        return True
    if r["estimate_spo2"] == "below range":
        return r["truth_spo2"] < 70
    return r["spo2_error_pts"] is not None and abs(r["spo2_error_pts"]) <= GOALS["spo2_pts"]


def _fmt(v, spec="%s"):
    return "-" if v is None else spec % v


def _same(v):
    return "-" if v is None else ("yes" if v else "NO")


def print_tables(res):
    s = res["steps"]
    print("Step counter (goal: each walking/running trace within %.0f %%, total within %.0f %%, non-walking ~0)"
          % (GOALS["steps_trace_pct"], GOALS["steps_total_pct"]))
    print("%-20s %-40s %6s %8s %8s  %s" % ("trace", "model", "truth", "estimate", "error%", "same on MicroPython"))
    for r in s["traces"]:
        print("%-20s %-40s %6d %8d %8s  %s" % (r["name"], r["model"], r["truth"], r["estimate"],
                                               _fmt(r["error_pct"], "%+.2f"), _same(r["identical_micropython"])))
    t = s["total"]
    print("%-20s %-40s %6d %8d %8s  goal met: %s" % ("TOTAL walking/running", "", t["truth"], t["estimate"],
                                                      "%+.2f" % t["error_pct"], "yes" if s["goal_met"] else "NO"))
    print()
    w = res["waves"]
    print("Wave height (goal: Hm0 within %.0f %%; truth = 4 x std of the record's surface)" % GOALS["hm0_pct"])
    print("%-22s %-41s %7s %8s %7s %6s %6s  %s" % ("trace", "model", "Hm0 m", "estimate", "error%", "Tp s", "est", "same on MicroPython"))
    for r in w["traces"]:
        print("%-22s %-41s %7.3f %8s %7s %6.1f %6s  %s" % (
            r["name"], r["model"], r["truth"], _fmt(r["estimate"], "%.3f"), _fmt(r["error_pct"], "%+.2f"),
            r["truth_tp_s"], _fmt(r["estimate_tp_s"], "%.1f"), _same(r["identical_micropython"])))
    print("goal met: %s" % ("yes" if w["goal_met"] else "NO"))
    print()
    p = res["ppg"]
    print("Heart rate and SpO2 (goal: HR within %.0f bpm, SpO2 within %.0f points, nothing on motion / no finger)"
          % (GOALS["hr_bpm"], GOALS["spo2_pts"]))
    print("%-28s %6s %6s %6s %5s %11s %6s %4s %4s %6s %4s  %s" % (
        "trace", "HR", "est", "err", "SpO2", "est", "err", "Q", "flag", "cover%", "bad", "same on MicroPython"))
    for r in p["traces"]:
        est = r["estimate_spo2"]
        print("%-28s %6s %6s %6s %5s %11s %6s %4s %4s %6s %4d  %s" % (
            r["name"], _fmt(r["truth_hr"], "%.1f"), _fmt(r["estimate_hr"], "%.1f"), _fmt(r["hr_error_bpm"], "%+.1f"),
            _fmt(r["truth_spo2"]), est if isinstance(est, str) else _fmt(est, "%.1f"),
            _fmt(r["spo2_error_pts"], "%+.1f"), _fmt(r["quality"]), _fmt(r["spo2_flags"]),
            _fmt(r["coverage_pct"], "%.0f"), r["outputs_on_bad_segments"], _same(r["identical_micropython"])))
    print("goal met: %s   (cover%% = share of 1 s checkpoints with a reading, %d s into a good segment;"
          " bad = readings more than %.1f s into a motion / no-finger segment)"
          % ("yes" if p["goal_met"] else "NO", PPG_WARMUP_S, PPG_LATENCY_S))
    print("flag: SpO2 bits, 1 default (uncalibrated) curve, 2 below the curve's validated range, 4 R inconsistent;"
          " traces named other-sensor-cal-* run with that sensor's calibration")
    print("hard traces (%s with a reading): %s -- no reading passes there, a wrong one fails"
          % (p["hard_yield"], ", ".join(r["name"] for r in p["traces"] if r["hard"])))
    print()
    from lpwa.tools.bench import ppg_records
    ppg_records.print_table(p)
    print()
    print("Cost per sample (ratio = time / a baseline loop feeding a no-op, same data, same run)")
    print("%-6s %5s %12s %8s %15s %8s %10s %14s" % ("algo", "Hz", "CPython us", "ratio", "MicroPython us", "ratio",
                                                  "RAM kept", "garbage B/smp"))
    for name in ("steps", "waves", "ppg"):
        c = res[name]["cost"]
        print("%-6s %5d %12s %8s %15s %8s %10s %14s" % (
            name, c["rate_hz"], _fmt(c["cpython_us_per_sample"]), _fmt(c["cpython_ratio_to_baseline"]),
            _fmt(c["micropython_us_per_sample"]), _fmt(c["micropython_ratio_to_baseline"]),
            _fmt(c["micropython_ram_kept_bytes"], "%d B"), _fmt(c["micropython_garbage_bytes_per_sample"])))
    print()
    from lpwa.tools.bench import recordings
    recordings.print_tables(res)
    print()
    print("traces: %s" % res["source"])


def _add_recordings(res, mpy):
    """The real recordings beside the model traces: a "recordings" list per algorithm."""
    from lpwa.tools.bench import recordings
    rec = recordings.run(lambda algo, trace, **kw: _run_both(mpy, algo, trace, **kw))
    res["recordings_source"] = rec["source"]
    res["steps"]["recordings"] = rec["steps"]
    res["steps"]["recordings_totals"] = rec["steps_totals"]
    res["waves"]["recordings"] = rec["waves"]
    res["waves"]["recordings_deficit"] = rec["waves_deficit"]
    from lpwa.tools.bench import ppg_records
    ppg_records.add(res["ppg"], lambda algo, trace, **kw: _run_both(mpy, algo, trace, **kw))


def run(use_micropython=True, quick=False, mpy=None):
    """All three benches; `mpy` is an interpreter to reuse (else one is started and closed)."""
    scale = 0.2 if quick else 1.0
    own = None
    if use_micropython and mpy is None:
        from lpwa.tools.mpy import MicroPython
        mpy = own = MicroPython(heap_bytes=64 * 1024 * 1024)
        mpy.load_board_files()
    if not use_micropython:
        mpy = None
    try:
        res = {"steps": bench_steps(mpy, scale), "waves": bench_waves(mpy, scale), "ppg": bench_ppg(mpy, scale)}
        _add_recordings(res, mpy)
    finally:
        if own:
            own.close()
    ds = _datasets_dir()
    res["source"] = ("models (lpwa.tools.sim: gait, sea, ppg), seeded; %s" % (
        "real recordings: %s" % res["recordings_source"] if os.path.isdir(ds)
        else "no recorded datasets at %s" % ds))
    res["interpreters"] = ["CPython", "MicroPython (WebAssembly port)"] if mpy else ["CPython"]
    return res


def main(args):
    res = run(use_micropython=not getattr(args, "no_micropython", False), quick=getattr(args, "quick", False))
    if getattr(args, "json", False):
        print(json.dumps(res, indent=1))
    else:
        print_tables(res)
    ok = res["steps"]["goal_met"] and res["waves"]["goal_met"] and res["ppg"]["goal_met"]
    return 0 if ok else 1
