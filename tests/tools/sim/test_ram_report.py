"""`lpwa node report` carries the unix-port RAM figures per kind x radio in JSON, with the fit per board."""

import json
import subprocess
import sys


def test_the_json_report_carries_need_peak_resident_and_the_fit(unix_port_exe):
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "node", "report", "--interpreter", "cpython",
                        "--hours", "0.25", "--mem-wakes", "3", "--json"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 9
    for row in rows:
        m = row["ram"]
        assert m["wakes"] == 3 and m["form"] == "mpy" and m["interpreter"] == "unix port"
        assert 0 < m["resident"] <= m["peak"] <= m["need"]
        for board, f in m["fits"].items():
            assert f["margin"] == f["heap"] - m["need"] and f["fits"] == (f["margin"] >= 0), board
        assert m["fits"]["tbeam"]["fits"]
