"""The metrics endpoint of a RUNNING gateway (real UDP source, real SQLite queue, real HTTP), read
back with prometheus-client's own text parser: every family has one name and one type, counters
are counters, and the per-device, per-source and duty-cycle figures are what was sent."""

import math
import socket
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lpwa.gateway import metrics_http
from lpwa.gateway.metrics import Observer
from lpwa.radio import semtech_udp
from support.broker import free_port
from support.gateway import frame, make_config, running
from support.waits import wait_for

BUOY, DRONE = "0a1b2c3d", "11223344"

# name (as the parser reports the family) -> type. Every family the gateway exports is here, so a
# new one must be added on purpose (and the Grafana test sees the same list).
EXPECTED = {
    "lpwa_up": "gauge", "lpwa_start_time_seconds": "gauge", "lpwa_uptime_seconds": "gauge",
    "lpwa_frames_accepted": "counter", "lpwa_frames_rejected": "counter",
    "lpwa_consent_purged_messages": "counter", "lpwa_consent_reloads": "counter",
    "lpwa_metrics_refused_connections": "counter", "lpwa_metrics_timed_out_connections": "counter",
    "lpwa_messages_queued": "counter", "lpwa_messages_published": "counter", "lpwa_queue_depth": "gauge",
    "lpwa_queue_oldest_age_seconds": "gauge", "lpwa_queue_max_frames": "gauge", "lpwa_queue_at_cap": "gauge",
    "lpwa_queue_full": "counter", "lpwa_queue_dead_messages": "gauge",
    "lpwa_mqtt_connected": "gauge", "lpwa_mqtt_inflight": "gauge", "lpwa_mqtt_disconnects": "counter",
    "lpwa_mqtt_refused": "counter", "lpwa_mqtt_consent_dropped": "counter", "lpwa_mqtt_stalls": "counter",
    "lpwa_mqtt_expired": "counter",
    "lpwa_source_received": "counter", "lpwa_source_accepted": "counter", "lpwa_source_rejected": "counter",
    "lpwa_source_events": "counter", "lpwa_source_peer_rejected": "counter", "lpwa_source_queue_depth": "gauge",
    "lpwa_device_frames_accepted": "counter", "lpwa_device_frames_rejected": "counter",
    "lpwa_device_last_seen_timestamp_seconds": "gauge", "lpwa_device_frames_lost": "counter",
    "lpwa_device_rssi_dbm": "gauge", "lpwa_device_snr_db": "gauge", "lpwa_device_battery_volts": "gauge",
    "lpwa_downlinks_queued": "counter", "lpwa_downlinks_sent": "counter", "lpwa_downlinks_rejected": "counter",
    "lpwa_duty_cycle_used_seconds": "gauge", "lpwa_duty_cycle_budget_seconds": "gauge",
}


def scrape(port, path="/metrics"):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("text/plain; version=") or path != "/metrics"
        return resp.read().decode()


def families(text):
    """{name: family} with prometheus-client's parser; a name given twice fails."""
    out = {}
    for fam in text_string_to_metric_families(text):
        assert fam.name not in out, "family %s appears twice" % fam.name
        out[fam.name] = fam
    return out


def value(fams, name, **labels):
    hits = [s.value for s in fams[name].samples
            if s.name in (name, name + "_total") and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) == 1, (name, labels, fams[name].samples)
    return hits[0]


def push(sock, port, payload, token, rssi=-77, snr=7.5):
    dgram = semtech_udp.build_push_data(token, "0016c001ff10a235", [semtech_udp.make_rxpk(payload, rssi=rssi, snr=snr)])
    sock.sendto(dgram, ("127.0.0.1", port))
    ack, _ = sock.recvfrom(1024)
    assert ack[3] == 1  # PUSH_ACK: ingested


@pytest.fixture
def gateway(tmp_path):
    """A gateway whose broker is unreachable (so messages stay queued: the backlog is visible)."""
    cfg = make_config(tmp_path / "state", sources={"udp": {"listen": "127.0.0.1:0"}},
                      metrics={"listen": "127.0.0.1:%d" % free_port()})
    with running(cfg) as gw:
        yield gw


