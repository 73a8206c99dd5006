"""The `lpwa` command line: one subcommand per module, each filled in by its own area.

Every subcommand lives in `lpwa/cmd_<name>.py` (folder `tools/`) with `register(subparsers)`;
heavy imports happen inside the handlers so `lpwa --help` stays instant.
"""

import argparse
import importlib
import os
import sys

from lpwa.tools import __version__

COMMANDS = ("demo", "frame", "airtime", "gateway", "network", "node", "flash", "replay", "bench")


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and exit status 2 (no usage dump)."""

    def error(self, message):
        sys.stderr.write("%s: error: %s (see --help)\n" % (self.prog, message))
        sys.exit(2)


def build_parser():
    parser = Parser(prog="lpwa", description="lpwa-edge: 920 MHz LPWA sensor nodes, codecs and gateway.")
    parser.add_argument("--version", action="version", version="lpwa-edge " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module("lpwa.tools.cli." + name).register(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader went away (`lpwa frame decode - | head`): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
