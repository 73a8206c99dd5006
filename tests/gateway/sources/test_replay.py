"""replay source: a JSON-lines frame file through the pipeline; bad lines counted; done when read."""

import asyncio
import json
import time

from hypothesis import given, settings, strategies as st

from lpwa.gateway.sources import replay
from support.fakes import FakePipeline


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_replays_every_frame_in_order_with_its_radio_and_meta(tmp_path):
    lines = [replay.write_line("lora", b"\x01\x02", {"rssi": -90}, 100.0),
             replay.write_line("sigfox", b"\x01\x03", {"device": "0a1b2c3d", "seq": 5}, 100.5),
             "",
             "not json",
             json.dumps({"radio": "zigbee", "time": 1, "hex": "01", "meta": {}}),
             json.dumps({"radio": "lora", "time": 1, "hex": "0g", "meta": {}}),
             json.dumps({"radio": "lora", "time": 1, "hex": "01", "meta": []}),
             replay.write_line("wisun", b"\x01\x04", {"sender": "FE80::1"}, 101.0)]
    pipeline = FakePipeline()

    async def main():
        source = replay.Source({"file": write(tmp_path / "f.jsonl", lines)}, pipeline, "gw")
        await source.start()
        await asyncio.wait_for(source.done.wait(), 5)
        await source.stop()
        return source
    source = run(main())
    assert [(f[0], f[1], f[3]) for f in pipeline.frames] == [
        ("lora", b"\x01\x02", "replay"), ("sigfox", b"\x01\x03", "replay"), ("wisun", b"\x01\x04", "replay")]
    assert pipeline.frames[1][2] == {"device": "0a1b2c3d", "seq": 5}
    assert source.stats["malformed"] == 4 and source.stats["lines"] == 7
    assert pipeline.rejections == [("replay", "malformed-line")] * 4


def test_speed_keeps_the_recorded_gaps(tmp_path):
    lines = [replay.write_line("lora", bytes([1, i]), {}, 1000.0 + i * 0.1) for i in range(4)]
    pipeline = FakePipeline()

    async def main():
        source = replay.Source({"file": write(tmp_path / "f.jsonl", lines), "speed": 1.0}, pipeline, "gw")
        t0 = time.monotonic()
        await source.start()
        await asyncio.wait_for(source.done.wait(), 5)
        elapsed = time.monotonic() - t0
        await source.stop()
        return elapsed
    # 0.3 s of recording at real time: the source must have waited, not blasted (no upper bound:
    # timing assertions are for benches, this only checks it paces at all)
    assert run(main()) >= 0.25
    assert len(pipeline.frames) == 4


def test_a_non_finite_time_is_a_malformed_line_not_an_endless_wait(tmp_path):
    """json reads Infinity and 1e999: at --speed 1 such a line made the replay sleep forever."""
    lines = [replay.write_line("lora", b"\x01\x01", {}, 1000.0),
             '{"radio": "lora", "time": Infinity, "hex": "0102", "meta": {}}',
             '{"radio": "lora", "time": 1e999, "hex": "0103", "meta": {}}',
             '{"radio": "lora", "time": NaN, "hex": "0104", "meta": {}}',
             replay.write_line("lora", b"\x01\x05", {}, 1000.1)]
    pipeline = FakePipeline()

    async def main():
        source = replay.Source({"file": write(tmp_path / "f.jsonl", lines), "speed": 1.0}, pipeline, "gw")
        await source.start()
        await asyncio.wait_for(source.done.wait(), 10)
        await source.stop()
        return source
    source = run(main())
    assert [f[1] for f in pipeline.frames] == [b"\x01\x01", b"\x01\x05"]
    assert source.stats["malformed"] == 3


def test_missing_file_fails_at_start(tmp_path):
    async def main():
        source = replay.Source({"file": str(tmp_path / "nope.jsonl")}, FakePipeline(), "gw")
        try:
            await source.start()
        except FileNotFoundError:
            return True
    assert run(main())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=80).map(lambda t: t.replace("\n", " ")),
                          st.builds(lambda r, h, m: json.dumps({"radio": r, "time": 1.0, "hex": h, "meta": m}),
                                    st.sampled_from(["lora", "sigfox", "wisun", "x", 1]),
                                    st.one_of(st.binary(max_size=10).map(bytes.hex), st.text(max_size=6)),
                                    st.one_of(st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
                                              st.integers(), st.none()))), max_size=12))
def test_fuzzed_files_are_consumed_to_the_end(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("replay") / "f.jsonl"
    pipeline = FakePipeline()

    async def main():
        source = replay.Source({"file": write(path, lines)}, pipeline, "gw")
        await source.start()
        await asyncio.wait_for(source.done.wait(), 5)
        await source.stop()
        return source
    source = run(main())
    nonblank = sum(1 for line in lines if line.strip())
    assert source.stats["lines"] == nonblank
    assert source.stats["received"] + source.stats["malformed"] == nonblank
    assert source.stats["errors"] == 0


def test_cli_refuses_a_nan_speed_or_a_drain_timeout_that_is_not_positive(tmp_path):
    """--speed nan slipped past `speed < 0`; --drain-timeout -1 ran the replay and then blamed the
    broker for not acknowledging."""
    import subprocess
    import sys

    f = tmp_path / "f.jsonl"
    f.write_text(replay.write_line("lora", b"\x01\x02", {}, 1.0) + "\n")
    cfg = tmp_path / "g.toml"
    cfg.write_text('[gateway]\nstate_dir = "%s"\n[mqtt]\nurl = "mqtt://127.0.0.1:1"\n' % (tmp_path / "s"))
    for flags, message in ((["--speed", "nan"], "--speed must be 0 or more"),
                           (["--drain-timeout", "-1"], "--drain-timeout must be a positive number"),
                           (["--drain-timeout", "nan"], "--drain-timeout must be a positive number")):
        r = subprocess.run([sys.executable, "-m", "lpwa.tools.cli", "replay", str(f), "-c", str(cfg), *flags],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr, (flags, r.stderr)
