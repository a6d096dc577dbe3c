"""A tenant's requests as the journal (GET /__admin/requests) recorded them, for assertions in the spirit of
WireMock's verify: filter by dialect, path (a prefix, or a glob with *), method and status; count them; read
their bodies. Oldest first, the order they were made in."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .admin import AdminClient

MOST = 10_000  # the journal keeps at most journal_max_entries (1000 by default): one page holds them all


@dataclass(frozen=True)
class JournalEntry:
    """One recorded request: what was asked, what was answered, and what the sandbox did to it."""

    id: int
    dialect: str
    method: str
    path: str
    query: str
    status: int | None
    outcome: str  # "answered", "fault_status", "rate_limited" ...
    request_body: str  # as sent (secrets masked, capped at journal_body_bytes)
    response_body: str
    fault: Mapping[str, Any] | None
    idempotency_key: str | None
    raw: Mapping[str, Any] = field(repr=False)  # the journal's whole entry

    @classmethod
    def of(cls, entry: Mapping[str, Any]) -> JournalEntry:
        return cls(id=int(entry["id"]), dialect=str(entry["dialect"]), method=str(entry["method"]),
                   path=str(entry["path"]), query=str(entry.get("query") or ""), status=entry.get("status"),
                   outcome=str(entry.get("outcome")), request_body=str(entry["request_body"]["text"]),
                   response_body=str(entry["response_body"]["text"]), fault=entry.get("fault"),
                   idempotency_key=entry.get("idempotency_key"), raw=entry)

    def request_json(self) -> Any:
        """The request body read as JSON (numbers with a fraction as Decimal)."""
        return json.loads(self.request_body, parse_float=Decimal)

    def response_json(self) -> Any:
        """The response body read as JSON (numbers with a fraction as Decimal)."""
        return json.loads(self.response_body, parse_float=Decimal)

    def __str__(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.dialect} {self.method} {self.path}{query} -> {self.status} ({self.outcome})"


class Requests(list):  # type: ignore[type-arg]
    """The entries a filter matched, oldest first: a list, whose `count` is how many there are (WireMock's
    verify counts; the list method that counts one value would never be what a test means here)."""

    @property  # type: ignore[override]
    def count(self) -> int:
        return len(self)


class Journal:
    """One tenant's journal."""

    def __init__(self, client: AdminClient, tenant: str) -> None:
        self._client, self._tenant = client, tenant

    def requests(self, *, dialect: str | None = None, path: str | None = None, method: str | None = None,
                 status: int | str | None = None) -> Requests:
        params = {"tenant": self._tenant, "dialect": dialect, "path": path, "status": status, "limit": MOST,
                  "method": method.upper() if method else None}
        found = self._client.call("GET", "/requests", params=params)["requests"]
        return Requests(JournalEntry.of(entry) for entry in reversed(found))

    def verify(self, count: int, *, dialect: str | None = None, path: str | None = None, method: str | None = None,
               status: int | str | None = None) -> Requests:
        """Assert that exactly `count` requests match; they are returned. The failure lists what was recorded."""
        matched = self.requests(dialect=dialect, path=path, method=method, status=status)
        if len(matched) == count:
            return matched
        wanted = " ".join(f"{k}={v}" for k, v in
                          (("dialect", dialect), ("method", method), ("path", path), ("status", status)) if v is not None)
        every = self.requests()
        listed = "\n".join(f"  {e}" for e in every) or "  (none)"
        raise AssertionError(f"expected {count} request(s) matching {wanted or 'anything'} for tenant {self._tenant},"
                             f" found {len(matched)}; the journal holds {len(every)} of its requests:\n{listed}")
