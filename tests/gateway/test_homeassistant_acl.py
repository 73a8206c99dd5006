"""The Mosquitto ACL in gateway/README.md, as written there, against a real Mosquitto: the gateway's
discovery configs and uplinks are all accepted (none in the dead table) and Home Assistant's user
receives the configs and buoy data, never a personal-data message."""

import json
import os
import pathlib
import shutil
import subprocess
import time

from support.broker import Mosquitto
from support.gateway import frame, make_config, running
from support.mqtt import Subscriber
from support.waits import wait_for

README = pathlib.Path(__file__).resolve().parents[2] / "gateway" / "README.md"
USERS = {"lpwa-gateway": "gw-pass-1", "homeassistant": "ha-pass-2", "dashboard": "dash-pass-3"}


def readme_acl():
    text = README.read_text()
    start = text.index("```\n", text.index("Mosquitto example")) + 4
    return text[start:text.index("```", start)]


def _broker_with_readme_acl():
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)  # mosquitto drops root before reading these files
    passwd, acl = os.path.join(broker.dir, "passwd"), os.path.join(broker.dir, "acl")
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    for i, (user, password) in enumerate(USERS.items()):
        subprocess.run([tool, "-b"] + (["-c"] if i == 0 else []) + [passwd, user, password], check=True,
                       capture_output=True)
    with open(acl, "w") as f:
        f.write(readme_acl())
    for path in (passwd, acl):
        os.chmod(path, 0o644)
    broker.extra_conf = "password_file %s\nacl_file %s\n" % (passwd, acl)
    return broker.start()


def test_readme_acl_lets_the_gateway_publish_discovery_and_home_assistant_read_it(tmp_path):
    assert "topic write homeassistant/#" in readme_acl()
    broker = _broker_with_readme_acl()
    try:
        ha = Subscriber(broker, "#", username="homeassistant", password=USERS["homeassistant"])
        cfg = make_config(tmp_path / "state", broker, mqtt={"username": "lpwa-gateway", "ha_discovery": True,
                                                            "password": USERS["lpwa-gateway"]})
        with running(cfg) as gw:
            wait_for(lambda: gw.sink.connected, 10, "connected")
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
            gw.pipeline.ingest("lora", frame("11223344", 1), {}, "udp")
            wait_for(lambda: gw.queue.depth == 0, 10, "published")
            time.sleep(0.3)
            assert gw.queue.dead == 0, gw.queue.dead_rows()
        configs = [t for t in ha.topics() if t.startswith("homeassistant/") and t.endswith("/config")]
        assert len([t for t in configs if "_0a1b2c3d/" in t]) == 10  # every buoy entity
        assert len([t for t in configs if "_11223344/" in t]) == 11  # and the drone-vital node's (spo2_flags too)
        assert [m["kind"] for m in ha.uplinks()] == ["buoy"]  # no personal data for Home Assistant's user
        status = [json.loads(p) for t, p, r in ha.messages if t == "lpwa/gw-test/status"]
        assert status and status[0]["state"] == "online"
        ha.close()
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)
