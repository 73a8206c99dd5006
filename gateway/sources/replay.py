"""Replay source: a recorded frame file pushed through the pipeline, for benches and bug reports.

The file is JSON lines, one frame per line:
  {"radio": "lora"|"sigfox"|"wisun", "time": <unix seconds>, "hex": "<frame bytes>", "meta": {...}}
(sigfox meta carries "device" and "seq", as the Sigfox network supplies them). `speed` 0 pushes
frames as fast as the pipeline takes them; otherwise the recorded gaps are kept, divided by
`speed`. A bad line is counted and skipped. `done` is set when the whole file was read.
"""

import asyncio
import binascii
import json
import math
import time

from lpwa.gateway.sources.base import SourceBase

from lpwa.radio.limits import RADIOS

NAME = "replay"
OPTIONS = {
    "file": (str, "frames.jsonl", "recorded frame file (JSON lines)"),
    "speed": (float, 0.0, "0 = as fast as possible, 1 = real time, 10 = ten times faster"),
}


def preflight(options):
    """What start() would refuse, for `lpwa gateway check`: a file that cannot be read."""
    try:
        open(options["file"], "rb").close()
    except OSError as e:
        raise ValueError("sources.replay.file: cannot read (%s)" % (e.strerror or type(e).__name__))


BATCH = 64  # frames per pipeline transaction when replaying flat out


def parse_line(line):
    """One JSON line -> (radio, time, raw bytes, meta); ValueError when it is not a frame record."""
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not an object")
    radio = record.get("radio")
    if radio not in RADIOS:
        raise ValueError("radio must be one of " + ", ".join(RADIOS))
    raw = binascii.unhexlify(record.get("hex") or "")
    if not raw:
        raise ValueError("empty frame")
    meta = record.get("meta")
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise ValueError("meta must be an object")
    stamp = record.get("time")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, (int, float))
                              or not math.isfinite(stamp)):  # json reads Infinity: a paced replay would wait forever
        raise ValueError("time must be a finite number")
    return radio, stamp, raw, meta


def write_line(radio, raw, meta=None, stamp=None):
    """The JSON line that records one frame (what `parse_line` reads back)."""
    return json.dumps({"radio": radio, "time": time.time() if stamp is None else stamp,
                       "hex": binascii.hexlify(bytes(raw)).decode(), "meta": meta or {}},
                      separators=(",", ":"))


class Source(SourceBase):
    NAME = NAME
    RADIO = "lora"
    OPTIONS = OPTIONS

    def __init__(self, options, pipeline, gateway_id):
        SourceBase.__init__(self, options, pipeline, gateway_id)
        self.done = asyncio.Event()
        self.stats.update({"lines": 0})
        self._task = None
        self._file = None

    async def start(self):
        self._file = open(self.options["file"], "r", encoding="utf-8", errors="replace", newline="\n")  # fails loudly now
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self):
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        if self._file is not None:
            self._file.close()
            self._file = None

    async def _run(self):
        speed = float(self.options["speed"])
        first = None
        started = time.monotonic()
        pending = []  # flat out, frames go to the pipeline BATCH at a time (one transaction each)
        try:
            for line in self._file:
                line = line.strip()
                if not line:
                    continue
                self.stats["lines"] += 1
                try:
                    radio, stamp, raw, meta = parse_line(line)
                except (ValueError, TypeError, RecursionError, binascii.Error):
                    self.malformed("malformed-line")
                    continue
                if speed > 0 and stamp is not None:
                    if first is None:
                        first = stamp
                    delay = started + (stamp - first) / speed - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    self.ingest(raw, meta, radio=radio)
                else:
                    pending.append((radio, raw, meta))
                    if len(pending) >= BATCH:
                        self.ingest_many(pending)
                        pending = []
                        await asyncio.sleep(0)  # let the rest of the gateway run
            if pending:
                self.ingest_many(pending)
        finally:
            self.done.set()
            self.log.info("replay: %s consumed (%d lines)", self.options["file"], self.stats["lines"])
