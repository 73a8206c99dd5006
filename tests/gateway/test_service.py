"""Config validation and the operator's side: `lpwa gateway check` (exit 2 naming the key), the
shipped example config, `lpwa gateway run` as a real process fed by the UDP source, `lpwa gateway
status`, Prometheus metrics, SIGHUP consent reload, SIGTERM, structured JSON logs that never
contain a device key or the MQTT password."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from support.broker import free_port
from lpwa.gateway import config
from lpwa.gateway.config import ConfigError
from support.gateway import KEYS, frame
from support.mqtt import Subscriber
from support.waits import wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LPWA = [sys.executable, "-m", "lpwa.tools.cli"]
EXAMPLE = os.path.join(ROOT, "gateway", "gateway.example.toml")


def lpwa(*args, **kw):
    return subprocess.run(LPWA + list(args), capture_output=True, text=True, timeout=60, **kw)


@pytest.mark.parametrize("raw, key", [
    ({"mqtt": {"qos": 3}}, "mqtt.qos: must be 0, 1 or 2"),
    ({"mqtt": {"qoss": 1}}, "mqtt.qoss: unknown key"),
    ({"mqtt": {"protocol": 4}}, "mqtt.protocol"),
    ({"mqtt": {"url": "http://x"}}, "mqtt.url"),
    ({"mqtt": {"url": "mqtt://user:pw@host"}}, "mqtt.url"),
    ({"mqtt": {"tls_cert": "c.pem"}}, "mqtt.tls_cert"),
    ({"mqtt": {"keepalive": 70000}}, "mqtt.keepalive: must be 5..65535"),  # was a sink traceback every retry
    ({"mqtt": {"keepalive": 4}}, "mqtt.keepalive"),
    ({"mqtt": {"password": "p" * 65536}}, "mqtt.password: longer than MQTT allows"),  # was a sink traceback loop
    ({"mqtt": {"username": "u" * 65536}}, "mqtt.username: longer than MQTT allows"),
    ({"mqtt": {"client_id": "c" * 65536}}, "mqtt.client_id: longer than MQTT allows"),
    ({"gateway": {"id": "a/b"}}, "gateway.id"),
    ({"gateway": {"log_format": "xml"}}, "gateway.log_format"),
    ({"queue": {"max_frames": 0}}, "queue.max_frames"),
    ({"queue": {"max_inflight": "10"}}, "queue.max_inflight: must be an integer"),
    ({"queue": {"synchronous": "off"}}, "queue.synchronous"),
    ({"metrics": {"listen": "9108"}}, "metrics.listen"),
    ({"bogus": {}}, "bogus: unknown section"),
    ({"devices": [{"id": "0a1b2c3d", "key": "00" * 16, "kind": "fish"}]}, "devices[0].kind"),
    ({"devices": [{"id": "0a1b2c3", "key": "00" * 16, "kind": "buoy"}]}, "devices[0].id"),
    ({"devices": [{"id": "0a1b2c3d", "kind": "buoy"}]}, "devices[0].key: required"),
    ({"devices": [{"id": "0a1b2c3d", "key": "zz" * 16, "kind": "buoy"}]}, "devices[0].key"),
    ({"devices": [{"id": "0a1b2c3d", "key": "00" * 16, "kind": "buoy", "colour": 1}]}, "devices[0].colour"),
    ({"sources": {"udp": {"listen": 1700}}}, "sources.udp.listen: must be a string"),
    ({"sources": {"udp": {"lisen": "0.0.0.0:1"}}}, "sources.udp.lisen: unknown key"),
    ({"sources": {"carrier_pigeon": {}}}, "sources.carrier_pigeon: unknown source"),
    ({"sources": {"sigfox": {"listen": "127.0.0.1:0"}}}, "sources.sigfox.secret: must be set"),
])
def test_config_errors_name_the_key(raw, key):
    with pytest.raises(ConfigError) as e:
        config.from_dict(raw)
    assert str(e.value).startswith(key)


def test_config_error_never_shows_a_secret_value():
    secret = "ab" * 15 + "zz"
    with pytest.raises(ConfigError) as e:
        config.from_dict({"devices": [{"id": "0a1b2c3d", "key": secret, "kind": "buoy"}]})
    assert secret not in str(e.value)
    with pytest.raises(ConfigError) as e:
        config.from_dict({"mqtt": {"password": 1234567}})
    assert "1234567" not in str(e.value)


def test_defaults_and_sources_filled_from_their_options():
    cfg = config.from_dict({"sources": {"udp": {}, "replay": {"enabled": False, "speed": 2}}})
    assert cfg["sources"]["udp"] == {"enabled": True, "listen": "0.0.0.0:1700", "rx_delay_s": 1.0,
                                     "tx_power_dbm": 13, "rcvbuf_bytes": 4194304, "drops_poll_s": 5.0}
    assert cfg["sources"]["replay"]["speed"] == 2.0 and not cfg["sources"]["replay"]["enabled"]
    assert config.parse_url("mqtts://broker.local") == ("broker.local", 8883, True)
    assert config.parse_url("mqtt://[::1]:1884") == ("::1", 1884, False)


def test_example_config_is_valid_and_redacted_output_hides_secrets():
    cfg = config.load(EXAMPLE)
    assert cfg["gateway"]["id"] == "pi-town-01" and cfg["sources"]["udp"]["enabled"]
    shown = json.dumps(config.redacted(cfg))
    assert KEYS["0a1b2c3d"] not in shown and "change-me" not in shown
    r = lpwa("gateway", "check", "--config-only", "-c", EXAMPLE)  # /var/lib/lpwa and its ports: not this machine's
    assert r.returncode == 0, r.stderr
    assert "000102030405060708090a0b0c0d0e0f" not in r.stdout + r.stderr


def test_check_hides_secrets_inside_wisun_init_commands(tmp_path):
    """`init` is where an operator puts the PAN password (SKSETPWD), PSK or B-route id: `gateway
    check` printed them in clear."""
    cfg = tmp_path / "g.toml"
    cfg.write_text('[sources.wisun]\ninit = "SKSREG S2 21; SKSETPWD C pan-pass-1234; SKSETRBID rbid-5678; '
                   'SKSETPSK 20 psk-9abc;SKJOIN FE80::1"\n')
    r = lpwa("gateway", "check", "--config-only", "-c", str(cfg))  # the default state_dir is not this machine's
    assert r.returncode == 0, r.stderr
    for secret in ("pan-pass-1234", "rbid-5678", "psk-9abc"):
        assert secret not in r.stdout
    init = json.loads(r.stdout)["sources"]["wisun"]["init"]
    assert init == "SKSREG S2 21; SKSETPWD C ***; SKSETRBID ***; SKSETPSK 20 ***;SKJOIN FE80::1"


def test_config_or_consent_file_that_is_not_utf8_is_a_one_line_error(tmp_path):
    """tomllib raises UnicodeDecodeError (not TOMLDecodeError) on a stray byte: it was a traceback
    from `gateway check`, and would escape the SIGHUP consent reload."""
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b'[gateway]\nid = "\xff\xfe"\n')
    r = lpwa("gateway", "check", "-c", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["lpwa gateway: %s: not valid TOML (%s)" % (
        bad, r.stderr.split("not valid TOML (", 1)[1].strip()[:-1])]
    consent = tmp_path / "consent.toml"
    consent.write_bytes(b'devices = { "0a1b2c3d" = true }\n# \xff\n')
    cfg = tmp_path / "g.toml"
    cfg.write_text('[consent]\nfile = "%s"\n' % consent)
    r = lpwa("gateway", "check", "-c", str(cfg))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.startswith("lpwa gateway: consent.file: %s is not valid TOML" % consent)
    from lpwa.gateway.consent import Consent

    c = Consent([], "")
    c.path = str(consent)
    assert c.reload() is False  # logged and the current state kept, not raised


def test_cli_check_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[mqtt]\nqos = 5\npassword = "hunter2"\n')
    r = lpwa("gateway", "check", "-c", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["lpwa gateway: mqtt.qos: must be 0, 1 or 2"]
    assert "hunter2" not in r.stderr
    broken = tmp_path / "broken.toml"
    broken.write_text("[mqtt\n")
    r = lpwa("gateway", "run", "-c", str(broken))
    assert r.returncode == 2 and "not valid TOML" in r.stderr
    r = lpwa("gateway", "run", "-c", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and "cannot read" in r.stderr


def _write_config(tmp_path, broker, udp_port, metrics_port, consent_file):
    lines = [
        "[gateway]", 'id = "gw-svc"', 'state_dir = "%s"' % (tmp_path / "state"), 'log_format = "json"',
        'log_level = "debug"',
        "[mqtt]", 'url = "%s"' % broker.url, 'username = "gw-user"', 'password = "very-secret-password-42"',
        "[metrics]", 'listen = "127.0.0.1:%d"' % metrics_port,
        "[consent]", 'file = "%s"' % consent_file,
        "[sources.udp]", 'listen = "127.0.0.1:%d"' % udp_port,
    ]
    for dev, key in sorted(KEYS.items()):
        kind = {"11223344": "drone-vital", "55667788": "pedometer"}.get(dev, "buoy")
        lines += ["[[devices]]", 'id = "%s"' % dev, 'key = "%s"' % key, 'kind = "%s"' % kind]
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _push(sock, port, payload, token):
    from lpwa.radio import semtech_udp

    dgram = semtech_udp.build_push_data(token, "0016c001ff10a235", [semtech_udp.make_rxpk(payload, rssi=-77)])
    sock.sendto(dgram, ("127.0.0.1", port))
    sock.settimeout(5)
    ack, _ = sock.recvfrom(1024)
    return ack


@pytest.mark.broker
def test_gateway_run_status_metrics_sighup_sigterm_and_clean_logs(mosquitto, tmp_path):
    udp_port, metrics_port = free_port(), free_port()
    consent_file = tmp_path / "consent.toml"
    consent_file.write_text('devices = { "11223344" = true }\n')
    cfg_path = _write_config(tmp_path, mosquitto, udp_port, metrics_port, consent_file)
    sub = Subscriber(mosquitto)
    log_path = tmp_path / "gateway.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(LPWA + ["gateway", "run", "-c", str(cfg_path)], stderr=log_file,
                                stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(tmp_path / "state" / "status.json"), 20, "status.json")
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        assert _push(sock, udp_port, frame("0a1b2c3d", 1), 1)[3] == 1  # PUSH_ACK after ingest
        assert _push(sock, udp_port, frame("11223344", 1), 2)[3] == 1
        assert _push(sock, udp_port, frame("0a1b2c3d", 1), 3)[3] == 1  # duplicate: counted
        wait_for(lambda: len(sub.uplinks()) == 2, 10, "two uplinks")
        assert sub.uplinks()[0]["rx"]["rssi"] == -77

        consent_file.write_text('devices = { "11223344" = false }\n')
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        _push(sock, udp_port, frame("11223344", 2), 4)

        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % metrics_port, timeout=5).read().decode()
        # the same samples as before, read with prometheus-client's parser (it prints 1.0, not 1)
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for fam in text_string_to_metric_families(metrics) for s in fam.samples}
        assert samples[("lpwa_frames_rejected_total", (("gateway", "gw-svc"), ("reason", "duplicate")))] == 1
        assert samples[("lpwa_frames_rejected_total", (("gateway", "gw-svc"), ("reason", "no-consent")))] == 1
        assert samples[("lpwa_source_accepted_total", (("gateway", "gw-svc"), ("source", "udp")))] == 2
        assert ("lpwa_queue_depth", (("gateway", "gw-svc"),)) in samples
        assert samples[("lpwa_mqtt_connected", (("gateway", "gw-svc"),))] == 1

        time.sleep(2.5)  # the status file is rewritten every 2 s
        r = lpwa("gateway", "status", "-c", str(cfg_path))
        assert r.returncode == 0, r.stderr
        assert "gateway gw-svc: running" in r.stdout and "udp" in r.stdout and "0a1b2c3d" in r.stdout
        r = lpwa("gateway", "status", "--url", "http://127.0.0.1:%d" % metrics_port, "--json")
        st = json.loads(r.stdout)
        assert st["pipeline"]["devices"]["0a1b2c3d"]["counter"] == 1
        assert st["pipeline"]["queue"]["depth"] == 0 and st["source_stats"]["udp"]["push_data"] == 4

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    wait_for(lambda: json.loads([p for t, p, r in sub.messages if t == "lpwa/gw-svc/status"][-1])["state"]
             == "offline", 5, "offline status")
    r = lpwa("gateway", "status", "-c", str(cfg_path))
    assert r.returncode == 3 and "NOT RUNNING" in r.stdout
    sub.close()

    text = log_path.read_text()
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert events and all("ts" in e and "level" in e and "msg" in e for e in events)
    names = {e.get("event") for e in events}
    assert {"start", "mqtt-connected", "rejected", "consent-withdrawn", "stop"} <= names
    for secret in list(KEYS.values()) + ["very-secret-password-42"]:
        assert secret not in text and secret.upper() not in text
    status_text = (tmp_path / "state" / "status.json").read_text()
    assert "very-secret-password-42" not in status_text and KEYS["0a1b2c3d"] not in status_text


def test_a_source_that_cannot_start_is_a_one_line_error(tmp_path):
    busy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    busy.bind(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    cfg = tmp_path / "g.toml"
    cfg.write_text('[gateway]\nstate_dir = "%s"\n[mqtt]\nurl = "mqtt://127.0.0.1:%d"\n'
                   '[sources.udp]\nlisten = "127.0.0.1:%d"\n' % (tmp_path / "s", free_port(), port))
    r = lpwa("gateway", "run", "-c", str(cfg))
    busy.close()
    assert r.returncode == 2  # an environment error: RestartPreventExitStatus=2 (tests/gateway/test_preflight.py)
    assert r.stderr.strip().splitlines() == ["lpwa gateway: sources.udp.listen: cannot listen on UDP 127.0.0.1:%d: "
                                             "Address already in use (another program, or this gateway already "
                                             "running?)" % port]


def test_missing_consent_file_and_unusable_state_dir_are_clear_errors(tmp_path):
    cfg = tmp_path / "g.toml"
    cfg.write_text('[gateway]\nstate_dir = "%s"\n[consent]\nfile = "%s"\n' % (tmp_path / "s", tmp_path / "nope.toml"))
    r = lpwa("gateway", "check", "-c", str(cfg))
    assert r.returncode == 2 and r.stderr.startswith("lpwa gateway: consent.file: cannot read")
    blocker = tmp_path / "file"
    blocker.write_text("")
    cfg.write_text('[gateway]\nstate_dir = "%s"\n' % (blocker / "sub"))
    r = lpwa("gateway", "run", "-c", str(cfg))
    assert r.returncode == 2 and r.stderr.strip().splitlines()[-1].startswith("lpwa gateway: gateway.state_dir:")


@pytest.mark.parametrize("content", ["[]", "null", '{"pid": "x"}', '{"pid": 1e30}', '{"pipeline": []}',
                                     '{"pipeline": {"queue": {"oldest_age_s": "x"}}}'])
def test_status_that_is_not_a_gateway_status_is_a_one_line_error(tmp_path, content):
    """A damaged status.json, or --url at some other service's JSON, was an AttributeError /
    ValueError / OverflowError traceback."""
    (tmp_path / "status.json").write_text(content)
    r = lpwa("gateway", "status", "--state-dir", str(tmp_path))
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("lpwa gateway status: the status read is not a gateway status")


@pytest.mark.parametrize("sink_process", ["false", "true"])
def test_unloadable_tls_files_are_a_one_line_config_error(tmp_path, sink_process):
    """A missing or garbage tls_ca was a paho traceback (and, with the sink process, a child that
    crashed again and again); now it is exit 2 naming the key, without the password."""
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    for ca in (tmp_path / "missing.pem", garbage):
        cfg = tmp_path / "g.toml"
        cfg.write_text('[gateway]\nstate_dir = "%s"\n[mqtt]\nurl = "mqtt://127.0.0.1:%d"\npassword = "pw-secret-77"\n'
                       'tls_ca = "%s"\nsink_process = %s\n' % (tmp_path / "s", free_port(), ca, sink_process))
        r = lpwa("gateway", "run", "-c", str(cfg))
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().splitlines() == [r.stderr.strip()] and "lpwa gateway: mqtt.tls_ca: cannot " in r.stderr
        assert "Traceback" not in r.stderr and "pw-secret-77" not in r.stderr


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),
                    lambda children: st.one_of(st.lists(children, max_size=3),
                                               st.dictionaries(st.sampled_from(
                                                   ["gateway", "mqtt", "queue", "metrics", "consent", "devices",
                                                    "sources", "udp", "replay", "id", "url", "qos", "key", "kind",
                                                    "listen", "enabled", "max_frames", "speed", "x"]),
                                                   children, max_size=4)),
                    max_leaves=12))
def test_any_config_is_either_valid_or_a_config_error(raw):
    try:
        cfg = config.from_dict(raw)
    except ConfigError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert set(cfg) == {"gateway", "mqtt", "queue", "metrics", "consent", "devices", "sources"}
