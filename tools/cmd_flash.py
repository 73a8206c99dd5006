"""`lpwa flash`: compile and flash the firmware onto a board"""


def register(sub):
    p = sub.add_parser("flash", help="compile and flash the firmware onto a board")
    p.set_defaults(func=run)


def run(args):
    print("lpwa flash: not built yet (issue #6)")
    return 1
