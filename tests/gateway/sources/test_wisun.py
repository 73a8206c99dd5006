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
        # the uplink came from a BP35C0/C2 (LQI and SIDE in its ERXUDP): its SKSENDTO takes SIDE too
        want = skstack.build_sksendto(1, NODE, 0x0E1A, b"\x02down", side=0)
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


# --- what real BP35C2 dongles print (ROHM BP35C0/BP35C2 command reference; tests/data/radio) ---
C2_SA2_0 = b"ERXUDP %s %s 0E1A 0E1A %s 1 0 %04X "  # SECURED SIDE DATALEN: the BP35C2 default


def c2_line(payload, hex_data=False):
    data = payload.hex().upper().encode() if hex_data else payload
    return C2_SA2_0 % (NODE.encode(), DONGLE.encode(), LLA.encode(), len(payload)) + data + b"\r\n"


def test_bp35c2_default_layout_is_ingested_and_answered_with_side():
    pipeline = FakePipeline()
    pipeline.downlinks[b"\x01c2"] = b"\x02down"
    source = wisun.Source({"port": "loop://"}, pipeline, "gw")
    written = []
    source.link.write = lambda data: written.append(data) or True
    source._on_data(c2_line(b"\x01c2"))
    assert [f[1] for f in pipeline.frames] == [b"\x01c2"] and source.stats["malformed"] == 0
    assert pipeline.frames[0][2]["side"] == 0 and "rssi" not in pipeline.frames[0][2]
    assert source.stats["erxudp_layout"] == "c2"
    assert written == [skstack.build_sksendto(1, NODE, 0x0E1A, b"\x02down", side=0)]
    assert b" 0E1A 1 0 0005 " in written[0]  # SEC then SIDE, as a BP35C2 expects


def test_hex_data_mode_configured_or_read_back_with_ropt():
    pipeline = FakePipeline()
    configured = wisun.Source({"port": "loop://", "data_format": "hex"}, pipeline, "gw")
    configured._on_data(c2_line(b"\x01hex", hex_data=True))
    assert pipeline.frames[-1][1] == b"\x01hex" and configured.stats["malformed"] == 0
    configured._on_data(c2_line(b"\x01bin"))  # pinned to hex: a binary line is malformed
    assert configured.stats["malformed"] == 1 and len(pipeline.frames) == 1

    probed = wisun.Source({"port": "loop://"}, pipeline, "gw")
    written = []
    probed.link.write = lambda data: written.append(data) or True
    probed._on_open()
    assert skstack.build_ropt() in written and probed.stats["data_format"] == "auto"
    probed._on_data(c2_line(b"\x01before", hex_data=True))  # before the answer: either format
    probed._on_data(b"OK\r\nOK 01\r")  # SKSREG SFE 0's OK, then ROPT's CR-only answer: hex
    assert probed.stats["data_format"] == "hex" and probed.parser.ascii_data is True
    probed._on_data(c2_line(b"\x01after", hex_data=True))
    assert [f[1] for f in pipeline.frames[1:]] == [b"\x01before", b"\x01after"]
    assert probed.stats["malformed"] == 0


def test_a_pinned_layout_counts_other_layouts_malformed():
    pipeline = FakePipeline()
    source = wisun.Source({"port": "loop://", "erxudp_layout": "c2-lqi"}, pipeline, "gw")
    source._on_data(erxudp(b"\x01lqi"))
    source._on_data(c2_line(b"\x01nolqi"))
    assert [f[1] for f in pipeline.frames] == [b"\x01lqi"] and source.stats["malformed"] == 1


def test_bad_wisun_options_are_one_line_errors():
    import pytest
    base = dict(wisun.Source({"port": "loop://"}, FakePipeline(), "gw").options)
    for key, value in (("data_format", "ascii"), ("erxudp_layout", "bp35c2"), ("rejoin_min_s", 0.0),
                       ("join", "FE80::zz"), ("init", "SKJOIN 10.0.0.1")):
        with pytest.raises(ValueError) as err:
            wisun.check(dict(base, **{key: value}))
        assert "sources.wisun." in str(err.value) and "\n" not in str(err.value)


def test_session_lost_rejoins_with_back_off_logged_once_and_shows_in_status(tmp_path, caplog):
    async def main():
        port = PtyPort(str(tmp_path / "ttyWISUN"))
        source = wisun.Source({"port": port.path, "join": NODE, "rejoin_min_s": 0.05, "rejoin_max_s": 0.2,
                               "init": "SKSETPWD C sekrit-password; SKSETRBID 0123"}, FakePipeline(), "gw")
        await source.start()
        join = skstack.build_skjoin(NODE)
        seen = []

        def joins():
            seen.append(port.read())
            return b"".join(seen).count(join)
        assert await asyncio.to_thread(wait_until, lambda: joins() == 1)  # joined on connect
        assert source.stats["session"] == "joining"
        port.write(b"EVENT 25 " + NODE.encode() + b" 0\r\n")
        assert await asyncio.to_thread(wait_until, lambda: source.stats["session"] == "up")
        port.write(b"EVENT 29 " + NODE.encode() + b" 0\r\n")  # lifetime expired
        assert await asyncio.to_thread(wait_until, lambda: joins() == 2)
        for n in (3, 4):  # PANA keeps failing: each failure waits, then tries again
            port.write(b"EVENT 24 " + NODE.encode() + b" 0\r\n")
            assert await asyncio.to_thread(wait_until, lambda: joins() == n)
        assert source.stats["session"] == "joining" and source.stats["session_lost"] == 1
        port.write(b"EVENT 25 " + NODE.encode() + b" 0\r\n")
        assert await asyncio.to_thread(wait_until, lambda: source.stats["session"] == "up")
        port.write(b"EVENT 27 " + NODE.encode() + b" 0\r\n")  # a second episode
        assert await asyncio.to_thread(wait_until, lambda: joins() == 5)
        assert source.stats["session_lost"] == 2 and source.stats["rejoins"] == 5
        await source.stop()
        port.close()
    with caplog.at_level("INFO", logger="lpwa.gateway.sources.wisun"):
        run(main())
    lost = [r for r in caplog.records if "session lost" in r.getMessage()]
    assert len(lost) == 2 and all(r.levelname == "WARNING" for r in lost)
    assert sum("re-established after 3 attempt(s)" in r.getMessage() for r in caplog.records) == 1
    assert "sekrit" not in caplog.text


def test_rejoin_delay_doubles_and_is_capped():
    from lpwa.gateway.sources.wisun_session import rejoin_delay
    assert [rejoin_delay(n, 5.0, 300.0) for n in range(8)] == [5, 10, 20, 40, 80, 160, 300, 300]
    assert rejoin_delay(10 ** 6, 5.0, 300.0) == 300.0


def test_the_coordinator_is_written_out_as_skstack_takes_it():
    assert wisun._coordinator({"join": "fe80::21d:1290:1234:5678", "init": ""}) == NODE
    assert wisun._coordinator({"join": "", "init": "SKSREG S2 21; SKJOIN FE80::1"}) == \
        "FE80:0000:0000:0000:0000:0000:0000:0001"
    assert wisun._coordinator({"join": "", "init": "SKSTART"}) == ""
