"""How every vendor client (dialects/<vendor>/client.py) talks HTTP to an upstream: one request with a
timeout and an X-Request-Id, every exchange handed to an observer (journal, statistics, recording) with
secrets masked, and transport trouble turned into the ledger's Upstream* errors. Vendor-neutral: which
statuses mean what is each client's business."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone
from secrets import token_hex
from urllib.parse import urlencode, urlsplit

import aiohttp

from ..ledger import UpstreamError, UpstreamFailed, UpstreamTimeout
from ..redact import mask, secret_pattern

BODY_CAP = 16 * 1024  # characters of each body an exchange keeps for the journal and recordings
MASK = "[FILTERED]"
REQUEST_ID = "X-Request-Id"  # sent with every request (unless the caller set one), so both sides can find it
# Where upstreams put the id of the request they answered (their own, or ours echoed).
REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "x-correlation-id")


@dataclass(frozen=True)
class Exchange:
    """One request to an upstream and what came back (status None: no answer), secrets masked.
    `request_id`: the id the upstream gave the exchange, else the X-Request-Id the gateway sent."""

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
    request_id: str | None = None
    failure: str | None = None  # why there was no whole answer: "timeout", "unreachable" or "connection_failed"

    @property
    def outcome(self) -> str:
        """How the exchange ended, in a few words a metric can count by: its failure, or its status class."""
        if self.failure is not None:
            return self.failure
        return f"answered_{self.status // 100}xx" if self.status is not None else "no_answer"


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    sent_id: str | None = None  # the X-Request-Id the request carried
    secrets: tuple[str, ...] = field(default=(), repr=False)  # what masked() hides from messages

    def header(self, name: str) -> str | None:
        """A header of the answer, whatever case the upstream wrote its name in."""
        return header(self.headers, name)

    def request_id(self) -> str | None:
        """The id the upstream gave this exchange; else the one the gateway sent (an upstream that echoes
        none still has it in its access log)."""
        return request_id_of(self.headers) or self.sent_id

    def naming(self) -> str:
        """' (request id ...)' for a message about this answer."""
        return naming(self.request_id())

    def masked(self, text: str) -> str:
        """Vendor text about to go into a message, with the secrets of this exchange masked."""
        return mask(text, self.secrets)


Observer = Callable[[Exchange], None]


def header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def request_id_of(headers: Mapping[str, str]) -> str | None:
    found = {key.lower(): value for key, value in headers.items()}
    return next((found[name] for name in REQUEST_ID_HEADERS if found.get(name)), None)


def naming(request_id: str | None) -> str:
    """How a message names the exchange it is about: ' (request id req-42)', or nothing without an id."""
    return f" (request id {request_id})" if request_id else ""


def unsent(exc: UpstreamError) -> UpstreamError:
    """The same error, saying nothing was sent: for trouble on a step before a write (its token, a read
    it needs), which leaves the write itself surely not applied, whatever that step's own `sent` says."""
    if not exc.sent:
        return exc
    return type(exc)(exc.message, **{**exc.details, "sent": False})


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


def _capped(body: bytes, secrets: Sequence[str]) -> str:
    """What an exchange keeps of a body: masked, then cut at BODY_CAP characters. Only as much is decoded
    as those characters, and a secret beginning among them, can take (4 bytes a character at most)."""
    masker = secret_pattern(tuple(secrets)) if secrets else None
    reach = masker[1] if masker else 0
    return mask(body[: 4 * (BODY_CAP + reach)].decode("utf-8", "replace"), secrets, BODY_CAP)


class Transport:
    """One upstream's base URL, timeout and observer over a shared ClientSession (its pool). `secrets`
    (the declaration's credentials) are masked in every exchange and message, besides each call's own."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = 10.0,
        observe: Observer | None = None,
        label: str = "upstream",
        secrets: Sequence[str] = (),
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.observe = observe
        self.label = label
        self.secrets = tuple(s for s in secrets if s)

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
        """One request, carrying an X-Request-Id (a fresh "lg-" one unless `headers` has one); any answer
        (4xx and 5xx included) is a Reply. A timeout is UpstreamTimeout, a connection that failed or
        dropped is UpstreamFailed; both say in `sent` whether the request may have reached the upstream
        (and so whether a write's outcome is unclear), and name the request id. `reveals` names secrets
        the reply itself hands out (an OAuth access token), so the observer never sees them either."""
        hidden = (*self.secrets, *secrets) if secrets else self.secrets
        url = self.url(path, params)
        shown_url = mask(url, hidden)
        sent_headers = dict(headers or {})
        sent_id = header(sent_headers, REQUEST_ID)
        if sent_id is None:
            sent_id = sent_headers[REQUEST_ID] = f"lg-{token_hex(8)}"
        started = time.perf_counter()
        begun = time.time()
        status: int | None = None
        reply_headers: Mapping[str, str] = {}
        reply_body = b""
        error: str | None = None
        failure: str | None = None
        connected = False
        try:
            async with asyncio.timeout(self.timeout):
                async with self.session.request(method, url, headers=sent_headers, data=body, allow_redirects=False) as response:
                    connected = True
                    status = response.status
                    reply_headers = {k: v for k, v in response.headers.items()}
                    reply_body = await response.read()
            if reveals is not None and reply_body:
                hidden = (*hidden, *reveals(reply_body))
            return Reply(status, reply_headers, reply_body, shown_url, sent_id, hidden)
        except TimeoutError:
            error, failure = f"no answer within {self.timeout:g} s", "timeout"
            raise UpstreamTimeout(
                f"{self.label} did not answer {method} {urlsplit(shown_url).path} within {self.timeout:g} s"
                f"{naming(sent_id)}", sent=True, request_id=sent_id,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            error, failure = f"could not connect: {exc.os_error or exc}", "unreachable"
            raise UpstreamFailed(mask(f"{self.label} could not be reached: {exc.os_error or exc}", hidden),
                                 sent=False) from None
        except (aiohttp.ClientError, ConnectionError) as exc:
            error, failure = f"connection failed: {type(exc).__name__}: {exc}", "connection_failed"
            answered_id = request_id_of(reply_headers) or sent_id
            raise UpstreamFailed(
                f"{self.label} dropped the connection during {method} {urlsplit(shown_url).path}"
                f"{' after answering ' + str(status) if status else ''}{naming(answered_id)}",
                sent=True, status=status, request_id=answered_id,
            ) from None
        finally:
            if self.observe is not None:
                self.observe(self._exchange(method, shown_url, status if error is None or connected else None,
                                            started, begun, sent_headers, body, reply_headers, reply_body, error,
                                            sent_id, hidden, failure))

    def _exchange(self, method: str, url: str, status: int | None, started: float, begun: float,
                  sent_headers: Mapping[str, str], body: bytes | None, reply_headers: Mapping[str, str],
                  reply_body: bytes, error: str | None, sent_id: str, hidden: tuple[str, ...],
                  failure: str | None = None) -> Exchange:
        """The record of one exchange, every secret (the reply's revealed ones included) masked."""
        return Exchange(
            method=method, url=url, status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            request_headers={k: (MASK if k.lower() in ("authorization", "apikey", "apiid") else mask(v, hidden))
                             for k, v in sent_headers.items()},
            request_body=_capped(body or b"", hidden),
            response_headers={k: mask(v, hidden) for k, v in reply_headers.items()},
            response_body=_capped(reply_body, hidden),
            error=None if error is None else mask(error, hidden), started_at=begun,
            request_id=request_id_of(reply_headers) or sent_id, failure=failure,
        )
