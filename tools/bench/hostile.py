"""`lpwa bench hostile`: the operator's figures for issue #13's fragment points, in-process.

Real MIC-protected fragmented frames from the codec's FrameEncoder through the real Pipeline and
SQLite store (no broker: this is about what the gateway keeps and acknowledges, before MQTT):

- colliding tags: two devices whose tags collide (b0000001 counter 10+k, b0000002 counter 9+k),
  interleaved, --messages pairs: messages delivered of those sent;
- sniffed tag: each real fragment after the first preceded by a forged copy with its tag;
- forged first fragments: a real message's first fragment, then --forged forged groups from the
  same forwarder, then the rest: delivered or counted lost;
- forged flood: --flood forged fragments: rows in the fragments table, database size, and the
  seconds a restart (Pipeline() on that file) takes, against a store that never saw fragments;
- slow HTTP clients (point 6; the real `lpwa gateway run` process, see slow_clients.py): of
  --slow-heads + --slow-bodies slow clients on the Sigfox endpoint, how many are still open after
  12 s, what a real callback gets meanwhile, and the seconds from SIGTERM to exit under them,
  against the same stop with no slow client (--slow-heads 0 skips this);
- forged flood through the real service (flood.py: `lpwa gateway run`, Semtech UDP, Mosquitto):
  real frames acknowledged (PUSH_ACK within 100 ms, at all) and published during --flood-rate
  forged frames/s at one device, before (budget lifted) and after (--flood-seconds 0 skips this).
"""

import json
import os
import tempfile
import time

from lpwa.codecs.frame import FrameEncoder
from lpwa.gateway import config as config_mod
from lpwa.gateway.pipeline import Pipeline

KEYS = {"b0000001": bytes(range(16)), "b0000002": bytes(range(1, 17))}
BUOY = {"water_temp_c": 18.25, "wave_height_m": 1.25, "lat_deg": 35.123456, "lon_deg": 139.654321,
        "battery_v": 3.7, "fault_flags": 0, "salinity_psu": 34.5}


def add_arguments(p):
    p.add_argument("--messages", type=int, default=200, help="real fragmented messages per scenario")
    p.add_argument("--forged", type=int, default=64, help="forged groups between a real message's fragments")
    p.add_argument("--flood-rate", type=int, default=1000, help="forged frames per second for the CPU figure")
    p.add_argument("--flood", type=int, default=200000, help="forged fragments for the row/size figure")
    p.add_argument("--flood-seconds", type=int, default=10, help="seconds of forged flood through the real service (0: skip)")
    p.add_argument("--flood-real", type=int, default=10, help="real frames per second during that flood")
    p.add_argument("--slow-heads", type=int, default=300, help="slow-head clients on the Sigfox endpoint (0: skip)")
    p.add_argument("--slow-bodies", type=int, default=50, help="slow-body clients on the Sigfox endpoint")


def _pipeline(state_dir):
    return Pipeline(config_mod.from_dict({
        "gateway": {"id": "gw-bench", "state_dir": state_dir, "log_format": "json", "log_level": "error"},
        "mqtt": {"url": "mqtt://127.0.0.1:1"},
        "devices": [{"id": d, "key": k.hex(), "kind": "buoy"} for d, k in KEYS.items()]}))


def _frames(dev, counter, readings=BUOY):
    return [bytes(f) for f in FrameEncoder("buoy", int(dev, 16), KEYS[dev], radio="lora", sf=10).encode(counter, readings)]


SMALL = {"water_temp_c": 18.25, "battery_v": 3.7}  # one unfragmented frame


def _run(frames):
    with tempfile.TemporaryDirectory() as d:
        p = _pipeline(d)
        try:
            for raw in frames:
                p.ingest("lora", raw, {"sender": "gw1"}, "udp")
            st = p.status()
            return st["messages"], st["fragments"]["lost"]
        finally:
            p.queue.close()


def colliding(n):
    out = []
    for k in range(n):
        for fa, fb in zip(_frames("b0000001", 10 + 256 * k), _frames("b0000002", 9 + 256 * k)):
            out += [fa, fb]
    return _run(out) + (2 * n,)


def sniffed(n):
    out = []
    for k in range(n):
        for i, f in enumerate(_frames("b0000001", 1 + k)):
            if i:
                out.append(f[:3] + os.urandom(len(f) - 3))
            out.append(f)
    return _run(out) + (n,)


def forged_groups(n, forged):
    out = []
    for k in range(n):
        real = _frames("b0000001", 1 + k)
        out.append(real[0])
        for t in range(forged):
            out.append(real[1][:2] + bytes([(real[1][2] + 1 + t) % 256]) + os.urandom(len(real[1]) - 3))
        out += real[1:]
    return _run(out) + (n,)


def flood(n):
    hdr = _frames("b0000001", 1)[0][0]
    with tempfile.TemporaryDirectory() as d:
        p = _pipeline(d)
        for start in range(0, n, 1000):
            p.ingest_batch([("lora", bytes([hdr, 0x11, i & 0xFF]) + i.to_bytes(4, "big") + os.urandom(20),
                             {"sender": "gw1"}, "udp") for i in range(start, min(n, start + 1000))])
        st = p.status()
        p.queue.close()
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        t0 = time.perf_counter()
        _pipeline(d).queue.close()
        restart = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        _pipeline(d).queue.close()
        t0 = time.perf_counter()
        _pipeline(d).queue.close()
        baseline = time.perf_counter() - t0
    return {"fragments": n, "rows": st["fragments"]["stored"], "accepted": st["accepted"],
            "held": st["fragments"]["held"], "db_mb": round(size / 1e6, 2), "restart_s": round(restart, 3),
            "restart_empty_s": round(baseline, 3)}


