"""The Reward API page's documents, replayed: each case of fixtures/imonggo/cases.json runs its steps in
order against a fresh app seeded with the demo scenario (the state the page shows). A step's document
must match its fixture after canonicalization and validate against its schema."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from lxml import etree

from gateway.contracts.cases import fill
from gateway.dialects.imonggo import DIALECT as IMONGGO
from gateway.dialects.imonggo.contract_cases import DEFAULTS
from tests.support import ClientFactory

from .shapes import HERE, basic, canonical, cases, check, fixture


def record_id(body: bytes) -> str | None:
    """The top-level id of a returned record (XML `<id>` child or JSON "id"), if it has one."""
    if body.lstrip().startswith(b"{"):
        value = json.loads(body).get("id")
        return None if value is None else str(value)
    if body.lstrip().startswith(b"<"):
        return etree.fromstring(body).findtext("id")
    return None


UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def moved_on(body: bytes, expected: bytes, names: list[str]) -> bytes:
    """The body with each named element's time checked to be later than the expected document's (it
    moved when the step's change was written), then set to it, so the rest compares exactly."""
    if not names:
        return body
    seen, wanted = etree.fromstring(body), etree.fromstring(expected)
    for name in names:
        now, before = seen.find(name), wanted.find(name)
        assert now is not None and before is not None, name
        assert UTC_TIME.fullmatch(now.text or "") and (now.text or "") > (before.text or ""), (name, now.text)
        now.text = before.text
    return etree.tostring(seen)


# Each case's steps as verify's loader reads them (one reading of the file for both): the expected file's
# bytes, the texts it must contain, the JSON it must equal, the elements that move on, the schema.
LOADED = {c.id: c for c in IMONGGO.cases.load(HERE / "cases.json")}


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in cases()])
async def test_the_documented_exchange(app_client: ClientFactory, case: dict[str, Any]) -> None:
    client = await app_client("demo")
    latest = ""
    for raw, step in zip(case["steps"], LOADED[case["id"]].steps, strict=True):
        request, expect = step.request, step.expect
        path = fill(request.path, {**DEFAULTS, "id": latest})
        response = await client.request(request.method, path, headers=basic(), data=request.body or b"")
        body = await response.read()
        latest = record_id(body) or latest
        assert response.status == expect.status, (path, body)
        if "expect_file" in raw:
            assert expect.body is not None
            body_seen = moved_on(body, expect.body, list(expect.volatile))
            assert canonical(body_seen) == canonical(expect.body), body.decode()
        for text in expect.contains:
            assert fill(text, DEFAULTS) in body.decode()
        if "expect_json" in raw:
            assert expect.body is not None
            assert json.loads(body) == json.loads(fill(expect.body.decode(), DEFAULTS))
        if expect.schema:
            check(body, expect.schema)


STEP_KEYS = {"method", "path", "status", "body", "moved_on"}
STEP_CHECKS = {"expect_file", "expect_text", "expect_json", "schema"}


def test_every_case_says_only_what_the_replay_reads_and_checks_each_reply() -> None:
    """A misspelt expectation ("expect_jsn") would otherwise be skipped without a word."""
    assert len(cases()) >= 16
    for case in cases():
        assert set(case) == {"id", "steps"} and case["steps"], case.get("id")
        for step in case["steps"]:
            assert set(step) <= STEP_KEYS | STEP_CHECKS, (case["id"], sorted(set(step) - STEP_KEYS - STEP_CHECKS))
            assert STEP_KEYS - {"body", "moved_on"} <= set(step) and set(step) & STEP_CHECKS, (case["id"], step)


def test_the_corrected_customer_differs_from_the_seed_only_by_the_missing_bracket() -> None:
    verbatim = fixture("seed-customer-1534.verbatim.txt").decode()
    corrected = fixture("customer-1534.xml").decode()
    assert "<alternate_code></alternate_code\n" in verbatim
    assert verbatim.replace("</alternate_code\n", "</alternate_code>\n", 1) == corrected


def test_the_seed_spend_reply_is_stored_verbatim() -> None:
    stored = fixture("seed-spend-10-X-1.xml").decode()
    assert stored.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<hash>\n')
    assert '<points-spent type="decimal">2000.0</points-spent>' in stored
    # Against the vendor's page as saved in the repository, so the comparison runs in every checkout.
    page = fixture("vendor-page.txt").decode()
    assert stored in page
    assert fixture("seed-customer-1534.verbatim.txt").decode() in page


async def test_the_seed_customer_served_byte_for_byte_apart_from_indentation(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    response = await client.get("/api/customers/1534.xml", headers=basic())
    body = await response.read()
    assert response.content_type == "application/xml"
    lines = [line.strip() for line in body.decode().splitlines()]
    assert lines == fixture("customer-1534.xml").decode().splitlines()
