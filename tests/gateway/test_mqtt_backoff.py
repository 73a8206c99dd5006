"""Issue #13 point 5: a refused MQTT login made 149 connections and 148 error lines in 30 s. Now
the back-off grows (reset only by an accepted CONNACK), one line per episode, the reason in status."""

import json
import os
import shutil
import subprocess
import time

import pytest

from support.broker import Mosquitto
from support.gateway import make_config, running
from support.waits import wait_for


def test_refused_login_backs_off_logs_once_and_says_why(tmp_path, caplog):
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not os.path.exists(tool):
        pytest.skip("mosquitto_passwd not installed")
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)
    passwd = os.path.join(broker.dir, "passwd")
    subprocess.run([tool, "-b", "-c", passwd, "gateway", "right-pass"], check=True, capture_output=True)
    os.chmod(passwd, 0o644)
    broker.extra_conf = "password_file %s\n" % passwd
    try:
        broker.start()
        cfg = make_config(tmp_path, broker, mqtt={"username": "gateway", "password": "wrong-pass-xyz"})
        with caplog.at_level("INFO", logger="lpwa.gateway.mqtt"), running(cfg) as gw:
            wait_for(lambda: gw.sink.connect_refused >= 4, 30, "four refused logins")
            time.sleep(0.5)  # the window is only for the upper bound below, not a timing assertion
            st = gw.sink.status()
        lines = [r for r in caplog.records if getattr(r, "event", None) == "mqtt-refused"]
        assert len(lines) == 1, "one error line per refusal episode"
        assert st["refused_reason"] and "wrong-pass-xyz" not in json.dumps(st)
        # exponential: three waits behind four refusals make 0.2 * 2**3 = 1.6 s (was reset to 0.2 by
        # every TCP connect), growing, never reset by anything but an accepted CONNACK
        assert st["backoff_s"] >= 1.6 and st["connect_attempts"] <= st["connect_refused"] + 1
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)
