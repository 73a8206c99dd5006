"""The gateway against a real Mosquitto: topics and payloads, retained status and last will, MQTT 5
and 3.1.1, raw and Home Assistant topics, downlinks from MQTT, consent withdrawal, a broker outage
under load (everything arrives, in order per device), username/password and TLS with a test CA."""

import json
import os
import shutil
import subprocess
import time

import pytest

from support.broker import Mosquitto, free_port
from support.gateway import KEYS, frame, make_config, make_test_ca, running
from support.mqtt import Subscriber
from support.waits import wait_for

pytestmark = pytest.mark.broker


def test_uplinks_reach_a_subscriber_with_retained_online_status(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path, mosquitto)
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "gateway connected")
        for c in range(1, 21):
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {"rssi": -80}, "udp").accepted
        wait_for(lambda: len(sub.uplinks()) == 20, 10, "20 uplinks")
        wait_for(lambda: gw.queue.depth == 0, 5, "queue drained")
        assert "lpwa/gw-test/status" in sub.topics()
        late = Subscriber(mosquitto, "lpwa/gw-test/status")  # retained: a late subscriber sees it too
        wait_for(lambda: late.messages, 5, "retained status")
        topic, payload, retained = late.messages[0]
        assert retained and json.loads(payload)["state"] == "online"
        late.close()
    ups = sub.uplinks()
    assert [m["counter"] for m in ups] == list(range(1, 21))
    assert ups[0]["readings"]["water_temp_c"] == {"value": 18.25, "unit": "degC"}
    assert ups[0]["rx"]["rssi"] == -80
    wait_for(lambda: json.loads([p for t, p, r in sub.messages if t.endswith("/status")][-1])["state"]
             == "offline", 5, "offline status on clean stop")
    sub.close()


def test_qos2_rows_are_deleted_on_pubcomp(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path, mosquitto, mqtt={"qos": 2})
    with running(cfg) as gw:
        for c in range(1, 11):
            gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {}, "udp")
        wait_for(lambda: len(sub.uplinks()) == 10, 10, "ten uplinks")
        wait_for(lambda: gw.queue.depth == 0, 5, "queue drained")
    assert [m["counter"] for m in sub.uplinks()] == list(range(1, 11))
    sub.close()


def test_mqtt311_raw_topic_and_home_assistant_discovery(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path, mosquitto, mqtt={"protocol": 311, "raw_topic": True, "ha_discovery": True})
    with running(cfg) as gw:
        f = frame("0a1b2c3d", 1)
        gw.pipeline.ingest("lora", f, {}, "udp")
        gw.pipeline.ingest("lora", frame("0a1b2c3d", 2), {}, "udp")
        wait_for(lambda: len(sub.uplinks()) == 2, 10, "uplinks")
        wait_for(lambda: gw.queue.depth == 0, 5, "queue drained")
    raw = [p for t, p, r in sub.messages if t == "lpwa/gw-test/buoy/0a1b2c3d/raw"]
    assert raw[0] == f
    configs = {t: json.loads(p) for t, p, r in sub.messages if t.startswith("homeassistant/")}
    topic = "homeassistant/sensor/lpwa_gw-test_0a1b2c3d/water_temp_c/config"
    assert configs[topic]["state_topic"] == "lpwa/gw-test/buoy/0a1b2c3d/up"
    assert configs[topic]["unit_of_measurement"] == "°C"
    assert sum(1 for t in sub.topics() if t == topic) == 1  # published once per device and field
    sub.close()


def test_downlink_from_mqtt_goes_out_in_the_next_receive_window(mosquitto, tmp_path):
    import paho.mqtt.publish as publish

    cfg = make_config(tmp_path, mosquitto)
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        time.sleep(0.2)  # subscription in place
        publish.single("lpwa/gw-test/buoy/0a1b2c3d/down", json.dumps({"cmd": "set-interval", "seconds": 900}),
                       qos=1, hostname=mosquitto.host, port=mosquitto.port)
        publish.single("lpwa/gw-test/buoy/0a1b2c3d/down", b"not json", qos=1,
                       hostname=mosquitto.host, port=mosquitto.port)
        # the kind level must match the device: an ACL on drone-vital topics cannot command a buoy
        publish.single("lpwa/gw-test/drone-vital/0a1b2c3d/down", json.dumps({"cmd": "reboot"}), qos=1,
                       hostname=mosquitto.host, port=mosquitto.port)
        wait_for(lambda: gw.pipeline.downlinks.queued == 1 and gw.pipeline.downlinks.rejected == 2, 5,
                 "downlink queued")
        assert gw.pipeline.rejections["downlink-wrong-kind"] == 1
        out = gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {"datr": "SF10BW125"}, "udp")
        assert out.accepted and out.downlink
        from lpwa.codecs.command import decode_command
        assert decode_command(out.downlink, 0x0a1b2c3d, bytes.fromhex(KEYS["0a1b2c3d"]))["seconds"] == 900


