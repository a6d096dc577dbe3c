"""How every vendor client (dialects/<vendor>/client.py) talks HTTP to an upstream: one request with a
timeout, every exchange handed to an observer (journal, statistics, recording) with secrets masked,
and transport trouble turned into the ledger's Upstream* errors. Vendor-neutral: which statuses mean
what is each client's business."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from urllib.parse import urlencode, urlsplit

import aiohttp

from ..ledger import UpstreamFailed, UpstreamTimeout

BODY_CAP = 16 * 1024  # bytes of each body an exchange keeps for the journal and recordings
MASK = "[FILTERED]"


@dataclass(frozen=True)
class Exchange:
    """One request to an upstream and what came back (status None: no answer), secrets masked."""

    method: str
    url: str
    status: int | None
    duration_ms: float
    request_headers: Mapping[str, str]
    request_body: str
    response_headers: Mapping[str, str]
    response_body: str
    error: str | None = None
    started_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        """A header of the answer, whatever case the upstream wrote its name in."""
        return header(self.headers, name)

    def request_id(self) -> str | None:
        for name in ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id"):
            found = self.header(name)
            if found is not None:
                return found
        return None


Observer = Callable[[Exchange], None]


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def retry_after(headers: Mapping[str, str], default: int = 1) -> int:
    """Whole seconds from a Retry-After header (seconds or an HTTP date); `default` when absent or unreadable."""
    raw = header(headers, "Retry-After")
    if not raw:
        return default
    raw = raw.strip()
    if raw.isdigit():
        return max(0, int(raw))
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return default
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0, int((moment - datetime.now(timezone.utc)).total_seconds() + 0.999))


def _masked(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _capped(body: bytes, secrets: Sequence[str]) -> str:
    text = body[:BODY_CAP].decode("utf-8", "replace")
    return _masked(text, secrets)


class Transport:
    """One upstream's base URL, timeout and observer over a shared ClientSession (its pool)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = 10.0,
        observe: Observer | None = None,
        label: str = "upstream",
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.observe = observe
        self.label = label

    def url(self, path: str, params: Mapping[str, object] | Sequence[tuple[str, object]] | None = None) -> str:
        query = f"?{urlencode(list(params.items()) if isinstance(params, Mapping) else list(params))}" if params else ""
        return f"{self.base_url}{path}{query}"

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, object] | Sequence[tuple[str, object]] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        secrets: Sequence[str] = (),
        reveals: Callable[[bytes], Sequence[str]] | None = None,
    ) -> Reply:
        """One request; any answer (4xx and 5xx included) is a Reply. A timeout is UpstreamTimeout, a
        connection that failed or dropped is UpstreamFailed; both say in `sent` whether the request may
        have reached the upstream (and so whether a write's outcome is unclear). `reveals` names secrets
        the reply itself hands out (an OAuth access token), so the observer never sees them either."""
        url = self.url(path, params)
        shown_url = _masked(url, secrets)
        sent_headers = dict(headers or {})
        started = time.perf_counter()
        begun = time.time()
        status: int | None = None
        reply_headers: Mapping[str, str] = {}
        reply_body = b""
        error: str | None = None
        connected = False
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session.request(method, url, headers=sent_headers, data=body, allow_redirects=False) as response:
                    connected = True
                    status = response.status
                    reply_headers = {k: v for k, v in response.headers.items()}
                    reply_body = await response.read()
            return Reply(status, reply_headers, reply_body, shown_url)
        except TimeoutError:
            error = f"no answer within {self.timeout:g} s"
            raise UpstreamTimeout(
                f"{self.label} did not answer {method} {urlsplit(shown_url).path} within {self.timeout:g} s",
                sent=True,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            error = f"could not connect: {exc.os_error or exc}"
            raise UpstreamFailed(f"{self.label} could not be reached: {exc.os_error or exc}", sent=False) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            error = f"connection failed: {type(exc).__name__}: {exc}"
            raise UpstreamFailed(
                f"{self.label} dropped the connection during {method} {urlsplit(shown_url).path}"
                f"{' after answering ' + str(status) if status else ''}",
                sent=True, status=status,
            ) from None
        finally:
            if self.observe is not None:
                if reveals is not None and reply_body:
                    secrets = [*secrets, *reveals(reply_body)]
                self.observe(Exchange(
                    method=method, url=shown_url, status=status if error is None else (status if connected else None),
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    request_headers={k: (MASK if k.lower() in ("authorization", "apikey", "apiid") else _masked(v, secrets))
                                     for k, v in sent_headers.items()},
                    request_body=_capped(body or b"", secrets),
                    response_headers=reply_headers, response_body=_capped(reply_body, secrets),
                    error=error, started_at=begun,
                ))
