"""The pipeline's last step: one journal entry per dialect request, copying only what the journal keeps
(bodies only when journal_body_bytes > 0; the fault's summary only when a rule struck). Names no vendor."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from aiohttp import web

from ..dialects.upstream_transport import Exchange
from ..keys import REQUEST_FAULT, REQUEST_TENANT
from . import exchanges
from .faultstep import read_body
from .journal import Body, Headers, Journal, JournalEntry
from .redact import redact_query

KEY_CAP = 255  # the longest idempotency key a vendor accepts; a longer one is refused there, and kept no longer
NO_BODY = Body(b"", 0)


async def record(
    journal: Journal, request: web.Request, ledger_time: datetime, dialect: str,
    response: web.StreamResponse | None, outcome: str, started: float, forwarded: list[Exchange], request_id: str,
) -> None:
    fault = request.get(REQUEST_FAULT)
    if fault is not None:
        outcome = fault["outcome"]
        fault = {k: v for k, v in fault.items() if k != "outcome"}
    tenant = request.get(REQUEST_TENANT)
    limit = journal.body_bytes
    request_body = response_body = NO_BODY
    if limit:
        request_body = Body.copy(await read_body(request), limit, request.headers.get("Content-Type", ""))
        sent = getattr(response, "body", None) if response is not None else None
        response_body = Body.copy(
            sent if isinstance(sent, bytes) else None, limit,
            response.headers.get("Content-Type", "") if response is not None else "",
        )
    query = request.query_string
    journal.add(JournalEntry(
        id=journal.next_id(),
        at=datetime.now(timezone.utc),
        ledger_time=ledger_time,
        dialect=dialect,
        method=request.method,
        path=request.path,
        query=redact_query(query) if query else "",
        tenant=None if tenant is None else tenant.name,
        status=_status(outcome, response),
        duration_ms=(time.perf_counter() - started) * 1000,
        request_body=request_body,
        response_body=response_body,
        outcome=outcome,
        fault=fault,
        upstream=exchanges.journal_json(forwarded, limit) if forwarded else [],
        request_id=request_id,
        idempotency_key=_capped_key(request.headers.get("x-idempotency-key")),
        request_headers=Headers(request.headers),
        response_headers=Headers(response.headers if response is not None else ()),
    ))


def _capped_key(key: str | None) -> str | None:
    return key if key is None or len(key) <= KEY_CAP else key[:KEY_CAP] + "…"


def _status(outcome: str, response: web.StreamResponse | None) -> int | None:
    """What the client saw: nothing at all for an empty reply or a dropped connection."""
    if outcome in ("empty_reply", "dropped"):
        return None
    if outcome == "error" or response is None:
        return 500
    return response.status
