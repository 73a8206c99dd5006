"""`lpwa bench gateway`: recorded frames through the whole gateway into Mosquitto, against bare paho.

Three phases on one loopback Mosquitto (started here unless --broker is given), with one
subscriber in this process timing every message:

1. pipeline: `lpwa gateway run` in its own process, replay source flat out (N frames, real
   MIC-protected frames from the codec's FrameEncoder, spread over several devices): decode, MIC,
   counters, SQLite WAL queue, QoS 1 publish, delete on PUBACK. Frames/s is N over the time from
   the first frame entering the pipeline to the last message arriving at the subscriber.
2. baseline: a bare paho-mqtt loop in its own process publishing the SAME payloads (the JSON the
   subscriber received in phase 1) with the same QoS and in-flight window.
3. latency: a fresh gateway fed in real time at --rate frames/s; latency is the subscriber's
   arrival time minus the gateway's ingest time stamped in each message ("ts"), p50 and p99.

Peak RSS is the gateway's VmHWM (Linux) over phases 1 and 3, summed over its processes when the
MQTT sink runs in a process of its own (`--sink process`, i.e. `mqtt.sink_process = true`): that
counts shared library pages twice, so the table also gives the peak PSS (shared pages divided).
CPU time is likewise summed over the gateway's processes.

Wall-clock rates depend on what else the machine runs (broker, subscriber and gateway share the
cores), so phases 1 and 2 alternate for --rounds rounds and the medians are reported. The table
also gives CPU time per frame of the gateway process (start-up excluded) and of the bare paho
publisher: the load-independent cost, and 1e6 / it is the rate one fully available core sustains.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

GOALS = {"pipeline_fps": 10000, "ratio": 0.8, "p99_ms": 20.0, "rss_mb": 60.0}

BASELINE_CHILD = r"""
import sys, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
host, port, path, inflight = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
msgs = []
with open(path, "rb") as f:
    for line in f:
        topic, _, payload = line.rstrip(b"\n").partition(b" ")
        msgs.append((topic.decode(), bytes.fromhex(payload.decode())))
acked = [0]
def on_publish(c, u, mid, rc, props):
    acked[0] += 1
c = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-bench-baseline", protocol=paho.MQTTv5)
c.on_publish = on_publish
c.max_inflight_messages_set(inflight)
c.max_queued_messages_set(0)
c.connect(host, port)
while not c.is_connected():
    c.loop(0.1)
# the tightest bare-paho loop: one thread, publish while the window has room, then read PUBACKs
t0 = time.time()
c0 = time.process_time()
sent = 0
n = len(msgs)
while acked[0] < n:
    while sent < n and sent - acked[0] < inflight:
        c.publish(msgs[sent][0], msgs[sent][1], qos=1)
        sent += 1
    c.loop(0.05)
