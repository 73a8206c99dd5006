"""Bounds for an aiohttp endpoint anyone on the network can reach (issue #13): a deadline for the
request head, one for the body, a cap on open connections, and a stop that fits systemd's
`TimeoutStopSec`.

aiohttp offers none of these as options: its keep-alive timeout closes an idle connection
(uncounted, and only from 3.10 also one that never sent a first head), its maintainers leave
connection limits to the application (aio-libs/aiohttp#675), and its shutdown waits 60 s for
requests in progress. So the listening socket is ours and every connection is aiohttp's own
RequestHandler, subclassed only to tell the guard when it opens and closes:

- head: a connection without a complete request head `head_timeout_s` after it opened (or after
  its previous answer, on keep-alive) is closed, counted in `head_timeouts`;
- body: `read_body` reads the body within `body_timeout_s`, else counts `body_timeouts` and the
  handler answers 408 (not 2xx: nothing was acknowledged) and the connection closes;
- cap: a connection beyond `max_connections` evicts the oldest open one, counted in
  `connections_evicted`, so slow connections cannot lock a real client out (a real callback is
  done in milliseconds; refusing the newest would let a few hundred slow ones hold the door);
- stop: no new connections, requests in progress get `grace_s` to finish, the rest are closed.
"""

import asyncio
import collections

from aiohttp import web


class BodyTimeout(Exception):
    """The body did not arrive within body_timeout_s."""


class _Connection(web.RequestHandler):
    """aiohttp's handler for one connection, reporting its open and close to the guard."""

    guard = None

    def connection_made(self, transport):
        web.RequestHandler.connection_made(self, transport)
        self.guard.opened(self)

    def connection_lost(self, exc):
        self.guard.closed(self)
        web.RequestHandler.connection_lost(self, exc)


class Guard:
    def __init__(self, app, stats, head_timeout_s, body_timeout_s, max_connections, grace_s):
        self.head_timeout_s = head_timeout_s
        self.body_timeout_s = body_timeout_s
        self.max_connections = max_connections
        self.stats = stats
        for key in ("head_timeouts", "body_timeouts", "connections_evicted"):
            stats.setdefault(key, 0)
        app.middlewares.append(self._middleware)
        self.runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=grace_s)
        self.open = collections.OrderedDict()  # connection -> its head timer (None while handled)
        self.server = None
        self._loop = None
        self._stopping = False

    async def start(self, host, port):
        """Listen on host:port -> the (host, port) bound (the real port when 0 was asked)."""
        await self.runner.setup()
        self._loop = asyncio.get_running_loop()
        self.server = await self._loop.create_server(self._connection, host, port, backlog=128)
        return tuple(self.server.sockets[0].getsockname()[:2])

    def _connection(self):
        # lingering_time=0: an unread body closes the connection; aiohttp's keep-alive timer is only a
        # backstop, a second later than ours (which counts)
        conn = _Connection(self.runner.server, loop=self._loop, access_log=None, lingering_time=0,
                           keepalive_timeout=self.head_timeout_s + 1.0)
        conn.guard = self
        return conn

    def opened(self, conn):
        while len(self.open) >= self.max_connections:
            oldest, timer = self.open.popitem(last=False)
            if timer is not None:
                timer.cancel()
            self.stats["connections_evicted"] += 1
            oldest.force_close()
        self.open[conn] = self._loop.call_later(self.head_timeout_s, self._head_late, conn)

    def closed(self, conn):
        timer = self.open.pop(conn, None)
        if timer is not None:
            timer.cancel()

    def _head_late(self, conn):
        if self.open.get(conn) is not None:
            self.open[conn] = None
            self.stats["head_timeouts"] += 1
            conn.force_close()

    @web.middleware
    async def _middleware(self, request, handler):
        conn = request.protocol
        timer = self.open.get(conn)
        if timer is not None:
            timer.cancel()
            self.open[conn] = None
        try:
            return await handler(request)
        finally:
            if conn in self.open and not self._stopping:  # keep-alive: the next head has a deadline too
                self.open[conn] = self._loop.call_later(self.head_timeout_s, self._head_late, conn)

    async def read_body(self, request):
        """request.read() within body_timeout_s; BodyTimeout (counted) beyond it."""
        try:
            return await asyncio.wait_for(request.read(), self.body_timeout_s)
        except asyncio.TimeoutError:
            self.stats["body_timeouts"] += 1
            raise BodyTimeout()

    async def stop(self):
        """Stop accepting; requests in progress get grace_s (aiohttp's shutdown); the rest closed."""
        self._stopping = True
        if self.server is not None:
            self.server.close()
        for conn, timer in list(self.open.items()):
            if timer is not None:
                timer.cancel()
        await self.runner.cleanup()
        for conn in list(self.open):
            conn.force_close()
        self.open.clear()
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.wait_closed(), 1.0)
            except asyncio.TimeoutError:
                pass
            self.server = None
