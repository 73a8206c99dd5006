"""`lpwa node report` states the energy model, the battery life per kind, and carries it in JSON."""

import json
import subprocess
import sys

from lpwa.tools.cli.node import sim_config
from lpwa.tools.sim import energy_report


def report(*args):
    return subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "node", "report", "--interpreter", "cpython",
                           "--mem-wakes", "0", "--hours", "1", *args], capture_output=True, text=True, timeout=600)


def test_the_report_prints_the_battery_life_lines_and_the_sourced_model():
    r = report()
    assert r.returncode == 0, r.stderr
    for kind in ("buoy", "drone-vital", "pedometer"):
        line = [x for x in r.stdout.splitlines() if x.startswith("Battery life, %s on " % kind)]
        assert len(line) == 1, r.stdout
        assert "mAh" in line[0] and "self-discharge" in line[0] and "lora/heltec-v2" in line[0]
    assert "| part | state | mA | level | checked | source |" in r.stdout
    assert "IMU rate (pedometer/lora): 25 Hz" in r.stdout


def test_the_json_report_carries_the_energy_per_board():
    r = report("--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert len(rows) == 9
    for row in rows:
        e = row["energy"]
        assert e["duty"]["wakes"] > 0
        for board in energy_report.BOARDS:
            b = e["boards"][board]
            assert b["avg_ma"] > 0 and b["life_days"] > 0 and b["cell"]


def test_a_higher_imu_rate_costs_drains_not_imu_current():
    from lpwa.tools.sim.gait_day import pedometer_day

    cost = energy_report.imu_rate_cost(sim_config("pedometer", "lora"), 2.0, pedometer_day(0.0, 2.0))
    assert cost[50]["drains"] > 1.5 * cost[25]["drains"]
    assert cost[50]["samples"] > cost[25]["samples"]
    for board in energy_report.SHOWN:
        assert cost[50]["avg_ma"][board] >= cost[25]["avg_ma"][board]
