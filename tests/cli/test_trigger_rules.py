"""Every event `loyalty-gateway trigger` offers is an already documented admin API call: its method and
path are in the committed admin OpenAPI document, its path arguments are the path's parameters, its body
options are fields of the documented request body, and the call takes `tenant` as the CLI sends it.
So the terminal has no second way to change state, and a trigger cannot drift from the API it uses."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.app import DIALECT_LIST
from gateway.dialects.descriptor import Trigger

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "gateway" / "admin" / "documents" / "admin.openapi.json")
                      .read_text(encoding="utf-8"))
TRIGGERS = [pytest.param(d.name, t, id=f"{d.name}-{t.event}") for d in DIALECT_LIST if d.triggers for t in d.triggers.events]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = DOCUMENT
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def problems(trigger: Trigger) -> list[str]:
    """What in a trigger the admin API's document does not back; empty when all of it is documented."""
    operation = DOCUMENT["paths"].get(trigger.path, {}).get(trigger.method.lower())
    if operation is None:
        return [f"{trigger.method} {trigger.path} is no documented admin API call"]
    found = []
    parameters = [resolve(p) for p in operation.get("parameters", [])]
    in_path = {p["name"] for p in parameters if p["in"] == "path"}
    wanted = {a.name for a in trigger.arguments if a.into == "path"}
    if in_path != wanted or set(re.findall(r"{(\w+)}", trigger.path)) != wanted:
        found.append(f"path arguments {sorted(wanted)} are not the path's parameters {sorted(in_path)}")
    if "tenant" not in {p["name"] for p in parameters if p["in"] == "query"}:
        found.append("the call takes no tenant query parameter")
    body_fields = {a.field or a.name for a in trigger.arguments if a.into == "body"}
    if body_fields:
        schema = resolve(operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}))
        missing = sorted(body_fields - set(schema.get("properties", {})))
        if missing:
            found.append(f"body fields {missing} are not in the documented request body")
    return found


@pytest.mark.parametrize(("dialect", "trigger"), TRIGGERS)
def test_every_trigger_is_a_documented_admin_call(dialect: str, trigger: Trigger) -> None:
    assert problems(trigger) == []


def test_some_dialect_offers_triggers() -> None:
    assert TRIGGERS, "no dialect declares triggers: `loyalty-gateway trigger` would offer nothing"


@pytest.mark.parametrize(("change", "expected"), [
    ({"path": "/pomelo/transactions/{transaction_id}/refund"}, "is no documented admin API call"),
    ({"method": "DELETE"}, "is no documented admin API call"),
    ({"path": "/pomelo/transactions"}, "path arguments"),
])
def test_the_rule_catches_an_undocumented_call(change: dict[str, str], expected: str) -> None:
    from dataclasses import replace

    presentment = next(t for d in DIALECT_LIST if d.triggers for t in d.triggers.events if "{" in t.path)
    assert problems(presentment) == []
    assert any(expected in p for p in problems(replace(presentment, **change)))


def test_the_rule_catches_an_undocumented_body_field() -> None:
    from dataclasses import replace

    with_body = next(t for d in DIALECT_LIST if d.triggers for t in d.triggers.events
                     if any(a.into == "body" for a in t.arguments))
    bent = replace(with_body, arguments=tuple(replace(a, field="colour") if a.into == "body" else a
                                              for a in with_body.arguments))
    assert any("body fields ['colour']" in p for p in problems(bent))
