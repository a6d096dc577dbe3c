"""SQL for intents: writes forwarded to a tenant's upstream, recorded before the call and settled after."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..clock import from_text, to_text
from ..models import Asset, Intent
from ..money import from_cents
from ..store.base import Tx
from ..upstream import Cause, Direction
from . import rows


async def insert(tx: Tx, values: Mapping[str, Any], now: datetime, claim: Claim) -> int:
    """A new open intent, claimed by its sender (`claim`) and sent now (the database's clock); its key is
    given by the caller once the id is known (see `set_key`)."""
    columns = (
        "tenant_id", "member_id", "member_ref", "key", "direction", "asset", "points_cents", "cause", "value_cents",
        "note", "reference", "reverses", "local", "client_scope", "client_key", "client_fingerprint",
    )
    params = [rows.dumps(values[c]) if c == "local" else values.get(c) for c in columns]
    marks = ", ".join("?" for _ in columns)
    return await tx.fetchval(
        f"INSERT INTO upstream_intents ({', '.join(columns)}, state, outcome, created_at, updated_at, claimed_by,"
        f" claimed_until, sent_at) VALUES ({marks}, 'open', '{{}}', ?, ?, ?, {_db_now(claim.kind, True)},"
        f" {_db_now(claim.kind)}) RETURNING id",
        (*params, to_text(now), to_text(now), claim.token, _offset(claim.kind, claim.lease)),
    )


async def set_key(tx: Tx, intent_id: int, key: str) -> None:
    await tx.execute("UPDATE upstream_intents SET key = ? WHERE id = ?", (key, intent_id))


async def finish(
    tx: Tx, intent_id: int, *, state: str, answered: str | None, outcome: Mapping[str, Any], now: datetime,
    settled_by: str | None = None, expect: Sequence[str] = ("open",), holder: str | None = None,
) -> bool:
    """Move an intent out of one of the `expect` states (its claim ends with it); False when it was not in
    one (someone else settled it first), or, with `holder`, when that claim is no longer the one holding
    it (its lease lapsed and another worker took it), so whoever loses the race writes nothing."""
    marks = ", ".join("?" for _ in expect)
    held = "" if holder is None else " AND claimed_by = ?"
    changed = await tx.execute(
        "UPDATE upstream_intents SET state = ?, answered = coalesce(?, answered), outcome = ?, updated_at = ?,"
        " settled_by = coalesce(?, settled_by), claimed_by = NULL, claimed_until = NULL"
        f" WHERE id = ? AND state IN ({marks}){held}",
        (state, answered, rows.dumps(outcome), to_text(now), settled_by, intent_id, *expect,
         *(() if holder is None else (holder,))),
    )
    return changed == 1


# -- claims: one worker at a time on an open intent, across every instance on the database --------------


# Every time here is the DATABASE's clock (as text in `to_text`'s form), never an instance's own: instances
# whose clocks disagree still agree on whose lease has ended and on when a write was last sent.


def _db_now(kind: str, offset: bool = False) -> str:
    """SQL for the database's current time (plus a `?` seconds parameter, with `offset`), as stored text."""
    if kind == "postgresql":
        at = "clock_timestamp()" + (" + make_interval(secs => ?)" if offset else "")
        return f"to_char(({at}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    return "(strftime('%Y-%m-%d %H:%M:%f', 'now'" + (", ?" if offset else "") + ") || '000')"


def _offset(kind: str, seconds: float) -> Any:
    return float(seconds) if kind == "postgresql" else f"{seconds:+.3f} seconds"


@dataclass(frozen=True)
class Claim:
    """A claim's token (unique per claim, so two workers of one process are two claimers), how many seconds
    its lease lasts unless renewed, and the store's kind (whose SQL reads the database's clock)."""

    token: str
    lease: float
    kind: str


async def claim(tx: Tx, intent_id: int, claim: Claim) -> bool:
    """Take an open intent nobody holds (or whose holder's lease has ended); True for exactly one claimer."""
    changed = await tx.execute(
        f"UPDATE upstream_intents SET claimed_by = ?, claimed_until = {_db_now(claim.kind, True)} WHERE id = ?"
        f" AND state = 'open' AND (claimed_until IS NULL OR claimed_until < {_db_now(claim.kind)})",
        (claim.token, _offset(claim.kind, claim.lease), intent_id),
    )
    return changed == 1


async def renew(tx: Tx, intent_id: int, claim: Claim, *, sent: bool = False) -> bool:
    """Extend the holder's lease (and, with `sent`, record that the write was sent, or given up on, now);
    False when the claim was lost (its lease ended and another took it, or the intent was settled)."""
    changed = await tx.execute(
        f"UPDATE upstream_intents SET claimed_until = {_db_now(claim.kind, True)}"
        + (f", sent_at = {_db_now(claim.kind)}" if sent else "")
        + " WHERE id = ? AND claimed_by = ? AND state = 'open'",
        (_offset(claim.kind, claim.lease), intent_id, claim.token),
    )
    return changed == 1


async def landed(tx: Tx, kind: str, intent_id: int, grace: float) -> bool:
    """Whether `grace` seconds have passed since the write was last sent or given up on (database clock)."""
    found = await tx.fetchval(
        f"SELECT 1 FROM upstream_intents WHERE id = ? AND (sent_at IS NULL OR sent_at <= {_db_now(kind, True)})",
        (intent_id, _offset(kind, -grace)),
    )
    return bool(found)


async def db_now(tx: Tx, kind: str) -> datetime:
    return from_text(await tx.fetchval(f"SELECT {_db_now(kind)}"))


async def release(tx: Tx, intent_id: int, token: str) -> None:
    await tx.execute(
        "UPDATE upstream_intents SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?",
        (intent_id, token),
    )


async def answer(tx: Tx, intent_id: int, answered: str, now: datetime) -> None:
    """What the client was told about an intent whose outcome is still unknown."""
    await tx.execute(
        "UPDATE upstream_intents SET answered = ?, updated_at = ? WHERE id = ?", (answered, to_text(now), intent_id)
    )


async def get(tx: Tx, intent_id: int) -> tuple[Intent, dict[str, Any], str | None] | None:
    """The intent, how to record it locally, and the client's fingerprint."""
    row = await tx.fetchone("SELECT * FROM upstream_intents WHERE id = ?", (intent_id,))
    return None if row is None else (to_intent(row), rows.loads(row["local"]), row["client_fingerprint"])


async def by_client_key(tx: Tx, tenant_id: int, scope: str, key: str) -> list[tuple[Intent, str | None]]:
    """Every intent made under a client's idempotency key, newest first, with the client's fingerprint."""
    found = await tx.fetchall(
        "SELECT * FROM upstream_intents WHERE tenant_id = ? AND client_scope = ? AND client_key = ? ORDER BY id DESC",
        (tenant_id, scope, key),
    )
    return [(to_intent(r), r["client_fingerprint"]) for r in found]


async def listing(tx: Tx, tenant_id: int | None, states: Sequence[str], limit: int) -> list[Intent]:
    where, params = [f"state IN ({', '.join('?' for _ in states)})"], list(states)
    if tenant_id is not None:
        where.append("tenant_id = ?")
        params.append(tenant_id)
    found = await tx.fetchall(
        f"SELECT * FROM upstream_intents WHERE {' AND '.join(where)} ORDER BY id LIMIT ?", (*params, limit)
    )
    return [to_intent(r) for r in found]


async def count(tx: Tx, tenant_id: int | None, states: Sequence[str]) -> int:
    where, params = [f"state IN ({', '.join('?' for _ in states)})"], list(states)
    if tenant_id is not None:
        where.append("tenant_id = ?")
        params.append(tenant_id)
    return await tx.fetchval(f"SELECT count(*) FROM upstream_intents WHERE {' AND '.join(where)}", tuple(params))


async def pending(tx: Tx, tenant_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per tenant, how many of its intents are open and how many unsettled (tenants with none left out)."""
    if not tenant_ids:
        return {}
    found = await tx.fetchall(
        "SELECT tenant_id, state, count(*) AS n FROM upstream_intents WHERE state IN ('open', 'unsettled')"
        f" AND tenant_id IN ({', '.join('?' for _ in tenant_ids)}) GROUP BY tenant_id, state",
        tuple(tenant_ids),
    )
    out: dict[int, dict[str, int]] = {}
    for row in found:
        out.setdefault(row["tenant_id"], {"open": 0, "unsettled": 0})[row["state"]] = row["n"]
    return out


def to_intent(row: Any) -> Intent:
    return Intent(
        id=row["id"], tenant_id=row["tenant_id"], member_id=row["member_id"], key=row["key"],
        direction=Direction(row["direction"]), asset=Asset(row["asset"]), points=from_cents(row["points_cents"]),
        cause=Cause(row["cause"]), value=rows.opt_cents(row["value_cents"]), note=row["note"],
        reference=row["reference"], state=row["state"], answered=row["answered"], outcome=rows.loads(row["outcome"]),
        client_scope=row["client_scope"], client_key=row["client_key"], created_at=from_text(row["created_at"]),
        updated_at=from_text(row["updated_at"]), settled_by=row["settled_by"], reverses=row["reverses"],
        member_ref=row["member_ref"], sent_at=_moment(row["sent_at"]), claimed_until=_moment(row["claimed_until"]),
    )


def _moment(text: str | None) -> datetime | None:
    return None if text is None else from_text(text)


async def set_outcome(tx: Tx, intent_id: int, outcome: Mapping[str, Any]) -> None:
    await tx.execute("UPDATE upstream_intents SET outcome = ? WHERE id = ?", (rows.dumps(outcome), intent_id))


async def open_like(tx: Tx, tenant_id: int, cause: Cause, *, reference: str | None = None, reverses: str | None = None) -> bool:
    """Whether a write of this cause, for this reference (or taking back this upstream ref), is on its way
    to the upstream (open or unsettled): a second one must wait for its outcome."""
    column, value = ("reference", reference) if reference is not None else ("reverses", reverses)
    found = await tx.fetchval(
        f"SELECT 1 FROM upstream_intents WHERE tenant_id = ? AND state IN ('open', 'unsettled') AND {column} = ?"
        " AND cause = ?",
        (tenant_id, value, cause.value),
    )
    return bool(found)


async def applied_ref(tx: Tx, tenant_id: int, cause: Cause, reference: str) -> str | None:
    """The upstream's ref of the applied write of this cause and reference (the one a reversal takes back)."""
    found = await tx.fetchval(
        "SELECT outcome FROM upstream_intents WHERE tenant_id = ? AND state = 'applied' AND cause = ? AND reference = ?"
        " ORDER BY id DESC LIMIT 1",
        (tenant_id, cause.value, reference),
    )
    return None if found is None else rows.loads(found).get("ref")
