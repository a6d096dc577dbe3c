"""`loyalty-gateway trigger`: a real CLI process against a real server. Each event is made through its
documented /__admin call, the output says what was done and the webhook it caused (delivered to a real
receiver, or that none is configured); every mistake is one line on stderr with its documented exit status."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests import process
from tests.cli.conftest import CARD, admin, cli, trigger


def one_line(result: Any, status: int, *fragments: str) -> str:
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("loyalty-gateway: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_a_purchase_presented_then_reversed_shows_each_webhook_the_app_received(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any) -> None:
    app = apps()
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": app.url})
    bought = trigger(server, tenant, "pomelo", "purchase", "--card", CARD, "--amount", "1500.50", cwd=tmp_path)
    assert bought.returncode == 0, bought.stderr
    first, webhook = bought.stdout.splitlines()
    assert first.startswith(f"pomelo purchase (tenant {tenant['name']}): authorized ctx-")
    assert f"card {CARD}, 1500.5 ARS; rewards points 1500.5 PENDING" in first
    assert webhook == f"webhook loyalty-pending -> {app.url}: delivered (HTTP 200, 1 attempt)"
    transaction = first.split("authorized ")[1].split(":")[0]
    assert json.loads(app.received[0].body)["event_detail"]["transaction_id"] == transaction

    presented = trigger(server, tenant, "pomelo", "presentment", transaction, "--json", cwd=tmp_path)
    assert presented.returncode == 0, presented.stderr
    report = json.loads(presented.stdout)
    assert report["request"] == {"method": "POST", "path": f"/__admin/pomelo/transactions/{transaction}/presentment",
                                 "body": {}}
    assert report["answer"]["status"] == "PRESENTED"
    assert [(d["event"], d["state"], d["last_status"]) for d in report["webhooks"]] == [
        ("loyalty-confirm", "delivered", 200)]

    reversed_ = trigger(server, tenant, "pomelo", "reversal", transaction, cwd=tmp_path)
    assert reversed_.returncode == 0, reversed_.stderr
    assert reversed_.stdout.splitlines()[1] == f"webhook loyalty-cancel -> {app.url}: delivered (HTTP 200, 1 attempt)"
    assert [json.loads(r.body)["event_id"] for r in app.wait_for(3)] == [
        "loyalty-pending", "loyalty-confirm", "loyalty-cancel"]
    balance = [m for m in admin(server, "GET", f"/members?tenant={tenant['name']}")["members"] if m["name"] == "Juan Cruz"]
    assert balance[0]["balances"]["points"] == {"posted": "30511.00", "pending": "0.00"}  # earned, then taken back


def test_a_webhook_the_app_fails_is_shown_as_failing_and_retried(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any) -> None:
    app = apps(status=500)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": app.url})
    bought = trigger(server, tenant, "pomelo", "purchase", "--card", CARD, "--amount", "10", cwd=tmp_path)
    assert bought.returncode == 0, bought.stderr  # the event happened; the app's failure is the sandbox's to retry
    assert bought.stdout.splitlines()[1].startswith(f"webhook loyalty-pending -> {app.url}: failed so far (HTTP 500,"
                                                    " 1 attempt); next try at ")


def test_a_tenant_with_no_webhook_url_says_so(server: process.Server, tenant: dict[str, Any], tmp_path: Path) -> None:
    bought = trigger(server, tenant, "pomelo", "purchase", "--card", CARD, "--amount", "1", "--json", cwd=tmp_path)
    assert bought.returncode == 0, bought.stderr
    report = json.loads(bought.stdout)
    assert report["webhooks_unconfigured"] == ["loyalty-pending"] and report["webhooks"] == []
    plain = trigger(server, tenant, "pomelo", "purchase", "--card", CARD, "--amount", "1", cwd=tmp_path)
    assert plain.stdout.splitlines()[1] == f"webhook loyalty-pending: no webhook configured for it (tenant {tenant['name']})"


def test_refusals_by_the_admin_api_are_one_line_and_exit_1(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path) -> None:
    one_line(trigger(server, tenant, "pomelo", "purchase", "--card", "crd-nobody", "--amount", "5", cwd=tmp_path), 1,
             "POST /__admin/pomelo/transactions: 404")
    one_line(trigger(server, tenant, "pomelo", "purchase", "--card", CARD, "--amount", "-5", cwd=tmp_path), 1,
             "POST /__admin/pomelo/transactions: 400", "amount")
    one_line(trigger(server, tenant, "pomelo", "presentment", "ctx-nothing", cwd=tmp_path), 1,
             "/__admin/pomelo/transactions/ctx-nothing/presentment: 404")
    one_line(cli("trigger", "pomelo", "reversal", "ctx-x", "--url", server.url, "--tenant", "nobody", cwd=tmp_path), 1,
             ": 404", "nobody")


def test_usage_mistakes_list_what_is_known_and_exit_2(tmp_path: Path) -> None:
    one_line(cli("trigger", "acme", "purchase", cwd=tmp_path), 2, "invalid choice: 'acme'", "choose from 'pomelo'")
    one_line(cli("trigger", "pomelo", "refund", cwd=tmp_path), 2, "invalid choice: 'refund'",
             "'purchase', 'presentment', 'reversal'")
    one_line(cli("trigger", "pomelo", "purchase", "--amount", "1", cwd=tmp_path), 2, "--card")
    one_line(cli("trigger", "pomelo", "presentment", cwd=tmp_path), 2, "transaction_id")
    one_line(cli("trigger", "pomelo", "presentment", "ctx-1", "--wait", "soon", cwd=tmp_path), 2, "--wait")


def test_an_unreachable_server_exits_3(tmp_path: Path) -> None:
    import socket

    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # closed again: nothing listens there
    one_line(cli("trigger", "pomelo", "presentment", "ctx-1", "--url", f"http://127.0.0.1:{port}", cwd=tmp_path), 3,
             f"cannot reach the server at http://127.0.0.1:{port}")
    one_line(cli("trigger", "pomelo", "presentment", "ctx-1", cwd=tmp_path,
                 env={"LOYALTY_GATEWAY_URL": f"http://127.0.0.1:{port}"}), 3, f"at http://127.0.0.1:{port}")


def test_the_server_url_comes_from_the_environment(server: process.Server, tenant: dict[str, Any], tmp_path: Path) -> None:
    bought = cli("trigger", "pomelo", "purchase", "--card", CARD, "--amount", "3", "--tenant", tenant["name"],
                 cwd=tmp_path, env={"LOYALTY_GATEWAY_URL": server.url})
    assert bought.returncode == 0 and "authorized ctx-" in bought.stdout, bought.stderr


def test_the_admin_token_comes_from_the_flag_or_the_environment(tmp_path: Path) -> None:
    guarded = process.start(["--port", "0", "--database", "sqlite:///guarded.db", "--no-access-log",
                             "--admin-token", "s3cret-token"], tmp_path)
    try:
        args = ["trigger", "pomelo", "purchase", "--card", CARD, "--amount", "2", "--url", guarded.url]
        one_line(cli(*args, cwd=tmp_path, env={"LOYALTY_GATEWAY_ADMIN_TOKEN": ""}), 1, "401", "--admin-token")
        assert cli(*args, "--admin-token", "s3cret-token", cwd=tmp_path).returncode == 0
        by_env = cli(*args, cwd=tmp_path, env={"LOYALTY_GATEWAY_ADMIN_TOKEN": "s3cret-token"})
        assert by_env.returncode == 0 and "authorized ctx-" in by_env.stdout, by_env.stderr
    finally:
        guarded.stop()
