"""Consent reaches the node: a change in the registry queues a `consent` downlink, retried at each
of the device's uplinks until the node's own frames show it applied.

The node says so itself: a status frame with fault_flags bit 7 (lpwa.codecs.schema.STATUS_NO_CONSENT)
set means "personal sampling and sending off"; clear means on, and so does a personal reading frame.
Only devices whose consent changed while the gateway runs are tracked (kept in memory: after a
restart the registry is enforced at the gateway again, and a new change starts a new round).
"""

import logging

from lpwa.codecs.command import encode_command
from lpwa.codecs.schema import PERSONAL_KINDS, STATUS_NO_CONSENT

log = logging.getLogger("lpwa.gateway.consent")


def node_consent(msg):
    """What an authenticated frame says about the node's consent: True, False or None (it does not say)."""
    if msg.get("type") == "status":
        flags = ((msg.get("readings") or {}).get("fault_flags") or {}).get("value")
        return None if not isinstance(flags, int) else not flags & STATUS_NO_CONSENT
    return True if msg.get("kind") in PERSONAL_KINDS else None


class ConsentSync:
    def __init__(self, downlinks, state, keys, devices):
        self.downlinks = downlinks
        self.state = state
        self._keys = keys
        self._devices = devices
        self.rounds = {}  # device -> {"wanted": bool, "applied": bool, "tries": int}

    def changed(self, device, granted):
        """Consent hook: start a round for a personal-kind device and queue its first downlink."""
        if self._devices.get(device, {}).get("kind") not in PERSONAL_KINDS:
            return
        self.rounds[device] = {"wanted": bool(granted), "applied": False, "tries": 1}
        self.downlinks.queue(device, {"cmd": "consent", "granted": bool(granted)})

    def observe(self, msg):
        """An authenticated frame of the device (accepted or held back for no consent)."""
        r = self.rounds.get(msg["device"])
        if r is None or r["applied"]:
            return
        if node_consent(msg) == r["wanted"]:
            r["applied"] = True
            log.info("consent applied on the node", extra={"event": "consent-applied", "device": msg["device"],
                                                           "granted": r["wanted"], "tries": r["tries"]})

    def retry(self, batch, device, now):
        """Inside an uplink's transaction: queue the command again when none waits for this device."""
        r = self.rounds.get(device)
        if r is None or r["applied"] or batch.has_downlink(device) or device not in self._keys:
            return
        counter = self.state.next_down_counter(batch, device)
        batch.add_downlink(device, encode_command(int(device, 16), self._keys[device], counter,
                                                  {"cmd": "consent", "granted": r["wanted"]}), now)
        self.downlinks.devices.add(device)
        r["tries"] += 1

    def status(self):
        return {d: {"wanted": "granted" if r["wanted"] else "withdrawn",
                    "node": "applied" if r["applied"] else "pending", "tries": r["tries"]}
                for d, r in sorted(self.rounds.items())}
