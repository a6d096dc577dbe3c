"""One port per tenant: built from the declaration through the registered dialect's connect, kept while
the declaration stays, rebuilt (and the old one closed) when it changes; reads retried on failures and
timeouts, `upstream_read_retries` more times, writes never; statistics and their percentiles. The last
test shows the retries against a real vendor process answering 503 twice."""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.dialects.upstream_transport import Exchange, Transport
from gateway.ledger import (
    Applied,
    Asset,
    Direction,
    Forward,
    Member,
    RemoteMember,
    Tenant,
    UpstreamFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
)
from gateway.upstream import ports as ports_module
from gateway.upstream.declaration import UpstreamDialect
from gateway.upstream.ports import Ports, RetriedReads
from gateway.upstream.record import Recorder
from gateway.upstream.stats import Stats, UpstreamStats
from tests.upstream.servers import call, imonggo_auth, shop, start_gateway, start_vendor

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Flaky:
    """A port whose reads fail `failures` times first (with `error`), then answer."""

    name, settles, lists_members = "the fake upstream", True, True

    def __init__(self, failures: int, error: type[Exception] = UpstreamFailed) -> None:
        self.failures, self.error, self.calls, self.closed = failures, error, 0, False

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("it failed", sent=True)

    def member_ref(self, member: Member) -> str:
        return str(member.customer_no)

    async def balance(self, member: str, asset: Asset) -> Decimal:
        self._maybe_fail()
        return Decimal("12.50")

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        self._maybe_fail()
        return {Asset.POINTS: Decimal("12.50"), Asset.CASHBACK: Decimal("0"), Asset.MILES: Decimal("1")}

    async def apply(self, forward: Forward) -> Applied:
        self._maybe_fail()
        return Applied()

    async def settle(self, forward: Forward) -> Applied | None:
        self._maybe_fail()
        return None

    async def members(self) -> AsyncIterator[RemoteMember]:
        yield RemoteMember("a")
        self._maybe_fail()
        yield RemoteMember("b")

    async def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports_module, "RETRY_PAUSE", 0.0)


async def test_a_read_is_sent_again_up_to_the_retries_then_fails() -> None:
    assert await RetriedReads(Flaky(2), retries=2).balance("1", Asset.POINTS) == Decimal("12.50")
    with pytest.raises(UpstreamTimeout):
        await RetriedReads(Flaky(3, UpstreamTimeout), retries=2).balance("1", Asset.POINTS)
    limited = Flaky(1, UpstreamRateLimited)
    with pytest.raises(UpstreamRateLimited):  # the upstream asked to slow down: not retried
        await RetriedReads(limited, retries=2).balance("1", Asset.POINTS)
    assert limited.calls == 1


async def test_a_read_of_all_balances_is_sent_again_up_to_the_retries_then_fails() -> None:
    flaky = Flaky(2)
    assert (await RetriedReads(flaky, retries=2).balances("1"))[Asset.MILES] == Decimal("1")
    assert flaky.calls == 3
    with pytest.raises(UpstreamTimeout):
        await RetriedReads(Flaky(3, UpstreamTimeout), retries=2).balances("1")
    limited = Flaky(1, UpstreamRateLimited)
    with pytest.raises(UpstreamRateLimited):
        await RetriedReads(limited, retries=2).balances("1")
    assert limited.calls == 1  # a rate limit is not a failure to retry at once


async def test_a_write_or_a_settling_is_never_sent_again_by_the_port() -> None:
    write = Forward(key="k", member="1", direction=Direction.DEBIT, asset=Asset.POINTS, points=Decimal("1"))
    flaky = Flaky(1)
    with pytest.raises(UpstreamFailed):
        await RetriedReads(flaky, retries=5).apply(write)
    with pytest.raises(UpstreamFailed):
        await RetriedReads(Flaky(1), retries=5).settle(write)
    assert flaky.calls == 1


async def test_a_member_listing_that_fails_midway_starts_again_without_giving_anyone_twice() -> None:
    assert [r.ref async for r in RetriedReads(Flaky(1), retries=1).members()] == ["a", "b"]


