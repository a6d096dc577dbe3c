"""Tests of the pytest plugin as an integrator uses it: each writes a small project of its own with pytester
(`-p pytester` is in the suite's addopts: a conftest below the root may not name plugins) and runs it; the
plugin comes from the installed package's pytest11 entry point, as it would for them."""
from __future__ import annotations

import contextlib

import pytest

# Imported here, before any in-process pytester run: such a run puts sys.modules back as it found it, and a C
# extension first imported inside one (asyncpg's, for a --loyalty-gateway-database run) cannot be imported
# again by this process once dropped (a segfault, not an error).
import gateway.testing  # noqa: F401, E402

with contextlib.suppress(ImportError):  # without it, the PostgreSQL tests skip
    import asyncpg  # noqa: F401

# The integrator's pytest settings: strict about warnings (an unclosed socket or a thread's exception in
# the plugin fails their run), pytest-asyncio in strict mode so anyio's tests are anyio's.
INTEGRATOR_INI = """[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

JUAN = 1534  # the demo's Juan Cruz: customer id and mbr_id
JUAN_CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"
JUAN_USER = "usr-2ay34WhGUtCeoewakpeJTRuVWlx"


@pytest.fixture
def integrator(pytester: pytest.Pytester) -> pytest.Pytester:
    """An empty integrator project with its pytest.ini."""
    pytester.makeini(INTEGRATOR_INI)
    return pytester