@pytest.mark.parametrize("sink", ["thread", "process"])
def test_consent_withdrawal_stops_publication_at_once(mosquitto, tmp_path, sink):
    """Also with the sink in its own process: SIGHUP's reload reaches it."""
    consent_file = tmp_path / "consent.toml"
    consent_file.write_text('devices = { "11223344" = true }\n')
    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path / "state", mosquitto, consent=False, mqtt={"sink_process": sink == "process"})
    cfg["consent"]["file"] = str(consent_file)
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        assert gw.pipeline.ingest("lora", frame("11223344", 1), {}, "udp").accepted
        wait_for(lambda: len(sub.uplinks()) == 1, 10, "first drone-vital uplink")
        consent_file.write_text('devices = { "11223344" = false }\n')
        gw.reload()  # what SIGHUP does
        assert gw.pipeline.ingest("lora", frame("11223344", 2), {}, "udp").reason == "no-consent"
        assert gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp").accepted
        wait_for(lambda: len(sub.uplinks()) == 2, 10, "buoy uplink")
    assert [m["device"] for m in sub.uplinks()] == ["11223344", "0a1b2c3d"]
    sub.close()


@pytest.mark.parametrize("sink", ["thread", "process"])
def test_broker_outage_under_load_loses_nothing_and_keeps_order(tmp_path, sink):
    broker = Mosquitto()
    # persistence on: the SUBSCRIBER's session and its undelivered messages survive the restart, so
    # the test can see everything the gateway had acknowledged; the gateway itself relies on nothing
    # the broker kept (its unacknowledged messages were never PUBACKed, so it re-sends them).
    # max_queued_messages 0: the broker must not drop what it queues for the offline subscriber
    broker.extra_conf = "persistence true\npersistence_location %s/\nmax_queued_messages 0\n" % broker.dir
    os.chmod(broker.dir, 0o777)  # mosquitto started as root drops to its own user before saving
    broker.start()
    try:
        sub = Subscriber(broker, persistent_id="lpwa-test-outage-sub-" + sink)
        cfg = make_config(tmp_path, broker, queue={"max_inflight": 20}, mqtt={"sink_process": sink == "process"})
        devices = ["0a1b2c3d", "99aabbcc"]
        with running(cfg) as gw:
            wait_for(lambda: gw.sink.connected, 10, "connected")
            counter = {d: 0 for d in devices}
            acked = []

            def send(n):
                for _ in range(n):
                    for d in devices:
                        counter[d] += 1
                        assert gw.pipeline.ingest("lora", frame(d, counter[d]), {}, "udp").accepted
                        acked.append((d, counter[d]))

            send(100)
            broker.stop()  # outage while frames keep arriving
            send(150)
            wait_for(lambda: not gw.sink.connected, 10, "disconnect noticed")
            send(50)
            assert gw.queue.depth > 0
            broker.start()  # same port, empty broker (persistence off): the gateway must re-send
            send(100)
            wait_for(lambda: gw.queue.depth == 0, 30, "backlog drained")
            wait_for(lambda: {(m["device"], m["counter"]) for m in sub.uplinks()} >= set(acked), 15,
                     "every acknowledged frame at the subscriber")
            assert gw.sink.status()["disconnects"] >= 1
        ups = sub.uplinks()
        for d in devices:
            seen = [m["counter"] for m in ups if m["device"] == d]
            assert set(seen) == set(range(1, counter[d] + 1))  # at least once ...
            first = []
            for c in seen:  # ... and in order: duplicates only ever repeat an earlier message
                if c not in first:
                    first.append(c)
            assert first == sorted(first)
        sub.close()
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def _passwd(directory, user, password):
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not os.path.exists(tool):
        pytest.skip("mosquitto_passwd not installed")
    path = os.path.join(directory, "passwd")
    subprocess.run([tool, "-b", "-c", path, user, password], check=True, capture_output=True)
    return path


