"""`lpwa bench codec` when a column cannot be measured: one line says which and why, the rest prints.

The README's first command installs neither the MicroPython harness (npm) nor the dev extras
(pycayennelpp); the bench used to end in a traceback from the harness."""

import argparse
import subprocess
import sys

from lpwa.tools.bench import codec

LPWA = [sys.executable, "-m", "lpwa.tools.cli", "bench", "codec", "--repeat", "20"]


def _table_rows(stdout):
    return [line for line in stdout.splitlines() if line.startswith(("| buoy", "| drone-vital", "| pedometer"))]


def test_no_node_on_path_is_one_line_and_the_rest_prints(tmp_path):
    """No Node.js at all: PATH holds nothing (python itself is run by its full path)."""
    r = subprocess.run(LPWA, capture_output=True, text=True, timeout=120, env={"PATH": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [
        "lpwa bench codec: MicroPython heap not measured: node is not installed (apt-get install nodejs)"]
    rows = _table_rows(r.stdout)
    assert len(rows) == 9  # sizes, emissions and airtime, CPython times for the three kinds
    assert "MicroPython (1000 encodes" not in r.stdout


def test_no_npm_install_is_one_line_in_json_too(monkeypatch, capsys, tmp_path):
    """Node.js present but `npm ci` never ran: the pinned package's folder is missing."""
    import json

    from lpwa.tools import mpy

    monkeypatch.setattr(mpy, "NODE_MODULES", str(tmp_path / "node_modules" / "@micropython"))
    assert codec.main(argparse.Namespace(repeat=20, no_mpy=False, json=True)) == 0
    out, err = capsys.readouterr()
    res = json.loads(out)
    assert res["mpy_heap_bytes_per_encode"] is None and "mpy" not in res
    assert "npm ci --prefix tools/mpy" in res["mpy_unavailable"]
    assert err.strip().splitlines() == ["lpwa bench codec: MicroPython heap not measured: " + res["mpy_unavailable"]]
    assert set(res["kinds"]) == {"buoy", "drone-vital", "pedometer"}
    assert all(row["encode_us"] > 0 and row["ours_bytes"] > 0 for row in res["kinds"].values())


def test_no_pycayennelpp_is_one_line_and_dashes():
    """`pip install -e .` without the dev extras: the LPP columns show '-', the others their numbers."""
    code = ("import sys; sys.modules['cayennelpp'] = None; sys.argv = ['lpwa'] + sys.argv[1:]\n"
            "from lpwa.tools.cli import main; sys.exit(main())")
    r = subprocess.run([sys.executable, "-c", code, "bench", "codec", "--repeat", "20", "--no-mpy"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == ["lpwa bench codec: Cayenne LPP columns not measured: pycayennelpp "
                                             "is not installed (pip install pycayennelpp, or pip install -e .[dev])"]
    sizes = _table_rows(r.stdout)[:3]
    assert all(row.split(" | ")[5:7] == ["-", "-"] and row.endswith("| - | - | - | - |") for row in sizes)


def test_routine_and_full_frames_meet_the_goal_one_emission_and_under_60_percent_of_lpp_lorawan():
    res = codec.measure(repeat=5, with_mpy=False)
    for kind, row in res["kinds"].items():
        assert row["emissions"][10] == (1, 1), kind  # routine and full: one LoRa frame at SF10
        assert row["ours_bytes"] <= 24, kind  # routine frames: within the 400 ms dwell
        # full frames too, but the buoy's with salinity and conductivity (25 B: the 4 s rule, FRAMES.md)
        assert row["ours_full_bytes"] <= (25 if kind == "buoy" else 24), kind
        assert row["airtime_day_s"]["long_sf"] == ([10] if row["ours_full_bytes"] > 24 else []), kind
        if row.get("lpp_lorawan_bytes"):
            assert row["ours_vs_lpp_lorawan"] <= 0.6, kind
            assert row["ours_full_vs_lpp_lorawan"] <= 0.6, kind  # issue #17: the full frame too
        assert row["airtime_day_s"]["ours"] < row["airtime_day_s"]["v1"]
