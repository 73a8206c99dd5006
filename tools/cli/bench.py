"""`lpwa bench`: benchmarks that print a table (or JSON) with ratios against an in-run baseline."""

import importlib

BENCHES = {
    "codec": ("lpwa.tools.bench.codec", "frame bytes vs Cayenne LPP, SenML and JSON; encode cost"),
    "gateway": ("lpwa.tools.bench.gateway", "replayed frames through the pipeline into MQTT vs bare paho"),
    "algorithms": ("lpwa.tools.bench.algorithms", "step, wave and PPG algorithms against ground truth"),
    "hostile": ("lpwa.tools.bench.hostile", "issue #13 figures: colliding tags, forged copies and groups, a forged flood, slow HTTP clients"),
    "network": ("lpwa.tools.bench.network", "N real gateways, overlapping coverage, one network: duplicates, downlinks"),
}


def register(sub):
    p = sub.add_parser("bench", help="benchmarks (codec, gateway, algorithms, network)")
    bsub = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    for name, (module, help_text) in BENCHES.items():
        bp = bsub.add_parser(name, help=help_text)
        bp.add_argument("--json", action="store_true", help="print JSON instead of a table")
        bp.set_defaults(func=run, bench_module=module)
        importlib.import_module(module).add_arguments(bp)


def run(args):
    return importlib.import_module(args.bench_module).main(args)