def test_username_password_and_acl_for_personal_topics(tmp_path):
    """The README's ACL idea: a dashboard user may read buoys but not drone-vital or pedometer topics."""
    broker = Mosquitto()
    d = broker.dir  # readable by the mosquitto user (it drops root before reading these files)
    os.chmod(d, 0o755)
    passwd = _passwd(d, "gateway", "s3cret-gw-pass")
    subprocess.run([shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd", "-b", passwd, "dashboard",
                    "dash-pass"], check=True, capture_output=True)
    acl = os.path.join(d, "acl")
    with open(acl, "w") as f:
        f.write("user gateway\ntopic readwrite lpwa/#\n\n"
                "user dashboard\ntopic read lpwa/+/buoy/#\ntopic read lpwa/+/status\n")
    for path in (passwd, acl):
        os.chmod(path, 0o644)
    broker.extra_conf = "password_file %s\nacl_file %s\n" % (passwd, acl)
    try:
        broker.start()
        # allow_anonymous true is in the fixture's first lines; the password file still checks named users
        dash = Subscriber(broker, "lpwa/#", username="dashboard", password="dash-pass")
        cfg = make_config(tmp_path / "state", broker, mqtt={"username": "gateway", "password": "s3cret-gw-pass"})
        with running(cfg) as gw:
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
            gw.pipeline.ingest("lora", frame("11223344", 1), {}, "udp")
            wait_for(lambda: gw.queue.depth == 0, 10, "published")
            time.sleep(0.3)
            assert "s3cret-gw-pass" not in json.dumps(gw.status())
        assert [m["kind"] for m in dash.uplinks()] == ["buoy"]  # drone-vital was not delivered
        dash.close()
        bad = make_config(tmp_path / "state2", broker, mqtt={"username": "gateway", "password": "wrong"})
        with running(bad) as gw:
            wait_for(lambda: gw.sink.last_error, 10, "refusal recorded")
            assert not gw.sink.connected
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def test_tls_with_a_test_ca(tmp_path):
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)  # readable by the mosquitto user (it drops root before loading certs)
    certs = make_test_ca(broker.dir)
    for path in certs.values():
        if os.path.exists(path):
            os.chmod(path, 0o644)
    tls_port = free_port()
    broker.extra_conf = "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n" % (
        tls_port, certs["ca.crt"], certs["server.crt"], certs["server.key"])
    try:
        broker.start()
        wait_for(lambda: _port_open(tls_port), 5, "TLS listener")
        sub = Subscriber(broker, tls_ca=certs["ca.crt"], port=tls_port)
        cfg = make_config(tmp_path / "state", broker,
                          mqtt={"url": "mqtts://127.0.0.1:%d" % tls_port, "tls_ca": certs["ca.crt"]})
        with running(cfg) as gw:
            assert gw.sink.tls
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
            wait_for(lambda: len(sub.uplinks()) == 1, 10, "uplink over TLS")
        sub.close()
        # a gateway that does not trust the CA never connects (and never publishes in clear)
        os.makedirs(tmp_path / "other")
        other = make_test_ca(str(tmp_path / "other"))
        cfg = make_config(tmp_path / "state3", broker,
                          mqtt={"url": "mqtts://127.0.0.1:%d" % tls_port, "tls_ca": other["ca.crt"]})
        with running(cfg) as gw:
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 2), {}, "udp")
            time.sleep(1.0)
            assert not gw.sink.connected and gw.queue.depth == 1
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def _port_open(port):
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def test_publish_refused_by_the_broker_is_kept_in_the_dead_table_not_retried_forever(tmp_path):
    """MQTT 5: a PUBACK with an error reason (ACL says no) moves the row aside, counted and logged;
    the queue keeps flowing for everything else."""
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)
    acl = os.path.join(broker.dir, "acl")
    with open(acl, "w") as f:
        f.write("topic readwrite lpwa/+/buoy/#\ntopic readwrite lpwa/+/status\ntopic read lpwa/+/+/+/down\n")
    os.chmod(acl, 0o644)
    broker.extra_conf = "acl_file %s\n" % acl  # anonymous clients get only these topics
    try:
        broker.start()
        sub = Subscriber(broker, "lpwa/#")
        cfg = make_config(tmp_path, broker)
        with running(cfg) as gw:
            gw.pipeline.ingest("lora", frame("11223344", 1), {}, "udp")  # drone-vital: not allowed
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
            wait_for(lambda: gw.queue.depth == 0, 10, "queue empty")
            wait_for(lambda: len(sub.uplinks()) == 1, 5, "the buoy message")
            st = gw.status()
            assert st["pipeline"]["queue"]["dead"] == 1 and st["mqtt"]["refused"] == 1
            dead = gw.queue.db.execute("SELECT topic, reason FROM dead").fetchall()
            assert dead[0][0] == "lpwa/gw-test/drone-vital/11223344/up" and "authori" in dead[0][1].lower()
        sub.close()
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def test_mutual_tls_with_a_client_certificate(tmp_path):
    broker = Mosquitto()
    os.chmod(broker.dir, 0o755)
    certs = make_test_ca(broker.dir)
    for path in certs.values():
        if os.path.exists(path):
            os.chmod(path, 0o644)
    tls_port = free_port()
    broker.extra_conf = ("listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n"
                         % (tls_port, certs["ca.crt"], certs["server.crt"], certs["server.key"]))
    try:
        broker.start()
        wait_for(lambda: _port_open(tls_port), 5, "TLS listener")
        sub = Subscriber(broker)  # plain listener, to watch
        url = "mqtts://127.0.0.1:%d" % tls_port
        cfg = make_config(tmp_path / "a", broker, mqtt={"url": url, "tls_ca": certs["ca.crt"],
                                                        "tls_cert": certs["client.crt"],
                                                        "tls_key": certs["client.key"]})
        with running(cfg) as gw:
            gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp")
            wait_for(lambda: len(sub.uplinks()) == 1, 10, "uplink over mutual TLS")
        no_cert = make_config(tmp_path / "b", broker, mqtt={"url": url, "tls_ca": certs["ca.crt"]})
        with running(no_cert) as gw:
            time.sleep(1.0)
            assert not gw.sink.connected and gw.sink.last_error
        sub.close()
    finally:
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def _statuses(sub):
    return [json.loads(p) for t, p, r in sub.messages if t == "lpwa/gw-test/status"]


