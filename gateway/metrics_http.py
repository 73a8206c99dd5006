"""The metrics endpoint: GET /metrics (prometheus-client's exposition of our registry) and
GET /status (the JSON `lpwa gateway status --url` reads), with a bounded number of connections.

Neither prometheus-client (`start_http_server` is a ThreadingWSGIServer: one thread per connection,
no cap) nor aiohttp (its maintainers leave connection limits to the application, aio-libs/aiohttp
#675) caps connections, so this is the stdlib ThreadingHTTPServer with a semaphore in front: at most
MAX_CONNECTIONS requests are served at once, the rest are closed at accept and counted; every
socket read or write times out after TIMEOUT_S, a connection is shut down DEADLINE_S after accept
whatever it sends (a client dribbling a byte per read timeout held its slot for ever), and
HTTP/1.0 closes each connection after one request, so a slow or idle client holds a slot for a
bounded time (issue #13). Handler threads are daemons: stop() does not wait for them, so slow
clients never delay the service's shutdown.
"""

import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("lpwa.gateway.metrics")

MAX_CONNECTIONS = 8
TIMEOUT_S = 5.0
DEADLINE_S = 10.0


class _Handler(BaseHTTPRequestHandler):
    timeout = TIMEOUT_S  # StreamRequestHandler: settimeout() on the connection
    protocol_version = "HTTP/1.0"

    def setup(self):
        BaseHTTPRequestHandler.setup(self)
        self._deadline = threading.Timer(DEADLINE_S, self._expire)
        self._deadline.daemon = True
        self._deadline.start()

    def _expire(self):
        """Past DEADLINE_S: shut the socket, so the handler's next read or write ends it."""
        self.server.timed_out += 1
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def finish(self):
        self._deadline.cancel()
        try:
            BaseHTTPRequestHandler.finish(self)
        except OSError:  # the client went away while the answer was flushed
            pass

    def do_GET(self):
        path = self.path.split("?")[0]
        try:
            if path == "/metrics":
                body, ctype = generate_latest(self.server.registry), CONTENT_TYPE_LATEST
            elif path == "/status":
                body = json.dumps(self.server.status_fn(), indent=1, default=str).encode()
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


class _BoundedServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, address, registry, status_fn, max_connections):
        self.registry = registry
        self.status_fn = status_fn
        self.slots = threading.BoundedSemaphore(max_connections)
        self.refused = 0
        self.timed_out = 0
        self.errors = 0
        ThreadingHTTPServer.__init__(self, address, _Handler)

    def handle_error(self, request, client_address):
        """A client that went away mid-answer (broken pipe, reset): counted, not a traceback on stderr."""
        self.errors += 1
        log.debug("metrics client error", exc_info=True, extra={"event": "metrics-client-error"})

    def process_request(self, request, client_address):
        if not self.slots.acquire(blocking=False):
            self.refused += 1
            self.shutdown_request(request)
            return
        try:
            ThreadingHTTPServer.process_request(self, request, client_address)
        except Exception:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            ThreadingHTTPServer.process_request_thread(self, request, client_address)
        finally:
            self.slots.release()


class MetricsServer:
    def __init__(self, host, port, status_fn, registry, max_connections=MAX_CONNECTIONS):
        self.httpd = _BoundedServer((host, port), registry, status_fn, max_connections)
        self.port = self.httpd.server_address[1]
        self._thread = None

    @property
    def refused(self):
        """Connections closed at accept because MAX_CONNECTIONS were being served."""
        return self.httpd.refused

    @property
    def timed_out(self):
        """Connections shut down at DEADLINE_S."""
        return self.httpd.timed_out

    def start(self):
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="lpwa-metrics", daemon=True)
        self._thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
