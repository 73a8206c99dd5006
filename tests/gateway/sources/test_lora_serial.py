"""lora_serial source: RX lines from a single-channel receiver board, TX lines back, reconnects."""

import asyncio
import binascii

from hypothesis import given, settings, strategies as st

from lpwa.gateway.sources import lora_serial
from support.fakes import FakePipeline
from support.ports import PtyPort
from support.waits import wait_until


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_parse_rx_line():
    payload, meta = lora_serial.parse_rx("RX 01a2ff -97 -3.5")
    assert payload == b"\x01\xa2\xff" and meta == {"rssi": -97.0, "snr": -3.5}
    payload, meta = lora_serial.parse_rx("RX 01 -80 7 923.4 10")
    assert meta["freq"] == 923.4 and meta["datr"] == "SF10BW125"
    for bad in ("RX", "RX zz -1 1", "RX 01 nan 1", "TX 01 -1 1", "RX  -1 1", "RX 01 -1", "RX 0 -1 1"):
        try:
            lora_serial.parse_rx(bad)
            raise AssertionError(bad)
        except ValueError:
            pass
    assert lora_serial.build_tx(b"\x02\xab") == b"TX 02ab\n"


def test_frames_in_downlink_out_and_reconnect_after_the_port_vanishes(tmp_path):
    async def main():
        port = PtyPort(str(tmp_path / "ttyLORA"))
        pipeline = FakePipeline()
        pipeline.downlinks[b"\x01\x02"] = b"\xc0\xde"
        source = lora_serial.Source({"port": port.path, "reconnect_max_s": 0.2}, pipeline, "gw")
        await source.start()
        assert await asyncio.to_thread(source.link.connected.wait, 5)
        port.write(b"# board v1 listening 923.2 MHz SF10\r\nRX 0102 -9")  # a line split across reads
        port.write(b"1 6.5\r\nRX 0103 -90 6\nOK\nERR busy\nnot a line\n")
        assert await asyncio.to_thread(wait_until, lambda: len(pipeline.frames) == 2)
        assert pipeline.frames[0] == ("lora", b"\x01\x02", {"rssi": -91.0, "snr": 6.5}, "lora_serial")
        assert await asyncio.to_thread(wait_until, lambda: source.stats["tx_err"] == 1)
        assert source.stats["tx_ok"] == 1 and source.stats["malformed"] == 1
        written = []
        assert await asyncio.to_thread(wait_until, lambda: written.append(port.read()) or b"TX c0de\n" in b"".join(written))
        assert source.stats["downlinks"] == 1

        port.vanish()
        assert await asyncio.to_thread(wait_until, lambda: source.stats["disconnects"] == 1)
        await asyncio.sleep(0.3)  # a few failed re-open attempts while it is gone
        port.reappear()
        assert await asyncio.to_thread(wait_until, lambda: source.stats["reconnects"] == 1)
        port.write(b"RX 0104 -88 5\n")
        assert await asyncio.to_thread(wait_until, lambda: len(pipeline.frames) == 3)
        assert pipeline.frames[2][1] == b"\x01\x04"
        await source.stop()
        port.close()
    run(main())


def test_overlong_line_is_dropped_whole():
    pipeline = FakePipeline()
    source = lora_serial.Source({"port": "loop://"}, pipeline, "gw")
    source._on_data(b"RX " + b"ab" * 2000)
    source._on_data(b"ab" * 10 + b" -1 1\nRX 01 -1 1\n")
    assert [f[1] for f in pipeline.frames] == [b"\x01"]
    assert source.stats["malformed"] == 1


_FUZZ = lora_serial.Source({"port": "loop://"}, FakePipeline(), "gw")


def _line():
    return st.builds(lambda p, r, s: "RX %s %d %s\n" % (binascii.hexlify(p).decode(), r, s),
                     st.binary(min_size=1, max_size=60), st.integers(-140, 0), st.floats(-20, 15))


@st.composite
def _mutated_line(draw):
    data = bytearray(draw(_line()).encode())
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), _mutated_line()), max_size=5))
def test_fuzzed_serial_input_never_crashes_and_a_good_line_still_gets_through(chunks):
    source = _FUZZ
    pipeline = source.pipeline
    for chunk in chunks:
        source._on_data(chunk)
    source._on_idle()
    before = len(pipeline.frames)
    source._on_data(b"RX 0a0b -70 3\n")
    assert pipeline.frames[-1][1] == b"\x0a\x0b" and len(pipeline.frames) == before + 1
    assert source.stats["errors"] == 0
