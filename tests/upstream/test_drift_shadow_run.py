"""The drift report over a real shadow run: a pomelo vendor sandbox as the primary, a memberpoints vendor sandbox
(a second process) as the shadow, and the gateway with tenants declaring both. The shadow holds the same
members and balances, except one member it does not know and one whose balance is smaller there. 2,000
mixed movements (credits, debits and spends through the imonggo, memberpoints and pomelo clients)
go through the gateway; once the shadow has caught up, the report names exactly those two members and
exactly the movements the shadow refused (worked out here, movement by movement), nothing else. A report
taken while the shadow is slowed shows the pending writes as in flight, never as drift."""
from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import process
from tests.gateway_mode.dialects import Imonggo, Memberpoints, Person, Pomelo
from tests.upstream.servers import SHOP_IMONGGO, SHOP_MP, SHOP_POMELO, call, shop, start_gateway

pytestmark = pytest.mark.slow
GOLD = {"id": 8, "name": "Gold", "point_to_amount_ratio": "200", "amount_per_point": "10"}
MEMBERS, PER_MEMBER = 50, 40  # 2,000 movements, one member's in order, the members' side by side
MISSING, SMALLER = 7, 13  # the members the shadow does not know / holds fewer points for
START, SMALLER_START = Decimal("100000"), Decimal("50")
VENDORS = {  # each vendor tenant's credentials, by the gateway tenant whose upstream it is
    "shop": {"pomelo": {"client_id": "demo-client-id", "client_secret": "demo-client-secret"},
             "memberpoints": {"api_id": "demo-api-id", "api_key": "demo-api-key", "cid": 1111112}},
    "calm": {"pomelo": {"client_id": "quiet-client-id", "client_secret": "quiet-client-secret"},
             "memberpoints": {"api_id": "quiet-api-id", "api_key": "quiet-api-key", "cid": 1111113}},
}
AUDIENCE = "https://api.pomelo.la"


def person(tenant: str, n: int) -> Person:
    number = (3000 if tenant == "shop" else 5000) + n
    return Person(number, number, f"usr-Drift{number:022d}", f"crd-Drift{number:022d}")


def member(p: Person, points: Decimal | None = None) -> dict[str, Any]:
    shown = {"customer_id": p.customer_id, "mbr_id": p.mbr_id, "name": f"Member {p.customer_id}",
             "user_id": p.user_id, "card_ids": [p.card_id], "customer_type_id": 8}
    return {**shown, "balances": {"points": str(points)}} if points is not None else shown


def vendor_tenant(tenant: str, count: int, *, shadow: bool) -> dict[str, Any]:
    """What a vendor holds for a gateway tenant: its members with their points; at the shadow, one member
    fewer and one with fewer points (for "shop" only)."""
    people = []
    for n in range(count):
        if shadow and tenant == "shop" and n == MISSING:
            continue
        small = shadow and tenant == "shop" and n == SMALLER
        people.append(member(person(tenant, n), SMALLER_START if small else START))
    name = "vendor" if tenant == "shop" else "quiet"
    return {"name": name, **VENDORS[tenant], "customer_types": [GOLD], "members": people}


def gateway_tenant(tenant: str, count: int, primary: str, shadow: str) -> dict[str, Any]:
    declared = shop("pomelo", primary, name=tenant, members=[member(person(tenant, n)) for n in range(count)])
    declared["upstream"]["credentials"] = {**VENDORS[tenant]["pomelo"], "audience": AUDIENCE}
    mp = VENDORS[tenant]["memberpoints"]
    declared["upstream"]["shadow"] = {"dialect": "memberpoints", "base_url": shadow,
                                      "credentials": {"api_id": mp["api_id"], "api_key": mp["api_key"]}}
    return declared


def start_vendor(folder: Path, tenants: list[dict[str, Any]]) -> process.Server:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.json").write_text(json.dumps({"tenants": tenants}), encoding="utf-8")
    return process.start(["--port", "0", "--database", f"sqlite:///{folder / 'vendor.db'}", "--access-log", "false",
                          "--scenario", str(folder / "scenario.json")], folder)


