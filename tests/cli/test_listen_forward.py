"""`loyalty-gateway webhooks listen --forward-to`: a real sandbox sends to a real listen process, which
verifies, prints and forwards to a real app with every header (the signature's too); the sandbox gets the
app's answer back, so what the app fails is retried, and an app that cannot be reached is a 502."""
from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.dialects.pomelo.webhooks import verify
from tests import process
from tests.cli.conftest import CARD, admin, cli
from tests.cli.listener import Listener, start_listener
from tests.cli.test_trigger import one_line


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    started: list[Listener] = []
    yield started
    for listener in started:
        listener.stop()


def purchase(server: process.Server, tenant: dict[str, Any]) -> str:
    answer = admin(server, "POST", f"/pomelo/transactions?tenant={tenant['name']}", {"card_id": CARD, "amount": "12.50"})
    return str(answer["id"])


def deliveries(server: process.Server, tenant: dict[str, Any], settled: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """The tenant's deliveries once `settled` of them have had an attempt."""
    deadline = time.monotonic() + timeout
    while True:
        found: list[dict[str, Any]] = admin(server, "GET", f"/webhooks/deliveries?tenant={tenant['name']}")["deliveries"]
        if sum(1 for d in found if d["attempts"]) >= settled or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_each_webhook_reaches_the_app_with_its_headers_and_the_apps_answer_goes_back(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any, listeners: list[Listener]) -> None:
    app = apps()
    secret = tenant["pomelo"]["webhook_api_secret"]
    listener = start_listener(["--secret", secret, "--forward-to", app.url], tmp_path)
    listeners.append(listener)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": f"{listener.url}/loyalty?x=1"})
    transaction = purchase(server, tenant)
    got = app.wait_for(1)[0]
    body = json.loads(got.body)
    assert (body["event_id"], body["event_detail"]["transaction_id"]) == ("loyalty-pending", transaction)
    assert got.path == "/hooks"
    assert got.headers["X-Endpoint"] == "/loyalty?x=1" and got.headers["X-Api-Key"] == tenant["pomelo"]["webhook_api_key"]
    assert got.headers["x-idempotency-key"] == f"{transaction}-pending"
    assert verify(secret, got.headers, got.body), "the app can check the original signature itself"
    [delivery] = deliveries(server, tenant)
    assert (delivery["state"], delivery["last_status"]) == ("delivered", 200)
    assert listener.wait_for("signature ok  POST /loyalty?x=1 loyalty-pending").strip()
    assert listener.wait_for(f"-> {app.url}: 200").strip().endswith('200 {"ok": true}')
    probe = urllib.request.Request(f"{listener.url}/loyalty")  # a GET (a readiness probe) is no webhook
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(probe, timeout=5)
    assert refused.value.code == 405 and refused.value.headers["Allow"] == "POST"
    refused.value.close()
    assert len(app.received) == 1 and not any("GET" in line for line in listener.output)


def test_an_app_that_fails_makes_the_sandbox_retry(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any, listeners: list[Listener]) -> None:
    app = apps(status=503)
    listener = start_listener(["--secret", tenant["pomelo"]["webhook_api_secret"], "--forward-to", app.url], tmp_path)
    listeners.append(listener)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": f"{listener.url}/loyalty"})
    purchase(server, tenant)
    [delivery] = deliveries(server, tenant)
    assert (delivery["state"], delivery["last_status"], delivery["attempts"]) == ("pending", 503, 1)
    assert delivery["next_attempt_at"] is not None
    listener.wait_for(f"-> {app.url}: 503")


def test_an_app_that_cannot_be_reached_is_a_502_and_says_why(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, listeners: list[Listener]) -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{spare.getsockname()[1]}/hooks"
    listener = start_listener(["--secret", tenant["pomelo"]["webhook_api_secret"], "--forward-to", gone], tmp_path)
    listeners.append(listener)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": f"{listener.url}/loyalty"})
    purchase(server, tenant)
    [delivery] = deliveries(server, tenant)
    assert (delivery["state"], delivery["last_status"]) == ("pending", 502)
    line = listener.wait_for(f"-> {gone}: not delivered")
    assert "Cannot connect" in line and "answered 502" in line


def test_events_filters_the_rest_are_acknowledged_and_shown_as_skipped(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any, listeners: list[Listener]) -> None:
    app = apps()
    listener = start_listener(["--secret", tenant["pomelo"]["webhook_api_secret"], "--forward-to", app.url,
                               "--events", "loyalty-confirm,loyalty-cancel"], tmp_path)
    listeners.append(listener)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": f"{listener.url}/loyalty"})
    transaction = purchase(server, tenant)
    [pending] = deliveries(server, tenant)
    assert (pending["state"], pending["last_status"]) == ("delivered", 200)
    listener.wait_for("skipped: loyalty-pending is not among --events loyalty-cancel,loyalty-confirm")
    assert app.received == []
    admin(server, "POST", f"/pomelo/transactions/{transaction}/presentment?tenant={tenant['name']}", {})
    assert json.loads(app.wait_for(1)[0].body)["event_id"] == "loyalty-confirm"


def test_a_wrong_secret_is_refused_403_and_not_forwarded(
        server: process.Server, tenant: dict[str, Any], tmp_path: Path, apps: Any, listeners: list[Listener]) -> None:
    app = apps()
    listener = start_listener(["--secret", "d3Jvbmctc2VjcmV0", "--forward-to", app.url], tmp_path)
    listeners.append(listener)
    admin(server, "PUT", f"/pomelo/webhooks?tenant={tenant['name']}", {"url": f"{listener.url}/loyalty"})
    purchase(server, tenant)
    [delivery] = deliveries(server, tenant)
    assert delivery["last_status"] == 403
    listener.wait_for("not forwarded: the signature does not match --secret")
    assert app.received == []


@pytest.mark.parametrize(("args", "fragment"), [
    (["--secret", "not base64!"], "the secret must be base64"),
    (["--secret", ""], "the secret must be base64"),
    (["--secret", "ZGVtbw==", "--forward-to", "localhost:4242/hooks"], "expected an http(s) URL"),
    (["--secret", "ZGVtbw==", "--events", ","], "one or more event names"),
    (["--secret", "ZGVtbw==", "--port", "99999"], "port number"),
])
def test_bad_options_are_refused_at_start(tmp_path: Path, args: list[str], fragment: str) -> None:
    port = [] if "--port" in args else ["--port", "0"]
    one_line(cli("webhooks", "listen", *port, *args, cwd=tmp_path, timeout=20), 2, fragment)
