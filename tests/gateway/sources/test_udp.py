"""udp source: Semtech packet forwarder in, PUSH_ACK only after ingest, downlinks as PULL_RESP."""

import asyncio
import json
import os
import socket

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st

from lpwa.gateway.sources import udp
from lpwa.radio import semtech_udp as sudp
from support.fakes import FakePipeline
from support.waits import async_wait_until

EUI = "b827ebfffe123456"


class Forwarder:
    """A packet forwarder's two sockets, as the real one uses (push and pull)."""

    def __init__(self, address):
        self.address = address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)

    async def send(self, data):
        self.sock.sendto(data, self.address)

    async def recv(self, timeout=3.0):
        loop = asyncio.get_running_loop()
        return await asyncio.wait_for(loop.sock_recv(self.sock, 4096), timeout)

    def close(self):
        self.sock.close()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def started(pipeline, **options):
    source = udp.Source(dict({"listen": "127.0.0.1:0"}, **options), pipeline, "gw-test")
    await source.start()
    return source


def test_push_data_is_ingested_with_metadata_then_acknowledged():
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        rxpks = [sudp.make_rxpk(b"\x01frame-one", freq=923.4, datr="SF9BW125", rssi=-97, snr=-3.5, tmst=1000),
                 sudp.make_rxpk(b"\x01frame-two", tmst=2000)]
        await fwd.send(sudp.build_push_data(0x1234, EUI, rxpks))
        ack = sudp.parse(await fwd.recv())
        assert ack["type"] == sudp.PUSH_ACK and ack["token"] == 0x1234
        assert [f[1] for f in pipeline.frames] == [b"\x01frame-one", b"\x01frame-two"]
        radio, raw, meta, name = pipeline.frames[0]
        assert (radio, name) == ("lora", "udp")
        assert meta["rssi"] == -97 and meta["snr"] == -3.5 and meta["freq"] == 923.4
        assert meta["datr"] == "SF9BW125" and meta["tmst"] == 1000 and meta["gateway_eui"] == EUI
        assert source.stats["received"] == 2 and source.stats["accepted"] == 2
        fwd.close()
        await source.stop()
    run(main())


@pytest.mark.parametrize("failure", ["fail", "store_error"])
def test_no_push_ack_when_the_pipeline_could_not_queue(failure):
    async def main():
        pipeline = FakePipeline()
        setattr(pipeline, failure, True)
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        await fwd.send(sudp.build_push_data(7, EUI, [sudp.make_rxpk(b"\x01x")]))
        await async_wait_until(lambda: source.stats["errors"] == 1 or source.stats["not_queued"] == 1)
        try:
            await fwd.recv(timeout=0.3)
            raise AssertionError("PUSH_ACK sent for a frame that was not queued")
        except asyncio.TimeoutError:
            pass
        fwd.close()
        await source.stop()
    run(main())


def test_rejected_frames_are_still_acknowledged_and_counted():
    async def main():
        pipeline = FakePipeline()
        pipeline.reject = True
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        bad_crc = dict(sudp.make_rxpk(b"\x01crc"), stat=-1)
        await fwd.send(sudp.build_push_data(9, EUI, [sudp.make_rxpk(b"\x01x"), bad_crc]))
        assert sudp.parse(await fwd.recv())["type"] == sudp.PUSH_ACK
        assert source.stats["rejected"] == 1 and source.stats["malformed"] == 1
        assert pipeline.rejections == [("udp", "bad-crc")]
        fwd.close()
        await source.stop()
    run(main())


