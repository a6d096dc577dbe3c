"""Pomelo's loyalty API called as a careful integrator calls it: an OAuth client-credentials token (cached until
shortly before it expires, fetched again once on a 401), the balance read and the keyed mint/burn, Pomelo's
error envelope read into messages, 429 + Retry-After. Shares only wire formats with the server side."""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ... import __version__
from ...ledger import UpstreamCredentialsRefused, UpstreamError, UpstreamFailed, UpstreamRateLimited
from ..upstream_transport import Reply, Transport, naming, retry_after, unsent
from .wire import number

USER_AGENT = f"loyalty-gateway/{__version__}"
TOKEN_PATH = "/oauth/token"
BALANCE_PATH = "/loyalty/v1/accounts/balance"
ACCOUNT_TYPES = ("points", "cashback", "miles")
IDEMPOTENCY_HEADER = "x-idempotency-key"
CARD_PREFIX = "crd-"  # a member ref starting so is a card_id; any other is a user_id
# Pomelo's loyalty API has no listing endpoint, so this client never pages.


class PomeloApiError(Exception):
    """A 4xx Pomelo gave for a reason of its own (not the gateway's token, not a rate limit), read from its
    envelope {"error": {"error_code", "details": [{"code", "detail"}]}}."""

    def __init__(self, upstream: str, status: int, error_code: str, detail: str, request_id: str | None) -> None:
        self.upstream, self.status, self.error_code, self.detail, self.request_id = (
            upstream, status, error_code, detail, request_id)
        super().__init__(f"{upstream} answered {status} {error_code}: {detail}{naming(request_id)}")


@dataclass(frozen=True)
class Balances:
    """GET /loyalty/v1/accounts/balance: one member's posted balance per account type."""

    points: Decimal
    cashback: Decimal
    miles: Decimal
    user_id: str | None
    card_id: str | None

    def of(self, account_type: str) -> Decimal:
        return {"points": self.points, "cashback": self.cashback, "miles": self.miles}[account_type]


@dataclass(frozen=True)
class Adjustment:
    """What a mint or burn answered (the first answer again when its idempotency key is replayed)."""

    id: str | None  # Pomelo's loyalty event id, lye-...
    account_type: str
    operation: str  # MINT | BURN
    amount: Decimal
    updated_balance: Decimal | None  # None when the answer does not say (the write still applied)


def holder(member: str) -> tuple[str, str]:
    """The query or body field naming a member: card_id for crd-... refs, user_id for any other."""
    return ("card_id", member) if member.startswith(CARD_PREFIX) else ("user_id", member)


