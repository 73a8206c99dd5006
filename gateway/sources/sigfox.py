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
  500  the frame could not be queued (storage error, queue full, pipeline fault)
Every non-2xx answer shows as a failed callback in the Sigfox backend; none sends a downlink.
"""

import hmac
import json

from aiohttp import web

from lpwa.codecs import command
from lpwa.gateway.sources.base import SourceBase, parse_listen
from lpwa.radio import sigfox

NAME = "sigfox"
OPTIONS = {
    "listen": (str, "0.0.0.0:8080", "HTTP address for the Sigfox callbacks (host:port)"),
    "secret": (str, "", "shared secret the callback must send (required)"),
    "path": (str, "/sigfox", "URL path of the callback"),
}
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
        self.runner = None
        self.address = None

    async def start(self):
        host, port = parse_listen(self.options["listen"], "sources.sigfox.listen")
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.options["path"], self.handle)
        # lingering_time=0: a body left unread (refused, or one that cannot be inflated) closes the
        # connection instead of being drained, which re-raised a broken body's error as a traceback
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False, lingering_time=0)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        bound = self.runner.addresses  # the real port, when 0 was asked
        self.address = tuple(bound[0][:2]) if bound else (host, port)
        self.log.info("sigfox: callbacks on http://%s:%d%s", self.address[0], self.address[1], self.options["path"])

    async def stop(self):
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

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
            data = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self.malformed("too-large")
            return web.Response(status=413, text="body too large\n")
        except (web.RequestPayloadError, ConnectionError):  # a broken Content-Encoding, a torn body
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
