"""`lpwa airtime`: one frame, the tables, JSON, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from lpwa.tools.cli import main


def run(capsys, *args):
    assert main(["airtime", *args]) == 0
    return capsys.readouterr().out


def test_the_issue_example(capsys):
    out = run(capsys, "--radio", "lora", "--sf", "10", "--bw", "125", "--len", "20")
    assert "370.688 ms" in out and "24 B" in out and "frames per hour" in out


def test_json_single_frame_uses_the_documented_defaults(capsys):
    r = json.loads(run(capsys, "--sf", "10", "--len", "11", "--json"))
    assert r["airtime_us"] == 288768  # SF10 11 B, CR 4/5, 8 symbols, explicit header, CRC on
    assert (r["cr"], r["preamble"], r["explicit_header"], r["crc"]) == ("4/5", 8, True, True)
    assert r["max_payload"]["arib_400ms"] == 24 and r["as923"]["n_dwell_400ms"] == 11
    assert r["frames_per_hour"]["400ms"] == (360000 - 36000) * 1000 // 288768
    r = json.loads(run(capsys, "--sf", "7", "--len", "20", "--cr", "4/8", "--json"))
    assert r["airtime_us"] == 78080
    r = json.loads(run(capsys, "--sf", "7", "--len", "20", "--implicit-header", "--json"))
    assert r["airtime_us"] == 51456
    r = json.loads(run(capsys, "--sf", "12", "--len", "51", "--json"))
    assert r["airtime_us"] == 2465792 and r["ldro"] and not r["legal"]["arib_400ms"] and r["legal"]["arib_4s_ch24_38"]
    assert r["frames_per_hour"]["400ms"] == 0 and r["frames_per_hour"]["4s_ch24_38"] > 0


def test_sigfox_and_wisun(capsys):
    r = json.loads(run(capsys, "--radio", "sigfox", "--json"))
    assert (r["airtime_us"], r["airtime_all_repeats_us"], r["frame_bytes"]) == (2080000, 6240000, 26)
    assert r["frames_per_day"] == 130
    r = json.loads(run(capsys, "--radio", "wisun", "--len", "100", "--kbps", "50", "--json"))
    assert r["airtime_us"] == (116 + 64) * 160  # 8+2+2 PHY, 64 stack headers, 100 payload, 4 FCS at 50 kbps
    assert "Sigfox RC3" in run(capsys, "--radio", "sigfox")


def test_tables(capsys):
    out = run(capsys, "--table")
    assert all(("DR%d" % d) in out for d in range(7))
    rows = json.loads(run(capsys, "--table", "--json"))["rows"]
    assert [r["as923"]["dr"] for r in rows[:7]] == list(range(7))
    assert all("airtime_us" in r for r in rows)
    assert len(json.loads(run(capsys, "--radio", "sigfox", "--table", "--json"))["rows"]) == 13
    assert len(json.loads(run(capsys, "--radio", "wisun", "--table", "--json"))["rows"]) == 5


@pytest.mark.parametrize("args", [["--sf", "13"], ["--bw", "100"], ["--len", "256"], ["--radio", "sigfox", "--len", "13"],
                                  ["--radio", "wisun", "--kbps", "75"], ["--cr", "4/9"], ["--radio", "zigbee"],
                                  ["--sf", "5"], ["--len", "x"]])
def test_bad_flags_exit_2_with_one_line(args):
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "airtime", *args], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0]
