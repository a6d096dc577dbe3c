"""An upstream's secret credential names (api_key, client_secret, api_token) are masked in anything the
journal keeps: JSON, form-encoded and XML bodies and query strings; the names that are no secret
(api_id, client_id, audience) stay readable."""
from __future__ import annotations

import pytest

from gateway.sandbox.redact import redact_body, redact_line, redact_query


@pytest.mark.parametrize("key", ["api_key", "client_secret", "api_token"])
def test_each_secret_credential_is_masked_in_every_body_shape(key: str) -> None:
    assert redact_body(f'{{"api_id": "900", "{key}": "s3cret"}}'.encode(), "application/json") == (
        f'{{"api_id": "900", "{key}": "[FILTERED]"}}'.encode())
    assert redact_body(f"client_id=c&{key}=s3cret".encode(), "application/x-www-form-urlencoded") == (
        f"client_id=c&{key}=[FILTERED]".encode())
    assert redact_body(f"<u><{key}>s3cret</{key}></u>".encode(), "application/xml") == f"<u><{key}>[FILTERED]</{key}></u>".encode()
    assert redact_query(f"{key}=s3cret&audience=a") == f"{key}=[FILTERED]&audience=a"
    assert "s3cret" not in redact_line(f'"GET /x?{key}=s3cret HTTP/1.1" 200')


def test_a_whole_upstream_declaration_in_an_admin_body_keeps_only_what_is_no_secret() -> None:
    body = (b'{"upstream": {"dialect": "memberpoints", "credentials": {"api_id": "900", "api_key": "k-1"}}, '
            b'"pomelo": {"client_id": "c", "client_secret": "s-1", "audience": "https://api.pomelo.la"}}')
    masked = redact_body(body, "application/json").decode()
    assert "k-1" not in masked and "s-1" not in masked
    assert '"api_id": "900"' in masked and '"client_id": "c"' in masked and "api.pomelo.la" in masked
