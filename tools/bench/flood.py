"""The forged-flood figure of issue #13 through the real service: `lpwa gateway run` with the Semtech
UDP source and a real Mosquitto, a simulated packet forwarder sending real frames of one buoy
(b0000002) at --flood-real per second while forged frames claiming another configured buoy with no
history (b0000001: a blind counter search each) arrive at --flood-rate per second from the same radio
(another forwarder socket), for --flood-seconds. The figures: real frames whose PUSH_ACK came back
(within the packet forwarder's default push_timeout_ms, 100 ms, and at all), and real frames
published (seen by a subscriber). `before` runs the same service with the blind-search budget
lifted (what the gateway did before issue #13 point 3), measured in the same run.
"""

import os
import socket
import tempfile
import threading
import time

from lpwa.codecs.frame import FrameEncoder
from lpwa.radio import semtech_udp as sudp
from lpwa.tools.bench import slow_clients

TARGET, REAL = "b0000001", "b0000002"
KEYS = {TARGET: bytes(range(16)), REAL: bytes(range(1, 17))}
READINGS = {"water_temp_c": 18.25, "battery_v": 3.7}
EUI = "b827ebfffe6c0de1"
PUSH_TIMEOUT_S = 0.1  # push_timeout_ms of the Semtech packet forwarder's global_conf.json
NO_BUDGET = ("-c", "import sys; from lpwa.gateway import frames; "
                   "frames.BlindBudget.__init__.__defaults__ = (10 ** 9,) + frames.BlindBudget.__init__.__defaults__[1:]; "
                   "from lpwa.tools.cli import main; sys.exit(main(sys.argv[1:]))")


def _encoder(device):
    return FrameEncoder("buoy", int(device, 16), KEYS[device], radio="lora", sf=10)


def _write_config(d, udp_port, metrics_port, broker):
    lines = ["[gateway]", 'id = "gw-flood"', 'state_dir = "%s"' % os.path.join(d, "state"), 'log_level = "error"',
             "[mqtt]", 'url = "%s"' % broker.url, 'topic_prefix = "bench"', "[metrics]",
             'listen = "127.0.0.1:%d"' % metrics_port, "[sources.udp]", 'listen = "127.0.0.1:%d"' % udp_port]
    for dev, key in sorted(KEYS.items()):
        lines += ["[[devices]]", 'id = "%s"' % dev, 'key = "%s"' % key.hex(), 'kind = "buoy"']
    path = os.path.join(d, "gateway.toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _push(token, frame):
    return sudp.build_push_data(token, EUI, [sudp.make_rxpk(frame, rssi=-90, snr=5.0)])


def _forged(n):
    """Frames claiming TARGET: a real header and layout, a random counter low half and MIC."""
    t = bytes(_encoder(TARGET).encode(3, READINGS)[0])
    return [t[:6] + os.urandom(2) + t[8:-4] + os.urandom(4) for _ in range(n)]


class _Forwarder:
    """One UDP socket: sends PUSH_DATA, records when each token's PUSH_ACK comes back."""

    def __init__(self, address):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(address)
        self.sock.settimeout(0.2)
        self.sent, self.acked = {}, {}
        self.stop = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def send(self, token, frame):
        self.sent[token] = time.monotonic()
        try:
            self.sock.send(_push(token, frame))
        except OSError:
            pass

    def _read(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except OSError:
                continue
            if len(data) >= 4 and data[3] == sudp.PUSH_ACK:
                self.acked.setdefault((data[1] << 8) | data[2], time.monotonic())

    def close(self):
        self.stop = True
        self.reader.join(1)
        self.sock.close()


def _flood(address, rate, seconds):
    """Forged frames at `rate` per second for `seconds`, paced every 10 ms (its own thread)."""
    frames = _forged(min(rate * seconds, 20000))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t0, i = time.monotonic(), 0
    while i < rate * seconds:
        due = int((time.monotonic() - t0) * rate)
        while i < min(due, rate * seconds):
            try:
                sock.sendto(_push(i & 0xFFFF, frames[i % len(frames)]), address)
            except OSError:
                pass
            i += 1
        time.sleep(0.01)
    sock.close()


def run(broker, rate=1000, real_rate=10, seconds=10, budget=True):
    """One run of the real service -> {"real", "acked_100ms", "acked", "published", "forged"}."""
    from lpwa.tools.bench.gateway import _Subscriber

    sub = _Subscriber(broker.host, broker.port)
    with tempfile.TemporaryDirectory() as d:
        udp_port, metrics_port = slow_clients.free_tcp_port(), slow_clients.free_tcp_port()
        svc = slow_clients.Service(_write_config(d, udp_port, metrics_port, broker), [metrics_port],
                                   launcher=slow_clients.LAUNCHER if budget else NO_BUDGET)
        try:
            address = ("127.0.0.1", udp_port)
            fwd = _Forwarder(address)
            enc = _encoder(REAL)
            flood = threading.Thread(target=_flood, args=(address, rate, seconds), daemon=True)
            flood.start()
            n = real_rate * seconds
            for k in range(n):
                fwd.send(k + 1, bytes(enc.encode(k + 1, READINGS)[0]))
                time.sleep(1.0 / real_rate)
            flood.join()
            time.sleep(2.0)  # late acknowledgements and publishes
            records = sub.take(n, 5.0)
            fwd.close()
        finally:
            svc.stop_seconds(30)
            svc.kill()
            sub.close()
    late = [fwd.acked[t] - fwd.sent[t] for t in fwd.acked if t in fwd.sent]
    return {"real": n, "forged": rate * seconds, "acked": len(late),
            "acked_100ms": sum(1 for s in late if s <= PUSH_TIMEOUT_S),
            "published": sum(1 for _t, topic, _p in records if REAL in topic)}


def measure(rate=1000, real_rate=10, seconds=10):
    """Before (no blind-search budget) and after, and the same real traffic with no flood."""
    from lpwa.tools.mosquitto import Mosquitto

    broker = Mosquitto("max_queued_messages 0\n").start()
    try:
        return {"no flood": run(broker, 0, real_rate, seconds),
                "before (no budget)": run(broker, rate, real_rate, seconds, budget=False),
                "after (per-device budget)": run(broker, rate, real_rate, seconds)}
    finally:
        broker.stop()


def print_table(res, rate):
    print("\nreal frames during a %d/s forged flood at one device (real service, UDP, Mosquitto):" % rate)
    print("%-28s %6s %14s %10s %10s" % ("case", "real", "PUSH_ACK<100ms", "PUSH_ACK", "published"))
    for name, r in res.items():
        print("%-28s %6d %14d %10d %10d" % (name, r["real"], r["acked_100ms"], r["acked"], r["published"]))
