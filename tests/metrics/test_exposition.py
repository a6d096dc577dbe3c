"""The registry and its text exposition, read back with Prometheus's own parser: label values and help
text with quotes, backslashes and newlines survive, histograms are cumulative up to +Inf with their sum
and count, and snapshots of several workers add up."""
from __future__ import annotations

import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics import SECONDS_BUCKETS, Family, ServerMetrics, escape_help, escape_label, merged, render

NASTY = ['say "hi"', "back\\slash", "two\nlines", 'all\\"\n three', "", "ünïcode ✓"]


def parsed(text: str) -> dict[str, object]:
    return {f.name: f for f in text_string_to_metric_families(text)}


@pytest.mark.parametrize("value", NASTY)
def test_a_label_value_comes_back_as_it_was(value: str) -> None:
    family = Family("t_total", "counter", "a counter", ("route",))
    family.inc((value,), 3)
    [sample] = parsed(render([family]))["t"].samples  # type: ignore[attr-defined]
    assert sample.labels == {"route": value} and sample.value == 3


def test_help_text_with_a_backslash_and_a_newline_comes_back_as_it_was() -> None:
    family = Family("t", "gauge", "first line\nsecond \\ line")
    family.set(1.5)
    text = render([family])
    assert "# HELP t first line\\nsecond \\\\ line\n" in text
    assert parsed(text)["t"].documentation == "first line\nsecond \\ line"  # type: ignore[attr-defined]


def test_the_escapes_are_the_formats_three() -> None:
    assert escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert escape_help('a\\b"c\nd') == 'a\\\\b"c\\nd'  # a quote in help text stays as it is


def test_a_histogram_is_cumulative_up_to_inf_with_sum_and_count() -> None:
    family = Family("t_seconds", "histogram", "latency", ("route",), (0.01, 0.1, 1.0))
    for value in (0.01, 0.05, 0.05, 0.5, 3.0):  # 0.01 is in le=0.01: "less than or equal"
        family.observe(value, ("/a/{id}",))
    samples = parsed(render([family]))["t_seconds"].samples  # type: ignore[attr-defined]
    buckets = {s.labels["le"]: s.value for s in samples if s.name == "t_seconds_bucket"}
    assert buckets == {"0.01": 1, "0.1": 3, "1.0": 4, "+Inf": 5}
    assert {s.name: s.value for s in samples if s.name != "t_seconds_bucket"} == {
        "t_seconds_sum": pytest.approx(3.61), "t_seconds_count": 5}


def test_the_server_histograms_run_from_a_millisecond_to_ten_seconds() -> None:
    assert SECONDS_BUCKETS[0] == 0.001 and SECONDS_BUCKETS[-1] == 10.0 and list(SECONDS_BUCKETS) == sorted(SECONDS_BUCKETS)


def test_every_server_metric_renders_and_parses_with_its_type() -> None:
    metrics = ServerMetrics()
    metrics.request("d1", "/x/{id}", "BREW", "418", 0.002)  # an invented method is counted as "other"
    metrics.ledger_committed([("entry.created", "adjustment"), ("entry.created", "adjustment")])
    metrics.webhook_attempt("delivered")
    metrics.webhook_attempt("timeout")
    metrics.upstream_request("d2", "answered_2xx", 0.2)
    families = parsed(render(merged([metrics.snapshot()])))
    types = {name: f.type for name, f in families.items()}  # type: ignore[attr-defined]
    assert types == {
        "loyalty_gateway_http_requests": "counter", "loyalty_gateway_http_request_duration_seconds": "histogram",
        "loyalty_gateway_ledger_writes": "counter", "loyalty_gateway_webhook_attempts": "counter",
        "loyalty_gateway_webhook_failures": "counter", "loyalty_gateway_upstream_requests": "counter",
        "loyalty_gateway_upstream_request_duration_seconds": "histogram"}
    [request] = families["loyalty_gateway_http_requests"].samples  # type: ignore[attr-defined]
    assert request.labels == {"dialect": "d1", "route": "/x/{id}", "method": "other", "status": "418"}
    [writes] = families["loyalty_gateway_ledger_writes"].samples  # type: ignore[attr-defined]
    assert writes.value == 2
    failures = families["loyalty_gateway_webhook_failures"].samples  # type: ignore[attr-defined]
    assert [(s.labels, s.value) for s in failures] == [({"outcome": "timeout"}, 1)]


def test_snapshots_of_several_workers_add_up_label_set_by_label_set() -> None:
    one, two = ServerMetrics(), ServerMetrics()
    one.request("d", "/a", "GET", "200", 0.003)
    two.request("d", "/a", "GET", "200", 0.3)
    two.request("d", "/a", "GET", "404", 0.0001)
    [requests, seconds] = merged([one.snapshot(), two.snapshot()])[:2]
    assert requests.series == {("d", "/a", "GET", "200"): 2, ("d", "/a", "GET", "404"): 1}
    counts = seconds.series[("d", "/a")]
    assert sum(counts[:-1]) == 3 and math.isclose(counts[-1], 0.3031)


@pytest.mark.parametrize(("name", "labels", "buckets"), [
    ("1st", (), ()), ("ok", ("bad-label",), ()), ("ok", ("__reserved",), ()),
    ("h", ("le",), (1.0,)), ("h", (), (2.0, 1.0)),
])
def test_names_prometheus_would_refuse_are_refused_here(name: str, labels: tuple[str, ...],
                                                        buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        Family(name, "histogram" if buckets else "counter", "x", labels, buckets)


def test_numbers_are_written_as_prometheus_reads_them() -> None:
    family = Family("t", "gauge", "x", ("k",))
    for key, value in (("int", 7), ("float", 0.25), ("inf", math.inf), ("ninf", -math.inf), ("big", 1e300)):
        family.set(value, (key,))
    values = {s.labels["k"]: s.value for s in parsed(render([family]))["t"].samples}  # type: ignore[attr-defined]
    assert values == {"int": 7, "float": 0.25, "inf": math.inf, "ninf": -math.inf, "big": 1e300}
