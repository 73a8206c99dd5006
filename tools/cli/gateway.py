"""`lpwa gateway`: run the gateway service, check a config, or show a running gateway's status."""

import os
import sys

DEFAULT_CONFIG = "gateway.toml"


def register(sub):
    p = sub.add_parser("gateway", help="run the gateway service, check its config, or show its status")
    gsub = p.add_subparsers(dest="gateway_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    r = gsub.add_parser("run", help="run the gateway until SIGTERM/SIGINT (SIGHUP reloads consent)")
    r.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="TOML config (default: %(default)s)")
    r.set_defaults(func=run)

    c = gsub.add_parser("check", help="validate a config and what `run` needs of the machine (state_dir, TLS "
                                      "files, listen ports), and print it with secrets hidden")
    c.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="TOML config (default: %(default)s)")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing when the config is valid")
    c.add_argument("--no-bind", action="store_true",
                   help="skip the bind test of the listen addresses (the gateway is running and holds them)")
    c.add_argument("--config-only", action="store_true",
                   help="check the file alone, not what `run` needs of this machine (a config for another one)")
    c.set_defaults(func=check)

    s = gsub.add_parser("status", help="per-source and per-device counters, last seen, queue depth")
    _state_args(s)
    s.add_argument("--url", default=None, help="read http://host:port/status from the metrics endpoint instead")
    s.add_argument("--json", action="store_true", help="print the raw status JSON")
    s.set_defaults(func=status)

    d = gsub.add_parser("config-reference", help="print the config reference table rendered from the config rows")
    d.set_defaults(func=config_reference)

    from lpwa.tools.cli import gateway_dead

    gateway_dead.register(gsub, _state_args)


def _state_args(p):
    p.add_argument("-c", "--config", default=None, help="config of the gateway (finds state_dir)")
    p.add_argument("--state-dir", default=None, help="the gateway's state directory (default /var/lib/lpwa)")


def state_dir_of(args):
    """--state-dir, else the config's gateway.state_dir (-c or ./gateway.toml), else /var/lib/lpwa."""
    if args.state_dir:
        return args.state_dir
    path = args.config or (DEFAULT_CONFIG if os.path.exists(DEFAULT_CONFIG) else None)
    return _load(path)["gateway"]["state_dir"] if path else "/var/lib/lpwa"


def running_pid(status_path):
    """The pid of the gateway that wrote `status_path` if it still runs, else None."""
    import json

    try:
        with open(status_path) as f:
            st = json.load(f)
        pid = int(st.get("pid", 0) or 0)
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    return pid if pid and st.get("running", True) and _alive(pid) else None


def _load(path):
    from lpwa.gateway import config

    try:
        return config.load(path)
    except config.ConfigError as e:
        sys.stderr.write("lpwa gateway: %s\n" % e)
        raise SystemExit(2)


def config_reference(args):
    """The README's config reference, from the same rows parsing uses."""
    from lpwa.gateway.config import reference_markdown

    print(reference_markdown())
    return 0


def run(args):
    from lpwa.gateway import service

    cfg = _load(args.config)
    service.setup_logging(cfg["gateway"]["log_format"], cfg["gateway"]["log_level"])
    return service.run(cfg)


def check(args):
    """Everything `run` would refuse for this config, as `run`: one line and exit 2."""
    import json

    from lpwa.gateway import config, preflight

    cfg = _load(args.config)
    try:
        if not args.config_only:
            preflight.check(cfg, bind=not args.no_bind)
    except config.ConfigError as e:
        sys.stderr.write("lpwa gateway: %s\n" % e)
        return 2
    if not args.quiet:
        print(json.dumps(config.redacted(cfg), indent=2))
        print("%s: ok" % args.config, file=sys.stderr)
    return 0


