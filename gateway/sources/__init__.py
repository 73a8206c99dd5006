"""Gateway sources: one small module per way frames reach the gateway.

Each module named in REGISTRY has `NAME`, `OPTIONS` ({key: (type, default, help)}, used by the
config validator) and `class Source(options, pipeline, gateway_id)` with `async start()`,
`async stop()`, a `stats` dict of counters and `done` (an asyncio.Event the replay source sets
when its file is consumed, None elsewhere). Modules are imported only when a source is enabled,
so a gateway without serial dongles never imports pyserial and one without Sigfox never starts
aiohttp.
"""

import importlib

REGISTRY = {
    "udp": "lpwa.gateway.sources.udp",
    "wisun": "lpwa.gateway.sources.wisun",
    "sigfox": "lpwa.gateway.sources.sigfox",
    "lora_serial": "lpwa.gateway.sources.lora_serial",
    "replay": "lpwa.gateway.sources.replay",
}


def load(name):
    """The module of source `name` (KeyError names the unknown source)."""
    if name not in REGISTRY:
        raise KeyError("unknown source %r (known: %s)" % (name, ", ".join(sorted(REGISTRY))))
    return importlib.import_module(REGISTRY[name])


def create(name, options, pipeline, gateway_id):
    """A Source instance of `name` with `options` (a validated config section)."""
    return load(name).Source(options, pipeline, gateway_id)
