"""The memberpoints samples of the vendor page, replayed: each case in fixtures/memberpoints/cases.json
seeds its own state, sends the documented request to the whole app, validates the reply with the component
schema it names in the dialect's published document (memberpoints.openapi.json) and compares it with the
verbatim sample (after the declared volatile paths, deviations and added keys), key order included."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from gateway.dialects.memberpoints.contract_cases import places, provider_state as STATE
from gateway.dialects.memberpoints.document import component
from gateway.keys import LEDGER
from tests.support import FIXTURES, ClientFactory

HERE = FIXTURES / "memberpoints"
CASES = json.loads((HERE / "cases.json").read_text(encoding="utf-8"))["cases"]
AUTH = {"apiID": "contract-api-id", "apiKey": "contract-api-key"}


def load(relative: str) -> Any:
    return json.loads((HERE / relative).read_text(encoding="utf-8"))


def validate(instance: Any, schema: str) -> None:
    """Against a component of the published document ("HistoryList"): the schemas live there only."""
    component(schema).validate(instance)


def key_order_holds(sample: Any, served: Any) -> bool:
    """The sample's keys appear in the served document in the same order, at every level."""
    if isinstance(sample, dict):
        keys = [k for k in served if k in sample]
        return keys == list(sample) and all(key_order_holds(sample[k], served[k]) for k in sample)
    if isinstance(sample, list):
        return len(sample) == len(served) and all(key_order_holds(a, b) for a, b in zip(sample, served, strict=True))
    return True


def scenario(seed: dict[str, Any]) -> dict[str, Any]:
    """The seed as the provider state verify sets up makes it (one translation, the dialect's), under
    this test's apiID/apiKey."""
    made: dict[str, Any] = STATE(seed).scenario
    made["tenants"][0]["memberpoints"].update(api_id=AUTH["apiID"], api_key=AUTH["apiKey"])
    return made


async def apply_seed(client: Any, seed: dict[str, Any]) -> None:
    """The seed's movements made at their dates through the ledger and its clock frozen, as the provider
    state does it."""
    setup = STATE(seed)
    ledger = client.app[LEDGER]
    tenant = await ledger.tenant(setup.scenario["tenants"][0]["name"])
    if setup.then is not None:
        await setup.then(ledger, tenant)
    if setup.clock is not None:
        ledger.clock.freeze(setup.clock)


async def send(client: Any, request: dict[str, Any]) -> Any:
    headers = dict(AUTH)
    body = None
    if "body" in request:
        body = (HERE / request["body"]).read_bytes()  # the documented example, byte for byte
        headers["Content-Type"] = request["content_type"]
    return await client.request(request["method"], request["path"], headers=headers, data=body)


def blank(doc: Any, volatile: list[dict[str, str]]) -> Any:
    doc = copy.deepcopy(doc)
    for item in volatile:
        for container, key in places(doc, item["path"]):
            container[key] = "<volatile>"
    return doc


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
async def test_documented_sample(app_client: ClientFactory, case: dict[str, Any]) -> None:
    client = await app_client(scenario(case["seed"]))
    await apply_seed(client, case["seed"])
    response = await send(client, case["request"])
    served = await response.json()
    assert response.status == case["status"], served
    assert response.content_type == "application/json"
    validate(served, case["schema"])
    if "sample" in case:
        expected = load(case["sample"])
        for d in case["deviations"]:
            ((container, key),) = places(expected, d["path"])
            assert container[key] == d["sample"], f"the fixture misquotes the sample at {d['path']}"
            container[key] = d["served"]
        expected = {**expected, **case["added"]}
    else:
        expected = case["expected"]
    assert blank(served, case["volatile"]) == blank(expected, case["volatile"])
    assert key_order_holds(load(case["sample"]) if "sample" in case else expected, served)
    for row in served["data"] if isinstance(served["data"], list) else [served["data"]]:
        if "pointsadjustid" in row:
            assert row["id"] == row["pointsadjustid"]
    if "documented_reply" in case:
        await check_documented_reply(client, case, served)


async def check_documented_reply(client: Any, case: dict[str, Any], served: dict[str, Any]) -> None:
    spec = case["documented_reply"]
    documented = load(spec["sample"])
    ((container, key),) = places(documented, spec["row"])
    assert list(served["data"]) == list(container[key]), "the saved row's fields follow the documented row's order"
    for path in spec["same"]:
        ((d_container, d_key),) = places(documented, path)
        ((s_container, s_key),) = places(served, path.replace("data[0]", "data"))
        assert s_container[s_key] == d_container[d_key], path
    for member_no, balance in case.get("balances_after", {}).items():
        response = await client.get("/webapps/api/memberpointsbalances", headers=AUTH, params={"mbr_id": member_no})
        (row,) = (await response.json())["data"]
        assert row["mbr_points_balance"] == balance


CASE_KEYS = {"id", "doc", "request", "seed", "status", "schema", "volatile", "deviations", "added", "ambiguities",
             "sample", "expected", "documented_reply", "balances_after"}


def test_every_case_says_only_what_the_replay_reads() -> None:
    """A misspelt key ("balance_after") would otherwise be skipped without a word."""
    assert len(CASES) >= 4
    for case in CASES:
        assert set(case) <= CASE_KEYS, (case["id"], sorted(set(case) - CASE_KEYS))
        assert len({"sample", "expected"} & set(case)) == 1, case["id"]
        assert "balances_after" not in case or "documented_reply" in case, case["id"]  # read only there


def test_every_sample_is_stored_verbatim_from_the_vendor_page() -> None:
    # Against the vendor's page as saved in the repository, so the comparison runs in every checkout.
    text = (HERE / "vendor-page.txt").read_text(encoding="utf-8")
    samples = sorted((HERE / "samples").glob("*.json"))
    assert len(samples) >= 5, samples  # a moved folder must not turn the loop below into nothing
    for path in samples:
        assert path.read_text(encoding="utf-8").strip() in text, f"{path.name} differs from the vendor page"


@pytest.mark.parametrize(("sample", "schema"), [("samples/balances.json", "BalancesList"),
                                              ("samples/history.json", "HistoryList"),
                                              ("samples/history_include_orders.json", "HistoryList"),
                                              ("samples/post_response.json", "AdjustmentSaved")])
def test_the_documented_samples_fit_the_published_schemas(sample: str, schema: str) -> None:
    """The document describes the vendor's replies too, as the vendor's page shows them."""
    validate(load(sample), schema)


ERROR_REQUESTS = [
    ("GET", "/webapps/api/memberpoints", {}, None, 401),
    ("GET", "/webapps/api/memberpoints?matchType=~&adjustdate=01/01/2021", AUTH, None, 400),
    ("GET", "/webapps/api/memberpoints?id=424242", AUTH, None, 404),
    ("POST", "/webapps/api/memberpoints", AUTH, b'{"mbr_id": 1234, "adjustpoints": -1}', 400),
    ("POST", "/webapps/api/memberpoints", AUTH, b"{", 400),
    ("DELETE", "/webapps/api/memberpoints", AUTH, None, 405),
    ("POST", "/webapps/api/memberpointsbalances", AUTH, None, 405),
]


@pytest.mark.parametrize(("method", "path", "headers", "body", "status"), ERROR_REQUESTS)
async def test_errors_fit_the_error_schema(
    app_client: ClientFactory, method: str, path: str, headers: dict[str, str], body: bytes | None, status: int
) -> None:
    client = await app_client(scenario(CASES[-1]["seed"]))
    response = await client.request(method, path, headers=headers, data=body)
    assert response.status == status
    validate(await response.json(), "Error")
