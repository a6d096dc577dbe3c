"""The server's logging set-up: `--log-format text` (one readable line per record) or `json` (one JSON
object per line: time, level, logger, message, and the fields a record carries, such as the access log's
method, path, status and duration). Secrets in a message are masked as the access log masks them.
A record logged with `extra=CLI_LINE` (a failed start, a worker's failure) keeps, in the text form, the
CLI's own one-line shape `loyalty-gateway: error: ...`. Knows no dialect."""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import TextIO

from .redact import redact_line

# The fields a record may carry (logging's `extra=`) that a JSON line shows; the access log sets them.
FIELDS = ("method", "path", "status", "bytes", "duration_ms", "remote", "dialect", "tenant")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROG = "loyalty-gateway"
CLI_LINE = {"cli_line": True}  # logging's `extra=` for a record the text form shows as the CLI's own line
_configured = False


class TextLines(logging.Formatter):
    """TEXT_FORMAT, except a CLI_LINE record: `loyalty-gateway: error: message`, as the CLI prints."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if record.__dict__.get("cli_line"):
            return f"{PROG}: {record.levelname.lower()}: {record.getMessage()}"
        return super().format(record)


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = {
            "time": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_line(record.getMessage()),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, form: str, stream: TextIO | None = None) -> None:
    """Send every log record at `level` or above to stderr (or `stream`) in the chosen form."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if form == "json" else TextLines())
    # As logging.basicConfig: a root logger someone already set up (a test runner's) is left as it is.
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])
    global _configured
    _configured = handler in logging.getLogger().handlers


def configured() -> bool:
    """Whether this process's logging was set up here (`serve`, not a test runner's): its failures are then
    log records, in the chosen form."""
    return _configured