def test_downlink_goes_to_the_pull_address_in_the_rx_window():
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline, rx_delay_s=1.0)
        push, pull = Forwarder(source.address), Forwarder(source.address)
        await pull.send(sudp.build_pull_data(0x0101, EUI))
        pull_ack = sudp.parse(await pull.recv())
        assert pull_ack["type"] == sudp.PULL_ACK and pull_ack["token"] == 0x0101
        pipeline.downlinks[b"\x01up"] = b"\x02cmd"
        tmst = 0xFFFFFFFF - 10  # the concentrator counter wraps
        await push.send(sudp.build_push_data(2, EUI, [sudp.make_rxpk(b"\x01up", freq=922.0, datr="SF8BW125",
                                                                      tmst=tmst)]))
        assert sudp.parse(await push.recv())["type"] == sudp.PUSH_ACK
        resp = sudp.parse(await pull.recv())
        payload, txpk = sudp.txpk_frame(resp)
        assert payload == b"\x02cmd"
        assert txpk["tmst"] == (tmst + 1000000) & 0xFFFFFFFF and not txpk["imme"]
        assert txpk["freq"] == 922.0 and txpk["datr"] == "SF8BW125"
        # without a tmst the forwarder is told to send at once
        pipeline.downlinks[b"\x01up2"] = b"\x02now"
        pk = sudp.make_rxpk(b"\x01up2")
        del pk["tmst"]
        await push.send(sudp.build_push_data(3, EUI, [pk]))
        await push.recv()
        payload, txpk = sudp.txpk_frame(sudp.parse(await pull.recv()))
        assert payload == b"\x02now" and txpk["imme"]
        await pull.send(sudp.build_tx_ack(resp["token"], EUI, "NONE"))
        await pull.send(sudp.build_tx_ack(resp["token"], EUI, "TOO_LATE"))
        assert await async_wait_until(lambda: source.stats["tx_ack"] == 2)
        assert source.stats["tx_errors"] == 1 and source.stats["downlinks"] == 2
        push.close()
        pull.close()
        await source.stop()
    run(main())


@pytest.mark.parametrize("bad", [{"freq": float("inf")}, {"freq": -1.0}, {"datr": 5}])
def test_downlink_for_an_uplink_with_garbage_radio_meta_is_dropped_and_counted(bad):
    """freq Infinity went into the PULL_RESP as the JSON token Infinity (no forwarder parses it);
    a negative freq or a numeric datr is no transmission either."""
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        push, pull = Forwarder(source.address), Forwarder(source.address)
        await pull.send(sudp.build_pull_data(1, EUI))
        await pull.recv()
        pipeline.downlinks[b"\x01up"] = b"\x02cmd"
        pk = sudp.make_rxpk(b"\x01up", tmst=1000)
        pk.update(bad)
        await push.send(sudp.build_push_data(2, EUI, [pk]))
        assert sudp.parse(await push.recv())["type"] == sudp.PUSH_ACK
        with pytest.raises(asyncio.TimeoutError):
            await pull.recv(timeout=0.3)
        assert source.stats["downlinks_lost"] == 1 and source.stats["downlinks"] == 0
        assert source.stats["errors"] == 0
        push.close()
        pull.close()
        await source.stop()
    run(main())


def test_made_up_tx_ack_errors_neither_flood_the_log_nor_grow_memory(caplog):
    """Each distinct TX_ACK error string was a new warn-once key: a sender of made-up strings got one
    warning line each and grew the remembered set without bound."""
    async def main():
        source = await started(FakePipeline())
        fwd = Forwarder(source.address)
        for i in range(50):
            made_up = json.dumps({"txpk_ack": {"error": "MADE_UP_%d" % i}}).encode()
            await fwd.send(bytes([2, 0, i, sudp.TX_ACK]) + bytes.fromhex(EUI) + made_up)
        await fwd.send(sudp.build_tx_ack(99, EUI, "TOO_LATE"))
        await async_wait_until(lambda: source.stats["tx_ack"] == 51)
        assert source.stats["tx_errors"] == 51 and len(source._warned) <= 2
        fwd.close()
        await source.stop()
    import logging
    with caplog.at_level(logging.WARNING, logger="lpwa.gateway.sources.udp"):
        run(main())
    refusals = [r for r in caplog.records if "refused a downlink" in r.getMessage()]
    assert len(refusals) == 2 and "MADE_UP" not in caplog.text


def test_downlink_without_a_pull_route_is_counted():
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        pipeline.downlinks[b"\x01up"] = b"\x02cmd"
        await fwd.send(sudp.build_push_data(2, EUI, [sudp.make_rxpk(b"\x01up")]))
        assert sudp.parse(await fwd.recv())["type"] == sudp.PUSH_ACK
        assert source.stats["downlinks_unroutable"] == 1
        fwd.close()
        await source.stop()
    run(main())


class _Transport:
    def __init__(self):
        self.sent = []

    def sendto(self, data, addr):
        self.sent.append((data, addr))


def _valid_datagrams():
    rx = st.builds(lambda p, t: sudp.make_rxpk(p, tmst=t), st.binary(min_size=1, max_size=40),
                   st.integers(0, 0xFFFFFFFF))
    return st.one_of(
        st.builds(lambda tok, rxs: sudp.build_push_data(tok, EUI, rxs), st.integers(0, 0xFFFF), st.lists(rx, max_size=3)),
        st.builds(lambda tok: sudp.build_pull_data(tok, EUI), st.integers(0, 0xFFFF)),
        st.builds(lambda tok: sudp.build_tx_ack(tok, EUI, "NONE"), st.integers(0, 0xFFFF)))


