"""A journal body costs nothing to record (no copy, no scan) and is masked and cut the first time it is
read; what is read is never unmasked, and a body that is not kept at all (journal_body_bytes = 0) keeps
only its size."""
from __future__ import annotations

from gateway.sandbox.journal import Body, Journal, JournalEntry
from gateway.sandbox.redact import MASK


def test_recording_a_body_that_fits_keeps_the_very_bytes_it_was_handed() -> None:
    raw = b'{"amount": "10.00"}'
    body = Body.copy(raw, 4096, "application/json")
    assert body._seen is raw  # no copy at record time
    assert body.kept == len(raw)


def test_a_secret_is_masked_when_the_body_is_read() -> None:
    raw = b'{"client_id": "c", "client_secret": "s3cret-value"}'
    body = Body.copy(raw, 4096, "application/json")
    assert b"s3cret-value" not in body.data and MASK.encode() in body.data
    assert b"s3cret-value" not in str(body.as_json()).encode()
    assert body.size == len(raw) and body.truncated is False


def test_a_cut_body_is_masked_past_the_cut_and_says_it_was_cut() -> None:
    raw = b"password=" + b"x" * 50 + b"&note=" + b"y" * 5000
    body = Body.copy(raw, 20, "application/x-www-form-urlencoded")
    assert body.data == b"password=" + MASK.encode() + b"&" and body.truncated is True and body.size == len(raw)
    assert body.kept <= 20


def test_no_kept_bytes_keeps_only_the_size() -> None:
    body = Body.copy(b"x" * 100, 0)
    assert (body.data, body.size, body.truncated, body.kept) == (b"", 100, True, 0)


def test_the_journals_byte_cap_counts_what_a_body_will_keep_at_most() -> None:
    journal = Journal(enabled=True, max_entries=100, max_bytes=10_000, body_bytes=100)
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    for i in range(50):
        journal.add(JournalEntry(id=i, at=now, ledger_time=now, dialect="d", method="POST", path="/p", query="",
                                 request_body=Body.copy(b"z" * 5000, 100), response_body=Body.copy(b"", 100)))
    assert journal.bytes <= 10_000 and journal.dropped > 0
