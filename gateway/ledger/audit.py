"""audit(): every invariant the ledger promises, checked against the store, each violation named."""
from __future__ import annotations

from .core import LedgerBase
from .models import AuditReport
from .store.base import Tx

# (name, SQL returning offending rows as (id, detail)); every check reads committed data only.
_CHECKS: list[tuple[str, str]] = [
    (
        # upstream_offset: what a tenant's upstream moved besides the writes forwarded from here (0 elsewhere)
        "posted balance differs from the sum of confirmed entries",
        "SELECT a.member_id || ':' || a.asset, a.posted || ' != ' || (coalesce(s.total, 0) + a.upstream_offset)"
        " FROM accounts a"
        " LEFT JOIN (SELECT member_id, asset, sum(amount) AS total FROM entries WHERE status = 'confirmed'"
        " GROUP BY member_id, asset) s ON s.member_id = a.member_id AND s.asset = a.asset"
        " WHERE a.posted != coalesce(s.total, 0) + a.upstream_offset",
    ),
    (
        "pending balance differs from the sum of pending entries",
        "SELECT a.member_id || ':' || a.asset, a.pending || ' != ' || coalesce(s.total, 0) FROM accounts a"
        " LEFT JOIN (SELECT member_id, asset, sum(amount) AS total FROM entries WHERE status = 'pending'"
        " GROUP BY member_id, asset) s ON s.member_id = a.member_id AND s.asset = a.asset"
        " WHERE a.pending != coalesce(s.total, 0)",
    ),
    (
        "negative balance",
        "SELECT member_id || ':' || asset, posted || '/' || pending FROM accounts WHERE posted < 0 OR pending < 0",
    ),
    (
        "pending entry with a non-positive amount",
        "SELECT id, amount FROM entries WHERE (status = 'pending' OR id IN (SELECT entry_id FROM resolutions))"
        " AND amount <= 0",
    ),
    (
        "record whose entries do not add up to its current value",
        "SELECT r.id, coalesce(sum(e.amount), 0) || ' != ' || (SELECT h.record_amount FROM entries h"
        " WHERE h.id = coalesce((SELECT max(n.id) FROM entries n WHERE n.record_id = r.id), r.id))"
        " FROM entries r LEFT JOIN entries e ON e.record_id = r.id OR e.id = r.id WHERE r.record_id IS NULL"
        " AND EXISTS (SELECT 1 FROM entries n WHERE n.record_id = r.id) GROUP BY r.id"
        " HAVING coalesce(sum(e.amount), 0) != (SELECT h.record_amount FROM entries h"
        " WHERE h.id = (SELECT max(n.id) FROM entries n WHERE n.record_id = r.id))",
    ),
    (
        "entry of a member of another tenant",
        "SELECT e.id, e.tenant_id || ' vs ' || m.tenant_id FROM entries e JOIN members m ON m.id = e.member_id"
        " WHERE m.tenant_id != e.tenant_id",
    ),
    (
        "reversal that does not mirror its original",
        "SELECT r.id, r.amount || ' vs ' || o.amount FROM entries r JOIN entries o ON o.id = r.reverses_id"
        " WHERE r.member_id != o.member_id OR r.asset != o.asset OR abs(r.amount) > abs(o.amount)"
        " OR (r.amount != 0 AND (r.amount < 0) = (o.amount < 0))",
    ),
    (
        "resolved entry whose status disagrees with its resolution",
        "SELECT e.id, e.status || ' vs ' || r.outcome FROM entries e JOIN resolutions r ON r.entry_id = e.id"
        " WHERE e.status != r.outcome",
    ),
    (
        "entry left the pending state without a resolution",
        "SELECT e.id, e.status FROM entries e WHERE e.status = 'cancelled'"
        " AND NOT EXISTS (SELECT 1 FROM resolutions r WHERE r.entry_id = e.id)",
    ),
    (
        "entry reversed more than once or reversal of a reversal",
        "SELECT r.id, r.reverses_id FROM entries r JOIN entries o ON o.id = r.reverses_id WHERE o.kind = 'reversal'",
    ),
    (
        "entry without exactly one creation event",
        "SELECT e.id, count(o.id) FROM entries e LEFT JOIN outbox o ON o.entry_id = e.id AND o.topic = 'entry.created'"
        " GROUP BY e.id HAVING count(o.id) != 1",
    ),
    (
        "resolution without exactly one resolution event",
        "SELECT r.entry_id, count(o.id) FROM resolutions r LEFT JOIN outbox o ON o.entry_id = r.entry_id"
        " AND o.topic = 'entry.' || r.outcome GROUP BY r.entry_id HAVING count(o.id) != 1",
    ),
    (
        "resolution event without a resolution",
        "SELECT o.id, o.topic FROM outbox o WHERE o.topic IN ('entry.confirmed', 'entry.cancelled')"
        " AND NOT EXISTS (SELECT 1 FROM resolutions r WHERE r.entry_id = o.entry_id"
        " AND 'entry.' || r.outcome = o.topic)",
    ),
    (
        "order earnings differ from its confirmed earn entry",
        "SELECT o.id, o.earned || ' != ' || coalesce(s.total, 0) FROM orders o LEFT JOIN (SELECT order_id,"
        " sum(amount) AS total FROM entries WHERE kind = 'order_earn' GROUP BY order_id) s ON s.order_id = o.id"
        " WHERE o.earned != coalesce(s.total, 0)",
    ),
    (
        "member without its three accounts",
        "SELECT m.id, count(a.asset) FROM members m LEFT JOIN accounts a ON a.member_id = m.id"
        " GROUP BY m.id HAVING count(a.asset) != 3",
    ),
]


class AuditOps(LedgerBase):
    async def audit(self) -> AuditReport:
        async def work(tx: Tx) -> AuditReport:
            violations: list[str] = []
            for name, sql in _CHECKS:
                for row in await tx.fetchall(sql + " LIMIT 20"):
                    violations.append(f"{name}: {row[0]} ({row[1]})")
            checked = {
                table: await tx.fetchval(f"SELECT count(*) FROM {table}")
                for table in ("tenants", "members", "entries", "resolutions", "orders", "outbox")
            }
            return AuditReport(tuple(violations), checked)

        return await self._read(work)
