"""`lpwa network run`: one instance of the network role (merge uplinks, route downlinks)."""

import math
import os
import re
import sys


def register(sub):
    p = sub.add_parser("network", help="many gateways, one network: one message per uplink, one transmission per downlink")
    nsub = p.add_subparsers(dest="network_command", metavar="ACTION")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    r = nsub.add_parser("run", help="run one network instance until SIGTERM/SIGINT (any number may run)",
                        description="Subscribe to every gateway's uplinks on the broker, publish each frame once "
                                    "on <prefix>/network/<kind>/<device>/up, and route commands published on "
                                    "<prefix>/network/<kind>/<device>/down to the best gateway with one downlink "
                                    "counter per device. Design: gateway/NETWORK.md. The broker password, if any, "
                                    "is read from the environment variable LPWA_MQTT_PASSWORD.")
    r.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host:port (default %(default)s)")
    r.add_argument("--prefix", default="lpwa", help="the gateways' mqtt.topic_prefix (default %(default)s)")
    r.add_argument("--id", default="network-1", help="this instance's id, unique per instance (default %(default)s)")
    r.add_argument("--window-ms", type=float, default=200.0, help="de-duplication window (default %(default)s)")
    r.add_argument("--keepalive", type=int, default=5, help="MQTT keepalive, seconds: a dead instance is noticed "
                                                             "after 1.5 x this (default %(default)s)")
    r.add_argument("--username", default=None, help="broker user name")
    r.add_argument("--log-format", choices=("json", "text"), default="json")
    r.set_defaults(func=run)


def _usage(msg):
    sys.stderr.write("lpwa network: %s\n" % msg)
    return 2


def run(args):
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", args.id) or args.id == "network":
        return _usage("--id must be 1-64 letters, digits, '_', '-' or '.' (and not 'network')")
    if not (math.isfinite(args.window_ms) and 1 <= args.window_ms <= 60000):
        return _usage("--window-ms must be 1..60000")
    if not 1 <= args.keepalive <= 65535:
        return _usage("--keepalive must be 1..65535")
    if not args.prefix or "+" in args.prefix or "#" in args.prefix:
        return _usage("--prefix must be a topic without wildcards")
    import signal
    import threading

    from lpwa.gateway.logs import setup_logging
    from lpwa.gateway.network.service import NetworkService

    setup_logging(args.log_format, "info")
    try:
        svc = NetworkService(args.broker, prefix=args.prefix, instance=args.id, window_s=args.window_ms / 1000.0,
                             keepalive=args.keepalive, username=args.username,
                             password=os.environ.get("LPWA_MQTT_PASSWORD"))
    except ValueError as e:
        return _usage(str(e))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    svc.run(stop)
    return 0
