"""Real processes for the shadow-run tests: a primary vendor sandbox, a SECOND vendor sandbox process as the
shadow, and a gateway whose tenant declares both (built on the gateway-mode harness). Helpers read the
shadow's side (its balance, its entries, its fault rules) and the gateway's shadow deliveries."""
from __future__ import annotations

import asyncio
import queue
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from gateway.ledger import Delivery, Ledger, open_store
from gateway.upstream.shadow import CHANNEL
from tests import process
from tests.gateway_mode.dialects import Answer, Person, call, client
from tests.gateway_mode.harness import (
    HANDED_OUT,
    SECRET_NAMES,
    Pair,
    declare_gateway_tenant,
    gateway_scenario,
    new_vendor_tenant,
    upstream_credentials,
)

SHADOW_FLAGS = ("--shadow-retry-base-seconds", "0.2", "--shadow-max-attempts", "10")
WRITE_PATHS = {"pomelo": "/loyalty/v1/accounts/points/*", "memberpoints": "/webapps/api/memberpoints",
               "imonggo": "/api/*"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_vendor(workdir: Path, port: int = 0) -> process.Server:
    """A vendor sandbox on the demo scenario over its own SQLite file (a restart on the same port and folder
    keeps its tenants)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return process.start(["--port", str(port), "--database", f"sqlite:///{workdir / 'vendor.db'}",
                          "--access-log", "false"], workdir)


def start_gateway(workdir: Path, database: str, *, timeout: float = 1.0) -> process.Server:
    workdir.mkdir(parents=True, exist_ok=True)
    return process.start(["--port", "0", "--database", database, "--scenario", "none",
                          "--upstream-timeout-seconds", str(timeout), *SHADOW_FLAGS], workdir)


@dataclass
class ShadowRun:
    """A gateway tenant whose points live at `primary`'s vendor tenant and whose writes are shadowed at
    `shadow`'s (a tenant of the second vendor process)."""

    pair: Pair
    shadow: str
    shadow_url: str
    shadow_tenant: str
    shadow_credentials: dict[str, Any]
    database: str

    @property
    def session(self) -> aiohttp.ClientSession:
        return self.pair.session

    def till(self, dialect: str) -> Any:
        """A client of the gateway speaking `dialect`, with the gateway tenant's own credentials."""
        return client(dialect, self.session, self.pair.gateway_url, self.pair.gateway_credentials)

    @property
    def at_shadow(self) -> Any:
        return client(self.shadow, self.session, self.shadow_url, self.shadow_credentials)

    async def shadow_points(self, person: Person) -> Any:
        return self.at_shadow.points(await self.at_shadow.balance(person))

    async def shadow_fault(self, **rule: Any) -> dict[str, Any]:
        answer = await call(self.session, "POST", f"{self.shadow_url}/__admin/faults",
                            json={"tenant": self.shadow_tenant, "dialect": self.shadow, **rule})
        assert answer.status in (200, 201), answer
        return answer.json()  # type: ignore[no-any-return]

    async def shadow_entries(self, person: Person) -> list[dict[str, Any]]:
        params = {"tenant": self.shadow_tenant, "member": str(person.customer_id), "limit": "1000"}
        answer = await call(self.session, "GET", f"{self.shadow_url}/__admin/entries", params=params)
        assert answer.status == 200, answer
        return list(answer.json()["entries"])

    async def row(self) -> dict[str, Any]:
        """The gateway's GET /__admin/upstream row of this tenant."""
        answer = await call(self.session, "GET", f"{self.pair.gateway_url}/__admin/upstream")
        assert answer.status == 200, answer
        (found,) = [r for r in answer.json()["upstreams"] if r["tenant"] == self.pair.gateway_tenant]
        return found  # type: ignore[no-any-return]

    async def settled(self, total: int, seconds: float = 60.0) -> dict[str, Any]:
        """Wait until `total` shadow writes are settled (none pending); the row's shadow counts."""
        shadow: dict[str, Any] = {}
        for _ in range(int(seconds / 0.1)):
            shadow = (await self.row())["shadow"]
            if shadow["pending"] == 0 and shadow["delivered"] + shadow["refused"] + shadow["failed"] >= total:
                return shadow
            await asyncio.sleep(0.1)
        raise AssertionError(f"the shadow writes never settled: {shadow}")

    async def deliveries(self) -> list[Delivery]:
        """The gateway's shadow deliveries for this tenant, oldest first, read from its store."""
        async with opened(self.database) as ledger:
            tenant = await ledger.tenant(self.pair.gateway_tenant)
            return await ledger.deliveries(tenant=tenant, channel=CHANNEL, limit=1000)


@asynccontextmanager
async def opened(database: str) -> AsyncIterator[Ledger]:
    ledger = Ledger(open_store(database))
    await ledger.start()
    try:
        yield ledger
    finally:
        await ledger.close()


async def make_run(session: aiohttp.ClientSession, gateway_url: str, database: str, primary_url: str, primary: str,
                   shadow_url: str, shadow: str, client_dialect: str = "memberpoints") -> ShadowRun:
    """Fresh vendor tenants at both vendors, and a gateway tenant with its points at the primary's and its
    writes shadowed at the shadow's."""
    primary_name, primary_credentials = await new_vendor_tenant(session, primary_url)
    shadow_name, shadow_credentials = await new_vendor_tenant(session, shadow_url)
    given = upstream_credentials(primary, primary_credentials)
    shadow_given = upstream_credentials(shadow, shadow_credentials)
    HANDED_OUT.extend(v for k, v in {**given, **shadow_given}.items() if k in SECRET_NAMES)
    scenario = gateway_scenario(primary, primary_url, given)
    scenario["tenants"][0]["upstream"]["shadow"] = {"dialect": shadow, "base_url": shadow_url, "credentials": shadow_given}
    name, answer = await declare_gateway_tenant(session, gateway_url, scenario)
    assert answer.status == 201, answer
    pair = Pair(client_dialect, primary, session, gateway_url, primary_url, name, primary_name, answer.json(),
                primary_credentials, declared=scenario)
    return ShadowRun(pair, shadow, shadow_url, shadow_name, shadow_credentials, database)


def printed(server: process.Server) -> str:
    """What the running server has printed so far (kept on it, since reading its lines takes them)."""
    seen: list[str] = [getattr(server, "printed", "")]
    while server.lines is not None:
        try:
            line = server.lines.get_nowait()
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
    server.printed = "".join(seen)  # type: ignore[attr-defined]
    return server.printed  # type: ignore[attr-defined,no-any-return]


def ok(answer: Answer) -> Answer:
    assert answer.status in (200, 201), answer
    return answer
