"""The request journal: a bounded, in-memory record of dialect requests (who, what, how it ended, and a
capped copy of the bodies, secrets masked). Capped in entries and in bytes, so memory stays flat under
load. Knows nothing of aiohttp or of any dialect."""
from __future__ import annotations

import asyncio
import contextlib
import fnmatch
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from itertools import chain
from typing import Any

from .redact import MASK, redact_body

# What one entry costs besides its bodies and path (the record, its dict, small strings): an estimate,
# kept deliberately high so max_bytes is a ceiling on what the journal really holds.
ENTRY_OVERHEAD = 512
# How far past a body's cut its secrets are looked for (a secret's key starts before the cut).
_MASK_MARGIN = 1024


# A header is a secret when its name (lower case, without - and _) is one of these or holds one of the words:
# credentials (Authorization: Basic, Bearer), cookies, and a vendor's own key or token headers (apiKey,
# X-Auth-Token), whatever the vendor calls them. An Authorization value keeps its scheme ("Basic [FILTERED]").
SECRET_HEADERS = frozenset({"authorization", "proxyauthorization", "cookie", "setcookie"})
SECRET_HEADER_WORDS = ("secret", "token", "password", "passwd", "apikey", "credential")
HEADER_CAP = 8192  # the most of a header's value kept (a legitimate one is far shorter)


@lru_cache(maxsize=1024)
def _secret_header(name: str) -> int:
    """0: not a secret; 1: a secret; 2: a secret whose scheme is kept (Authorization). Cached: names repeat."""
    folded = name.lower().replace("-", "").replace("_", "")
    if folded in SECRET_HEADERS or any(word in folded for word in SECRET_HEADER_WORDS):
        return 2 if folded.endswith("authorization") else 1
    return 0


def masked_headers(headers: Any) -> list[list[str]]:
    """A message's headers (a mapping, or (name, value) pairs) as [name, value] pairs in the order sent, every
    secret's value masked."""
    kept = []
    for name, value in (headers.items() if hasattr(headers, "items") else headers):
        secret = _secret_header(name)
        if secret:
            scheme, space, _ = value.partition(" ")
            value = f"{scheme} {MASK}" if secret == 2 and space else MASK
        kept.append([name, value if len(value) <= HEADER_CAP else value[:HEADER_CAP]])
    return kept


class Headers:
    """A message's headers, copied as sent and masked the first time anything reads them (as Body is): the
    request path pays for a copy only. Nothing unmasked ever leaves: as_json() only sees the masked pairs."""

    __slots__ = ("_raw", "_masked", "cost")

    def __init__(self, headers: Any = ()) -> None:
        self._raw: tuple[tuple[str, str], ...] = tuple(headers.items() if hasattr(headers, "items") else headers)
        self._masked: list[list[str]] | None = None
        self.cost = sum(map(len, chain.from_iterable(self._raw))) + 4 * len(self._raw)  # against max_bytes

    def as_json(self) -> list[list[str]]:
        if self._masked is None:
            self._masked, self._raw = masked_headers(self._raw), ()
        return self._masked


