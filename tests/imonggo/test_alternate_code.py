"""Customer API: a customer's alternate_code is unique in its account. A second customer with the same
code is 422 "Alternate code has already been taken" (the message clients match on), in XML and JSON, on
create and on update; no code (absent or empty) is never a duplicate; another account may use it."""
from __future__ import annotations

import asyncio
import base64
import copy
import json
from typing import Any

import pytest

from contract_tests.imonggo.shapes import assert_error, basic
from gateway.scenario import ScenarioError, check_scenario
from tests.support import FIXTURES, ClientFactory

TAKEN = "Alternate code has already been taken"
OTHER_TOKEN = "0123456789abcdef0123456789abcdef01234567"


def customer(first: str, code: str | None, dashed: bool = False) -> bytes:
    tag = "alternate-code" if dashed else "alternate_code"
    field = "" if code is None else f"<{tag}>{code}</{tag}>"
    return f"<customer><first_name>{first}</first_name><last_name>Lim</last_name>{field}</customer>".encode()


async def ids(client: Any, headers: dict[str, str] | None = None) -> list[int]:
    return [c["id"] for c in await (await client.get("/api/customers.json", headers=headers or basic())).json()]


@pytest.mark.parametrize("suffix", [".xml", ".json"])
async def test_a_second_customer_with_the_same_alternate_code_is_refused_on_create(
    app_client: ClientFactory, suffix: str
) -> None:
    client = await app_client("demo")
    first = await client.post(f"/api/customers{suffix}", headers=basic(), data=customer("Ana", "VIP-7"))
    assert first.status == 201
    before = await ids(client)
    await assert_error(await client.post(f"/api/customers{suffix}", headers=basic(), data=customer("Ben", "VIP-7", dashed=True)),
                       422, TAKEN)
    flat = json.dumps({"customer": {"first_name": "Cy", "alternate_code": "VIP-7"}}).encode()
    await assert_error(await client.post(f"/api/customers{suffix}", headers=basic(), data=flat), 422, TAKEN)
    assert await ids(client) == before  # nothing was made


@pytest.mark.parametrize("suffix", [".xml", ".json"])
async def test_taking_another_customers_alternate_code_on_update_is_refused_and_changes_nothing(
    app_client: ClientFactory, suffix: str
) -> None:
    client = await app_client("demo")
    await client.put("/api/customers/442531.xml", headers=basic(), data=b"<customer><alternate_code>A-1</alternate_code></customer>")
    body = b"<customer><city>Cebu</city><alternate-code>A-1</alternate-code></customer>"
    await assert_error(await client.put(f"/api/customers/445123{suffix}", headers=basic(), data=body), 422, TAKEN)
    jason = await (await client.get("/api/customers/445123.json", headers=basic())).json()
    assert (jason["alternate_code"], jason["city"]) == ("", "")  # the city did not change either
    # A customer may keep (resend) its own code, and give it up for another to take.
    mine = await client.put("/api/customers/442531.json", headers=basic(), data=b'{"alternate_code": "A-1", "city": "Iloilo"}')
    assert mine.status == 200 and (await mine.json())["alternate_code"] == "A-1"
    freed = await client.put("/api/customers/442531.json", headers=basic(), data=b'{"alternate_code": ""}')
    assert freed.status == 200 and (await freed.json())["alternate_code"] == ""
    taken = await client.put(f"/api/customers/445123{suffix}", headers=basic(), data=body)
    assert taken.status == 200


async def test_no_alternate_code_is_never_a_duplicate(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    for body in (customer("Ana", None), customer("Ben", None), customer("Cy", ""), customer("Di", ""),
                 customer("Ed", "   "), b'<customer><first_name>Fe</first_name><alternate_code nil="true"/></customer>'):
        response = await client.post("/api/customers.json", headers=basic(), data=body)
        assert response.status == 201, await response.text()
        assert (await response.json())["alternate_code"] == ""


async def test_another_account_may_use_the_same_alternate_code(app_client: ClientFactory) -> None:
    scenario = json.loads((FIXTURES / "scenarios" / "demo.json").read_text())
    other = copy.deepcopy(scenario["tenants"][0])
    other["name"] = "other-shop"
    other["imonggo"] = {"account": "other_account", "api_token": OTHER_TOKEN}
    other.pop("memberpoints", None)
    other.pop("pomelo", None)
    for member in other["members"]:
        member.pop("user_id", None)
        member.pop("card_ids", None)
    scenario["tenants"].append(other)
    client = await app_client(scenario)
    theirs = {"Authorization": "Basic " + base64.b64encode(f"{OTHER_TOKEN}:X".encode()).decode()}
    assert (await client.post("/api/customers.xml", headers=basic(), data=customer("Ana", "SHARED"))).status == 201
    assert (await client.post("/api/customers.xml", headers=theirs, data=customer("Ana", "SHARED"))).status == 201
    await assert_error(await client.post("/api/customers.json", headers=theirs, data=customer("Ben", "SHARED")), 422, TAKEN)


async def test_of_many_concurrent_creates_with_one_code_exactly_one_wins(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    responses = await asyncio.gather(*(
        client.post("/api/customers.json", headers=basic(), data=customer(f"N{n}", "RACE-1")) for n in range(12)
    ))
    statuses = sorted(r.status for r in responses)
    assert statuses == [201] + [422] * 11
    for response in responses:
        if response.status == 422:
            await assert_error(response, 422, TAKEN)
    listed = await (await client.get("/api/customers.json", headers=basic())).json()
    assert [c["alternate_code"] for c in listed].count("RACE-1") == 1


def test_a_scenario_giving_two_customers_one_alternate_code_is_refused_before_anything_loads() -> None:
    scenario = json.loads((FIXTURES / "scenarios" / "demo.json").read_text())
    members = scenario["tenants"][0]["members"]
    members[0]["profile"]["alternate_code"] = "DUP"
    members[2]["profile"]["alternate_code"] = "DUP"
    members[1]["profile"]["alternate_code"] = ""
    with pytest.raises(ScenarioError, match=r"members\[2\]\.profile\.alternate_code: 'DUP' appears twice"):
        check_scenario(scenario, "test")
    members[2]["profile"]["alternate_code"] = ""
    check_scenario(scenario, "test")  # two empty codes are no duplicate
