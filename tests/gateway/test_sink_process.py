"""`mqtt.sink_process = true`: the MQTT sink in a child process, against a real Mosquitto.

The same guarantees as the in-thread sink: uplinks in order, rows deleted only on PUBACK (the
ingest process's queue depth sees the child's deletes), downlinks from MQTT reach the pipeline,
consent reloads reach the child, a broker outage under load loses nothing, and `kill -9` of the
ingest process stops the child and a restart publishes everything acknowledged. Also the PUBACK
fast path of the sink's paho client."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from support.gateway import frame, make_config, running
from support.mqtt import Subscriber
from support.waits import wait_for

pytestmark = pytest.mark.broker


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def test_uplinks_downlinks_and_depth_through_a_sink_process(mosquitto, tmp_path):
    import paho.mqtt.publish as publish

    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path, mosquitto, mqtt={"sink_process": True})
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "sink process connected")
        pid = gw.sink.status()["process"]
        assert pid and pid != os.getpid() and _alive(pid)
        for c in range(1, 201):
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {"rssi": -80}, "udp").accepted
        wait_for(lambda: len(sub.uplinks()) == 200, 10, "200 uplinks")
        wait_for(lambda: gw.queue.depth == 0, 5, "the child's deletes reach the ingest process's depth")
        assert gw.pipeline.status()["queue"]["published"] == 200
        time.sleep(0.2)
        publish.single("lpwa/gw-test/buoy/0a1b2c3d/down", json.dumps({"cmd": "set-interval", "seconds": 600}),
                       qos=1, hostname=mosquitto.host, port=mosquitto.port)
        wait_for(lambda: gw.pipeline.downlinks.queued == 1, 5, "downlink queued via the child")
        out = gw.pipeline.ingest("lora", frame("0a1b2c3d", 201), {"datr": "SF10BW125"}, "udp")
        assert out.accepted and out.downlink
        wait_for(lambda: gw.sink.status()["published"] >= 201, 5, "child status")
    assert not _alive(pid)  # stop() ends the child
    assert [m["counter"] for m in sub.uplinks()] == list(range(1, 202))
    wait_for(lambda: json.loads([p for t, p, r in sub.messages if t.endswith("/status")][-1])["state"]
             == "offline", 5, "offline status on clean stop")
    sub.close()


def test_a_sink_process_that_dies_is_started_again_and_nothing_is_lost(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    cfg = make_config(tmp_path, mosquitto, mqtt={"sink_process": True})
    with running(cfg) as gw:
        wait_for(lambda: gw.sink.connected, 10, "connected")
        first = gw.sink.status()["process"]
        for c in range(1, 51):
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
        os.kill(first, signal.SIGKILL)  # e.g. the OOM killer
        for c in range(51, 101):  # accepted and queued while there is no sink
            assert gw.pipeline.ingest("lora", frame("0a1b2c3d", c), {}, "udp").accepted
        wait_for(lambda: gw.sink.status()["restarts"] == 1 and gw.sink.connected, 15, "sink started again")
        assert gw.sink.status()["process"] != first
        wait_for(lambda: gw.queue.depth == 0, 10, "backlog published by the new sink")
        wait_for(lambda: {m["counter"] for m in sub.uplinks()} >= set(range(1, 101)), 10, "all 100")
    sub.close()


CHILD = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from lpwa.gateway.service import Gateway
    from support.gateway import frame, make_config

    class Broker:
        url = {url!r}

    async def main(count):
        cfg = make_config({state!r}, Broker, queue={{"max_inflight": 10}}, mqtt={{"sink_process": True}})
        gw = Gateway(cfg)
        await gw.start()
        print("STARTED", gw.queue.depth, gw.sink.proc.pid, flush=True)
        for c in range(1, count + 1):
            for d in ("0a1b2c3d", "99aabbcc"):
                if gw.pipeline.ingest("lora", frame(d, c), {{}}, "udp").accepted:
                    print("ACK", d, c, flush=True)
            if c % 50 == 0:
                await asyncio.sleep(0)
        while True:
            await asyncio.sleep(0.1)

    asyncio.run(main(int(sys.argv[1])))
""")


def _gateway(tmp_path, broker, count):
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=os.path.dirname(os.path.dirname(os.path.abspath(__file__))), url=broker.url,
                                   state=str(tmp_path / "state")))
    return subprocess.Popen([sys.executable, str(script), str(count)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)


def test_kill_9_of_the_ingest_process_stops_the_sink_and_a_restart_loses_nothing(mosquitto, tmp_path):
    sub = Subscriber(mosquitto)
    gw = _gateway(tmp_path, mosquitto, 3000)
    acked = set()
    sink_pid = None
    try:
        for line in gw.stdout:
            if line.startswith("STARTED"):
                sink_pid = int(line.split()[2])
            elif line.startswith("ACK"):
                _, d, c = line.split()
                acked.add((d, int(c)))
                if len(acked) == 1500:
                    os.kill(gw.pid, signal.SIGKILL)
                    break
        gw.wait(10)
        for line in gw.stdout:  # ACKs written before the kill count too (a torn last line does not)
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ACK" and line.endswith("\n"):
                acked.add((parts[1], int(parts[2])))
    finally:
        if gw.poll() is None:
            gw.kill()
            gw.wait()
    assert sink_pid
    wait_for(lambda: not _alive(sink_pid), 10, "the orphaned sink process exits")
    restarted = _gateway(tmp_path, mosquitto, 0)
    try:
        assert restarted.stdout.readline().startswith("STARTED")
        wait_for(lambda: {(m["device"], m["counter"]) for m in sub.uplinks()} >= acked, 30,
                 "every acknowledged frame at the subscriber")
    finally:
        restarted.send_signal(signal.SIGKILL)
        restarted.wait()
    got = {(m["device"], m["counter"]) for m in sub.uplinks()}
    assert acked <= got
    for d in ("0a1b2c3d", "99aabbcc"):
        counters = sorted({c for dev, c in got if dev == d})
        assert counters == list(range(1, counters[-1] + 1))
    sub.close()


def test_puback_fast_path_and_refusals_through_real_paho():
    """A plain PUBACK takes the fast path and hands on_publish the same success values paho would;
    a PUBACK with a failure reason code still goes through paho's own decoding."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from lpwa.gateway.mqtt_sink import CLIENT_CLASS, _Client

    assert CLIENT_CLASS is _Client  # paho 2.x: the fast path is in use
    for protocol, tails, failed in ((paho.MQTTv5, (b"", b"\x00", b"\x87"), [False, False, True]),
                                    (paho.MQTTv311, (b"", b"", b""), [False, False, False])):
        c = _Client(CallbackAPIVersion.VERSION2, protocol=protocol)
        c.max_inflight_messages_set(0)
        got = []
        c.on_publish = lambda client, userdata, mid, rc, props: got.append((mid, rc.is_failure))
        infos = [c.publish("t", b"x", qos=1) for _ in range(3)]  # not connected: paho keeps them
        for info, tail in zip(infos, tails):
            c._in_packet["command"] = 0x40
            c._in_packet["packet"] = info.mid.to_bytes(2, "big") + tail
            c._handle_pubackcomp("PUBACK")
        assert got == [(i.mid, f) for i, f in zip(infos, failed)]
        assert not c._out_messages
