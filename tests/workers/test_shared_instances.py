"""Two separate `serve --shared-state true` instances on one database (no supervisor, no common memory):
what one is told, the other does at once, through the store's version read on every request."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import process
from tests.workers.test_serve_workers import AUTH, CUSTOMER, _fresh, _journal

pytestmark = pytest.mark.slow


async def test_instances_with_shared_state_see_each_others_changes(store_url: str, tmp_path: Path) -> None:
    args = ["--shared-state", "true", "--port", "0", "--database", store_url, "--access-log", "false"]
    first = process.start(args, cwd=tmp_path)
    try:
        second = process.start(args, cwd=tmp_path)
        try:
            one, other = first.url, second.url
            [(status, _)] = await _fresh(one, "POST", "/__admin/faults", json={"effect": "status", "status": 418, "times": 2})
            assert status == 201
            statuses = [s for s, _ in await _fresh(other, "GET", CUSTOMER, n=3, headers=AUTH)]
            statuses += [s for s, _ in await _fresh(one, "GET", CUSTOMER, n=3, headers=AUTH)]
            assert sorted(statuses) == [200] * 4 + [418] * 2
            await _fresh(other, "PUT", "/__admin/clock", json={"offset_seconds": 86400 * 365})
            [(_, clock)] = await _fresh(one, "GET", "/__admin/clock")
            assert clock["offset_seconds"] == 86400 * 365
            assert len({e["worker"] for e in await _journal(one)}) == 2  # both instances' requests, in one journal
            [(status, _)] = await _fresh(other, "POST", "/__admin/reset")
            assert status == 200
            assert await _journal(one) == []
            [(_, clock)] = await _fresh(one, "GET", "/__admin/clock")
            assert clock["offset_seconds"] == 0
        finally:
            assert second.stop() == 0
    finally:
        assert first.stop() == 0
