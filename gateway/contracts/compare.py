"""How verify and diff judge an answer: `exact` (status, the headers a step names, the body as written, with
the case's volatile paths masked), `shape` (structure only, for a server whose data is not ours), `answers`
(two live answers, for diff) and `noise` (what changes between two sends of one request). Each difference
comes at a path a person can find in the body: `/account/balance: expected "10.0", got "10"`, `key order
/: offset before data` (the answer puts offset before data), `/data/0/points: expected string, got number`.
Mask syntax: see gateway/contracts/paths.py. Neutral: no vendor words, no HTTP client."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from . import json_compare, xml_compare
from .model import Answer, Difference, Expectation, Media
from .paths import WHOLE_BODY, Finding, Place, as_mask, masker, quoted, render, shorten

_MEDIA_WORDS = {"json": "a JSON", "xml": "an XML", "text": "a text"}


def media_of(content_type: str, body: bytes = b"") -> Media:
    """The media a Content-Type names (`application/vnd.x+json` is JSON), else what the body looks like."""
    kind = content_type.split(";")[0].strip().lower()
    if "json" in kind:
        return "json"
    if "xml" in kind:
        return "xml"
    if kind.startswith("text/"):
        return "text"
    first = body.lstrip()[:1]
    return "json" if first in (b"{", b"[") else "xml" if first == b"<" else "text" if body else "none"


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, its name in any case (HTTP names are case-insensitive)."""
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _header(answer: Answer, name: str) -> str | None:
    return header(answer.headers, name)


def _status(expected: int, actual: int, *, same_class: bool = False) -> list[Difference]:
    if same_class and expected // 100 == actual // 100:
        return []
    if actual == expected:
        return []
    wanted = f"{expected} (any {expected // 100}xx)" if same_class else str(expected)
    return [Difference("status", f"expected {wanted}, got {actual}")]


def _media(expected: Media, actual: Answer) -> list[Difference]:
    """A JSON or XML expectation needs an answer that says so in its Content-Type."""
    if expected not in ("json", "xml"):
        return []
    sent = _header(actual, "Content-Type")
    if sent is None:
        return [Difference("header Content-Type", f"missing (expected {_MEDIA_WORDS[expected]} media type)")]
    if media_of(sent) != expected:
        return [Difference("header Content-Type", f"expected {_MEDIA_WORDS[expected]} media type, got {quoted(sent)}")]
    return []


def _headers(expected: Expectation, actual: Answer) -> list[Difference]:
    found = []
    for name, value in expected.headers.items():
        got = _header(actual, name)
        if got is None:
            found.append(Difference(f"header {name}", f"missing (expected {quoted(value)})"))
        elif got != value:
            found.append(Difference(f"header {name}", f"expected {quoted(value)}, got {quoted(got)}"))
    return found


def _body_media(expected: Expectation) -> Media:
    if expected.media != "none" or expected.body is None:
        return expected.media
    return media_of("", expected.body)


def _differences(findings: Iterable[Finding], media: Media) -> list[Difference]:
    out = []
    for f in findings:
        if media == "json":
            out.append(Difference(*json_compare.message(f)))
        elif f.kind == "order":
            out.append(Difference("element order " + render(f.place, xml=True), f.message))
        else:
            out.append(Difference(render(f.place, xml=True), f.message))
    return out


