"""Overlapping LoRa coverage, simulated: nodes whose frames several gateways hear.

Each gateway gets a Semtech UDP packet forwarder (a real UDP socket speaking the protocol to the
gateway's udp source: PULL_DATA, PUSH_DATA, PULL_RESP); a node's frame is pushed to every
forwarder that "hears" it, with an RSSI that falls with its distance to that gateway. Every
PULL_RESP (a gateway transmitting a downlink) is counted, and the node it was meant for decodes it
with the real codec and its own last downlink counter, as firmware/downlink.py does: so
`accepted` counts what a node would really accept, and a second transmission of the same command
(or a counter the node already saw) shows up as a rejection.
"""

import hashlib
import random
import socket
import threading
import time

from lpwa.codecs.command import decode_command
from lpwa.codecs.frame import FrameEncoder, FrameError
from lpwa.radio import semtech_udp as sudp


def sim_key(device_hex):
    """Simulation keys derive from the device id (never do this for real)."""
    return hashlib.sha256(b"lpwa-sim-key:" + device_hex.encode()).digest()[:16]


class SimNode:
    """A buoy on LoRa at a position on a line; gateways at integer positions hear it."""

    def __init__(self, device_id, position):
        self.device = "%08x" % device_id
        self.key = sim_key(self.device)
        self.position = position
        self.encoder = FrameEncoder("buoy", device_id, self.key, radio="lora")
        self.counter = 0
        self.dl_ctr = None
        self.accepted, self.rejected = [], []
        self.rng = random.Random(device_id)

    def next_frame(self):
        self.counter += 1
        r = self.rng
        readings = {"water_temp_c": round(r.uniform(14, 22), 2), "wave_height_m": round(r.uniform(0.2, 2.5), 2),
                    "battery_v": round(r.uniform(3.6, 4.0), 3)}
        return self.counter, bytes(self.encoder.encode(self.counter, readings)[0])

    def receive(self, raw):
        """A downlink in the receive window -> True if this node accepts it."""
        try:
            cmd = decode_command(raw, self.device, self.key, self.dl_ctr)
        except FrameError as e:
            self.rejected.append(e.reason)
            return False
        self.dl_ctr = cmd["counter"]
        self.accepted.append(cmd)
        return True

    def rssi(self, gateway_position):
        """Log-distance path loss plus a little fading: the nearest gateway is heard best."""
        d = abs(self.position - gateway_position) + 0.1
        return int(-70 - 25 * d + self.rng.uniform(-2, 2))


class SimForwarder:
    """A packet forwarder in front of one gateway's udp source; blocking socket, receive thread."""

    def __init__(self, address, index):
        self.address = address
        self.index = index
        self.eui = "b827ebfffe%06x" % index
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.token = index * 1000
        self.acks = {}
        self.cond = threading.Condition()
        self.downlinks = []  # (time, payload bytes)
        self.on_downlink = None
        self._stop = False
        self.thread = threading.Thread(target=self._recv, daemon=True)
        self.thread.start()

    def _next(self):
        self.token = (self.token + 1) & 0xFFFF
        return self.token

    def _recv(self):
        while not self._stop:
            try:
                data = self.sock.recv(65535)
                msg = sudp.parse(data)
            except socket.timeout:
                continue
            except (OSError, ValueError):
                if self._stop:
                    return
                continue
            if msg["type"] == sudp.PULL_RESP:
                payload = sudp.txpk_frame(msg)[0]
                self.downlinks.append((time.time(), payload))
                self.sock.sendto(sudp.build_tx_ack(msg["token"], self.eui), self.address)
                if self.on_downlink is not None:
                    self.on_downlink(self, payload)
            else:
                with self.cond:
                    self.acks[msg["token"]] = msg["type"]
                    self.cond.notify_all()

    def _exchange(self, datagram, timeout=5.0):
        token = (datagram[1] << 8) | datagram[2]
        self.sock.sendto(datagram, self.address)
        deadline = time.monotonic() + timeout
        with self.cond:
            while token not in self.acks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            del self.acks[token]
        return True

    def pull(self, timeout=5.0):
        return self._exchange(sudp.build_pull_data(self._next(), self.eui), timeout)

    def push(self, frame, rssi, snr):
        rxpk = sudp.make_rxpk(frame, freq=923.2, datr="SF10BW125", rssi=rssi, snr=snr,
                              tmst=int(time.monotonic() * 1e6) & 0xFFFFFFFF)
        return self._exchange(sudp.build_push_data(self._next(), self.eui, [rxpk]))

    def close(self):
        self._stop = True
        self.thread.join(1)
        self.sock.close()


class Coverage:
    """N forwarders on a line (positions 0..N-1) and nodes between them; `overlap` gateways hear each."""

    def __init__(self, addresses, nodes, overlap=2):
        self.forwarders = [SimForwarder(a, i) for i, a in enumerate(addresses)]
        self.nodes = {n.device: n for n in nodes}
        self.overlap = min(overlap, len(addresses))
        self.transmissions = 0
        self._lock = threading.Lock()
        self._last = {}  # forwarder index -> the node that last sent through it (its receive window)
        for f in self.forwarders:
            f.on_downlink = self._downlink

    def hearing(self, node):
        """The `overlap` gateways nearest to the node, nearest first."""
        order = sorted(range(len(self.forwarders)), key=lambda i: (abs(node.position - i), i))
        return order[:self.overlap]

    def send(self, node, skip=()):
        """One uplink of `node`, pushed to every gateway that hears it (minus `skip`: dead ones)."""
        counter, frame = node.next_frame()
        for i in self.hearing(node):
            if i in skip:
                continue
            self._last[i] = node
            self.forwarders[i].push(frame, node.rssi(i), round(node.rng.uniform(-5, 9), 1))
        return counter

    def _downlink(self, forwarder, payload):
        with self._lock:
            self.transmissions += 1
            node = self._last.get(forwarder.index)  # the PULL_RESP answers the uplink just pushed
            if node is not None:
                node.receive(payload)

    def accepted(self):
        return sum(len(n.accepted) for n in self.nodes.values())

    def close(self):
        for f in self.forwarders:
            f.close()
