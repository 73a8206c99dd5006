"""`lpwa bench network`: N real gateways with overlapping coverage, one network, real Mosquitto.

`--gateways N` real `lpwa gateway run` processes (udp source each) and `--instances M` real
`lpwa network run` processes on a loopback Mosquitto (`--bridge`: gateways split over two
Mosquitto brokers joined by a bridge, the network on the second, as a cluster stand-in).
Simulated LoRa nodes (lpwa.tools.sim.coverage) sit between the gateways; each frame is heard by
`--overlap` gateways with distance-dependent RSSI. Every `--downlink-every` rounds each node gets
a command on the network topic; the node decodes every transmission it receives with the real
codec and its own last counter. `--kill network|gateway` sends SIGKILL to net-1 / gw-1 halfway
(a killed single instance is restarted 2 s later; a killed gateway's forwarder goes quiet).

Prints {"gateways", "uplinks", "published_once", "duplicates_published", "downlinks",
"transmissions", "accepted_by_nodes", "p99_ms", ...} (--json) or a table. Latency is from the
first forwarder's push to the network message at a subscriber: it includes the merge window.
The network's CPU per copy (and 1e6 / it, copies per second on one core) is what stops scaling
first (gateway/NETWORK.md).
"""

import json
import tempfile
import threading
import time

from lpwa.tools.bench.network_rig import PREFIX, Rig, RigError
from lpwa.tools.sim.coverage import Coverage, SimNode

DRAIN_S = 30.0  # after the last round, rounds go on while commands wait (duty cycle)
DRAIN_GAP_S = 0.3


def add_arguments(p):
    from lpwa.tools.bench.gateway import _at_least
    p.add_argument("--gateways", type=_at_least(1, int, 33), default=2, help="gateway processes (default 2)")
    p.add_argument("--instances", type=_at_least(1, int, 9), default=1, help="network instances (default 1)")
    p.add_argument("--nodes", type=_at_least(1, int, 1001), default=8, help="simulated nodes (default 8)")
    p.add_argument("--rounds", type=_at_least(1, int, 100001), default=20, help="uplinks per node (default 20)")
    p.add_argument("--overlap", type=_at_least(1, int, 33), default=2, help="gateways hearing each frame (default 2)")
    p.add_argument("--rate", type=_at_least(1.0, float, 100001.0), default=100.0, help="uplinks/s (default 100)")
    p.add_argument("--downlink-every", type=_at_least(0, int), default=10, help="rounds between commands (0: none)")
    p.add_argument("--window-ms", type=_at_least(1.0, float, 60001.0), default=200.0)
    p.add_argument("--bridge", action="store_true", help="two Mosquitto brokers joined by a bridge")
    p.add_argument("--kill", choices=("network", "gateway"), help="SIGKILL net-1 or gw-1 halfway")


class Observer:
    """A subscriber on the network's broker: network uplinks, gateway status, network members."""

    def __init__(self, url):
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion
        host, port = url[len("mqtt://"):].rsplit(":", 1)
        self.ups, self.status, self.members = [], {}, {}
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-bench-observer", protocol=paho.MQTTv5)
        self.client.on_message = self._on_message
        self.client.connect(host, int(port))
        self.client.subscribe([(PREFIX + "/network/+/+/up", 1), (PREFIX + "/+/status", 1),
                               (PREFIX + "/network/_members/+", 1)])
        self.client.loop_start()

    def _on_message(self, client, userdata, msg):
        now = time.time()
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        parts = msg.topic.split("/")
        with self.lock:
            if parts[-1] == "up":
                self.ups.append((now, body))
            elif parts[-1] == "status":
                self.status[parts[-2]] = body.get("state")
            elif parts[-2] == "_members":
                self.members[parts[-1]] = body.get("state")

    def seen(self):
        with self.lock:
            return {(b["device"], b["counter"]) for _, b in self.ups}

    def command(self, device, cmd):
        self.client.publish("%s/network/buoy/%s/down" % (PREFIX, device), json.dumps(cmd), qos=1)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RigError("timed out waiting for " + what)


def _ready(rig, obs, coverage):
    wait(lambda: all(obs.status.get(g.name) == "online" for g in rig.gateways), 30 + 10 * len(rig.gateways), "the gateways")
    wait(lambda: all(obs.members.get(n.name) == "online" for n in rig.instances), 30, "the network")
    for f in coverage.forwarders:
        wait(lambda: f.pull(0.5), 30, "the udp source of gateway %d" % (f.index + 1))
    time.sleep(1.2)  # the members' ownership grace (lpwa.gateway.network.members.GRACE_S)


def _commands(obs, nodes, last_counter, sent):
    """One set-interval per node whose latest uplink the network has published."""
    seen = obs.seen()
    wait(lambda: all((n.device, last_counter[n.device]) in obs.seen() for n in nodes), 10, "network uplinks")
    for n in nodes:
        obs.command(n.device, {"cmd": "set-interval", "seconds": 300 + len(sent)})
        sent.append(n.device)
    del seen
    time.sleep(0.4)  # network -> gateway -> its downlink queue, before the next uplinks


def _fault(rig, which, dead):
    if which == "network":
        rig.instances[0].kill()
        if len(rig.instances) == 1:  # nobody else: the role comes back after a restart
            time.sleep(2.0)
            rig.instances[0].start()
    elif which == "gateway":
        rig.gateways[0].kill()
        dead.add(0)


