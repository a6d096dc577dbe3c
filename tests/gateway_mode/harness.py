"""Two real `loyalty-gateway` processes, one playing the vendor and one the gateway: how each is started,
the vendor tenant a test gets (a fresh copy of the demo's), and the gateway tenant declared through
`POST /__admin/tenants` whose upstream is that vendor tenant. Plain functions, shared with bench/."""
from __future__ import annotations

import copy
import itertools
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests import process
from tests.gateway_mode.dialects import Answer, Person, call, client

ROOT = Path(__file__).resolve().parents[2]
DEMO = json.loads((ROOT / "gateway" / "data" / "demo.json").read_text(encoding="utf-8"))["tenants"][0]
DIALECTS = ("imonggo", "memberpoints", "pomelo")
AUDIENCE = "https://api.pomelo.la"
TIMEOUT_SECONDS = 1.0  # the gateway's upstream timeout in these tests: a latency fault of 2 s is beyond it
_names = itertools.count(1)
SECRET_NAMES = ("api_token", "api_key", "client_secret")
HANDED_OUT: list[str] = []  # every upstream secret a gateway was given: none may show in its log

# Juan Cruz has the same identities on both sides: the gateway finds him upstream by his customer id,
# member number or user id (the fallback). Johnson is known to the gateway under other numbers and
# declares his upstream identity. Nobody is declared to be someone the vendor never heard of.
JUAN = Person(1534, 1534, "usr-2ay34WhGUtCeoewakpeJTRuVWlx", "crd-2ay34Uk2fseMY5l3OwddSRX8iR4")
JOHNSON_AT_VENDOR = Person(442531, 442531, "usr-2ay34Wmxezt4L0WHMn2JajHJgiM", "crd-2ay34ZylHR0SQMsZKjfusJOvfUB")
JOHNSON = Person(9001, 9001, "usr-" + "GatewayJohnson".ljust(27, "0"), "crd-GatewayJohnson")
NOBODY = Person(9002, 9002, "usr-" + "GatewayNobody".ljust(27, "0"), "crd-GatewayNobody")
UPSTREAM_IDS = {
    "imonggo": {JOHNSON: "442531", NOBODY: "990002"},
    "memberpoints": {JOHNSON: "442531", NOBODY: "990002"},
    "pomelo": {JOHNSON: JOHNSON_AT_VENDOR.card_id, NOBODY: "usr-" + "NoSuchUserAtTheVendor".ljust(27, "0")},
}
START = {JUAN: 30511, JOHNSON_AT_VENDOR: 120}  # the demo's balances: what the vendor tenant starts with


def start_vendor(workdir: Path, database: str, *extra: str) -> process.Server:
    """The vendor: a sandbox on the demo scenario; every test takes a fresh copy of its tenant."""
    return process.start(["--port", "0", "--database", database, "--access-log", "false", *extra], workdir)


def start_gateway(workdir: Path, database: str, *extra: str, timeout: float = TIMEOUT_SECONDS) -> process.Server:
    """The gateway: the same program, with no tenant until one is declared with an upstream. Its access log
    is on: what it writes is checked for secrets."""
    return process.start(
        ["--port", "0", "--database", database, "--scenario", "none",
         "--upstream-timeout-seconds", str(timeout), "--upstream-record-dir", str(workdir / "recorded"), *extra],
        workdir,
    )


def upstream_credentials(dialect: str, vendor: Mapping[str, Any]) -> dict[str, str]:
    """The vendor tenant's credentials under the upstream dialect's own names."""
    if dialect == "imonggo":
        return {"api_token": vendor["imonggo"]["api_token"]}
    if dialect == "memberpoints":
        return {"api_id": str(vendor["memberpoints"]["api_id"]), "api_key": vendor["memberpoints"]["api_key"]}
    return {"client_id": vendor["pomelo"]["client_id"], "client_secret": vendor["pomelo"]["client_secret"],
            "audience": AUDIENCE}


def _member(person: Person, name: str, upstream_id: str | None) -> dict[str, Any]:
    if person == JUAN:  # the seed's customer 1534 exactly as the demo has him, without his points
        return {k: v for k, v in copy.deepcopy(DEMO["members"][0]).items() if k != "balances"}
    out: dict[str, Any] = {
        "customer_id": person.customer_id, "mbr_id": person.mbr_id, "name": name, "user_id": person.user_id,
        "card_ids": [person.card_id], "customer_type_id": 8,
        "created_at": "2013-05-25T02:24:31Z", "updated_at": "2013-07-13T00:52:24Z",
        "profile": {"first_name": name.split()[0], "last_name": " ".join(name.split()[1:]), "country": "PH"},
    }
    if upstream_id is not None:
        out["upstream_id"] = upstream_id
    return out


def gateway_scenario(dialect: str, base_url: str, credentials: Mapping[str, str], *, record: bool = False) -> dict[str, Any]:
    """The demo tenant with its points at an upstream: same programme and catalogue, no balances of its
    own (any balance a client sees came from the vendor), members linked as described above."""
    tenant = copy.deepcopy(DEMO)
    tenant["members"] = [
        _member(JUAN, "Juan Cruz", None),
        _member(JOHNSON, "Johnson", UPSTREAM_IDS[dialect][JOHNSON]),
        _member(NOBODY, "Nobody Known", UPSTREAM_IDS[dialect][NOBODY]),
    ]
    tenant["upstream"] = {"dialect": dialect, "base_url": base_url, "credentials": dict(credentials), "record": record}
    return {"tenants": [tenant]}


