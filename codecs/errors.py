"""The codec's one error family. Every `.reason` is a key of lpwa.codecs.reasons.REASONS.

The gateway counts rejections by reason, so a reason is a stable, short name; the detail is free
text for the log line (never a key or other secret). The meanings live apart, in reasons.py: a
node raises these but never reads the table (~1 KB of its heap).
"""


class FrameError(ValueError):
    """A frame that cannot be encoded or decoded; `.reason` is a key of reasons.REASONS."""

    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        super().__init__(reason + (": " + detail if detail else ""))
