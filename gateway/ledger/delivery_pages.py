"""Reading one channel's deliveries a label at a time (a page of the labels that have any, then those labels'
deliveries without attempts) and tallying them by state and answer, without reading each delivery; and
renewing the lease of claimed deliveries while their sender still works on them."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from .core import LedgerBase
from .errors import InvalidArgument
from .members import check_page
from .models import Delivery, Tenant
from .repo import delivery_pages as page_sql


class DeliveryPageOps(LedgerBase):
    async def delivery_labels(self, *, tenant: Tenant, channel: str, offset: int = 0,
                              limit: int = 200) -> tuple[list[str], int]:
        """A page of the labels the tenant has deliveries under on `channel`, in natural order (shorter
        first, then by text: "m-9" before "m-10"), and how many labels there are in all."""
        check_page(offset, limit)
        return await self._read(lambda tx: page_sql.labels(tx, tenant.id, channel, offset, limit))

    async def deliveries_of_labels(self, *, tenant: Tenant, channel: str, labels: Sequence[str]) -> list[Delivery]:
        """The tenant's deliveries on `channel` under the given labels, oldest first, without attempt
        history (attempts is still the count)."""
        wanted = sorted(set(labels))
        if not wanted:
            return []
        return await self._read(lambda tx: page_sql.of_labels(tx, tenant.id, channel, wanted))

    async def delivery_tally(self, *, tenant: Tenant, channel: str, answer_field: str,
                             differing: Sequence[str]) -> dict[str, Any]:
        """How many of the tenant's deliveries on `channel` are in each (state, answer) pair, the answer being
        `answer_field` of what the receiver answered (None when it said none), and how many labels have one
        settled with an answer (or, with none, a state) in `differing`."""
        if not answer_field.isidentifier() or not differing:
            raise InvalidArgument("answer_field must be a plain name and differing not empty")
        return await self._read(lambda tx: page_sql.tally(tx, self.kind, tenant.id, channel, answer_field,
                                                           list(differing)))

    async def renew_delivery_leases(self, *, deliveries: Sequence[Delivery], lease_seconds: float) -> int:
        """Push the lease of the claimed deliveries still pending under their claim `lease_seconds` past now
        (a sender whose call outlasts the lease keeps it); how many were still held. One lost to another
        claimer (or settled) is left alone."""
        until = self.clock.now() + timedelta(seconds=lease_seconds)
        by_claim: dict[str, list[int]] = {}
        for delivery in deliveries:
            if delivery.claim:
                by_claim.setdefault(delivery.claim, []).append(delivery.id)

        async def work(tx: Any) -> int:
            return sum([await page_sql.renew(tx, ids, claim, until) for claim, ids in by_claim.items()])

        return await self._commit(work) if by_claim else 0
