"""PostgreSQL for the test suite: which server to use (LOYALTY_GATEWAY_TEST_POSTGRES_URL, else one on
127.0.0.1:5432), why it is skipped when there is none, and empty databases for tests: clones of a
template migrated once per run, emptied and reused between tests, all dropped when pytest finishes."""
from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import pytest

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
    variable set, a missing driver or an unreachable server is a failure, not a skip: CI asked for it."""
    try:
        import asyncpg  # noqa: F401
    except ImportError as exc:
        if os.environ.get(ENV):
            raise RuntimeError(f"{ENV} is set but asyncpg is not installed (pip install -e '.[test]')") from exc
        return "asyncpg is not installed (pip install -e '.[test]')"
    try:
        run(lambda: _admin("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means the same here
        if os.environ.get(ENV):
            raise RuntimeError(f"{ENV}={os.environ[ENV]} does not answer: {exc}") from exc
        where = urlsplit(DEFAULT).netloc.rpartition("@")[2]
        return f"no PostgreSQL answers at {where} and {ENV} is unset ({type(exc).__name__}: {exc})"
    return None


class Databases:
    """Creates a template database with the current schema once, then hands out clones. A clone comes
    back emptied (TRUNCATE ... RESTART IDENTITY) for the next test, faster than cloning again (~0.4 s
    on PostgreSQL 15); one whose tables, schema versions or settings a test changed is dropped instead."""

    def __init__(self) -> None:
        self.template = f"{PREFIX}tpl_{_run_id}"
        self._ready = False
        self._state: State | None = None
        self._free: list[str] = []
        self._all: set[str] = set()

    def _prepare(self) -> None:
        from gateway.ledger import open_store

        run(lambda: _admin(f'CREATE DATABASE "{self.template}"'))

        async def migrate() -> None:
            store = open_store(with_database(admin_url(), self.template))
            await store.open()
            await store.close()

        run(migrate)
        self._state = run(lambda: _state(with_database(admin_url(), self.template)))
        self._ready = True

    def create(self) -> str:
        if self._free:
            return self._free.pop()
        if not self._ready:
            self._prepare()
        name = f"{PREFIX}{_run_id}_{next(_names)}"
        run(lambda: _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        self._all.add(name)
        return with_database(admin_url(), name)

    def drop(self, url: str) -> None:
        """Give a database back: emptied for reuse when its tables are still the template's, else dropped."""
        try:
            if self._state is not None and run(lambda: _state(url)) == self._state:
                run(lambda: _empty(url, self._state[0]))  # type: ignore[index]
                self._free.append(url)
                return
        except Exception:  # noqa: BLE001 - anything odd about it: drop it and clone afresh next time
            pass
        name = urlsplit(url).path.lstrip("/")
        self._all.discard(name)
        run(lambda: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in sorted(self._all):
            run(lambda name=name: _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # type: ignore[misc]
        if self._ready:
            run(lambda: _admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))


State = tuple[tuple[str, ...], tuple[int, ...], tuple[str, ...]]


async def _state(url: str) -> State:
    """Tables, recorded schema versions and per-database settings: a used database whose state is still
    the template's can be emptied and reused; a test that changed any of them spoils it."""
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " ORDER BY table_name"
        )
        versions = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
        settings = await conn.fetch(
            "SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase"
            " WHERE d.datname = current_database()"
        )
        return tuple(r[0] for r in tables), tuple(r[0] for r in versions), tuple(str(r[0]) for r in settings)
    finally:
        await conn.close()


async def _empty(url: str, tables: tuple[str, ...]) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5, server_settings={"lock_timeout": "2s", "synchronous_commit": "off"})
    try:
        names = ", ".join(f'"{t}"' for t in tables if t != "schema_version")
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY")
    finally:
        await conn.close()


_shared: list[Databases] = []


def shared(config: pytest.Config) -> Databases:
    """The run's Databases, made on first use and dropped when pytest finishes; skips the calling test,
    with the reason, when no server is there. No fixture to import: any conftest that imports
    store_url gets PostgreSQL too."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    if not _shared:
        _shared.append(Databases())
        config.add_cleanup(lambda: _shared.pop().close())
    return _shared[0]


def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The body of a fixture parametrized "sqlite"/"postgres": a database URL of that store for one test
    (a file in tmp_path, or a fresh PostgreSQL database dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    databases = shared(request.config)
    url = databases.create()
    yield url
    databases.drop(url)
