"""`lpwa replay`: push a recorded frame file through the gateway pipeline

    lpwa replay frames.jsonl -c gateway.toml            # through the pipeline into the config's broker
    lpwa replay frames.jsonl -c gateway.toml --decode   # just decode with the config's keys, print JSON
                                                        # (bare decoder: no duplicate/replay checks)

The file is JSON lines, one frame a line: {"radio", "time", "hex", "meta"} (see
lpwa.gateway.sources.replay). Without --decode the real gateway runs with only the replay source
enabled, in a fresh temporary state directory (so a running gateway's queue and counters are not
touched; --state-dir chooses one), until the file is consumed and every message was acknowledged
by the broker; then it prints what happened.
"""

import sys


def register(sub):
    p = sub.add_parser("replay", help="push a recorded frame file through the gateway pipeline",
                       description="Replay a recorded frame file (JSON lines: radio, time, hex, meta) through "
                                   "the gateway pipeline into the configured MQTT broker, or just decode it.")
    p.add_argument("file", help="recorded frame file (JSON lines)")
    p.add_argument("-c", "--config", required=True, help="gateway TOML config (devices, keys, mqtt)")
    p.add_argument("--speed", type=float, default=0.0,
                   help="0 = as fast as possible (default), 1 = recorded pace, 10 = ten times faster")
    p.add_argument("--decode", action="store_true", help="only decode with the config's keys and print JSON lines")
    p.add_argument("--state-dir", default=None, help="gateway state dir (default: a fresh temporary one)")
    p.add_argument("--drain-timeout", type=float, default=60.0, metavar="S",
                   help="how long to wait for the broker to acknowledge everything (default 60)")
    p.set_defaults(func=run)


def _load(path):
    from lpwa.gateway import config

    try:
        return config.load(path)
    except config.ConfigError as e:
        sys.stderr.write("lpwa replay: %s\n" % e)
        raise SystemExit(2)


def run(args):
    import os

    if not os.path.isfile(args.file):
        sys.stderr.write("lpwa replay: %s: no such file\n" % args.file)
        return 2
    if not 0 <= args.speed < float("inf"):  # NaN too
        sys.stderr.write("lpwa replay: --speed must be 0 or more\n")
        return 2
    if not 0 < args.drain_timeout < float("inf"):  # -1 reported a broker that "did not acknowledge"
        sys.stderr.write("lpwa replay: --drain-timeout must be a positive number of seconds\n")
        return 2
    cfg = _load(args.config)
    if args.decode:
        return decode_file(cfg, args.file, sys.stdout)
    import asyncio

    return asyncio.run(replay_file(cfg, args.file, args.speed, args.state_dir, args.drain_timeout, sys.stdout))


def decode_file(cfg, path, out):
    """Decode every frame with the config's device keys; print one JSON line per message or rejection."""
    import json

    from lpwa.codecs.frame import FrameError
    from lpwa.gateway.frames import FrameDecoder
    from lpwa.gateway.sources.replay import parse_line

    keys = {d["id"]: bytes.fromhex(d["key"]) for d in cfg["devices"]}
    decoder = FrameDecoder(keys.get)
    bad = 0
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                radio, _stamp, raw, meta = parse_line(line)
                messages = decoder.feed(raw, radio, meta)
            except FrameError as e:
                bad += 1
                out.write(json.dumps({"line": number, "rejected": e.reason}) + "\n")
                continue
            except (ValueError, TypeError, RecursionError) as e:
                bad += 1
                out.write(json.dumps({"line": number, "rejected": "malformed-line", "detail": str(e)[:80]}) + "\n")
                continue
            for message in messages:
                message = dict(message, line=number, radio=radio)
                out.write(json.dumps(message, separators=(",", ":"), default=str) + "\n")
    return 1 if bad else 0


async def replay_file(cfg, path, speed, state_dir, drain_timeout, out):
    """Run the gateway with only a replay source until the file is consumed and the queue drained."""
    import asyncio
    import copy
    import logging
    import shutil
    import tempfile
    import time

    from lpwa.gateway import service

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    cfg = copy.deepcopy(cfg)
    own_dir = state_dir is None
    cfg["gateway"]["state_dir"] = state_dir or tempfile.mkdtemp(prefix="lpwa-replay-")
    cfg["metrics"]["listen"] = ""
    cfg["sources"] = {"replay": {"enabled": True, "file": path, "speed": float(speed)}}
    gateway = service.Gateway(cfg)
    drained = False
    started = time.monotonic()
    try:
        await gateway.start()
        source = gateway.sources["replay"]
        await source.done.wait()
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline:
            if gateway.queue.depth == 0:
                drained = True
                break
            await asyncio.sleep(0.05)
        elapsed = time.monotonic() - started
        stats = dict(source.stats)
        pipeline = gateway.pipeline.status()
    finally:
        await gateway.stop()
    rejections = pipeline.get("rejections") or {}
    out.write("lpwa replay: %d lines in %.2f s: %d frames accepted, %d rejected%s, %d malformed lines; "
              "%d messages published\n" % (
                  stats.get("lines", 0), elapsed, stats.get("accepted", 0), stats.get("rejected", 0),
                  (" (" + ", ".join("%s=%d" % kv for kv in sorted(rejections.items())) + ")") if rejections else "",
                  stats.get("malformed", 0), (pipeline.get("queue") or {}).get("published", 0)))
    if not drained:
        sys.stderr.write("lpwa replay: the broker did not acknowledge every message within %.0f s; they are kept "
                         "in %s\n" % (drain_timeout, cfg["gateway"]["state_dir"]))
        return 1
    if own_dir:
        shutil.rmtree(cfg["gateway"]["state_dir"], ignore_errors=True)
    return 0