def test_last_will_says_since_when_not_a_death_time_and_a_clean_stop_logs_info(mosquitto, tmp_path, caplog):
    """The will is fixed in CONNECT: it carries `since` (when that connection began) and `will`, no
    `ts`; a connection lost without DISCONNECT makes the real broker publish it. A clean stop is
    logged at INFO, a lost connection at WARNING."""
    import logging
    import socket

    sub = Subscriber(mosquitto, "lpwa/gw-test/status")
    cfg = make_config(tmp_path, mosquitto)
    caplog.set_level(logging.INFO, logger="lpwa.gateway.mqtt")
    before = time.time()
    with running(cfg) as gw:
        wait_for(lambda: any(s["state"] == "online" for s in _statuses(sub)), 10, "online")
        online = _statuses(sub)[-1]
        assert before <= online["since"] <= online["ts"]
        gw.sink.client.socket().shutdown(socket.SHUT_RDWR)  # the TCP connection dies, no DISCONNECT
        wait_for(lambda: any(s.get("will") for s in _statuses(sub)), 10, "the broker publishes the will")
        will = [s for s in _statuses(sub) if s.get("will")][0]
        assert will["state"] == "offline" and will["since"] == online["since"] and "ts" not in will
        wait_for(lambda: _statuses(sub)[-1]["state"] == "online", 10, "reconnected")
        assert _statuses(sub)[-1]["since"] > online["since"]  # the new connection's will has its own time
        lost = [r for r in caplog.records if r.getMessage() == "mqtt disconnected"]
        assert lost and lost[0].levelno == logging.WARNING
        caplog.clear()
    clean = _statuses(sub)[-1]
    assert clean["state"] == "offline" and "ts" in clean and not clean.get("will")
    records = [r for r in caplog.records if r.getMessage() == "mqtt disconnected"]
    assert records and all(r.levelno == logging.INFO for r in records)
    sub.close()