@dataclass
class Run:
    primary: process.Server
    shadow: process.Server
    gateway: process.Server


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    base = tmp_path_factory.mktemp("drift-run")
    primary = start_vendor(base / "primary", [vendor_tenant("shop", MEMBERS, shadow=False),
                                              vendor_tenant("calm", 10, shadow=False)])
    shadow = start_vendor(base / "shadow", [vendor_tenant("shop", MEMBERS, shadow=True),
                                            vendor_tenant("calm", 10, shadow=True)])
    gateway = start_gateway(base / "gateway", [gateway_tenant("shop", MEMBERS, primary.url, shadow.url),
                                               gateway_tenant("calm", 10, primary.url, shadow.url)],
                            "--shadow-retry-base-seconds", "0.2", "--log-level", "info")
    try:
        yield Run(primary, shadow, gateway)
    finally:
        gateway.stop()
        shadow.stop()
        primary.stop()


@dataclass(frozen=True)
class Move:
    client: str  # the dialect of the till that makes it
    direction: str
    points: Decimal


def moves(rng: random.Random, count: int) -> list[Move]:
    """A member's movements: mints and burns at pomelo tills, adjustments either way at memberpoints tills,
    spends (0.10 to 1.00 at 200 points a peso) at imonggo tills."""
    out = []
    for _ in range(count):
        kind = rng.choice(["pomelo", "memberpoints", "imonggo"])
        direction = "debit" if kind == "imonggo" else rng.choice(["credit", "debit"])
        out.append(Move(kind, direction, Decimal(20 * rng.randint(1, 10))))
    return out


class Tills:
    """The gateway tenant's clients in each dialect."""

    def __init__(self, session: aiohttp.ClientSession, url: str, tenant: str) -> None:
        mp = SHOP_MP if tenant == "shop" else {"api_id": f"{tenant}-id", "api_key": f"{tenant}-key"}
        po = SHOP_POMELO if tenant == "shop" else {"client_id": f"{tenant}-client", "client_secret": f"{tenant}-secret"}
        token = SHOP_IMONGGO if tenant == "shop" else f"{tenant}-imonggo"
        self.by_dialect = {"imonggo": Imonggo(session, url, {"imonggo": {"api_token": token}}),
                           "memberpoints": Memberpoints(session, url, {"memberpoints": mp}),
                           "pomelo": Pomelo(session, url, {"pomelo": po})}

    async def make(self, who: Person, move: Move) -> None:
        till = self.by_dialect[move.client]
        answer = await (till.credit(who, move.points) if move.direction == "credit" else till.debit(who, move.points))
        assert 200 <= answer.status < 300, (move, answer)


async def make_all(url: str, tenant: str, plan: dict[int, list[Move]]) -> None:
    """Every member's movements, one after another per member, the members side by side."""
    async with aiohttp.ClientSession() as session:
        tills = Tills(session, url, tenant)

        async def chain(n: int, mine: list[Move]) -> None:
            for move in mine:
                await tills.make(person(tenant, n), move)

        await asyncio.gather(*(chain(n, mine) for n, mine in plan.items()))


async def caught_up(gateway: process.Server, tenant: str, within: float = 90.0) -> dict[str, Any]:
    """Wait until the tenant's shadow has nothing pending and its primary no open intent."""
    deadline = time.monotonic() + within
    while True:
        status, body, _ = await call("GET", f"{gateway.url}/__admin/upstream")
        (row,) = [r for r in body["upstreams"] if r["tenant"] == tenant]
        if row["shadow"]["pending"] == 0 and row["intents"]["open"] == 0:
            return row  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, row
        await asyncio.sleep(0.2)


def drift_command(gateway: process.Server, tmp: Path, tenant: str, *more: str) -> Any:
    return process.run(["drift", "--tenant", tenant, "--url", gateway.url, *more], tmp, timeout=120)


def refused_at_shadow(mine: list[Move], start: Decimal) -> list[tuple[str, Decimal]]:
    """The movements a shadow starting at `start` refuses, in order: the debits it cannot cover then."""
    balance, refused = start, []
    for move in mine:
        if move.direction == "credit":
            balance += move.points
        elif move.points <= balance:
            balance -= move.points
        else:
            refused.append((move.direction, move.points))
    return refused


def net(mine: list[Move]) -> Decimal:
    return sum((m.points if m.direction == "credit" else -m.points for m in mine), Decimal(0))


def listed(found: dict[str, Any]) -> list[tuple[str, Decimal]]:
    in_order = sorted(found["differing"], key=lambda d: d["intent"])
    return [(d["direction"], Decimal(d["points"])) for d in in_order]