def _body_findings(expected: Expectation, actual: Answer, masked: Callable[[Place], bool],
                   *, structure_only: bool) -> list[Finding] | Difference:
    """The body's findings, or one Difference when a body cannot be read as its media at all."""
    media = _body_media(expected)
    assert expected.body is not None
    try:
        if media == "json":
            want = json_compare.load(expected.body)
            try:
                got = json_compare.load(actual.body)
            except json_compare.NotJson as exc:
                return Difference("body", f"{exc}: {quoted(actual.body.decode('utf-8', 'replace'))}")
            if structure_only:
                return list(json_compare.shape(want, got, (), subset=expected.subset))
            return list(json_compare.exact(want, got, (), masked, subset=expected.subset))
        if media == "xml":
            try:
                got_xml = xml_compare.canonical(actual.body)
            except xml_compare.NotXml as exc:
                return Difference("body", f"{exc}: {quoted(actual.body.decode('utf-8', 'replace'))}")
            if not structure_only and xml_compare.canonical(expected.body) == got_xml:
                return []
            want_tree, got_tree = xml_compare.load(expected.body), xml_compare.load(actual.body)
            if structure_only:
                return list(xml_compare.shape(want_tree, got_tree))
            return list(xml_compare.exact(want_tree, got_tree, masked))
    except (json_compare.NotJson, xml_compare.NotXml) as exc:
        return Difference("expected body", str(exc))  # the case's own file is broken: say so, do not guess
    if structure_only or expected.body == actual.body or WHOLE_BODY in expected.volatile:
        return []
    return Difference("body", f"expected {quoted(expected.body.decode('utf-8', 'replace'))}, "
                              f"got {quoted(actual.body.decode('utf-8', 'replace'))}")


def _body(expected: Expectation, actual: Answer, masked: Callable[[Place], bool], *,
          structure_only: bool) -> list[Difference]:
    found = _body_findings(expected, actual, masked, structure_only=structure_only)
    if isinstance(found, Difference):
        return [found]
    return _differences(found, _body_media(expected))


def exact(expected: Expectation, actual: Answer) -> list[Difference]:
    """Everything the step pins, as written. A wrong status ends the comparison: the body of an answer that
    failed is not a drift of the body."""
    status = _status(expected.status, actual.status)
    if status:
        return status
    found = _headers(expected, actual) + _media(_body_media(expected), actual)
    if expected.body is not None:
        found += _body(expected, actual, masker(expected.volatile), structure_only=False)
    return found


def shape(expected: Expectation, actual: Answer) -> list[Difference]:
    """Structure only, never values: the status (exactly for an error, by class otherwise), the media type,
    and the body's names, order, types and envelopes."""
    status = _status(expected.status, actual.status, same_class=expected.status < 400)
    if status:
        return status
    found = _media(_body_media(expected), actual)
    if expected.body is not None and not found:
        found += _body(expected, actual, masker(()), structure_only=True)
    return found


def answers(a: Answer, b: Answer, *, masked: Sequence[str]) -> list[Difference]:
    """B's answer held to A's like exact holds one to a case, A's Content-Type included; masked paths as
    the cases' volatile paths."""
    media = a.media if a.media != "none" else media_of(_header(a, "Content-Type") or "", a.body)
    content_type = _header(a, "Content-Type")
    expected = Expectation(status=a.status, body=a.body, media=media, volatile=tuple(masked),
                           headers={"Content-Type": content_type} if content_type else {})
    return exact(expected, b)


def noise(first: Answer, second: Answer) -> list[str]:
    """The paths (mask syntax, anchored: `$.id` is the top-level id, never an id anywhere) whose values differ
    between two answers to one request: request ids, clocks, fresh tokens. `$` (WHOLE_BODY) when the body
    changes as a whole: only its status and media are left to compare, and a report should say so. Only
    values count; a status or a structure that changes is no noise, it is a finding."""
    media = first.media if first.media != "none" else media_of(_header(first, "Content-Type") or "", first.body)
    if first.status != second.status or media not in ("json", "xml", "text"):
        return []
    if media == "text":  # text has no parts to tell apart: it is the same, or all of it is noise
        return [] if first.body == second.body else [WHOLE_BODY]
    expected = Expectation(status=first.status, body=first.body, media=media)
    found = _body_findings(expected, second, masker(()), structure_only=False)
    if isinstance(found, Difference):
        return []
    paths: list[str] = []
    for f in found:
        mask = as_mask(f.place)
        if f.kind in ("value", "type") and mask not in paths:
            paths.append(mask)
    return paths


__all__ = ["exact", "shape", "answers", "noise", "media_of", "header", "shorten", "WHOLE_BODY"]
