"""`loyalty-gateway verify` against a deliberately drifted server: a real `serve` process behind
tests/contracts/drift_proxy.py, which changes ONE thing per test (a renamed element, a string turned number,
reordered keys, a dropped header, a 500 once). verify fails with the case named and the exact difference in
the console, the JSON report and the JUnit file; the other case of the run passes; through a proxy that
changes nothing, every case of every dialect passes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.process import Server, run, start

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start(["--port", "0"], cwd=tmp_path_factory.mktemp("served"))
    yield running
    running.stop()


class Proxy:
    def __init__(self, upstream: str, drift: list[str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.contracts.drift_proxy", upstream, *drift],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            raise AssertionError(f"the drift proxy did not start: {line}{self.proc.stdout.read()}")
        self.url = line.split()[-1]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def proxy(server: Server) -> Iterator[Any]:
    started: list[Proxy] = []

    def make(*drift: str) -> str:
        started.append(Proxy(server.url, list(drift)))
        return started[-1].url

    yield make
    for p in started:
        p.stop()


def verify(url: str, dialect: str, cases: list[str], tmp: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict, Any]:
    report, junit = tmp / "report.json", tmp / "junit.xml"
    args = ["verify", url, "--dialect", dialect, "--report", str(report), "--junit", str(junit), *extra]
    if cases:
        args += ["--only", *cases]
    done = run(args, cwd=tmp, timeout=120)
    return done, json.loads(report.read_text(encoding="utf-8")), etree.parse(str(junit)).getroot()


DRIFTS = [
    pytest.param("imonggo", "seed-get-customer-1534", "customers-list-json",
                 ["rename", "available_points", "available-points"], "exact",
                 "/customer/available_points", "expected element <available_points>, got <available-points>",
                 id="renamed-element"),
    pytest.param("imonggo", "seed-get-customer-1534", "customers-list-json",
                 ["rename", "available_points", "available-points"], "shape",
                 "/customer/available_points", "expected element <available_points>, got <available-points>",
                 id="renamed-element-shape"),
    pytest.param("memberpoints", "history-sample", "balances-sample", ["number", "adjustpoints"], "exact",
                 "/data/0/adjustpoints", "expected string, got number", id="string-turned-number"),
    pytest.param("memberpoints", "history-sample", "balances-sample", ["number", "adjustpoints"], "shape",
                 "/data/0/adjustpoints", "expected string, got number", id="string-turned-number-shape"),
    pytest.param("memberpoints", "balances-sample", "history-sample",
                 ["reorder", "--path", "/webapps/api/memberpointsbalances"], "exact",
                 "key order /", "pageSize before endPoint", id="reordered-keys"),
    pytest.param("pomelo", "balance-by-card", "balance-by-user",
                 ["drop", "Content-Type", "--path", "/loyalty/v1/accounts/balance?card_id="], "exact",
                 "header Content-Type", "missing (expected a JSON media type)", id="dropped-header"),
    pytest.param("imonggo", "customers-list-json", "seed-get-customer-1534",
                 ["fail-once", "--path", "/api/customers.json"], "exact",
                 "status", "expected 200, got 500", id="500-once"),
]


@pytest.mark.parametrize(("dialect", "drifted", "other", "drift", "mode", "path", "message"), DRIFTS)
def test_verify_names_the_case_and_the_exact_difference(proxy: Any, tmp_path: Path, dialect: str, drifted: str,
                                                        other: str, drift: list[str], mode: str, path: str,
                                                        message: str) -> None:
    url = proxy(*drift)
    done, report, junit = verify(url, dialect, [drifted, other], tmp_path, "--mode", mode)
    line = f"{path}: {message}"
    assert done.returncode == 1, done.stderr
    # the console: the case named, the difference on its own line, the other case passed
    console = done.stderr.splitlines()
    assert f"FAIL {drifted} " in done.stderr and f"PASS {other} " in done.stderr, done.stderr
    assert any(row.strip() == line for row in console), done.stderr
    assert "exit 1: " + drifted + " did not pass" in done.stderr
    # the JSON report
    cases = {c["id"]: c for c in report["cases"]}
    assert (cases[drifted]["status"], cases[other]["status"]) == ("failed", "passed")
    found = [d for step in cases[drifted]["steps"] for d in step["differences"]]
    assert found[0] == {"path": path, "message": message}
    assert report["meta"]["dialect"] == dialect and report["summary"]["failed"] == 1
    # the JUnit file
    tests = {t.get("name"): t for t in junit.iter("testcase")}
    assert tests[drifted].get("classname") == f"verify.{dialect}"
    failure = tests[drifted].find("failure")
    assert failure is not None and failure.get("message") == line and line in failure.text
    assert len(tests[other]) == 0
    [suite] = junit
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")


@pytest.mark.parametrize("dialect", ["imonggo", "pomelo", "memberpoints"])
def test_through_a_proxy_that_changes_nothing_every_case_passes(proxy: Any, tmp_path: Path, dialect: str) -> None:
    done, report, junit = verify(proxy("none"), dialect, [], tmp_path)
    assert done.returncode == 0, done.stderr
    assert report["summary"]["failed"] == report["summary"]["error"] == 0 and report["summary"]["passed"] > 3
    assert "exit 0: every case that ran passed" in done.stderr
    [suite] = junit
    assert suite.get("failures") == suite.get("errors") == "0"
