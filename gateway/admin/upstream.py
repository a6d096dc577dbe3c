"""Admin handlers for upstream tenants: each upstream's health, intent counts and shadow writes, the
intents a person must settle (and settling one), and discovering which local member is which upstream
member. No secret in any reply."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..keys import LEDGER, UPSTREAMS
from ..ledger import Intent, InvalidArgument, Ledger, Member, RemoteMember, Tenant, UnknownEntry
from ..upstream.declaration import SECTION
from ..upstream.shadow import CHANNEL as SHADOW_CHANNEL
from ..whole_numbers import whole_number
from .state import every_member
from .wire import amount, body_of, iso, render_error, upstream_json

ALL = 100_000  # a listing's limit that means "every one" (the unsettled list)


async def overview(request: web.Request) -> web.Response:
    ledger, ports = request.config_dict[LEDGER], request.config_dict[UPSTREAMS]
    rows = []
    for tenant in await ledger.tenants():
        declared = tenant.section(SECTION)
        if not declared:
            continue
        stats = ports.stats.of(tenant.name)
        shown = upstream_json(declared) or {}
        rows.append({
            "tenant": tenant.name, "dialect": shown["dialect"], "base_url": shown["base_url"], "record": shown["record"],
            "reachable": stats.reachable, "calls": stats.calls, "errors": stats.errors, "last_error": stats.last_error,
            "latency_ms": stats.percentiles(),
            "intents": {"open": await _count(ledger, tenant, "open"), "unsettled": await _count(ledger, tenant, "unsettled")},
            "shadow": await _shadow(ledger, tenant, shown.get("shadow")),
        })
    return web.json_response({"upstreams": rows})


async def _shadow(ledger: Ledger, tenant: Tenant, shown: dict[str, Any] | None) -> dict[str, Any] | None:
    """The tenant's shadow upstream and how its writes stand: how many wait, arrived, were refused (or left
    unclear) there, or ran out of tries; lag_seconds: how long the oldest waiting one has waited (0: none)."""
    if not shown:
        return None
    counts = await ledger.delivery_counts(tenant=tenant, channel=SHADOW_CHANNEL)
    oldest = counts["oldest_pending_at"]
    lag = 0.0 if oldest is None else max(0.0, (ledger.clock.now() - oldest).total_seconds())
    return {"dialect": shown["dialect"], "base_url": shown["base_url"], "pending": counts["pending"],
            "delivered": counts["delivered"], "refused": counts["refused"], "failed": counts["failed"],
            "lag_seconds": round(lag, 3)}


async def _count(ledger: Ledger, tenant: Tenant, state: str) -> int:
    return await ledger.count_intents(tenant=tenant, states=(state,))


async def unsettled(request: web.Request) -> web.Response:
    """Intents whose outcome nobody could learn (never resent): a person settles each."""
    ledger = request.config_dict[LEDGER]
    name = request.query.get("tenant")
    tenant = await ledger.tenant(name) if name else None
    names = {t.id: t.name for t in await ledger.tenants()}
    found = await ledger.intents(tenant=tenant, states=("unsettled",), limit=ALL)
    return web.json_response({"unsettled": [intent_json(i, names.get(i.tenant_id)) for i in found]})


async def settle(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    text = request.match_info["id"]
    intent_id = whole_number(text, low=1, high=2**63 - 1)
    if intent_id is None:
        raise UnknownEntry(f"no intent {text[:40]}")
    await ledger.intent(intent_id=intent_id)  # an unknown id is a 404 before the body's meaning is weighed
    applied, by = _settlement(await body_of(request))
    intent = await ledger.settle_intent(intent_id=intent_id, applied=applied, by=by)
    tenant = next((t.name for t in await ledger.tenants() if t.id == intent.tenant_id), None)
    return web.json_response(intent_json(intent, tenant))


def _settlement(body: dict[str, Any]) -> tuple[bool, str]:
    unknown = sorted(set(body) - {"applied", "by"})
    if unknown:
        raise InvalidArgument(f"unknown field {unknown[0]!r}: the body is {{\"applied\": true|false, \"by\": NAME}}")
    applied, by = body.get("applied"), body.get("by")
    if not isinstance(applied, bool):
        raise InvalidArgument("applied must be true (the upstream did apply it) or false (it did not)")
    if not isinstance(by, str) or not by.strip() or len(by) > 200:
        raise InvalidArgument("by must name who settles it (1 to 200 characters)")
    return applied, by.strip()


def intent_json(i: Intent, tenant: str | None) -> dict[str, Any]:
    return {
        "id": i.id,
        "tenant": tenant,
        "member": i.member_id,
        "upstream_id": i.member_ref,
        "key": i.key,
        "direction": i.direction.value,
        "asset": i.asset.value,
        "points": amount(i.points),
        "cause": i.cause.value,
        "value": amount(i.value),
        "reference": i.reference,
        "state": i.state,
        "answered": i.answered,
        "settled_by": i.settled_by,
        "created_at": iso(i.created_at),
    }


async def discover(request: web.Request) -> web.StreamResponse:
    """Link each local member without an upstream identity to the upstream member with its default id
    (what member_ref falls back to) or, failing that, its e-mail; report what matched and what did not."""
    ledger, ports = request.config_dict[LEDGER], request.config_dict[UPSTREAMS]
    tenant = await ledger.tenant(request.match_info["name"])
    port = ports.resolve(tenant)
    if port is None:
        raise InvalidArgument(f"tenant {tenant.name} has no upstream to discover members at")
    if not port.lists_members:
        return render_error(request, 409, f"{port.name} cannot list its members, so they cannot be discovered;"
                                          " give each member its upstream_id instead", None)
    local = await every_member(ledger, tenant)
    remote = [r async for r in port.members()]
    links, unmatched = match(local, remote, port.member_ref)
    if links:
        await ledger.link_members(tenant=tenant, links=[(m.id, r.ref) for m, r, _ in links])
    linked_refs = {r.ref for _, r, _ in links} | {m.upstream_ref for m in local if m.upstream_ref}
    return web.json_response({
        "linked": [{"member": m.id, "upstream_id": r.ref, "by": by} for m, r, by in links],
        "unmatched_local": [{"member": m.id, "name": m.name, "email": m.email} for m in unmatched],
        "unmatched_upstream": [{"upstream_id": r.ref, "name": r.name, "email": r.email}
                               for r in remote if r.ref not in linked_refs],
    })


def match(local: list[Member], remote: list[RemoteMember], default_ref: Any) -> tuple[
        list[tuple[Member, RemoteMember, str]], list[Member]]:
    """Pairs (member, upstream member, "id" | "email") for members without an upstream_ref, each upstream
    member taken once; an e-mail two upstream members share links nobody."""
    taken = {m.upstream_ref for m in local if m.upstream_ref}
    by_ref = {r.ref: r for r in remote}
    by_email: dict[str, list[RemoteMember]] = {}
    for r in remote:
        if r.email:
            by_email.setdefault(r.email.strip().lower(), []).append(r)
    links, unmatched = [], []
    for member in (m for m in local if not m.upstream_ref):
        found, by = by_ref.get(default_ref(member)), "id"
        if found is None or found.ref in taken:
            same = by_email.get((member.email or "").strip().lower(), []) if member.email else []
            found, by = (same[0], "email") if len(same) == 1 and same[0].ref not in taken else (None, "")
        if found is None:
            unmatched.append(member)
            continue
        taken.add(found.ref)
        links.append((member, found, by))
    return links, unmatched

