"""A tenant's upstream may name a shadow: a second upstream (the candidate vendor) with its own dialect,
base URL and credentials, checked exactly like the primary's, with errors naming the shadow's field; its
secrets are masked wherever the declaration is shown, and counted among the declaration's secrets. A shadow
that is the primary's own account (same dialect, place and credentials) is refused: it would apply every
movement twice there."""
from __future__ import annotations

from typing import Any

import pytest

from gateway.admin.wire import upstream_json
from gateway.scenario import ScenarioError, check_scenario, tenant_parts
from gateway.upstream.declaration import masked, secrets_of
from tests.upstream.conftest import MP_KEY, POMELO_SECRET, SECRETS, scenario, tenant, upstream


def refused(document: dict[str, Any]) -> str:
    with pytest.raises(ScenarioError) as caught:
        check_scenario(document, "request body")
    message = str(caught.value)
    assert not [s for s in SECRETS if s in message], message
    return message


def with_shadow(shadow: Any) -> dict[str, Any]:
    return scenario(tenant(up={**upstream("pomelo"), "shadow": shadow}))


def test_a_shadow_is_kept_under_shadow_checked_like_the_primary() -> None:
    checked = check_scenario(with_shadow(upstream("memberpoints", "https://mp.example/api/")), "body")
    _, config = tenant_parts(checked["tenants"][0])
    assert config["upstream"]["shadow"] == {
        "dialect": "memberpoints", "base_url": "https://mp.example/api",
        "credentials": {"api_id": "900100", "api_key": MP_KEY},
    }
    assert config["upstream"]["record"] is False


def test_no_shadow_means_no_shadow_key() -> None:
    checked = check_scenario(scenario(tenant(up=upstream("pomelo"))), "body")
    assert "shadow" not in tenant_parts(checked["tenants"][0])[1]["upstream"]


@pytest.mark.parametrize(("shadow", "words"), [
    ("memberpoints", "tenants[0].upstream.shadow: must be an object with dialect, base_url and credentials"),
    ({**upstream("memberpoints"), "dialect": "square"}, "tenants[0].upstream.shadow.dialect: 'square' is no upstream dialect"),
    ({**upstream("memberpoints"), "dialect": None}, "tenants[0].upstream.shadow.dialect: required"),
    ({**upstream("memberpoints"), "base_url": "ftp://x.example"}, "tenants[0].upstream.shadow.base_url: must be an absolute"),
    ({**upstream("memberpoints"), "base_url": "https://u:p@x.example"},
     "tenants[0].upstream.shadow.base_url: must not carry a user or password"),
    ({**upstream("memberpoints"), "record": True}, "tenants[0].upstream.shadow: unknown field 'record'"),
    ({**upstream("memberpoints"), "shadow": upstream("imonggo")}, "tenants[0].upstream.shadow: unknown field 'shadow'"),
    ({**upstream("memberpoints"), "credentials": None}, "tenants[0].upstream.shadow.credentials: must be an object with api_id, api_key"),
    ({**upstream("memberpoints"), "credentials": {"api_id": "1"}},
     "tenants[0].upstream.shadow.credentials.api_key: required (the memberpoints upstream takes api_id, api_key)"),
    ({**upstream("memberpoints"), "credentials": {"api_id": "1", "api_key": " "}},
     "tenants[0].upstream.shadow.credentials.api_key: must be a non-empty string"),
    ({**upstream("pomelo"), "credentials": {**upstream("pomelo")["credentials"], "client_secret": 7}},
     "tenants[0].upstream.shadow.credentials.client_secret: must be a non-empty string"),
    ({**upstream("memberpoints"), "credentials": {**upstream("memberpoints")["credentials"], "token": "x"}},
     "tenants[0].upstream.shadow.credentials: 'token' is not a memberpoints credential"),
])
def test_each_bad_shadow_field_is_named(shadow: Any, words: str) -> None:
    assert words in refused(with_shadow(shadow))


def test_the_shadows_secrets_are_masked_and_counted_among_the_declarations_secrets() -> None:
    declared = {**upstream("memberpoints"), "shadow": upstream("pomelo")}
    shown = masked(declared)
    assert shown["credentials"] == {"api_id": "900100", "api_key": "[FILTERED]"}
    assert shown["shadow"] == {"dialect": "pomelo", "base_url": "http://127.0.0.1:9/", "credentials": {
        "client_id": "gw-client", "client_secret": "[FILTERED]", "audience": "https://api.pomelo.la"}}
    assert set(secrets_of(declared)) == {MP_KEY, POMELO_SECRET}
    assert POMELO_SECRET not in repr(upstream_json(declared)) and MP_KEY not in repr(upstream_json(declared))
    assert upstream_json(declared)["shadow"]["credentials"]["client_secret"] == "[FILTERED]"  # type: ignore[index]


def test_a_declaration_without_a_shadow_shows_none() -> None:
    assert masked(upstream("imonggo"))["shadow"] is None


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:9/", "HTTP://127.0.0.1:9", "http://127.0.0.1:9//"])
def test_a_shadow_that_is_the_primary_itself_is_refused(base_url: str) -> None:
    message = refused(with_shadow(upstream("pomelo", base_url)))
    assert "tenants[0].upstream.shadow: must not be the primary upstream itself" in message, message


def test_the_primarys_vendor_under_other_credentials_is_another_account_and_may_be_the_shadow() -> None:
    other = upstream("pomelo")
    other["credentials"]["client_id"] = "another-tenant-there"
    checked = check_scenario(with_shadow(other), "body")
    _, config = tenant_parts(checked["tenants"][0])
    assert config["upstream"]["shadow"]["credentials"]["client_id"] == "another-tenant-there"
    elsewhere = check_scenario(with_shadow(upstream("pomelo", "http://127.0.0.1:10/")), "body")
    assert tenant_parts(elsewhere["tenants"][0])[1]["upstream"]["shadow"]["base_url"] == "http://127.0.0.1:10"
