"""Every source end to end through the real gateway service into a real Mosquitto, downlinks included.

Frames come from the codec's FrameEncoder (the demo's simulated nodes), go through each source's
real protocol (Semtech UDP datagrams, SKSTACK-IP lines on a pseudo-terminal, Sigfox HTTP callbacks,
receiver-board lines, a replay file), the pipeline and the MQTT sink, and are read back by a
subscriber. Downlinks are published on .../down and must come back out of the same source in the
protocol's own form, decodable by the node (lpwa.codecs.command.decode_command).
"""

import asyncio
import json
import os
import subprocess
import sys
import time

from paho.mqtt.client import MQTTv311

from lpwa.codecs.command import decode_command
from lpwa.gateway import config as config_mod
from lpwa.tools.demo.dongle import Dongle
from lpwa.tools.demo.forwarder import Forwarder
from lpwa.tools.demo.nodes import Node
from lpwa.tools.demo.sigfox_cloud import SigfoxCloud
from lpwa.gateway.service import Gateway
from lpwa.gateway.sources.replay import write_line
from support.mqtt import Subscriber
from support.ports import PtyPort
from support.waits import async_wait_until

SECRET = "e2e-secret-value"


def make_config(broker, tmp_path, nodes, sources):
    return config_mod.from_dict({
        "gateway": {"id": "e2e", "state_dir": str(tmp_path / "state"), "log_format": "text", "log_level": "warning"},
        "mqtt": {"url": broker.url, "protocol": 5},
        "devices": [{"id": n.device, "key": n.key.hex(), "kind": n.kind, "consent": True} for n in nodes],
        "sources": sources})


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def wait_ups(collector, n, timeout=10):
    assert await async_wait_until(lambda: len(collector.ups()) >= n, timeout), collector.messages
    return collector.ups()


async def queue_downlink(collector, gateway, node, command):
    before = gateway.pipeline.downlinks.queued
    collector.publish("lpwa/e2e/%s/%s/down" % (node.kind, node.device), command)
    assert await async_wait_until(lambda: gateway.pipeline.downlinks.queued > before)


def test_udp_end_to_end_with_downlink_in_the_receive_window(mosquitto, tmp_path):
    buoy = Node("buoy", "lora", 0x0A000001)
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)

    async def main():
        gateway = Gateway(make_config(mosquitto, tmp_path, [buoy], {"udp": {"listen": "127.0.0.1:0"}}))
        await gateway.start()
        forwarder = Forwarder(tuple(gateway.sources["udp"].address))
        try:
            await forwarder.start()  # PULL_DATA: the route for downlinks
            for _ in range(3):
                for frame in buoy.next_frames():
                    await forwarder.send(buoy, frame)  # returns once PUSH_ACK came back
            ups = await wait_ups(collector, 3)
            assert [m["counter"] for _, m in ups] == [1, 2, 3]
            topic, msg = ups[0]
            assert topic == "lpwa/e2e/buoy/0a000001/up" and msg["radio"] == "lora"
            assert msg["rx"]["gateway_eui"] == "b827ebfffe6c0de0" and msg["rx"]["freq"] == 923.2
            assert "rssi" in msg["rx"] and "snr" in msg["rx"] and "tmst" in msg["rx"]

            await queue_downlink(collector, gateway, buoy, {"cmd": "set-interval", "seconds": 600})
            for frame in buoy.next_frames():  # the next uplink opens the node's receive window
                await forwarder.send(buoy, frame)
            assert await async_wait_until(lambda: forwarder.downlinks, 5)
            command = decode_command(forwarder.downlinks[0], buoy.device_id, buoy.key)
            assert command["cmd"] == "set-interval" and command["seconds"] == 600
            assert gateway.sources["udp"].stats["downlinks"] == 1
        finally:
            forwarder.close()
            await gateway.stop()
    try:
        run(main())
    finally:
        collector.close()


