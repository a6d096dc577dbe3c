"""verify and diff where a run cannot simply go case after case: a gateway whose admin API wants a token,
the server's clock (taken over for the run, given back after, also on Ctrl-C), credentials refused before
the first case, a run stopped early (its reports still written, the reason as one <error> testcase) and a
run in which no case ran. Real `loyalty-gateway serve` processes, the installed command."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests import process
from tests.contracts.test_verify_cli import COMMAND, serve, verify

TOKEN = "adm-7f3c9e1d2b4a6f80"
FROZEN = "2030-01-02T03:04:05Z"


def _admin(url: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url + path, data=data, headers=headers, method=method)) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    """A gateway started with --admin-token, as any non-loopback deploy must be."""
    where = tmp_path_factory.mktemp("guarded")
    started = process.start(["--port", "0", "--database", f"sqlite:///{where / 'g'}.db", "--access-log", "off",
                             "--admin-token", TOKEN], where)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    started = serve(tmp_path_factory.mktemp("stops"), "target")
    yield started
    started.stop()


def test_exact_mode_with_the_admin_token_passes_and_never_shows_it(guarded: process.Server, tmp_path: Path) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    done = verify(guarded.url, "--dialect", "memberpoints", "--mode", "exact", "--admin-token", TOKEN,
                  "--only", "post-example", "--report", str(report), "--junit", str(junit), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stderr + done.stdout + report.read_text() + junit.read_text()


def test_the_admin_token_may_come_from_the_environment(guarded: process.Server, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    done = subprocess.run([str(COMMAND), "verify", guarded.url, "--dialect", "pomelo", "--only", "balance-by-card",
                           "--report", str(report)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LOYALTY_GATEWAY_ADMIN_TOKEN": TOKEN})
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["meta"]["mode"] == "exact"  # auto found the provider states
    assert TOKEN not in done.stderr + report.read_text()


async def test_the_admin_token_goes_to_the_admin_api_only(guarded: process.Server) -> None:
    """Every /__admin call of an exact run carries it; no request to a dialect's routes does."""
    from gateway.contracts.cases import PINNED
    from gateway.contracts.model import Answer, Request
    from gateway.contracts.provider import Admin
    from gateway.contracts.runner import Speaker, run_case
    from gateway.contracts.transport import Target
    from gateway.dialects.pomelo import DIALECT

    assert DIALECT.cases is not None and DIALECT.cases.client is not None
    seen: list[Request] = []

    class Recording(Target):
        async def send(self, request: Request) -> Answer:
            seen.append(request)
            return await super().send(request)

    cases = [c for c in DIALECT.cases.load(PINNED / "pomelo" / "cases.json") if c.id in ("balance-by-card", "token-json")]
    async with Recording(guarded.url) as target:
        admin = Admin(target, TOKEN)
        saved = await admin.clock()
        for case in cases:
            outcome = await run_case(admin, Speaker("pomelo", DIALECT.cases.client), case, "exact", tenant="t")
            assert outcome.status == "passed", outcome
        assert saved is not None
        await admin.give_back(saved)
    bearer = f"Bearer {TOKEN}"
    admin_calls = [r for r in seen if r.path.startswith("/__admin/")]
    assert len(admin_calls) == 4 and all(r.headers.get("Authorization") == bearer for r in admin_calls)
    assert len(seen) > 4 and all(bearer not in r.headers.values() for r in seen if r not in admin_calls)