def _compact(value: Mapping[str, Any]) -> bytes:
    """JSON as Pomelo's own SDK sends it: compact, fields in the documented order, no float anywhere."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _issued_token(body: bytes) -> Sequence[str]:
    """The access token a token reply hands out: a secret the exchange record must not show."""
    try:
        token = json.loads(body).get("access_token")
    except (ValueError, AttributeError):
        return ()
    return (token,) if isinstance(token, str) and token else ()


class PomeloClient:
    """One Pomelo client-credentials grant over one Transport. Safe to share between tasks: one token fetch at
    a time, and a 401 only drops the token it was answered for."""

    def __init__(
        self, transport: Transport, *, client_id: str, client_secret: str, audience: str,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = transport
        self.name = f"the pomelo upstream at {transport.base_url}"
        self._client_id, self._client_secret, self._audience = client_id, client_secret, audience
        self._now = now
        self._token: str | None = None
        self._renew_at = 0.0
        self._fetching = asyncio.Lock()

    # -- the calls ---------------------------------------------------------------------------------

    async def balance(self, member: str) -> Balances:
        """GET /loyalty/v1/accounts/balance?user_id=... (or ?card_id=crd-...)."""
        answer = await self._call("GET", BALANCE_PATH, params=[holder(member)])
        return Balances(
            points=self._amount(answer, "points", default=Decimal(0)),
            cashback=self._amount(answer, "cashback", default=Decimal(0)),
            miles=self._amount(answer, "miles", default=Decimal(0)),
            user_id=_text(answer.get("user_id")), card_id=_text(answer.get("card_id")),
        )

    async def mint(self, account_type: str, member: str, amount: Decimal, reason: str, *, key: str) -> Adjustment:
        """POST /loyalty/v1/accounts/{account_type}/mint under an idempotency key."""
        return await self._adjust("mint", account_type, member, amount, reason, key)

    async def burn(self, account_type: str, member: str, amount: Decimal, reason: str, *, key: str) -> Adjustment:
        """POST /loyalty/v1/accounts/{account_type}/burn under an idempotency key."""
        return await self._adjust("burn", account_type, member, amount, reason, key)

    async def _adjust(self, operation: str, account_type: str, member: str, amount: Decimal, reason: str,
                      key: str) -> Adjustment:
        if account_type not in ACCOUNT_TYPES:
            raise ValueError(f"account_type must be one of {', '.join(ACCOUNT_TYPES)}")
        if not key:
            raise ValueError(f"a {operation} needs an idempotency key")
        field, ref = holder(member)
        body = _compact({"amount": number(amount), "reason": reason, field: ref})
        answer = await self._call("POST", f"/loyalty/v1/accounts/{account_type}/{operation}", body=body,
                                  extra={IDEMPOTENCY_HEADER: key})
        updated = answer.get("updated_balance", answer.get("updatedBalance"))
        return Adjustment(
            id=_text(answer.get("id")), account_type=_text(answer.get("account_type")) or account_type,
            operation=_text(answer.get("operation")) or operation.upper(),
            amount=self._amount(answer, "amount", default=amount),
            updated_balance=None if updated is None else self._amount({"updated_balance": updated}, "updated_balance"),
        )

    # -- the token ---------------------------------------------------------------------------------

    async def token(self) -> str:
        """The cached access token, or a new one when it is about to expire."""
        if self._token is not None and self._now() < self._renew_at:
            return self._token
        async with self._fetching:
            if self._token is None or self._now() >= self._renew_at:
                self._token, self._renew_at = await self._fetch_token()
            return self._token

    def forget_token(self, token: str | None = None) -> None:
        """Drop the cached token (only if it is still `token`, so a newer one fetched meanwhile stays)."""
        if token is None or token == self._token:
            self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        body = _compact({"client_id": self._client_id, "client_secret": self._client_secret,
                         "audience": self._audience, "grant_type": "client_credentials"})
        asked = self._now()
        reply = await self.transport.send(
            "POST", TOKEN_PATH, headers=self._headers(json_body=True), body=body,
            secrets=(self._client_secret,), reveals=_issued_token,
        )
        if reply.status in (400, 401, 403):  # the declared client_id, client_secret or audience is not taken
            raise UpstreamCredentialsRefused(
                f"{self.name} refused the gateway's client credentials (client_id {self._client_id}): "
                f"{reply.status} {_said(reply)}{reply.naming()}",
                status=reply.status, request_id=reply.request_id(),
            )
        if 400 <= reply.status < 500 and reply.status != 429:
            raise UpstreamFailed(f"{self.name} answered the token request {reply.status} {_said(reply)}"
                                 f"{reply.naming()}", sent=False, status=reply.status, request_id=reply.request_id())
        answer = self._read(reply, sent=False)
        token, lifetime = answer.get("access_token"), answer.get("expires_in", 86400)
        if not isinstance(token, str) or not token:
            raise UpstreamFailed(f"{self.name} answered the token request without an access_token", sent=False)
        if str(answer.get("token_type", "Bearer")).lower() != "bearer":
            raise UpstreamFailed(f"{self.name} issued a {answer.get('token_type')} token, not a Bearer token", sent=False)
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, Decimal)) or lifetime <= 0:
            raise UpstreamFailed(f"{self.name} answered expires_in {lifetime!r}, not a number of seconds", sent=False)
        seconds = float(lifetime)
        return token, asked + seconds - min(60.0, seconds / 10)  # renew shortly before it runs out

    # -- one call ----------------------------------------------------------------------------------

    def _headers(self, *, json_body: bool, token: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if json_body:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _call(self, method: str, path: str, *, params: Sequence[tuple[str, str]] | None = None,
                    body: bytes | None = None, extra: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Send with the current token; on a 401 (expired or revoked there) fetch a new one and send once more.
        A write's identical resend is safe: it carries the same idempotency key."""
        token = await self._token_before_sending()
        reply = await self._send(method, path, params, body, extra, token)
        if reply.status == 401:
            self.forget_token(token)
            reply = await self._send(method, path, params, body, extra, await self._token_before_sending())
        if reply.status in (401, 403):
            raise UpstreamCredentialsRefused(
                f"{self.name} refused the gateway's access token for {method} {path}: "
                f"{reply.status} {_said(reply)}{reply.naming()}",
                status=reply.status, request_id=reply.request_id(),
            )
        return self._read(reply, sent=method != "GET")

    async def _token_before_sending(self) -> str:
        """The token for a call; trouble getting it means the call itself was never sent (sent=False), so no
        write's outcome is unclear because a token request timed out."""
        try:
            return await self.token()
        except UpstreamError as exc:
            raise unsent(exc) from None

    async def _send(self, method: str, path: str, params: Sequence[tuple[str, str]] | None, body: bytes | None,
                    extra: Mapping[str, str] | None, token: str) -> Reply:
        headers = {**self._headers(json_body=body is not None, token=token), **(extra or {})}
        return await self.transport.send(method, path, params=params, headers=headers, body=body,
                                         secrets=(token, self._client_secret))

    def _read(self, reply: Reply, *, sent: bool) -> dict[str, Any]:
        """A 2xx answer's JSON object; every other answer raised as what it means."""
        request_id = reply.request_id()
        if reply.status == 429:
            wait = retry_after(reply.headers)
            raise UpstreamRateLimited(
                f"{self.name} asked to slow down (429 {_said(reply)}); retry after {wait} s{naming(request_id)}",
                retry_after=wait, sent=False, status=429, request_id=request_id,
            )
        if 400 <= reply.status < 500:
            code, detail = _envelope(reply)
            raise PomeloApiError(self.name, reply.status, code, detail, request_id)
        if not 200 <= reply.status < 300:  # a Retry-After it sent (a 503 in maintenance) is passed on
            told = {"retry_after": retry_after(reply.headers)} if reply.header("Retry-After") else {}
            raise UpstreamFailed(f"{self.name} answered {reply.status} {_said(reply)}{naming(request_id)}",
                                 sent=sent, status=reply.status, request_id=request_id, **told)
        try:
            answer = json.loads(reply.body, parse_float=Decimal)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise UpstreamFailed(f"{self.name} answered {reply.status} with a body that is not a JSON object"
                                 f"{naming(request_id)}", sent=sent, status=reply.status, request_id=request_id)
        return answer

    def _amount(self, answer: Mapping[str, Any], name: str, default: Decimal | None = None) -> Decimal:
        """A JSON number or decimal string from an answer, as a Decimal (never through float)."""
        value = answer.get(name)
        if value is None and default is not None:
            return default
        if not isinstance(value, bool) and isinstance(value, (int, Decimal, str)):
            try:
                found = Decimal(value)
                if found.is_finite():
                    return found
            except InvalidOperation:
                pass
        raise UpstreamFailed(f"{self.name} answered {name} {value!r}, not an amount", sent=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _envelope(reply: Reply) -> tuple[str, str]:
    """(error_code, the details joined) from Pomelo's error envelope, secrets masked; the status phrase
    when it has none."""
    code, said = _enveloped(reply)
    return reply.masked(code), reply.masked(said)


def _enveloped(reply: Reply) -> tuple[str, str]:
    try:
        error = json.loads(reply.body).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        text = reply.body.decode("utf-8", "replace").strip()[:200]
        return "ERROR", text or f"HTTP {reply.status}"
    details = error.get("details") if isinstance(error.get("details"), list) else []
    said = "; ".join(str(d.get("detail")) for d in details if isinstance(d, dict) and d.get("detail"))
    code = error.get("error_code") if isinstance(error.get("error_code"), str) else "ERROR"
    return code, said or code


def _said(reply: Reply) -> str:
    code, detail = _envelope(reply)
    return detail if code in ("ERROR", detail) else f"{code}: {detail}"