@dataclass
class Pair:
    """A gateway tenant serving `client` clients, whose points live at a vendor tenant speaking `upstream`."""

    client: str
    upstream: str
    session: aiohttp.ClientSession
    gateway_url: str
    vendor_url: str
    gateway_tenant: str
    vendor_tenant: str
    gateway_credentials: dict[str, Any]
    vendor_credentials: dict[str, Any]
    declared: dict[str, Any] = field(default_factory=dict)

    @property
    def till(self) -> Any:
        """A client of the gateway in the client dialect, with the gateway tenant's own credentials."""
        if not hasattr(self, "_till"):
            self._till = client(self.client, self.session, self.gateway_url, self.gateway_credentials)
        return self._till

    @property
    def vendor(self) -> Any:
        """The vendor's own API in the upstream dialect, as its owner would call it."""
        if not hasattr(self, "_vendor"):
            self._vendor = client(self.upstream, self.session, self.vendor_url, self.vendor_credentials)
        return self._vendor

    @staticmethod
    def at_vendor(person: Person) -> Person:
        return JOHNSON_AT_VENDOR if person == JOHNSON else person

    async def vendor_points(self, person: Person) -> Any:
        return self.vendor.points(await self.vendor.balance(self.at_vendor(person)))

    async def fault(self, **rule: Any) -> dict[str, Any]:
        """A fault rule at the vendor, for this pair's vendor tenant only."""
        answer = await call(self.session, "POST", f"{self.vendor_url}/__admin/faults",
                            json={"tenant": self.vendor_tenant, "dialect": self.upstream, **rule})
        assert answer.status in (200, 201), answer
        return answer.json()  # type: ignore[no-any-return]

    async def hits(self, rule: dict[str, Any]) -> int:
        """How often a fault rule made with `fault` has fired so far."""
        answer = await call(self.session, "GET", f"{self.vendor_url}/__admin/faults")
        assert answer.status == 200, answer
        (found,) = [r for r in answer.json()["faults"] if r["id"] == rule["id"]]
        return int(found["hits"])

    async def vendor_requests(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        """The vendor's journal for this pair's tenant, oldest first."""
        params = {"tenant": self.vendor_tenant, "limit": "1000"}
        if method:
            params["method"] = method
        if path:
            params["path"] = path
        answer = await call(self.session, "GET", f"{self.vendor_url}/__admin/requests", params=params)
        assert answer.status == 200, answer
        return list(reversed(answer.json()["requests"]))

    async def vendor_entries(self, person: Person) -> list[dict[str, Any]]:
        """The vendor's ledger entries for one member, oldest first (what it applied, whoever asked)."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"tenant": self.vendor_tenant, "member": str(self.at_vendor(person).customer_id),
                      "limit": "1000", "offset": str(len(found))}
            answer = await call(self.session, "GET", f"{self.vendor_url}/__admin/entries", params=params)
            assert answer.status == 200, answer
            page = answer.json()["entries"]
            found.extend(page)
            if len(page) < 1000:
                return found

    async def gateway_requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The gateway's journal for this pair's tenant, oldest first."""
        params = {"tenant": self.gateway_tenant, "limit": "1000"}
        if path:
            params["path"] = path
        answer = await call(self.session, "GET", f"{self.gateway_url}/__admin/requests", params=params)
        assert answer.status == 200, answer
        return list(reversed(answer.json()["requests"]))


async def new_vendor_tenant(session: aiohttp.ClientSession, vendor_url: str) -> tuple[str, dict[str, Any]]:
    name = f"vendor-{os.getpid()}-{next(_names)}-{secrets.token_hex(2)}"
    answer = await call(session, "POST", f"{vendor_url}/__admin/tenants", json={"name": name})
    assert answer.status == 201, answer
    return name, answer.json()


async def declare_gateway_tenant(
    session: aiohttp.ClientSession, gateway_url: str, scenario: dict[str, Any], name: str | None = None,
) -> tuple[str, Answer]:
    name = name or f"gateway-{os.getpid()}-{next(_names)}-{secrets.token_hex(2)}"
    answer = await call(session, "POST", f"{gateway_url}/__admin/tenants", json={"scenario": scenario, "name": name})
    return name, answer


async def make_pair(
    session: aiohttp.ClientSession, gateway_url: str, vendor_url: str, client_dialect: str, upstream: str, *,
    record: bool = False, credentials: Mapping[str, str] | None = None,
) -> Pair:
    """A fresh vendor tenant and a gateway tenant bound to it (`credentials` overrides the upstream's,
    e.g. to have them refused)."""
    vendor_name, vendor_credentials = await new_vendor_tenant(session, vendor_url)
    given = dict(credentials) if credentials is not None else upstream_credentials(upstream, vendor_credentials)
    HANDED_OUT.extend(v for k, v in given.items() if k in SECRET_NAMES)
    scenario = gateway_scenario(upstream, vendor_url, given, record=record)
    gateway_name, answer = await declare_gateway_tenant(session, gateway_url, scenario)
    assert answer.status == 201, answer
    return Pair(client_dialect, upstream, session, gateway_url, vendor_url, gateway_name, vendor_name,
                answer.json(), vendor_credentials, declared=scenario)


def secrets_of(pair: Pair) -> Sequence[str]:
    """Every secret the gateway holds for the vendor tenant: none may show in a journal or a reply."""
    given = upstream_credentials(pair.upstream, pair.vendor_credentials)
    return [v for k, v in given.items() if k in SECRET_NAMES]
