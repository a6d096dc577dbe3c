"""Secrets a query string may carry (the Token API's `password`) masked before anything keeps or prints
it: the request journal and the access log. Keys are compared decoded, so `pass%77ord=` is caught too."""
from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

SECRET_KEYS = frozenset({"password"})
MASK = "[FILTERED]"
_QUERY_IN_LINE = re.compile(r"\?([^\s\"]*)")


def redact_query(query: str) -> str:
    """`email=a@b.c&password=s3cret` -> `email=a@b.c&password=[FILTERED]`; anything else unchanged."""
    if "=" not in query:
        return query
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        key, eq, _ = parts[i].partition("=")
        if eq and unquote_plus(key).strip().lower() in SECRET_KEYS:
            parts[i] = f"{key}={MASK}"
    return "".join(parts)


class RedactQueries(logging.Filter):
    """Masks secrets in the query strings of a log line (aiohttp's access log prints the request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _QUERY_IN_LINE.sub(lambda m: "?" + redact_query(m.group(1)), message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def access_logger(name: str = "aiohttp.access") -> logging.Logger:
    """The access logger with the redacting filter on it (added once)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactQueries) for f in logger.filters):
        logger.addFilter(RedactQueries())
    return logger
