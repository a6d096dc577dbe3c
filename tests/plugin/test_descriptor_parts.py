"""The descriptor parts the plugin builds its views and its sink from: a dialect's Basic auth pair is the one
its authorize sends, and a dialect's webhook sink reads the event name, the secret and the subscription the
same way its own sender writes them."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from gateway.app import DIALECT_LIST

BASIC = [d for d in DIALECT_LIST if d.cases and d.cases.client and d.cases.client.basic]
SINKS = [d for d in DIALECT_LIST if d.webhooks and d.webhooks.sink]


def test_the_dialects_that_need_them_have_them() -> None:
    assert [d.name for d in BASIC] == ["imonggo"]
    assert [d.name for d in SINKS] == [d.name for d in DIALECT_LIST if d.webhooks is not None] == ["pomelo"]


@pytest.mark.parametrize("dialect", BASIC, ids=lambda d: d.name)
async def test_the_basic_pair_is_what_authorize_sends(dialect) -> None:  # type: ignore[no-untyped-def]
    client = dialect.cases.client
    credentials = client.defaults
    headers = await client.authorize(credentials, "default", None)
    user, password = client.basic(credentials)
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("dialect", SINKS, ids=lambda d: d.name)
def test_the_sink_reads_what_the_sender_signs(dialect) -> None:  # type: ignore[no-untyped-def]
    webhooks, sink = dialect.webhooks, dialect.webhooks.sink
    secret = base64.b64encode(b"k" * 32).decode()
    section = {"webhook_api_key": "key", "webhook_api_secret": secret}
    assert sink.secret(section) == secret
    body = b'{"event_id":"loyalty-confirm","idempotency_key":"x"}'
    signed = webhooks.headers(section, url="http://127.0.0.1:1/t/pomelo", body=body, key="x",
                              now=datetime(2030, 1, 1, tzinfo=timezone.utc))
    assert webhooks.verify(sink.secret(section), signed, body)
    assert not webhooks.verify(base64.b64encode(b"o" * 32).decode(), signed, body)
    assert sink.event_of(body) == "loyalty-confirm"
    assert [sink.event_of(b) for b in (b"not json", b"[]", b'{"event_id": 3}')] == [None, None, None]
    method, path, subscription = sink.subscribe("shop 1", "http://127.0.0.1:1/shop%201/pomelo")
    assert (method, path, subscription) == ("PUT", "/pomelo/webhooks?tenant=shop+1",
                                            {"url": "http://127.0.0.1:1/shop%201/pomelo"})
    assert set(webhooks.targets({"webhooks": subscription})) == {"pending", "confirm", "cancel"}