def tenant(declared: Mapping[str, Any], tenant_id: int = 1) -> Tenant:
    return Tenant(id=tenant_id, name="shop", config={"upstream": dict(declared)}, credentials=(), created_at=NOW)


async def test_a_port_is_kept_while_the_declaration_stays_and_rebuilt_when_it_changes(tmp_path: Path) -> None:
    built: list[tuple[Transport, dict[str, str], Flaky]] = []

    def connect(transport: Transport, credentials: Mapping[str, str]) -> Any:
        built.append((transport, dict(credentials), Flaky(0)))
        return built[-1][2]

    ports = Ports({"fake": UpstreamDialect("fake", connect, ("api_token",), "flat")}, timeout=1.5, retries=3,
                  pool_size=4, stats=Stats(), recorder=Recorder(tmp_path))
    await ports.start()
    try:
        declared = {"dialect": "fake", "base_url": "http://up.example", "credentials": {"api_token": "t"}, "record": False}
        first = ports.resolve(tenant(declared))
        assert first is ports.resolve(tenant(declared)) and len(built) == 1
        transport, credentials, _ = built[0]
        assert (transport.base_url, transport.timeout, credentials) == ("http://up.example", 1.5, {"api_token": "t"})
        assert transport.label == "the fake upstream at http://up.example"
        assert isinstance(first, RetriedReads) and first.retries == 3

        second = ports.resolve(tenant({**declared, "base_url": "http://other.example"}))
        assert second is not first and len(built) == 2
        assert ports.resolve(Tenant(id=1, name="shop", config={}, credentials=(), created_at=NOW)) is None
        await ports.close()
        assert built[0][2].closed and built[1][2].closed
    finally:
        await ports.close()


def exchange(status: int | None, ms: float, error: str | None = None) -> Exchange:
    return Exchange("GET", "http://up/x", status, ms, {}, "", {}, "", error=error)


def test_statistics_count_errors_and_keep_percentiles_over_a_window() -> None:
    stats = UpstreamStats()
    assert stats.as_json() == {"reachable": None, "calls": 0, "errors": 0, "last_error": None,
                               "latency_ms": {"p50": None, "p95": None, "p99": None}}
    for ms in range(1, 101):
        stats.add(exchange(200, float(ms)))
    stats.add(exchange(422, 1.0))  # the upstream's answer to a client's request: no error
    assert (stats.calls, stats.errors, stats.reachable) == (101, 0, True)
    stats.add(exchange(503, 1.0))
    stats.add(exchange(None, 2000.0, error="no answer within 2 s"))
    assert (stats.errors, stats.reachable) == (2, False)
    assert stats.last_error == "GET http://up/x: no answer within 2 s"
    assert stats.percentiles() == {"p50": 50.0, "p95": 96.0, "p99": 100.0}  # nearest rank of 103 calls
    for _ in range(2000):
        stats.add(exchange(200, 7.0))
    assert stats.percentiles() == {"p50": 7.0, "p95": 7.0, "p99": 7.0}  # older calls left the window


@pytest.mark.slow
async def test_a_balance_read_survives_two_failed_answers_and_not_three(tmp_path: Path) -> None:
    vendor = start_vendor(tmp_path / "vendor")
    gateway = start_gateway(tmp_path / "gateway", [shop("imonggo", vendor.url)], "--upstream-read-retries", "2")
    try:
        customer = f"{gateway.url}/api/customers/1534.xml"
        for failures, answered in ((2, 200), (3, 502)):
            rule = {"effect": "status", "status": 503, "dialect": "imonggo", "path": "/api/customers/*", "times": failures}
            assert (await call("POST", f"{vendor.url}/__admin/faults", json=rule))[0] == 201
            status, _, text = await call("GET", customer, headers=imonggo_auth())
            assert status == answered, text
            assert (await call("DELETE", f"{vendor.url}/__admin/faults"))[0] == 200
        _, requests, _ = await call("GET", f"{gateway.url}/__admin/requests", params={"path": "/api/customers/1534.xml"})
        failed, survived = requests["requests"]
        assert [x["status"] for x in survived["upstream"]] == [503, 503, 200]
        assert [x["status"] for x in failed["upstream"]] == [503, 503, 503]
    finally:
        gateway.stop()
        vendor.stop()
