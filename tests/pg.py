"""PostgreSQL for the test suite: which server to use (LOYALTY_GATEWAY_TEST_POSTGRES_URL, else one on
127.0.0.1:5432), why it is skipped when there is none, and fresh databases cloned from a template
migrated once per session, each dropped after its test."""
from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

ENV = "LOYALTY_GATEWAY_TEST_POSTGRES_URL"
DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"
PREFIX = "lg_pg_test_"

T = TypeVar("T")
_names = itertools.count(1)
_run_id = f"{os.getpid()}_{secrets.token_hex(3)}"


def admin_url() -> str:
    """A database on the test server from which databases can be created and dropped."""
    return os.environ.get(ENV) or DEFAULT


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a thread of its own, so no test's event loop is touched."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()  # type: ignore[arg-type]


async def _admin(statement: str) -> Any:
    import asyncpg

    conn = await asyncpg.connect(admin_url(), timeout=5)
    try:
        return await conn.execute(statement)
    finally:
        await conn.close()


@cache
def unavailable() -> str | None:
    """None when the PostgreSQL tests can run, else the reason they are skipped. With the environment
    variable set, an unreachable server is a failure, not a skip: CI asked for it."""
    try:
        import asyncpg  # noqa: F401
    except ImportError:
        return "asyncpg is not installed (pip install -e '.[test]')"
    try:
        run(lambda: _admin("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means the same here
        if os.environ.get(ENV):
            raise RuntimeError(f"{ENV}={os.environ[ENV]} does not answer: {exc}") from exc
        return f"no PostgreSQL answers at 127.0.0.1:5432 and {ENV} is unset ({type(exc).__name__}: {exc})"
    return None


class Databases:
    """Creates a template database with the current schema once, then clones it per test."""

    def __init__(self) -> None:
        self.template = f"{PREFIX}tpl_{_run_id}"
        self._ready = False

    def _prepare(self) -> None:
        from gateway.ledger import open_store

        run(lambda: _admin(f'CREATE DATABASE "{self.template}"'))

        async def migrate() -> None:
            store = open_store(with_database(admin_url(), self.template))
            await store.open()
            await store.close()

        run(migrate)
        self._ready = True

    def create(self) -> str:
        if not self._ready:
            self._prepare()
        name = f"{PREFIX}{_run_id}_{next(_names)}"
        run(lambda: _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return with_database(admin_url(), name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        run(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._ready:
            run(lambda: _admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
