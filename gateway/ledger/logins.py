"""Logins: a tenant's user proves a password and gets one of the tenant's credentials back. The password
is checked against the salted hash the tenant's configuration keeps, off the event loop, with the same
work whether or not the principal is known (see passwords.check_password)."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from .core import LedgerBase
from .models import Credential, Tenant
from .passwords import check_password


def _password_hash(tenant: Tenant | None, section: str, principal: str) -> str | None:
    """The hash of the user whose e-mail is `principal`, among the `users` of the configuration's
    `section` (as gateway.scenario stores them: an `email` and a `password_hash` each)."""
    if tenant is None:
        return None
    users = tenant.section(section).get("users", [])
    for user in users if isinstance(users, list) else []:
        if isinstance(user, Mapping) and str(user.get("email", "")).lower() == principal:
            found: Any = user.get("password_hash")
            return found if isinstance(found, str) else None
    return None


class LoginOps(LedgerBase):
    async def login(
        self, *, scheme: str, principal: str, password: str, section: str, answer: str
    ) -> tuple[Tenant, Credential] | None:
        """The tenant whose `scheme` credential is `principal` (a lower-case e-mail) and its `answer`
        credential, when `password` is that user's; None for an unknown principal or a wrong password,
        told apart neither by the answer nor by the work done."""
        tenant = await self.authenticate(scheme=scheme, principal=principal)
        stored = _password_hash(tenant, section, principal)
        # scrypt takes tens of milliseconds: in a thread, so other requests go on meanwhile
        matches = await asyncio.to_thread(check_password, password, stored)
        credential = tenant.credential(answer) if tenant is not None else None
        if not matches or tenant is None or credential is None:
            return None
        return tenant, credential
