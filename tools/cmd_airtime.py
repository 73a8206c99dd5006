"""`lpwa airtime`: time on air, regional limits and hourly budget"""


def register(sub):
    p = sub.add_parser("airtime", help="time on air, regional limits and hourly budget")
    p.set_defaults(func=run)


def run(args):
    print("lpwa airtime: not built yet (issue #4)")
    return 1
