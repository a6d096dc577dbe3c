"""Admin handler for GET /__admin/upstream/drift?tenant=NAME[&offset=&limit=&member=ID...]: one page of the
tenant's drift report between its primary upstream and its shadow, written field by field (decimals as
strings, times as ISO 8601 UTC). 409 for a tenant with no upstream or no shadow. No secret in any reply."""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ..keys import LEDGER, UPSTREAMS
from ..ledger import InvalidArgument
from ..upstream.declaration import SECTION
from ..upstream.drift import PAGE_DEFAULT, PAGE_MAX, DriftReport, report, unshadowed
from ..upstream.drift_rules import AssetBalance, MemberDrift, Movement, Pending
from ..whole_numbers import whole_number
from .wire import amount, iso, query_whole, render_error

MEMBERS_AT_MOST = 100  # member= filters one request may carry (so its URL stays well within a request line)


async def drift(request: web.Request) -> web.StreamResponse:
    ledger, ports = request.config_dict[LEDGER], request.config_dict[UPSTREAMS]
    name = request.query.get("tenant", "")
    if not name:
        raise InvalidArgument("tenant is required: GET /__admin/upstream/drift?tenant=NAME")
    offset = query_whole(request, "offset", 0, 0, 10**9)
    limit = query_whole(request, "limit", PAGE_DEFAULT, 1, PAGE_MAX)
    members = _members(request)
    tenant = await ledger.tenant(name)
    why = unshadowed(ports, tenant)
    if why is not None:
        return render_error(request, 409, why, None)
    found = await report(ledger, ports, tenant, offset=offset, limit=limit, members=members)
    return web.json_response(report_json(found, tenant.section(SECTION)))


def _members(request: web.Request) -> list[int]:
    given = request.query.getall("member", [])
    if len(given) > MEMBERS_AT_MOST:
        raise InvalidArgument(f"at most {MEMBERS_AT_MOST} member filters at once")
    out = []
    for text in given:
        value = whole_number(text, low=1, high=2**63 - 1)
        if value is None:
            raise InvalidArgument(f"member must be a member id (a whole number from 1), not {text[:40]!r}")
        out.append(value)
    return out


def report_json(r: DriftReport, declared: Any) -> dict[str, Any]:
    shadow = (declared or {}).get("shadow") or {}
    t = r.totals
    shown = {
        "tenant": r.tenant,
        "taken_at": iso(r.taken_at),
        "verdict": r.verdict,
        "primary": {"dialect": (declared or {}).get("dialect"), "base_url": (declared or {}).get("base_url")},
        "shadow": {"dialect": shadow.get("dialect"), "base_url": shadow.get("base_url")},
        "lag": {"pending": r.lag.pending, "oldest_pending_at": iso(r.lag.oldest_pending_at),
                "seconds": round(r.lag.seconds, 3)},
        "totals": {
            "members": t["members"],
            "members_differing": t["members_differing"],
            "movements": {"total": t["movements"], **{k: t[k] for k in ("applied", "pending", "refused", "failed",
                                                                        "unclear")}},
            "differing": t["differing"],
            "open_at_primary": t["open_at_primary"],
            "page": {v: t[f"page_{v}"] for v in ("in_sync", "in_flight", "drift", "unreadable")},
        },
        "page": {"offset": r.offset, "limit": r.limit, "members": r.matched, "next_offset": r.next_offset},
        "members": [member_json(m) for m in r.members],
    }
    return shown


def member_json(m: MemberDrift) -> dict[str, Any]:
    return {
        "member": m.member_id,
        "primary_id": m.primary_id,
        "shadow_id": m.shadow_id,
        "verdict": m.verdict,
        "reasons": list(m.reasons),
        "missing_at_shadow": m.missing_at_shadow,
        "unreadable": dict(m.unreadable),
        "balances": [balance_json(b) for b in m.balances],
        "differing": [differing_json(d) for d in m.differing],
        "in_flight": [in_flight_json(p) for p in m.in_flight],
    }


def balance_json(b: AssetBalance) -> dict[str, Any]:
    return {"asset": b.asset.value, "primary": amount(b.primary), "shadow": amount(b.shadow),
            "difference": amount(b.difference), "explained": amount(b.explained),
            "in_flight": {"low": amount(b.in_flight_low), "high": amount(b.in_flight_high)},
            "unexplained": amount(b.unexplained)}


def differing_json(d: Movement) -> dict[str, Any]:
    outcome = d.shadow or {}
    return {"key": d.key, "intent": d.intent, "direction": d.direction, "asset": d.asset.value,
            "points": amount(d.points), "cause": d.cause, "reference": d.reference, "primary_ref": d.primary_ref,
            "at": iso(d.at), "attempts": d.attempts,
            "shadow": {"outcome": d.outcome, "code": _text(outcome.get("code")), "message": _text(outcome.get("message"))}}


def in_flight_json(p: Pending) -> dict[str, Any]:
    return {"key": p.key, "where": p.where, "state": p.state, "direction": p.direction, "asset": p.asset.value,
            "points": amount(p.points), "since": iso(p.since), "attempts": p.attempts,
            "settled_while_read": p.settled_while_read}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
