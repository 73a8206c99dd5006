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


def refusal(state, device, counter):
    """A reason to refuse the command, or None: a malformed counter, or one this gateway already
    used (or passed) for `device`, which the node would reject."""
    if counter == "bad":
        return "bad-network-counter"
    if counter is not None and counter <= state.get(device)["down_counter"]:
        return "network-counter-behind"
    return None


def counter(state, batch, device, counter):
    """The downlink counter to encode with, persisted inside the caller's transaction: the
    gateway's own next one for a plain command, else the network's."""
    if counter is None:
        return state.next_down_counter(batch, device)
    state.get(device)["down_counter"] = counter
    batch.save_down_counter(device, counter)
    return counter


def head_id(batch, device):
    """Id of the device's oldest queued downlink: a deferred one is put back under it."""
    row = batch.db.execute("SELECT id FROM downlinks WHERE device = ? ORDER BY id LIMIT 1", (device,)).fetchone()
    return row[0] if row else None


def put_back(batch, row_id, device, data, created):
    """Re-queue a deferred downlink at the head of the device's line (its old id), so a newer command
    with a higher counter cannot go first and make the node reject this one as a replay."""
    batch.db.execute("INSERT INTO downlinks (id, device, payload, created) VALUES (?, ?, ?, ?)",
                     (row_id, device, bytes(data), created))
