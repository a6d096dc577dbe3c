"""A real `loyalty-gateway serve` on the demo scenario playing a vendor for the client tests, and the part of
its admin API every such test drives (the calls, fault rules and journal of one dialect)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest

from tests import process


def vendor_fixture(name: str) -> Callable[..., Any]:
    """A module-scoped fixture: one vendor process on SQLite in a temporary directory, stopped at the end."""

    @pytest.fixture(scope="module")
    def vendor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
        where = tmp_path_factory.mktemp(f"{name}-vendor")
        server = process.start(["--port", "0", "--database", f"sqlite:///{where / 'vendor.db'}"], where)
        yield server
        server.stop()

    return vendor


class VendorAdmin:
    """The vendor process's admin API for one dialect, as a test drives it."""

    dialect = ""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}/__admin{path}", json=body) as response:
            assert response.status < 300, f"{method} {path}: {response.status} {await response.text()}"
            return await response.json()

    async def fault(self, **rule: Any) -> None:
        await self.admin("POST", "/faults", {"dialect": self.dialect, **rule})

    async def requests(self, path: str = "/") -> list[dict[str, Any]]:
        """What reached the vendor in this dialect, oldest first."""
        found = await self.admin("GET", f"/requests?dialect={self.dialect}&path={path}")
        return list(reversed(found["requests"]))
