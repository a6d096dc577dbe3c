"""The access log: one line per request, written only when the log is on and its logger takes INFO, and
cheap when it is (no format-string parsing per request, the time formatted once a second, masking only
for a request line with a query). Secrets in a query are masked as everywhere else (redact.redact_line).
Each line also carries its parts as fields (method, path, status ...; the dialect and tenant once known),
which `--log-format json` shows. Knows no dialect by name and no ledger."""
from __future__ import annotations

import logging
import time

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from ..keys import DIALECTS, REQUEST_TENANT
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
        masked = "=" in target
        fields = {"method": request.method, "path": redact_line(target) if masked else target,
                  "status": response.status, "bytes": response.body_length, "duration_ms": round(elapsed * 1000, 1),
                  "remote": request.remote, "dialect": _dialect(request), "tenant": None}
        tenant = request.get(REQUEST_TENANT)
        if tenant is not None:
            fields["tenant"] = tenant.name
        self.logger.info(redact_line(line) if masked else line, extra=fields)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def _dialect(request: BaseRequest) -> str | None:
    """The dialect whose paths the request's is among (None: the admin API, or no dialect's)."""
    path = request.path
    for dialect in request.config_dict.get(DIALECTS, ()):
        if any(path.startswith(prefix) or path == prefix[:-1] for prefix in dialect.prefixes):
            return str(dialect.name)
    return None
