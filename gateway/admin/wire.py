"""The admin API's JSON: request bodies and paging read strictly, ledger records written field by field
(never asdict), decimals as strings, times as ISO 8601 UTC."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..dialects.common import read_json_object
from ..dialects.descriptor import Dialect
from ..whole_numbers import whole_number
from ..ledger import Balance, Entry, InvalidArgument, Tenant
from ..scenario import login_schemes
from ..upstream.declaration import SECTION as UPSTREAM, masked


async def body_of(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The JSON object in the body; an empty body is {} when `optional`."""
    if optional and not (await request.read()).strip():
        return {}
    body = await read_json_object(request, what="the body")
    return body


def page_args(request: web.Request, *, default_limit: int) -> tuple[int, int]:
    """?offset= and ?limit=; limit=0 lists nothing but still counts (the listing's total)."""
    return query_whole(request, "offset", 0, 0, 10**9), query_whole(request, "limit", default_limit, 0, 10_000)


def query_whole(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """?name= as a whole number from low to high (default when absent or empty), else InvalidArgument."""
    text = request.query.get(name)
    if text is None or text == "":
        return default
    value = whole_number(text, low=low, high=high)
    if value is None:
        raise InvalidArgument(f"{name} must be a whole number from {low} to {high}")
    return value


def render_error(request: web.Request, status: int, message: str, code: str | None) -> web.StreamResponse:
    """The admin API's one error shape."""
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def tenant_json(t: Tenant, members: int) -> dict[str, Any]:
    spec = t.section("sandbox").get("spec")
    return {
        "name": t.name,
        "created_at": iso(t.created_at),
        "members": members,
        "dialects": sorted({c.scheme for c in t.credentials} - login_schemes()),  # a user's login is no dialect
        "resettable_from": "its scenario" if spec else "the startup scenario, if it declares this tenant",
        "upstream": upstream_json(t.section(UPSTREAM)),
    }


def upstream_json(declaration: Any) -> dict[str, Any] | None:
    """A tenant's upstream as the admin API shows it: never a secret credential's value."""
    if not declaration:
        return None
    shown = masked(declaration)
    return {"dialect": shown["dialect"], "base_url": shown["base_url"], "credentials": shown["credentials"],
            "record": shown["record"], "shadow": shown["shadow"]}


def member_json(t: Tenant, b: Balance, dialects: Sequence[Dialect]) -> dict[str, Any]:
    """A member with its identities as each dialect shows them (under the dialect's name), its balances, and
    its balances as each dialect shows them."""
    m = b.member
    shown: dict[str, Any] = {"tenant": t.name, "id": m.id, "name": m.name, "deleted": m.deleted}
    for dialect in dialects:
        if dialect.admin.member_view is not None:
            shown[dialect.name] = dialect.admin.member_view(m)
    return {
        **shown,
        "upstream_id": m.upstream_ref,
        "balances": {
            a.asset.value: {"posted": amount(a.posted), "pending": amount(a.pending)}
            for a in sorted(b.accounts.values(), key=lambda a: a.asset.value)
        },
        "updated_at": iso(b.updated_at),
        # what each dialect's own read of the member answers, field by field as the vendor writes it
        "dialect_balances": {d.name: dict(d.admin.balance_view(b)) for d in dialects if d.admin.balance_view is not None},
    }


def entry_json(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "public_ref": e.public_ref,
        "member_id": e.member_id,
        "customer_id": e.customer_no,
        "asset": e.asset.value,
        "amount": amount(e.amount),
        "kind": e.kind.value,
        "status": e.status.value,
        "record_id": e.record_id,
        "record_amount": amount(e.record_amount),
        "reference": e.reference,
        "note": e.note,
        "origin": e.origin,
        "value": amount(e.value),
        "order_id": e.order_id,
        "reverses_id": e.reverses_id,
        "occurred_at": iso(e.occurred_at),
        "created_at": iso(e.created_at),
    }
