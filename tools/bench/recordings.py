"""The real recordings in `lpwa bench algorithms`, scored with the firmware's algorithms as they are.

Steps: each Oxford walk at 25 Hz through the StepCounter (the same script as the model traces,
lpwa.tools.sim.runners), truth against estimate, per placement and overall; the swinging-arm
walks in the counter's wrist mode (a wrist band's config: step_mode = "wrist"), the rest in body
mode. Goal (issue #11): every walk within 5 % (wrist 10 %), the total within 2 %. Waves: the
microSWIFT014 buoy's accelerometer and gyro at 8 Hz through the ImuWaveEstimator (earth vertical,
then the spectrum at 4 Hz: the buoy plan), a 1024 s record from the start of each CDIP 30-minute
period and the whole period, against that period's CDIP192 row; the bench units' records (on
land, truth: no waves) whole. Goal (issue #11): Hm0 within 15 %, Tp within 20 %, bench 0 within 5 cm.
"""

import math

from lpwa.tools.sim import recordings, runners


def _pct(est, truth):
    return round(100.0 * (est - truth) / truth, 2) if truth else None


def _same(a, b):
    return None if b is None else (a["checks"] == b["checks"] and a["final"] == b["final"])


STEP_GOAL_PCT = {"body": 5.0, "wrist": 10.0}
STEP_TOTAL_GOAL_PCT = 2.0


def step_mode(walk):
    """The counter's mode for a walk: a phone swung in the hand moves like a wrist band."""
    return "wrist" if walk.placement == "swingingarm" else "body"


def score_steps(run_both, walks):
    """(rows, totals): one row per walk; totals per placement and overall."""
    rows = []
    for w in walks:
        mode = step_mode(w)
        a, b = run_both("steps", w, mode=mode)
        rows.append({"name": w.name, "placement": w.placement, "mode": mode, "goal_pct": STEP_GOAL_PCT[mode],
                     "recording": w.info, "rate_hz": w.rate_hz,
                     "seconds": round(len(w.samples) / float(w.rate_hz), 1), "suspect": w.suspect,
                     "truth": w.truth, "estimate": a["final"], "error_pct": _pct(a["final"], w.truth),
                     "identical_micropython": _same(a, b)})
    groups = {}
    for r in rows:
        g = groups.setdefault(r["placement"], {"walks": 0, "truth": 0, "estimate": 0, "abs_error_steps": 0,
                                               "worst_walk": None, "worst_error_pct": None})
        if g["worst_walk"] is None or abs(r["error_pct"]) > abs(g["worst_error_pct"]):
            g["worst_walk"], g["worst_error_pct"] = r["name"], r["error_pct"]
        g["walks"] += 1
        g["truth"] += r["truth"]
        g["estimate"] += r["estimate"]
        g["abs_error_steps"] += abs(r["estimate"] - r["truth"])
    for g in groups.values():
        g["error_pct"] = _pct(g["estimate"], g["truth"])
        g["mean_abs_error_pct"] = round(100.0 * g["abs_error_steps"] / g["truth"], 2)
    truth = sum(r["truth"] for r in rows)
    est = sum(r["estimate"] for r in rows)
    total = {"walks": len(rows), "truth": truth, "estimate": est, "error_pct": _pct(est, truth),
             "mean_abs_error_pct": round(100.0 * sum(abs(r["estimate"] - r["truth"]) for r in rows) / truth, 2)
             if truth else None}
    misses = [r["name"] for r in rows if abs(r["error_pct"]) > r["goal_pct"]]
    total["walks_off_goal"] = misses
    total["goal_met"] = bool(rows) and not misses and abs(total["error_pct"]) <= STEP_TOTAL_GOAL_PCT
    return rows, {"placements": groups, "total": total}


WAVE_GOAL = {"hm0_pct": 15.0, "tp_pct": 20.0, "bench_m": 0.05}


