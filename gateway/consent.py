"""Consent registry: whether a device's personal-data kinds (drone-vital, pedometer) may be published.

The `consent` flag of each [[devices]] entry is the baseline; the optional `consent.file`
(TOML, `devices = {"0a1b2c3d" = true}`), edited by the operator and reloaded on SIGHUP, overrides
it. Without a grant the answer is no. A withdrawal takes effect at once: the pipeline stops
accepting and the sink stops publishing that device's personal messages, the queued ones are
purged (those already handed to the broker cannot be: the status says how many), a retained
`<prefix>/consent/<device>` notice is queued, and the withdrawal itself is logged.
"""

import logging
import re

from lpwa.gateway import tomlfile
from lpwa.gateway.config import ConfigError

from lpwa.codecs.schema import PERSONAL_KINDS

log = logging.getLogger("lpwa.gateway.consent")
_HEX8 = re.compile(r"^[0-9a-f]{8}$")


def is_personal(kind):
    return kind in PERSONAL_KINDS


def read_file(path):
    """Parse a consent file -> {device: bool}; raises ConfigError naming the problem."""
    try:
        raw = tomlfile.load(path)
    except tomlfile.TomlFileError as e:
        if e.unreadable:
            raise ConfigError("consent.file: cannot read %s (%s)" % (path, e.detail))
        raise ConfigError("consent.file: %s is not valid TOML (%s)" % (path, e.detail))
    for key in raw:
        if key != "devices":
            raise ConfigError("consent.file: %s: unknown key" % key)
    devices = raw.get("devices", {})
    if not isinstance(devices, dict):
        raise ConfigError("consent.file: devices must be a table of \"<8 hex>\" = true|false")
    out = {}
    for dev, granted in devices.items():
        if not _HEX8.match(dev.lower()) or not isinstance(granted, bool):
            raise ConfigError("consent.file: devices.%s: must be \"<8 hex>\" = true|false" % dev)
        out[dev.lower()] = granted
    return out


class Consent:
    def __init__(self, devices=(), path=""):
        self.base = {d["id"]: bool(d.get("consent", False)) for d in devices}
        self.path = path
        self.granted = dict(self.base)
        self.on_withdraw = []  # callables(device), e.g. the queue purge
        self.on_change = []  # callables(device, granted): withdrawal and re-grant, e.g. the node's downlink
        self.reloads = 0
        if path:
            self.granted.update(read_file(path))

    def allowed(self, device, kind):
        return not is_personal(kind) or self.granted.get(device, False)

    def allowed_personal(self, device):
        return self.granted.get(device, False)

    def set(self, device, granted, why="api"):
        """Change one device's consent now (logged; withdrawal runs the on_withdraw hooks)."""
        before = self.granted.get(device, False)
        self.granted[device] = bool(granted)
        if before and not granted:
            log.warning("consent withdrawn", extra={"event": "consent-withdrawn", "device": device, "why": why})
            for hook in self.on_withdraw:
                hook(device)
        elif granted and not before:
            log.info("consent granted", extra={"event": "consent-granted", "device": device, "why": why})
        if bool(before) != bool(granted):
            for hook in self.on_change:
                hook(device, bool(granted))

    def reload(self):
        """Re-read the consent file (SIGHUP). A bad file is logged and the current state kept."""
        if not self.path:
            return False
        try:
            fresh = read_file(self.path)
        except ConfigError as e:
            log.error("consent file not reloaded", extra={"event": "consent-reload-failed", "error": str(e)})
            return False
        wanted = dict(self.base)
        wanted.update(fresh)
        for device in sorted(set(wanted) | set(self.granted)):
            self.set(device, wanted.get(device, False), why="reload")
        self.reloads += 1
        log.info("consent file reloaded", extra={"event": "consent-reloaded", "devices": len(fresh)})
        return True
