"""A fresh tenant as a test holds it: a view per dialect (base URL, credentials, ready headers and, where the
dialect uses Basic auth, the (user, password) pair), built from the dialects' descriptors, so the attribute
names are the dialects' names; its balances by any identity; its journal, fault rules and webhooks."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ..contracts.transport import Target
from ..dialects.descriptor import CaseClient
from .admin import AdminClient, AdminError, Changes, Faults
from .journal import Journal, Requests
from .loop import LoopThread
from .webhooks import TenantWebhooks, WebhookSink


class UnknownMember(LookupError):
    """balance() was asked for a member the tenant does not have."""


class DialectView:
    """How a test calls its tenant in one dialect. `base_url` is the server's root (the dialect's paths
    start with its own prefix); `headers` carry the credentials (a token is fetched on first use, and again
    after the clock has moved); `auth` is the Basic auth pair where the dialect has one."""

    def __init__(self, name: str, base_url: str, credentials: Mapping[str, str], client: CaseClient,
                 loop: LoopThread, changes: Changes) -> None:
        self.name, self.base_url, self.credentials = name, base_url, dict(credentials)
        self._client, self._loop, self._changes = client, loop, changes
        self._headers: tuple[int, dict[str, str]] | None = None

    def __repr__(self) -> str:
        return f"<{self.name} view of {self.base_url}>"

    @property
    def auth(self) -> tuple[str, str]:
        if self._client.basic is None:
            raise AttributeError(f"the {self.name} dialect takes no Basic auth: send .headers")
        return self._client.basic(self.credentials)

    @property
    def headers(self) -> dict[str, str]:
        moves = self._changes.clock_moves
        if self._headers is None or self._headers[0] != moves:
            self._headers = (moves, self._loop.run(self._authorize()))
        return dict(self._headers[1])

    async def _authorize(self) -> dict[str, str]:
        async with Target(self.base_url) as target:
            try:
                return dict(await self._client.authorize(self.credentials, "default", target.send))
            except PermissionError as exc:
                raise RuntimeError(f"the server refused the tenant's {self.name} credentials ({exc})") from None


class LoyaltyTenant:
    """One tenant made for one test (POST /__admin/tenants) and deleted after it."""

    def __init__(self, *, answer: Mapping[str, Any], views: Mapping[str, DialectView], client: AdminClient,
                 changes: Changes, sink: WebhookSink) -> None:
        self.name: str = str(answer["name"])
        self.credentials = dict(answer)  # the creation answer: every dialect's credentials, by its name
        self.dialects = dict(views)
        self.faults = Faults(client, changes, {"tenant": self.name})  # rules that touch this tenant only
        self.webhooks = TenantWebhooks(sink, self.name)
        self.journal = Journal(client, self.name)
        self._client = client

    def __repr__(self) -> str:
        return f"<LoyaltyTenant {self.name} ({', '.join(self.dialects)})>"

    def __getattr__(self, name: str) -> DialectView:
        views = self.__dict__.get("dialects", {})
        if name in views:
            return views[name]  # type: ignore[no-any-return]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (its dialects: {', '.join(views)})")

    def balance(self, member: int | str, asset: str = "points", *, pending: bool = False) -> Decimal:
        """A member's posted balance (or its pending holds), named by any identity: a customer id, an id
        in any dialect (user, card), an e-mail address, or id:N."""
        ident = str(member)
        try:  # one point read of the member the identity names (a number: its customer id first, as /entries reads it)
            found = self._client.call("GET", "/members", params={"tenant": self.name, "member": ident, "limit": 1})
        except AdminError as exc:
            raise ValueError(f"{ident!r} names no member: {exc.message}") from None
        if not found["members"]:
            raise UnknownMember(f"tenant {self.name} has no member {ident!r}")
        row = found["members"][0]
        account = row["balances"].get(asset)
        if account is None:
            return Decimal("0.00")
        return Decimal(account["pending" if pending else "posted"])

    def requests(self, *, dialect: str | None = None, path: str | None = None, method: str | None = None,
                 status: int | str | None = None) -> Requests:
        """The tenant's recorded requests that match, oldest first, with their `.count` (see Journal.requests)."""
        return self.journal.requests(dialect=dialect, path=path, method=method, status=status)

    def verify(self, count: int, *, dialect: str | None = None, path: str | None = None, method: str | None = None,
               status: int | str | None = None) -> Requests:
        """Assert that exactly `count` of the tenant's requests match (see Journal.verify)."""
        return self.journal.verify(count, dialect=dialect, path=path, method=method, status=status)

    def delete(self) -> None:
        self._client.call("DELETE", "/tenants/" + quote(self.name, safe=""))