@st.composite
def _mutated(draw):
    data = bytearray(draw(_valid_datagrams()))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("flip", "cut", "insert")))
        pos = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(1, 255))
        elif op == "cut":
            del data[pos:pos + draw(st.integers(1, 8))]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=4))
    return bytes(data)


_FUZZ_SOURCE = udp.Source({"listen": "127.0.0.1:0"}, FakePipeline(), "gw-fuzz")
_FUZZ_SOURCE.transport = _Transport()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), _mutated(), _valid_datagrams()))
def test_fuzzed_datagrams_are_handled_or_counted(data):
    source = _FUZZ_SOURCE
    before = dict(source.stats)
    sent_before = len(source.transport.sent)
    source.datagram_received(data, ("127.0.0.1", 9))
    assert source.stats["errors"] == before["errors"]
    handled = (source.stats["malformed"] > before["malformed"] or source.stats["push_data"] > before["push_data"]
               or source.stats["pull_data"] > before["pull_data"] or source.stats["tx_ack"] > before["tx_ack"])
    assert handled
    if source.stats["malformed"] == before["malformed"] and data[3:4] in (b"\x00", b"\x02"):
        assert len(source.transport.sent) == sent_before + 1  # a well-formed PUSH/PULL is always answered


def test_source_keeps_serving_after_a_burst_of_garbage():
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        for i in range(200):
            await fwd.send(bytes([i % 3, i, 0, i % 7]) + b"\xff" * (i % 17))
        await fwd.send(sudp.build_pull_data(42, EUI))
        while True:  # garbage that happens to be valid PULL/PUSH gets answered too; find ours
            msg = sudp.parse(await fwd.recv())
            if msg["token"] == 42:
                break
        assert source.stats["malformed"] > 0 and source.stats["errors"] == 0
        assert len(source.forwarders) <= udp.MAX_FORWARDERS
        fwd.close()
        await source.stop()
    run(main())


def test_a_version_1_forwarder_gets_version_1_answers():
    """lora_pkt_fwd.c ignores any PUSH_ACK, PULL_ACK or PULL_RESP whose version byte is not its own."""
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        push, pull = Forwarder(source.address), Forwarder(source.address)
        await pull.send(sudp.build_pull_data(0x0202, EUI, version=1))
        assert await pull.recv() == bytes([1, 2, 2, sudp.PULL_ACK])
        pipeline.downlinks[b"\x01v1"] = b"\x02cmd"
        await push.send(sudp.build_push_data(0x0303, EUI, [sudp.make_rxpk(b"\x01v1")], version=1))
        assert await push.recv() == bytes([1, 3, 3, sudp.PUSH_ACK])
        resp = await pull.recv()
        assert resp[0] == 1 and sudp.txpk_frame(sudp.parse(resp))[0] == b"\x02cmd"
        await push.send(sudp.build_push_data(0x0404, EUI, [sudp.make_rxpk(b"\x01v2")]))
        assert await push.recv() == bytes([2, 4, 4, sudp.PUSH_ACK])
        push.close()
        pull.close()
        await source.stop()
    run(main())


def test_one_bad_rxpk_does_not_sink_its_neighbours():
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        good = sudp.make_rxpk(b"\x01good")
        no_data = dict(good)
        del no_data["data"]
        rxpks = [dict(good, data="-DS4CGaDCdG+48eJ"), good, dict(good, size=99), no_data,
                 dict(good, rssi="-35"), sudp.make_rxpk(b"\x01also-good")]
        await fwd.send(sudp.build_push_data(0x0505, EUI, rxpks))
        assert sudp.parse(await fwd.recv())["type"] == sudp.PUSH_ACK
        assert [f[1] for f in pipeline.frames] == [b"\x01good", b"\x01also-good"]
        assert source.stats["rxpk_bad"] == 4 and source.stats["malformed"] == 4
        assert sorted(r for _, r in pipeline.rejections) == ["rxpk-bad-base64", "rxpk-bad-field", "rxpk-bad-field",
                                                             "rxpk-bad-size"]
        fwd.close()
        await source.stop()
    run(main())


