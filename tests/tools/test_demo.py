"""`lpwa demo` end to end: the real CLI, the real gateway, an embedded amqtt broker or Mosquitto."""

import json
import signal
import subprocess
import sys

import pytest
from paho.mqtt.client import MQTTv311

from support.broker import free_port
from support.mqtt import Subscriber
from support.waits import wait_until

LPWA = [sys.executable, "-m", "lpwa.tools.cli"]


def demo(*args, timeout=120):
    return subprocess.run(LPWA + ["demo"] + list(args), capture_output=True, text=True, timeout=timeout)


def up_lines(stdout):
    out = []
    for line in stdout.splitlines():
        if line.startswith("lpwa/") and "/up " in line:
            topic, payload = line.split(" ", 1)
            out.append((topic, json.loads(payload)))
    return out


def check_messages(messages, n):
    assert len(messages) == n
    kinds = {m["kind"] for _, m in messages}
    radios = {m["radio"] for _, m in messages}
    assert kinds == {"buoy", "drone-vital", "pedometer"} and radios == {"lora", "sigfox", "wisun"}
    assert sum(1 for _, m in messages if m["alarm"]) == 1
    alarm = next(m for _, m in messages if m["alarm"])
    assert alarm["kind"] == "drone-vital" and alarm["readings"]["heart_rate_bpm"]["value"] == 142
    for topic, m in messages:
        assert topic == "lpwa/demo/%s/%s/up" % (m["kind"], m["device"])
        assert m["readings"] and all("value" in r and "unit" in r for r in m["readings"].values())
        assert m["device"] != "d0000399"  # the pedometer without consent is never published
    # each node's counters arrive in order
    seen = {}
    for _, m in messages:
        assert m["counter"] > seen.get(m["device"], 0)
        seen[m["device"]] = m["counter"]


def test_demo_with_the_embedded_broker():
    result = demo("--frames", "18")
    assert result.returncode == 0, result.stderr
    check_messages(up_lines(result.stdout), 18)
    assert "consent is withdrawn" in result.stdout
    downlink = [l for l in result.stdout.splitlines() if "downlink to buoy d0000101 over LoRa" in l]
    assert downlink and '"cmd":"set-interval"' in downlink[0] and '"seconds":600' in downlink[0]
    assert "rejected no-consent=1" in result.stdout.splitlines()[-1]
    assert "Traceback" not in result.stderr and result.stderr.strip() == ""


def test_demo_against_a_real_mosquitto(mosquitto):
    sub = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)
    try:
        result = demo("--frames", "9", "--broker", mosquitto.url)
        assert result.returncode == 0, result.stderr
        check_messages(up_lines(result.stdout), 9)
        wait_until(lambda: len(sub.ups()) >= 9, 5)
    finally:
        sub.close()
    seen = list(sub.messages)
    ups = [(t, json.loads(p)) for t, p, _ in seen if t.endswith("/up")]
    assert len(ups) == 9 and {m["device"] for _, m in ups} == {m["device"] for _, m in up_lines(result.stdout)}
    # the gateway's retained status went online and then, on a clean stop, offline
    status = [json.loads(p)["state"] for t, p, _ in seen if t == "lpwa/demo/status"]
    assert status and status[-1] == "offline"


def test_unreachable_broker_is_one_clear_line_and_exit_1():
    result = demo("--broker", "mqtt://127.0.0.1:%d" % free_port(), timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("lpwa demo: cannot connect to the MQTT broker at 127.0.0.1:")
    assert "Traceback" not in result.stderr


def test_messages_missing_at_the_timeout_is_exit_1():
    result = demo("--frames", "400", "--timeout", "1")
    assert result.returncode == 1
    assert "lpwa demo: only" in result.stderr and "of 400 messages arrived within 1 s" in result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_stops_cleanly():
    proc = subprocess.Popen(LPWA + ["demo", "--frames", "100000", "--timeout", "120"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while len([l for l in lines if l.startswith("lpwa/")]) < 3:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert "interrupted after" in out and "Traceback" not in err


@pytest.mark.parametrize("frames", ["0", "-3"])
def test_bad_frame_count_is_a_usage_error(frames):
    assert demo("--frames", frames).returncode == 2


@pytest.mark.parametrize("timeout", ["-1", "0", "nan", "inf"])
def test_bad_timeout_is_a_usage_error(timeout):
    """It used to start the broker, gateway and nodes, then report 'only 0 of 18 messages arrived
    within -1 s' (and inf set no limit at all)."""
    result = demo("--timeout", timeout, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == "lpwa demo: --timeout must be a positive number of seconds"


@pytest.mark.parametrize("args, message", [
    (["--broker", "http://example.org"], "lpwa demo: --broker http://example.org: expected mqtt://host:port"),
    (["--gateway-id", "a/b"], "lpwa demo: gateway.id:"),
])
def test_bad_arguments_are_one_clear_line(args, message):
    result = demo(*args, timeout=60)
    assert result.returncode in (1, 2) and result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
