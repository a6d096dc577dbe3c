"""The console's Webhooks page in a real browser: a webhook sent to a closed port fails; a real receiver is then
started on that port and the delivery redelivered from the page, which shows it delivered; the admin API and the
receiver agree. Its attempts, signed headers and body are shown; screenshot; clean under axe."""
from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.dialects.pomelo.webhooks import verify
from tests import process

SECRET = "ZGVtby13ZWJob29rLXNlY3JldA=="  # the demo tenant's webhook signing secret (gateway/data/demo.json)
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"  # Juan Cruz's card


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802  (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Receiver.received.append((dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    """As conftest's, with one attempt per webhook: a failed delivery stays failed until the page sends it again
    (no automatic retry can deliver it first)."""
    folder = tmp_path_factory.mktemp("console-webhooks")
    server = process.start(["--port", "0", "--database", f"sqlite:///{folder / 'console.db'}", "--scenario", "demo",
                            "--webhook-max-attempts", "1"], folder, timeout=60)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def receiver_port() -> Iterator[int]:
    yield free_port()


def wait_for(check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_failed_webhook_is_redelivered_from_the_page_to_a_real_receiver(console_server: Any, page: Any, shot: Any,
                                                                         axe: Any, admin: Any, receiver_port: int) -> None:
    url = f"http://127.0.0.1:{receiver_port}/hooks"  # nothing listens there yet
    assert admin("PUT", "/pomelo/webhooks?tenant=demo", {"url": url})[0] == 200
    status, purchase = admin("POST", "/pomelo/transactions?tenant=demo", {"card_id": CARD, "amount": "1500.50"})
    assert status in (200, 201), purchase

    def failed() -> Any:
        deliveries = admin("GET", "/webhooks/deliveries?tenant=demo")[1]["deliveries"]
        return next((d for d in deliveries if d["url"] == url and d["attempts"] >= 1), None)

    delivery = wait_for(failed)
    assert (delivery["state"], delivery["last_status"]) == ("failed", None) and "Cannot connect" in delivery["last_error"]

    page.goto(console_server.url + "/__admin/console/webhooks?tenant=demo")
    row = page.locator("tbody tr", has_text=url).first
    row.wait_for()
    assert delivery["event"] in row.inner_text()
    row.get_by_role("link", name=f"Open delivery {delivery['id']}").click()
    detail = page.locator("#detail")
    detail.get_by_role("heading", name=f"Delivery #{delivery['id']}").wait_for()
    assert "X-Signature" in detail.inner_text() and "hmac-sha256" in detail.inner_text()
    # the signed headers are signed again when shown: the page says they are not a record of those sent
    detail.get_by_role("heading", name="Signed headers (signed again here, not recorded)").wait_for()
    signed = detail.get_by_role("table", name="Signed as the next attempt will be", exact=False)
    assert "not a record of the headers sent" in signed.locator("caption").inner_text()
    assert "the latest attempt's time" in signed.locator("caption").inner_text()
    assert detail.get_by_role("table", name=f"Attempts of delivery {delivery['id']}").locator("tbody tr").count() >= 1
    shot(page, "webhooks-failed")
    assert axe(page) == []

    Receiver.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", receiver_port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        row.get_by_role("button", name=f"Redeliver delivery {delivery['id']}").click()
        page.get_by_text(f"Delivery #{delivery['id']} delivered (status 200).").wait_for()
        after = next(d for d in admin("GET", "/webhooks/deliveries?tenant=demo")[1]["deliveries"]
                     if d["id"] == delivery["id"])
        assert (after["state"], after["last_status"], after["attempts"]) == ("delivered", 200, 2)
        mine = [r for r in Receiver.received if r[0].get("x-idempotency-key") == delivery["idempotency_key"]]
        assert mine, Receiver.received
        headers, body = mine[0]
        assert verify(SECRET, headers, body)  # what arrived was signed as a receiver checks it
        detail.get_by_role("heading", name=f"Delivery #{delivery['id']}").wait_for()
        assert "delivered" in detail.inner_text()
        shot(page, "webhooks-redelivered")
        assert axe(page) == []
    finally:
        server.shutdown()
        server.server_close()
        admin("PUT", "/pomelo/webhooks?tenant=demo", {"url": None})


def test_an_unknown_tenant_or_a_delivery_not_listed_says_so(console_server: Any, page: Any) -> None:
    page.goto(console_server.url + "/__admin/console/webhooks?tenant=nobody")
    page.get_by_role("alert").filter(has_text="The deliveries could not be read: no tenant named 'nobody'").wait_for()
    page.goto(console_server.url + "/__admin/console/webhooks?delivery=999999")
    page.get_by_text("Not on this page of the list.").wait_for()


def test_a_redelivery_that_fails_again_says_why(console_server: Any, page: Any, admin: Any, receiver_port: int) -> None:
    url = f"http://127.0.0.1:{receiver_port}/still-closed"
    assert admin("PUT", "/pomelo/webhooks?tenant=demo", {"url": url})[0] == 200
    try:
        assert admin("POST", "/pomelo/transactions?tenant=demo", {"card_id": CARD, "amount": "10"})[0] in (200, 201)

        def failed() -> Any:
            deliveries = admin("GET", "/webhooks/deliveries?tenant=demo")[1]["deliveries"]
            return next((d for d in deliveries if d["url"] == url and d["state"] == "failed"), None)

        delivery = wait_for(failed)
        page.goto(console_server.url + "/__admin/console/webhooks?tenant=demo")
        page.get_by_role("button", name=f"Redeliver delivery {delivery['id']}").click()
        said = page.get_by_role("alert").filter(has_text=f"Delivery #{delivery['id']} failed: ")
        said.wait_for()
        assert "Cannot connect" in said.inner_text()
        after = next(d for d in admin("GET", "/webhooks/deliveries?tenant=demo")[1]["deliveries"]
                     if d["id"] == delivery["id"])
        assert (after["state"], after["attempts"]) == ("failed", 2)
    finally:
        admin("PUT", "/pomelo/webhooks?tenant=demo", {"url": None})
