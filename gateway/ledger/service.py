"""Ledger: the one object the dialects and the admin API talk to. Keyword-only domain operations,
each one transaction on the store; composed from one module per concept. ForwardedOps comes first: for
a tenant bound to an upstream it forwards the operations, for any other it hands them on unchanged."""
from __future__ import annotations

from .audit import AuditOps
from .deliveries import DeliveryOps
from .delivery_pages import DeliveryPageOps
from .forwarded import ForwardedOps
from .grants import GrantOps
from .logins import LoginOps
from .members import MemberOps
from .models import Event
from .movements import MovementOps
from .orders import OrderOps
from .rewards import RewardOps
from .shared import SharedOps
from .repo import events as event_sql


class Ledger(ForwardedOps, MemberOps, RewardOps, MovementOps, OrderOps, DeliveryOps, GrantOps, AuditOps, LoginOps,
             SharedOps, DeliveryPageOps):
    async def events(self, *, after: int = 0, limit: int = 100, tenant_id: int | None = None) -> list[Event]:
        """Outbox events in commit order, after the given event id."""
        return await self._read(lambda tx: event_sql.events_after(tx, after, limit, tenant_id))