def _read_status(args):
    import json

    if args.url:
        import urllib.request

        url = args.url if args.url.rstrip("/").endswith("/status") else args.url.rstrip("/") + "/status"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read().decode())
    state_dir = state_dir_of(args)
    from lpwa.gateway.service import STATUS_FILE

    with open(os.path.join(state_dir, STATUS_FILE)) as f:
        return json.load(f)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ago(ts, now):
    if not ts:
        return "never"
    d = max(0.0, now - ts)
    return "%.0fs ago" % d if d < 120 else ("%.0fm ago" % (d / 60) if d < 7200 else "%.1fh ago" % (d / 3600))


def status(args):
    import time

    try:
        st = _read_status(args)
    except (OSError, ValueError) as e:
        sys.stderr.write("lpwa gateway status: no status available (%s); is the gateway running?\n" % e)
        return 1
    if not isinstance(st, dict):
        sys.stderr.write("lpwa gateway status: the status read is not a gateway status (a JSON %s)\n"
                         % type(st).__name__)
        return 1
    try:
        return _show(st, args, time.time())
    except (AttributeError, TypeError, ValueError, KeyError, OverflowError) as e:  # not our JSON, or damaged
        sys.stderr.write("lpwa gateway status: the status read is not a gateway status (%s: %s)\n"
                         % (type(e).__name__, str(e)[:80]))
        return 1


def _show(st, args, now):
    import json

    running = st.get("running", True) and (args.url or _alive(int(st.get("pid", 0) or 0)))
    st["stale_s"] = round(now - st.get("time", now), 1)
    if args.json:
        st["running"] = bool(running)
        print(json.dumps(st, indent=2, default=str))
        return 0 if running else 3
    p, m = st.get("pipeline", {}), st.get("mqtt", {})
    q = p.get("queue", {})
    print("gateway %s: %s (pid %s, up %ss, status written %s)" % (
        st.get("gateway"), "running" if running else "NOT RUNNING", st.get("pid"), st.get("uptime_s"),
        ago(st.get("time"), now)))
    print("mqtt     %s:%s %s, inflight %s, published %s, refused %s, disconnects %s" % (
        m.get("host"), m.get("port"), "connected" if m.get("connected") else "DISCONNECTED", m.get("inflight"),
        m.get("published"), m.get("refused"), m.get("disconnects")))
    print("queue    depth %s / %s%s, oldest %s, full events %s, dead %s" % (
        q.get("depth"), q.get("max_frames"), " FULL" if q.get("full") else "",
        "%.1fs" % q["oldest_age_s"] if q.get("oldest_age_s") is not None else "-", q.get("full_events"),
        q.get("dead")))
    print("frames   accepted %s, rejected %s" % (
        p.get("accepted"), ", ".join("%s=%s" % kv for kv in p.get("rejections", {}).items()) or "none"))
    print("\n%-12s %9s %9s %9s  %s" % ("source", "received", "accepted", "rejected", "other"))
    extra = st.get("source_stats", {})
    for name in sorted(set(p.get("sources", {})) | set(extra)):
        s = p.get("sources", {}).get(name, {})
        other = ", ".join("%s=%s" % (k, v) for k, v in sorted(extra.get(name, {}).items())
                          if k not in ("received", "accepted", "rejected") and v)
        print("%-12s %9s %9s %9s  %s" % (name, s.get("received", 0), s.get("accepted", 0), s.get("rejected", 0),
                                         other))
    print("\n%-9s %-12s %-7s %9s %9s %9s  %-10s %s" % ("device", "kind", "radio", "counter", "accepted",
                                                     "rejected", "last seen", "consent (node)"))
    for dev, d in sorted(p.get("devices", {}).items()):
        consent = d.get("consent", "-") + (" (node %s)" % d["consent_node"] if d.get("consent_node") else "")
        print("%-9s %-12s %-7s %9s %9s %9s  %-10s %s" % (dev, d.get("kind") or "-", d.get("radio") or "-",
                                                         d.get("counter"), d.get("accepted"), d.get("rejected"),
                                                         ago(d.get("last_seen"), now), consent))
    return 0 if running else 3