def score_waves(run_both, records):
    """One row per record: its (Hm0, Tp) over the record's whole length against the reference."""
    rows = []
    for rec in records:
        a, b = run_both("imu_waves", rec, window_s=rec.window_s)
        res = runners.unhex(a["checks"][-1]) if a["checks"] and a["checks"][-1] else None
        hm0 = None if res is None else round(res[0], 3)
        tp = None if res is None else round(res[1], 2)
        row = {"name": rec.name, "recording": rec.info, "rate_hz": rec.rate_hz, "window_s": rec.window_s,
               "truth": rec.hm0, "estimate": hm0, "error_pct": _pct(hm0, rec.hm0) if hm0 is not None else None,
               "truth_tp_s": rec.tp, "estimate_tp_s": tp,
               "tp_error_pct": _pct(tp, rec.tp) if tp is not None and rec.tp else None,
               "identical_micropython": _same(a, b)}
        row["goal_met"] = _wave_ok(row)
        rows.append(row)
    return rows


def _wave_ok(r):
    if not r["truth"]:
        return (r["estimate"] or 0.0) <= WAVE_GOAL["bench_m"]
    return (r["error_pct"] is not None and abs(r["error_pct"]) <= WAVE_GOAL["hm0_pct"]
            and r["tp_error_pct"] is not None and abs(r["tp_error_pct"]) <= WAVE_GOAL["tp_pct"])


WAVE_BANDS_HZ = ((0.05, 0.10), (0.10, 0.15), (0.15, 0.20), (0.20, 0.30), (0.30, 0.60))


def wave_deficit(trace):
    """Where an estimate's energy differs from the reference's, for a record with a CDIP row:
    the estimator's displacement spectrum (captured as it looks for the peak) against CDIP192's,
    per band, and the reference's Hm0 over the bins the noise floor test kept. None without one."""
    import os
    from lpwa.firmware.algorithms.imu_waves import ImuWaveEstimator
    key = getattr(trace, "period", None)
    if key is None:
        return None
    ref = recordings.read_cdip_spectrum(os.path.join(recordings.SHARED, "waves", "microswift",
                                                     "CDIP192_Oct2021.csv"), key)
    est = ImuWaveEstimator(trace.rate_hz, trace.window_s)
    spectra = []
    inner = est._waves._peak_frequency
    est._waves._peak_frequency = lambda p, lo, hi: (spectra.append(list(p)), inner(p, lo, hi))[1]
    for s in trace.samples:
        est.feed(*s)
    if not spectra or ref is None:
        return None
    w = est._waves
    df = w.rate_hz / w._n
    ours = spectra[-1]
    kept = [k for k, v in enumerate(ours) if v > 0.0]
    f_kept = kept[0] * df if kept else None
    bands = []
    for lo, hi in WAVE_BANDS_HZ:
        e_ours = sum(v for k, v in enumerate(ours) if lo <= k * df < hi) * df
        e_ref = sum(b * e for f, b, e in ref if lo <= f < hi)
        bands.append({"band_hz": [lo, hi], "ref_m2": round(e_ref, 4), "estimate_m2": round(e_ours, 4),
                      "ratio": round(e_ours / e_ref, 2) if e_ref > 0 else None})
    seen = sum(b * e for f, b, e in ref if f_kept is not None and f >= f_kept - df / 2)
    return {"name": trace.name, "ref_hm0": trace.hm0, "kept_from_hz": None if f_kept is None else round(f_kept, 3),
            "ref_hm0_kept_band": round(4.0 * math.sqrt(seen), 3), "bands": bands}


def run(run_both):
    """{"source", "steps": (rows, totals), "waves": rows}; waves only when ../shared exists."""
    source, walks = recordings.steps()
    rows, totals = score_steps(run_both, walks)
    waves = recordings.waves()
    deficit = [d for d in (wave_deficit(t) for t in waves if t.hm0) if d is not None]
    return {"source": source, "steps": rows, "steps_totals": totals, "waves": score_waves(run_both, waves),
            "waves_deficit": deficit}


def _f(v, spec):
    return "-" if v is None else spec % v


def _same_txt(v):
    return "-" if v is None else ("yes" if v else "NO")


