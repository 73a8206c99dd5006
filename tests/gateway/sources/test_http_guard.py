"""Slow and idle clients on the Sigfox endpoint (issue #13 point 6): against the real service process
with real sockets, 300 slow heads and 50 slow bodies are closed while a real callback still gets
its 204, and SIGTERM under that load exits inside the unit's TimeoutStopSec; in process, each bound
(head, body, connection cap, stop grace) is counted as the guard says."""

import asyncio
import json
import time
import urllib.request

import pytest

from lpwa.gateway import config
from lpwa.gateway.config import ConfigError
from lpwa.gateway.sources import sigfox
from lpwa.tools.bench import slow_clients as slow
from support.fakes import FakePipeline
from support.waits import wait_for

SECRET = "guard-test-secret"
CALLBACK = (b"POST /sigfox HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            % SECRET.encode())


def _status(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/status" % port, timeout=10) as r:
        return json.loads(r.read().decode())


def test_300_slow_clients_are_closed_and_a_real_callback_still_gets_its_204():
    """On main all 350 stayed open (aiohttp has no head or body deadline, no connection cap)."""
    with slow.service() as svc:  # the shipped defaults: 10 s head and body deadlines, 64 connections
        clients = slow.SlowClients(svc.sigfox_port, 300, 50)
        try:
            assert slow.real_callback(svc.sigfox_port, 1) == 204  # while all of them are connected
            wait_for(lambda: clients.open_count() == 0, 30, "the slow clients closed by the gateway")
        finally:
            clients.close()
        assert slow.real_callback(svc.sigfox_port, 2) == 204
        stats = _status(svc.metrics_port)["source_stats"]["sigfox"]
        assert stats["connections_evicted"] >= 350 - 64
        assert stats["head_timeouts"] + stats["body_timeouts"] + stats["connections_evicted"] >= 350
        assert stats["accepted"] == 2
        assert svc.stop_seconds(slow.STOP_BOUND_S) is not None
        assert "Traceback" not in svc.log_text()


def test_sigterm_under_300_slow_clients_and_50_slow_bodies_exits_inside_the_stop_timeout():
    """On main it took 61 s (aiohttp's 60 s shutdown timeout): systemd would have SIGKILLed it."""
    with slow.service() as svc:
        clients = slow.SlowClients(svc.sigfox_port, 300, 50)
        dribblers = slow.SlowClients(svc.metrics_port, 16, 0, "/metrics", "GET")  # the metrics endpoint too
        try:
            assert slow.real_callback(svc.sigfox_port, 1) == 204
            time.sleep(0.5)  # every connection accepted
            stopped = svc.stop_seconds(slow.STOP_BOUND_S)
        finally:
            clients.close()
            dribblers.close()
        assert stopped is not None, "still running %.0f s after SIGTERM" % slow.STOP_BOUND_S
        assert svc.proc.returncode == 0
        log = svc.log_text()
    assert "Traceback" not in log


@pytest.mark.parametrize("key, value", [("head_timeout_s", 0.0), ("head_timeout_s", float("nan")),
                                        ("body_timeout_s", 301.0), ("max_connections", 0), ("stop_grace_s", 11.0)])
def test_guard_options_out_of_range_are_config_errors(key, value):
    raw = {"sources": {"sigfox": {"secret": "x", key: value}}}
    with pytest.raises(ConfigError, match="^sources.sigfox.%s: must be" % key):
        config.from_dict(raw)


class Endpoint:
    """The Sigfox source in process, with small bounds."""

    def __init__(self, **options):
        options = dict({"listen": "127.0.0.1:0", "secret": SECRET, "head_timeout_s": 0.3,
                        "body_timeout_s": 0.3}, **options)
        self.source = sigfox.Source(options, FakePipeline(), "gw")

    async def __aenter__(self):
        await self.source.start()
        return self

    async def __aexit__(self, *exc):
        await self.source.stop()

    async def connect(self, data=b""):
        reader, writer = await asyncio.open_connection(*self.source.address)
        writer.write(data)
        await writer.drain()
        return reader, writer

    async def callback(self):
        body = json.dumps({"device": "1A2B3C", "time": 1, "data": "0102a0", "seqNumber": 1, "ack": False})
        reader, writer = await self.connect(CALLBACK + b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
        line = await reader.readline()
        writer.close()
        return line.split()[1:2]


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_half_a_head_is_closed_at_the_head_deadline_and_counted():
    async def main():
        async with Endpoint() as ep:
            reader, writer = await ep.connect(b"POST /sigfox HTTP/1.1\r\nHost: x\r\n")
            assert await reader.read() == b""  # closed by the gateway, no answer
            writer.close()
            assert ep.source.stats["head_timeouts"] == 1
            assert await ep.callback() == [b"204"]
    run(main())


def test_a_slow_body_gets_408_at_the_body_deadline_and_nothing_is_ingested():
    async def main():
        async with Endpoint() as ep:
            reader, writer = await ep.connect(CALLBACK + b"Content-Length: 200\r\n\r\n{")
            answer = await reader.read()
            writer.close()
            assert answer.split()[1:2] == [b"408"]
            assert ep.source.stats["body_timeouts"] == 1 and ep.source.pipeline.frames == []
    run(main())


def test_one_connection_beyond_the_cap_closes_the_oldest_and_is_served():
    async def main():
        async with Endpoint(max_connections=3, head_timeout_s=30.0) as ep:
            idle = [await ep.connect() for _ in range(3)]
            await asyncio.sleep(0.1)
            assert await ep.callback() == [b"204"]
            assert await idle[0][0].read() == b""  # the oldest was closed to make room
            assert ep.source.stats["connections_evicted"] == 1
            for _, writer in idle:
                writer.close()
    run(main())


def test_stop_gives_a_request_in_progress_its_grace_then_closes_it():
    async def main():
        ep = Endpoint(body_timeout_s=60.0, stop_grace_s=0.5)
        await ep.source.start()
        reader, writer = await ep.connect(CALLBACK + b"Content-Length: 200\r\n\r\n{")
        await asyncio.sleep(0.1)
        await asyncio.wait_for(ep.source.stop(), 10)  # was aiohttp's 60 s shutdown timeout
        assert await reader.read() == b"" and ep.source.pipeline.frames == []  # not answered: not acknowledged
        writer.close()
    run(main())
