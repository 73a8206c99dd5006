"""`lpwa node`: simulate a node on the host board"""


def register(sub):
    p = sub.add_parser("node", help="simulate a node on the host board")
    p.set_defaults(func=run)


def run(args):
    print("lpwa node: not built yet (issue #6)")
    return 1
