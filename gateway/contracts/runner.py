"""One contract case run against one target: its state set up (exact mode), each step's credentials,
placeholders and auth filled in, the request sent, the answer judged (compare.exact, or compare.shape plus
the dialect's documents), secrets masked in what the reports show. Knows no vendor: what a dialect means
comes from its descriptor (its cases' client and its documents), handed in."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote

from .. import safe_xml
from ..redact import MASK, mask
from . import compare
from .cases import fill
from .model import Answer, Case, CaseOutcome, Difference, Expectation, Request, Step, StepOutcome
from .provider import Admin, StateRefused
from .transport import Target

Mode = Literal["exact", "shape"]


class CredentialsRefused(Exception):
    """The target refused the credentials themselves: "http://... refused the credentials (401)"."""


@dataclass
class Speaker:
    """What the runner needs of a dialect: its name, its cases' client (credentials, auth words), its
    documents' answer check (shape mode) and the credentials given on the command line."""

    dialect: str
    client: Any  # the dialect's CaseClient
    check_answer: Callable[[str, str, int, str, bytes], list[str]] | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)

    def credentials(self, state_answer: Mapping[str, Any] | None) -> dict[str, str]:
        given = dict(self.client.defaults)
        if state_answer is not None:  # exact mode: the tenant the state made is the one to speak to
            return {**given, **self.client.from_state(state_answer)}
        return {**given, **self.overrides}


async def run_case(admin: Admin, speaker: Speaker, case: Case, mode: Mode, *, tenant: str) -> CaseOutcome:
    """The case's outcome; Unreachable, CredentialsRefused and AdminRefused go up (they end the run, not the
    case)."""
    target = admin.target
    started = time.monotonic()
    outcome = CaseOutcome(case_id=case.id, dialect=case.dialect, mode=mode, status="passed")
    try:
        answer = await admin.set_state(case, tenant) if mode == "exact" and case.state is not None else None
    except StateRefused as exc:
        outcome.status, outcome.reason = "error", str(exc)
        return outcome
    credentials = speaker.credentials(answer)
    steps = await play(target, speaker, case, credentials)
    for step, (request, actual) in zip(case.steps, steps, strict=True):
        expected = _filled_expectation(step.expect, request.values)
        found = judge(expected, actual, mode, speaker, request.sent)
        outcome.steps.append(shown(StepOutcome(request.shown, expected, actual, found), credentials))
    if any(s.differences for s in outcome.steps):
        outcome.status = "failed"
    outcome.seconds = time.monotonic() - started
    return outcome


async def check_credentials(target: Target, speaker: Speaker) -> None:
    """The credentials a run without provider states uses, tried once before its first case: the dialect's
    default authorization (a token fetched, where the dialect has one) and its cheap read-only check, if it
    names one. 401 or 403 there is CredentialsRefused, so a run stops in one line rather than fail case after
    case on them."""
    credentials = speaker.credentials(None)
    headers = await _authorize(target, speaker, credentials, Step(Request("GET", "/"), Expectation(200)))
    check = speaker.client.check
    if check is not None:
        answer = await target.send(Request("GET", check, headers))
        if answer.status in (401, 403):
            raise CredentialsRefused(f"{target.base} refused the credentials ({answer.status})")


def judge(expected: Expectation, actual: Answer, mode: Mode, speaker: Speaker, sent: Request) -> list[Difference]:
    found = compare.exact(expected, actual) if mode == "exact" else compare.shape(expected, actual)
    if mode == "exact":
        text = actual.body.decode("utf-8", "replace")
        found += [Difference("body", f"expected to contain {fragment!r}") for fragment in expected.contains
                  if fragment not in text]
    elif speaker.check_answer is not None:
        content_type = compare.header(actual.headers, "Content-Type") or ""
        found += [Difference("document", line) for line in
                  speaker.check_answer(sent.method, sent.path, actual.status, content_type, actual.body)]
    return found


@dataclass
class Sent:
    sent: Request  # as it went out
    shown: Request  # as the reports show it: secrets masked
    values: Mapping[str, str]  # the placeholders it was filled with


