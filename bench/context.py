"""What a row is handed: the run's options (quick or full, seconds per wrk run, rounds, where databases
live, which stores) and a scratch directory on the same filesystem as the cached databases. Knows no
row and no vendor."""
from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import harness


@dataclass(frozen=True)
class Context:
    quick: bool
    seconds: int  # one wrk run
    rounds: int  # alternations; figures are medians over them
    workdir: Path  # scratch, removed at the end; the fsync reference and the servers' databases go here
    database_dir: Path  # the cached million-member database (kept between runs)
    members: int  # how many members the "1M" rows generate (smaller with --quick)
    soak_minutes: float
    postgres: str | None  # an admin URL: the store rows run on a fresh database there too
    rebuild: bool = False  # the big database is generated again even if one is kept
    migrate_members: int | None = None  # members the migrate row moves (default 10,000; 1,000 with --quick)

    def stores(self) -> Iterator[tuple[str, str]]:
        """(label, database URL) for each store the store rows run on: SQLite always, PostgreSQL if asked.
        Yields inside a fresh PostgreSQL database, dropped after the row is done with it."""
        yield "sqlite", f"sqlite:///{self.workdir / f'gateway-{secrets.token_hex(4)}.db'}"
        if self.postgres:
            with scratch_postgres(self.postgres) as url:
                yield "postgresql", url

    def gateway(self, database: str, *extra: str) -> harness.Server:
        return harness.gateway_server(database, self.workdir, *extra)

    def hello(self) -> harness.Server:
        return harness.hello_server(self.workdir)


@contextlib.contextmanager
def scratch_postgres(admin_url: str, prefix: str = "lg_bench") -> Iterator[str]:
    """A database of its own beside the one admin_url names, dropped afterwards, so a run never meets
    another's tenants. Called outside any event loop (it runs its own to create and drop the database)."""
    import asyncpg  # the postgres extra; only asked for with --postgres
    from urllib.parse import urlsplit, urlunsplit

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(2)}"

    async def execute(sql: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
