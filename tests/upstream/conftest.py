"""Fixtures for the upstream tests: the three upstream dialects registered as the app registers them
(their real connect and credential names once the clients are there), and scenario documents with an
upstream."""
from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

import gateway.app  # noqa: F401  (registers the upstream dialects)
from gateway.upstream import declaration

POMELO_SECRET = "pomelo-upstream-secret-7f3a9c"
MP_KEY = "memberpoints-upstream-key-51be0d"
IMONGGO_TOKEN = "imonggo-upstream-token-0c8e44"
CREDENTIALS = {
    "pomelo": {"client_id": "gw-client", "client_secret": POMELO_SECRET, "audience": "https://api.pomelo.la"},
    "memberpoints": {"api_id": "900100", "api_key": MP_KEY},
    "imonggo": {"api_token": IMONGGO_TOKEN},
}
SECRETS = (POMELO_SECRET, MP_KEY, IMONGGO_TOKEN)


def upstream(dialect: str, base_url: str = "http://127.0.0.1:9/", **extra: Any) -> dict[str, Any]:
    return {"dialect": dialect, "base_url": base_url, "credentials": dict(CREDENTIALS[dialect]), **extra}


def tenant(name: str = "shop", *, up: dict[str, Any] | None = None, members: list[dict[str, Any]] | None = None,
           **sections: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "imonggo": {"api_token": f"{name}-imonggo-token"},
                            "memberpoints": {"api_id": f"{name}-mp", "api_key": f"{name}-mp-key", "cid": 7},
                            "customer_types": [{"id": 8, "name": "Gold", "point_to_amount_ratio": "200"}],
                            "members": members if members is not None else [
                                {"customer_id": 1534, "mbr_id": 1534, "name": "Juan Cruz", "email": "juan@example.com",
                                 "customer_type_id": 8, "upstream_id": "usr-2ay34WhGUtCeoewakpeJTRuVWlx"}],
                            **sections}
    if up is not None:
        spec["upstream"] = up
    return spec


def scenario(*tenants: dict[str, Any]) -> dict[str, Any]:
    return {"tenants": [copy.deepcopy(t) for t in tenants]}


NAMES = {"pomelo": ("client_id", "client_secret", "audience"), "memberpoints": ("api_id", "api_key"),
         "imonggo": ("api_token",)}


def _unconnectable(transport: Any, credentials: Any) -> Any:
    raise AssertionError("this test connects to no upstream")


@pytest.fixture(autouse=True)
def registered() -> Iterator[dict[str, declaration.UpstreamDialect]]:
    """The registered dialects (a dialect whose client is not there yet is registered with its agreed
    credential names and a connect that must not be called); a test may add fakes, gone afterwards."""
    saved = dict(declaration.DIALECTS)
    for name, credentials in NAMES.items():
        if name not in declaration.DIALECTS:
            declaration.register(declaration.UpstreamDialect(name, _unconnectable, credentials, "flat"))
    yield declaration.DIALECTS
    declaration.DIALECTS.clear()
    declaration.DIALECTS.update(saved)
