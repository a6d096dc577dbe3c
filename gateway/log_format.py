"""The server's logging set-up: `--log-format text` (one readable line per record) or `json` (one JSON
object per line: time, level, logger, message, and the fields a record carries, such as the access log's
method, path, status and duration). Secrets in a message are masked as the access log masks them.
Knows no dialect."""
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
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(TEXT_FORMAT))
    # As logging.basicConfig: a root logger someone already set up (a test runner's) is left as it is.
    logging.basicConfig(level=getattr(logging, level.upper()), handlers=[handler])
