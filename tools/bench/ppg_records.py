"""The PPG part of the real recordings in `lpwa bench algorithms`: a wrist PPG cut into records.

Each record (lpwa.tools.sim.ppg_records: the e2epyppg sample, vendored) runs through the
firmware's PpgEstimator under CPython and MicroPython with a checkpoint every 0.2 s, the
firmware's FIFO read: the reading scored is the one sensing.py would send, the first over 8
beats or else the last of the record (every reading averages 5 beats or more). Three references
per record, none of them ours: the watch's own heart rate averaged over the record (smoothed, 1
bpm steps, and about 6 s late), the same shifted by the watch's lag, and the record's beats found
offline (non-causal, whole record) with the flag "good" (a clean rhythm of 5 or more beats);
against the beats the reading is compared with their HR over its own span (the last 8 offline
intervals before the checkpoint it was taken at; a 30 s record's reading covers 6-7 s of it).
Yield = readings on good records / good records; a false reading = a reading on a record that
is not good and more than 3 bpm off its offline beats (or without any).
"""

from lpwa.tools.sim import ppg_records, runners

GOAL_BPM = 3.0
CHECK_EVERY_S = 0.2


def firmware_reading(checks, with_index=False):
    """What the firmware keeps: the first full (8-beat) reading, else the last one (and the
    index of its checkpoint when `with_index`)."""
    last, at = None, None
    for i, c in enumerate(checks):
        if c is not None:
            last, at = runners.unhex(c), i
            if last[4]:
                break
    return (last, at) if with_index else last


def beats_hr_before(beats, t_s, most=8):
    """HR of the last `most` reference intervals before `t_s`: the span the reading averages."""
    bb = [b for b in beats if b <= t_s][-(most + 1):]
    return 60.0 * (len(bb) - 1) / (bb[-1] - bb[0]) if len(bb) >= 3 else None


def _err(est, ref):
    return None if est is None or ref is None else round(est - ref, 2)


def score(run_both, traces):
    rows = []
    for t in traces:
        a, b = run_both("ppg", t, every=int(t.rate_hz * CHECK_EVERY_S))
        got, at = firmware_reading(a["checks"], with_index=True)
        est = got[0] if got else None
        # the reference over the beats this reading averages (the record's last 8 before it)
        span_hr = beats_hr_before(t.ref_beats, (at + 1) * CHECK_EVERY_S) if got else t.ref_hr
        rnd = lambda v: None if v is None else round(v, 1)
        rows.append({"name": t.name, "recording": t.info, "seconds": round(len(t.samples) / float(t.rate_hz), 1),
                     "truth_hr": rnd(t.hr), "watch_lagged_hr": rnd(t.hr_lagged), "beats_hr": rnd(span_hr),
                     "good_signal": t.ref_good, "estimate_hr": rnd(est), "hr_error_bpm": _err(est, t.hr),
                     "error_vs_lagged_bpm": _err(est, t.hr_lagged), "error_vs_beats_bpm": _err(est, span_hr),
                     "acf_hr": round(t.acf_hr, 1), "error_vs_acf_bpm": _err(est, t.acf_hr),
                     "quality": got[2] if got else None,
                     "identical_micropython": None if b is None else a["checks"] == b["checks"]})
    return rows


def _within(rows, key):
    return sum(r[key] is not None and abs(r[key]) <= GOAL_BPM for r in rows)


