"""A database from before alternate_code had a column of its own (schema version 5, when the code lived
only in the customer's profile) is upgraded by a real `loyalty-gateway serve`: the codes customers held
stay taken, so a second customer with one is refused with a 422, as on a database made since."""
from __future__ import annotations

import base64
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.ledger import Asset
from gateway.ledger.store.schema_pg import postgres_migrations
from tests import pg, process
from tests.support import sqlite_at_version

TOKEN = "0123456789abcdef0123456789abcdef01234567"
STAMP = "2026-01-01 00:00:00.000000"
ASSETS = [asset.value for asset in Asset]

# Version 5's rows: customers 1 and 2 both hold AR-7 (the old code let that happen), 3 holds AR-9, 4 none.
ROWS = [
    # ids as each engine hands them out (1, 2, ...), so the upgraded store goes on from there
    f"INSERT INTO tenants (name, config, created_at) VALUES ('legacy', '{{}}', '{STAMP}')",
    "UPDATE cursors SET position = 1 WHERE name = 'tenants.id'",
    f"INSERT INTO credentials (scheme, principal, tenant_id, secret) VALUES ('imonggo', '{TOKEN}', 1, NULL)",
    *(
        "INSERT INTO members (tenant_id, customer_no, member_no, user_ref, name, profile, created_at, updated_at)"
        f" VALUES (1, {n}, {n}, 'user-{n}', 'Customer {n}', '{profile}', '{STAMP}', '{STAMP}')"
        for n, profile in [(1, '{"alternate_code": "AR-7"}'), (2, '{"alternate_code": "AR-7"}'),
                           (3, '{"alternate_code": "AR-9", "city": "Cebu"}'), (4, '{"alternate_code": ""}')]
    ),
    *(f"INSERT INTO accounts (member_id, asset) VALUES ({n}, '{asset}')" for n in (1, 2, 3, 4) for asset in ASSETS),
]


def _sqlite_at_version_5(tmp_path: Path) -> str:
    path = tmp_path / "v5.db"
    with sqlite_at_version(path, 5) as conn:
        for statement in ROWS:
            conn.execute(statement)
    return f"sqlite:///{path}"


async def _postgres_at_version_5(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version, script in postgres_migrations():
            if version <= 5:
                await conn.execute(script)
                await conn.execute("INSERT INTO schema_version VALUES ($1)", version)
        for statement in ROWS:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def version_5(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield _sqlite_at_version_5(tmp_path)
        return
    pg.shared(request.config)  # skips, with the reason, when there is no server
    name = f"{pg.PREFIX}v5_{tmp_path.name}".lower()[:60]
    pg.run(lambda: pg._admin(f'CREATE DATABASE "{name}"'))
    try:
        url = pg.with_database(pg.admin_url(), name)
        pg.run(lambda: _postgres_at_version_5(url))
        yield url
    finally:
        pg.run(lambda: pg._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def call(method: str, url: str, body: bytes | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method=method, headers={
        "Authorization": "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode(),
        "Content-Type": "application/xml", "Accept": "application/xml"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def customer(code: str) -> bytes:
    return f"<customer><first_name>New</first_name><last_name>One</last_name><alternate_code>{code}</alternate_code></customer>".encode()


def test_codes_held_before_the_upgrade_stay_taken(version_5: str, tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", version_5, "--scenario", "none"], tmp_path)
    try:
        for code in ("AR-7", "AR-9"):
            status, body = call("POST", f"{server.url}/api/customers.xml", customer(code))
            assert status == 422 and "Alternate code has already been taken" in body, body
        status, body = call("POST", f"{server.url}/api/customers.xml", customer("AR-10"))
        assert status == 201, body
        # the lower id keeps AR-7 in the column; the other keeps it in its profile, shown as before
        for number in (1, 2, 3):
            status, body = call("GET", f"{server.url}/api/customers/{number}.xml")
            assert status == 200 and f"<alternate_code>AR-{9 if number == 3 else 7}</alternate_code>" in body, body
        # customer 2 may move to a free code, and then AR-7 is still customer 1's
        assert call("PUT", f"{server.url}/api/customers/2.xml", b"<customer><alternate_code>AR-8</alternate_code></customer>")[0] == 200
        status, body = call("PUT", f"{server.url}/api/customers/4.xml", b"<customer><alternate_code>AR-7</alternate_code></customer>")
        assert status == 422, body
    finally:
        server.stop()
