"""How verify and diff reach a target: one aiohttp session to a base URL, a client-side rate limiter
(N requests per period), 429 + Retry-After honoured by waiting and trying once more, and a target that
cannot be reached said in one line. Knows no vendor."""
from __future__ import annotations

import asyncio
import collections
import re
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp

from .compare import header, media_of
from .model import Answer, Request

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
MAX_RETRY_WAIT = 120.0  # seconds; a Retry-After beyond it is not waited for


class Unreachable(Exception):
    """The target gave no answer: "cannot reach http://...: connection refused"."""


def parse_rate(text: str) -> tuple[int, float]:
    """"100/minute", "10/s", "5/2s" -> (requests, seconds); ValueError with the accepted forms."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*", text.lower())
    if not match or int(match.group(1)) < 1 or match.group(3) not in PERIODS:
        raise ValueError(f"rate {text!r}: give N/period, as 100/minute, 10/second or 5/2s")
    return int(match.group(1)), float(match.group(2) or 1) * PERIODS[match.group(3)]


class Limiter:
    """At most `count` requests in any window of `seconds` (a sliding window of send times)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count, self.seconds = count, seconds
        self.sent: collections.deque[float] = collections.deque()

    async def wait(self) -> None:
        while True:
            now = time.monotonic()
            while self.sent and now - self.sent[0] >= self.seconds:
                self.sent.popleft()
            if len(self.sent) < self.count:
                self.sent.append(now)
                return
            await asyncio.sleep(self.seconds - (now - self.sent[0]))


class Target:
    """A server under test. `send` answers an Answer or raises Unreachable."""

    def __init__(self, base_url: str, *, limiter: Limiter | None = None, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http:// or https:// URL")
        self.base = base_url.rstrip("/")
        self.limiter = limiter
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0

    async def __aenter__(self) -> Target:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                              auto_decompress=True, cookie_jar=aiohttp.DummyCookieJar())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, request: Request) -> Answer:
        answer = await self._once(request)
        # the target's own limit (429, or a 503 that says when to come back): wait as it says, try once more
        retry_after = header(answer.headers, "Retry-After")
        if answer.status == 429 or (answer.status == 503 and retry_after is not None):
            wait = _retry_after(retry_after or "")
            if wait is not None and wait <= MAX_RETRY_WAIT:
                await asyncio.sleep(wait)
                answer = await self._once(request)
        return answer

    async def _once(self, request: Request) -> Answer:
        assert self._session is not None, "use Target in `async with`"
        if self.limiter is not None:
            await self.limiter.wait()
        self.sent += 1
        try:
            async with self._session.request(request.method, self.base + request.path, headers=dict(request.headers),
                                             data=request.body, allow_redirects=False) as response:
                body = await response.read()
                pairs = list(response.headers.items())
        except aiohttp.ClientConnectorError as exc:
            raise Unreachable(f"cannot reach {self.base}: {_why(exc)}") from None
        except asyncio.TimeoutError:
            raise Unreachable(f"cannot reach {self.base}: no answer within {self.timeout:g} s") from None
        except aiohttp.ClientError as exc:
            raise Unreachable(f"cannot reach {self.base}: {exc.__class__.__name__} {exc}".rstrip()) from None
        return answer_of(response.status, pairs, body)


def answer_of(status: int, pairs: Iterable[tuple[str, str]], body: bytes) -> Answer:
    """An answer from its header lines: a name given more than once keeps every value, joined with ", " as
    HTTP allows, except Set-Cookie, whose values (an Expires has a comma of its own) are kept one a line.
    Names are matched in any case and keep the case they first came in; the media is the Content-Type's."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        known = next((k for k in headers if k.lower() == name.lower()), None)
        if known is None:
            headers[name] = value
        else:
            headers[known] += ("\n" if name.lower() == "set-cookie" else ", ") + value
    return Answer(status=status, headers=headers, body=body, media=media_of(header(headers, "Content-Type") or "", body))


def _why(exc: aiohttp.ClientConnectorError) -> str:
    cause = exc.os_error
    if isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower():
        return "connection refused"
    return (cause.strerror or str(cause)) if cause is not None and cause.strerror else str(cause or exc)


def _retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return 1.0 if not value.strip() else None