async def play(target: Target, speaker: Speaker, case: Case,
               credentials: Mapping[str, str]) -> list[tuple[Sent, Answer]]:
    """Each step sent in order; `{id}` is the id of the record the latest answer returned."""
    headers_for: dict[str, Mapping[str, str]] = {}
    values = dict(credentials)
    out = []
    for step in case.steps:
        if step.auth not in headers_for:
            headers_for[step.auth] = await _authorize(target, speaker, credentials, step)
        request = _filled(step.request, values, headers_for[step.auth])
        answer = await target.send(request)
        if step.auth == "default" and answer.status == 401 and step.expect.status != 401:
            raise CredentialsRefused(f"{target.base} refused the credentials ({answer.status})")
        out.append((Sent(request, _masked(request, credentials), dict(values)), answer))
        values["id"] = record_id(answer) or values.get("id", "")
    return out


async def _authorize(target: Target, speaker: Speaker, credentials: Mapping[str, str], step: Step) -> Mapping[str, str]:
    try:
        headers: Mapping[str, str] = await speaker.client.authorize(credentials, step.auth, target.send)
    except PermissionError as exc:
        raise CredentialsRefused(f"{target.base} refused the credentials ({exc.args[0] if exc.args else '?'})") from None
    return headers


def _filled(request: Request, values: Mapping[str, str], auth: Mapping[str, str]) -> Request:
    in_path = {k: quote(v, safe="") for k, v in values.items()}
    body = fill(request.body.decode("utf-8"), values).encode() if request.body is not None else None
    headers = {**{k: fill(v, values) for k, v in request.headers.items()}, **auth}
    return replace(request, path=fill(request.path, in_path), headers=headers, body=body)


def _filled_expectation(expect: Expectation, values: Mapping[str, str]) -> Expectation:
    body = fill(expect.body.decode("utf-8"), values).encode() if expect.body is not None and "{" in expect.body.decode(
        "utf-8", "replace") else expect.body
    return replace(expect, body=body, contains=tuple(fill(c, values) for c in expect.contains))


def _masked(request: Request, credentials: Mapping[str, str]) -> Request:
    """The request with every credential value (in any spelling) and any Authorization header masked."""
    secrets = [v for v in credentials.values() if len(v) > 1]
    headers = {k: MASK if k.lower() == "authorization" else mask(v, secrets) for k, v in request.headers.items()}
    body = mask(request.body.decode("utf-8", "replace"), secrets).encode() if request.body is not None else None
    return replace(request, path=mask(request.path, secrets), headers=headers, body=body)


def shown(step: StepOutcome, credentials: Mapping[str, str]) -> StepOutcome:
    """The step as reports show it: a credential value (a token in an answer, a filled-in expectation, a
    difference quoting either) masked wherever it turns up."""
    secrets = [v for v in credentials.values() if len(v) > 1]

    def hide(body: bytes | None) -> bytes | None:
        return None if body is None else mask(body.decode("utf-8", "surrogateescape"), secrets).encode(
            "utf-8", "surrogateescape")

    expected = replace(step.expected, body=hide(step.expected.body),
                       contains=tuple(mask(c, secrets) for c in step.expected.contains))
    actual = replace(step.actual, body=hide(step.actual.body) or b"") if step.actual is not None else None
    found = [Difference(mask(d.path, secrets), mask(d.message, secrets)) for d in step.differences]
    return replace(step, expected=expected, actual=actual, differences=found)


def record_id(answer: Answer) -> str | None:
    """The top-level id of a returned record (a JSON object's "id", an XML root's <id> child), if any."""
    try:
        if answer.media == "json":
            value = json.loads(answer.body)
            found = value.get("id") if isinstance(value, dict) else None
            return None if found is None or isinstance(found, (dict, list)) else str(found)
        if answer.media == "xml":
            return safe_xml.parse(answer.body).findtext("id")
    except (ValueError, safe_xml.XmlRefused):
        return None
    return None