class Body:
    """At most `limit` bytes of a body, secrets masked, with the full size (as sent) and whether it was cut.

    Recording one costs no copy and no scan: copy() keeps a reference to the bytes it is handed (cut past
    the limit and the masking margin, which for a body that fits is the same object), and the masking and
    the cut are done once, the first time anything reads `data` (the admin API listing the entry). Nothing
    unmasked ever leaves: `data`, `truncated` and as_json() only ever see the masked copy."""

    __slots__ = ("size", "_seen", "_type", "_limit", "_done")

    def __init__(self, data: bytes, size: int, truncated: bool = False) -> None:
        self.size = size
        self._seen, self._type, self._limit = b"", "", 0
        self._done: tuple[bytes, bool] | None = (data, truncated)

    @classmethod
    def copy(cls, raw: bytes | None, limit: int, content_type: str = "") -> Body:
        raw = raw or b""
        if limit <= 0:
            return cls(b"", len(raw), bool(raw))
        body = cls(b"", len(raw))
        # Masking looks a little past the cut, so a secret that straddles it is masked, not half kept,
        # while a large body costs no more than its copy.
        body._seen, body._type, body._limit, body._done = raw[: limit + _MASK_MARGIN], content_type, limit, None
        return body

    def _finished(self) -> tuple[bytes, bool]:
        if self._done is None:
            masked = redact_body(self._seen, self._type)
            self._done = (bytes(masked[: self._limit]), len(masked) > self._limit or len(self._seen) < self.size)
            self._seen = b""
        return self._done

    @property
    def data(self) -> bytes:
        return self._finished()[0]

    @property
    def truncated(self) -> bool:
        return self._finished()[1]

    @property
    def kept(self) -> int:
        """The bytes this body counts against the journal's max_bytes (what `data` is, or will be, at most)."""
        return len(self._done[0]) if self._done is not None else min(len(self._seen), self._limit)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and (self.data, self.size, self.truncated) == (other.data, other.size,
                                                                                      other.truncated)

    def __repr__(self) -> str:
        return f"Body(data={self.data!r}, size={self.size}, truncated={self.truncated})"

    def as_json(self) -> dict[str, Any]:
        data, truncated = self._finished()
        return {"text": data.decode("utf-8", errors="replace"), "size": self.size, "truncated": truncated}


@dataclass
class JournalEntry:
    id: int
    at: datetime
    ledger_time: datetime
    dialect: str
    method: str
    path: str
    query: str
    tenant: str | None = None
    status: int | None = None
    duration_ms: float = 0.0
    request_body: Body = field(default_factory=lambda: Body(b"", 0))
    response_body: Body = field(default_factory=lambda: Body(b"", 0))
    outcome: str = "answered"
    fault: dict[str, Any] | None = None
    upstream: list[dict[str, Any]] = field(default_factory=list)  # exchanges with the tenant's upstream
    request_id: str | None = None  # the X-Request-Id the answer carried (the client's own, echoed, or made here)
    idempotency_key: str | None = None  # the request's x-idempotency-key: which write a retry repeats
    request_headers: Headers = field(default_factory=Headers)  # as [name, value] pairs, secrets masked
    response_headers: Headers = field(default_factory=Headers)

    cost: int = 0  # set once by Journal.add: what this entry counts against max_bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "at": _iso(self.at),
            "ledger_time": _iso(self.ledger_time),
            "tenant": self.tenant,
            "dialect": self.dialect,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "outcome": self.outcome,
            "fault": self.fault,
            "request_body": self.request_body.as_json(),
            "response_body": self.response_body.as_json(),
            "upstream": self.upstream,
            "idempotency_key": self.idempotency_key,
            "request_headers": self.request_headers.as_json(),
            "response_headers": self.response_headers.as_json(),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Filter:
    """Which entries a listing wants. `path` is a glob when it holds * or ?, else a prefix; `status` is a
    code (404) or a class (4xx); `since_id` keeps entries after that id, `since_time` at or after it,
    `before_id` entries before that id (older: a page after the one that ended there)."""

    tenant: str | None = None
    dialect: str | None = None
    path: str | None = None
    method: str | None = None
    status: str | None = None
    since_id: int | None = None
    since_time: datetime | None = None
    before_id: int | None = None

    def __call__(self, e: JournalEntry) -> bool:
        if self.tenant is not None and e.tenant != self.tenant:
            return False
        if self.dialect is not None and e.dialect != self.dialect:
            return False
        if self.method is not None and e.method != self.method.upper():
            return False
        if self.path is not None:
            glob = any(c in self.path for c in "*?[")
            if not (fnmatch.fnmatchcase(e.path, self.path) if glob else e.path.startswith(self.path)):
                return False
        if self.status is not None:
            text = "" if e.status is None else str(e.status)
            if self.status.lower().endswith("xx"):
                if not text.startswith(self.status[0]):
                    return False
            elif text != self.status:
                return False
        if self.since_id is not None and e.id <= self.since_id:
            return False
        if self.before_id is not None and e.id >= self.before_id:
            return False
        return self.since_time is None or e.at >= self.since_time


