"""Slow HTTP clients against the real service process (issue #13 point 6): `lpwa gateway run` with
the Sigfox endpoint and the metrics endpoint, real sockets, no broker (nothing here needs one).

A slow head sends half a request head, then one more header byte every `DRIBBLE_S`; a slow body
sends a whole authorised head (Content-Length 256), then one body byte every `DRIBBLE_S`. The
figures: how many are still open after `settle_s`, what a real callback sent meanwhile gets, and
the seconds from SIGTERM to exit with the slow clients connected (systemd's `TimeoutStopSec=20`
is the bound). Used by `lpwa bench hostile` and by tests/gateway/sources/test_http_guard.py.
"""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from lpwa.codecs.frame import FrameEncoder

SECRET = "bench-slow-callback-secret"
DEVICE, KEY = "b0000003", bytes(range(2, 18))
DRIBBLE_S = 0.5
LAUNCHER = ("-m", "lpwa.tools.cli")  # the interpreter arguments before `gateway run`
STOP_BOUND_S = 20.0  # TimeoutStopSec of gateway/lpwa-gateway.service


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(state_dir, sigfox_port, metrics_port, sigfox_options=None):
    """A gateway.toml with the Sigfox source, metrics, one buoy and an unreachable broker."""
    lines = ["[gateway]", 'id = "gw-slow"', 'state_dir = "%s"' % os.path.join(state_dir, "state"),
             'log_level = "warning"', "[mqtt]", 'url = "mqtt://127.0.0.1:%d"' % free_tcp_port(),
             "[metrics]", 'listen = "127.0.0.1:%d"' % metrics_port,
             "[sources.sigfox]", 'listen = "127.0.0.1:%d"' % sigfox_port, 'secret = "%s"' % SECRET]
    lines += ["%s = %s" % (k, json.dumps(v)) for k, v in sorted((sigfox_options or {}).items())]
    lines += ["[[devices]]", 'id = "%s"' % DEVICE, 'key = "%s"' % KEY.hex(), 'kind = "buoy"']
    path = os.path.join(state_dir, "gateway.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


class Service:
    """`lpwa gateway run -c <config>` as a child process, stderr to a file."""

    def __init__(self, config_path, ports, launcher=LAUNCHER):
        """`launcher`: the interpreter arguments before `gateway run` (a bench may run a variant)."""
        self.log_path = config_path + ".log"
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([sys.executable] + list(launcher) + ["gateway", "run", "-c", config_path],
                                         stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 30
        while not all(_listening(p) for p in ports):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start: %s" % self.log_text()[-400:])
            time.sleep(0.05)

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def stop_seconds(self, limit=120.0):
        """SIGTERM, then the seconds until the process exited (None: still running after `limit`)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(limit)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class SlowClients:
    """Slow heads and slow bodies on one port, dribbled by a thread until close()."""

    def __init__(self, port, heads, bodies, path="/sigfox", method="POST"):
        self.socks = []
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        for i in range(heads + bodies):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i < heads:
                s.sendall(head.encode() + b"X-Slow: ")
            else:
                s.sendall((head + "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                           "Content-Length: 256\r\n\r\n{" % SECRET).encode())
            s.setblocking(False)
            self.socks.append(s)
        self.closed = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dribble, daemon=True)
        self._thread.start()

    def _dribble(self):
        while not self._stop.wait(DRIBBLE_S):
            for i, s in enumerate(self.socks):
                if i not in self.closed and self._gone(s):
                    self.closed.add(i)
                elif i not in self.closed:
                    try:
                        s.send(b"a")
                    except BlockingIOError:  # the server stopped reading: still open
                        pass
                    except OSError:
                        self.closed.add(i)

    @staticmethod
    def _gone(s):
        try:
            while True:
                if not s.recv(4096):  # EOF; an answer (408) before it is read and dropped
                    return True
        except BlockingIOError:
            return False
        except OSError:
            return True

    def open_count(self):
        return len(self.socks) - len(self.closed)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        for s in self.socks:
            s.close()


def callback_body(counter=1):
    frame = FrameEncoder("buoy", int(DEVICE, 16), KEY, radio="sigfox").encode(
        counter, {"water_temp_c": 18.25, "battery_v": 3.7})[0]
    return json.dumps({"device": DEVICE.upper(), "time": int(time.time()), "data": bytes(frame).hex(),
                       "seqNumber": counter, "ack": False, "rssi": -120.0, "snr": 8.0, "station": "0C2F"})


def real_callback(port, counter=1, timeout=10):
    """POST one real callback; its HTTP status (or the error's name)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/sigfox", callback_body(counter),
                     {"Authorization": "Bearer " + SECRET, "Content-Type": "application/json"})
        return conn.getresponse().status
    except OSError as e:
        return type(e).__name__
    finally:
        conn.close()


@contextlib.contextmanager
def service(sigfox_options=None):
    """A running `lpwa gateway run` with the Sigfox and metrics endpoints (.sigfox_port, .metrics_port)."""
    with tempfile.TemporaryDirectory() as d:
        sigfox_port, metrics_port = free_tcp_port(), free_tcp_port()
        svc = Service(write_config(d, sigfox_port, metrics_port, sigfox_options), (sigfox_port, metrics_port))
        svc.sigfox_port, svc.metrics_port = sigfox_port, metrics_port
        try:
            yield svc
        finally:
            svc.kill()


def wait_closed(clients, timeout):
    """Seconds until every slow client was closed by the server (None: some still open at `timeout`)."""
    t0 = time.monotonic()
    while clients.open_count():
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(0.1)
    return time.monotonic() - t0


def measure(heads=300, bodies=50, metrics_clients=16, settle_s=12.0, sigfox_options=None):
    """The figures for one run -> dict (see the module docstring)."""
    with service(sigfox_options) as svc:
        slow = SlowClients(svc.sigfox_port, heads, bodies)
        slow_metrics = SlowClients(svc.metrics_port, metrics_clients, 0, "/metrics", "GET")
        meanwhile = real_callback(svc.sigfox_port, 1)
        closed_s = wait_closed(slow, settle_s)
        out = {"slow": heads + bodies, "open_after_settle": slow.open_count(), "settle_s": settle_s,
               "closed_after_s": closed_s, "callback_meanwhile": meanwhile,
               "callback_after": real_callback(svc.sigfox_port, 2),
               "metrics_open_after_settle": slow_metrics.open_count()}
        slow.close()
        slow_metrics.close()
        slow = SlowClients(svc.sigfox_port, heads, bodies)  # fresh ones, connected at SIGTERM
        slow_metrics = SlowClients(svc.metrics_port, metrics_clients, 0, "/metrics", "GET")
        time.sleep(1.0)
        out["stop_s"] = svc.stop_seconds()
        out["exit_code"] = svc.proc.returncode
        slow.close()
        slow_metrics.close()
        out["log"] = svc.log_text()
        return out
