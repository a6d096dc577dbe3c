"""GET /__admin/upstream/drift and `loyalty-gateway drift` when the report cannot be made, against a real
gateway process: no tenant named, an unknown tenant, a tenant with no upstream or no shadow, bad paging and
member filters (each a 400/404/409 in the admin's error shape, one line and exit 2 from the command); and
when balances cannot be read (both upstreams down): the member is unreadable, never in sync nor drift."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import process
from tests.upstream.servers import VENDOR_CREDENTIALS, call, shop, start_gateway

pytestmark = pytest.mark.slow
DOWN = "http://127.0.0.1:9"  # nothing listens there: every balance read fails at once
PLAIN = {"name": "plain", "imonggo": {"api_token": "plain-token"}, "members": [{"customer_id": 1}]}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    shadowed = shop("pomelo", DOWN)
    shadowed["upstream"]["shadow"] = {"dialect": "memberpoints", "base_url": DOWN,
                                      "credentials": dict(VENDOR_CREDENTIALS["memberpoints"])}
    server = start_gateway(tmp_path_factory.mktemp("drift") / "gateway",
                           [shadowed, shop("pomelo", DOWN, name="solo"), PLAIN])
    try:
        yield server
    finally:
        server.stop()


async def drift(gateway: process.Server, query: str) -> tuple[int, Any]:
    status, body, _ = await call("GET", f"{gateway.url}/__admin/upstream/drift{query}")
    return status, body


@pytest.mark.parametrize(("query", "status", "said"), [
    ("", 400, "tenant is required"),
    ("?tenant=nobody", 404, "nobody"),
    ("?tenant=plain", 409, "tenant plain keeps its points here: it has no upstream"),
    ("?tenant=solo", 409, "tenant solo has no shadow: declare upstream.shadow"),
    ("?tenant=shop&offset=-1", 400, "offset must be a whole number"),
    ("?tenant=shop&limit=0", 400, "limit must be a whole number from 1 to 1000"),
    ("?tenant=shop&limit=1001", 400, "limit must be a whole number from 1 to 1000"),
    ("?tenant=shop&member=abc", 400, "member must be a member id"),
    ("?tenant=shop&member=0", 400, "member must be a member id"),
    ("?tenant=shop&member=999999", 404, "999999"),
    ("?tenant=shop&" + "&".join(f"member={n}" for n in range(1, 102)), 400, "at most 100 member filters"),
])
async def test_each_bad_request_is_refused_in_the_admin_shape(gateway: process.Server, query: str, status: int,
                                                             said: str) -> None:
    got, body = await drift(gateway, query)
    assert got == status, body
    assert body["error"]["status"] == status and said in body["error"]["message"], body


async def test_a_tenant_with_no_shadow_writes_yet_is_in_sync_with_no_member(gateway: process.Server) -> None:
    status, body = await drift(gateway, "?tenant=shop")
    assert status == 200, body
    assert body["verdict"] == "in_sync" and body["members"] == [] and body["lag"]["pending"] == 0
    assert body["lag"]["seconds"] == 0  # as GET /__admin/upstream says lag_seconds: 0 when nothing waits
    assert body["page"] == {"offset": 0, "limit": 100, "members": 0, "next_offset": None}
    assert body["primary"] == {"dialect": "pomelo", "base_url": DOWN}
    assert body["shadow"] == {"dialect": "memberpoints", "base_url": DOWN}


async def test_a_member_whose_balances_cannot_be_read_is_unreadable_and_says_why(gateway: process.Server) -> None:
    status, members, _ = await call("GET", f"{gateway.url}/__admin/members?tenant=shop")
    member = members["members"][0]["id"]
    status, body = await drift(gateway, f"?tenant=shop&member={member}")
    assert status == 200, body
    (only,) = body["members"]
    assert only["verdict"] == "unreadable" and body["verdict"] == "unreadable"
    assert set(only["unreadable"]) == {"primary", "shadow"} and only["balances"] == []
    assert all(DOWN in why or "reach" in why for why in only["unreadable"].values()), only["unreadable"]
    assert "demo-api-key" not in json.dumps(body)


def cli(gateway: process.Server, tmp: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return process.run(["drift", "--url", gateway.url, *args], tmp, env=env)


def one_line(result: Any, fragment: str, code: int = 2) -> None:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("loyalty-gateway: error:") and fragment in lines[0], lines


def test_the_command_says_in_one_line_why_it_cannot_report(gateway: process.Server, tmp_path: Path) -> None:
    one_line(cli(gateway, tmp_path, "--tenant", "nobody"), "answered 404")
    one_line(cli(gateway, tmp_path, "--tenant", "plain"), "has no upstream")
    one_line(cli(gateway, tmp_path, "--tenant", "solo"), "has no shadow")
    one_line(cli(gateway, tmp_path, "--tenant", "shop", "--member", "x1"), "a member id is a whole number")
    one_line(process.run(["drift", "--tenant", "shop", "--url", DOWN], tmp_path), "cannot reach http://127.0.0.1:9")
    one_line(process.run(["drift", "--tenant", "shop", "--url", "ftp://x"], tmp_path), "no http(s) URL")
    one_line(process.run(["drift", "--url", gateway.url], tmp_path), "required: --tenant")


def test_the_command_exits_0_in_sync_and_4_when_a_balance_cannot_be_read(gateway: process.Server,
                                                                          tmp_path: Path) -> None:
    in_sync = cli(gateway, tmp_path, "--tenant", "shop")
    assert in_sync.returncode == 0 and "drift report of tenant shop" in in_sync.stdout and ": IN SYNC" in in_sync.stdout
    as_json = cli(gateway, tmp_path, "--tenant", "shop", "--json", "--member", "1", "--member", "1")
    assert as_json.returncode == 4, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["verdict"] == "unreadable" and [m["member"] for m in report["members"]] == [1]
    shown = cli(gateway, tmp_path, "--tenant", "shop", "--member", "1")
    assert shown.returncode == 4 and "member 1 (primary" in shown.stdout and "could not be read" in shown.stdout


def test_a_refused_admin_token_is_one_line_and_the_token_is_never_printed(tmp_path: Path) -> None:
    guarded = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}", "--scenario", "none",
                             "--admin-token", "right-token-5f1c"], tmp_path)
    try:
        bare = process.run(["drift", "--tenant", "shop", "--url", guarded.url], tmp_path)
        wrong = process.run(["drift", "--tenant", "shop", "--url", guarded.url], tmp_path,
                            env={"LOYALTY_GATEWAY_ADMIN_TOKEN": "wrong-token-77aa"})
        right = process.run(["drift", "--tenant", "shop", "--url", guarded.url, "--admin-token", "right-token-5f1c"],
                            tmp_path)
    finally:
        guarded.stop()
    one_line(bare, "the admin token was refused")
    one_line(wrong, "the admin token was refused")
    one_line(right, "answered 404")  # past the guard: there is no tenant shop
    for result in (bare, wrong, right):
        assert "token-5f1c" not in result.stderr + result.stdout and "token-77aa" not in result.stderr + result.stdout


def test_ctrl_c_stops_the_command_with_130(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        waiting = subprocess.Popen(process.command("drift", "--tenant", "shop", "--url", url), cwd=tmp_path,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            silent.settimeout(30)
            connection, _ = silent.accept()  # the command is waiting on its request now
            waiting.send_signal(signal.SIGINT)
            _, stderr = waiting.communicate(timeout=30)
            connection.close()
        finally:
            waiting.kill()
    assert waiting.returncode == 130 and "interrupted (Ctrl-C)" in stderr and "Traceback" not in stderr
