"""The access log: one line per request, written only when the log is on and its logger takes INFO, and
cheap when it is (no format-string parsing per request, the time formatted once a second, masking only
for a request line with a query). Secrets in a query are masked as everywhere else (redact.redact_line).
Each line also carries its parts as fields (method, path, status ...; the dialect and tenant once known),
which `--log-format json` shows. Knows no dialect by name and no ledger."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from ..keys import REQUEST_TENANT
from .redact import redact_line


class AccessLog(AbstractAccessLogger):
    """`ADDRESS [TIME] "METHOD PATH?QUERY HTTP/1.1" STATUS BYTES MSms`, as aiohttp's own log starts."""

    _second = -1
    _stamp = ""
    owners: tuple[tuple[str, str], ...] = ()  # (path prefix, dialect name): see for_dialects

    @classmethod
    def for_dialects(cls, dialects: Iterable[Any]) -> type[AccessLog]:
        """The access log class that names each request's dialect (aiohttp makes the instance itself)."""
        owners = tuple((prefix, str(d.name)) for d in dialects for prefix in d.prefixes)
        return type("DialectAccessLog", (cls,), {"owners": owners})

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
                  "remote": request.remote, "dialect": self._dialect(request.path), "tenant": None}
        tenant = request.get(REQUEST_TENANT)
        if tenant is not None:
            fields["tenant"] = tenant.name
        self.logger.info(redact_line(line) if masked else line, extra=fields)

    def _dialect(self, path: str) -> str | None:
        """The dialect whose paths this one is among (None: the admin API, or no dialect's)."""
        for prefix, name in self.owners:
            if path.startswith(prefix) or path == prefix[:-1]:
                return name
        return None

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)

