"""`lpwa demo --gateways 2` through the real CLI: each uplink printed once with both gateways'
RSSI, one downlink transmitted once and accepted by the buoy."""

import re
import subprocess
import sys

import pytest

from support.broker import mosquitto_binary

pytestmark = [pytest.mark.broker, pytest.mark.slow,
              pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")]


def test_demo_with_two_gateways():
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "demo", "--gateways", "2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ups = [l for l in r.stdout.splitlines() if l.startswith("buoy/")]
    keys = [tuple(re.match(r"buoy/(\w+) counter (\d+)", l).groups()) for l in ups]
    assert len(keys) == 7 and len(set(keys)) == 7  # six uplinks and the one that opened the window, once each
    assert all("heard by 2 gateways (gw-" in l and l.count("dBm") == 2 for l in ups)
    assert "downlink transmitted 1 time(s)" in r.stdout and "accepted ['set-interval counter 1'], rejected 0" in r.stdout
    assert "Traceback" not in r.stderr


def test_demo_gateways_out_of_range_is_a_usage_error():
    r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "demo", "--gateways", "0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--gateways must be 1..8" in r.stderr
