"""What verify and diff tell people and CI: a console (progress, one line per case, the drift report of a
failure, a summary), one JSON document and a JUnit XML file that CI systems show as test cases. Secrets are
masked everywhere (credentials headers and the values they carry, secret fields of bodies and query
strings). No vendor words; no comparing (compare.py judges, this only tells)."""
from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from ..redact import MASK, mask, redact_body, redact_query
from .compare import header
from .model import Answer, CaseOutcome, Expectation, Request, StepOutcome

# Header names whose values are secrets (Idempotency-Key is not one: it is what a person needs to find a write).
SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|password|api[-_]?key", re.IGNORECASE)
WORDS = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
BODY_LIMIT = 300
_DECLARATION = re.compile(r"^<\?xml[^>]*\?>\s*")  # says nothing a person needs, costs 40 of the 300 characters


def secrets_of(headers: Mapping[str, str]) -> list[str]:
    """The secret values a request's headers carry, and inside them (a Bearer token, Basic's user and password)."""
    found: list[str] = []
    for name, value in headers.items():
        if not SECRET_HEADER.search(name) or not value:
            continue
        found.append(value)
        scheme, _, rest = value.partition(" ")
        if rest:
            found.append(rest.strip())
            if scheme.lower() == "basic":
                try:
                    found += [p for p in base64.b64decode(rest.strip(), validate=True).decode("utf-8").split(":", 1) if len(p) > 1]
                except (binascii.Error, UnicodeDecodeError):
                    pass
    return [s for s in found if len(s) > 1]


class Masker:
    """Masks the secrets of every request it has seen, wherever they turn up."""

    def __init__(self, outcomes: Iterable[CaseOutcome] = ()) -> None:
        self.secrets: list[str] = []
        for outcome in outcomes:
            for step in outcome.steps:
                self.learn(step.request)

    def learn(self, request: Request) -> None:
        query = dict(parse_qsl(request.path.partition("?")[2], keep_blank_values=True))
        found = secrets_of(request.headers) + [v for k, v in query.items() if SECRET_HEADER.search(k) and len(v) > 1]
        self.secrets += [s for s in found if s not in self.secrets]

    def text(self, text: str, content_type: str = "") -> str:
        masked = mask(text, self.secrets)
        return redact_body(masked.encode("utf-8", "surrogateescape"), content_type).decode("utf-8", "replace")

    def path(self, path: str) -> str:
        base, sep, query = path.partition("?")
        return mask(base + (sep + redact_query(query) if sep else ""), self.secrets)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {k: (MASK if SECRET_HEADER.search(k) else self.text(v)) for k, v in headers.items()}

    def body(self, body: bytes | None, headers: Mapping[str, str] = {}) -> str | None:
        if body is None:
            return None
        content_type = header(headers, "Content-Type") or ""
        return self.text(body.decode("utf-8", "replace"), content_type)

    def url(self, url: str) -> str:
        """A target URL without the user and password it may carry."""
        parts = urlsplit(url)
        if parts.password or parts.username:
            netloc = f"{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            parts = parts._replace(netloc=netloc)
        return self.path(urlunsplit(parts))


def one_line(text: str) -> str:
    """A body on one line: the XML declaration dropped, whitespace between tags and runs of it closed up."""
    line = re.sub(r">\s+<", "><", _DECLARATION.sub("", text.strip(), count=1))
    return " ".join(line.split())


def short(text: str | None, limit: int = BODY_LIMIT, start: int = 0) -> str:
    """A body on one line, at most `limit` characters of it from `start` (where the bodies part, so the
    difference is in view), its length said when cut."""
    if text is None:
        return "(none)"
    if not text:
        return "(empty)"
    line = one_line(text)
    if len(line) <= limit:
        return line
    start = max(0, min(start, len(line) - limit))
    return ("…" if start else "") + line[start:start + limit] + ("…" if start + limit < len(line) else "") + \
        f" ({len(text)} characters)"


def parting(expected: str | None, actual: str | None, limit: int = BODY_LIMIT) -> int:
    """Where to start showing two long bodies: a little before the first character they differ in, when
    that lies beyond what the first `limit` characters show."""
    if not expected or not actual:
        return 0
    a, b = one_line(expected), one_line(actual)
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return 0 if at < limit - 60 else at - 60


