"""The demo's simulated nodes: one sensor kind on one radio each, encoding plausible readings with
the codec's FrameEncoder exactly as the firmware does, and the order they send in."""

import hashlib
import random
import time

from lpwa.codecs.frame import FrameEncoder
from lpwa.codecs.schema import KIND_NAMES as KINDS
from lpwa.radio.limits import RADIOS

# Where the demo nodes are: Sagami Bay (buoys), and a disaster drill near Odawara (people).
BAY = (35.2631, 139.4512)
DRILL = (35.2564, 139.1556)


def demo_key(device_hex):
    """Demo keys are derived from the device id so the demo needs no key file (never do this for real)."""
    return hashlib.sha256(b"lpwa-demo-key:" + device_hex.encode()).digest()[:16]


class Node:
    """A simulated node: one sensor kind on one radio, with its own frame counter."""

    def __init__(self, kind, radio, device_id, consent=True):
        self.kind = kind
        self.radio = radio
        self.device_id = device_id
        self.device = "%08x" % device_id
        self.key = demo_key(self.device)
        self.consent = consent
        self.encoder = FrameEncoder(kind, device_id, self.key, radio=radio)
        self.counter = 0
        self.seq = 0  # Sigfox sequence number, supplied by the Sigfox network
        self.steps_total = 1000 + device_id % 5000
        self.rng = random.Random(device_id)
        lat, lon = BAY if kind == "buoy" else DRILL
        self.lat = lat + self.rng.uniform(-0.01, 0.01)
        self.lon = lon + self.rng.uniform(-0.01, 0.01)

    @property
    def ipv6(self):
        return "FE80:0000:0000:0000:021D:1290:%04X:%04X" % (self.device_id >> 16, self.device_id & 0xFFFF)

    def readings(self, alarm=False):
        if self.kind == "buoy":
            return self._buoy()
        if self.kind == "drone-vital":
            return self._vital(alarm)
        return self._pedometer()

    def _buoy(self):
        r = self.rng
        return {"water_temp_c": round(r.uniform(17.5, 19.5), 2), "wave_height_m": round(r.uniform(0.4, 1.6), 2),
                "lat_deg": round(self.lat, 6), "lon_deg": round(self.lon, 6),
                "battery_v": round(r.uniform(3.7, 4.1), 3), "fault_flags": 0,
                "salinity_psu": round(r.uniform(33.8, 34.6), 2)}

    def _vital(self, alarm):
        r = self.rng
        if alarm:
            return {"heart_rate_bpm": 142, "spo2_pct": 86, "body_temp_c": 38.9, "lat_deg": round(self.lat, 6),
                    "lon_deg": round(self.lon, 6), "triage": 3, "battery_v": 3.82}
        return {"heart_rate_bpm": r.randint(64, 96), "spo2_pct": r.randint(95, 99),
                "body_temp_c": round(r.uniform(36.3, 37.1), 2), "lat_deg": round(self.lat, 6),
                "lon_deg": round(self.lon, 6), "triage": 1, "battery_v": round(r.uniform(3.7, 4.0), 3)}

    def _pedometer(self):
        r = self.rng
        steps = r.randint(80, 600)
        self.steps_total += steps
        return {"steps": steps, "steps_total": self.steps_total, "interval_start": int(time.time()) - 300,
                "battery_v": round(r.uniform(3.6, 4.0), 3), "interval_s": 300}

    def next_frames(self, alarm=False):
        self.counter += 1
        return [bytes(f) for f in self.encoder.encode(self.counter, self.readings(alarm), alarm=alarm)]


def make_nodes():
    """Nine publishing nodes (every kind on every radio) and one pedometer without consent."""
    nodes = []
    for k, kind in enumerate(KINDS):
        for r, radio in enumerate(RADIOS):
            nodes.append(Node(kind, radio, 0xD0000000 | ((k + 1) << 8) | (r + 1)))
    withdrawn = Node("pedometer", "lora", 0xD0000399, consent=False)
    return nodes, withdrawn


def plan(nodes, frames):
    """The send order: `frames` published messages round-robin over the nodes; the first
    drone-vital frame that is sent is an alarm."""
    out, alarm_done = [], False
    for i in range(frames):
        node = nodes[i % len(nodes)]
        alarm = node.kind == "drone-vital" and not alarm_done
        alarm_done = alarm_done or alarm
        out.append((node, alarm))
    return out
