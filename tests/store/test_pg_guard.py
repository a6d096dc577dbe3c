"""When CI names a PostgreSQL server (LOYALTY_GATEWAY_TEST_POSTGRES_URL), every reason the PostgreSQL
tests could not run is a failure; only without it do they skip, with the reason."""
from __future__ import annotations

import sys

import pytest

from tests import pg


def reason() -> str | None:
    return pg.unavailable.__wrapped__()  # type: ignore[attr-defined, no-any-return]  # past the run's cache


@pytest.fixture
def no_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # `import asyncpg` now raises ImportError


def test_without_the_driver_ci_fails(no_driver: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg.ENV, "postgresql://postgres@127.0.0.1:5432/postgres")
    with pytest.raises(RuntimeError, match="asyncpg is not installed"):
        reason()


def test_without_the_driver_a_local_run_skips_saying_why(no_driver: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg.ENV, raising=False)
    assert "asyncpg is not installed" in (reason() or "")


def test_an_unreachable_server_ci_named_fails(monkeypatch: pytest.MonkeyPatch, unused_tcp_port: int) -> None:
    monkeypatch.setenv(pg.ENV, f"postgresql://postgres@127.0.0.1:{unused_tcp_port}/postgres")
    with pytest.raises(RuntimeError, match="does not answer"):
        reason()