def drift_report(outcome: CaseOutcome, masker: Masker | None = None) -> str:
    """Each step that went wrong: the request, expected and actual status, every difference on its own line,
    the bodies shortened. What a person reads to act on a failure."""
    masker = masker or Masker([outcome])
    out: list[str] = []
    total = len(outcome.steps)
    if outcome.reason:
        out.append(outcome.reason)
    for n, step in enumerate(outcome.steps, 1):
        if not step.differences and not step.error:
            continue
        req = step.request
        out.append(f"step {n}/{total}: {req.method} {masker.path(req.path)}")
        if req.headers:
            out.append("  request headers: " + ", ".join(f"{k}: {v}" for k, v in masker.headers(req.headers).items()))
        if req.body is not None:
            out.append("  request body: " + short(masker.body(req.body, req.headers), 200))
        if step.error:
            out.append(f"  no answer: {step.error}")
        actual = step.actual
        if not any(d.path == "status" for d in step.differences):  # else the difference says it
            got = str(actual.status) if actual else "no answer"
            out.append(f"  status: expected {step.expected.status}, got {got}")
        out.append(f"  differences ({len(step.differences)}):")
        out += [f"    {d}" for d in step.differences]
        want = masker.body(step.expected.body)
        got = masker.body(actual.body, actual.headers) if actual is not None else None
        start = parting(want, got)
        if want is not None:
            out.append("  expected body: " + short(want, start=start))
        if actual is not None:
            out.append("  actual body: " + short(got, start=start))
    return "\n".join(out)


def first_difference(outcome: CaseOutcome) -> str:
    for step in outcome.steps:
        if step.error:
            return step.error
        if step.differences:
            return str(step.differences[0])
    return outcome.reason or outcome.status


