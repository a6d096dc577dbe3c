"""GET /__admin/requests/stream: new journal entries as server-sent events, live, filtered as GET /requests
filters, resumed after Last-Event-ID, with heartbeats; refused as the rest of the admin API is; ended
cleanly on shutdown; over a shared journal it reads only what came after its cursor."""
from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from gateway.admin import controls
from gateway.keys import SANDBOX
from tests import process
from tests.admin.real import imonggo_auth, memberpoints_auth, read, write

STREAM = "/__admin/requests/stream"


async def next_event(response: ClientResponse, timeout: float = 5) -> dict[str, Any]:
    """The next event of the stream (comments skipped), as {"id", "event", "data", ...}."""
    event: dict[str, Any] = {}
    while True:
        line = (await asyncio.wait_for(response.content.readline(), timeout)).decode()
        if line == "":
            raise EOFError("the stream ended")
        line = line.rstrip("\n")
        if line == "":
            if event:
                return event
            continue
        if line.startswith(":"):
            event.setdefault("comments", []).append(line)
            continue
        name, _, value = line.partition(": ")
        event[name] = json.loads(value) if name == "data" else value


async def request_event(response: ClientResponse) -> dict[str, Any]:
    event = await next_event(response)
    assert event["event"] == "request", event
    assert int(event["id"]) == event["data"]["id"]
    return event["data"]


