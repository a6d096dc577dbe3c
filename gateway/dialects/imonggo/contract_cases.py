"""Imonggo's contract cases for verify and diff: fixtures/imonggo/cases.json (and the "steps" cases record
mode writes) read into gateway.contracts.model.Case; the demo scenario as every case's provider state;
Basic auth with the API token; the Token API's login filled in from the tenant's credentials."""
from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ...contracts.cases import CasesError, json_bytes, placeholders, read_cases, writes
from ...contracts.compare import media_of
from ...contracts.model import Case, Expectation, Request, Step
from ..descriptor import CaseClient, ContractCases, ProviderState

# The demo tenant's credentials (fixtures/scenarios/demo.json), by the names verify's --credentials takes.
DEFAULTS = {"api_token": "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa", "email": "demo@example.com",
            "password": "demo-password"}
DEMO_STATE = {"scenario": "demo"}


def load(path: Path) -> list[Case]:
    document = read_cases(path)
    headers = {str(k): str(v) for k, v in (document.get("headers") or {}).items()}
    recorded = "auth" not in document  # record mode writes no auth and no headers: the exchange's own
    cases = []
    for raw in document["cases"]:
        if not isinstance(raw, dict) or not raw.get("steps"):
            raise CasesError(f"{path}: a case without steps: {str(raw)[:80]}")
        steps = tuple(_step(raw, step, headers, path.parent) for step in raw["steps"])
        cases.append(Case(id=str(raw["id"]), dialect="imonggo", steps=steps,
                          writes=writes(steps),
                          state=None if recorded else dict(DEMO_STATE), doc=str(raw.get("doc", ""))))
    return cases


def _step(case: Mapping[str, Any], step: Mapping[str, Any], headers: Mapping[str, str], folder: Path) -> Step:
    try:
        body = str(step["body"]).encode() if step.get("body") else None
        sent = dict(headers)
        if body is not None and not headers:
            sent["Content-Type"] = "application/json" if media_of("", body) == "json" else "application/xml"
        request = Request(method=str(step["method"]), path=placeholders(str(step["path"]), DEFAULTS), headers=sent,
                          body=body)
        expected, media = None, media_of("")
        if "expect_file" in step:
            expected = (folder / str(step["expect_file"])).read_bytes()
            media = media_of("", expected)
        elif "expect_json" in step:
            expected, media = placeholders(json_bytes(step["expect_json"]).decode(), DEFAULTS).encode(), "json"
        contains = (placeholders(str(step["expect_text"]), DEFAULTS),) if "expect_text" in step else ()
        schema = step.get("schema")
        return Step(request=request, expect=Expectation(
            status=int(step["status"]), body=expected, media=media, contains=contains,
            volatile=tuple(str(name) for name in step.get("moved_on", ())), schema=str(schema) if schema else None))
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise CasesError(f"{folder / 'cases.json'}: case {case.get('id')!r}: {exc!r}") from None


def provider_state(state: Mapping[str, Any]) -> ProviderState:
    if dict(state) != DEMO_STATE:
        raise ValueError('state: imonggo cases know one state, {"scenario": "demo"}')
    return ProviderState(scenario="demo")


def from_state(answer: Mapping[str, Any]) -> dict[str, str]:
    section = answer.get("imonggo") or {}
    out = {"api_token": str(section.get("api_token", ""))}
    users = section.get("users") or []
    if users:
        out.update(email=str(users[0]["email"]), password=str(users[0]["password"]))
    return out


def basic(credentials: Mapping[str, str]) -> tuple[str, str]:
    """The API token as the Basic auth user; Imonggo documents any password, and its examples send X."""
    return credentials.get("api_token", ""), "X"


async def authorize(credentials: Mapping[str, str], word: str, send: Callable[..., Any]) -> Mapping[str, str]:
    if word == "none":
        return {}
    user, password = basic({"api_token": "not-a-token"} if word == "bogus" else credentials)
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


CASES = ContractCases(load=load, provider_state=provider_state,
                      client=CaseClient(defaults=DEFAULTS, from_state=from_state, authorize=authorize,
                                        check="/api/customers.xml?q=count", basic=basic))
