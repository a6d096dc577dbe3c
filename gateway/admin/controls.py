"""Admin handlers over the sandbox's controls: the request journal, fault rules, the ledger's clock and
the rate-limit emulation. They change in-memory state only; nothing here writes to the ledger."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..whole_numbers import json_whole, whole_number
from ..keys import LEDGER, SANDBOX, STATE_SETUPS
from ..ledger import InvalidArgument
from ..sandbox.faults import RuleError
from ..sandbox.journal import Filter
from ..sandbox.shared import settled  # the shared sandbox's changes reach the store
from .wire import body_of, iso, page_args, query_whole, render_error

CENTURY = 100 * 365 * 86400  # the furthest the clock may be shifted, in seconds
MAX_LIMIT = 10**9  # the largest rate limit or window: bounded so the limiter's float arithmetic cannot overflow

# -- journal -----------------------------------------------------------------------------------


def _filter(request: web.Request) -> Filter:
    q = request.query
    since = q.get("since") or None
    since_id = since_time = None
    if since is not None:
        since_id = whole_number(since)
        if since_id is None:
            since_time = _instant(since, "since")
    before = q.get("before") or None
    before_id = None if before is None or len(before) > 18 else whole_number(before)
    if before is not None and before_id is None:
        raise InvalidArgument("before must be an entry id (entries older than it)")
    status = q.get("status") or None
    if status is not None and not (len(status) == 3 and (status.isdigit() or (status[0].isdigit() and status[1:].lower() == "xx"))):
        raise InvalidArgument("status must be a code (404) or a class (4xx)")
    return Filter(
        tenant=q.get("tenant") or None, dialect=q.get("dialect") or None, path=q.get("path") or None,
        method=q.get("method") or None, status=status, since_id=since_id, since_time=since_time, before_id=before_id,
    )


def _instant(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"{name} must be an ISO 8601 time with a timezone (or, for since, an entry id)") from None
    if moment.tzinfo is None:
        raise InvalidArgument(f"{name} must carry a timezone, e.g. 2024-01-01T00:00:00Z")
    return moment.astimezone(timezone.utc)


async def list_requests(request: web.Request) -> web.Response:
    """Journal entries that match the filters, newest first."""
    journal = request.config_dict[SANDBOX].journal
    offset, limit = page_args(request, default_limit=100)
    found = list(await settled(journal.select(_filter(request))))
    return web.json_response(
        {"requests": [e.as_json() for e in found[offset:offset + limit]], "total": len(found), "journal": journal.stats()}
    )


HEARTBEAT_SECONDS = 15.0  # a comment line this often keeps proxies and the browser from closing a quiet stream
STREAM_TIMEOUT = 3600  # a stream ends after this (at most); the client reconnects with Last-Event-ID
RETRY_MS = 1000  # how soon an EventSource reconnects after a stream ends
SHARED_LOOK_SECONDS = 0.5  # a shared journal: how often a stream looks for other workers' entries in the store


async def stream_requests(request: web.Request) -> web.StreamResponse:
    """New journal entries as server-sent events (id: the entry's id, data: the entry as GET /requests lists it),
    oldest first, filtered as GET /requests filters; after Last-Event-ID or else ?since= (an entry id), else
    from now. Ends after ?timeout= seconds or when the server shuts down. Reads only entries after its cursor."""
    wanted = _filter(request)
    given = request.headers.get("Last-Event-ID", "").strip() or request.query.get("since", "")
    if given and not (given.isascii() and given.isdigit() and len(given) <= 18):
        raise InvalidArgument("since (and Last-Event-ID) must be an entry id: the stream starts after it")
    if wanted.before_id is not None:
        raise InvalidArgument("before lists older entries; a stream follows newer ones (leave it out)")
    timeout = query_whole(request, "timeout", STREAM_TIMEOUT, 0, STREAM_TIMEOUT)
    journal = request.config_dict[SANDBOX].journal
    newest = await journal.newest_id()
    cursor = min(int(given), newest) if given else newest  # a cursor past the newest: ids began again (a restart)
    wanted = Filter(tenant=wanted.tenant, dialect=wanted.dialect, path=wanted.path, method=wanted.method,
                    status=wanted.status)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    await response.prepare(request)
    try:
        await _follow(request, response, journal, wanted, cursor, timeout)
        await response.write_eof()
    except ConnectionError:  # the client went away (aiohttp's reset error is one): nothing left to say
        pass
    return response


async def _follow(request: web.Request, response: web.StreamResponse, journal: Any, wanted: Filter, cursor: int,
                  timeout: int) -> None:
    # First a "ready" event naming where the stream starts: its id is the cursor, so a client that reconnects
    # before any entry came resumes from there, not from a later "now".
    await response.write(f"retry: {RETRY_MS}\nid: {cursor}\nevent: ready\ndata: {{\"after\":{cursor}}}\n\n".encode())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet_since = loop.time()
    look = SHARED_LOOK_SECONDS if getattr(journal, "shared", None) is not None else HEARTBEAT_SECONDS
    while not journal.closing and request.transport is not None and not request.transport.is_closing():
        found, cursor = await journal.after(cursor, wanted)
        if found:
            await response.write(b"".join(_event(e.as_json()) for e in found))
            quiet_since = loop.time()
        now = loop.time()
        if now >= deadline:
            return
        if now - quiet_since >= HEARTBEAT_SECONDS:
            await response.write(b": heartbeat\n\n")
            quiet_since = now
        await journal.arrival(cursor, min(look, deadline - now, HEARTBEAT_SECONDS - (now - quiet_since)))


def _event(entry: dict[str, Any]) -> bytes:
    return f"id: {entry['id']}\nevent: request\ndata: {json.dumps(entry, separators=(',', ':'))}\n\n".encode()


def add_stream(app: web.Application) -> None:
    """The stream's route, and on shutdown every open stream ended cleanly at once (else each would hold
    the shutdown until it is cancelled, its last event half written)."""
    followed: list[Any] = []  # the journal streams follow (the sandbox is the parent app's: known at a request)

    async def follow(request: web.Request) -> web.StreamResponse:
        journal = request.config_dict[SANDBOX].journal
        if not any(j is journal for j in followed):
            followed.append(journal)
        return await stream_requests(request)

    async def end_streams(_: web.Application) -> None:
        for journal in followed:
            journal.close_streams()

    app.router.add_get("/requests/stream", follow)
    app.on_shutdown.append(end_streams)


async def clear_requests(request: web.Request) -> web.Response:
    return web.json_response({"cleared": await settled(request.config_dict[SANDBOX].journal.clear())})


async def journal_settings(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[SANDBOX].journal.stats())


async def configure_journal(request: web.Request) -> web.Response:
    """Switch the journal on or off, or change its caps (the oldest entries go if they shrink)."""
    body = await body_of(request)
    unknown = sorted(set(body) - {"enabled", "max_entries", "max_bytes"})
    if unknown:
        raise InvalidArgument(f"unknown field {unknown[0]!r}")
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise InvalidArgument("enabled must be true or false")
    sizes = {}
    for name in ("max_entries", "max_bytes"):
        value = None if body.get(name) is None else json_whole(body[name], low=1)
        if body.get(name) is not None and value is None:
            raise InvalidArgument(f"{name} must be a whole number of at least 1")
        sizes[name] = value
    journal = request.config_dict[SANDBOX].journal
    await settled(journal.configure(enabled=enabled, **sizes))
    return web.json_response(journal.stats())


# -- faults ------------------------------------------------------------------------------------


async def add_fault(request: web.Request) -> web.Response:
    body = await body_of(request)
    try:
        rule = await settled(request.config_dict[SANDBOX].faults.add(body))
    except RuleError as exc:
        raise InvalidArgument(str(exc)) from None
    return web.json_response(rule.as_json(), status=201)


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [r.as_json() for r in await settled(request.config_dict[SANDBOX].faults.rules())]})


async def clear_faults(request: web.Request) -> web.Response:
    return web.json_response({"removed": await settled(request.config_dict[SANDBOX].faults.clear())})


async def remove_fault(request: web.Request) -> web.Response:
    rule_id = request.match_info["id"]
    if not await settled(request.config_dict[SANDBOX].faults.remove(rule_id)):
        return render_error(request, 404, f"no fault rule {rule_id}", None)
    return web.json_response({"removed": 1})


# -- clock -------------------------------------------------------------------------------------


def _clock_json(request: web.Request) -> dict[str, Any]:
    clock = request.config_dict[LEDGER].clock
    state = clock.state
    frozen = state["frozen"]
    return {"now": iso(clock.now()), "frozen_at": iso(frozen) if isinstance(frozen, datetime) else None,
            "offset_seconds": state["offset_seconds"]}


async def get_clock(request: web.Request) -> web.Response:
    return web.json_response(_clock_json(request))


async def set_clock(request: web.Request) -> web.Response:
    """{"frozen_at": ISO time} stops the ledger's time there; {"offset_seconds": N} shifts real time by N."""
    body = await body_of(request)
    if set(body) not in ({"frozen_at"}, {"offset_seconds"}):
        raise InvalidArgument("give exactly one of frozen_at (ISO 8601 time) or offset_seconds (a number)")
    clock = request.config_dict[LEDGER].clock
    if "frozen_at" in body:
        if not isinstance(body["frozen_at"], str):
            raise InvalidArgument("frozen_at must be an ISO 8601 time with a timezone")
        at = _instant(body["frozen_at"], "frozen_at")
        async with request.config_dict[STATE_SETUPS]:  # after a provider state being set up, which moves it too
            await settled(clock.freeze(at))
    else:
        offset = body["offset_seconds"]
        if isinstance(offset, bool) or not isinstance(offset, (int, Decimal)):  # JSON gives no NaN or Infinity
            raise InvalidArgument("offset_seconds must be a number")
        # Compared before any conversion: float() of a huge integer overflows, abs() of a huge Decimal traps.
        if not -CENTURY <= offset <= CENTURY:
            raise InvalidArgument("offset_seconds must be within a hundred years")
        async with request.config_dict[STATE_SETUPS]:
            await settled(clock.shift(timedelta(seconds=float(offset))))
    return web.json_response(_clock_json(request))


