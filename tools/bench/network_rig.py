"""The processes of a many-gateway network on one machine: real Mosquitto broker(s) (two bridged
when asked), N real gateways (`lpwa gateway run`, each with its own udp source and state
directory) and M network instances (`lpwa network run`). Used by `lpwa bench network`, the
tests and `lpwa demo --gateways`; kill() is a real SIGKILL.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from lpwa.tools.sim.coverage import sim_key

PREFIX = "lpwa"


class RigError(Exception):
    pass


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port, proc, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    raise RigError("%s did not start" % what)


class Broker:
    def __init__(self, workdir, name, bridge_to=None):
        binary = shutil.which("mosquitto") or next(
            (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None)
        if binary is None:
            raise RigError("mosquitto is not installed (apt-get install mosquitto)")
        self.port = free_port()
        self.url = "mqtt://127.0.0.1:%d" % self.port
        conf = os.path.join(workdir, name + ".conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 100000\nmax_inflight_messages 0\n" % self.port)
            if bridge_to is not None:  # this broker pulls the site broker's gateway traffic, and sends commands back
                f.write("connection site\naddress 127.0.0.1:%d\nbridge_protocol_version mqttv311\n"
                        "cleansession true\ntry_private true\n"
                        "topic %s/+/+/+/up in 1\ntopic %s/+/status in 1\ntopic %s/+/+/+/down out 1\n"
                        % (bridge_to.port, PREFIX, PREFIX, PREFIX))
        self.log = open(os.path.join(workdir, name + ".log"), "ab")
        self.proc = subprocess.Popen([binary, "-c", conf], stdout=self.log, stderr=self.log)
        _wait_port(self.port, self.proc, "mosquitto " + name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


def _toml(value):
    return json.dumps(value)  # TOML basic strings, numbers and booleans are JSON's


def gateway_toml(gid, state_dir, broker_url, udp_port, devices):
    lines = ["[gateway]", "id = %s" % _toml(gid), "state_dir = %s" % _toml(state_dir),
             'log_format = "json"', 'log_level = "warning"', "", "[mqtt]", "url = %s" % _toml(broker_url),
             "protocol = 5", "qos = 1", "topic_prefix = %s" % _toml(PREFIX), "keepalive = 5", "",
             "[sources.udp]", 'listen = "127.0.0.1:%d"' % udp_port, ""]
    for d in devices:
        lines += ["[[devices]]", "id = %s" % _toml(d), "key = %s" % _toml(sim_key(d).hex()), 'kind = "buoy"', ""]
    return "\n".join(lines)


class Proc:
    def __init__(self, name, argv, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        return self

    def kill(self):
        """kill -9: no clean shutdown, no last words but the broker's last will."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def cpu_s(self):
        try:
            with open("/proc/%d/stat" % self.proc.pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None


class Rig:
    """Brokers, gateways gw-1..gw-N, network instances net-1..net-M, all in `workdir`."""

    def __init__(self, workdir, gateways, devices, instances=1, bridge=False, window_ms=200):
        self.workdir = workdir
        self.site = Broker(workdir, "site")
        self.core = Broker(workdir, "core", bridge_to=self.site) if bridge else self.site
        self.devices = devices
        self.window_ms = window_ms
        self.udp_ports = []
        self.gateways = []
        for i in range(gateways):
            gid = "gw-%d" % (i + 1)
            broker = self.site if (not bridge or i % 2 == 0) else self.core  # bridged: gateways on both brokers
            self.gateways.append(self._gateway(gid, broker))
        self.instances = [self.network(i + 1) for i in range(instances)]

    def _gateway(self, gid, broker):
        state = os.path.join(self.workdir, gid)
        os.makedirs(state, exist_ok=True)
        port = free_port(socket.SOCK_DGRAM)
        self.udp_ports.append(port)
        path = os.path.join(self.workdir, gid + ".toml")
        with open(path, "w") as f:
            f.write(gateway_toml(gid, state, broker.url, port, self.devices))
        return Proc(gid, [sys.executable, "-m", "lpwa.tools.cli", "gateway", "run", "-c", path],
                    os.path.join(self.workdir, gid + ".log")).start()

    def network(self, n):
        nid = "net-%d" % n
        return Proc(nid, [sys.executable, "-m", "lpwa.tools.cli", "network", "run", "--broker", self.core.url,
                          "--prefix", PREFIX, "--id", nid, "--window-ms", str(self.window_ms)],
                    os.path.join(self.workdir, nid + ".log")).start()

    def addresses(self):
        return [("127.0.0.1", p) for p in self.udp_ports]

    def close(self):
        for p in self.instances + self.gateways:
            p.stop()
        if self.core is not self.site:
            self.core.stop()
        self.site.stop()