def print_tables(res):
    src = res["recordings_source"]
    where = {"shared": recordings.SHARED, "vendored": recordings.VENDORED, "none": "nowhere"}[src]
    print("Step counter on real recordings (Oxford step-counter walks at 25 Hz; source: %s, %s)" % (src, where))
    print("%-42s %-32s %-5s %6s %8s %8s  %s" % ("walk", "recording", "mode", "truth", "estimate", "error%",
                                              "same on MicroPython"))
    for r in res["steps"]["recordings"]:
        print("%-42s %-32s %-5s %6d %8d %8s  %s" % (
            r["name"] + (" (suspect)" if r["suspect"] else ""), r["recording"], r["mode"], r["truth"], r["estimate"],
            _f(r["error_pct"], "%+.2f") + ("" if abs(r["error_pct"]) <= r["goal_pct"] else " !"),
            _same_txt(r["identical_micropython"])))
    tot = res["steps"]["recordings_totals"]
    print("%-14s %5s %7s %8s %8s %10s  %s" % ("placement", "walks", "truth", "estimate", "error%", "mean|err|%",
                                              "worst walk"))
    for name in sorted(tot["placements"]):
        g = tot["placements"][name]
        print("%-14s %5d %7d %8d %8s %10s  %s %s" % (name, g["walks"], g["truth"], g["estimate"],
                                                     _f(g["error_pct"], "%+.2f"), _f(g["mean_abs_error_pct"], "%.2f"),
                                                     _f(g["worst_error_pct"], "%+.2f"), g["worst_walk"]))
    t = tot["total"]
    print("%-14s %5d %7d %8d %8s %10s" % ("TOTAL", t["walks"], t["truth"], t["estimate"],
                                          _f(t["error_pct"], "%+.2f"), _f(t["mean_abs_error_pct"], "%.2f")))
    print("goal (every walk within %.0f %%, wrist mode %.0f %%, total %.0f %%) met: %s%s" % (
        STEP_GOAL_PCT["body"], STEP_GOAL_PCT["wrist"], STEP_TOTAL_GOAL_PCT, "yes" if t.get("goal_met") else "no",
        "" if not t.get("walks_off_goal") else " (off: %s)" % ", ".join(t["walks_off_goal"])))
    print()
    w = res["waves"]["recordings"]
    if not w:
        print("Wave height on real recordings: none (the microSWIFT records are read from %s only, never vendored)"
              % recordings.SHARED)
        return
    print("Wave height on real recordings (microSWIFT accel + gyro at 8 Hz -> earth vertical -> spectrum at 4 Hz;"
          " truth = CDIP192's row, bench units 0)")
    print("%-30s %6s %6s %8s %7s %6s %6s %7s %4s  %s" % ("record", "len s", "Hm0 m", "estimate", "error%", "Tp s", "est",
                                                     "Tp err%", "ok", "same on MicroPython"))
    for r in w:
        print("%-30s %6d %6.2f %8s %7s %6s %6s %7s %4s  %s" % (
            r["name"], r["window_s"], r["truth"], _f(r["estimate"], "%.3f"), _f(r["error_pct"], "%+.1f"),
            _f(r["truth_tp_s"], "%.2f"), _f(r["estimate_tp_s"], "%.2f"), _f(r["tp_error_pct"], "%+.1f"),
            "yes" if r["goal_met"] else "NO", _same_txt(r["identical_micropython"])))
    print("goal: Hm0 within %.0f %%, Tp within %.0f %% of CDIP192 (1.7 km away), bench units under %.2f m"
          % (WAVE_GOAL["hm0_pct"], WAVE_GOAL["tp_pct"], WAVE_GOAL["bench_m"]))
    d = res["waves"].get("recordings_deficit") or []
    if d:
        print("Where the wave estimate's energy goes (displacement energy m^2 per band, estimate / CDIP192;"
              " 'kept from': the lowest bin over the noise floor test; 'ref Hm0 there': CDIP over those bins)")
        print("%-30s %6s %9s %13s  %s" % ("record", "ref", "kept from", "ref Hm0 there",
                                          "  ".join("%.2f-%.2f Hz" % tuple(b["band_hz"]) for b in d[0]["bands"])))
        for r in d:
            print("%-30s %6.2f %7s Hz %13.3f  %s" % (
                r["name"], r["ref_hm0"], _f(r["kept_from_hz"], "%.3f"), r["ref_hm0_kept_band"],
                "  ".join("%11s" % _f(b["ratio"], "%.2f") for b in r["bands"])))
