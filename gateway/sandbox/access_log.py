"""The access log: one line per request, written only when the log is on and its logger takes INFO, and
cheap when it is (no format-string parsing per request, the time formatted once a second, masking only
for a request line with a query). Secrets in a query are masked as everywhere else (redact.redact_line).
Knows no dialect and no ledger."""
from __future__ import annotations

import logging
import time

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from .redact import redact_line


class AccessLog(AbstractAccessLogger):
    """`ADDRESS [TIME] "METHOD PATH?QUERY HTTP/1.1" STATUS BYTES MSms`, as aiohttp's own log starts."""

    _second = -1
    _stamp = ""

    def log(self, request: BaseRequest, response: StreamResponse, elapsed: float) -> None:
        now = int(time.time())
        if now != self._second:  # a few thousand requests a second share one formatted time
            self._second, self._stamp = now, time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
        target = request.raw_path
        version = request.version
        line = (f'{request.remote} [{self._stamp}] "{request.method} {target} HTTP/{version.major}.{version.minor}" '
                f"{response.status} {response.body_length} {elapsed * 1000:.1f}ms")
        self.logger.info(redact_line(line) if "=" in target else line)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