class Console:
    """Progress and outcomes on a stream (stderr, as a rule): on a terminal the progress line is rewritten in
    place; anywhere else (CI logs) every line is a plain line."""

    def __init__(self, stream: IO[str], total: int) -> None:
        self.stream, self.total = stream, total
        self.done = 0
        self.started = time.monotonic()
        isatty = getattr(stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._pending = False  # a progress line waits to be overwritten

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def progress(self, case_id: str) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {case_id}"
        if self.tty:
            self._write("\r\x1b[K" + line)
            self._pending = True
        else:
            self._write(line + "\n")

    def outcome(self, outcome: CaseOutcome) -> None:
        if self._pending:
            self._write("\r\x1b[K")
            self._pending = False
        head = f"{WORDS[outcome.status]} {outcome.case_id} ({outcome.seconds:.2f} s)"
        if outcome.status == "skipped" or (outcome.status == "error" and not outcome.steps):
            head += f": {outcome.reason}" if outcome.reason else ""
            self._write(head + "\n")
            return
        if outcome.status == "passed":
            self._write(head + (f": {outcome.reason}" if outcome.reason else "") + "\n")
            return
        report = drift_report(outcome)
        self._write(head + "\n" + "".join(f"    {line}\n" for line in report.splitlines()))

    def summary(self, outcomes: Sequence[CaseOutcome]) -> str:
        """`37 cases in 4.2 s: 35 passed, 1 failed, 0 errors, 1 skipped` and what the exit status will be:
        written to the stream, and returned."""
        text = self._summary(outcomes)
        self._write(text + "\n")
        return text

    def _summary(self, outcomes: Sequence[CaseOutcome]) -> str:
        counts = tally(outcomes)
        seconds = time.monotonic() - self.started
        line = (f"{len(outcomes)} cases in {seconds:.1f} s: {counts['passed']} passed, {counts['failed']} failed, "
                f"{counts['error']} errors, {counts['skipped']} skipped")
        bad = [o.case_id for o in outcomes if o.status in ("failed", "error")]
        if bad:
            shown = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
            return f"{line}\nexit 1: {shown} did not pass (drift reports above)"
        if counts["passed"] == 0:  # all skipped: a run that judged nothing is no pass
            return f"{line}\nexit 2: no case ran"
        return f"{line}\nexit 0: every case that ran passed"


def tally(outcomes: Iterable[CaseOutcome]) -> dict[str, int]:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


# -- JSON ----------------------------------------------------------------------------------------------

def _request(request: Request, m: Masker) -> dict[str, Any]:
    return {"method": request.method, "path": m.path(request.path), "headers": m.headers(request.headers),
            "body": m.body(request.body, request.headers)}


def _expected(expected: Expectation, m: Masker) -> dict[str, Any]:
    return {"status": expected.status, "media": expected.media, "headers": m.headers(expected.headers),
            "body": m.body(expected.body), "subset": expected.subset, "volatile": list(expected.volatile),
            "schema": expected.schema}


def _actual(actual: Answer | None, m: Masker) -> dict[str, Any] | None:
    if actual is None:
        return None
    return {"status": actual.status, "headers": m.headers(actual.headers), "body": m.body(actual.body, actual.headers)}


def _step(step: StepOutcome, m: Masker) -> dict[str, Any]:
    return {"request": _request(step.request, m), "expected": _expected(step.expected, m),
            "actual": _actual(step.actual, m), "error": m.text(step.error) if step.error else None,
            "differences": [{"path": d.path, "message": m.text(d.message)} for d in step.differences]}


def _meta(meta: Mapping[str, Any], m: Masker) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if SECRET_HEADER.search(str(key)):
            out[key] = MASK
        else:
            out[key] = _meta_value(value, m)
    out.setdefault("version", _version())
    return out


def _meta_value(value: Any, m: Masker) -> Any:
    if isinstance(value, str):
        return m.url(value) if "://" in value else m.text(value)
    if isinstance(value, (list, tuple)):
        return [_meta_value(v, m) for v in value]
    return value


def _version() -> str:
    try:
        return metadata.version("loyalty-gateway")
    except metadata.PackageNotFoundError:
        return "unknown"


def document(outcomes: Sequence[CaseOutcome], meta: Mapping[str, Any]) -> dict[str, Any]:
    m = Masker(outcomes)
    return {
        "meta": _meta(meta, m),
        "summary": {"total": len(outcomes), **tally(outcomes), "seconds": round(sum(o.seconds for o in outcomes), 3)},
        "cases": [{"id": o.case_id, "dialect": o.dialect, "mode": o.mode, "status": o.status,
                   "seconds": round(o.seconds, 3), "reason": m.text(o.reason),
                   "steps": [_step(s, m) for s in o.steps]} for o in outcomes],
    }


def write_json(outcomes: Sequence[CaseOutcome], path: str | Path, meta: Mapping[str, Any]) -> None:
    """meta: target, dialect, mode, started, version (and anything else the caller knows)."""
    text = json.dumps(document(outcomes, meta), indent=2, ensure_ascii=False, default=str)
    Path(path).write_text(text + "\n", encoding="utf-8")


# -- JUnit ---------------------------------------------------------------------------------------------

def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    """Text XML 1.0 can hold: a control character from a body would make the whole file unreadable."""
    return _NOT_XML_CHAR.sub("\ufffd", text)


def junit(outcomes: Sequence[CaseOutcome], suite: str) -> ET.Element:
    m = Masker(outcomes)
    counts = tally(outcomes)
    total_time = _seconds(sum(o.seconds for o in outcomes))
    attrs = {"name": suite, "tests": str(len(outcomes)), "failures": str(counts["failed"]),
             "errors": str(counts["error"]), "skipped": str(counts["skipped"]), "time": total_time}
    root = ET.Element("testsuites", attrs)
    suite_element = ET.SubElement(root, "testsuite", attrs)
    for o in outcomes:
        case = ET.SubElement(suite_element, "testcase", {"classname": f"verify.{o.dialect}", "name": o.case_id,
                                                          "time": _seconds(o.seconds)})
        if o.status == "failed":
            failure = ET.SubElement(case, "failure", {"message": _clean(m.text(first_difference(o))), "type": "drift"})
            failure.text = _clean(drift_report(o, m))
        elif o.status == "error":
            error = ET.SubElement(case, "error", {"message": _clean(m.text(first_difference(o))), "type": "error"})
            error.text = _clean(drift_report(o, m))
        elif o.status == "skipped":
            ET.SubElement(case, "skipped", {"message": _clean(m.text(o.reason))} if o.reason else {})
    return root


def write_junit(outcomes: Sequence[CaseOutcome], path: str | Path, suite: str) -> None:
    """<testsuites><testsuite><testcase classname="verify.<dialect>" name="<case id>"> with <failure>, <error>
    or <skipped/>: the shape Jenkins, GitLab and GitHub's test reporters read."""
    tree = ET.ElementTree(junit(outcomes, suite))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
