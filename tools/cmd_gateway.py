"""`lpwa gateway`: run the gateway service, or show its status"""


def register(sub):
    p = sub.add_parser("gateway", help="run the gateway service, or show its status")
    p.set_defaults(func=run)


def run(args):
    print("lpwa gateway: not built yet (issue #5)")
    return 1
