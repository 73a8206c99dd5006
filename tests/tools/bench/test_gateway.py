"""`lpwa bench gateway` runs end to end (tiny sizes) and prints the issue's JSON shape.
No timing assertions: the figures are for the report, not for CI."""

import json
import subprocess
import sys

import pytest

from support.broker import mosquitto_binary

pytestmark = pytest.mark.broker


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto not installed")
def test_bench_gateway_json_shape():
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "bench", "gateway", "--json", "-n", "400",
                        "--latency-frames", "200", "--rate", "500", "--rounds", "1", "--devices", "4"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert list(result) == ["pipeline_fps", "baseline_fps", "ratio", "p50_ms", "p99_ms", "rss_mb"]
    assert all(isinstance(v, (int, float)) and v > 0 for v in result.values())
    assert result["p50_ms"] <= result["p99_ms"]


@pytest.mark.parametrize("args", [["-n", "0"], ["--devices", "0"], ["--rate", "0"], ["--rounds", "0"],
                                  ["--latency-frames", "0"], ["--inflight", "70000"], ["--broker", "nope"],
                                  ["--rate", "nan"], ["-n", "x"]])
def test_bad_flags_are_one_line_errors(args):
    """These were tracebacks (ZeroDivisionError, min() of nothing, no median, ConfigError) after
    starting a broker; now argparse refuses them before anything starts."""
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "bench", "gateway", *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("lpwa bench gateway: error: argument ") and args[0] in line


def test_unreachable_broker_is_a_one_line_error():
    from support.broker import free_port

    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "bench", "gateway", "--broker",
                        "mqtt://127.0.0.1:%d" % free_port()], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "cannot connect to the MQTT broker" in r.stderr
