"""Shared helpers for the source tests: a stand-in pipeline with the contract's interface.

The real pipeline (lpwa.gateway.pipeline) decodes, de-duplicates and queues; the sources only
need `ingest(radio, raw, meta, source) -> Outcome` and `count_rejection(source, reason)`, so
these tests pin down what a source does with exactly that interface.
"""

import asyncio
import threading
import time


class Outcome:
    def __init__(self, accepted=True, reason=None, messages=1, downlink=None):
        self.accepted = accepted
        self.reason = reason
        self.messages = messages
        self.downlink = downlink


class FakePipeline:
    """Records every call; `downlinks` maps a raw frame to the downlink its Outcome carries;
    `fail` makes ingest raise (as a full disk would); `reject` makes it refuse every frame."""

    def __init__(self):
        self.frames = []
        self.rejections = []
        self.downlinks = {}
        self.fail = False
        self.reject = False
        self.lock = threading.Lock()

    def ingest(self, radio, raw, meta, source):
        assert isinstance(raw, bytes) and isinstance(meta, dict)
        if self.fail:
            raise OSError("disk full")
        with self.lock:
            self.frames.append((radio, raw, dict(meta), source))
        if self.reject:
            return Outcome(False, "bad-mic", 0)
        return Outcome(downlink=self.downlinks.pop(raw, None))

    def count_rejection(self, source, reason):
        with self.lock:
            self.rejections.append((source, reason))


def wait_until(predicate, timeout=10.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


async def async_wait_until(predicate, timeout=10.0, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return predicate()
