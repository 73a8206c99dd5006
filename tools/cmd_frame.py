"""`lpwa frame`: encode and decode frames for bench work"""


def register(sub):
    p = sub.add_parser("frame", help="encode and decode frames for bench work")
    p.set_defaults(func=run)


def run(args):
    print("lpwa frame: not built yet (issue #3)")
    return 1
