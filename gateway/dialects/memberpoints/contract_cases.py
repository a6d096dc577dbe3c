"""Memberpoints' contract cases for verify and diff: fixtures/memberpoints/cases.json (and the "request"
cases record mode writes) read into gateway.contracts.model.Case; a case's seed (members with balances,
adjustments and order movements at given dates, the cid, a frozen clock) turned into a provider state;
the apiID/apiKey headers; the vendor's documented rate (100 requests a minute)."""
from __future__ import annotations

import copy
import json
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ...contracts.cases import CasesError, json_bytes, read_cases, writes
from ...contracts.model import Case, Expectation, Request, Step
from ...ledger import By, Identity, Kind, Ledger, Tenant
from ..descriptor import CaseClient, ContractCases, ProviderState

DEFAULTS = {"api_id": "demo-api-id", "api_key": "demo-api-key"}
BALANCES = "/webapps/api/memberpointsbalances"
_STEP = re.compile(r"([A-Za-z_]+)|\[(\d+|\*)\]")
DATE = "%Y-%m-%d %H:%M:%S.%f"
ENVELOPE = ("endPoint", "resultCount", "offset", "data", "success", "pageSize")


def load(path: Path) -> list[Case]:
    document = read_cases(path)
    cases = []
    for raw in document["cases"]:
        try:
            cases.append(_case(raw, path.parent))
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise CasesError(f"{path}: case {raw.get('id') if isinstance(raw, dict) else raw!r}: {exc!r}") from None
    return cases


def expected_reply(case: Mapping[str, Any], folder: Path) -> Any:
    """The reply a case pins: its sample with the deviations served instead and the added keys after it,
    or its own `expected`."""
    if "sample" not in case:
        return case["expected"]
    reply = json.loads((folder / case["sample"]).read_text(encoding="utf-8"), parse_float=Decimal)
    for deviation in case.get("deviations", ()):
        ((container, key),) = places(reply, deviation["path"])
        container[key] = deviation["served"]
    added = case.get("added") or {}
    if not added:
        return reply
    # An added key sits where the list envelope the balances sample documents puts it (offset after
    # resultCount, pageSize last): the sample's own keys keep their order around it.
    whole = {**reply, **added}
    return {key: whole[key] for key in sorted(whole, key=lambda k: ENVELOPE.index(k) if k in ENVELOPE else len(ENVELOPE))}


def places(doc: Any, path: str) -> list[tuple[Any, Any]]:
    """(container, key) pairs a path such as data[*].id or data[1].cid names in a document."""
    found: list[Any] = [doc]
    steps = [m.group(1) or m.group(2) for m in _STEP.finditer(path)]
    for step in steps[:-1]:
        found = [node[k] for node in found for k in _keys(node, step)]
    return [(node, k) for node in found for k in _keys(node, steps[-1])]


def _keys(node: Any, step: str) -> list[Any]:
    return list(range(len(node))) if step == "*" else [int(step) if step.isdigit() else step]


def _case(case: Mapping[str, Any], folder: Path) -> Case:
    request = case["request"]
    headers, body = {}, None
    if request.get("body"):
        body = (folder / request["body"]).read_bytes()  # the documented example, byte for byte
        headers["Content-Type"] = request.get("content_type", "application/json")
    reply = expected_reply(case, folder)
    text = isinstance(reply, str)
    steps = [Step(Request(request["method"], request["path"], headers, body), Expectation(
        status=int(case["status"]), body=reply.encode() if text else json_bytes(reply), media="text" if text else "json",
        volatile=tuple(v["path"] if isinstance(v, dict) else str(v) for v in case.get("volatile", ())),
        schema=case.get("schema")))]
    for member_no, balance in case.get("balances_after", {}).items():
        steps.append(Step(Request("GET", f"{BALANCES}?mbr_id={member_no}"), Expectation(
            200, json_bytes({"data": [{"mbr_points_balance": balance}]}), "json", subset=True)))
    seed = case.get("seed") or None
    return Case(id=str(case["id"]), dialect="memberpoints", steps=tuple(steps),
                writes=writes(steps), state=seed, doc=str(case.get("doc", "")))


