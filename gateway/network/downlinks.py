"""A network downlink: one counter for the device across the network, one gateway to send it.

The counter is the device's `_state.down` plus one (persisted, retained, before the command
leaves: a counter is never used twice); the gateway is the best (RSSI, then SNR) of those that
heard the device's latest network uplink and whose status is `online`. The gateway encodes the
command with that counter (it alone has the key), queues it for the next receive window and
checks its own duty-cycle budget.
"""

from lpwa.codecs.command import COMMANDS

MAX_COUNTER = 0xFFFFFFFF


def parse_command(payload):
    """Topic payload -> command dict, or a rejection reason."""
    import json
    try:
        cmd = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return "bad-command"
    if not isinstance(cmd, dict) or cmd.get("cmd") not in COMMANDS or "network_counter" in cmd:
        return "bad-command"
    return cmd


def choose_gateway(latest, kind, online, sticky=None):
    """-> gateway id, or a rejection reason. `latest`: (kind, copies best first) or None.
    `sticky`: the gateway this device's previous network downlink went to. While it is online and
    still hears the device it gets the next one too: a gateway may hold a downlink for a later
    window (duty cycle), and a newer counter sent by another gateway first would make the node
    reject the older one."""
    if latest is None:
        return "no-uplink"
    heard_kind, copies = latest
    if heard_kind != kind:
        return "wrong-kind"
    heard = [c.get("gateway") for c in copies if online.get(c.get("gateway"))]
    if not heard:
        return "no-gateway-online"
    return sticky if sticky in heard else heard[0]


def assign_counter(merger, device):
    """The next network downlink counter of `device` (the caller persists `_state` first)."""
    n = merger.down.get(device, 0) + 1
    if n > MAX_COUNTER:
        return None
    merger.down[device] = n
    return n
