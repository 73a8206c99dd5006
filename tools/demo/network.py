"""`lpwa demo --gateways N`: N real gateways with overlapping simulated coverage, one network.

A real Mosquitto (started here), N `lpwa gateway run` processes, one `lpwa network run`, and
simulated LoRa buoys that every gateway hears (lpwa.tools.sim.coverage). Each uplink is printed
once, as a subscriber of the network topic sees it, with every gateway's RSSI; then one command
goes to the network's down topic and is transmitted once, by the gateway that heard the buoy
best, and accepted by the buoy.
"""

import json
import sys
import tempfile
import time

from lpwa.tools.bench.network import Observer, _ready, teardown, wait
from lpwa.tools.bench.network_rig import Rig, RigError
from lpwa.tools.sim.coverage import Coverage, SimNode

COMMAND = {"cmd": "set-interval", "seconds": 600}


def _line(body):
    heard = ", ".join("%s %s dBm" % (g["gateway"], (g.get("rx") or {}).get("rssi")) for g in body["gateways"])
    return "%s/%s counter %d heard by %d gateways (%s): %s" % (
        body["kind"], body["device"], body["counter"], len(body["gateways"]), heard,
        json.dumps({k: v["value"] for k, v in body["readings"].items()}))


def _show_new(obs, shown, out):
    with obs.lock:
        ups = obs.ups[len(shown):]
    for _, body in ups:
        shown.append(body)
        out.write(_line(body) + "\n")
    out.flush()


def _downlink(obs, coverage, node, shown, out):
    obs.command(node.device, COMMAND)
    out.write("command %s -> lpwa/network/buoy/%s/down\n" % (json.dumps(COMMAND), node.device))
    time.sleep(0.5)
    before = coverage.transmissions
    coverage.send(node)  # its next uplink opens the receive window
    wait(lambda: coverage.transmissions > before, 10, "the downlink")
    time.sleep(0.5)
    wait(lambda: len(obs.ups) >= len(shown) + 1, 10, "the uplink")
    _show_new(obs, shown, out)
    sent = [(f.index + 1, len(f.downlinks)) for f in coverage.forwarders if f.downlinks]
    where = ", ".join("gw-%d: %d" % s for s in sent)
    out.write("downlink transmitted %d time(s) (%s); buoy %s accepted %s, rejected %d\n" % (
        coverage.transmissions, where, node.device,
        ["%s counter %d" % (c["cmd"], c["counter"]) for c in node.accepted], len(node.rejected)))


def main(gateways=2, frames=6, out=None):
    out = out or sys.stdout
    nodes = [SimNode(0xD0000100 + i, 0.2 + 0.6 * i) for i in range(2)]
    with tempfile.TemporaryDirectory(prefix="lpwa-demo-net-") as tmp:
        try:
            rig = Rig(tmp, gateways, [n.device for n in nodes])
        except RigError as e:
            sys.stderr.write("lpwa demo: %s\n" % e)
            return 1
        obs = coverage = None
        try:
            obs = Observer(rig.core.url)
            coverage = Coverage(rig.addresses(), nodes, overlap=gateways)
            _ready(rig, obs, coverage)
            out.write("%d gateways (%s) and one network on %s; every buoy is heard by all of them\n" % (
                gateways, ", ".join(g.name for g in rig.gateways), rig.core.url))
            shown = []
            for i in range(frames):
                coverage.send(nodes[i % len(nodes)])
                wait(lambda: len(obs.ups) >= i + 1, 10, "the network message")
                _show_new(obs, shown, out)
            _downlink(obs, coverage, nodes[0], shown, out)
            time.sleep(0.5)
            _show_new(obs, shown, out)
            return 0 if coverage.transmissions == 1 and len(nodes[0].accepted) == 1 else 1
        except RigError as e:
            sys.stderr.write("lpwa demo: %s\n" % e)
            return 1
        finally:
            teardown(coverage, obs, rig)