def _at(text: Any, where: str) -> datetime:
    try:
        return datetime.strptime(str(text), DATE).replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValueError(f"{where}: not a UTC time as YYYY-MM-DD HH:MM:SS.ffffff") from None


def _amount(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{where}: not a decimal") from None


def provider_state(state: Mapping[str, Any]) -> ProviderState:
    """A seed as a scenario tenant with new apiID/apiKey and the seed's cid, its movements as ledger calls.
    Everything is checked here, before the admin API deletes or builds anything."""
    seed = copy.deepcopy(dict(state))
    unknown = sorted(set(seed) - {"cid", "clock", "members", "adjustments", "order_movements"})
    if unknown:
        raise ValueError(f"state: unknown field(s) {', '.join(unknown)}")
    if not isinstance(seed.get("cid"), int) or isinstance(seed["cid"], bool):
        raise ValueError("state.cid: the website id, a whole number, is required")
    members, numbers = [], set()
    for i, m in enumerate(seed.get("members") or []):
        if not isinstance(m, dict) or not isinstance(m.get("mbr_id"), int):
            raise ValueError(f"state.members[{i}].mbr_id: a whole number is required")
        member = {"mbr_id": m["mbr_id"], "customer_id": m["mbr_id"], "name": str(m.get("name", "")),
                  "email": str(m.get("email", ""))}
        if "balance" in m:
            member["balances"] = {"points": str(_amount(m["balance"], f"state.members[{i}].balance"))}
        members.append(member)
        numbers.add(m["mbr_id"])
    moves: list[tuple[str, dict[str, Any]]] = []
    for field in ("adjustments", "order_movements"):
        for i, move in enumerate(seed.get(field) or []):
            where = f"state.{field}[{i}]"
            if not isinstance(move, dict) or move.get("mbr_id") not in numbers:
                raise ValueError(f"{where}.mbr_id: not one of the state's members")
            if field == "order_movements" and move.get("type") not in ("earned", "redeemed"):
                raise ValueError(f"{where}.type: earned or redeemed")
            checked = {"mbr_id": move["mbr_id"], "points": _amount(move.get("points"), f"{where}.points"),
                       "note": str(move.get("note", "")), "at": _at(move.get("date"), f"{where}.date"),
                       "type": move.get("type"), "value": _amount(move.get("value", 0), f"{where}.value")}
            moves.append((field, checked))
    clock = _at(seed["clock"], "state.clock") if "clock" in seed else None
    tenant = {"name": "contract", "members": members,
              "memberpoints": {"api_id": str(secrets.randbelow(9 * 10**8) + 10**8), "api_key": secrets.token_hex(16),
                               "cid": seed["cid"]}}

    async def then(ledger: Ledger, made: Tenant) -> None:
        for field, move in moves:
            who = By(Identity.MEMBER_NO, move["mbr_id"])
            if field == "adjustments":
                await ledger.adjust(tenant=made, member=who, amount=move["points"], note=move["note"],
                                    occurred_at=move["at"])
                continue
            earned = move["type"] == "earned"
            await (ledger.credit if earned else ledger.debit)(
                tenant=made, member=who, amount=move["points"], kind=Kind.ORDER_EARN if earned else Kind.ORDER_SPEND,
                value=move["value"], note=move["note"], occurred_at=move["at"])

    return ProviderState(scenario={"tenants": [tenant]}, fresh_credentials=False, then=then if moves else None,
                         clock=clock)


def from_state(answer: Mapping[str, Any]) -> dict[str, str]:
    section = answer.get("memberpoints") or {}
    return {name: str(section.get(name, "")) for name in DEFAULTS}


async def authorize(credentials: Mapping[str, str], word: str, send: Callable[..., Any]) -> Mapping[str, str]:
    if word == "none":
        return {}
    if word == "bogus":
        return {"apiID": "0", "apiKey": "not-a-key"}
    return {"apiID": credentials.get("api_id", ""), "apiKey": credentials.get("api_key", "")}


CASES = ContractCases(load=load, provider_state=provider_state,
                      client=CaseClient(defaults=DEFAULTS, from_state=from_state, authorize=authorize,
                                        rate="100/minute", check="/webapps/api/memberpointsbalances?pageSize=1"))
