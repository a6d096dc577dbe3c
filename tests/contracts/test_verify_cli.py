"""`loyalty-gateway verify` and `diff` run as a user runs them (the installed command, a real
`loyalty-gateway serve` over real HTTP): every dialect passes in exact and in shape mode, --only and
--cases (a file record mode wrote) pick the cases, a server that is down or refuses the credentials is
said in one line with exit 2, and two fresh servers show no drift."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.dialects.upstream_transport import Exchange
from gateway.upstream.record import Recorder
from tests import process

DIALECTS = ("imonggo", "pomelo", "memberpoints")
COMMAND = Path(sys.executable).with_name("loyalty-gateway")  # the console script pip installed


def verify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = list(args) if args[0] == "diff" else ["verify", *args]
    return subprocess.run([str(COMMAND), *command], cwd=cwd, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "NO_COLOR": "1"})


def serve(where: Path, name: str) -> process.Server:
    where.mkdir(parents=True, exist_ok=True)
    return process.start(["--port", "0", "--database", f"sqlite:///{where / name}.db", "--access-log", "off"], where)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    started = serve(tmp_path_factory.mktemp("verify"), "target")
    yield started
    started.stop()


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_verify_passes_against_a_fresh_gateway_in_exact_mode(server: process.Server, dialect: str,
                                                             tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    done = verify(server.url, "--dialect", dialect, "--mode", "exact", "--report", str(report), "--junit", str(junit),
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert report.is_file() and junit.is_file()
    assert "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa" not in report.read_text() + done.stderr  # secrets never shown


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_verify_passes_in_shape_mode_and_skips_the_writes(server: process.Server, dialect: str, tmp_path: Path) -> None:
    done = verify(server.url, "--dialect", dialect, "--mode", "shape", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skipped" in done.stderr.lower()


def test_secrets_given_are_masked_in_the_report(server: process.Server, tmp_path: Path) -> None:
    import base64

    token = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    done = verify(server.url, "--dialect", "imonggo", "--mode", "shape", "--credentials", f"api_token={token}",
                  "--only", "seed-get-customer-1534", "token-xml", "--report", str(report), "--junit", str(junit),
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = report.read_text() + junit.read_text() + done.stderr
    assert token not in shown and base64.b64encode(f"{token}:X".encode()).decode() not in shown
    assert "demo-password" not in shown


def test_tokens_in_answers_and_filled_expectations_are_masked_in_exact_mode(server: process.Server,
                                                                          tmp_path: Path) -> None:
    import re

    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    done = verify(server.url, "--dialect", "imonggo", "--mode", "exact", "--only", "token-xml", "token-json",
                  "--report", str(report), "--junit", str(junit), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    shown = report.read_text() + junit.read_text()
    assert "api_token" in shown and not re.search(r"[0-9a-f]{40}", shown)  # the tenant's fresh token, masked


def test_auto_mode_is_exact_against_the_gateway(server: process.Server, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    done = verify(server.url, "--dialect", "memberpoints", "--only", "post-example", "--report", str(report),
                  cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "post-example" in done.stderr and "balances-sample" not in done.stderr
    assert json.loads(report.read_text())  # the report is written (its form is report.py's)
    assert "exact" in report.read_text()


def test_only_names_a_case_that_does_not_exist(server: process.Server, tmp_path: Path) -> None:
    done = verify(server.url, "--dialect", "pomelo", "--only", "balance-by-card", "no-such-case", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("no case named no-such-case in " + str(
        Path(__import__("gateway.contracts.cases", fromlist=["PINNED"]).PINNED / "pomelo" / "cases.json")))


def test_a_server_that_is_down_is_one_line(tmp_path: Path) -> None:
    done = verify("http://127.0.0.1:9", "--dialect", "imonggo", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "loyalty-gateway: cannot reach http://127.0.0.1:9: connection refused"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("dialect", "credentials"), [
    ("imonggo", "api_token=not-the-token"), ("pomelo", "client_secret=s3cr3t-given"), ("memberpoints", "api_key=s3cr3t-given")])
def test_refused_credentials_are_one_line(server: process.Server, tmp_path: Path, dialect: str, credentials: str) -> None:
    done = verify(server.url, "--dialect", dialect, "--mode", "shape", "--credentials", credentials, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(f"loyalty-gateway: {server.url} refused the credentials (401)")
    assert "s3cr3t-given" not in done.stderr and "not-the-token" not in done.stderr


def test_credentials_of_another_dialect_are_a_usage_error(server: process.Server, tmp_path: Path) -> None:
    done = verify(server.url, "--dialect", "imonggo", "--credentials", "api_key=x", cwd=tmp_path)
    assert done.returncode == 2
    assert "--credentials takes NAME=VALUE with NAME one of api_token" in done.stderr


def test_a_bad_rate_and_a_missing_cases_file_are_usage_errors(server: process.Server, tmp_path: Path) -> None:
    assert verify(server.url, "--dialect", "imonggo", "--rate", "fast", cwd=tmp_path).returncode == 2
    done = verify(server.url, "--dialect", "imonggo", "--cases", str(tmp_path / "none.json"), cwd=tmp_path)
    assert done.returncode == 2 and "no cases file at" in done.stderr


def _recorded(tmp_path: Path, server: process.Server) -> Path:
    """A cases file as record mode writes it: two pomelo exchanges (a token, then a balance read)."""
    recorder = Recorder(tmp_path / "recorded")
    token = json.dumps({"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                        "audience": "https://api.pomelo.la", "grant_type": "client_credentials"})
    balance = json.dumps({"points": 30511, "cashback": 0, "miles": 0, "pending_points": 0,
                          "user_id": "usr-2ay34WhGUtCeoewakpeJTRuVWlx", "card_id": "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"})
    for method, path, body, answer in [
        ("POST", "/oauth/token", token, '{"token_type": "Bearer", "expires_in": 86400}'),
        ("GET", "/loyalty/v1/accounts/balance?card_id=crd-2ay34Uk2fseMY5l3OwddSRX8iR4", "", balance),
    ]:
        recorder.record("shop", "pomelo", "flat", Exchange(
            method, server.url + path, 200, 1.0, {"Content-Type": "application/json", "Authorization": "Bearer x"},
            body, {"Content-Type": "application/json"}, answer), ["demo-client-secret"])
    return recorder.folder("shop", "pomelo") / "cases.json"


def test_cases_recorded_by_record_mode_are_valid_input(server: process.Server, tmp_path: Path) -> None:
    cases = _recorded(tmp_path, server)
    done = verify(server.url, "--dialect", "pomelo", "--cases", str(cases), "--mode", "shape", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0002-get-loyalty-v1-accounts-balance" in done.stderr
    assert "PASS 0001-post-oauth-token" in done.stderr  # the masked secret filled with verify's credentials


@pytest.mark.slow
@pytest.mark.parametrize("dialect", DIALECTS)
def test_diff_of_two_fresh_servers_shows_no_drift(server: process.Server, tmp_path: Path, dialect: str) -> None:
    other = serve(tmp_path / "b", "other")
    try:
        report = tmp_path / "diff.json"
        done = verify("diff", server.url, other.url, "--dialect", dialect, "--report", str(report), cwd=tmp_path)
    finally:
        other.stop()
    assert done.returncode == 0, done.stderr
    assert report.is_file()


def test_diff_of_a_server_that_is_down_is_one_line(server: process.Server, tmp_path: Path) -> None:
    done = verify("diff", server.url, "http://127.0.0.1:9", "--dialect", "memberpoints", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "loyalty-gateway: cannot reach http://127.0.0.1:9: connection refused"


async def _cli(*args: str, cwd: Path) -> tuple[int, str]:
    """verify run while this test's event loop serves a stand-in target."""
    import asyncio

    proc = await asyncio.create_subprocess_exec(str(COMMAND), "verify", *args, cwd=cwd,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode or 0, err.decode()


async def test_a_server_without_provider_states_is_shape_mode_or_errors_in_exact(tmp_path: Path) -> None:
    """A third-party server with no admin API: auto picks shape; exact names the failed state call per case."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    async def nothing(request: web.Request) -> web.Response:
        return web.json_response({"error": "no such path"}, status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", nothing)
    server = TestServer(app)
    await server.start_server()
    url = str(server.make_url("")).rstrip("/")
    try:
        report = tmp_path / "auto.json"
        code, err = await _cli(url, "--dialect", "memberpoints", "--report", str(report), cwd=tmp_path)
        assert code == 1 and json.loads(report.read_text())["meta"]["mode"] == "shape", err
        code, err = await _cli(url, "--dialect", "memberpoints", "--mode", "exact", "--only", "balances-sample",
                               cwd=tmp_path)
    finally:
        await server.close()
    assert code == 1
    assert f"{url}/__admin/provider-states answered 404" in err


async def test_diff_says_when_a_body_changes_on_every_send_and_so_was_not_compared(tmp_path: Path) -> None:
    """A server whose balances answer is new text on every send (no two alike): diff cannot tell drift from
    noise in that body, passes on status and media type, and says so rather than pass as if they agreed."""
    import asyncio
    import itertools

    from aiohttp import web
    from aiohttp.test_utils import TestServer

    counter = itertools.count()

    async def answer(request: web.Request) -> web.Response:
        if request.path.startswith("/__admin/"):
            return web.json_response({"error": "no such path"}, status=404)
        return web.Response(text=f"balance sheet number {next(counter)}", content_type="text/plain")

    servers = []
    for _ in range(2):
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        servers.append(TestServer(app))
        await servers[-1].start_server()
    urls = [str(s.make_url("")).rstrip("/") for s in servers]
    try:
        proc = await asyncio.create_subprocess_exec(
            str(COMMAND), "diff", *urls, "--dialect", "memberpoints", "--only", "balances-sample", cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    finally:
        for server in servers:
            await server.close()
    assert proc.returncode == 0, err.decode()
    assert ("PASS balances-sample" in err.decode() and "step 1: the first server's body changed between two sends, "
            "so only status and media type were compared") in err.decode().replace("\n", " ")