def flood_second(forged, real, budget=True):
    """CPU seconds the pipeline needs for one second of traffic: `forged` frames claiming b0000001
    (no history) plus `real` frames of b0000002. Above 1.0 the gateway falls behind and real frames
    wait unacknowledged (the forwarder gives up); `budget=False` is the gateway before the fix."""
    template = _frames("b0000001", 3, SMALL)[0]
    with tempfile.TemporaryDirectory() as d:
        p = _pipeline(d)
        if not budget:
            p.decoder.blind.burst = 10 ** 9
        try:
            mix = [("lora", template[:6] + os.urandom(2) + template[8:-4] + os.urandom(4), {}, "udp")
                   for _ in range(forged)]
            step = max(1, forged // max(real, 1))
            for k in range(real):
                mix.insert(k * (step + 1), ("lora", _frames("b0000002", 1 + k, SMALL)[0], {}, "udp"))
            t0 = time.process_time()
            outs = [p.ingest(*m) for m in mix]
            cpu = time.process_time() - t0
            return round(cpu, 3), sum(1 for o in outs if o.accepted)
        finally:
            p.queue.close()


def main(args):
    res = {}
    for name, (f, budget) in (("no flood", (0, True)), ("1000/s forged, before (no budget)", (args.flood_rate, False)),
                              ("1000/s forged, per-device budget", (args.flood_rate, True))):
        cpu, acked = flood_second(f, 100, budget)
        res["cpu " + name] = {"cpu_s_per_s": cpu, "real_acked": acked}
    for name, (got, lost, sent) in (("colliding tags", colliding(args.messages)),
                                    ("sniffed-tag forged copies", sniffed(args.messages)),
                                    ("%d forged groups in between" % args.forged, forged_groups(args.messages, args.forged))):
        res[name] = {"sent": sent, "delivered": got, "lost_counted": sum(lost.values())}
    res["flood"] = flood(args.flood)
    if args.slow_heads:
        res["slow http"] = slow_http(args.slow_heads, args.slow_bodies)
    if args.flood_seconds:
        from lpwa.tools.bench import flood as flood_service

        res["service flood"] = flood_service.measure(args.flood_rate, args.flood_real, args.flood_seconds)
    if args.json:
        print(json.dumps(res, sort_keys=True))
        return 0
    print("%-32s %8s %10s %13s" % ("scenario", "sent", "delivered", "lost counted"))
    for name, r in res.items():
        if name.startswith("cpu "):
            continue
        if name not in ("flood", "slow http", "service flood"):
            print("%-32s %8d %10d %13d" % (name, r["sent"], r["delivered"], r["lost_counted"]))
    print("\n%-40s %18s %26s" % ("one second of traffic (100 real frames)", "CPU s per 1 s", "real frames accepted"))
    for name, r in res.items():
        if name.startswith("cpu "):
            print("%-40s %18.3f %26d" % (name[4:], r["cpu_s_per_s"], r["real_acked"]))
    f = res["flood"]
    print("\n%d forged fragments: %d rows kept, %d accepted, %d held, %.2f MB on disk, restart %.3f s "
          "(empty store %.3f s, ratio %.1f)" % (f["fragments"], f["rows"], f["accepted"], f["held"], f["db_mb"],
                                               f["restart_s"], f["restart_empty_s"],
                                               f["restart_s"] / max(f["restart_empty_s"], 1e-6)))
    if "slow http" in res:
        _print_slow(res["slow http"])
    if "service flood" in res:
        from lpwa.tools.bench import flood as flood_service

        flood_service.print_table(res["service flood"], args.flood_rate)
    return 0


def slow_http(heads, bodies):
    """Slow clients against the real service, and the same stop without them (the in-run baseline)."""
    from lpwa.tools.bench import slow_clients

    loaded = slow_clients.measure(heads, bodies)
    idle = slow_clients.measure(0, 0, metrics_clients=0, settle_s=0)
    keep = ("slow", "open_after_settle", "settle_s", "callback_meanwhile", "callback_after", "stop_s", "exit_code",
            "metrics_open_after_settle")
    out = {k: loaded[k] for k in keep}
    out["stop_idle_s"] = idle["stop_s"]
    return out


def _print_slow(r):
    stop = "%.1f s" % r["stop_s"] if r["stop_s"] is not None else "> 120 s"
    print("\n%d slow HTTP clients on the Sigfox endpoint (real service process, TimeoutStopSec=20):" % r["slow"])
    print("  still open after %.0f s: %d; a real callback meanwhile: %s, after: %s; slow metrics clients open: %d"
          % (r["settle_s"], r["open_after_settle"], r["callback_meanwhile"], r["callback_after"],
             r["metrics_open_after_settle"]))
    print("  seconds to stop under them: %s (exit %s); with no slow client: %.1f s (ratio %.1f)"
          % (stop, r["exit_code"], r["stop_idle_s"], (r["stop_s"] or 120) / max(r["stop_idle_s"], 1e-6)))
