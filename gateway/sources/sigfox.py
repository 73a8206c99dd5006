"""Sigfox source: an HTTP endpoint (aiohttp) for the Sigfox cloud's data callbacks.

Configure the device type's callback in the Sigfox backend as: POST, content type
application/json, URL http(s)://<gateway>/sigfox, header `Authorization: Bearer <secret>` (or
`X-Lpwa-Secret: <secret>`), body
  {"device": "{device}", "time": {time}, "data": "{data}", "seqNumber": {seqNumber},
   "ack": {ack}, "rssi": {rssi}, "snr": {snr}, "station": "{station}"}
and, for downlinks, mode BIDIR. The answers:
  204  the frame is in the durable queue (nothing to send back)
  200  the frame is in the durable queue and the device asked for a downlink (ack) that was
       waiting: {"<device id as the callback spelled it>": {"downlinkData": "<16 hex>"}}
  401  wrong or missing secret (counted; the secret is never logged)
  400  the body is not such a callback;  413  the body is too large
  422  a well-formed callback whose frame the gateway refused and did not queue (unknown device,
       bad MAC, duplicate, replay, no consent...): the body is `rejected: <reason>`, and the
       rejection is counted by reason as for every radio
  408  the body did not arrive within body_timeout_s (counted; the connection is closed)
  500  the frame could not be queued (storage error, queue full, pipeline fault)
Every non-2xx answer shows as a failed callback in the Sigfox backend; none sends a downlink.
Slow or idle clients are bounded by http_guard (head and body deadlines, a connection cap, a stop
inside systemd's TimeoutStopSec).
"""

import hmac
import json

from aiohttp import web

from lpwa.codecs import command
from lpwa.gateway.options import Row, between
from lpwa.gateway.sources.base import SourceBase, check_listen, parse_listen
from lpwa.gateway.sources.http_guard import BodyTimeout, Guard
from lpwa.radio import sigfox


NAME = "sigfox"
OPTIONS = {
    "listen": Row(str, "0.0.0.0:8080", "HTTP address for the Sigfox callbacks (host:port)", check_listen),
    "secret": (str, "", "shared secret the callback must send (required)"),
    "path": (str, "/sigfox", "URL path of the callback"),
    "head_timeout_s": Row(float, 10.0, "seconds a client has to send a request head (after connecting or its "
                                       "previous answer); then it is closed and counted", between(0.1, 300, "seconds")),
    "body_timeout_s": Row(float, 10.0, "seconds a client has to send the body once the head is in; then 408, "
                                       "closed and counted", between(0.1, 300, "seconds")),
    "max_connections": Row(int, 64, "open connections at most; one more closes the oldest (counted)",
                           between(1, 10000)),
    "stop_grace_s": Row(float, 2.0, "on SIGTERM, seconds requests in progress may finish before they are closed "
                                    "(the unit's TimeoutStopSec is 20)", between(0, 10, "seconds")),
}
BINDS = {"listen": "tcp"}  # what `lpwa gateway check` test-binds (lpwa.gateway.preflight)
MAX_BODY = 16 * 1024  # a callback is a few hundred bytes


def check(options):
    """Config-time check: an endpoint without a secret would accept anyone's frames."""
    if not options["secret"]:
        raise ValueError("sources.sigfox.secret: must be set")


class Source(SourceBase):
    NAME = NAME
    RADIO = "sigfox"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SourceBase.__init__(self, options, pipeline, gateway_id)
        check(self.options)
        self._secret = self.options["secret"].encode("utf-8")
        self.stats.update({"unauthorized": 0})
        self.guard = None
        self.address = None

    async def start(self):
        host, port = parse_listen(self.options["listen"], "sources.sigfox.listen")
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.options["path"], self.handle)
        o = self.options
        # the guard's runner has lingering_time=0: a body left unread (refused, or one that cannot be
        # inflated) closes the connection instead of being drained, which re-raised a broken body's
        # error as a traceback
        self.guard = Guard(app, self.stats, o["head_timeout_s"], o["body_timeout_s"], o["max_connections"],
                           o["stop_grace_s"])
        self.address = await self.guard.start(host, port)
        self.log.info("sigfox: callbacks on http://%s:%d%s", self.address[0], self.address[1], self.options["path"])

    async def stop(self):
        if self.guard is not None:
            await self.guard.stop()
            self.guard = None

    def authorized(self, request):
        given = request.headers.get("X-Lpwa-Secret")
        if given is None:
            auth = request.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                given = auth[7:].strip()
        if given is None:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self._secret)

    async def handle(self, request):
        if not self.authorized(request):
            self.stats["unauthorized"] += 1
            self.malformed("unauthorized")
            return web.Response(status=401, text="unauthorized\n")
        try:
            data = await self.guard.read_body(request)
        except BodyTimeout:  # counted by the guard
            self.warn_once("body-timeout", "sigfox: closed a connection whose body was too slow; further ones are "
                           "only counted (body_timeouts)")
            return web.Response(status=408, text="body too slow\n", headers={"Connection": "close"})
        except web.HTTPRequestEntityTooLarge:
            self.malformed("too-large")
            return web.Response(status=413, text="body too large\n")
        except (web.RequestPayloadError, ConnectionError):  # a broken Content-Encoding, a torn body
            if request.protocol.transport is None:  # closed under it (evicted by the cap: counted there)
                return web.Response(status=400, text="connection closed\n")
            self.malformed("malformed-callback")
            return web.Response(status=400, text="not a Sigfox data callback\n")
        try:
            body = json.loads(data)
            if not isinstance(body, dict):
                raise ValueError("not a JSON object")
            callback = sigfox.parse_callback(body)
        except (ValueError, TypeError, KeyError, RecursionError, sigfox.SigfoxError):
            self.malformed("malformed-callback")
            return web.Response(status=400, text="not a Sigfox data callback\n")
        meta = {"device": callback["device"], "seq": callback["seq"], "ack": bool(callback.get("ack"))}
        for key in ("time", "rssi", "snr", "station"):
            if callback.get(key) is not None:
                meta[key] = callback[key]
        outcome = self.ingest(callback["data"], meta)
        if outcome is None:
            return web.Response(status=500, text="gateway could not queue the frame\n")
        if not outcome.accepted:
            return web.Response(status=422, text="rejected: %s\n" % (outcome.reason or "refused"))
        if callback.get("ack") and outcome.downlink:
            try:
                data8 = command.pad_downlink(outcome.downlink, sigfox.DOWNLINK_BYTES)
                answer = sigfox.build_downlink_response(callback["device_id"], data8)
            except (ValueError, sigfox.SigfoxError):
                self.count("downlinks_lost")
                self.warn_once("downlink-size", "sigfox: dropped a downlink that is not 8 bytes")
                return web.Response(status=204)
            self.stats["downlinks"] += 1
            return web.json_response(answer)
        return web.Response(status=204)
