"""Waits and hang guards for the tests: poll a condition, never sleep a fixed time and hope.

wait_for raises with what it waited for; wait_until and async_wait_until return the final truth
value for an `assert`; no_hang fails a block that would otherwise hang the suite."""

import asyncio
import signal
import time
from contextlib import contextmanager


def wait_for(predicate, timeout=10.0, what="condition"):
    """Poll until predicate() is true; AssertionError naming `what` after `timeout` seconds."""
    if wait_until(predicate, timeout, 0.02):
        return True
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


def wait_until(predicate, timeout=10.0, interval=0.01):
    """Poll until predicate() is true or `timeout` passes -> its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


async def async_wait_until(predicate, timeout=10.0, interval=0.01):
    """wait_until for a coroutine: the loop keeps running while it polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()


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
