"""A real ActiveResource client, Shopify's pyactiveresource (the Python port of Rails' ActiveResource),
pointed at a fresh `loyalty-gateway serve` with `site = http://TOKEN:X@host:port/api/`, in XML and in
JSON, unchanged from how it would talk to Imonggo: it finds, lists, creates customers with only a first
and last name, updates them (sending every attribute back, dasherized in XML), destroys them, and reads
422s: `save()` returns False and `errors.full_messages()` holds the server's message.

pyactiveresource is synchronous (urllib), so these are plain tests; Python 3.11 needs no shim."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyactiveresource import formats
from pyactiveresource.activeresource import ActiveResource
from pyactiveresource.connection import ResourceNotFound

from tests import process

pytestmark = pytest.mark.slow
TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
FORMATS = {"xml": formats.XMLFormat, "json": formats.JSONFormat}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, process.Server]]:
    """One fresh server (demo scenario, its own database) for each format, so neither sees the other's writes."""
    started: dict[str, process.Server] = {}
    try:
        for name in FORMATS:
            where: Path = tmp_path_factory.mktemp(f"activeresource-{name}")
            started[name] = process.start(["--port", "0", "--database", f"sqlite:///{where / 'gateway.db'}"], where)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(params=list(FORMATS))
def Customer(request: pytest.FixtureRequest, servers: dict[str, process.Server]) -> type[ActiveResource]:  # noqa: N802
    server = servers[request.param]

    class Customer(ActiveResource):
        _site = f"http://{TOKEN}:X@{server.host}:{server.port}/api/"
        _format = FORMATS[request.param]

    return Customer


def same(value: Any) -> str:
    """XML attributes come back as text, JSON ones as numbers: compare as text."""
    return str(value)


def test_find_one_customer_and_list_them_with_paging(Customer: type[ActiveResource]) -> None:  # noqa: N803
    juan = Customer.find(1534)
    assert (juan.name, juan.available_points, juan.customer_type_name) == ("Juan Cruz", "30511.0", "Gold")
    assert same(juan.id) == "1534" and juan.status is None
    everyone = [same(c.id) for c in Customer.find()]
    assert everyone[:3] == ["1534", "442531", "445123"]
    assert [same(c.id) for c in Customer.find(page=1, per_page=2)] == ["1534", "442531"]
    with pytest.raises(ResourceNotFound):
        Customer.find(424242)


def test_create_with_only_a_first_and_last_name_update_and_destroy(Customer: type[ActiveResource]) -> None:  # noqa: N803
    maria = Customer({"first_name": "Maria", "last_name": "Santos"})
    assert maria.save() is True, maria.errors.full_messages()
    assert (maria.name, maria.first_name, maria.last_name) == ("Maria Santos", "Maria", "Santos")
    assert maria.available_points == "0.0" and maria.id and len(maria.code) == 16

    maria.city = "Makati"
    maria.last_name = "Reyes"
    maria.customer_type_id = 8
    maria.tax_exempt = True
    assert maria.save() is True, maria.errors.full_messages()
    again = Customer.find(maria.id)
    assert (again.city, again.last_name, again.name, again.customer_type_name) == ("Makati", "Reyes", "Maria Reyes", "Gold")
    assert same(again.tax_exempt).lower() == "true"

    again.destroy()
    assert Customer.find(maria.id).status == "D"


def test_a_customer_without_a_name_is_not_saved_and_says_why(Customer: type[ActiveResource]) -> None:  # noqa: N803
    before = len(Customer.find())
    nameless = Customer({"city": "Cebu"})
    assert nameless.save() is False
    assert nameless.errors.full_messages() == ["Name can't be blank"]
    assert len(Customer.find()) == before


def test_a_taken_alternate_code_is_not_saved_on_create_or_update(Customer: type[ActiveResource]) -> None:  # noqa: N803
    first = Customer({"first_name": "Ana", "last_name": "Lim", "alternate_code": "AR-7"})
    assert first.save() is True, first.errors.full_messages()
    second = Customer({"first_name": "Ben", "last_name": "Go", "alternate_code": "AR-7"})
    assert second.save() is False
    assert second.errors.full_messages() == ["Alternate code has already been taken"]

    second.alternate_code = "AR-8"
    assert second.save() is True, second.errors.full_messages()
    second.alternate_code = "AR-7"
    assert second.save() is False
    assert second.errors.full_messages() == ["Alternate code has already been taken"]
    assert Customer.find(second.id).alternate_code == "AR-8"