async def opened(client: TestClient, query: str = "", **headers: str) -> ClientResponse:
    response = await client.get(STREAM + query, headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    ready = await next_event(response)
    assert ready["event"] == "ready" and ready["retry"] == "1000"
    assert int(ready["id"]) == ready["data"]["after"]
    return response


async def test_a_request_made_while_the_stream_is_open_arrives_as_an_event_with_its_headers_masked(sandbox_client) -> None:
    client = await sandbox_client()
    await read(client, "memberpoints")  # before the stream: not sent (it starts from now)
    stream = await opened(client)
    assert (await write(client, "imonggo", "10")).status == 200
    entry = await request_event(stream)
    assert (entry["tenant"], entry["dialect"], entry["method"], entry["status"]) == ("demo", "imonggo", "POST", 200)
    headers = dict(entry["request_headers"])
    assert headers["Authorization"] == "Basic [FILTERED]"
    assert "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa" not in json.dumps(entry)
    assert dict(entry["response_headers"])["X-Request-Id"] == entry["request_id"]
    listed = (await (await client.get("/__admin/requests")).json())["requests"][0]
    assert listed == entry  # the same entry GET /requests lists
    stream.close()


async def test_a_secret_header_of_any_vendor_is_masked_and_an_ordinary_one_kept(sandbox_client) -> None:
    client = await sandbox_client()
    stream = await opened(client)
    await read(client, "memberpoints", headers={**memberpoints_auth(), "X-Idempotency-Key": "k-1", "Cookie": "a=b"})
    headers = dict((await request_event(stream))["request_headers"])
    assert headers["apiKey"] == "[FILTERED]" and headers["Cookie"] == "[FILTERED]"
    assert headers["apiID"] == "demo-api-id" and headers["X-Idempotency-Key"] == "k-1"
    stream.close()


async def test_the_stream_filters_as_the_listing_does(sandbox_client) -> None:
    client = await sandbox_client()
    stream = await opened(client, "?dialect=memberpoints&status=4xx&path=/webapps/*")
    await read(client, "imonggo")  # another dialect
    await read(client, "memberpoints")  # a 200
    await read(client, "memberpoints", headers=memberpoints_auth(api_key="wrong"))  # the one that matches
    entry = await request_event(stream)
    assert (entry["dialect"], entry["status"], entry["tenant"]) == ("memberpoints", 401, None)
    stream.close()


async def test_since_and_last_event_id_resume_after_that_entry_and_timeout_0_ends_at_once(sandbox_client) -> None:
    client = await sandbox_client()
    for _ in range(3):
        await read(client, "imonggo")
    first, second, third = sorted(e["id"] for e in (await (await client.get("/__admin/requests")).json())["requests"])
    stream = await opened(client, f"?since={first}&timeout=0")
    assert [(await request_event(stream))["id"] for _ in range(2)] == [second, third]
    with pytest.raises(EOFError):
        await next_event(stream)
    # Last-Event-ID (an EventSource's reconnect) wins over ?since=
    stream = await opened(client, f"?since={first}&timeout=0", **{"Last-Event-ID": str(second)})
    assert (await request_event(stream))["id"] == third
    with pytest.raises(EOFError):
        await next_event(stream)
    # a cursor past the newest entry (ids began again: a restart) starts from the newest
    stream = await opened(client, "?timeout=0", **{"Last-Event-ID": "999999"})
    with pytest.raises(EOFError):
        await next_event(stream)


async def test_a_quiet_stream_sends_a_heartbeat_comment(sandbox_client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controls, "HEARTBEAT_SECONDS", 0.2)
    client = await sandbox_client()
    stream = await opened(client)
    await asyncio.sleep(0.5)
    await read(client, "imonggo")
    beats = 0
    while (event := await next_event(stream)) == {"comments": [": heartbeat"]}:  # a comment: no event dispatched
        beats += 1
    assert beats >= 1 and event["event"] == "request" and event["data"]["dialect"] == "imonggo"
    stream.close()


@pytest.mark.parametrize("query, headers, says", [
    ("?status=abc", {}, "status must be"),
    ("?since=2024-01-01T00:00:00Z", {}, "must be an entry id"),
    ("?since=1234567890123456789", {}, "must be an entry id"),
    ("", {"Last-Event-ID": "abc"}, "must be an entry id"),
    ("?timeout=-1", {}, "timeout must be a whole number from 0 to 3600"),
    ("?timeout=3601", {}, "timeout must be a whole number from 0 to 3600"),
])
async def test_a_bad_filter_is_a_400_in_the_admin_error_shape(sandbox_client, query: str, headers: dict[str, str],
                                                              says: str) -> None:
    client = await sandbox_client()
    response = await client.get(STREAM + query, headers=headers)
    assert response.status == 400
    assert says in (await response.json())["error"]["message"]


async def test_the_stream_is_protected_as_the_admin_api_is(sandbox_client) -> None:
    client = await sandbox_client()
    refused = await client.get(STREAM, headers={"Origin": "http://evil.example"})
    assert refused.status == 403 and "local callers only" in (await refused.json())["error"]["message"]
    guarded = await sandbox_client(admin_token="s3cret")
    assert (await guarded.get(STREAM)).status == 401
    assert (await guarded.get(STREAM, headers={"Authorization": "Bearer wrong"})).status == 401
    stream = await opened(guarded, "?timeout=0", Authorization="Bearer s3cret")
    with pytest.raises(EOFError):
        await next_event(stream)


async def test_over_a_shared_journal_it_reads_only_entries_after_its_cursor(sandbox_client) -> None:
    client = await sandbox_client(shared_state=True)
    journal = client.app[SANDBOX].journal
    store = journal.shared.store
    for _ in range(3):
        await read(client, "imonggo")
    await client.get("/__admin/requests")  # written to the store
    whole_reads: list[int] = []
    after_reads: list[int] = []
    newest, after = store.newest_records, store.records_after

    async def counted_newest(stream: str, limit: int) -> Any:
        whole_reads.append(limit)
        return await newest(stream, limit)

    async def counted_after(stream: str, cursor: int, limit: int) -> Any:
        after_reads.append(cursor)
        return await after(stream, cursor, limit)

    store.newest_records, store.records_after = counted_newest, counted_after
    stream = await opened(client)
    assert whole_reads == [1]  # where "now" is: the newest record alone
    await read(client, "memberpoints")
    entry = await request_event(stream)
    assert entry["dialect"] == "memberpoints" and "worker" in entry
    assert whole_reads == [1], "following the stream must not read the whole journal"
    assert after_reads and min(after_reads) >= entry["id"] - 1
    stream.close()


@pytest.mark.slow
def test_a_real_server_ends_an_open_stream_cleanly_on_sigterm(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}"], cwd=tmp_path)
    try:
        with urllib.request.urlopen(server.url + STREAM, timeout=10) as stream:
            assert stream.readline() == b"retry: 1000\n"
            started = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            rest = stream.read()  # returns once the server ends the stream (chunked: its last chunk came)
            assert time.monotonic() - started < 5
        assert b"event: ready" in rest
    finally:
        code = server.stop()
    assert code == 0, server.output[-3000:]
    assert "Traceback" not in server.output, server.output[-3000:]


@pytest.mark.slow
def test_with_two_workers_the_stream_shows_requests_either_worker_served(tmp_path: Path) -> None:
    server = process.start(["--workers", "2", "--port", "0", "--database", f"sqlite:///{tmp_path / 'g.db'}",
                            "--access-log", "false"], cwd=tmp_path)
    auth = imonggo_auth()
    try:
        with urllib.request.urlopen(server.url + STREAM + "?dialect=imonggo&timeout=8", timeout=15) as stream:
            assert stream.readline() == b"retry: 1000\n"
            for _ in range(12):  # each on a connection of its own: the kernel hands them to either worker
                urllib.request.urlopen(urllib.request.Request(server.url + "/api/customers/1534.json", headers=auth),
                                       timeout=10).read()
            workers, seen = set(), 0
            for line in stream:
                if line.startswith(b"data: {\"id\""):
                    entry = json.loads(line[6:])
                    workers.add(entry["worker"])
                    seen += 1
                if seen == 12:
                    break
        assert seen == 12 and len(workers) == 2, (seen, workers)
    finally:
        server.stop()


async def test_before_pages_back_through_older_entries_by_id(sandbox_client) -> None:
    client = await sandbox_client()
    for _ in range(5):
        await read(client, "imonggo")
    newest = [e["id"] for e in (await (await client.get("/__admin/requests?limit=2")).json())["requests"]]
    older = await (await client.get(f"/__admin/requests?limit=2&before={newest[-1]}")).json()
    assert [e["id"] for e in older["requests"]] == [newest[-1] - 1, newest[-1] - 2]
    assert older["total"] == 3  # what is older than the cut, as the filters count
    for bad in ("x", "1234567890123456789", "-1"):
        response = await client.get(f"/__admin/requests?before={bad}")
        assert response.status == 400 and "before must be an entry id" in (await response.json())["error"]["message"]
    response = await client.get(f"{STREAM}?before=3")
    assert response.status == 400 and "a stream follows newer ones" in (await response.json())["error"]["message"]


def test_headers_count_against_max_bytes_and_are_masked_only_when_read() -> None:
    from datetime import datetime, timezone

    from gateway.sandbox.journal import Headers, Journal, JournalEntry

    journal = Journal(enabled=True, max_entries=10, max_bytes=10**6, body_bytes=0)
    big = Headers([("Authorization", "Bearer " + "x" * 5000), ("X-Trace", "t")])
    now = datetime.now(timezone.utc)
    journal.add(JournalEntry(id=journal.next_id(), at=now, ledger_time=now, dialect="d", method="GET", path="/p",
                             query="", request_headers=big))
    assert journal.bytes >= 5000 + len("Authorization")  # a large header is no free ride past max_bytes
    [entry] = journal.select(controls.Filter())
    assert entry.as_json()["request_headers"] == [["Authorization", "Bearer [FILTERED]"], ["X-Trace", "t"]]


async def test_an_entry_that_came_between_two_waits_wakes_the_next_wait_at_once(sandbox_client) -> None:
    """The stream writes, then waits: an entry added while it was writing (no waiter to wake then) must end
    the next wait at once, not after the heartbeat."""
    client = await sandbox_client()
    journal = client.app[SANDBOX].journal
    await read(client, "imonggo")
    cursor = await journal.newest_id()
    started = time.monotonic()
    await asyncio.wait_for(journal.arrival(cursor - 1, 30), 2)  # one newer than the cursor is already there
    await read(client, "imonggo")  # comes while nobody waits
    await asyncio.wait_for(journal.arrival(cursor, 30), 2)
    assert time.monotonic() - started < 2
    found, cursor = await journal.after(cursor, lambda e: True)
    assert len(found) == 1
    started = time.monotonic()
    await journal.arrival(cursor, 0.3)  # nothing newer: the whole timeout
    assert time.monotonic() - started >= 0.25