def _send_rounds(args, rig, obs, coverage, nodes):
    t_send, last, commands, dead = {}, {}, [], set()
    drain_until = 0.0
    gap = 1.0 / args.rate
    t_next = time.monotonic()
    r = 0
    while True:
        r += 1
        # after the last round, more rounds while commands wait: a gateway over its duty-cycle
        # budget keeps a downlink for a later receive window (as it must)
        if r > args.rounds:
            if coverage.transmissions >= len(commands) or time.monotonic() > drain_until:
                break
            time.sleep(DRAIN_GAP_S)  # real time for the gateways' 50 ms pause after each transmission
            t_next = time.monotonic()
        else:
            drain_until = time.monotonic() + DRAIN_S
        if args.kill and r == args.rounds // 2 + 1:
            _fault(rig, args.kill, dead)
        if args.downlink_every and r > 1 and (r - 1) % args.downlink_every == 0 and r <= args.rounds:
            _commands(obs, nodes, last, commands)
        for node in nodes:
            t_next += gap
            delay = t_next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.time()
            heard = [i for i in coverage.hearing(node) if i not in dead]
            c = coverage.send(node, skip=dead)
            last[node.device] = c
            if heard:
                t_send[(node.device, c)] = t
    return t_send, commands


def _gateway_count(rig, reason):
    """A rejection counter summed over the gateways' own status files."""
    import os
    total = 0
    for g in rig.gateways:
        try:
            with open(os.path.join(rig.workdir, g.name, "status.json")) as f:
                total += json.load(f)["pipeline"]["rejections"].get(reason, 0)
        except (OSError, ValueError, KeyError):
            pass
    return total


def _percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100.0 * (len(s) - 1))))]


def run_bench(args, workdir=None):
    nodes = [SimNode(0xB0000000 | i, (i + 0.5) * max(args.gateways - 1, 0.01) / args.nodes)
             for i in range(args.nodes)]
    with tempfile.TemporaryDirectory(prefix="lpwa-bench-net-", dir=workdir) as tmp:
        rig = Rig(tmp, args.gateways, [n.device for n in nodes], args.instances, args.bridge, args.window_ms)
        obs = coverage = None
        try:
            obs = Observer(rig.core.url)
            coverage = Coverage(rig.addresses(), nodes, args.overlap)
            _ready(rig, obs, coverage)
            cpu0 = [p.cpu_s() or 0.0 for p in rig.instances]
            t0 = time.monotonic()
            t_send, commands = _send_rounds(args, rig, obs, coverage, nodes)
            try:
                wait(lambda: set(t_send) <= obs.seen(), 20, "the last network uplinks")
            except RigError:
                pass
            time.sleep(args.window_ms / 1000.0 + 0.5)
            elapsed = time.monotonic() - t0
            cpu = sum((p.cpu_s() or 0.0) for p in rig.instances) - sum(cpu0)
            res = _result(args, obs, coverage, nodes, t_send, commands, cpu, elapsed)
            time.sleep(2.2)  # the gateways rewrite status.json every 2 s
            res["deferred_duty_cycle"] = _gateway_count(rig, "downlink-deferred-duty-cycle")
            return res
        finally:
            teardown(coverage, obs, rig)


def teardown(coverage, obs, rig):
    """Forwarders, the observer, then the processes and brokers (what was started, in reverse)."""
    for part in (coverage, obs, rig):
        if part is not None:
            part.close()


def _result(args, obs, coverage, nodes, t_send, commands, cpu, elapsed):
    with obs.lock:
        ups = list(obs.ups)
    keys = [(b["device"], b["counter"]) for _, b in ups]
    first = {}
    for t, b in ups:
        first.setdefault((b["device"], b["counter"]), t)
    lat = [(first[k] - t_send[k]) * 1000 for k in t_send if k in first]
    copies = sum(len(b.get("gateways") or ()) for _, b in ups)
    rejected = sum(len(n.rejected) for n in nodes)
    reasons = {}
    for n in nodes:
        for why in n.rejected:
            reasons[why] = reasons.get(why, 0) + 1
    return {"gateways": args.gateways, "instances": args.instances, "bridge": args.bridge, "kill": args.kill,
            "uplinks": len(t_send), "published_once": len(set(keys) & set(t_send)),
            "duplicates_published": len(keys) - len(set(keys)), "lost": len(set(t_send) - set(keys)),
            "downlinks": len(commands), "transmissions": coverage.transmissions,
            "accepted_by_nodes": coverage.accepted(), "rejected_by_nodes": rejected, "node_rejections": reasons,
            "p50_ms": round(_percentile(lat, 50) or 0, 1), "p99_ms": round(_percentile(lat, 99) or 0, 1),
            "gateways_per_message": round(copies / len(ups), 2) if ups else 0,
            "network_cpu_us_per_copy": round(cpu * 1e6 / max(1, len(t_send) * args.overlap), 1),
            "elapsed_s": round(elapsed, 1)}


def _table(res):
    lines = ["lpwa bench network: %d gateways, %d network instance(s)%s%s" % (
        res["gateways"], res["instances"], ", bridged brokers" if res["bridge"] else "",
        ", kill -9 " + res["kill"] if res["kill"] else ""), "| metric | value | goal |", "|---|---:|---|"]
    goals = {"duplicates_published": "0", "lost": "0", "transmissions": "= downlinks",
             "accepted_by_nodes": "= downlinks", "rejected_by_nodes": "0"}
    for k, v in res.items():
        if k not in ("gateways", "instances", "bridge", "kill"):
            lines.append("| %s | %s | %s |" % (k, v, goals.get(k, "")))
    per = res["network_cpu_us_per_copy"]
    if per:
        lines.append("one core carries ~%d copies/s per network instance (every instance receives every copy)"
                     % int(1e6 / per))
    return "\n".join(lines)


def main(args):
    try:
        res = run_bench(args)
    except RigError as e:
        print("lpwa bench network: %s" % e)
        return 1
    print(json.dumps(res) if args.json else _table(res))
    return 0
