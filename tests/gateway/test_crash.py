"""`kill -9` of the gateway mid-stream, then a restart: nothing acknowledged is lost.

A child process runs the real Gateway and ingests frames, printing "ACK <device> <counter>" after
each ingest() returns - the moment a source would acknowledge. We kill it with SIGKILL while it is
streaming (no clean shutdown, no flush), check the broker published its last will, start a new
gateway on the same state_dir and check that every acknowledged frame reaches the subscriber."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from support.mqtt import Subscriber
from support.waits import wait_for

pytestmark = pytest.mark.broker

CHILD = textwrap.dedent("""
    import asyncio, json, sys
    sys.path.insert(0, {tests!r})
    from lpwa.gateway.service import Gateway
    from support.gateway import frame, make_config

    class Broker:  # only .url is used by make_config
        url = {url!r}

    async def main(count):
        cfg = make_config({state!r}, Broker, queue={{"max_inflight": 10}})
        gw = Gateway(cfg)
        await gw.start()
        print("STARTED", gw.queue.depth, flush=True)
        devices = ["0a1b2c3d", "99aabbcc"]
        for c in range(1, count + 1):
            for d in devices:
                out = gw.pipeline.ingest("lora", frame(d, c), {{}}, "udp")
                if out.accepted:
                    print("ACK", d, c, flush=True)
            if c % 50 == 0:
                await asyncio.sleep(0)
        print("SENT", flush=True)
        while True:
            print("DEPTH", gw.queue.depth, flush=True)
            await asyncio.sleep(0.1)

    asyncio.run(main(int(sys.argv[1])))
