"""Shadow runs over real processes: a gateway whose tenant keeps its points at a primary vendor sandbox and
names a SECOND vendor sandbox process as its shadow. Every movement a client makes through the gateway
(a spend, credits and debits, an order and its void) lands at the shadow exactly once, in the order the primary
applied it, whatever the shadow's faults (at a shadow that cannot be asked, a write whose answer was lost is
left unclear rather than sent twice); the client's answers are the ones it gets without a shadow."""
from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import process
from tests.gateway_mode.dialects import call
from tests.gateway_mode.harness import HANDED_OUT, JOHNSON, JUAN, START
from tests.upstream.shadow_runs import WRITE_PATHS, ShadowRun, make_run, ok, printed, start_gateway, start_vendor

pytestmark = pytest.mark.slow
PAIRS = [pytest.param("pomelo", "memberpoints", id="pomelo-shadowed-at-memberpoints"),
         pytest.param("memberpoints", "pomelo", id="memberpoints-shadowed-at-pomelo")]


@pytest.fixture(scope="module")
def primary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    server = start_vendor(tmp_path_factory.mktemp("primary"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shadow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    server = start_vendor(tmp_path_factory.mktemp("shadow"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    workdir = tmp_path_factory.mktemp("gateway")
    server = start_gateway(workdir, f"sqlite:///{workdir / 'gateway.db'}")
    server.database = f"sqlite:///{workdir / 'gateway.db'}"  # type: ignore[attr-defined]
    yield server
    server.stop()
    printed = getattr(server, "printed", "") + server.output
    leaked = [secret for secret in HANDED_OUT if secret in printed]  # the shadows' secrets among them
    assert printed and not leaked, f"the gateway's log shows {len(leaked)} upstream secret(s)"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as opened:
        yield opened


async def run_for(session: aiohttp.ClientSession, gateway: process.Server, primary: process.Server,
                  shadow: process.Server, primary_dialect: str, shadow_dialect: str) -> ShadowRun:
    return await make_run(session, gateway.url, gateway.database, primary.url, primary_dialect,  # type: ignore[attr-defined]
                          shadow.url, shadow_dialect)


def signed(entry: dict[str, Any]) -> Decimal:
    """An entry at the shadow as the points it moved (a debit negative)."""
    return Decimal(entry["amount"])


async def mixed_movements(run: ShadowRun) -> Decimal:
    """A spend and an order with its void through the Imonggo client, a credit and a debit through the
    memberpoints one; each answered as usual. Returns the net points moved (5 movements)."""
    imonggo, memberpoints = run.till("imonggo"), run.till("memberpoints")
    spent = ok(await imonggo.spend(JUAN, Decimal("2.00"), reference="SPEND-1"))  # 2.00 at 200 points each
    assert spent.xml().findtext("points-available") is not None
    invoice = ok(await imonggo.credit(JUAN, Decimal("20")))  # an order earning 20 points
    ok(await call(run.session, "DELETE", f"{run.pair.gateway_url}/api/invoices/{invoice.xml().findtext('id')}.xml",
                  headers=imonggo.auth))
    ok(await memberpoints.credit(JUAN, Decimal("50")))
    ok(await memberpoints.debit(JUAN, Decimal("20")))
    return Decimal("-400") + 20 - 20 + 50 - 20


@pytest.mark.parametrize(("primary_dialect", "shadow_dialect"), PAIRS)
async def test_every_movement_through_the_gateway_lands_at_the_shadow_exactly_once(
    session: aiohttp.ClientSession, gateway: process.Server, primary: process.Server, shadow: process.Server,
    primary_dialect: str, shadow_dialect: str,
) -> None:
    run = await run_for(session, gateway, primary, shadow, primary_dialect, shadow_dialect)
    before = len(await run.shadow_entries(JUAN))
    net = await mixed_movements(run)
    counts = await run.settled(5)
    assert {k: counts[k] for k in ("pending", "delivered", "refused", "failed")} == {
        "pending": 0, "delivered": 5, "refused": 0, "failed": 0}
    assert (counts["dialect"], counts["base_url"], counts["lag_seconds"]) == (shadow_dialect, shadow.url, 0.0)
    assert await run.shadow_points(JUAN) == START[JUAN] + net == await run.pair.vendor_points(JUAN)
    landed = (await run.shadow_entries(JUAN))[before:]
    assert [signed(e) for e in landed] == [-400, 20, -20, 50, -20]  # one movement each, none twice, in the order applied
    deliveries = await run.deliveries()
    assert [(d.state, d.attempts, d.outcome["state"]) for d in deliveries] == [("delivered", 1, "applied")] * 5  # type: ignore[index]


async def test_a_shadow_that_fails_drops_or_is_slow_still_gets_each_write_exactly_once(
    session: aiohttp.ClientSession, gateway: process.Server, primary: process.Server, shadow: process.Server,
) -> None:
    run = await run_for(session, gateway, primary, shadow, "pomelo", "memberpoints")
    till, before = run.till("memberpoints"), len(await run.shadow_entries(JUAN))
    path = WRITE_PATHS["memberpoints"]
    faults = [{"effect": "status", "status": 503, "method": "POST", "path": path, "times": 1},
              {"effect": "drop", "when": "after", "method": "POST", "path": path, "times": 1},  # applied, answer lost
              {"effect": "latency", "when": "after", "latency_ms": 2500, "method": "POST", "path": path, "times": 1}]
    for n, fault in enumerate(faults, start=1):
        await run.shadow_fault(**fault)
        ok(await till.credit(JUAN, Decimal("10")))  # answered as usual, whatever the shadow does
        await run.settled(n)
    assert await run.shadow_points(JUAN) == START[JUAN] + 30 == await run.pair.vendor_points(JUAN)
    assert len(await run.shadow_entries(JUAN)) == before + 3
    assert [(d.state, d.attempts > 1) for d in await run.deliveries()] == [("delivered", True)] * 3  # each retried


async def test_refusals_at_the_shadow_are_recorded_with_their_code_and_the_client_is_answered_as_usual(
    session: aiohttp.ClientSession, gateway: process.Server, primary: process.Server, shadow: process.Server,
) -> None:
    run = await run_for(session, gateway, primary, shadow, "pomelo", "memberpoints")
    till = run.till("memberpoints")
    ok(await run.at_shadow.debit(JUAN, START[JUAN] - Decimal("100")))  # the shadow holds less for Juan
    credited = ok(await till.credit(JOHNSON, Decimal("5")))  # Johnson is unknown at the shadow
    debited = ok(await till.debit(JUAN, Decimal("500")))  # more than the shadow holds
    ok(await till.credit(JUAN, Decimal("7")))
    counts = await run.settled(3)
    assert (counts["delivered"], counts["refused"]) == (1, 2)
    assert credited.status == debited.status == 200
    assert await run.pair.vendor_points(JUAN) == START[JUAN] - 500 + 7
    assert await run.shadow_points(JUAN) == 100 + 7
    johnson, juan_debit, juan_credit = await run.deliveries()
    assert (johnson.state, johnson.outcome["code"], johnson.outcome["shadow_member"]) == (  # type: ignore[index]
        "refused", "unknown_member", str(JOHNSON.mbr_id))
    assert (juan_debit.state, juan_debit.outcome["code"], juan_debit.attempts) == ("refused", "insufficient_funds", 1)  # type: ignore[index]
    assert (juan_credit.state, juan_credit.outcome["state"]) == ("delivered", "applied")  # type: ignore[index]
    assert f"shadow write {johnson.key} for member {JOHNSON.mbr_id} refused: unknown_member" in printed(gateway)


async def test_at_a_shadow_that_cannot_be_asked_movements_land_once_and_a_lost_answer_ends_unclear_not_doubled(
    session: aiohttp.ClientSession, gateway: process.Server, primary: process.Server, shadow: process.Server,
) -> None:
    run = await run_for(session, gateway, primary, shadow, "pomelo", "imonggo")  # imonggo keeps no write keys
    imonggo, memberpoints = run.till("imonggo"), run.till("memberpoints")
    before = len(await run.shadow_entries(JUAN))
    ok(await imonggo.spend(JUAN, Decimal("2.00"), reference="SPEND-1"))  # 400 points
    ok(await memberpoints.debit(JUAN, Decimal("20")))  # a spend of 0.10 there
    counts = await run.settled(2)
    assert (counts["delivered"], counts["refused"], counts["failed"]) == (2, 0, 0)
    assert [signed(e) for e in (await run.shadow_entries(JUAN))[before:]] == [-400, -20]
    await run.shadow_fault(effect="drop", when="after", method="POST", path=WRITE_PATHS["imonggo"], times=1)
    ok(await memberpoints.debit(JUAN, Decimal("40")))  # applied at the shadow, its answer lost
    counts = await run.settled(3)
    assert (counts["delivered"], counts["refused"]) == (2, 1)
    *_, lost = await run.deliveries()
    assert (lost.state, lost.outcome["state"], lost.outcome["code"]) == ("refused", "unclear", "shadow_unclear")  # type: ignore[index]
    assert [signed(e) for e in (await run.shadow_entries(JUAN))[before:]] == [-400, -20, -40]  # once, never again
    assert await run.shadow_points(JUAN) == START[JUAN] - 460 == await run.pair.vendor_points(JUAN)
