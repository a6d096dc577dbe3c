"""The server's metrics, kept in memory and written in the Prometheus text exposition format (0.0.4):
counters, gauges and histograms with fixed label names, a snapshot of them as plain data (what one
worker hands the others, see worker_metrics.py) and the sum of several snapshots. Knows no HTTP, no
store and no vendor: the pipeline, the ledger's commit hook, delivery and the upstream ports report here.

Why not prometheus_client: its registry is global per process and its multi-process mode needs an
environment variable set before import and a directory of mmap files per metric; ours is a few dicts per
application (several apps in one test process never share counts) whose snapshot is one JSON document."""
from __future__ import annotations

import math
import re
import time
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "loyalty_gateway_"
# From a fast in-memory read (about a millisecond) to a slow upstream's timeout: a sandbox's whole range.
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Methods a route can be asked with; anything else a client invents is counted as "other" (bounded labels).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no route matched (never its raw path)

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
Labels = tuple[str, ...]


@dataclass
class Family:
    """One metric: its name, kind ("counter", "gauge" or "histogram"), help text, label names and a value
    per label set. A histogram's value is [count in each bucket (not cumulative) ..., count above the
    last, sum]."""

    name: str
    kind: str
    help: str
    labelnames: Labels = ()
    buckets: tuple[float, ...] = ()
    series: dict[Labels, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name) or any(not _LABEL.fullmatch(n) or n.startswith("__") for n in self.labelnames):
            raise ValueError(f"not a Prometheus metric or label name: {self.name} {self.labelnames}")
        if self.kind == "histogram" and ("le" in self.labelnames or list(self.buckets) != sorted(set(self.buckets))):
            raise ValueError(f"{self.name}: a histogram's buckets rise and 'le' is not one of its labels")

    def inc(self, labels: Labels = (), amount: float = 1) -> None:
        try:
            self.series[labels] += amount
        except KeyError:
            self.series[labels] = amount

    def set(self, value: float, labels: Labels = ()) -> None:
        self.series[labels] = value

    def observe(self, value: float, labels: Labels = ()) -> None:
        try:
            counts = self.series[labels]
        except KeyError:
            counts = self.series[labels] = [0] * (len(self.buckets) + 1) + [0.0]
        counts[bisect_left(self.buckets, value)] += 1  # le is "less than or equal": bisect_left keeps v == bound in
        counts[-1] += value

    def snapshot(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "help": self.help, "labelnames": list(self.labelnames),
                "buckets": list(self.buckets),
                "series": [[list(k), list(v) if isinstance(v, list) else v] for k, v in self.series.items()]}

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> Family:
        family = cls(data["name"], data["kind"], data["help"], tuple(data["labelnames"]), tuple(data["buckets"]))
        family.add(data)
        return family

    def add(self, data: dict[str, Any]) -> None:
        """Add another snapshot of the same metric to this one (the workers' counts summed)."""
        for labels, value in data["series"]:
            key = tuple(labels)
            if self.kind == "histogram":
                mine = self.series.setdefault(key, [0] * (len(self.buckets) + 1) + [0.0])
                for i, v in enumerate(value):
                    mine[i] += v
            else:
                self.series[key] = self.series.get(key, 0) + value


def merged(snapshots: Iterable[Sequence[dict[str, Any]]]) -> list[Family]:
    """The families of several snapshots, each metric's values summed label set by label set."""
    found: dict[str, Family] = {}
    for snapshot in snapshots:
        for data in snapshot:
            family = found.get(data["name"])
            if family is None:
                found[data["name"]] = Family.from_snapshot(data)
            elif (family.kind, family.labelnames, family.buckets) == (data["kind"], tuple(data["labelnames"]),
                                                                       tuple(data["buckets"])):
                family.add(data)
    return list(found.values())


# -- the exposition ---------------------------------------------------------------------------------------

def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def number(value: float) -> str:
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer() and abs(value) < 2**53):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{escape_label(str(v))}"' for n, v in zip(names, values)) + "}"


