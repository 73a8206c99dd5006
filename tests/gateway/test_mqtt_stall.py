"""Issue #13 points 4 and 8 against a real Mosquitto that hangs (SIGSTOP: its TCP connections stay
open, nothing is acknowledged). A hung broker was noticed only by keep-alive (~60 s), with the whole
window stuck; now the PUBACK timeout renews the connection, nothing acknowledged is lost. A consent
withdrawal said "purged 50" while those 50 were with the broker; now status says what was purged and
what was already handed over, a retained notice tells subscribers, and personal data carries an MQTT 5
message expiry so a broker does not deliver it much later."""

import json
import os
import shutil
import signal
import time

import pytest

from support.broker import Mosquitto
from support.gateway import frame, make_config, running
from support.mqtt import Subscriber
from support.waits import wait_for

pytestmark = pytest.mark.broker

PEDOMETER = "55667788"


@pytest.fixture
def broker():
    b = Mosquitto()
    b.start()
    yield b
    if b.proc is not None:
        os.kill(b.proc.pid, signal.SIGCONT)
    b.stop()
    shutil.rmtree(b.dir, ignore_errors=True)


def _hang(broker):
    os.kill(broker.proc.pid, signal.SIGSTOP)


def _resume(broker):
    os.kill(broker.proc.pid, signal.SIGCONT)


def test_a_hung_broker_is_noticed_by_the_puback_timeout_and_nothing_is_lost(broker, tmp_path, caplog):
    sub = Subscriber(broker)
    cfg = make_config(tmp_path, broker, mqtt={"keepalive": 60, "puback_timeout": 2})
    with caplog.at_level("INFO", logger="lpwa.gateway.mqtt"), running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        assert gw.pipeline.ingest("lora", frame("0a1b2c3d", 1), {}, "udp").accepted
        wait_for(lambda: len(sub.uplinks()) == 1, 10, "first uplink")
        _hang(broker)
        t0 = time.monotonic()
        for c in range(2, 102):
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
        wait_for(lambda: gw.sink.status()["inflight"] == 100, 10, "100 publishes in flight")
        # keep-alive (60 s) would take 60..90 s; the bound is generous, the figure is printed
        wait_for(lambda: gw.sink.status()["stalled_reason"], 30, "the stall noticed")
        noticed = time.monotonic() - t0
        st = gw.sink.status()
        assert "PUBACK" in st["stalled_reason"] and not st["connected"]
        print("hung broker noticed after %.1f s (puback_timeout 2 s, keepalive 60 s)" % noticed)
        wait_for(lambda: gw.sink.status()["stalls"] >= 2, 30, "a second round (CONNACK) in the same episode")
        _resume(broker)
        wait_for(lambda: gw.queue.depth == 0, 30, "the queue drained after the broker resumed")
        assert gw.sink.status()["stalled_reason"] is None
    wait_for(lambda: {m["counter"] for m in sub.uplinks()} >= set(range(1, 102)), 10, "all 101 uplinks")
    lines = [r for r in caplog.records if getattr(r, "event", None) == "mqtt-stalled"]
    assert len(lines) == 1, "one line per stall episode"
    sub.close()


@pytest.mark.parametrize("sink", ["thread", "process"])
def test_withdrawal_with_a_hung_broker_says_what_was_recalled_and_leaves_a_retained_notice(broker, tmp_path, sink):
    consent_file = tmp_path / "consent.toml"
    consent_file.write_text('devices = { "%s" = true }\n' % PEDOMETER)
    sub = Subscriber(broker)
    cfg = make_config(tmp_path / "state", broker, consent=False, queue={"max_inflight": 20},
                      mqtt={"keepalive": 60, "puback_timeout": 600, "sink_process": sink == "process"})
    cfg["consent"]["file"] = str(consent_file)
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        _hang(broker)
        for c in range(1, 51):
            assert gw.pipeline.ingest("lora", frame(PEDOMETER, c), {}, "udp").accepted
        wait_for(lambda: gw.sink.status()["inflight"] == 20, 10, "20 publishes in flight")
        consent_file.write_text('devices = { "%s" = false }\n' % PEDOMETER)
        gw.reload()  # what SIGHUP does
        withdrawal = gw.pipeline.status()["consent"]["withdrawals"][PEDOMETER]
        assert (withdrawal["purged"], withdrawal["handed_to_broker"]) == (30, 20)  # was: purged 50
        _resume(broker)
        wait_for(lambda: gw.queue.depth == 0, 20, "drained")
    notice = Subscriber(broker, "lpwa/gw-test/consent/#")  # retained: a late subscriber sees it
    wait_for(lambda: notice.messages, 5, "retained consent notice")
    topic, payload, retained = notice.messages[0]
    assert topic == "lpwa/gw-test/consent/" + PEDOMETER and retained
    assert json.loads(payload)["consent"] == "withdrawn"
    ups = [m["counter"] for m in sub.uplinks()]
    print("pedometer messages delivered after the withdrawal: %d (20 were with the broker)" % len(set(ups)))
    assert set(ups) <= set(range(1, 21)), "only what was handed to the broker before the withdrawal"
    notice.close()
    sub.close()


def test_personal_messages_expire_at_the_broker_for_an_offline_subscriber(broker, tmp_path):
    sub = Subscriber(broker, persistent_id="lpwa-test-expiry")
    sub.close()  # offline; the broker queues QoS 1 messages for its session
    cfg = make_config(tmp_path, broker, mqtt={"personal_expiry": 1})
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        for c in range(1, 11):
            assert gw.pipeline.ingest("lora", frame(PEDOMETER, c), {}, "udp").accepted
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
        wait_for(lambda: gw.queue.depth == 0, 10, "drained")
    time.sleep(2.5)  # past the 1 s expiry (the broker's clock, not an assertion on our timing)
    back = Subscriber(broker, persistent_id="lpwa-test-expiry")
    wait_for(lambda: len([m for m in back.uplinks() if m["device"] == "0a1b2c3d"]) == 10, 10, "buoy uplinks")
    devices = [m["device"] for m in back.uplinks()]
    print("pedometer messages delivered after expiry: %d of 10" % devices.count(PEDOMETER))
    assert PEDOMETER not in devices  # expired at the broker: before, all 10 arrived
    back.close()


def test_personal_rows_older_than_the_expiry_are_not_published_and_are_counted(broker, tmp_path):
    """After an outage longer than mqtt.personal_expiry the backlog's personal rows are deleted
    unpublished (counted); buoy rows are published as always. The sink's clock runs 2 h ahead."""
    from lpwa.gateway.mqtt_sink import MqttSink
    from lpwa.gateway.pipeline import Pipeline

    sub = Subscriber(broker)
    cfg = make_config(tmp_path, broker, mqtt={"personal_expiry": 3600})
    p = Pipeline(cfg)
    for c in range(1, 6):
        assert p.ingest("lora", frame(PEDOMETER, c), {}, "udp").accepted
        assert p.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
    sink = MqttSink(cfg, p.queue, consent=p.consent, clock=lambda: time.time() + 7200)
    sink.start()
    try:
        wait_for(lambda: p.queue.depth == 0 or (sink.status()["expired"] == 5 and sink.published == 5), 10, "drained")
    finally:
        sink.stop()
        p.queue.close()
    assert sink.status()["expired"] == 5
    wait_for(lambda: len(sub.uplinks()) == 5, 5, "five buoy uplinks")
    assert {m["device"] for m in sub.uplinks()} == {"0a1b2c3d"}
    sub.close()