class Journal:
    """Entries oldest first; adding one past either cap drops the oldest until both caps hold again."""

    def __init__(self, *, enabled: bool, max_entries: int, max_bytes: int, body_bytes: int) -> None:
        self.enabled = enabled
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.body_bytes = body_bytes
        self._entries: deque[JournalEntry] = deque()
        self._bytes = 0
        self._next_id = 1
        self.dropped = 0
        self._arrival: asyncio.Event | None = None  # made by the first stream that waits; set by the next add
        self.closing = False  # the server is shutting down: every stream ends

    def next_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def add(self, entry: JournalEntry) -> None:
        if not self.enabled:
            return
        cost = (ENTRY_OVERHEAD + len(entry.path) + len(entry.query) + len(entry.idempotency_key or "")
                + entry.request_body.kept + entry.response_body.kept
                + entry.request_headers.cost + entry.response_headers.cost)
        if entry.upstream:
            cost += sum(ENTRY_OVERHEAD + len(x["url"]) + len(x["request_body"]["text"]) + len(x["response_body"]["text"])
                        for x in entry.upstream)
        entry.cost = cost
        self._entries.append(entry)
        self._bytes += cost
        if len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._trim()
        self._announce()

    # -- following it (the admin API's stream) --------------------------------------------------

    def _announce(self) -> None:
        if self._arrival is not None:
            self._arrival.set()
            self._arrival = None

    async def arrival(self, cursor: int, timeout: float) -> None:
        """Wait until the journal holds an entry newer than `cursor` (at once when one came while the caller
        was busy writing: a wakeup set before this wait is not missed), the server starts closing, or
        `timeout` seconds pass."""
        if self.closing or (self._entries and self._entries[-1].id > cursor):
            return
        if self._arrival is None:
            self._arrival = asyncio.Event()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._arrival.wait(), timeout)

    def close_streams(self) -> None:
        """The server is shutting down: wake every stream so it ends now, not when it is cancelled."""
        self.closing = True
        self._announce()

    async def newest_id(self) -> int:
        """The id of the newest entry recorded (0: none yet): a stream with no cursor starts after it."""
        return self._next_id - 1

    async def after(self, cursor: int, wanted: Filter, limit: int = 500) -> tuple[list[Any], int]:
        """Entries with an id above `cursor` that `wanted` keeps, oldest first (at most `limit` looked at),
        and the cursor to read on from. Reads only the new end of the journal, never the whole of it."""
        newer: list[JournalEntry] = []
        for e in reversed(self._entries):
            if e.id <= cursor:
                break
            newer.append(e)
        newer = newer[::-1][:limit]
        return [e for e in newer if wanted(e)], (newer[-1].id if newer else cursor)

    def _trim(self) -> None:
        while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
            gone = self._entries.popleft()
            self._bytes -= gone.cost
            self.dropped += 1

    def configure(self, *, enabled: bool | None = None, max_entries: int | None = None, max_bytes: int | None = None) -> None:
        if enabled is not None:
            self.enabled = enabled
        if max_entries is not None:
            self.max_entries = max_entries
        if max_bytes is not None:
            self.max_bytes = max_bytes
        self._trim()

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        self._bytes = 0
        return count

    def select(self, wanted: Filter) -> Iterator[JournalEntry]:
        """Matching entries, newest first."""
        return (e for e in reversed(self._entries) if wanted(e))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    def stats(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "entries": len(self._entries),
            "bytes": self._bytes,
            "dropped": self.dropped,
            "max_entries": self.max_entries,
            "max_bytes": self.max_bytes,
            "body_bytes": self.body_bytes,
        }
