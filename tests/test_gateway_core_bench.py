"""`lpwa bench gateway` runs end to end (tiny sizes) and prints the issue's JSON shape.
No timing assertions: the figures are for the report, not for CI."""

import json
import subprocess
import sys

import pytest

from conftest import mosquitto_binary

pytestmark = pytest.mark.broker


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto not installed")
def test_bench_gateway_json_shape():
    r = subprocess.run([sys.executable, "-m", "lpwa.cli", "bench", "gateway", "--json", "-n", "400",
                        "--latency-frames", "200", "--rate", "500", "--rounds", "1", "--devices", "4"],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert list(result) == ["pipeline_fps", "baseline_fps", "ratio", "p50_ms", "p99_ms", "rss_mb"]
    assert all(isinstance(v, (int, float)) and v > 0 for v in result.values())
    assert result["p50_ms"] <= result["p99_ms"]
