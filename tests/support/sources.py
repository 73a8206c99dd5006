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
        self.store_error = False
        self.lock = threading.Lock()

    def ingest(self, radio, raw, meta, source):
        assert isinstance(raw, bytes) and isinstance(meta, dict)
        if self.fail:
            raise OSError("disk full")
        if self.store_error:  # what the real pipeline answers when SQLite refused the write
            return Outcome(False, "store-error", 0)
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


class PtyPort:
    """A pseudo-terminal standing in for a USB serial device at a stable symlinked path.

    The source opens `path` (like /dev/serial/by-id/...); `vanish()` unplugs it (the symlink goes
    and the pty closes, so the open port errors), `reappear()` plugs a new one in at the same path.
    The test talks to the device side through the master end."""

    def __init__(self, path):
        self.path = path
        self.master = self.slave = None
        self.reappear()

    def reappear(self):
        import os
        import tty
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo, no newline translation, even before pyserial configures it
        os.set_blocking(self.master, False)
        tmp = self.path + ".new"
        os.symlink(os.ttyname(self.slave), tmp)
        os.replace(tmp, self.path)

    def write(self, data):
        import os
        os.write(self.master, data)

    def read(self):
        import os
        out = b""
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, OSError):
                return out
            if not chunk:
                return out
            out += chunk

    def vanish(self):
        import os
        if os.path.lexists(self.path):
            os.unlink(self.path)
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None

    def close(self):
        self.vanish()