def _median(v):
    return round(sorted(v)[len(v) // 2], 2) if v else None


def totals(rows):
    scored = [r for r in rows if r["truth_hr"] is not None]
    read = [r for r in scored if r["estimate_hr"] is not None]
    errs = [abs(r["hr_error_bpm"]) for r in read]
    good = [r for r in rows if r["good_signal"]]
    good_read = [r for r in good if r["estimate_hr"] is not None]
    gerr = [abs(r["error_vs_beats_bpm"]) for r in good_read]
    bad = [r for r in rows if not r["good_signal"]]
    bad_read = [r for r in bad if r["estimate_hr"] is not None]
    false = [r for r in bad_read if r["error_vs_beats_bpm"] is None or abs(r["error_vs_beats_bpm"]) > GOAL_BPM]
    return {"records": len(scored), "with_reading": len(read),
            "yield_pct": round(100.0 * len(read) / len(scored), 1) if scored else None,
            "within_goal": _within(read, "hr_error_bpm"),
            "within_goal_lagged": _within(read, "error_vs_lagged_bpm"),
            "mean_abs_error_bpm": round(sum(errs) / len(errs), 2) if errs else None,
            "max_abs_error_bpm": round(max(errs), 2) if errs else None,
            "median_abs_error_vs_acf_bpm": _median([abs(r["error_vs_acf_bpm"]) for r in read]),
            "median_watch_vs_acf_bpm": _median([abs(r["truth_hr"] - r["acf_hr"]) for r in scored]),
            "good_records": len(good), "good_with_reading": len(good_read),
            "good_yield_pct": round(100.0 * len(good_read) / len(good), 1) if good else None,
            "good_within_goal_vs_beats": _within(good_read, "error_vs_beats_bpm"),
            "good_mean_abs_error_vs_beats_bpm": round(sum(gerr) / len(gerr), 2) if gerr else None,
            "good_max_abs_error_vs_beats_bpm": round(max(gerr), 2) if gerr else None,
            "other_records": len(bad), "other_with_reading": len(bad_read), "false_readings": len(false),
            "false_reading_pct": round(100.0 * len(false) / len(bad), 1) if bad else None}


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


def _f(v, spec="%.1f"):
    return "-" if v is None else spec % v


def print_table(p):
    print("Heart rate on a real wrist PPG (%s; goal %.0f bpm). watch: its own HR over the record;"
          " +%ds: the same %d s later (its lag); beats: the record's beats found offline, G = a clean"
          " rhythm" % (p.get("recordings_source"), GOAL_BPM, ppg_records.WATCH_LAG_S, ppg_records.WATCH_LAG_S))
    print("%-16s %6s %6s %6s %1s %6s %7s %7s %7s %6s %4s  %s" % (
        "record", "watch", "+%ds" % ppg_records.WATCH_LAG_S, "beats", "G", "est", "err", "vs +lag", "vs beat",
        "acf", "Q", "same on MicroPython"))
    for r in p.get("recordings", []):
        print("%-16s %6s %6s %6s %1s %6s %7s %7s %7s %6.1f %4s  %s" % (
            r["name"], _f(r["truth_hr"]), _f(r["watch_lagged_hr"]), _f(r["beats_hr"]), "G" if r["good_signal"] else "-",
            _f(r["estimate_hr"]), _f(r["hr_error_bpm"], "%+.1f"), _f(r["error_vs_lagged_bpm"], "%+.1f"),
            _f(r["error_vs_beats_bpm"], "%+.1f"), r["acf_hr"], r["quality"] or "-",
            "-" if r["identical_micropython"] is None else ("yes" if r["identical_micropython"] else "NO")))
    print("%-6s %6s %7s %6s %9s %9s %10s %9s | %5s %7s %6s %9s %10s %9s | %6s %7s %6s" % (
        "length", "scored", "reading", "yield%", "<=3 watch", "<=3 +lag", "mean |err|", "max |err|",
        "good", "reading", "yield%", "<=3 beats", "mean |err|", "max |err|", "other", "reading", "false"))
    for k, t in p.get("recordings_totals", {}).items():
        print("%-6s %6d %7d %6s %9d %9d %10s %9s | %5d %7d %6s %9d %10s %9s | %6d %7d %6d" % (
            k, t["records"], t["with_reading"], _f(t["yield_pct"]), t["within_goal"], t["within_goal_lagged"],
            _f(t["mean_abs_error_bpm"], "%.2f"), _f(t["max_abs_error_bpm"], "%.2f"), t["good_records"],
            t["good_with_reading"], _f(t["good_yield_pct"]), t["good_within_goal_vs_beats"],
            _f(t["good_mean_abs_error_vs_beats_bpm"], "%.2f"), _f(t["good_max_abs_error_vs_beats_bpm"], "%.2f"),
            t["other_records"], t["other_with_reading"], t["false_readings"]))
    print("(left: against the watch, records it has an HR for; middle: records with a clean rhythm, against"
          " their offline beats; right: the other records, false = a reading more than 3 bpm off their beats)")