def test_wisun_end_to_end_survives_unplug_and_sends_sksendto(mosquitto, tmp_path):
    vital = Node("drone-vital", "wisun", 0x0A000002)
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)
    port = PtyPort(str(tmp_path / "ttyWISUN"))

    async def main():
        gateway = Gateway(make_config(mosquitto, tmp_path, [vital],
                                      {"wisun": {"port": port.path, "reconnect_max_s": 0.2}}))
        await gateway.start()
        source = gateway.sources["wisun"]
        dongle = Dongle.__new__(Dongle)  # reuse the demo's ERXUDP writer on our PtyPort
        dongle.master = port.master
        try:
            assert await asyncio.to_thread(source.link.connected.wait, 5)
            for frame in vital.next_frames():
                await dongle.send(vital, frame)
            ups = await wait_ups(collector, 1)
            assert ups[0][1]["radio"] == "wisun" and ups[0][1]["rx"]["sender"] == vital.ipv6

            port.vanish()
            assert await async_wait_until(lambda: source.stats["disconnects"] == 1)
            port.reappear()
            assert await async_wait_until(lambda: source.stats["reconnects"] == 1)
            dongle.master = port.master
            await queue_downlink(collector, gateway, vital, {"cmd": "reboot"})
            for frame in vital.next_frames():
                await dongle.send(vital, frame)
            ups = await wait_ups(collector, 2)
            assert ups[1][1]["counter"] == 2
            written = []
            assert await async_wait_until(lambda: written.append(port.read()) or b"SKSENDTO" in b"".join(written))
            data = b"".join(written)
            head = data[data.index(b"SKSENDTO"):]
            # the simulated dongle is a BP35C0/C2 (its ERXUDP has LQI and SIDE), so SKSENDTO carries
            # SIDE after SEC: SKSENDTO <HANDLE> <IPADDR> <PORT> <SEC> <SIDE> <DATALEN> <DATA>
            fields = head.split(b" ", 7)
            assert fields[2].decode() == vital.ipv6 and int(fields[3], 16) == 0x0E1A
            assert fields[5] == b"0"
            length = int(fields[6], 16)
            assert decode_command(fields[7][:length], vital.device_id, vital.key)["cmd"] == "reboot"
        finally:
            await gateway.stop()
            port.close()
    try:
        run(main())
    finally:
        collector.close()


def test_sigfox_end_to_end_with_downlink_answer(mosquitto, tmp_path):
    ped = Node("pedometer", "sigfox", 0x0A000003)
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)

    async def main():
        gateway = Gateway(make_config(mosquitto, tmp_path, [ped],
                                      {"sigfox": {"listen": "127.0.0.1:0", "secret": SECRET}}))
        await gateway.start()
        url = "http://%s:%d/sigfox" % tuple(gateway.sources["sigfox"].address)
        cloud = SigfoxCloud(url, SECRET)
        await cloud.start()
        try:
            for frame in ped.next_frames():
                await cloud.send(ped, frame)
            ups = await wait_ups(collector, 1)
            assert ups[0][1]["radio"] == "sigfox" and ups[0][1]["rx"]["seq"] == 1
            # reboot encodes to 6 bytes: the source zero-pads it to Sigfox's 8
            await queue_downlink(collector, gateway, ped, {"cmd": "reboot"})
            frame = ped.next_frames()[0]
            ped.seq += 1
            body = {"device": ped.device, "time": int(time.time()), "data": frame.hex(), "seqNumber": ped.seq,
                    "ack": True}
            async with cloud.http.post(url, json=body, headers={"X-Lpwa-Secret": SECRET}) as r:
                assert r.status == 200
                answer = await r.json()
            data = bytes.fromhex(answer[ped.device]["downlinkData"])
            assert len(data) == 8
            assert decode_command(data, ped.device_id, ped.key)["cmd"] == "reboot"
            async with cloud.http.post(url, json=body, headers={"X-Lpwa-Secret": "nope"}) as r:
                assert r.status == 401
            assert gateway.pipeline.status()["rejections"].get("unauthorized") == 1
        finally:
            await cloud.close()
            await gateway.stop()
    try:
        run(main())
    finally:
        collector.close()


def test_lora_serial_end_to_end_with_tx_line(mosquitto, tmp_path):
    buoy = Node("buoy", "lora", 0x0A000004)
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)
    port = PtyPort(str(tmp_path / "ttyLORA"))

    async def main():
        gateway = Gateway(make_config(mosquitto, tmp_path, [buoy], {"lora_serial": {"port": port.path}}))
        await gateway.start()
        source = gateway.sources["lora_serial"]
        try:
            assert await asyncio.to_thread(source.link.connected.wait, 5)
            for frame in buoy.next_frames():
                port.write(b"RX %s -97 6.5\r\n" % frame.hex().encode())
            ups = await wait_ups(collector, 1)
            assert ups[0][1]["rx"] == {"rssi": -97.0, "snr": 6.5} and ups[0][1]["source"] == "lora_serial"
            await queue_downlink(collector, gateway, buoy, {"cmd": "request-status"})
            for frame in buoy.next_frames():
                port.write(b"RX %s -95 7\n" % frame.hex().encode())
            written = []
            assert await async_wait_until(lambda: written.append(port.read()) or b"\n" in b"".join(written))
            line = b"".join(written).split(b"\n")[0]
            assert line.startswith(b"TX ")
            assert decode_command(bytes.fromhex(line[3:].decode()), buoy.device_id, buoy.key)["cmd"] == "request-status"
        finally:
            await gateway.stop()
            port.close()
    try:
        run(main())
    finally:
        collector.close()


