"""The systemd unit and the sd_notify protocol: `systemd-analyze security --offline=yes` rates the
shipped unit OK or better; the gateway says READY=1 on a real AF_UNIX datagram NOTIFY_SOCKET, pings
WATCHDOG=1 from its event loop (and stops pinging while that loop is blocked, which is what makes
systemd restart a hung gateway), and says STOPPING=1 on stop."""

import asyncio
import os
import re
import shutil
import socket
import subprocess
import threading

import pytest

from support.gateway import make_config, running

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "gateway", "lpwa-gateway.service")
LEVELS = ("SAFE", "OK")  # systemd-analyze's words for an exposure below 4.0 (then MEDIUM, EXPOSED, UNSAFE)


def unit_text():
    with open(UNIT) as f:
        return f.read()


def test_systemd_analyze_rates_the_unit_ok():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    r = subprocess.run([tool, "security", "--offline=yes", "--no-pager", UNIT], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) < 4.0 and m.group(2) in LEVELS, m.group(0)


def test_unit_is_type_notify_with_a_watchdog_and_documentation_it_installs():
    text = unit_text()
    keys = dict(re.findall(r"^(Type|WatchdogSec|NotifyAccess|Documentation)=(.*)$", text, re.M))
    assert keys["Type"] == "notify" and keys["NotifyAccess"] == "main" and int(keys["WatchdogSec"]) > 0
    doc = keys["Documentation"]
    assert doc.startswith("file://")
    # the header's install steps put the packaged README exactly where Documentation= points
    assert re.search(r'install -D -m 0644 "\$PKG/README.md" %s$' % re.escape(doc[len("file://"):]), text, re.M)
    assert "pip install lpwa-edge" not in text  # not on any index


class NotifySocket:
    """What systemd does: bind an AF_UNIX datagram socket and read the states a service sends."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.path = path

    def next(self, timeout):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except socket.timeout:
            return None

    def wait_for(self, prefix, timeout=10):
        seen = []
        while True:
            msg = self.next(timeout)
            assert msg is not None, "no %s within %ss (got %r)" % (prefix, timeout, seen)
            seen.append(msg)
            if any(line.startswith(prefix) for line in msg.split("\n")):
                return msg


def test_ready_watchdog_from_the_loop_and_stopping(tmp_path, monkeypatch):
    ns = NotifySocket(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", ns.path)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # pings every 0.1 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    cfg = make_config(tmp_path / "state", sources={"udp": {"listen": "127.0.0.1:0"}})
    with running(cfg) as gw:
        assert ns.wait_for("READY=1").startswith("READY=1")
        ns.wait_for("WATCHDOG=1")
        loop = gw._status_task.get_loop()
        release, blocked = threading.Event(), threading.Event()

        def hang():  # a call that never returns on the loop thread, as a hung gateway would
            blocked.set()
            release.wait(30)

        loop.call_soon_threadsafe(hang)
        assert blocked.wait(10)
        while ns.next(0.05) is not None:  # what was sent before the loop blocked
            pass
        assert ns.next(1.0) is None  # ten intervals: no ping from a blocked loop
        release.set()
        ns.wait_for("WATCHDOG=1")  # the loop runs again: pings resume
    assert ns.wait_for("STOPPING=1")


def test_abstract_socket_names_and_no_socket_at_all(tmp_path):
    from lpwa.gateway.systemd import Notifier

    name = "lpwa-test-%d" % os.getpid()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    n = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert n.ready() and sock.recv(100) == b"READY=1"
    assert n.interval_s is None  # WATCHDOG_PID names another process: not ours to ping
    sock.close()
    quiet = Notifier({})
    assert not quiet.enabled and quiet.ready() is False
    asyncio.run(quiet.watchdog())  # returns at once outside systemd
