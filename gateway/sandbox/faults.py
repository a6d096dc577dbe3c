"""Fault rules: which dialect requests to disturb (tenant, dialect, method, path glob; a probability and/or
a number of hits), how (latency, a status, an empty reply, a dropped connection) and when (before the
handler, so nothing is written, or after it, so the write is committed). Parsing and matching only:
applying an effect to a connection is the middleware's job."""
from __future__ import annotations

import fnmatch
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..whole_numbers import json_whole

EFFECTS = ("latency", "status", "empty", "drop")
WHEN = ("before", "after")
MAX_LATENCY_MS = 120_000


class RuleError(ValueError):
    """A fault rule that cannot be accepted; the message names the field."""


@dataclass
class FaultRule:
    id: str
    effect: str
    when: str = "before"
    tenant: str | None = None
    dialect: str | None = None
    method: str | None = None
    path: str = "*"
    probability: float = 1.0
    times: int | None = None
    latency_ms: int = 0
    latency_max_ms: int | None = None
    status: int = 503
    message: str | None = None
    code: str | None = None
    matched: int = 0
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, *, dialect: str, tenant: str | None, method: str, path: str) -> bool:
        if self.exhausted:
            return False
        if self.dialect is not None and self.dialect != dialect:
            return False
        if self.tenant is not None and self.tenant != tenant:
            return False
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def latency_seconds(self, rng: random.Random) -> float:
        if self.latency_max_ms is None:
            return self.latency_ms / 1000
        return rng.uniform(self.latency_ms, self.latency_max_ms) / 1000

    def summary(self) -> dict[str, Any]:
        """What the journal records about the rule that fired."""
        out: dict[str, Any] = {"id": self.id, "effect": self.effect, "when": self.when}
        if self.effect == "status":
            out["status"] = self.status
        return out

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "effect": self.effect, "when": self.when, "tenant": self.tenant, "dialect": self.dialect,
            "method": self.method, "path": self.path, "probability": self.probability, "times": self.times,
            "matched": self.matched, "hits": self.hits, "exhausted": self.exhausted,
        }
        if self.effect == "latency":
            out["latency_ms"] = self.latency_ms
            out["latency_max_ms"] = self.latency_max_ms
        if self.effect == "status":
            out.update(status=self.status, message=self.message, code=self.code)
        return out


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RuleError(f"{name} must be a non-empty string")
    return value


def _int(body: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    if body.get(name) is None:
        return None
    value = json_whole(body[name], low=low, high=high)
    if value is None:
        raise RuleError(f"{name} must be a whole number from {low} to {high}")
    return value


def parse_rule(rule_id: str, body: Any, dialects: Sequence[str]) -> FaultRule:
    """A FaultRule from the admin API's JSON, or RuleError naming the first bad field."""
    if not isinstance(body, Mapping):
        raise RuleError("the body must be a JSON object")
    known = {"effect", "when", "tenant", "dialect", "method", "path", "probability", "times", "latency_ms",
             "latency_max_ms", "status", "message", "code"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise RuleError(f"unknown field {unknown[0]!r}")
    effect = body.get("effect")
    if effect not in EFFECTS:
        raise RuleError(f"effect must be one of {', '.join(EFFECTS)}")
    when = body.get("when", "before")
    if when not in WHEN:
        raise RuleError("when must be before or after")
    dialect = _text(body, "dialect")
    if dialect is not None and dialect not in dialects:
        raise RuleError(f"dialect must be one of {', '.join(dialects)}")
    probability = body.get("probability", 1)
    if isinstance(probability, bool) or not isinstance(probability, (int, float, Decimal)) or not 0 < probability <= 1:
        raise RuleError("probability must be a number above 0 and at most 1")
    method = _text(body, "method")
    path = _text(body, "path") or "*"
    if not path.startswith(("/", "*")):
        raise RuleError("path must be a glob starting with / or *")
    rule = FaultRule(
        id=rule_id, effect=effect, when=when, tenant=_text(body, "tenant"), dialect=dialect,
        method=None if method in (None, "*") else method.upper(), path=path, probability=float(probability),
        times=_int(body, "times", 1, 10**9),
    )
    # fields another effect would use are still checked: a rule is refused, not silently half-read
    for name in ("latency_ms", "latency_max_ms"):
        _int(body, name, 0, MAX_LATENCY_MS)
    _int(body, "status", 400, 599)
    for name in ("message", "code"):
        _text(body, name)
    if effect == "latency":
        low = _int(body, "latency_ms", 0, MAX_LATENCY_MS)
        if low is None:
            raise RuleError("a latency fault needs latency_ms")
        high = _int(body, "latency_max_ms", low, MAX_LATENCY_MS)
        rule.latency_ms, rule.latency_max_ms = low, high
    elif effect == "status":
        rule.status = _int(body, "status", 400, 599) or 503
        rule.message, rule.code = _text(body, "message"), _text(body, "code")
    return rule


class FaultBook:
    """The active rules in the order they were added; the first that matches and fires wins."""

    def __init__(self, dialects: Sequence[str] = (), seed: int | None = None) -> None:
        self.dialects = tuple(dialects)  # the names a rule may give; handed over by app.py
        self._rules: dict[str, FaultRule] = {}
        self._ids = itertools.count(1)
        self.random = random.Random(seed)

    def add(self, body: Any) -> FaultRule:
        rule = parse_rule(f"flt-{next(self._ids)}", body, self.dialects)
        self._rules[rule.id] = rule
        return rule

    @property
    def active(self) -> bool:
        return bool(self._rules)

    def rules(self) -> list[FaultRule]:
        return list(self._rules.values())

    def remove(self, rule_id: str) -> bool:
        return self._rules.pop(rule_id, None) is not None

    def clear(self) -> int:
        count = len(self._rules)
        self._rules.clear()
        return count

    def pick(self, *, when: str, dialect: str, tenant: str | None, method: str, path: str) -> FaultRule | None:
        """The rule that fires for this request at this moment, counting its hit; None if none does."""
        for rule in self._rules.values():
            if rule.when != when or not rule.matches(dialect=dialect, tenant=tenant, method=method, path=path):
                continue
            rule.matched += 1
            if rule.probability < 1 and self.random.random() >= rule.probability:
                continue
            rule.hits += 1
            return rule
        return None
