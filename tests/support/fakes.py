"""A stand-in pipeline with the sources' contract, for the source tests.

The real pipeline (lpwa.gateway.pipeline) decodes, de-duplicates and queues; the sources only
need `ingest(radio, raw, meta, source) -> Outcome` and `count_rejection(source, reason)`, so
these tests pin down what a source does with exactly that interface.
"""

import threading


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