def test_metrics_parse_with_prometheus_client_one_type_per_family_and_real_figures(gateway):
    port = gateway.sources["udp"].address[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(10)
    push(sock, port, frame(BUOY, 1), 1)
    push(sock, port, frame(BUOY, 2), 2)
    assert gateway.pipeline.queue_downlink(BUOY, {"cmd": "set-interval", "seconds": 600}) is None
    push(sock, port, frame(BUOY, 5), 3, rssi=-101, snr=-0.0)  # 3 and 4 never heard; downlink charged
    push(sock, port, frame(BUOY, 5), 4)  # the same frame again: a duplicate
    push(sock, port, frame(DRONE, 7), 5)
    sock.close()
    fams = families(scrape(gateway.metrics.port))

    lpwa = {n: f.type for n, f in fams.items() if n.startswith("lpwa_")}
    assert lpwa == EXPECTED
    assert "process_cpu_seconds" in fams and fams["process_cpu_seconds"].type == "counter"
    assert value(fams, "lpwa_frames_accepted", gateway="gw-test") == 4
    assert value(fams, "lpwa_frames_rejected", reason="duplicate") == 1
    assert value(fams, "lpwa_device_frames_lost", device=BUOY, kind="buoy") == 2
    assert value(fams, "lpwa_device_frames_lost", device=DRONE) == 0
    assert value(fams, "lpwa_device_rssi_dbm", device=BUOY) == -101
    snr = value(fams, "lpwa_device_snr_db", device=BUOY)
    assert snr == 0.0 and math.copysign(1, snr) == 1.0
    assert value(fams, "lpwa_device_battery_volts", device=BUOY) == pytest.approx(3.7)
    assert value(fams, "lpwa_device_last_seen_timestamp_seconds", device=BUOY) > 1.7e9
    assert value(fams, "lpwa_mqtt_connected", gateway="gw-test") == 0
    queued = value(fams, "lpwa_queue_depth", gateway="gw-test")
    assert queued >= 4 and value(fams, "lpwa_source_queue_depth", source="udp") == queued
    assert value(fams, "lpwa_source_events", source="udp", event="push_data") == 5
    used = value(fams, "lpwa_duty_cycle_used_seconds", radio="lora")
    assert 0 < used < value(fams, "lpwa_duty_cycle_budget_seconds", radio="lora")
    assert value(fams, "lpwa_downlinks_sent", gateway="gw-test") == 1
    # a device that was never heard still has its counters (0), but no radio figures
    assert value(fams, "lpwa_device_frames_accepted", device="99aabbcc") == 0
    assert not [s for s in fams["lpwa_device_rssi_dbm"].samples if s.labels["device"] == "99aabbcc"]
    # the published message says 0.0, never -0.0
    payloads = [bytes(r[4]) for r in gateway.queue.read_after(0, 100) if r[3].endswith("/up")]
    assert any(b'"snr":0.0' in p for p in payloads) and not any(b"-0.0" in p for p in payloads)


def test_status_json_still_served(gateway):
    import json

    st = json.loads(scrape(gateway.metrics.port, "/status"))
    assert st["gateway"] == "gw-test" and "budgets" in st["pipeline"]


def _idle_clients(port, n):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        socks.append(s)
    return socks


def test_metrics_endpoint_caps_connections_and_counts_the_refused(gateway):
    port = gateway.metrics.port
    idle = _idle_clients(port, metrics_http.MAX_CONNECTIONS)  # each holds a slot, sending nothing
    try:
        extra = socket.create_connection(("127.0.0.1", port), timeout=10)
        extra.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
        assert extra.recv(100) == b""  # closed at accept: no slot (it is accepted after the idle ones)
        extra.close()
    finally:
        for s in idle:
            s.close()
    wait_for(lambda: _scrape_ok(port), 15, "a free slot once the idle clients left")
    fams = families(scrape(port))
    assert value(fams, "lpwa_metrics_refused_connections", gateway="gw-test") >= 1


def _scrape_ok(port):
    try:
        scrape(port)
        return True
    except OSError:
        return False


def test_an_idle_client_is_dropped_after_the_socket_timeout(gateway, monkeypatch):
    monkeypatch.setattr(metrics_http._Handler, "timeout", 0.3)
    s = socket.create_connection(("127.0.0.1", gateway.metrics.port), timeout=30)
    s.sendall(b"GET /metr")  # a request that never completes
    assert s.recv(100) == b""  # the server closed it (timeout), the slot is free again
    s.close()


def test_a_client_dribbling_its_request_is_shut_at_the_deadline(gateway, monkeypatch):
    """One byte per read timeout kept a slot for ever (each read succeeded); now the whole
    connection has DEADLINE_S, so MAX_CONNECTIONS dribblers cannot lock the endpoint."""
    monkeypatch.setattr(metrics_http._Handler, "timeout", 2.0)
    monkeypatch.setattr(metrics_http, "DEADLINE_S", 1.0)
    s = socket.create_connection(("127.0.0.1", gateway.metrics.port), timeout=30)
    s.sendall(b"GET /metrics HTTP/1.0\r\nX-Slow: ")
    closed = False
    for _ in range(40):  # a byte every 0.25 s, well inside the read timeout: up to 10 s of dribbling
        try:
            s.sendall(b"a")
        except OSError:
            closed = True
            break
        s.settimeout(0.25)
        try:
            closed = s.recv(100) == b""
        except socket.timeout:
            pass
        if closed:
            break
    s.close()
    assert closed
    assert gateway.metrics.timed_out >= 1
    fams = families(scrape(gateway.metrics.port))
    assert value(fams, "lpwa_metrics_timed_out_connections", gateway="gw-test") >= 1


def test_observer_counts_gaps_and_normalises_values():
    o = Observer()
    o.uplink("d", "lora", {"rssi": -80, "snr": -0.0}, {"battery_v": {"value": 3.3, "unit": "V"}}, -1, 10)
    o.uplink("d", "lora", {"rssi": float("nan"), "snr": 2.5}, {}, 10, 11)
    o.uplink("d", "lora", {}, {}, 11, 20)
    d = o.snapshot()["d"]
    assert d["lost"] == 8 and d["rssi"] is None and d["snr"] == 2.5 and d["battery"] == 3.3
    o.uplink("d", "lora", {"snr": -0.0}, {}, 20, 15)  # not forward (sigfox re-extension): no gap
    d = o.snapshot()["d"]
    assert d["lost"] == 8 and math.copysign(1, d["snr"]) == 1.0