def test_receive_buffer_is_sized_and_bad_sizes_are_config_errors():
    async def main():
        source = await started(FakePipeline(), rcvbuf_bytes=1 << 20)
        sock = source.transport.get_extra_info("socket")
        assert source.stats["rcvbuf_bytes"] == sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2
        assert source.stats["rcvbuf_bytes"] > 212992 // 2 or not _may_force()  # more than the default
        await source.stop()
    run(main())
    base = udp.Source({}, FakePipeline(), "gw").options
    for key, value in (("rcvbuf_bytes", 10), ("drops_poll_s", 0.0)):
        with pytest.raises(ValueError, match="sources.udp." + key):
            udp.check(dict(base, **{key: value}))


def _may_force():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.setsockopt(socket.SOL_SOCKET, udp.SO_RCVBUFFORCE, 1 << 20)
            return True
        except OSError:
            return open("/proc/sys/net/core/rmem_max").read().strip() != "212992"


@pytest.mark.skipif(not os.path.exists("/proc/net/udp"), reason="this OS does not report UDP drops in /proc")
def test_kernel_drops_while_the_gateway_stalls_are_counted():
    """A real overflow: the event loop is blocked (a stalled gateway) while a forwarder sends more
    than the smallest receive buffer holds; the kernel's own drop count reaches the stats."""
    async def main():
        pipeline = FakePipeline()
        source = await started(pipeline, rcvbuf_bytes=4096, drops_poll_s=0.1)
        assert source.stats["kernel_drops"] == 0
        fwd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        datagram = sudp.build_push_data(1, EUI, [sudp.make_rxpk(b"\x01" + b"x" * 200)])
        for _ in range(500):  # no await: the loop cannot read meanwhile
            fwd.sendto(datagram, source.address)
        source.poll_drops()
        dropped = source.stats["kernel_drops"]
        assert dropped > 0
        await async_wait_until(lambda: source.stats["push_data"] + dropped >= 500)
        assert source.stats["push_data"] + dropped == 500  # every datagram: read, or counted dropped
        fwd.close()
        await source.stop()
    run(main())


def test_kernel_drops_read_from_proc_rows_by_inode(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        inode = os.fstat(s.fileno()).st_ino
        table = tmp_path / "udp"
        table.write_text(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
            " 1: 00000000:06A4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 %d 2 0000000000000000 17\n"
            % inode)
        assert udp.kernel_drops(s, (str(table),)) == 17
        assert udp.kernel_drops(s, (str(tmp_path / "missing"),)) is None


def test_forged_frames_are_counted_per_claimed_device_and_per_sender_address(tmp_path, caplog):
    """Issue #13 point 8: bad-mic was logged with "device": null and counted per device nowhere,
    although the id is in the clear header; ids without a key share one bucket, senders are counted."""
    from lpwa.gateway.pipeline import Pipeline
    from support.gateway import frame, make_config

    async def main():
        pipeline = Pipeline(make_config(tmp_path))
        source = await started(pipeline)
        fwd = Forwarder(source.address)
        real = frame("0a1b2c3d", 5)
        forged = real[:-1] + bytes([real[-1] ^ 1])
        stranger = real[:2] + bytes.fromhex("deadbeef") + real[6:]
        await fwd.send(sudp.build_push_data(3, EUI, [sudp.make_rxpk(forged), sudp.make_rxpk(stranger)]))
        assert sudp.parse(await fwd.recv())["type"] == sudp.PUSH_ACK
        st = pipeline.status()
        assert st["devices"]["0a1b2c3d"]["rejected"] == 1 and "deadbeef" not in st["devices"]
        assert st["rejected_unknown_device"] == 1
        assert source.rejected_by_peer.top() == {"127.0.0.1": 2}
        fwd.close()
        await source.stop()
        pipeline.queue.close()

    with caplog.at_level("WARNING", logger="lpwa.gateway.pipeline"):
        run(main())
    assert {getattr(r, "device", "-") for r in caplog.records if getattr(r, "event", None) == "rejected"} == \
        {"0a1b2c3d", "deadbeef"}


def test_rejections_per_sender_are_bounded():
    from lpwa.gateway.sources.peers import PeerCounts

    peers = PeerCounts(limit=256)
    for i in range(10000):
        peers.note("10.0.%d.%d" % (i // 256, i % 256))
    peers.note("10.0.39.15", 5)  # the most recent keeps its count
    assert len(peers.counts) == 256 and peers.evicted == 10000 - 256
    assert next(iter(peers.top(1).items())) == ("10.0.39.15", 6)
