"""`lpwa demo`: simulated nodes of all three kinds over all three radios, through the gateway, to MQTT"""


def register(sub):
    p = sub.add_parser("demo", help="simulated nodes of all three kinds over all three radios, through the gateway, to MQTT",
                       description="Start an embedded MQTT broker (or use --broker), the real gateway with its UDP, "
                                   "Wi-SUN (pseudo-terminal) and Sigfox (HTTP) sources, and simulated buoy, "
                                   "drone-vital and pedometer nodes on LoRa, Sigfox and Wi-SUN; print every message "
                                   "a subscriber receives and exit after --frames of them.")
    p.add_argument("--frames", type=int, default=18, metavar="N", help="exit after N published messages (default 18)")
    p.add_argument("--broker", metavar="URL", help="use this broker (mqtt://host:port) instead of the embedded one")
    p.add_argument("--timeout", type=float, default=30.0, metavar="S",
                   help="fail if the messages have not arrived after S seconds (default 30)")
    p.add_argument("--gateway-id", default="demo", help="gateway id, the second topic level (default demo)")
    p.add_argument("--gateways", type=int, default=1, metavar="N",
                   help="N > 1: N real gateways with overlapping coverage and one `lpwa network` on a Mosquitto "
                        "started here; each uplink printed once with every gateway's RSSI, one downlink sent once")
    p.add_argument("-v", "--verbose", action="store_true", help="show the gateway's and broker's logs")
    p.set_defaults(func=run)


def run(args):
    import sys
    if args.frames < 1:
        sys.stderr.write("lpwa demo: --frames must be at least 1\n")
        return 2
    if not 0 < args.timeout < float("inf"):  # a negative or NaN timeout ran the whole demo, then failed it
        sys.stderr.write("lpwa demo: --timeout must be a positive number of seconds\n")
        return 2
    if not 1 <= args.gateways <= 8:
        sys.stderr.write("lpwa demo: --gateways must be 1..8\n")
        return 2
    if args.gateways > 1:  # many gateways, one network (gateway/NETWORK.md)
        from lpwa.tools.demo import network
        return network.main(gateways=args.gateways)
    from lpwa.tools.demo.run import main
    return main(frames=args.frames, broker_url=args.broker, timeout=args.timeout, verbose=args.verbose,
                gateway_id=args.gateway_id)