def test_garbage_on_every_source_is_counted_and_the_service_stays_up(mosquitto, tmp_path):
    nodes = [Node("buoy", "lora", 0x0A000011), Node("buoy", "sigfox", 0x0A000012), Node("buoy", "wisun", 0x0A000013)]
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)
    port = PtyPort(str(tmp_path / "ttyWISUN"))
    rng = __import__("random").Random(5)

    async def main():
        gateway = Gateway(make_config(mosquitto, tmp_path, nodes, {
            "udp": {"listen": "127.0.0.1:0"}, "wisun": {"port": port.path},
            "sigfox": {"listen": "127.0.0.1:0", "secret": SECRET}}))
        await gateway.start()
        forwarder = Forwarder(tuple(gateway.sources["udp"].address))
        url = "http://%s:%d/sigfox" % tuple(gateway.sources["sigfox"].address)
        cloud = SigfoxCloud(url, SECRET)
        dongle = Dongle.__new__(Dongle)
        dongle.master = port.master
        try:
            await forwarder.start()
            await cloud.start()
            assert await asyncio.to_thread(gateway.sources["wisun"].link.connected.wait, 5)
            for _ in range(100):
                junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
                forwarder.transport.sendto(junk, forwarder.address)
                port.write(junk)
                async with cloud.http.post(url, data=junk, headers={"X-Lpwa-Secret": SECRET}) as r:
                    assert r.status == 400
                # well-formed protocol, forged frame: the pipeline rejects it (bad MIC / unknown device)
                await forwarder.send(nodes[0], b"\x11" + junk)
            await asyncio.sleep(1.2)  # the Wi-SUN line goes idle: torn lines are dropped
            for node, radio in zip(nodes, (forwarder, cloud, dongle)):
                for frame in node.next_frames():
                    await radio.send(node, frame)
            ups = await wait_ups(collector, 3)
            assert sorted(m["radio"] for _, m in ups) == ["lora", "sigfox", "wisun"]
            status = gateway.pipeline.status()
            sources = status["sources"]
            assert sources["sigfox"]["rejected"] >= 100 and sources["udp"]["rejected"] >= 100
            assert sources["wisun"]["rejected"] >= 1
            for name in ("udp", "sigfox", "wisun"):
                assert gateway.sources[name].stats["errors"] == 0
        finally:
            forwarder.close()
            await cloud.close()
            await gateway.stop()
            port.close()
    try:
        run(main())
    finally:
        collector.close()


def _toml(broker, tmp_path, nodes):
    lines = ['[gateway]\nid = "e2e"\nstate_dir = "%s"\nlog_format = "text"\n' % (tmp_path / "unused"),
             '[mqtt]\nurl = "%s"\n' % broker.url]
    for n in nodes:
        lines.append('[[devices]]\nid = "%s"\nkey = "%s"\nkind = "%s"\nconsent = true\n' % (n.device, n.key.hex(), n.kind))
    path = tmp_path / "gateway.toml"
    path.write_text("\n".join(lines))
    return str(path)


def test_lpwa_replay_pushes_a_recorded_file_into_the_broker(mosquitto, tmp_path):
    nodes = [Node("buoy", "lora", 0x0A000021), Node("pedometer", "sigfox", 0x0A000022),
             Node("drone-vital", "wisun", 0x0A000023)]
    lines = []
    for _ in range(4):
        for node in nodes:
            for frame in node.next_frames():
                meta = {"rssi": -90}
                if node.radio == "sigfox":
                    node.seq += 1
                    meta = {"device": node.device, "seq": node.seq}
                lines.append(write_line(node.radio, frame, meta))
    lines.append("this line is not JSON")
    lines.append(next(l for l in lines if '"wisun"' in l))  # heard again: rejected by the pipeline
    recording = tmp_path / "frames.jsonl"
    recording.write_text("\n".join(lines) + "\n")
    cfg = _toml(mosquitto, tmp_path, nodes)
    collector = Subscriber(mosquitto, "lpwa/#", protocol=MQTTv311)
    try:
        result = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "replay", str(recording), "-c", cfg],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "12 messages published" in result.stdout and "1 malformed lines" in result.stdout
        assert "16 frames accepted, 1 rejected" in result.stdout  # the old frame (bad-mic or replayed)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(collector.ups()) < 12:
            time.sleep(0.05)
        assert len(collector.ups()) == 12
        assert not os.path.exists(tmp_path / "unused" / "queue.sqlite3")  # a temporary state dir was used
    finally:
        collector.close()
    decoded = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "replay", str(recording), "-c", cfg, "--decode"],
                             capture_output=True, text=True, timeout=60)
    rows = [json.loads(l) for l in decoded.stdout.splitlines()]
    assert decoded.returncode == 1  # the bad line is reported
    # --decode is the bare decoder: no duplicate check, so the frame heard twice may decode twice
    assert sum(1 for r in rows if "kind" in r and r["line"] <= 16) == 12
    assert {"line": 17, "rejected": "malformed-line"}.items() <= next(r for r in rows if r["line"] == 17).items()
