"""The admin API as a test calls it: one client on the server's loop (a refusal raised as AdminError with
the server's own message), fault rules that remove themselves at the end of a `with` block, and the
ledger's clock frozen, advanced and put back. Everything goes through the documented /__admin routes."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import TracebackType
from typing import Any

import aiohttp

from ..contracts.cases import json_bytes
from .loop import LoopThread


class AdminError(Exception):
    """The admin API refused a call: `status` and the server's `message`, both in str()."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} /__admin{path} answered {status}: {message}")
        self.method, self.path, self.status, self.message = method, path, status, message


class AdminClient:
    """JSON calls to /__admin, made on the server's loop; `call` waits for one, `call_async` awaits it."""

    def __init__(self, loop: LoopThread, base_url: str) -> None:
        self.loop = loop
        self.url = base_url + "/__admin"
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30),
                                              cookie_jar=aiohttp.DummyCookieJar())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(self, method: str, path: str, *, json_body: Any = None,
                      params: Mapping[str, Any] | None = None) -> Any:
        assert self._session is not None, "the admin client is not open"
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        data = None if json_body is None else json_bytes(json_body)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        async with self._session.request(method, self.url + path, data=data, params=query, headers=headers) as answer:
            body = await answer.read()
        try:
            found = json.loads(body, parse_float=Decimal) if body else None
        except ValueError:
            found = None
        if answer.status >= 400:
            error = found.get("error") if isinstance(found, dict) else None
            message = error.get("message") if isinstance(error, dict) else body.decode("utf-8", "replace").strip()
            raise AdminError(method, path, answer.status, str(message))
        return found

    def call(self, method: str, path: str, *, json_body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        return self.loop.run(self.request(method, path, json_body=json_body, params=params))

    async def call_async(self, method: str, path: str, *, json_body: Any = None,
                         params: Mapping[str, Any] | None = None) -> Any:
        return await self.loop.run_async(self.request(method, path, json_body=json_body, params=params))


class Changes:
    """What a test changed through these helpers (fault rules added, clock moves), so the plugin, after each test,
    can put the server back as the next test expects it: `mark()` before, `undo(mark)` after."""

    def __init__(self) -> None:
        self.faults: list[str] = []
        self.clock_moves = 0  # every freeze, advance or reset; also tells cached tokens they may have expired

    def mark(self) -> tuple[int, int]:
        return len(self.faults), self.clock_moves


class Fault:
    """One fault rule on the server. As a context manager, the rule is removed when the block ends."""

    def __init__(self, client: AdminClient, rule: Mapping[str, Any]) -> None:
        self._client = client
        self.rule = dict(rule)
        self.id: str = str(rule["id"])

    def __repr__(self) -> str:
        return f"Fault({self.rule!r})"

    def refresh(self) -> dict[str, Any]:
        """The rule as the server has it now (with "matched", "hits", "exhausted")."""
        for rule in self._client.call("GET", "/faults")["faults"]:
            if rule["id"] == self.id:
                self.rule = dict(rule)
                return self.rule
        raise LookupError(f"fault rule {self.id} is no longer on the server")

    @property
    def hits(self) -> int:
        """How many requests it has disturbed so far."""
        return int(self.refresh()["hits"])

    def remove(self) -> None:
        """Remove the rule (again is fine: a rule already gone stays gone)."""
        try:
            self._client.call("DELETE", f"/faults/{self.id}")
        except AdminError as exc:
            if exc.status != 404:
                raise

    def __enter__(self) -> Fault:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.remove()


class Faults:
    """POST /__admin/faults and friends. `add(...)` takes the rule's fields (effect, status, dialect, method,
    path, times, when, probability, latency_ms ...) as keywords or one mapping; the rule is live at once."""

    def __init__(self, client: AdminClient, changes: Changes, defaults: Mapping[str, Any] | None = None) -> None:
        self._client, self._changes, self._defaults = client, changes, dict(defaults or {})

    def add(self, rule: Mapping[str, Any] | None = None, /, **fields: Any) -> Fault:
        made = self._client.call("POST", "/faults", json_body={**self._defaults, **(rule or {}), **fields})
        self._changes.faults.append(str(made["id"]))
        return Fault(self._client, made)

    def list(self) -> list[dict[str, Any]]:
        """Every rule on the server (of every tenant), with its counts."""
        rules: list[dict[str, Any]] = self._client.call("GET", "/faults")["faults"]
        if "tenant" in self._defaults:
            rules = [r for r in rules if r.get("tenant") == self._defaults["tenant"]]
        return rules

    def clear(self) -> int:
        """Remove every rule (this tenant's only, for a tenant's faults); how many went."""
        if "tenant" not in self._defaults:
            return int(self._client.call("DELETE", "/faults")["removed"])
        rules = self.list()
        for rule in rules:
            Fault(self._client, rule).remove()
        return len(rules)


def _utc(moment: datetime | str) -> str:
    if isinstance(moment, str):
        return moment  # the server reads it and says what is wrong with it
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no timezone: give an aware datetime (e.g. tzinfo=timezone.utc)")
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ClockChange:
    """The clock after a freeze or an advance: `.now`; as a context manager, real time comes back at the end."""

    def __init__(self, clock: Clock, state: Mapping[str, Any]) -> None:
        self._clock = clock
        self.now = _instant(str(state["now"]))
        self.frozen = state.get("frozen_at") is not None

    def __enter__(self) -> ClockChange:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._clock.reset()


class Clock:
    """The ledger's clock (one per server: entry dates, token expiry, webhook schedules)."""

    def __init__(self, client: AdminClient, changes: Changes) -> None:
        self._client, self._changes = client, changes

    def now(self) -> datetime:
        """The time the ledger sees now."""
        return _instant(str(self._client.call("GET", "/clock")["now"]))

    def freeze(self, at: datetime | str | None = None) -> ClockChange:
        """Stop the ledger's time at `at` (an aware datetime or ISO 8601 text; default: now)."""
        when = _utc(at) if at is not None else _utc(self.now())
        self._changes.clock_moves += 1
        return ClockChange(self, self._client.call("PUT", "/clock", json_body={"frozen_at": when}))

    def advance(self, delta: timedelta | None = None, *, days: float = 0, hours: float = 0, minutes: float = 0,
                seconds: float = 0) -> ClockChange:
        """Move the ledger's time forward (a frozen clock stays frozen, at the later time)."""
        step = (delta or timedelta(0)) + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
        state = self._client.call("GET", "/clock")
        self._changes.clock_moves += 1
        if state["frozen_at"] is not None:
            later = _utc(_instant(str(state["frozen_at"])) + step)
            return ClockChange(self, self._client.call("PUT", "/clock", json_body={"frozen_at": later}))
        offset = Decimal(str(state["offset_seconds"])) + Decimal(str(step.total_seconds()))
        return ClockChange(self, self._client.call("PUT", "/clock", json_body={"offset_seconds": offset}))

    def reset(self) -> datetime:
        """Back to real time; the time it is now."""
        self._changes.clock_moves += 1
        return _instant(str(self._client.call("DELETE", "/clock")["now"]))
