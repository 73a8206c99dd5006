"""The gateway's side of a network downlink: a command that carries the counter `lpwa network`
assigned (one counter per device for the whole network, gateway/NETWORK.md).

The gateway still encodes it (only it holds the key), queues it for the next receive window and
checks its duty-cycle budget; it only takes the counter instead of its own next one, and raises its
own counter to it so a direct command afterwards continues above it.
"""

MAX_COUNTER = 0xFFFFFFFF


def take_counter(command):
    """Remove `network_counter` from the command: None (a plain command), the counter, or "bad"."""
    if "network_counter" not in command:
        return None
    n = command.pop("network_counter")
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_COUNTER:
        return "bad"
    return n


def behind(state, device, counter):
    """True when this gateway already used `counter` (or a later one) for `device`: the node would
    reject it, so it is refused here (counted) instead of transmitted."""
    return counter <= state.get(device)["down_counter"]


def use_counter(state, db, device, counter):
    """Persist `counter` as the device's downlink counter inside the caller's transaction."""
    d = state.get(device)
    d["down_counter"] = counter
    db.execute("INSERT INTO devices (device, counter, last_seen, radio, down_counter) VALUES (?, -1, 0, '', ?) "
               "ON CONFLICT(device) DO UPDATE SET down_counter = excluded.down_counter", (device, counter))
    return counter
