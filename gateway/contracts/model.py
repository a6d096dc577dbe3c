"""The shared vocabulary of verify and diff: a case's steps, the answers compared, the differences found and
the outcome of each case, as the reports write them. Plain data; no HTTP, no vendor words."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Media = Literal["xml", "json", "text", "none"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # with its query string, relative to the target's base URL
    headers: Mapping[str, str] = field(default_factory=dict)  # credentials are filled in by the runner
    body: bytes | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    media: Media = "none"  # how the body is compared: from the Content-Type, or the case's expectation


@dataclass(frozen=True)
class Expectation:
    """What a step expects. body is None where the case pins only the status (and a schema or a subset)."""

    status: int
    body: bytes | None = None
    media: Media = "none"
    subset: bool = False  # the expected JSON object is a subset of the answer (extra keys allowed)
    volatile: tuple[str, ...] = ()  # paths masked in exact mode ("data[*].id", "utc_updated_at")
    schema: str | None = None  # a document component the answer must fit ("Balance", "customer.xsd")
    headers: Mapping[str, str] = field(default_factory=dict)  # headers the answer must carry (exact value)
    contains: tuple[str, ...] = ()  # texts the answer's body must contain (a case that pins a fragment only)


@dataclass(frozen=True)
class Step:
    request: Request
    expect: Expectation
    auth: str = "default"  # "default" (the dialect's credentials), "none", "bogus" or a dialect-specific word


@dataclass(frozen=True)
class Case:
    id: str
    dialect: str
    steps: tuple[Step, ...]
    writes: bool  # any step changes state (skipped in shape mode unless --allow-writes)
    state: Mapping[str, Any] | None = None  # the provider state set up before the case, in exact mode
    doc: str = ""  # where the case comes from (the vendor page's words)


@dataclass(frozen=True)
class Difference:
    path: str  # "/customer/available_points", "status", "header Content-Type", "key order /"
    message: str  # "expected decimal text, got integer"

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class StepOutcome:
    request: Request
    expected: Expectation
    actual: Answer | None  # None when no answer came (refused connection, timeout)
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None  # a transport error, in one line


@dataclass
class CaseOutcome:
    case_id: str
    dialect: str
    mode: Literal["exact", "shape", "diff"]
    status: Literal["passed", "failed", "error", "skipped"]
    steps: list[StepOutcome] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""  # why skipped or errored, in one line