def render(families: Iterable[Family]) -> str:
    """The text exposition format, version 0.0.4: HELP and TYPE once per metric, then its samples (a
    histogram's cumulative `_bucket{le=...}` up to +Inf, `_sum` and `_count`); label sets in sorted order."""
    out: list[str] = []
    for family in families:
        out.append(f"# HELP {family.name} {escape_help(family.help)}")
        out.append(f"# TYPE {family.name} {family.kind}")
        for labels in sorted(family.series):
            value = family.series[labels]
            if family.kind != "histogram":
                out.append(f"{family.name}{_labels(family.labelnames, labels)} {number(value)}")
                continue
            running = 0
            names = (*family.labelnames, "le")
            for bound, count in zip((*family.buckets, math.inf), value):
                running += count
                le = "+Inf" if math.isinf(bound) else repr(float(bound))
                out.append(f"{family.name}_bucket{_labels(names, (*labels, le))} {number(running)}")
            out.append(f"{family.name}_sum{_labels(family.labelnames, labels)} {number(value[-1])}")
            out.append(f"{family.name}_count{_labels(family.labelnames, labels)} {number(running)}")
    return "\n".join(out) + "\n"


# -- what the server counts -------------------------------------------------------------------------------

class ServerMetrics:
    """The metrics one process counts as it serves, each reported by the part that knows it."""

    def __init__(self) -> None:
        self.started = time.time()
        p = PREFIX
        self.requests = Family(f"{p}http_requests_total", "counter",
                               "HTTP requests answered, by dialect, route pattern, method and status",
                               ("dialect", "route", "method", "status"))
        self.request_seconds = Family(f"{p}http_request_duration_seconds", "histogram",
                                      "Time to answer an HTTP request, by dialect and route pattern",
                                      ("dialect", "route"), SECONDS_BUCKETS)
        self.ledger_writes = Family(f"{p}ledger_writes_total", "counter",
                                    "Ledger changes committed (outbox events), by topic and entry kind",
                                    ("topic", "kind"))
        self.webhook_attempts = Family(f"{p}webhook_attempts_total", "counter",
                                       "Webhook sends tried, by outcome (delivered or why not)", ("outcome",))
        self.webhook_failures = Family(f"{p}webhook_failures_total", "counter",
                                       "Webhook sends that failed, by outcome", ("outcome",))
        self.upstream_requests = Family(f"{p}upstream_requests_total", "counter",
                                        "Requests to gateway tenants' upstreams, by the upstream's dialect and outcome",
                                        ("dialect", "outcome"))
        self.upstream_seconds = Family(f"{p}upstream_request_duration_seconds", "histogram",
                                       "Time an upstream took to answer, by its dialect", ("dialect",), SECONDS_BUCKETS)
        self.counted = (self.requests, self.request_seconds, self.ledger_writes, self.webhook_attempts,
                        self.webhook_failures, self.upstream_requests, self.upstream_seconds)

    def request(self, dialect: str, route: str, method: str, status: str, seconds: float) -> None:
        self.requests.inc((dialect, route, method if method in METHODS else "other", status))
        self.request_seconds.observe(seconds, (dialect, route))

    def ledger_committed(self, published: Sequence[tuple[str, str]]) -> None:
        """The ledger's commit hook: the (topic, kind) of each outbox event one write committed."""
        for topic, kind in published:
            self.ledger_writes.inc((topic, kind))

    def webhook_attempt(self, outcome: str) -> None:
        self.webhook_attempts.inc((outcome,))
        if outcome != "delivered":
            self.webhook_failures.inc((outcome,))

    def upstream_request(self, dialect: str, outcome: str, seconds: float) -> None:
        self.upstream_requests.inc((dialect, outcome))
        self.upstream_seconds.observe(seconds, (dialect,))

    def snapshot(self) -> list[dict[str, Any]]:
        return [family.snapshot() for family in self.counted]