print("DONE %.6f %.6f %.6f" % (t0, time.time(), time.process_time() - c0), flush=True)
c.disconnect()
"""


def _at_least(low, kind=int, high=float("inf")):
    """argparse type: a number >= low (zero frames or devices would end in a division by zero), < high."""
    def parse(text):
        import argparse

        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError("not a number: %r" % text)
        if not low <= value < high:
            raise argparse.ArgumentTypeError("must be at least %s" % low + ("" if high == float("inf") else
                                                                           " and below %s" % high))
        return value
    return parse


def _broker_url(text):
    import argparse

    from lpwa.gateway.config import ConfigError, parse_url

    try:
        parse_url(text)
    except ConfigError:
        raise argparse.ArgumentTypeError("expected mqtt://host:port")
    return text


def add_arguments(parser):
    parser.add_argument("-n", "--frames", type=_at_least(1), default=20000, help="frames for the throughput phases")
    parser.add_argument("--rate", type=_at_least(0.001, float), default=1000.0, help="frames/s of the latency phase")
    parser.add_argument("--latency-frames", type=_at_least(1), default=3000, help="frames of the latency phase")
    parser.add_argument("--devices", type=_at_least(1), default=16, help="simulated devices")
    parser.add_argument("--mic", choices=("cmac", "hmac"), default="cmac", help="frame MIC (node default: cmac)")
    parser.add_argument("--synchronous", choices=("normal", "full"), default="normal",
                        help="SQLite synchronous mode of the queue")
    parser.add_argument("--inflight", type=_at_least(1, int, 65536), default=100, help="QoS 1 in-flight window (both sides)")
    parser.add_argument("--sink", choices=("thread", "process"), default="thread",
                        help="MQTT sink in a thread of the gateway (default config) or its own process "
                             "(mqtt.sink_process = true)")
    parser.add_argument("--rounds", type=_at_least(1), default=3, help="pipeline/baseline rounds (medians reported)")
    parser.add_argument("--broker", type=_broker_url, default=None,
                        help="mqtt://host:port of a running broker (default: start one)")


# -- helpers ------------------------------------------------------------------------------------


def _start_broker(workdir):
    """Mosquitto on a free loopback port, tuned for the bench (no queue or in-flight limits)."""
    from lpwa.tools.mosquitto import Mosquitto, MosquittoError

    try:
        return Mosquitto("max_queued_messages 0\nmax_inflight_messages 0\n", workdir=workdir).start()
    except MosquittoError as e:
        raise SystemExit("lpwa bench gateway: %s; or pass --broker mqtt://host:port" % e)


class _Subscriber:
    """Records (arrival time, topic, payload) of everything under the given filters."""

    def __init__(self, host, port):
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.records = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="lpwa-bench-sub", protocol=paho.MQTTv5)
        self.client.on_message = self._on_message
        try:
            self.client.connect(host, port)
        except OSError as e:
            raise SystemExit("lpwa bench gateway: cannot connect to the MQTT broker at %s:%d (%s)" % (
                host, port, e.strerror or e))
        self.client.subscribe([("bench/+/+/+/up", 1), ("base/#", 1)])
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, client, userdata, msg):
        self.records.append((time.time(), msg.topic, msg.payload))

    def take(self, count, timeout, on_first=None):
        """Wait for `count` messages; on_first() runs once the first one is in (CPU sampling)."""
        deadline = time.monotonic() + timeout
        while len(self.records) < count and time.monotonic() < deadline:
            if on_first is not None and self.records:
                on_first(len(self.records))
                on_first = None
            time.sleep(0.002)
        out, self.records = self.records, []
        return out

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def _frames(path, n, devices, mic, rate=None, start_counter=1):
    """Write a replay file of n frames spread over `devices` buoys; returns the device table."""
    from lpwa.codecs.frame import FrameEncoder
    from lpwa.gateway.sources.replay import write_line

    table = []
    encoders = []
    for i in range(devices):
        dev = "b0%06x" % i
        key = bytes((i * 7 + j) & 0xFF for j in range(16))
        table.append({"id": dev, "key": key.hex(), "kind": "buoy"})
        encoders.append(FrameEncoder("buoy", int(dev, 16), key, mic=mic))
    t0 = time.time()
    with open(path, "w") as f:
        for k in range(n):
            i = k % devices
            counter = start_counter + k // devices
            readings = {"water_temp_c": 15 + (k % 500) / 100.0, "wave_height_m": (k % 300) / 100.0,
                        "battery_v": 3.7}
            raw = bytes(encoders[i].encode(counter, readings)[0])
            stamp = t0 + (k / rate if rate else 0.0)
            f.write(write_line("lora", raw, {"rssi": -80 - i % 30, "snr": 7.5, "datr": "SF10BW125"}, stamp) + "\n")
    return table


def _config(path, state_dir, broker, frames_file, devices, speed, args):
    lines = ["[gateway]", 'id = "bench"', 'state_dir = "%s"' % state_dir, 'log_format = "json"',
             'log_level = "warning"',
             "[mqtt]", 'url = "mqtt://%s:%d"' % (broker[0], broker[1]), 'topic_prefix = "bench"',
             "sink_process = true" if getattr(args, "sink", "thread") == "process" else "",
             "[queue]", "max_inflight = %d" % args.inflight, 'synchronous = "%s"' % args.synchronous,
             "max_frames = %d" % max(100000, args.frames * 2),
             "[sources.replay]", 'file = "%s"' % frames_file, "speed = %s" % float(speed)]
    for d in devices:
        lines += ["[[devices]]", 'id = "%s"' % d["id"], 'key = "%s"' % d["key"], 'kind = "%s"' % d["kind"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def _tree(pid):
    """The gateway's pid and its child processes' (the sink process, when it has one)."""
    pids = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        pass
    return pids


def _vm_hwm_mb(pid):
    """Peak RSS of the gateway: the sum over its processes (shared library pages counted twice)."""
    return sum(_vm_hwm_one(p) for p in _tree(pid))


def _pss_mb(pid):
    """Proportional set size of the gateway's processes (shared pages divided among their users):
    what the processes together really take, when there are two of them."""
    total = 0.0
    for p in _tree(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) / 1024.0
                        break
        except (OSError, ValueError):
            return float("nan")
    return total


def _vm_hwm_one(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 1048576.0
    except Exception:
        return float("nan")


def _run_gateway(workdir, name, broker, sub, n, devices_table, frames_file, speed, args, timeout):
    state = os.path.join(workdir, name + "-state")
    cfg = os.path.join(workdir, name + ".toml")
    _config(cfg, state, broker, frames_file, devices_table, speed, args)
    err = open(os.path.join(workdir, name + ".log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "lpwa.tools.cli", "gateway", "run", "-c", cfg],
                            stdout=subprocess.DEVNULL, stderr=err)
    peak = [0.0, 0.0]  # summed VmHWM, summed PSS
    stop = threading.Event()

    def sample():
        while not stop.is_set() and proc.poll() is None:
            peak[0] = max(peak[0], _vm_hwm_mb(proc.pid))
            peak[1] = max(peak[1], _pss_mb(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_mark = []

    def first(count):
        cpu_mark.append((count, _cpu_s(proc.pid)))

    try:
        records = sub.take(n, timeout, first)
        peak[0] = max(peak[0], _vm_hwm_mb(proc.pid))
        cpu_end = _cpu_s(proc.pid)
    finally:
        stop.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        err.close()
    if len(records) < n:
        raise SystemExit("lpwa bench gateway: %s phase got %d of %d messages (see %s)" % (
            name, len(records), n, os.path.join(workdir, name + ".log")))
    # gateway CPU seconds per frame once it runs (start-up and imports excluded): 1e6 / this is
    # the frames/s one fully available core would sustain
    count0, cpu0 = cpu_mark[0] if cpu_mark else (0, 0.0)
    cpu_us = (cpu_end - cpu0) / max(1, n - count0) * 1e6
    return records, peak[0], cpu_us, peak[1]


def _cpu_s(pid):
    """CPU seconds of the gateway: the sum over its processes."""
    return sum(_cpu_one(p) for p in _tree(pid))


def _cpu_one(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return float("nan")


def _percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = max(0, min(len(values) - 1, int(round(q / 100.0 * (len(values) - 1)))))
    return values[k]


# -- main -----------------------------------------------------------------------------------------


def run_bench(args):
    """The three phases against one broker -> (result row, details for the table)."""
    workdir = tempfile.mkdtemp(prefix="lpwa-bench-gw-")
    broker = None
    try:
        if args.broker:
            from lpwa.gateway.config import parse_url

            host, port, _tls = parse_url(args.broker)
        else:
            broker = _start_broker(workdir)
            host, port = broker.host, broker.port
        sub = _Subscriber(host, port)
        rounds = _throughput(workdir, (host, port), sub, args)
        latency = _latency(workdir, (host, port), sub, args)
        sub.close()
        return _summary(rounds, latency, args)
    finally:
        if broker:
            broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _throughput(workdir, broker, sub, args):
    """Phases 1 and 2, alternating for --rounds rounds so background load hits both alike."""
    n = args.frames
    tp_file = os.path.join(workdir, "throughput.jsonl")
    table = _frames(tp_file, n, args.devices, args.mic)
    runs = {"pipeline": [], "baseline": [], "cpu": [], "base_cpu": [], "rss": 0.0, "pss": 0.0}
    for r in range(args.rounds):
        records, rss1, cpu_us, pss1 = _run_gateway(workdir, "pipeline%d" % r, broker, sub, n, table,
                                                   tp_file, 0, args, timeout=max(60, n / 500))
        runs["rss"] = max(runs["rss"], rss1)
        runs["pss"] = max(runs["pss"], pss1)
        runs["cpu"].append(cpu_us)
        # from the first frame entering the pipeline (its "ts") to the last arrival at the subscriber
        first_in = min(json.loads(p)["ts"] for _t, _topic, p in records)
        runs["pipeline"].append(len(records) / max(1e-9, records[-1][0] - first_in))
        fps, cpu = _baseline(workdir, broker, sub, records, args)
        runs["baseline"].append(fps)
        runs["base_cpu"].append(cpu)
    return runs


def _baseline(workdir, broker, sub, records, args):
    """Phase 2: bare paho publishing the payloads phase 1 delivered -> (msgs/s, CPU us per message)."""
    n = args.frames
    payloads = os.path.join(workdir, "payloads.txt")
    with open(payloads, "w") as f:
        for _t, topic, payload in records:
            f.write("base/%s %s\n" % (topic.split("/", 1)[1], payload.hex()))
    child = subprocess.run([sys.executable, "-c", BASELINE_CHILD, broker[0], str(broker[1]), payloads,
                            str(args.inflight)], capture_output=True, text=True, timeout=max(60, n / 500))
    base_records = sub.take(n, 30)
    if len(base_records) < n:
        raise SystemExit("lpwa bench gateway: baseline got %d of %d (%s)" % (
            len(base_records), n, child.stderr[-500:]))
    try:  # from the first publish to the last arrival at the subscriber, as for the pipeline
        t0 = float(child.stdout.split()[1])
        cpu_us = float(child.stdout.split()[3]) / n * 1e6
    except (IndexError, ValueError):
        raise SystemExit("lpwa bench gateway: baseline publisher failed: %s" % child.stderr[-500:])
    return len(base_records) / max(1e-9, base_records[-1][0] - t0), cpu_us


def _latency(workdir, broker, sub, args):
    """Phase 3: real-time replay at --rate into a fresh gateway -> (latencies ms, rss, pss)."""
    m = args.latency_frames
    lat_file = os.path.join(workdir, "latency.jsonl")
    table = _frames(lat_file, m, args.devices, args.mic, rate=args.rate)
    records, rss, _cpu, pss = _run_gateway(workdir, "latency", broker, sub, m, table, lat_file, 1.0,
                                           args, timeout=m / args.rate + 60)
    return [(t - json.loads(p)["ts"]) * 1000.0 for t, _topic, p in records], rss, pss


def _summary(runs, latency, args):
    lat_ms, rss3, pss3 = latency
    pipeline_fps = statistics.median(runs["pipeline"])
    baseline_fps = statistics.median(runs["baseline"])
    return {
        "pipeline_fps": round(pipeline_fps, 1),
        "baseline_fps": round(baseline_fps, 1),
        "ratio": round(pipeline_fps / baseline_fps, 3) if baseline_fps else 0.0,
        "p50_ms": round(statistics.median(lat_ms), 2),
        "p99_ms": round(_percentile(lat_ms, 99), 2),
        "rss_mb": round(max(runs["rss"], rss3), 1),
    }, {"rounds": args.rounds, "pipeline_runs": [round(x) for x in runs["pipeline"]],
        "baseline_runs": [round(x) for x in runs["baseline"]], "cpu_us": round(statistics.median(runs["cpu"]), 1),
        "base_cpu_us": round(statistics.median(runs["base_cpu"]), 1),
        "frames": args.frames, "latency_frames": args.latency_frames, "rate": args.rate, "devices": args.devices,
        "mic": args.mic, "synchronous": args.synchronous, "inflight": args.inflight,
        "sink": getattr(args, "sink", "thread"), "max_ms": round(max(lat_ms), 2), "pss_mb": round(max(runs["pss"], pss3), 1)}


def main(args):
    result, info = run_bench(args)
    if getattr(args, "json", False):
        print(json.dumps(result))
        return 0
    ok = {
        "pipeline_fps": result["pipeline_fps"] >= GOALS["pipeline_fps"],
        "baseline_fps": None,
        "ratio": result["ratio"] >= GOALS["ratio"],
        "p50_ms": None,
        "p99_ms": result["p99_ms"] < GOALS["p99_ms"],
        "rss_mb": result["rss_mb"] < GOALS["rss_mb"],
    }
    goal_text = {"pipeline_fps": ">= 10000", "ratio": ">= 0.8", "p99_ms": "< 20 (at %g/s)" % info["rate"],
                 "rss_mb": "< 60"}
    print("lpwa bench gateway: %d frames (%d devices, MIC %s, SQLite synchronous=%s, in-flight %d, "
          "MQTT sink in a %s); latency at %g frames/s over %d frames" % (
              info["frames"], info["devices"], info["mic"], info["synchronous"], info["inflight"], info["sink"],
              info["rate"], info["latency_frames"]))
    print("")
    print("| metric | value | goal | met |")
    print("|---|---:|---|---|")
    for key in ("pipeline_fps", "baseline_fps", "ratio", "p50_ms", "p99_ms", "rss_mb"):
        met = ok[key]
        print("| %s | %s | %s | %s |" % (key, result[key], goal_text.get(key, ""),
                                        "" if met is None else ("yes" if met else "NO")))
    cpu_ratio = info["base_cpu_us"] / info["cpu_us"] if info["cpu_us"] else 0.0
    print("| peak PSS, gateway | %.1f MB | (shared pages split between processes) | |" % info["pss_mb"])
    print("| CPU per frame, gateway | %.1f us | one core: %.0f frames/s | %s |" % (
        info["cpu_us"], 1e6 / info["cpu_us"], "yes" if 1e6 / info["cpu_us"] >= GOALS["pipeline_fps"] else "NO"))
    print("| CPU per message, bare paho | %.1f us | one core: %.0f msgs/s | |" % (
        info["base_cpu_us"], 1e6 / info["base_cpu_us"]))
    print("| CPU ratio (paho / gateway) | %.3f | >= 0.8 | %s |" % (cpu_ratio, "yes" if cpu_ratio >= 0.8 else "NO"))
    print("")
    print("rounds: pipeline %s, baseline %s frames/s (medians above)" % (info["pipeline_runs"],
                                                                       info["baseline_runs"]))
    print("latency max %.2f ms; pipeline = whole gateway process (replay source -> decode/MIC -> SQLite WAL "
          "-> paho QoS 1 -> PUBACK delete); baseline = bare paho loop, same payloads, same window" % info["max_ms"])
    return 0
