"""`lpwa replay`: push a recorded frame file through the gateway pipeline"""


def register(sub):
    p = sub.add_parser("replay", help="push a recorded frame file through the gateway pipeline")
    p.set_defaults(func=run)


def run(args):
    print("lpwa replay: not built yet (issue #5)")
    return 1
