"""Two real `loyalty-gateway serve` processes over one PostgreSQL database: both start (the second finds
the demo scenario already loaded and loads nothing; two started at the same moment on an empty database
both come up with the demo tenant loaded once), both report the postgresql store, both stop cleanly;
`seed` and `check` work on a postgresql:// URL, and no command prints a database password."""
from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientSession

from gateway.redact import shown_url as _shown
from gateway.ledger import Ledger, open_store

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "gateway")


async def serve(url: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start a server on a free port; return it and its base address once it listens."""
    process = await asyncio.create_subprocess_exec(
        *CLI, "serve", "--database", url, "--port", "0", "--access-log", "false",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    line = (await asyncio.wait_for(process.stdout.readline(), timeout=30)).decode()
    found = re.search(r"listening on (http://\S+)", line)
    assert found, line + (await process.stderr.read()).decode()  # type: ignore[union-attr]
    return process, found.group(1)


async def stop(process: asyncio.subprocess.Process) -> None:
    process.terminate()
    assert await asyncio.wait_for(process.wait(), timeout=30) == 0


@pytest.mark.slow
async def test_two_servers_share_one_database(pg_url: str) -> None:
    first, first_at = await serve(pg_url)
    try:
        second, second_at = await serve(pg_url)
        try:
            async with ClientSession() as http:
                for base in (first_at, second_at):
                    async with http.get(f"{base}/__admin/health") as response:
                        assert response.status == 200
                        assert json.loads(await response.text()) == {"status": "ok", "store": "postgresql"}
        finally:
            await stop(second)
    finally:
        await stop(first)
    ledger = Ledger(open_store(pg_url))
    await ledger.start()
    try:
        tenants = await ledger.tenants()
        assert [t.name for t in tenants] == ["demo"]  # loaded once, by the first server
        assert await ledger.count_members(tenant=tenants[0]) == 3
        assert (await ledger.audit()).ok
    finally:
        await ledger.close()


@pytest.mark.slow
async def test_two_servers_started_at_once_on_an_empty_database_both_serve_the_demo_tenant_loaded_once(
    pg_url: str,
) -> None:
    for _ in range(3):  # the race is a matter of milliseconds: give it several chances
        (first, first_at), (second, second_at) = await asyncio.gather(serve(pg_url), serve(pg_url))
        try:
            async with ClientSession() as http:
                for base in (first_at, second_at):
                    async with http.get(f"{base}/__admin/tenants") as response:
                        assert response.status == 200
                        assert [t["name"] for t in (await response.json())["tenants"]] == ["demo"]
        finally:
            await stop(second)
            await stop(first)
        ledger = Ledger(open_store(pg_url))
        await ledger.start()
        try:
            (tenant,) = await ledger.tenants()
            assert await ledger.count_members(tenant=tenant) == 3 and (await ledger.audit()).ok
            await ledger.delete_tenants(tenants=[tenant])  # empty again for the next round
        finally:
            await ledger.close()


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *CLI, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_seed_and_check_on_a_postgresql_url(pg_url: str) -> None:
    code, out, err = await run_cli("seed", "--scenario", "demo", "--database", pg_url)
    assert code == 0, err
    assert "seeded demo" in out
    code, out, err = await run_cli("check", "--database", pg_url)
    assert code == 0, err
    assert out.startswith("loyalty-gateway: audit clean (tenants 1, members 3,")


async def test_a_missing_database_is_one_line_naming_it(pg_url: str) -> None:
    missing = pg_url.rsplit("/", 1)[0] + "/lg_pg_test_does_not_exist"
    code, out, err = await run_cli("check", "--database", missing)
    assert code == 1 and out == ""
    assert err.strip().splitlines() == [
        f'loyalty-gateway: error: cannot open database {missing}: database "lg_pg_test_does_not_exist"'
        " does not exist (create it first: createdb NAME)"
    ]


def test_a_database_password_is_never_shown() -> None:
    assert _shown("postgresql://app:s3cret@db:5432/lg") == "postgresql://app:***@db:5432/lg"
    assert _shown("sqlite:///x.db") == "sqlite:///x.db"
    assert urlsplit(_shown("postgresql://app@db/lg")).password is None
