"""Replay checks: is a decoded message's counter new, the same frame heard twice, or a replay?

Counters of one transaction are held in a `pending` dict (counter space -> (counter, [(counter,
digest)], radio, kind, source)) and written to the store once per device at COMMIT; the checks
here look at pending first, then at the accepted state (`lpwa.gateway.state`).
"""


def sigfox_extend(seq, last):
    """A 12-bit Sigfox sequence number -> a monotonic counter near `last` (the previous extended one):
    up to 2047 ahead is new, anything else is old (so a replay stays a replay across the wrap)."""
    if last < 0:
        return seq
    delta = (seq - last) % 4096
    if 0 < delta < 2048:
        return last + delta
    return last - ((last - seq) % 4096)


def space(device, radio):
    """Sigfox sequence numbers (12 bits, wrapping) are a counter space of their own."""
    return device + "/sigfox" if radio == "sigfox" else device


def last_counter(state, pending, skey):
    """The last counter of a counter space: this transaction's, else the accepted one (-1: none)."""
    p = pending.get(skey)
    return p[0] if p else state.get(skey)["counter"]


def verdict(state, pending, skey, radio, counter, digest):
    """-> (counter, None) for a new counter (Sigfox's extended), or (counter, reason)."""
    last = last_counter(state, pending, skey)
    if radio == "sigfox":
        if not 0 <= counter <= 0xFFF:
            # not the network's 12-bit sequence number: forged meta (it would overflow SQLite and fail
            # every other frame of its batch)
            return counter, "out-of-range"
        counter = sigfox_extend(counter, last)
    if counter > last:
        return counter, None
    p = pending.get(skey)
    seen = (p and any(c == counter and dg == digest for c, dg in p[1])) or \
        state.check(skey, counter, digest) == "duplicate"
    return counter, "duplicate" if seen else "replayed"


def advance(pending, skey, counter, digest, radio, kind, source):
    """Note an accepted counter; written once per device at the end of the transaction."""
    p = pending.get(skey)
    digests = (p[1] if p else []) + [(counter, digest)]
    pending[skey] = (counter, digests, radio, kind, source)
