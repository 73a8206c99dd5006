"""`lpwa bench algorithms`: the JSON the issue asks for, goals met on the quick traces, and every
trace bit-identical under MicroPython and CPython."""

import json
import math
import os
import subprocess
import sys

import pytest

from lpwa.tools.bench import algorithms as bench_algorithms
from lpwa.tools.sim import runners

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.mark.mpy
def test_quick_bench_meets_the_goals_identically_on_both_interpreters():
    # no session `mpy`: the bench starts an interpreter of its own (64 MB heap); on the session's, its heap
    # full of every earlier test's modules, the ~250 real PPG records ran ~5x slower (CI: 14 min against 3)
    res = bench_algorithms.run(use_micropython=True, quick=True)
    for algo in ("steps", "waves", "ppg"):
        assert res[algo]["goal_met"], algo
        for row in res[algo]["traces"]:
            assert {"name", "truth" if algo != "ppg" else "truth_hr"} <= set(row)
            assert row["identical_micropython"] is True, (algo, row["name"])
        cost = res[algo]["cost"]
        assert cost["micropython_ram_kept_bytes"] > 0 and cost["cpython_ratio_to_baseline"] > 0
    step = res["steps"]["traces"][0]
    assert set(step) >= {"name", "truth", "estimate", "error_pct"}
    json.dumps(res)


def test_cli_prints_json_with_the_issue_shape():
    out = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "bench", "algorithms", "--json", "--quick",
                          "--no-micropython"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert [r["name"] for r in res["steps"]["traces"]][:1] == ["walk-waist-1.4Hz"]
    assert res["steps"]["traces"][0]["identical_micropython"] is None


def test_vendored_walks_load_at_the_firmware_rate_with_their_truth():
    from lpwa.tools.sim import recordings
    walks = recordings.vendored_walks()
    with open(os.path.join(recordings.VENDORED, "index.json")) as f:
        index = json.load(f)["walks"]
    assert len(walks) == len(index) == 48
    assert {w.placement for w in walks} == {"inhand", "armband", "neckpouch", "frontpocket", "backpocket",
                                            "purse", "swingingarm"}
    for w, m in zip(walks, index):
        assert w.rate_hz == recordings.STEP_RATE_HZ == 25 and w.truth == m["truth_steps"] > 0
        assert 60 * 25 < len(w.samples) < 400 * 25, w.name        # walks last one to six minutes
        assert all(len(s) == 3 and all(isinstance(v, int) for v in s) for s in w.samples[:50])
        mag = sum(math.sqrt(x * x + y * y + z * z) for x, y, z in w.samples) / len(w.samples)
        assert 900 < mag < 1150, (w.name, mag)                     # gravity included, in mg


def test_vendored_copy_is_the_shared_data_block_averaged():
    from lpwa.tools.sim import recordings
    if not os.path.isfile(os.path.join(recordings.SHARED, "steps", "index.json")):
        pytest.skip("../shared/datasets/steps absent: nothing to compare the vendored copy with")
    shared = recordings.shared_walks()
    vendored = recordings.vendored_walks()
    assert [w.name for w in shared] == [w.name for w in vendored]
    assert all(a.samples == b.samples and a.truth == b.truth for a, b in zip(shared, vendored))


@pytest.fixture(scope="module")
def vendored_bench():
    """One CPython quick bench without ../shared (about two minutes), read by every test that checks
    its rows: the PPG records are scored once, not once per test."""
    from lpwa.tools.sim import recordings
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(recordings, "SHARED", os.path.join(ROOT, "no-such-shared"))
        return bench_algorithms.run(use_micropython=False, quick=True)


def test_bench_json_scores_the_vendored_recordings_without_shared(vendored_bench):
    res = vendored_bench
    assert res["recordings_source"] == "vendored"
    rows = res["steps"]["recordings"]
    assert len(rows) == 48 and all(set(r) >= {"name", "placement", "truth", "estimate", "error_pct"} for r in rows)
    totals = res["steps"]["recordings_totals"]
    assert totals["total"]["truth"] == sum(r["truth"] for r in rows)
    assert sum(g["walks"] for g in totals["placements"].values()) == 48
    err = {r["name"]: (r["placement"], r["error_pct"]) for r in rows}
    for name, g in totals["placements"].items():          # each placement's worst walk, named
        assert err[g["worst_walk"]] == (name, g["worst_error_pct"])
        assert all(abs(e) <= abs(g["worst_error_pct"]) for p, e in err.values() if p == name)
    assert res["waves"]["recordings"] == []
    assert res["waves"]["recordings_deficit"] == []
    ppg_rows = res["ppg"]["recordings"]        # the PPG is vendored: scored with or without ../shared
    assert len(ppg_rows) == 147 + 73 + 24 and all(
        set(r) >= {"name", "truth_hr", "estimate_hr", "hr_error_bpm", "acf_hr", "beats_hr", "good_signal"}
        for r in ppg_rows)
    json.dumps(res)


