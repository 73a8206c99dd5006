"""sigfox source: aiohttp callback endpoint with a shared secret; 204 queued, 200 queued with the
downlink (keyed by the device id as the cloud spelled it), 422 refused, 400/401/413/500."""

import asyncio
import json
import logging

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lpwa.gateway.sources import sigfox
from support.fakes import FakePipeline

SECRET = "s3cr3t-callback-token"


def body(data="0102a0", seq=12, ack=False, device="1A2B3C"):
    return {"device": device, "time": 1764000000, "data": data, "seqNumber": seq, "ack": ack,
            "rssi": -121.5, "snr": 9.1, "station": "0C2F"}


class Endpoint:
    def __init__(self, pipeline):
        self.source = sigfox.Source({"listen": "127.0.0.1:0", "secret": SECRET}, pipeline, "gw")
        self.pipeline = pipeline

    async def __aenter__(self):
        await self.source.start()
        self.url = "http://%s:%d/sigfox" % self.source.address
        self.http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc):
        await self.http.close()
        await self.source.stop()

    async def post(self, payload, headers=None, raw=None):
        headers = {"Authorization": "Bearer " + SECRET} if headers is None else headers
        data = raw if raw is not None else json.dumps(payload)
        async with self.http.post(self.url, data=data, headers=dict(headers, **{"Content-Type": "application/json"})) as r:
            return r.status, await r.read()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_callback_is_ingested_with_device_and_seq():
    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            status, _ = await ep.post(body())
            assert status == 204
            status, _ = await ep.post(body(seq=13), headers={"X-Lpwa-Secret": SECRET})
            assert status == 204
        radio, raw, meta, name = pipeline.frames[0]
        assert (radio, raw, name) == ("sigfox", b"\x01\x02\xa0", "sigfox")
        assert meta["device"] == "001a2b3c" and meta["seq"] == 12
        assert meta["rssi"] == -121.5 and meta["snr"] == 9.1 and meta["station"] == "0C2F" and meta["time"] == 1764000000
        assert pipeline.frames[1][2]["seq"] == 13
    run(main())


def test_downlink_answer_only_when_the_device_asked_and_one_is_queued():
    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            pipeline.downlinks[b"\x01\x02\xa0"] = b"\x11" * 8
            status, answer = await ep.post(body(ack=True))
            assert status == 200
            # keyed by the id as the request spelled it ("1A2B3C"), not our normalised "001a2b3c"
            assert json.loads(answer) == {"1A2B3C": {"downlinkData": "11" * 8}}
            status, _ = await ep.post(body(seq=14, ack=True))  # nothing queued
            assert status == 204
            assert ep.source.stats["downlinks"] == 1
    run(main())


def test_wrong_or_missing_secret_is_refused_counted_and_never_logged(caplog):
    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Lpwa-Secret": SECRET + "x"},
                            {"Authorization": SECRET}, {"X-Lpwa-Secret": "\u00e9"}):
                status, text = await ep.post(body(), headers=headers)
                assert status == 401 and SECRET.encode() not in text
            assert ep.source.stats["unauthorized"] == 5 and pipeline.frames == []
            assert pipeline.rejections.count(("sigfox", "unauthorized")) == 5
    with caplog.at_level(logging.DEBUG):
        run(main())
    assert SECRET not in caplog.text


def test_malformed_bodies_get_400_and_are_counted():
    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            for raw in (b"", b"{", b"[1,2]", b"\xff\xfe", json.dumps(body(data="0g")).encode(),
                        json.dumps(body(seq=-1)).encode(), b"[" * 20000):
                status, _ = await ep.post(None, raw=raw)
                assert status in (400, 413), raw[:20]
            assert ep.source.stats["malformed"] == 7 and pipeline.frames == []
            status, _ = await ep.post(body())
            assert status == 204
    run(main())