async def reset_clock(request: web.Request) -> web.Response:
    async with request.config_dict[STATE_SETUPS]:
        await settled(request.config_dict[LEDGER].clock.reset())
    return web.json_response(_clock_json(request))


# -- rate limits -------------------------------------------------------------------------------


async def get_rate_limits(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[SANDBOX].limits.as_json())


async def set_rate_limits(request: web.Request) -> web.Response:
    """{"<dialect>": {"limit": 100, "window_seconds": 60}, ...}; null turns one off; the window defaults to
    the dialect's own (its descriptor's rate-limit answer)."""
    body = await body_of(request)
    limits = request.config_dict[SANDBOX].limits
    changes: dict[str, tuple[int, int]] = {}
    for dialect, value in body.items():
        if dialect not in limits.answers:
            raise InvalidArgument(f"unknown dialect {dialect!r}")
        if value is None:
            changes[dialect] = (0, 60)
            continue
        if not isinstance(value, dict) or set(value) - {"limit", "window_seconds"}:
            raise InvalidArgument(f"{dialect} must be null or an object with limit and window_seconds")
        limit = json_whole(value.get("limit"), low=1, high=MAX_LIMIT)
        window = json_whole(value.get("window_seconds", limits.default_window(dialect)), low=1, high=MAX_LIMIT)
        for name, number in (("limit", limit), ("window_seconds", window)):
            if number is None:
                raise InvalidArgument(f"{dialect}.{name} must be a whole number from 1 to {MAX_LIMIT}")
        changes[dialect] = (limit, window)  # type: ignore[assignment]
    for dialect, (limit, window) in changes.items():
        await settled(limits.set(dialect, limit, window))
    return web.json_response(limits.as_json())
