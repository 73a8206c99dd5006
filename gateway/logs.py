"""Structured logs for the gateway's processes: JSON lines (default) or text, on stderr.

Its own module so the MQTT sink process (lpwa.gateway.sink_process) sets up the same logging
without importing the service.
"""

import json
import logging
import sys

_RECORD_FIELDS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg and the record's `extra` fields."""

    def format(self, record):
        out = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name,
               "msg": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """`time level logger: msg key=value ...` for people reading journalctl."""

    def format(self, record):
        extra = " ".join("%s=%s" % (k, v) for k, v in record.__dict__.items()
                         if k not in _RECORD_FIELDS and not k.startswith("_"))
        line = "%s %s %s: %s%s" % (self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), record.levelname.lower(),
                                   record.name, record.getMessage(), " " + extra if extra else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(log_format="json", level="info", stream=None):
    """Structured logs on stderr (systemd's journal takes them from there)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger("lpwa")
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    root.propagate = False
    logging.getLogger("lpwa.gateway.paho").setLevel(logging.WARNING)
    return handler
