"""`lpwa demo`: simulated nodes of all three kinds over all three radios, through the gateway, to MQTT"""


def register(sub):
    p = sub.add_parser("demo", help="simulated nodes of all three kinds over all three radios, through the gateway, to MQTT")
    p.set_defaults(func=run)


def run(args):
    print("lpwa demo: not built yet (issue #5)")
    return 1
