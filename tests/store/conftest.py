"""Fixtures for the store tests: a fresh PostgreSQL database for tests about PostgreSQL alone."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture
def pg_url(pg_databases: pg.Databases) -> Iterator[str]:
    url = pg_databases.create()
    yield url
    pg_databases.drop(url)
