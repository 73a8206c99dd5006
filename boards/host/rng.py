"""A small deterministic generator: the same sequence under MicroPython and CPython."""


class Rng:
    """A small deterministic generator (same sequence under MicroPython and CPython)."""

    def __init__(self, seed):
        self.state = (seed * 2654435761 + 1) & 0x7FFFFFFF or 1

    def next(self):
        self.state = (1103515245 * self.state + 12345) & 0x7FFFFFFF
        return self.state

    def uniform(self, lo, hi):
        return lo + (hi - lo) * (self.next() / 2147483648.0)

