"""Fixtures for the store tests: a fresh PostgreSQL database for tests about PostgreSQL alone."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import pg


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    databases = pg.shared(request.config)
    url = databases.create()
    yield url
    databases.drop(url)
