"""Pomelo's contract cases for verify and diff: fixtures/pomelo/cases.json (and the "flat" cases record mode
writes) read into gateway.contracts.model.Case, the demo scenario as every case's provider state, and the
OAuth client-credentials token a step's `token` word asks for (full, none, bogus or a narrowed scope list)."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from ...contracts.cases import CasesError, json_bytes, placeholders, read_cases, writes
from ...redact import MASK
from ...contracts.model import Answer, Case, Expectation, Request, Step
from ..descriptor import CaseClient, ContractCases, ProviderState
from .client import BALANCE_PATH, IDEMPOTENCY_HEADER, TOKEN_PATH

DEFAULTS = {"client_id": "demo-client-id", "client_secret": "demo-client-secret"}
DEMO_STATE = {"scenario": "demo"}
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"  # the demo's Juan Cruz, whom balance_after is read for
AUDIENCE = "https://api.pomelo.la"
JSON = "application/json"


def load(path: Path) -> list[Case]:
    document = read_cases(path)
    recorded = "_about" not in document
    cases = []
    for raw in document["cases"]:
        try:
            steps = _steps(raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise CasesError(f"{path}: case {raw.get('id') if isinstance(raw, dict) else raw!r}: {exc!r}") from None
        cases.append(Case(id=str(raw["id"]), dialect="pomelo", steps=steps,
                          writes=writes(steps, no_state=("/oauth/",)),  # a token grant changes no points
                          state=None if recorded else dict(DEMO_STATE)))
    return cases


def _steps(case: Mapping[str, Any]) -> tuple[Step, ...]:
    headers: dict[str, str] = {}
    body: bytes | None = None
    if "json" in case:
        body = placeholders(json_bytes(_unmasked(case["json"])).decode(), DEFAULTS).encode()
        headers["Content-Type"] = JSON
    elif "form" in case:
        body = placeholders(urlencode(_unmasked(case["form"])), DEFAULTS).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif "raw" in case:
        body = str(case["raw"]).encode()
    if "content_type" in case:
        headers["Content-Type"] = str(case["content_type"])
    if "idempotency_key" in case:
        headers[IDEMPOTENCY_HEADER] = str(case["idempotency_key"])
    expected: dict[str, Any] = dict(case.get("expect") or {})
    if "error_code" in case:
        expected["error"] = {"error_code": case["error_code"]}
    token = str(case.get("token", "full"))
    auth = {"full": "default", "none": "none", "bogus": "bogus"}.get(token, "scope:" + token)
    schema = case.get("schema") or ("Error" if "error_code" in case else None)
    steps = [Step(Request(str(case["method"]), str(case["path"]), headers, body),
                  Expectation(int(case["status"]), json_bytes(expected) if expected else None, "json",
                              subset=True, schema=schema), auth)]
    if "balance_after" in case:  # the write that was refused left the balance as it was
        steps.append(Step(Request("GET", f"{BALANCE_PATH}?card_id={CARD}"),
                          Expectation(200, json_bytes({"points": case["balance_after"]}), "json", subset=True,
                                      schema="Balance")))
    return tuple(steps)


def _unmasked(body: Any) -> Any:
    """A token request record mode wrote has its secrets masked: the masked credential fields become the
    {name}s the runner fills with the credentials verify was given, so the recorded grant can be replayed."""
    if not isinstance(body, Mapping):
        return body
    return {k: "{" + k + "}" if k in DEFAULTS and v == MASK else v for k, v in body.items()}


def provider_state(state: Mapping[str, Any]) -> ProviderState:
    if dict(state) != DEMO_STATE:
        raise ValueError('state: pomelo cases know one state, {"scenario": "demo"}')
    return ProviderState(scenario="demo")


def from_state(answer: Mapping[str, Any]) -> dict[str, str]:
    section = answer.get("pomelo") or {}
    return {name: str(section.get(name, "")) for name in DEFAULTS}


async def authorize(credentials: Mapping[str, str], word: str, send: Callable[..., Any]) -> Mapping[str, str]:
    """The Bearer header a step's word asks for; a refused token request is the credentials refused."""
    if word == "none":
        return {}
    if word == "bogus":
        return {"Authorization": "Bearer not-a-token"}
    grant: dict[str, Any] = {**credentials, "audience": AUDIENCE, "grant_type": "client_credentials"}
    if word.startswith("scope:"):
        grant["scope"] = word.removeprefix("scope:")
    answer: Answer = await send(Request("POST", TOKEN_PATH, {"Content-Type": JSON}, json_bytes(grant)))
    if answer.status != 200:
        raise PermissionError(answer.status)
    return {"Authorization": "Bearer " + str(json.loads(answer.body)["access_token"])}


CASES = ContractCases(load=load, provider_state=provider_state,
                      client=CaseClient(defaults=DEFAULTS, from_state=from_state, authorize=authorize))