def test_ppg_recordings_are_scored_as_the_firmware_keeps_them(vendored_bench):
    """Per record: the watch's HR, the same 6 s later (its lag) and the record's offline beats;
    totals per length. Issue #11: a heart rate from 5 s when the signal is good, within 3 bpm,
    none when it is not. Floors under this revision's figures (5 s: 104 of 133 clean records,
    102 within 3 bpm of their beats, no false reading; main before: 45 of 133)."""
    tot = vendored_bench["ppg"]["recordings_totals"]  # ppg_records.add on CPython, as the bench runs it
    assert set(tot) == {"5 s", "10 s", "30 s"} and tot["10 s"]["records"] == 72 and tot["30 s"]["records"] == 24
    for k, floor in (("5 s", 70), ("10 s", 80), ("30 s", 80)):
        t = tot[k]
        assert t["good_yield_pct"] >= floor, (k, t)
        assert t["good_within_goal_vs_beats"] >= 0.95 * t["good_with_reading"], (k, t)
        assert t["good_mean_abs_error_vs_beats_bpm"] <= 1.0, (k, t)
        assert t["false_readings"] <= 0.1 * t["other_records"], (k, t)
    assert tot["10 s"]["median_abs_error_vs_acf_bpm"] <= 2.0
    assert tot["5 s"]["false_readings"] == 0


def test_ppg_record_mapping_keeps_the_pulse_the_right_way_up():
    """Light falls fast at systole and recovers slowly: the mapped IR's 0.1 s slope is skewed
    negative, as a MAX30102's is (the old mapping flipped it and beats were timed on diastole)."""
    from lpwa.tools.sim import ppg_records
    t = ppg_records.records(30)[15]
    ir = [s[1] for s in t.samples]
    d = [ir[i + 5] - ir[i] for i in range(len(ir) - 5)]
    m = sum(d) / float(len(d))
    sd = (sum((x - m) ** 2 for x in d) / len(d)) ** 0.5
    assert sum((x - m) ** 3 for x in d) / len(d) / sd ** 3 < -0.5


def test_wave_recordings_are_scored_against_cdip_when_shared_exists():
    from lpwa.tools.bench import recordings as bench_rec
    from lpwa.tools.sim import recordings
    records = recordings.waves()
    if not records:
        pytest.skip("../shared/datasets/waves absent: the microSWIFT records are never vendored")
    rows = bench_rec.score_waves(lambda algo, t, **kw: (runners.run_cpython(algo, t, **kw), None), records)
    buoy = [r for r in rows if r["truth"]]
    assert [r["name"] for r in buoy] == ["microSWIFT014 19:00 first", "microSWIFT014 19:30 first",
                                         "microSWIFT014 19:00 whole", "microSWIFT014 19:30 whole"]
    assert [(r["truth"], r["truth_tp_s"]) for r in buoy][:2] == [(1.84, 6.67), (1.79, 7.14)]
    assert [r["window_s"] for r in buoy] == [1024, 1024, 1792, 1152]
    # issue #11: Hm0 within 15 %, Tp within 20 % of the reference buoy (was +34 % / +45 %, Tp +38 %)
    assert all(r["goal_met"] for r in buoy), [(r["name"], r["error_pct"], r["tp_error_pct"]) for r in buoy]
    bench = [r for r in rows if r["truth"] == 0.0]
    # 0 within 5 cm: 057's knock read 0.057 m before the transient test
    assert len(bench) == 3 and all(r["goal_met"] for r in bench), [(r["name"], r["estimate"]) for r in bench]


def test_wave_deficit_compares_the_spectrum_with_cdip_per_band():
    from lpwa.tools.bench import recordings as bench_rec
    from lpwa.tools.sim import recordings
    records = [t for t in recordings.waves() if t.hm0]
    if not records:
        pytest.skip("../shared/datasets/waves absent: the microSWIFT records are never vendored")
    for d in (bench_rec.wave_deficit(t) for t in records):
        # the floor test keeps bins from about 0.12 Hz on this unit: the reference over them is lower
        assert 0.1 <= d["kept_from_hz"] <= 0.15 and d["ref_hm0_kept_band"] < d["ref_hm0"], d
        bands = {tuple(b["band_hz"]): b for b in d["bands"]}
        assert bands[(0.05, 0.10)]["estimate_m2"] == 0.0
        assert all(0.3 <= b["ratio"] <= 2.0 for k, b in bands.items() if k[0] >= 0.10), d


def test_ppg_reference_beats_find_a_model_pulse_rate():
    """The offline beat reference the real records are scored against must itself be right: on a
    model pulse with known beats it gives the heart rate within 1 bpm and calls the rhythm clean,
    and on the model's motion it does not call a clean rhythm."""
    from lpwa.tools.sim import ppg, ppg_records
    for seed, bpm in ((1, 58), (2, 77), (3, 104)):
        t = ppg.ppg("ref", 900 + seed, bpm, 97, 20)
        light = [ir for _, ir in t.samples]
        hr, good = ppg_records.reference_hr(ppg_records.reference_beats(light, t.rate_hz), 0, 20)
        assert good and abs(hr - t.hr) <= 1.0, (bpm, t.hr, hr)
    m = ppg.ppg("motion", 907, 80, 97, segments=[("motion", 20)])
    _, good = ppg_records.reference_hr(ppg_records.reference_beats([ir for _, ir in m.samples], 50), 0, 20)
    assert not good
