"""Fixtures for contract tests: the shared app client and store parametrization from tests/support.py."""
from __future__ import annotations

from tests.support import app_client, ledger, store_url  # noqa: F401  (fixtures)
