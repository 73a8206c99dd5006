"""The PPG part of the real recordings in `lpwa bench algorithms`: a wrist PPG cut into records.

Each record (lpwa.tools.sim.ppg_records: the e2epyppg sample, vendored) runs through the
firmware's PpgEstimator under CPython and MicroPython with a checkpoint every 0.2 s, the
firmware's FIFO read: the reading scored is the one sensing.py would send, the first over 8
beats or else the last of the record. Truth is the watch's own heart rate averaged over the
record (an independent estimator, smoothed, 1 bpm steps): errors of a few bpm are partly its
own. Yield = records with a reading / records with a truth.
"""

from lpwa.tools.sim import ppg_records, runners

GOAL_BPM = 3.0
CHECK_EVERY_S = 0.2


def firmware_reading(checks):
    """What the firmware keeps: the first full (8-beat) reading, else the last one."""
    last = None
    for c in checks:
        if c is not None:
            last = runners.unhex(c)
            if last[4]:
                break
    return last


def score(run_both, traces):
    rows = []
    for t in traces:
        a, b = run_both("ppg", t, every=int(t.rate_hz * CHECK_EVERY_S))
        got = firmware_reading(a["checks"])
        row = {"name": t.name, "recording": t.info, "seconds": round(len(t.samples) / float(t.rate_hz), 1),
               "truth_hr": None if t.hr is None else round(t.hr, 1), "estimate_hr": None, "hr_error_bpm": None,
               "acf_hr": round(t.acf_hr, 1), "error_vs_acf_bpm": None,
               "quality": None, "identical_micropython": None if b is None else a["checks"] == b["checks"]}
        if got:
            row.update(estimate_hr=round(got[0], 1), quality=got[2], error_vs_acf_bpm=round(got[0] - t.acf_hr, 2))
            if t.hr is not None:
                row["hr_error_bpm"] = round(got[0] - t.hr, 2)
        rows.append(row)
    return rows


def totals(rows):
    scored = [r for r in rows if r["truth_hr"] is not None]
    errs = [abs(r["hr_error_bpm"]) for r in scored if r["hr_error_bpm"] is not None]
    acf = [abs(r["error_vs_acf_bpm"]) for r in scored if r["error_vs_acf_bpm"] is not None]
    watch_acf = [abs(r["truth_hr"] - r["acf_hr"]) for r in scored]
    return {"records": len(scored), "with_reading": len(errs),
            "median_abs_error_vs_acf_bpm": sorted(acf)[len(acf) // 2] if acf else None,
            "median_watch_vs_acf_bpm": round(sorted(watch_acf)[len(watch_acf) // 2], 2) if watch_acf else None,
            "yield_pct": round(100.0 * len(errs) / len(scored), 1) if scored else None,
            "within_goal": sum(e <= GOAL_BPM for e in errs),
            "mean_abs_error_bpm": round(sum(errs) / len(errs), 2) if errs else None,
            "max_abs_error_bpm": round(max(errs), 2) if errs else None}


def add(res_ppg, run_both):
    """res["ppg"]["recordings"] (every record of every length) and "recordings_totals"."""
    rows, tot = [], {}
    for seconds in ppg_records.RECORD_S:
        part = score(run_both, ppg_records.records(seconds))
        rows += part
        tot["%d s" % seconds] = totals(part)
    res_ppg["recordings"] = rows
    res_ppg["recordings_totals"] = tot
    res_ppg["recordings_source"] = "vendored: tests/data/ppg (e2epyppg sample, MIT)"


def print_table(p):
    print("Heart rate on a real wrist PPG (%s; truth: the watch's own HR over the record;"
          " goal %.0f bpm)" % (p.get("recordings_source"), GOAL_BPM))
    print("%-16s %6s %6s %7s %6s %7s %4s  %s" % ("record", "truth", "est", "err", "acf", "vs acf", "Q",
                                                "same on MicroPython"))
    for r in p.get("recordings", []):
        print("%-16s %6s %6s %7s %6.1f %7s %4s  %s" % (
            r["name"], "-" if r["truth_hr"] is None else "%.1f" % r["truth_hr"],
            "-" if r["estimate_hr"] is None else "%.1f" % r["estimate_hr"],
            "-" if r["hr_error_bpm"] is None else "%+.1f" % r["hr_error_bpm"], r["acf_hr"],
            "-" if r["error_vs_acf_bpm"] is None else "%+.1f" % r["error_vs_acf_bpm"], r["quality"] or "-",
            "-" if r["identical_micropython"] is None else ("yes" if r["identical_micropython"] else "NO")))
    print("%-8s %7s %8s %7s %12s %10s %9s %14s %15s" % (
        "records", "scored", "reading", "yield%", "within goal", "mean |err|", "max |err|", "median vs acf",
        "watch vs acf"))
    for k, t in p.get("recordings_totals", {}).items():
        print("%-8s %7d %8d %7s %12d %10s %9s %14s %15s" % (
            k, t["records"], t["with_reading"], t["yield_pct"], t["within_goal"], t["mean_abs_error_bpm"],
            t["max_abs_error_bpm"], t["median_abs_error_vs_acf_bpm"], t["median_watch_vs_acf_bpm"]))
    print("(acf: the record's autocorrelation HR, offline; 'watch vs acf' shows how far the two references"
          " are apart themselves)")
