"""Access grants: bearer tokens a tenant's client gets for its secret. The store keeps a hash of each
token, so every instance (and a restarted one) accepts it until it expires on the ledger clock or is
revoked, and it goes with its tenant. Protocol words (OAuth, scope names) stay with the caller."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from .clock import from_text
from .core import LedgerBase
from .errors import InvalidArgument
from .models import AccessGrant, Credential, Tenant
from .repo import grants as grant_sql
from .store.base import Row, Tx


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _derive(secret: str, nonce: str) -> str:
    """A grant's token: an HMAC of its random nonce under the client's secret. A repeat request for a
    live grant gets the same token back although the store never held it; only a caller that knows the
    secret (and so could get a token anyway) can compute it."""
    digest = hmac.new(secret.encode("utf-8", "surrogatepass"), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _grant(row: Row, token: str | None = None) -> AccessGrant:
    return AccessGrant(
        tenant_id=row["tenant_id"], client=row["client"], scopes=tuple(row["scopes"].split()),
        expires_at=from_text(row["expires_at"]), created_at=from_text(row["created_at"]), token=token,
    )


def _live(row: Row | None, secret: str, now: datetime) -> str | None:
    """The token of a stored grant that is still live and was derived from this secret, else None."""
    if row is None or from_text(row["expires_at"]) <= now:
        return None
    token = _derive(secret, row["nonce"])
    return token if hmac.compare_digest(token_hash(token), row["token_hash"]) else None


class GrantOps(LedgerBase):
    async def _owner(self, tx: Tx, credential: Credential) -> int | None:
        """The id of the tenant that holds `credential` (with its secret) in the store now. The store,
        not this instance's copy of the tenants: another instance may have just replaced the tenant."""
        row = await grant_sql.owner(tx, credential.scheme, credential.principal)
        if row is None or row["secret"] is None or credential.secret is None:
            return None
        same = hmac.compare_digest(token_hash(row["secret"]), token_hash(credential.secret))
        return int(row["tenant_id"]) if same else None

    async def grant_access(
        self, *, credential: Credential, scopes: Sequence[str], lifetime: timedelta
    ) -> AccessGrant | None:
        """A token for `credential` carrying `scopes`: the live grant's token for the same client and
        scopes if there is one, else a new grant's. None if no tenant holds that credential and secret."""
        if credential.secret is None:
            raise InvalidArgument("access is granted only for a credential with a secret")
        if any(not s or s.split() != [s] for s in scopes):
            raise InvalidArgument("a scope is one non-empty word")
        if lifetime <= timedelta(0):
            raise InvalidArgument("a grant's lifetime must be positive")
        secret, client, joined = credential.secret, credential.principal, " ".join(scopes)
        now = self.clock.now()

        async def look(tx: Tx) -> tuple[int | None, Row | None]:
            tenant_id = await self._owner(tx, credential)
            return tenant_id, (None if tenant_id is None else await grant_sql.for_client(tx, tenant_id, client, joined))

        tenant_id, found = await self._read(look, point=True)
        token = _live(found, secret, now)
        if found is not None and token is not None:
            return _grant(found, token)
        if tenant_id is None:
            return None

        async def work(tx: Tx) -> AccessGrant | None:
            tenant_id = await self._owner(tx, credential)
            if tenant_id is None:
                return None
            current = await grant_sql.for_client(tx, tenant_id, client, joined)
            again = _live(current, secret, now)
            if current is not None and again is not None:  # another request got there first
                return _grant(current, again)
            if current is not None:
                await grant_sql.drop(tx, current["token_hash"])  # expired: make room for its successor
            nonce = secrets.token_urlsafe(24)
            fresh = _derive(secret, nonce)
            row = {"token_hash": token_hash(fresh), "tenant_id": tenant_id, "client": client, "scopes": joined,
                   "nonce": nonce, "expires_at": now + lifetime, "created_at": now}
            await grant_sql.put(tx, row)
            return AccessGrant(tenant_id, client, tuple(scopes), now + lifetime, now, token=fresh)

        return await self._commit(work)

    async def check_access(self, *, token: str) -> tuple[Tenant, AccessGrant] | None:
        """The tenant and live grant a token was issued under, by one lookup of its hash; None if the store
        holds no such grant (never issued, revoked, gone with its tenant) or it has expired on the ledger
        clock. Nothing is cached here: a revocation or a deletion through any instance counts at once."""
        if not token:
            return None
        row = await self._read(lambda tx: grant_sql.by_hash(tx, token_hash(token)), point=True)
        if row is None or from_text(row["expires_at"]) <= self.clock.now():
            return None
        tenant = await self._tenant_by_id(row["tenant_id"])
        if tenant is None or not any(c.principal == row["client"] for c in tenant.credentials):
            return None
        return tenant, _grant(row)

    async def revoke_access(self, *, credential: Credential) -> int | None:
        """Drop every grant of the client holding `credential`; how many there were, or None if no tenant
        holds that credential and secret."""

        async def work(tx: Tx) -> int | None:
            tenant_id = await self._owner(tx, credential)
            if tenant_id is None:
                return None
            return await grant_sql.drop_client(tx, tenant_id, credential.principal)

        return await self._commit(work)
