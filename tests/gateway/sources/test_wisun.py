"""wisun source: SKSTACK-IP dongle on a (pseudo) serial port: ERXUDP in, SKSENDTO out, reconnects."""

import asyncio

from hypothesis import given, settings, strategies as st

from lpwa.gateway.sources import wisun
from lpwa.radio import skstack
from support.fakes import FakePipeline
from support.ports import PtyPort
from support.waits import wait_until

NODE = "FE80:0000:0000:0000:021D:1290:1234:5678"
DONGLE = "FE80:0000:0000:0000:021D:1290:0000:0001"
LLA = "021D129012345678"


def erxudp(payload, lqi=0x60, rport=0x0E1A):
    return skstack.build_erxudp(NODE, DONGLE, rport, 0x0E1A, LLA, True, payload, lqi=lqi)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_erxudp_in_sksendto_out_and_reconnect_when_the_dongle_comes_back(tmp_path):
    async def main():
        port = PtyPort(str(tmp_path / "ttyWISUN"))
        pipeline = FakePipeline()
        pipeline.downlinks[b"\x01\r\n\x00binary"] = b"\x02down"
        source = wisun.Source({"port": port.path, "reconnect_max_s": 0.2, "init": "SKSREG S2 21; SKSTART"},
                              pipeline, "gw")
        await source.start()
        assert await asyncio.to_thread(source.link.connected.wait, 5)
        written = []
        init = b"SKSREG SFE 0\r\nSKSREG S2 21\r\nSKSTART\r\n"
        assert await asyncio.to_thread(wait_until, lambda: written.append(port.read()) or init in b"".join(written))
        frame = erxudp(b"\x01\r\n\x00binary")  # CR LF inside the binary payload must not split it
        port.write(b"EVENT 21 " + DONGLE.encode() + b" 0 00\r\n" + frame[:20])
        port.write(frame[20:] + b"OK\r\nFAIL ER04\r\ngarbage here\r\n")
        assert await asyncio.to_thread(wait_until, lambda: len(pipeline.frames) == 1)
        radio, raw, meta, name = pipeline.frames[0]
        assert (radio, raw, name) == ("wisun", b"\x01\r\n\x00binary", "wisun")
        assert meta["sender"] == NODE and meta["rport"] == 0x0E1A and meta["rssi"] == skstack.rssi_from_lqi(0x60)
        assert await asyncio.to_thread(wait_until, lambda: source.stats["malformed"] == 1)
        assert source.stats["fail"] == 1 and source.stats["events"] >= 2
        written = []
        want = skstack.build_sksendto(1, NODE, 0x0E1A, b"\x02down")
        assert await asyncio.to_thread(wait_until, lambda: written.append(port.read()) or want in b"".join(written))
        assert source.stats["downlinks"] == 1

        port.vanish()  # unplugged
        assert await asyncio.to_thread(wait_until, lambda: source.stats["disconnects"] == 1)
        await asyncio.sleep(0.3)
        port.reappear()  # plugged back in, same by-id path, new tty
        assert await asyncio.to_thread(wait_until, lambda: source.stats["reconnects"] == 1)
        written = []  # the re-plugged dongle is set up again
        assert await asyncio.to_thread(wait_until, lambda: written.append(port.read()) or init in b"".join(written))
        port.write(erxudp(b"\x01after"))
        assert await asyncio.to_thread(wait_until, lambda: len(pipeline.frames) == 2)
        assert pipeline.frames[1][1] == b"\x01after"
        # a second unplug/replug cycle counts again
        port.vanish()
        assert await asyncio.to_thread(wait_until, lambda: source.stats["disconnects"] == 2)
        port.reappear()
        assert await asyncio.to_thread(wait_until, lambda: source.stats["reconnects"] == 2)
        await source.stop()
        port.close()
    run(main())


def test_bp35a1_layout_without_lqi_is_accepted():
    pipeline = FakePipeline()
    source = wisun.Source({"port": "loop://"}, pipeline, "gw")
    source._on_data(skstack.build_erxudp(NODE, DONGLE, 0x0E1A, 0x0E1A, LLA, False, b"\x01a1"))
    assert pipeline.frames[0][1] == b"\x01a1" and "rssi" not in pipeline.frames[0][2]


_FUZZ = wisun.Source({"port": "loop://"}, FakePipeline(), "gw")


@st.composite
def _mutated_erxudp(draw):
    data = bytearray(erxudp(draw(st.binary(min_size=1, max_size=40))))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), _mutated_erxudp()), max_size=4))
def test_fuzzed_dongle_output_never_crashes_and_a_good_frame_still_gets_through(chunks):
    source = _FUZZ
    pipeline = source.pipeline
    for chunk in chunks:
        source._on_data(chunk)
    # whatever state the garbage left (a hit length field may wait for bytes that never come),
    # once the line goes idle the next good frame gets through
    source._on_idle()
    before = len(pipeline.frames)
    source._on_data(erxudp(b"\x01good"))
    assert len(pipeline.frames) == before + 1 and pipeline.frames[-1][1] == b"\x01good"
    assert source.stats["errors"] == 0
