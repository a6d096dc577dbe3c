"""`webhooks listen` reads a webhook only through the sending dialect's descriptor (Webhooks.verify and its
sink's event_of / summary_of): a dialect whose bodies name their event differently is shown and filtered
(--events) by its own words, and no vendor body field is written in gateway/receiver.py."""
from __future__ import annotations

import io
import json
import tokenize
from pathlib import Path
from typing import Any

import pytest

from gateway import receiver
from gateway.dialects.descriptor import Webhooks, WebhookSink
from gateway.receiver import receiver_app

RECEIVER = Path(receiver.__file__)


def _kind(body: bytes) -> str | None:
    try:
        found = json.loads(body).get("kind")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def _other_dialect(summary: bool) -> Webhooks:
    """Webhooks of an imagined dialect: the event is `kind`, deliveries are told apart by `seq`."""
    return Webhooks(section="other", consumer="other-webhooks", channel="other", message_for=lambda *a: None,
                    targets=lambda s: {}, headers=lambda *a, **k: {},
                    verify=lambda secret, headers, body: headers.get("X-Ok") == secret,
                    sink=WebhookSink(secret=lambda c: "", subscribe=lambda t, u: ("PUT", "/", {}), event_of=_kind,
                                     summary_of=(lambda b: f"{_kind(b)} #{json.loads(b)['seq']}") if summary else None))


@pytest.mark.parametrize("summary", [True, False], ids=["with-summary", "event-alone"])
async def test_the_receiver_shows_and_filters_in_the_dialects_own_words(aiohttp_client: Any, monkeypatch, summary: bool) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(receiver, "_sender", lambda: _other_dialect(summary))
    out = io.StringIO()
    client = await aiohttp_client(receiver_app("s3", out, events=frozenset({"points.added"})))
    wanted = await client.post("/in", data=b'{"kind": "points.added", "seq": 7}', headers={"X-Ok": "s3"})
    other = await client.post("/in", data=b'{"kind": "points.gone", "seq": 8}', headers={"X-Ok": "s3"})
    junk = await client.post("/in", data=b"<xml/>", headers={"X-Ok": "s3"})
    assert (wanted.status, other.status, junk.status) == (200, 200, 200)
    assert (await wanted.json()) == {"received": True}
    assert (await other.json())["skipped"] is True
    lines = out.getvalue().splitlines()
    assert lines[0] == ("signature ok  POST /in points.added #7" if summary else "signature ok  POST /in points.added")
    assert lines[4] == "  skipped: points.gone is not among --events points.added"
    assert lines[5] == "signature ok  POST /in 6 bytes, not a webhook this sandbox sends"


def test_no_vendor_body_field_is_written_in_the_receiver() -> None:
    with RECEIVER.open("rb") as source:
        strings = [t.string for t in tokenize.tokenize(source.readline) if t.type == tokenize.STRING]
    assert not [s for s in strings if "event_id" in s or "idempotency_key" in s]
