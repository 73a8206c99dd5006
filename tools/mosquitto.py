"""A Mosquitto broker on a free loopback port, started and stopped by its caller.

The one launcher: `lpwa bench gateway` starts its broker with it and the tests' `mosquitto`
fixture is this class, so what the bench measures and what the tests check run the same broker.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time


class MosquittoError(RuntimeError):
    """Mosquitto is not installed or did not start; the message says which."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_binary():
    """The mosquitto executable, or None (Debian puts it in /usr/sbin, often not on PATH)."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None)


class Mosquitto:
    """A Mosquitto broker on a free loopback port; stop() and start() simulate an outage."""

    def __init__(self, extra_conf="", port=None, workdir=None):
        self.binary = mosquitto_binary()
        if self.binary is None:
            raise MosquittoError("mosquitto is not installed (apt-get install -y mosquitto)")
        self.dir = workdir or tempfile.mkdtemp(prefix="lpwa-mosq-")
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.extra_conf = extra_conf
        self.proc = None
        self.log = None

    def start(self):
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n" % self.port)
            f.write(self.extra_conf)
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "-c", conf], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        raise MosquittoError("mosquitto did not start; see " + os.path.join(self.dir, "mosquitto.log"))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    @property
    def url(self):
        return "mqtt://%s:%d" % (self.host, self.port)
