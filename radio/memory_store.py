"""A byte store in RAM, the interface every store has (read() -> bytes or None, write(data)).

Its own module so that what keeps state (firmware/store.py, the host board) can have one without
loading the duty-cycle budget it used to live in.
"""


class MemoryStore:
    """A byte store in RAM (host runs, tests, the gateway)."""

    def __init__(self, data=None):
        self.data = data

    def read(self):
        return self.data

    def write(self, data):
        self.data = bytes(data)