def test_body_with_a_broken_content_encoding_is_a_counted_400(caplog):
    """A gzip body that does not inflate made request.read() raise aiohttp's RequestPayloadError:
    500 and a traceback in the service log instead of a counted rejection."""
    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            reader, writer = await asyncio.open_connection(*ep.source.address)
            junk = b"definitely not gzip"
            writer.write(b"POST /sigfox HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                         b"Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
                         % (SECRET.encode(), len(junk), junk))
            await writer.drain()
            status_line = await reader.readline()
            writer.close()
            assert status_line.split()[1:2] == [b"400"], status_line
            assert ep.source.stats["malformed"] == 1 and ep.source.stats["errors"] == 0
            assert pipeline.rejections.count(("sigfox", "malformed-callback")) == 1
            status, _ = await ep.post(body())
            assert status == 204
    with caplog.at_level(logging.DEBUG):
        run(main())
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.parametrize("failure", ["fail", "store_error"])
def test_frame_not_stored_answers_500(failure):
    async def main():
        pipeline = FakePipeline()
        setattr(pipeline, failure, True)
        async with Endpoint(pipeline) as ep:
            status, _ = await ep.post(body())
            assert status == 500 and ep.source.stats["errors"] + ep.source.stats["not_queued"] == 1
    run(main())


def test_secret_is_required():
    try:
        sigfox.Source({"listen": "127.0.0.1:0"}, FakePipeline(), "gw")
        raise AssertionError("accepted an empty secret")
    except ValueError as e:
        assert "sources.sigfox.secret" in str(e)


_json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                            max_leaves=10)


@st.composite
def _mutated_body(draw):
    b = body(data=draw(st.binary(max_size=14)).hex(), seq=draw(st.integers(-5, 5000)), ack=draw(st.booleans()))
    for key in draw(st.lists(st.sampled_from(sorted(b)), max_size=3)):
        if draw(st.booleans()):
            b.pop(key, None)
        else:
            b[key] = draw(_json_values)
    return json.dumps(b).encode()


def test_fuzzed_bodies_never_take_the_endpoint_down():
    bodies = []

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(st.binary(max_size=200), _mutated_body(), st.builds(lambda v: json.dumps(v).encode(), _json_values)))
    def collect(raw):
        bodies.append(raw)
    collect()

    async def main():
        pipeline = FakePipeline()
        async with Endpoint(pipeline) as ep:
            for raw in bodies:
                status, _ = await ep.post(None, raw=raw)
                assert status in (204, 400), (status, raw)
            stats = ep.source.stats
            assert stats["errors"] == 0
            assert stats["malformed"] + stats["received"] == len(bodies)
            status, _ = await ep.post(body())
            assert status == 204
    run(main())


def test_real_pipeline_refusals_answer_422_with_the_reason_and_downlinks_keep_the_cloud_spelling(tmp_path):
    """What the docstring promises, against the real pipeline: 204 only for a queued frame."""
    from lpwa.gateway.pipeline import Pipeline
    from support.gateway import frame, make_config

    pipe = Pipeline(make_config(tmp_path))

    def callback(seq, device="A1B2C3D", ack=False, data=None):
        raw = data if data is not None else frame("0a1b2c3d", seq, radio="sigfox")
        return body(data=raw.hex(), seq=seq, ack=ack, device=device)

    async def main():
        async with Endpoint(pipe) as ep:
            assert (await ep.post(callback(5)))[0] == 204
            status, text = await ep.post(callback(5))  # the same callback again
            assert (status, text) == (422, b"rejected: duplicate\n")
            status, text = await ep.post(callback(3))  # an older sequence number
            assert status == 422 and text.startswith(b"rejected: ")
            status, text = await ep.post(callback(6, device="DEADBEEF"))
            assert status == 422 and text.startswith(b"rejected: ")
            assert pipe.queue_downlink("0a1b2c3d", {"cmd": "reboot"}) is None
            status, answer = await ep.post(callback(7, ack=True))
            assert status == 200 and list(json.loads(answer)) == ["A1B2C3D"]
            assert len(json.loads(answer)["A1B2C3D"]["downlinkData"]) == 16
            assert ep.source.stats["accepted"] == 2 and ep.source.stats["rejected"] == 3
    try:
        run(main())
    finally:
        pipe.queue.close()