async def test_a_slowed_shadow_shows_its_pending_writes_in_flight_not_as_drift(run: Run, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{run.shadow.url}/__admin/faults", json={
                "tenant": "quiet", "dialect": "memberpoints", "effect": "latency", "latency_ms": 400}) as answer:
            assert answer.status in (200, 201)
    rng = random.Random(7)
    plan = {n: [Move(rng.choice(["pomelo", "memberpoints"]), "credit", Decimal(20)) for _ in range(6)] for n in range(10)}
    await make_all(run.gateway.url, "calm", plan)

    slowed = drift_command(run.gateway, tmp_path, "calm", "--json")

    report = json.loads(slowed.stdout)
    assert slowed.returncode == 3, (slowed.stderr, report["verdict"])
    assert report["verdict"] == "in_flight" and report["lag"]["pending"] > 0
    assert report["totals"]["differing"] == 0 and report["totals"]["page"]["drift"] == 0
    assert {m["verdict"] for m in report["members"]} <= {"in_flight", "in_sync"}
    assert any(p["where"] == "shadow" and p["state"] == "pending" for m in report["members"] for p in m["in_flight"])
    assert all(m["differing"] == [] for m in report["members"])

    await call("DELETE", f"{run.shadow.url}/__admin/faults")
    await caught_up(run.gateway, "calm")
    settled = drift_command(run.gateway, tmp_path, "calm")
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "drift report of tenant calm" in settled.stdout and ": IN SYNC" in settled.stdout


async def test_the_report_names_exactly_the_members_and_movements_the_shadow_refused(run: Run, tmp_path: Path) -> None:
    rng = random.Random(14)
    plan = {n: moves(rng, PER_MEMBER) for n in range(MEMBERS)}
    await make_all(run.gateway.url, "shop", plan)
    await caught_up(run.gateway, "shop")

    status, report, _ = await call("GET", f"{run.gateway.url}/__admin/upstream/drift?tenant=shop&limit=1000")

    assert status == 200, report
    by_number = {int(m["shadow_id"]): m for m in report["members"]}
    missing, smaller = person("shop", MISSING).mbr_id, person("shop", SMALLER).mbr_id
    assert len(by_number) == MEMBERS and report["page"]["next_offset"] is None
    assert {n for n, m in by_number.items() if m["verdict"] != "in_sync"} == {missing, smaller}
    assert report["verdict"] == "drift"
    # the member unknown at the shadow: every movement the primary applied, refused there
    gone = by_number[missing]
    assert gone["missing_at_shadow"] is True and listed(gone) == [(m.direction, m.points) for m in plan[MISSING]]
    assert {d["shadow"]["outcome"] for d in gone["differing"]} == {"refused"}
    # the member with fewer points there: exactly the debits it could not cover, in order
    expected = refused_at_shadow(plan[SMALLER], SMALLER_START)
    few = by_number[smaller]
    assert expected and listed(few) == expected
    assert {d["shadow"]["code"] for d in few["differing"]} == {"insufficient_funds"}
    (points,) = [b for b in few["balances"] if b["asset"] == "points"]
    at_shadow = SMALLER_START + net(plan[SMALLER]) - sum((-p if d == "debit" else p for d, p in expected), Decimal(0))
    assert (Decimal(points["primary"]), Decimal(points["shadow"])) == (START + net(plan[SMALLER]), at_shadow)
    # and nothing else: every other member in sync, nothing in flight anywhere
    for n, found in by_number.items():
        assert found["in_flight"] == [], found
        if n not in (missing, smaller):
            assert found["differing"] == [] and found["reasons"] == [], found
    totals = report["totals"]
    assert totals["movements"] == {"total": MEMBERS * PER_MEMBER, "applied": MEMBERS * PER_MEMBER - totals["differing"],
                                   "pending": 0, "refused": totals["differing"], "failed": 0, "unclear": 0}
    assert totals["differing"] == PER_MEMBER + len(expected) and totals["members_differing"] == 2
    assert report["lag"] == {"pending": 0, "oldest_pending_at": None, "seconds": 0}

    printed = drift_command(run.gateway, tmp_path, "shop")
    assert printed.returncode == 1, printed.stdout + printed.stderr
    blocks = [line for line in printed.stdout.splitlines() if line.startswith("member ")]
    assert len(blocks) == 2 and all(str(missing) in b or str(smaller) in b for b in blocks), printed.stdout