""")


def _child(tmp_path, broker, count):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), url=broker.url,
                                   state=str(tmp_path / "state")))
    return subprocess.Popen([sys.executable, str(script), str(count)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)


def test_kill_9_mid_stream_then_restart_loses_nothing_acknowledged(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    child = _child(tmp_path, mosquitto, 3000)
    acked = set()
    try:
        for line in child.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ACK" and line.endswith("\n"):
                acked.add((parts[1], int(parts[2])))
                if len(acked) == 1500:
                    os.kill(child.pid, signal.SIGKILL)  # mid-stream, no clean shutdown
                    break
        child.wait(10)
        for line in child.stdout:  # ACKs already written to the pipe before the kill count too
            parts = line.split()  # (a line torn by the kill was never fully acknowledged: skipped)
            if len(parts) == 3 and parts[0] == "ACK" and line.endswith("\n"):
                acked.add((parts[1], int(parts[2])))
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    # the broker saw the connection drop without DISCONNECT: the retained last will says offline
    wait_for(lambda: any(t == "lpwa/gw-test/status" and json.loads(p)["state"] == "offline"
                         for t, p, r in sub.messages), 10, "last will")
    got_before = {(m["device"], m["counter"]) for m in sub.uplinks()}

    restarted = _child(tmp_path, mosquitto, 0)  # same state_dir, no new frames: it drains the backlog
    try:
        first = restarted.stdout.readline()
        assert first.startswith("STARTED")
        backlog = int(first.split()[1])
        wait_for(lambda: {(m["device"], m["counter"]) for m in sub.uplinks()} >= acked, 30,
                 "every acknowledged frame at the subscriber")
    finally:
        restarted.kill()
        restarted.wait()
    got = {(m["device"], m["counter"]) for m in sub.uplinks()}
    assert acked <= got
    print("backlog after kill -9:", backlog, "acked:", len(acked), "seen before restart:", len(got_before))
    assert len(acked) >= 1500 and (backlog > 0 or acked <= got_before)
    # at-least-once: re-sent messages may repeat, but nothing unacknowledged was invented
    for d in ("0a1b2c3d", "99aabbcc"):
        counters = sorted({c for dev, c in got if dev == d})
        assert counters == list(range(1, counters[-1] + 1))
    sub.close()


def test_kill_9_during_a_broker_outage_then_restart_drains_the_backlog(tmp_path):
    """The hard case: frames acknowledged while the broker is down exist only in SQLite when the
    process dies; the restarted gateway must publish all of them."""
    import shutil

    from support.broker import Mosquitto

    broker = Mosquitto()
    os.chmod(broker.dir, 0o777)  # persistence for the subscriber's session (mosquitto drops root)
    # max_queued_messages 0: the broker must not drop what it queues for the offline subscriber
    broker.extra_conf = "persistence true\npersistence_location %s/\nmax_queued_messages 0\n" % broker.dir
    broker.start()
    sub = Subscriber(broker, persistent_id="lpwa-test-crash-sub")
    child = _child(tmp_path, broker, 100000)
    acked = set()
    try:
        for line in child.stdout:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ACK" and line.endswith("\n"):
                acked.add((parts[1], int(parts[2])))
                if len(acked) == 300:
                    broker.stop()
                if len(acked) == 1500:
                    os.kill(child.pid, signal.SIGKILL)
                    break
        child.wait(10)
        for line in child.stdout:  # a line torn by the kill was never fully acknowledged: skipped
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ACK" and line.endswith("\n"):
                acked.add((parts[1], int(parts[2])))
        broker.start()
        wait_for(lambda: sub.client.is_connected(), 10, "subscriber back")
        restarted = _child(tmp_path, broker, 0)
        try:
            backlog = int(restarted.stdout.readline().split()[1])
            assert backlog >= 1000  # acknowledged while the broker was down: only SQLite had them
            try:
                wait_for(lambda: {(m["device"], m["counter"]) for m in sub.uplinks()} >= acked, 30,
                         "every acknowledged frame at the subscriber")
            except AssertionError:
                missing = sorted(acked - {(m["device"], m["counter"]) for m in sub.uplinks()})
                print("MISSING", len(missing), missing[:20], "backlog", backlog)
                print(restarted.stdout.readline())
                raise
        finally:
            restarted.kill()
            restarted.wait()
        sub.close()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        broker.stop()
        shutil.rmtree(broker.dir, ignore_errors=True)


def test_kill_9_of_lpwa_gateway_run_loses_no_push_acked_frame(mosquitto, tmp_path):
    """The same guarantee through the real service and the UDP source: every frame whose PUSH_DATA
    got a PUSH_ACK (sent only after ingest committed) reaches the broker after a kill -9 + restart."""
    import socket as socketlib

    from support.broker import free_port
    from lpwa.radio import semtech_udp
    from support.gateway import KEYS, KINDS, frame

    udp_port = free_port()
    cfg = tmp_path / "gateway.toml"
    lines = ["[gateway]", 'id = "gw-test"', 'state_dir = "%s"' % (tmp_path / "state"), 'log_format = "json"',
             "[mqtt]", 'url = "%s"' % mosquitto.url, "[sources.udp]", 'listen = "127.0.0.1:%d"' % udp_port]
    for dev in ("0a1b2c3d", "99aabbcc"):
        lines += ["[[devices]]", 'id = "%s"' % dev, 'key = "%s"' % KEYS[dev], 'kind = "%s"' % KINDS[dev]]
    cfg.write_text("\n".join(lines) + "\n")
    sub = Subscriber(mosquitto)
    cmd = [sys.executable, "-m", "lpwa.tools.cli", "gateway", "run", "-c", str(cfg)]

    def start():
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(tmp_path / "state" / "status.json"), 20, "gateway up")
        return proc

    sock = socketlib.socket(socketlib.AF_INET, socketlib.SOCK_DGRAM)
    sock.settimeout(2.0)
    proc = start()
    acked = set()
    try:
        token = 0
        for c in range(1, 2000):
            for dev in ("0a1b2c3d", "99aabbcc"):
                token = (token + 1) & 0xFFFF
                dgram = semtech_udp.build_push_data(token, "0016c001ff10a235",
                                                    [semtech_udp.make_rxpk(frame(dev, c))])
                sock.sendto(dgram, ("127.0.0.1", udp_port))
                try:
                    ack, _ = sock.recvfrom(64)
                except socketlib.timeout:
                    continue
                if ack[3] == semtech_udp.PUSH_ACK and ack[1:3] == dgram[1:3]:
                    acked.add((dev, c))
            if len(acked) >= 1200:
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        os.remove(tmp_path / "state" / "status.json")
        proc = start()
        wait_for(lambda: {(m["device"], m["counter"]) for m in sub.uplinks()} >= acked, 30,
                 "every PUSH_ACKed frame at the subscriber")
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sub.close()