def test_diff_takes_the_admin_token_too(guarded: process.Server, tmp_path: Path) -> None:
    done = verify("diff", guarded.url, guarded.url, "--dialect", "memberpoints", "--only", "balances-sample",
                  "--admin-token", TOKEN, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = verify("diff", guarded.url, guarded.url, "--dialect", "memberpoints", "--only", "balances-sample",
                  cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_auto_mode_without_the_admin_token_says_so_in_one_line(guarded: process.Server, tmp_path: Path) -> None:
    done = verify(guarded.url, "--dialect", "memberpoints", "--only", "balances-sample", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "--admin-token" in lines[0], done.stderr


def test_a_wrong_admin_token_says_so_in_one_line(guarded: process.Server, tmp_path: Path) -> None:
    done = verify(guarded.url, "--dialect", "memberpoints", "--admin-token", "not-it", "--only", "balances-sample",
                  cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"loyalty-gateway: {guarded.url}/__admin/clock refused the admin token (401)"]
    assert "not-it" not in done.stderr


def test_the_servers_clock_is_given_back_after_the_run(server: process.Server, tmp_path: Path) -> None:
    _admin(server.url, "PUT", "/__admin/clock", {"frozen_at": FROZEN})
    try:
        # memberpoints' seeds freeze the clock at their own dates; pomelo's demo state sets it real
        for dialect, only in [("memberpoints", "history-sample"), ("pomelo", "balance-by-card")]:
            done = verify(server.url, "--dialect", dialect, "--mode", "exact", "--only", only, cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert _admin(server.url, "GET", "/__admin/clock")["frozen_at"] == FROZEN, dialect
        _admin(server.url, "PUT", "/__admin/clock", {"offset_seconds": 3600})
        done = verify(server.url, "--dialect", "memberpoints", "--only", "history-sample", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        clock = _admin(server.url, "GET", "/__admin/clock")
        assert clock["frozen_at"] is None and clock["offset_seconds"] == 3600
    finally:
        _admin(server.url, "DELETE", "/__admin/clock")


def test_ctrl_c_gives_the_clock_back_and_writes_the_reports(server: process.Server, tmp_path: Path) -> None:
    _admin(server.url, "PUT", "/__admin/clock", {"frozen_at": FROZEN})
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    proc = subprocess.Popen([str(COMMAND), "verify", server.url, "--dialect", "pomelo", "--mode", "exact",
                             "--report", str(report), "--junit", str(junit)], cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("PASS "):
                break
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 130, rest
        assert _admin(server.url, "GET", "/__admin/clock")["frozen_at"] == FROZEN, rest
        assert rest.strip().splitlines()[-1] == "loyalty-gateway: interrupted (Ctrl-C)"
        cases = json.loads(report.read_text())["cases"]
        assert cases[0]["status"] == "passed" and cases[-1]["status"] == "error"
        assert etree.parse(str(junit)).xpath("//testcase/error/@message") == ["interrupted (Ctrl-C)"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        _admin(server.url, "DELETE", "/__admin/clock")


@pytest.mark.parametrize(("dialect", "credentials"), [
    ("imonggo", "api_token=not-the-token"), ("pomelo", "client_secret=s3cr3t-given"), ("memberpoints", "api_key=s3cr3t-given")])
def test_refused_credentials_stop_before_the_first_case(server: process.Server, tmp_path: Path, dialect: str,
                                                        credentials: str) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    done = verify(server.url, "--dialect", dialect, "--mode", "shape", "--credentials", credentials,
                  "--report", str(report), "--junit", str(junit), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "FAIL" not in done.stderr and "PASS" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"loyalty-gateway: {server.url} refused the credentials (401)"
    # the reports are written all the same: the run's one <error> says why it stopped
    errors = etree.parse(str(junit)).xpath("//testcase/error/@message")
    assert errors == [f"{server.url} refused the credentials (401)"]
    assert json.loads(report.read_text())["cases"][-1]["reason"] == errors[0]


def test_a_server_that_goes_down_is_said_in_the_reports(tmp_path: Path) -> None:
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    done = verify("http://127.0.0.1:9", "--dialect", "memberpoints", "--report", str(report), "--junit", str(junit),
                  cwd=tmp_path)
    assert done.returncode == 2
    assert etree.parse(str(junit)).xpath("//testcase/error/@message") == [
        "cannot reach http://127.0.0.1:9: connection refused"]
    assert json.loads(report.read_text())["summary"]["error"] == 1


def test_a_run_in_which_nothing_ran_is_exit_2(server: process.Server, tmp_path: Path) -> None:
    done = verify(server.url, "--dialect", "memberpoints", "--mode", "shape", "--only", "post-example", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("loyalty-gateway: no case ran: 1 skipped (it writes")
