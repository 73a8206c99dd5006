"""What every source shares: option defaults, counters, a guarded call into the pipeline,
and bad input logged once per reason (then only counted), so a noisy radio cannot flood the log."""

import logging

from lpwa.gateway.sources.peers import PeerCounts

# Keys every section may carry that belong to the service, not the source.
SERVICE_KEYS = ("enabled",)
# Rejections that mean "not stored" rather than "bad frame": the source must not acknowledge.
NOT_QUEUED = ("store-error", "queue-full")


def with_defaults(options_spec, options):
    """Options of a source with every missing key set to its default from OPTIONS."""
    merged = {key: spec[1] for key, spec in options_spec.items()}
    for key, value in (options or {}).items():
        if key not in SERVICE_KEYS:
            merged[key] = value
    return merged


def parse_listen(text, what="listen"):
    """'host:port' (or '[v6]:port') -> (host, port); ValueError names the option."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError("%s: expected host:port, got %r" % (what, text))
    return host.strip("[]") or "0.0.0.0", int(port)


def check_listen(text):
    """The config row check of a listen key: what parse_listen would refuse at start, refused at load."""
    try:
        parse_listen(text)
    except ValueError:
        return "must be host:port with a port 0..65535"
    return None


class SourceBase:
    """Counters and the pipeline hand-off; subclasses set NAME, RADIO and OPTIONS."""

    NAME = ""
    RADIO = ""
    OPTIONS = {}

    def __init__(self, options, pipeline, gateway_id):
        self.options = with_defaults(self.OPTIONS, options)
        self.pipeline = pipeline
        self.gateway_id = gateway_id
        # every key exists from the start: status() copies this dict while a serial thread counts
        self.stats = {"received": 0, "accepted": 0, "rejected": 0, "not_queued": 0, "malformed": 0,
                      "errors": 0, "downlinks": 0, "downlinks_lost": 0}
        self.rejected_by_peer = PeerCounts()  # sender address -> rejected frames (sources that know it)
        self.done = None
        self.log = logging.getLogger("lpwa.gateway.sources." + self.NAME)
        self._warned = set()

    def ingest(self, raw, meta, radio=None):
        """Give one frame to the pipeline. Returns its Outcome, or None if the frame was not stored
        (pipeline fault, storage error, queue full): then the caller must not acknowledge it."""
        self.stats["received"] += 1
        try:
            outcome = self.pipeline.ingest(radio or self.RADIO, bytes(raw), meta, self.NAME)
        except Exception as exc:  # a pipeline fault must not stop the source
            self.stats["errors"] += 1
            self.warn_once("pipeline", "pipeline failed on a %s frame: %s", self.NAME, type(exc).__name__)
            return None
        return self._tally(outcome)

    def _tally(self, outcome):
        if outcome.accepted:
            self.stats["accepted"] += 1
            return outcome
        self.stats["rejected"] += 1
        if outcome.reason in NOT_QUEUED:
            self.count("not_queued")
            return None
        return outcome

    def ingest_many(self, frames, peer=None):
        """ingest() for a list of (radio, raw, meta): one pipeline transaction when the pipeline offers
        `ingest_batch`. Returns one Outcome per frame, None for each frame that was not stored.
        `peer`: the sender's address, whose rejected frames are counted (bounded, see peers.py)."""
        batch = getattr(self.pipeline, "ingest_batch", None)
        if batch is None or len(frames) == 1:
            outcomes = [self.ingest(raw, meta, radio) for radio, raw, meta in frames]
        else:
            outcomes = self._ingest_batch(batch, frames)
        if peer is not None:
            self.rejected_by_peer.note(peer, sum(1 for o in outcomes if o is not None and not o.accepted))
        return outcomes

    def _ingest_batch(self, batch, frames):
        self.stats["received"] += len(frames)
        try:
            outcomes = batch([(radio, bytes(raw), meta, self.NAME) for radio, raw, meta in frames])
        except Exception as exc:
            self.stats["errors"] += 1
            self.warn_once("pipeline", "pipeline failed on a %s batch: %s", self.NAME, type(exc).__name__)
            return [None] * len(frames)
        return [self._tally(outcome) for outcome in outcomes]

    def malformed(self, reason):
        """Count input that does not even parse at the protocol level."""
        self.stats["malformed"] += 1
        try:
            self.pipeline.count_rejection(self.NAME, reason)
        except Exception:
            self.stats["errors"] += 1
        self.warn_once(reason, "%s: rejected malformed input (%s); further ones are only counted",
                       self.NAME, reason)

    def warn_once(self, key, message, *args):
        if key in self._warned:
            self.log.debug(message, *args)
        else:
            self._warned.add(key)
            self.log.warning(message, *args)

    def count(self, key, n=1):
        self.stats[key] = self.stats.get(key, 0) + n
