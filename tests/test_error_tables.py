"""Every dialect's error table (and the admin API's) gives every ledger error a row of its own; the check
that says so can fail; and an error nobody mapped is still a 500 in the dialect's own shape."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from lxml import etree

from gateway.admin import routes as admin
from gateway.admin.wire import render_error as admin_render
from gateway.dialects.common import ErrorRenderer, ErrorTable, error_middleware, missing_from
from gateway.dialects.imonggo import errors as imonggo
from gateway.dialects.memberpoints import errors as memberpoints
from gateway.dialects.pomelo import errors as pomelo
from gateway.ledger import UpstreamRateLimited, InvalidArgument, LedgerError, all_error_classes

TABLES: dict[str, tuple[ErrorTable, ErrorRenderer]] = {
    "imonggo": (imonggo.ERRORS, imonggo.render_error),
    "pomelo": (pomelo.ERRORS, pomelo.render_error),
    "memberpoints": (memberpoints.ERRORS, memberpoints.render_error),
    "admin": (admin.ERRORS, admin_render),
}


class Detached(Exception):
    """Where the test's error classes go afterwards: an exception, but no LedgerError."""


@pytest.fixture
def new_errors() -> Iterator[tuple[type[LedgerError], type[LedgerError]]]:
    """Two error classes nobody has mapped yet: a new kind of ledger error and a narrower InvalidArgument.
    They are real subclasses (all_error_classes() finds them through __subclasses__), so afterwards they
    are cut loose from LedgerError (pytest still holds them, so they cannot simply be collected), or every
    later completeness test in the run would fail on them."""

    class LoyaltyTierFrozen(LedgerError):
        code = "loyalty_tier_frozen"

    class ReferenceTooLong(InvalidArgument):
        code = "reference_too_long"

    made = (LoyaltyTierFrozen, ReferenceTooLong)
    try:
        yield made
    finally:
        for cls in made:
            cls.__bases__ = (Detached,)
    assert not set(made) & set(all_error_classes()), "the test's error classes outlived it"


def test_the_ledger_has_errors_to_map() -> None:
    assert len(all_error_classes()) >= 17 and LedgerError not in all_error_classes()


@pytest.mark.parametrize("name", TABLES)
def test_every_ledger_error_has_a_row_of_its_own(name: str) -> None:
    table, _ = TABLES[name]
    assert missing_from(table) == []
    stray = [cls.__name__ for cls in table if cls is not LedgerError and cls not in all_error_classes()]
    assert stray == []


@pytest.mark.parametrize("name", TABLES)
def test_the_catch_all_is_a_500_that_says_nothing_of_the_error(name: str) -> None:
    table, _ = TABLES[name]
    assert table[LedgerError].status == 500 and table[LedgerError].message == "Internal Server Error"
    # Only the store's trouble and an upstream's (a gateway tenant's vendor) are server-side answers.
    server_side = sorted(cls.__name__ for cls in table if cls is not LedgerError and table[cls].status >= 500)
    assert server_side == sorted(["StoreUnavailable", "UpstreamError", "UpstreamTimeout", "UpstreamFailed",
                                  "UpstreamCredentialsRefused", "UpstreamUnavailable"]
                                 + (["UpstreamRateLimited"] if table[UpstreamRateLimited].status == 503 else []))


@pytest.mark.parametrize("name", TABLES)
def test_the_completeness_check_names_an_error_without_a_row(
    name: str, new_errors: tuple[type[LedgerError], type[LedgerError]]
) -> None:
    table, _ = TABLES[name]
    # Neither the catch-all row nor InvalidArgument's row stands in for them.
    assert missing_from(table) == ["LoyaltyTierFrozen", "ReferenceTooLong"]
    assert missing_from({**table, **{cls: table[LedgerError] for cls in new_errors}}) == []


@pytest.mark.parametrize("name", TABLES)
def test_the_completeness_check_names_a_dropped_row(name: str) -> None:
    table, _ = TABLES[name]
    for cls in all_error_classes():
        assert missing_from({k: v for k, v in table.items() if k is not cls}) == [cls.__name__]


def shape(name: str, status: int, body: bytes) -> str:
    """The message of an error response, after checking it is in the dialect's own shape."""
    if name == "imonggo":
        root = etree.fromstring(body)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        return root[0].text or ""
    value = json.loads(body)
    if name == "pomelo":
        (detail,) = value["error"]["details"]
        assert value["error"]["error_code"] == "INTERNAL_ERROR"
        return detail["detail"]
    if name == "memberpoints":
        assert list(value) == ["endPoint", "success", "message"] and value["success"] is False
        return value["message"]
    assert value["error"]["status"] == status
    return value["error"]["message"]


@pytest.mark.parametrize("name", TABLES)
async def test_an_unmapped_error_is_a_500_in_the_dialects_shape_and_is_logged(
    name: str, new_errors: tuple[type[LedgerError], type[LedgerError]], aiohttp_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    table, render = TABLES[name]
    brand_new, narrower = new_errors

    async def raising(request: web.Request) -> web.Response:
        raise {"new": brand_new, "narrower": narrower, "known": InvalidArgument}[request.match_info["which"]](
            "secret internals: row 42 of table holds"
        )

    app = web.Application(middlewares=[error_middleware(table, render)])
    app.router.add_get("/{which}", raising)
    client = await aiohttp_client(app)

    caplog.set_level(logging.ERROR, logger="gateway.errors")
    response = await client.get("/new")
    assert response.status == 500
    assert shape(name, 500, await response.read()) == "Internal Server Error"
    assert "LoyaltyTierFrozen has no row of its own" in caplog.text

    # A narrower error takes its parent's row at run time (its completeness test fails meanwhile), and
    # says that it had no row of its own.
    response = await client.get("/narrower")
    assert response.status == table[InvalidArgument].status
    assert "ReferenceTooLong has no row of its own" in caplog.text

    caplog.clear()
    response = await client.get("/known")
    assert response.status == table[InvalidArgument].status and caplog.text == ""
