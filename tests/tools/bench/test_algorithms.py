"""`lpwa bench algorithms`: the JSON the issue asks for, goals met on the quick traces, and every
trace bit-identical under MicroPython and CPython."""

import json
import os
import subprocess
import sys

from lpwa.tools.bench import algorithms as bench_algorithms

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_quick_bench_meets_the_goals_identically_on_both_interpreters(mpy):
    res = bench_algorithms.run(use_micropython=True, quick=True, mpy=mpy)
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
