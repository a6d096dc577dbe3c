"""The ledger's neutral shared-state operations on both stores: documents move one version, counters
count atomically and restart after their window, record streams keep their newest within both caps."""
from __future__ import annotations

import asyncio

from gateway.ledger import Ledger


async def test_documents_move_one_version_and_are_written_over_the_version_read_only(ledger: Ledger) -> None:
    assert await ledger.shared_version() == 0
    first = await ledger.put_shared_document("a", '{"x": 1}')
    second = await ledger.put_shared_document("b", "[]", if_version=0)
    assert first is not None and second is not None and second > first
    assert await ledger.put_shared_document("a", "absent only", if_version=0) is None
    assert await ledger.put_shared_document("a", "stale", if_version=first + 100) is None
    version, documents = await ledger.shared_documents()
    assert documents == {"a": (first, '{"x": 1}'), "b": (second, "[]")}
    assert version == second == await ledger.shared_version()
    third = await ledger.put_shared_document("a", "changed", if_version=first)
    assert third is not None and third > second
    assert (await ledger.shared_documents())[1]["a"] == (third, "changed")


async def test_counters_count_every_concurrent_call_and_restart_after_their_window(ledger: Ledger) -> None:
    counts = await asyncio.gather(*(ledger.count_up("c:1", now=1000, window=60) for _ in range(20)))
    assert sorted(c for _, c in counts) == list(range(1, 21))
    assert await ledger.count_up("c:1", now=1059, window=60) == (1000, 21)
    assert await ledger.count_up("c:1", now=1060, window=60) == (1060, 1)
    assert await ledger.count_up("forever", now=0) == (0, 1)
    assert await ledger.counters("c:") == {"c:1": 1}
    assert await ledger.drop_counters("c:") == 1
    assert await ledger.counters("") == {"forever": 1}


async def test_record_streams_keep_the_newest_within_both_caps(ledger: Ledger) -> None:
    await ledger.append_records("s", [(10, f"r{i}") for i in range(5)], keep=3, keep_size=1000)
    assert [b for _, b in await ledger.newest_records("s", 10)] == ["r4", "r3", "r2"]
    await ledger.append_records("s", [(400, "big1"), (400, "big2")], keep=3, keep_size=850)
    assert [b for _, b in await ledger.newest_records("s", 10)] == ["big2", "big1", "r4"]
    assert await ledger.record_totals("s") == (3, 810)
    await ledger.append_records("other", [(1, "o")], keep=3, keep_size=10)
    ids = [i for i, _ in await ledger.newest_records("s", 10)]
    assert ids == sorted(ids, reverse=True)
    assert await ledger.clear_records("s") == 3
    assert await ledger.newest_records("s", 10) == [] and await ledger.record_totals("other") == (1, 1)
