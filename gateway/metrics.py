"""Prometheus text exposition of the gateway status, plus the same status as JSON.

A stdlib ThreadingHTTPServer in a daemon thread: two read-only endpoints do not justify another
event loop. GET /metrics -> Prometheus text format 0.0.4; GET /status -> the JSON `lpwa gateway
status` prints.
"""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("lpwa.gateway.metrics")


def _esc(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(status):
    """Status dict (Gateway.status()) -> Prometheus text."""
    out = []

    def metric(name, kind, help_text, samples):
        out.append("# HELP lpwa_%s %s" % (name, help_text))
        out.append("# TYPE lpwa_%s %s" % (name, kind))
        for labels, value in samples:
            if value is None:
                continue
            if isinstance(value, bool):
                value = int(value)
            lab = ",".join('%s="%s"' % (k, _esc(v)) for k, v in labels.items())
            out.append("lpwa_%s%s %s" % (name, "{%s}" % lab if lab else "", value))

    gw = {"gateway": status.get("gateway", "")}
    p = status.get("pipeline", {})
    q = p.get("queue", {})
    mq = status.get("mqtt", {})
    metric("up", "gauge", "1 while the gateway service runs", [(gw, 1)])
    metric("uptime_seconds", "gauge", "seconds since the service started", [(gw, status.get("uptime_s"))])
    metric("frames_accepted_total", "counter", "frames accepted and queued", [(gw, p.get("accepted", 0))])
    metric("messages_queued_total", "counter", "MQTT messages written to the durable queue",
           [(gw, q.get("enqueued", 0))])
    metric("messages_published_total", "counter", "messages acknowledged by the broker and deleted",
           [(gw, q.get("published", 0))])
    metric("frames_rejected_total", "counter", "rejected frames by reason",
           [(dict(gw, reason=r), n) for r, n in sorted(p.get("rejections", {}).items())])
    metric("queue_depth", "gauge", "messages waiting for a broker acknowledgement", [(gw, q.get("depth", 0))])
    metric("queue_oldest_age_seconds", "gauge", "how long the oldest queued message has waited",
           [(gw, q.get("oldest_age_s"))])
    metric("queue_max_frames", "gauge", "queue size cap (queue.max_frames)", [(gw, q.get("max_frames", 0))])
    metric("queue_full", "gauge", "1 while the queue is at its cap and refuses frames", [(gw, q.get("full", False))])
    metric("queue_full_total", "counter", "frames refused because the queue was full",
           [(gw, q.get("full_events", 0))])
    metric("queue_dead_total", "counter", "messages the broker refused (kept in the dead table)",
           [(gw, q.get("dead", 0))])
    metric("mqtt_connected", "gauge", "1 while connected to the broker", [(gw, mq.get("connected", False))])
    metric("mqtt_inflight", "gauge", "publishes awaiting PUBACK", [(gw, mq.get("inflight", 0))])
    metric("mqtt_disconnects_total", "counter", "broker connection losses", [(gw, mq.get("disconnects", 0))])
    sources = p.get("sources", {})
    for field in ("received", "accepted", "rejected"):
        metric("source_%s_total" % field, "counter", "frames %s per source" % field,
               [(dict(gw, source=s), v.get(field, 0)) for s, v in sorted(sources.items())])
    extra = status.get("source_stats", {})
    names = sorted({k for v in extra.values() for k in v if isinstance(v.get(k), (int, float))})
    for key in names:
        metric("source_stat_%s" % key.replace("-", "_"), "gauge", "source-reported counter %s" % key,
               [(dict(gw, source=s), v.get(key)) for s, v in sorted(extra.items())
                if isinstance(v.get(key), (int, float))])
    devices = p.get("devices", {})
    metric("device_frames_accepted_total", "counter", "accepted frames per device",
           [(dict(gw, device=d), v.get("accepted", 0)) for d, v in devices.items()])
    metric("device_frames_rejected_total", "counter", "rejected frames per device",
           [(dict(gw, device=d), v.get("rejected", 0)) for d, v in devices.items()])
    metric("device_last_seen_timestamp_seconds", "gauge", "unix time of the last accepted frame",
           [(dict(gw, device=d), v.get("last_seen")) for d, v in devices.items()])
    return "\n".join(out) + "\n"


class MetricsServer:
    def __init__(self, host, port, status_fn):
        self.status_fn = status_fn
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?")[0]
                try:
                    if path == "/metrics":
                        body = render(outer.status_fn()).encode()
                        ctype = "text/plain; version=0.0.4; charset=utf-8"
                    elif path == "/status":
                        body = json.dumps(outer.status_fn(), indent=1, default=str).encode()
                        ctype = "application/json"
                    else:
                        self.send_error(404)
                        return
                except Exception:
                    log.exception("metrics render failed", extra={"event": "metrics-error"})
                    self.send_error(500)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):  # keep access logs out of the service log
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="lpwa-metrics", daemon=True)
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
