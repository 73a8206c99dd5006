"""Shared bits for the radio tests: the corpus loader and a guard against hangs."""

import json
import os
import signal
from contextlib import contextmanager

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "radio")


def corpus(name):
    with open(os.path.join(DATA, name)) as f:
        return [json.loads(line) for line in f if line.strip()]


@contextmanager
def no_hang(seconds=10):
    """Fail (instead of hanging the suite) if the block runs longer than `seconds`."""

    def boom(signum, frame):
        raise TimeoutError("parser did not return within %ss" % seconds)

    old = signal.signal(signal.SIGALRM, boom)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
