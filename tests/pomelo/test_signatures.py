"""Webhook signatures exactly as Pomelo's official example code computes them."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

from gateway.dialects.pomelo.webhooks import endpoint_of, headers, signature, verify

SECRET = base64.b64encode(b"an api secret of 32 bytes length").decode()
BODY = b'{"event_id":"loyalty-pending","idempotency_key":"ctx-1-pending","event_detail":{}}'
NOW = datetime(2026, 1, 20, 15, 10, 35, tzinfo=timezone.utc)


def test_the_signature_is_base64_hmac_sha256_over_timestamp_endpoint_body() -> None:
    # Computed the way the Postman/Go examples do, step by step, independently of the module.
    key = base64.b64decode(SECRET)
    digest = hmac.new(key, b"1768921835" + b"/hooks/loyalty?x=1" + BODY, hashlib.sha256).digest()
    assert signature(SECRET, "1768921835", "/hooks/loyalty?x=1", BODY) == "hmac-sha256 " + base64.b64encode(digest).decode()


def test_sent_headers_verify_and_any_change_breaks_them() -> None:
    sent = headers(api_key="key-1", api_secret=SECRET, url="http://h:9/hooks/loyalty?x=1", body=BODY,
                   key="ctx-1-pending", now=NOW)
    assert sent["X-Timestamp"] == str(int(NOW.timestamp())) and sent["X-Endpoint"] == "/hooks/loyalty?x=1"
    assert sent["x-idempotency-key"] == "ctx-1-pending" and sent["X-Api-Key"] == "key-1"
    assert verify(SECRET, sent, BODY)
    assert not verify(SECRET, sent, BODY + b" ")
    assert not verify(SECRET, {**sent, "X-Endpoint": "/other"}, BODY)
    assert not verify(SECRET, {**sent, "X-Timestamp": "1"}, BODY)
    assert not verify(base64.b64encode(b"another secret").decode(), sent, BODY)
    assert not verify("not base64!", sent, BODY)
    assert not verify(SECRET, {k: v for k, v in sent.items() if k != "X-Signature"}, BODY)


def test_the_endpoint_is_the_path_with_its_query() -> None:
    assert endpoint_of("https://example.com") == "/"
    assert endpoint_of("https://example.com/a/b?c=d&e=f") == "/a/b?c=d&e=f"
