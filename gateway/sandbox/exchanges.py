"""What one client request exchanged with upstreams: the journal opens a list per request (a contextvar,
so a task the request starts shares it), each upstream port's observer appends to it, and the journal
entry lists them with bodies capped and masked as the journal's own are. Here, beside the journal, so
gateway.upstream imports the sandbox and never the other way round."""
from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar, Token
from typing import Any

from ..dialects.upstream_transport import Exchange
from .journal import Body

_CURRENT: ContextVar[list[Exchange] | None] = ContextVar("gateway.sandbox.exchanges", default=None)


def begin() -> tuple[list[Exchange], Token[list[Exchange] | None]]:
    """Start collecting this request's exchanges (a task it starts shares the list); `end` stops."""
    found: list[Exchange] = []
    return found, _CURRENT.set(found)


def end(token: Token[list[Exchange] | None]) -> None:
    _CURRENT.reset(token)


def note(exchange: Exchange) -> None:
    """Add an exchange to the current request's list; outside a request (the settler) it goes nowhere."""
    found = _CURRENT.get()
    if found is not None:
        found.append(exchange)


def journal_json(exchanges: Sequence[Exchange], body_bytes: int) -> list[dict[str, Any]]:
    """The journal's view of a request's exchanges: bodies cut at the journal's cap, secrets masked."""
    return [
        {
            "method": e.method,
            "url": e.url,
            "status": e.status,
            "request_id": e.request_id,
            "duration_ms": round(e.duration_ms, 3),
            "request_body": Body.copy(e.request_body.encode(), body_bytes, _type(e.request_headers)).as_json(),
            "response_body": Body.copy(e.response_body.encode(), body_bytes, _type(e.response_headers)).as_json(),
            "error": e.error,
        }
        for e in exchanges
    ]


def _type(headers: Any) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return str(value)
    return ""
