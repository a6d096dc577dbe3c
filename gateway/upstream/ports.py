"""One upstream port per tenant (and one per declared shadow), built from its declaration through the
registered dialect's connect over one shared ClientSession (the process's pool), cached until the
declaration changes. Every exchange goes to the statistics and the server's metrics, and a primary's to the current request's
journal entry and, in record mode, the recorder (a shadow's to neither); reads are retried on failures
and timeouts. Names no vendor."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp

from ..dialects.upstream_transport import Exchange, Transport
from ..ledger import (
    Applied,
    Asset,
    Forward,
    Member,
    RemoteMember,
    Tenant,
    Upstream,
    UpstreamFailed,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from ..metrics import ServerMetrics
from ..sandbox import exchanges
from .declaration import SECTION, SHADOW, UpstreamDialect, secrets_of
from .record import Recorder
from .stats import Stats

log = logging.getLogger("gateway.upstream")
RETRY_PAUSE = 0.1  # seconds before the first retry of a read; doubled for each further one
T = TypeVar("T")


class RetriedReads:
    """A port whose reads (balance, balances, the member listing) are sent again on UpstreamFailed/UpstreamTimeout,
    `retries` more times. Writes and settling pass straight through: the ledger decides about those."""

    def __init__(self, port: Upstream, retries: int) -> None:
        self.port = port
        self.retries = retries
        self.name = port.name
        self.settles = port.settles
        self.lists_members = port.lists_members

    def member_ref(self, member: Member) -> str:
        return self.port.member_ref(member)

    async def balance(self, member: str, asset: Asset) -> Decimal:
        return await self._retried(lambda: self.port.balance(member, asset))

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        return await self._retried(lambda: self.port.balances(member))

    async def _retried(self, read: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return await read()
            except (UpstreamFailed, UpstreamTimeout):
                if attempt == self.retries:
                    raise
                await asyncio.sleep(RETRY_PAUSE * 2**attempt)
        raise AssertionError("unreachable")

    async def apply(self, forward: Forward) -> Applied:
        return await self.port.apply(forward)

    async def settle(self, forward: Forward) -> Applied | None:
        return await self.port.settle(forward)

    async def members(self) -> AsyncIterator[RemoteMember]:
        """The upstream's members; a listing that fails midway starts again, skipping those already given."""
        given: set[str] = set()
        for attempt in range(self.retries + 1):
            try:
                async for remote in self.port.members():
                    if remote.ref not in given:
                        given.add(remote.ref)
                        yield remote
                return
            except (UpstreamFailed, UpstreamTimeout):
                if attempt == self.retries:
                    raise
                await asyncio.sleep(RETRY_PAUSE * 2**attempt)

    async def close(self) -> None:
        await self.port.close()


@dataclass
class Built:
    declaration: Mapping[str, Any]
    dialect: UpstreamDialect
    port: RetriedReads


class Ports:
    """The ports of every upstream tenant of this process; `resolve` is what the ledger is bound to."""

    def __init__(self, dialects: Mapping[str, UpstreamDialect], *, timeout: float, retries: int, pool_size: int,
                 stats: Stats, recorder: Recorder, metrics: ServerMetrics | None = None) -> None:
        self.dialects = dict(dialects)
        self.metrics = metrics if metrics is not None else ServerMetrics()
        self.timeout = timeout
        self.retries = retries
        self.pool_size = pool_size
        self.stats = stats
        self.recorder = recorder
        self._session: aiohttp.ClientSession | None = None
        self._built: dict[int, Built] = {}
        self._shadows: dict[int, Built] = {}
        self._closing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.pool_size))

    async def close(self) -> None:
        for built in [*self._built.values(), *self._shadows.values()]:
            with contextlib.suppress(Exception):
                await built.port.close()
        self._built.clear()
        self._shadows.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def resolve(self, tenant: Tenant) -> Upstream | None:
        """The tenant's port, built on first use and again whenever its declaration changed; None for a
        tenant whose points are kept here."""
        declared = tenant.section(SECTION)
        built = self._built.get(tenant.id)
        if not declared:
            if built is not None:
                self._retire(tenant.id)
            return None
        if built is not None and built.declaration == declared:
            return built.port
        if built is not None:
            self._retire(tenant.id)
        return self._build(tenant, declared).port

    def resolve_shadow(self, tenant: Tenant) -> Upstream | None:
        """The port of the tenant's shadow upstream, built like the primary's (same pool, cached until the
        shadow's declaration changes); None when the tenant declares no shadow. Its exchanges are counted
        under shadow_stats_name(tenant), and go to no journal entry and no recording."""
        declared = tenant.section(SECTION)
        shadow = declared.get(SHADOW) if declared else None
        built = self._shadows.get(tenant.id)
        if not shadow:
            if built is not None:
                self._retire(tenant.id, self._shadows)
            return None
        if built is not None and built.declaration == shadow:
            return built.port
        if built is not None:
            self._retire(tenant.id, self._shadows)
        built = self._connect(tenant, shadow, shadow_stats_name(tenant), journal=False, record=False,
                              secrets=secrets_of(declared))
        self._shadows[tenant.id] = built
        return built.port

    def prune(self, tenant_ids: set[int]) -> None:
        """Close the ports of tenants that are gone."""
        for built in (self._built, self._shadows):
            for tenant_id in [t for t in built if t not in tenant_ids]:
                self._retire(tenant_id, built)

    def declared(self, tenant: Tenant) -> Built | None:
        """What the tenant's port was built from (None before its first use)."""
        return self._built.get(tenant.id)

    def _build(self, tenant: Tenant, declared: Mapping[str, Any]) -> Built:
        built = self._connect(tenant, declared, tenant.name, journal=True, record=bool(declared.get("record")),
                              secrets=secrets_of(declared))
        self._built[tenant.id] = built
        return built

    def _connect(self, tenant: Tenant, declared: Mapping[str, Any], name: str, *, journal: bool, record: bool,
                 secrets: list[str]) -> Built:
        dialect = self.dialects.get(str(declared.get("dialect")))
        if dialect is None or self._session is None:
            raise UpstreamUnavailable(f"the upstream of tenant {tenant.name} cannot be used: its dialect "
                                      f"{declared.get('dialect')!r} is not registered in this process", sent=False)

        def observe(exchange: Exchange) -> None:  # masked by the transport, the declaration's secrets too
            self.stats.add(name, exchange)
            self.metrics.upstream_request(dialect.name, exchange.outcome, exchange.duration_ms / 1000)
            if journal:
                exchanges.note(exchange)
            if record:
                self.recorder.record(name, dialect.name, dialect.case_format, exchange, secrets)

        base_url = str(declared["base_url"])
        transport = Transport(self._session, base_url, timeout=self.timeout, observe=observe,
                              label=f"the {dialect.name} upstream at {base_url}", secrets=secrets)
        port = RetriedReads(dialect.connect(transport, dict(declared["credentials"])), self.retries)
        self.stats.forget(name)
        log.info("tenant %s: %s", name, port.name)
        return Built(dict(declared), dialect, port)

    def _retire(self, tenant_id: int, built: dict[int, Built] | None = None) -> None:
        old = (self._built if built is None else built).pop(tenant_id)
        task = asyncio.ensure_future(old.port.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


def shadow_stats_name(tenant: Tenant) -> str:
    """The name a tenant's shadow upstream's exchanges are counted under in the statistics."""
    return f"{tenant.name} (shadow)"
