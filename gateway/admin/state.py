"""Admin handlers over the ledger's state: reset, load a scenario, tenants (list, create fresh, delete),
members with their balances, the entries of the ledger, and the audit. JSON in, JSON out."""
from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web

from ..whole_numbers import whole_number
from ..keys import DIALECTS, LEDGER, SANDBOX, SETTINGS
from ..ledger import (
    Asset,
    Balance,
    By,
    DuplicateIdentity,
    Entry,
    HistoryQuery,
    Identity,
    InvalidArgument,
    Ledger,
    Member,
    PendingUpstreamWrites,
    Status,
    Tenant,
    UnknownMember,
    UnknownTenant,
    UpstreamError,
)
from ..upstream.declaration import SECTION as UPSTREAM
from . import generated
from ..sandbox.shared import settled  # the shared sandbox's changes reach the store
from . import tenants as made
from .wire import body_of, entry_json, member_json, page_args, tenant_json


async def reset(request: web.Request) -> web.Response:
    """One tenant back to its scenario, or (no tenant named) everything back to the startup scenario."""
    ledger, settings = request.config_dict[LEDGER], request.config_dict[SETTINGS]
    body = await body_of(request, optional=True)
    name = body.get("tenant")
    if name is not None and not isinstance(name, str):
        raise InvalidArgument("tenant must be a tenant name")  # checked before `or`: {} must not reset everything
    name = name or request.query.get("tenant")
    if name:
        await generated.reset_tenant(ledger, settings, name, request.config_dict[DIALECTS])
        return web.json_response({"reset": [name]})
    await ledger.check_deletable(tenants=await ledger.tenants())  # refused before anything is cleared
    moved = dict(ledger.clock.state)
    await settled(ledger.clock.reset())  # first, so the rebuilt tenants are dated in real time
    try:
        names = await made.reset_all(ledger, settings)
    except PendingUpstreamWrites:
        # An intent opened since the check: nothing was deleted, so the clock goes back to where it was
        # and faults, rate-limit counts and the journal stay as they were (a refused reset changes nothing).
        await _restore(ledger.clock, moved)
        raise
    sandbox = request.config_dict[SANDBOX]
    await settled(sandbox.faults.clear())
    await settled(sandbox.limits.reset_counters())
    await settled(sandbox.journal.clear())
    return web.json_response({"reset": names, "journal": "cleared", "faults": "cleared", "clock": "real"})


async def _restore(clock: Any, state: dict[str, Any]) -> None:
    if state["frozen"] is not None:
        await settled(clock.freeze(state["frozen"]))
    elif state["offset_seconds"]:
        await settled(clock.shift(timedelta(seconds=state["offset_seconds"])))


async def load_scenario(request: web.Request) -> web.Response:
    """Add every tenant of a scenario document; refused whole (409) if one of its names exists."""
    ledger = request.config_dict[LEDGER]
    scenario = made.checked(await body_of(request), "request body")
    await _refuse_existing(ledger, [spec["name"] for spec in scenario["tenants"]])
    await made.build_all(ledger, scenario["tenants"])
    return web.json_response({"tenants": [spec["name"] for spec in scenario["tenants"]]}, status=201)


async def _refuse_existing(ledger: Ledger, names: list[str]) -> None:
    """Look each name up rather than listing every tenant: creating one must not cost more as they pile up.
    A name found is checked again after a reload (one epoch read when nothing changed): another instance
    may have deleted it a moment ago."""
    for name in names:
        try:
            await ledger.tenant(name)
            await ledger.reload_tenants()
            await ledger.tenant(name)
        except UnknownTenant:
            continue
        raise DuplicateIdentity(f"a tenant named {name!r} exists already")


async def list_tenants(request: web.Request) -> web.Response:
    """Tenants, oldest first (the ledger holds them in memory); ?offset=&limit= pages them, and members are
    counted for the page's tenants only; the total either way. Without either, every tenant, as before."""
    ledger = request.config_dict[LEDGER]
    offset, limit = page_args(request, default_limit=10_000)
    everyone = await ledger.tenants()
    shown = everyone[offset:offset + limit] if "limit" in request.query or "offset" in request.query else everyone
    out = [tenant_json(t, await ledger.count_members(tenant=t)) for t in shown]
    return web.json_response({"tenants": out, "total": len(everyone)})


async def show_tenant(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    tenant = await ledger.tenant(request.match_info["name"])
    return web.json_response(tenant_json(tenant, await ledger.count_members(tenant=tenant)))


CREATE_TENANT_KEYS = frozenset({"scenario", "tenant", "name", "generate", "seed"})


async def create_tenant(request: web.Request) -> web.Response:
    """A fresh tenant copied from a scenario's tenant, with new credentials for every dialect."""
    ledger = request.config_dict[LEDGER]
    body = await body_of(request, optional=True)
    unknown = sorted(set(body) - CREATE_TENANT_KEYS)
    if unknown:  # e.g. an "upstream" put here instead of in the scenario's tenant: never silently dropped
        raise InvalidArgument(
            f"unknown field(s) {', '.join(unknown)}: the body takes {', '.join(sorted(CREATE_TENANT_KEYS))}"
            " (an upstream and members belong to the tenant in the scenario document)"
        )
    if "generate" in body or "seed" in body:  # N synthetic members instead of a scenario's
        return web.json_response(
            await generated.from_request(ledger, body, request.config_dict[DIALECTS], _refuse_existing), status=201
        )
    spec = made.pick_tenant(made.pick_scenario(body), body.get("tenant"))
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidArgument("name must be a string")  # checked before `or`: {} must not pick a name
    name = name or f"{spec['name']}-{secrets.token_hex(4)}"
    await _refuse_existing(ledger, [name])
    fresh = made.checked({"tenants": [made.fresh_credentials(spec, name, request.config_dict[DIALECTS])]}, "request body")["tenants"][0]
    tenant = await made.build(ledger, fresh, generated=True)
    return web.json_response(
        {"name": tenant.name, "members": await ledger.count_members(tenant=tenant), **made.credentials_of(fresh, request.config_dict[DIALECTS])},
        status=201,
    )


async def delete_tenant(request: web.Request) -> web.Response:
    ledger = request.config_dict[LEDGER]
    tenant = await ledger.tenant(request.match_info["name"])
    await ledger.delete_tenants(tenants=[tenant])
    return web.json_response({"deleted": tenant.name})


async def one_tenant(ledger: Ledger, name: str | None) -> Tenant:
    """The tenant named, or the only one there is."""
    if name:
        return await ledger.tenant(name)
    tenants = await ledger.tenants()
    if len(tenants) != 1:
        raise InvalidArgument("name the tenant: ?tenant=NAME")
    return tenants[0]


async def members(request: web.Request) -> web.Response:
    """Members with their identities in every dialect and their balances: the one an identity names
    (`member`, a point read per tenant), else those whose words contain `q` (a scan of every member), else
    a page through the ledger: after the cursor `after` (reads that page only, by the index), or from
    `offset` (one count per tenant finds the start). The plain listing counts (`total`) only when asked
    (`count=true`, or limit=0) or when an offset needs the counts anyway: a count walks every member."""
    ledger = request.config_dict[LEDGER]
    offset, limit = page_args(request, default_limit=100)
    named, wanted = request.query.get("member", "").strip(), request.query.get("q", "").strip().lower()
    after, counted = request.query.get("after", "").strip(), _flag(request, "count")
    if named and wanted:
        raise InvalidArgument("give member (one identity, exactly) or q (text to search for), not both")
    if after and (named or wanted or offset):
        raise InvalidArgument("after pages the plain listing: not with member, q or offset")
    one_tenant_named = bool(request.query.get("tenant"))
    tenants = [await ledger.tenant(request.query["tenant"])] if one_tenant_named else await ledger.tenants()
    total: int | None
    next_after: str | None = None
    if named:
        found, total = await _named(ledger, tenants, named)
        found = found[offset:offset + limit]
    elif wanted:
        found, total = await _containing(ledger, tenants, wanted, offset, limit)
    elif offset or counted or limit == 0:  # limit=0 asks for the count alone
        found, total = await _page(ledger, tenants, offset, limit)
        next_after = _cursor(found, limit, one_tenant_named)
    else:
        found, total = await _after(ledger, tenants, _parse_after(after, tenants), limit), None
        next_after = _cursor(found, limit, one_tenant_named)
    dialects = request.config_dict[DIALECTS]
    rows = [member_json(tenant, await _balance(ledger, tenant, member), dialects) for tenant, member in found]
    answer: dict[str, Any] = {"members": rows, "offset": offset, "limit": limit}
    if total is not None:
        answer["total"] = total
    if not (named or wanted):
        answer["next"] = next_after
    return web.json_response(answer)


def _flag(request: web.Request, name: str) -> bool:
    """?name=true|false (absent or empty: false), else InvalidArgument."""
    text = request.query.get(name, "").strip().lower()
    if text not in ("", "true", "false", "1", "0"):
        raise InvalidArgument(f"{name} must be true or false")
    return text in ("true", "1")


def _parse_after(text: str, tenants: list[Tenant]) -> tuple[int, int | None]:
    """The plain listing's cursor: "" (from the start), a customer id (in the first tenant listed, the one
    ?tenant= names), or TENANT:CUSTOMER_ID (the `next` of a listing of every tenant). Answers (index of the
    tenant in `tenants`, the customer id to start after or None)."""
    if not text:
        return 0, None
    name, _, number = text.rpartition(":")
    customer_no = whole_number(number)
    if customer_no is None:
        raise InvalidArgument("after must be a customer id or TENANT:CUSTOMER_ID (a listing's next)")
    if not name:
        return 0, customer_no
    for index, tenant in enumerate(tenants):
        if tenant.name == name:
            return index, customer_no
    raise InvalidArgument(f"after names tenant {name!r}, which this listing does not list")


async def _after(ledger: Ledger, tenants: list[Tenant], start: tuple[int, int | None], limit: int) -> Found:
    """Up to `limit` members in tenant order, then by customer id, from the cursor on: each tenant's rows
    found by the (tenant_id, customer_no) index, so a page costs the same at any depth; nothing is counted."""
    first, last = start
    found: Found = []
    for tenant in tenants[first:]:
        if len(found) >= limit:
            break
        page = await ledger.members(tenant=tenant, limit=limit - len(found), after_customer_no=last)
        found.extend((tenant, m) for m in page.items)
        last = None
    return found


def _cursor(found: Found, limit: int, one_tenant_named: bool) -> str | None:
    """What to pass as `after` for the next page, None when this page was the last one (it is short)."""
    if limit == 0 or len(found) < limit:
        return None
    tenant, member = found[-1]
    return str(member.customer_no) if one_tenant_named else f"{tenant.name}:{member.customer_no}"


Found = list[tuple[Tenant, Member]]


async def _named(ledger: Ledger, tenants: list[Tenant], text: str) -> tuple[Found, int]:
    """Every member the identity names, in each tenant: a number is a customer id or an mbr_id (two
    members when they differ), the rest as /__admin/entries reads them. Point reads only."""
    ref = member_ref(text)
    refs = [ref, By(Identity.MEMBER_NO, ref.value)] if ref.identity is Identity.CUSTOMER_NO else [ref]
    found: Found = []
    for tenant in tenants:
        seen: set[int] = set()
        for each in refs:
            try:
                member = await ledger.find_member(tenant=tenant, member=each)
            except UnknownMember:
                continue
            if member.id not in seen:
                seen.add(member.id)
                found.append((tenant, member))
    return found, len(found)


async def _containing(ledger: Ledger, tenants: list[Tenant], wanted: str, offset: int, limit: int) -> tuple[Found, int]:
    """Members whose name, e-mail or ids contain the text: reads every member, a thousand at a time,
    keeping only the page asked for (and counting the rest)."""
    found: Found = []
    total = 0
    for tenant in tenants:
        async for member in _each_member(ledger, tenant):
            if wanted in _words(member):
                if offset <= total < offset + limit:
                    found.append((tenant, member))
                total += 1
    return found, total


async def _page(ledger: Ledger, tenants: list[Tenant], offset: int, limit: int) -> tuple[Found, int]:
    """Members in tenant order, then by customer id: one count per tenant says where the page starts,
    then the ledger reads only the rows of the page."""
    found: Found = []
    total = 0
    for tenant in tenants:
        count = await ledger.count_members(tenant=tenant)
        start = max(offset - total, 0)
        wanted = min(limit - len(found), count - start)
        if wanted > 0:
            page = await ledger.members(tenant=tenant, offset=start, limit=wanted)
            found.extend((tenant, m) for m in page.items)
        total += count
    return found, total


async def _balance(ledger: Ledger, tenant: Tenant, member: Member) -> Balance:
    """The member's balances; for a tenant whose points live at an upstream, the upstream's, and none
    when the upstream does not know the member or cannot answer (the listing still shows the member)."""
    try:
        return await ledger.balance(tenant=tenant, member=member, include_deleted=True)  # listed with deleted: true
    except (UnknownMember, UpstreamError):
        if not tenant.section(UPSTREAM):
            raise
        return Balance(member=member, accounts={})


async def every_member(ledger: Ledger, tenant: Tenant) -> list[Member]:
    """All of a tenant's members (for the admin's per-member work, such as linking them to an upstream)."""
    return [member async for member in _each_member(ledger, tenant)]


async def _each_member(ledger: Ledger, tenant: Tenant) -> AsyncIterator[Member]:
    """A tenant's members by customer number, a thousand at a time, each page after the last number seen
    (keyset: an OFFSET would step over every row already read, making the walk quadratic)."""
    last: int | None = None
    while True:
        page = await ledger.members(tenant=tenant, limit=1000, after_customer_no=last)
        for member in page.items:
            yield member
        if len(page.items) < 1000:
            return
        last = page.items[-1].customer_no


def _words(m: Member) -> str:
    return " ".join(
        str(v) for v in (m.name, m.email or "", m.customer_no, m.member_no, m.user_ref, *m.card_refs)
    ).lower()


def member_ref(text: str) -> By:
    """A member named the way any dialect names it: 1534, usr-…, crd-…, an e-mail, or id:17 (internal)."""
    text = text.strip()
    if text.startswith("id:") and whole_number(text[3:]) is not None:
        return By(Identity.ID, int(text[3:]))
    if whole_number(text) is not None:
        return By(Identity.CUSTOMER_NO, int(text))
    if text.startswith("usr-"):
        return By(Identity.USER_REF, text)
    if text.startswith("crd-"):
        return By(Identity.CARD_REF, text)
    if "@" in text:
        return By(Identity.EMAIL, text)
    raise InvalidArgument("member must be a customer id, usr-…, crd-…, an e-mail address or id:N")


ALL_STATUSES = frozenset(Status)


async def entries(request: web.Request) -> web.Response:
    """The ledger's entries (every status, every revision), oldest first, paged."""
    ledger = request.config_dict[LEDGER]
    tenant = await one_tenant(ledger, request.query.get("tenant"))
    offset, limit = page_args(request, default_limit=100)
    member_id = None
    if request.query.get("member"):
        member_id = (await ledger.find_member(tenant=tenant, member=member_ref(request.query["member"]))).id
    asset = request.query.get("asset")
    if asset is not None and asset not in {a.value for a in Asset}:
        raise InvalidArgument("asset must be points, cashback or miles")
    query = HistoryQuery(
        member_id=member_id, asset=Asset(asset) if asset else None, statuses=ALL_STATUSES, records_only=False
    )
    # limit=0 asks for the total alone; the ledger's pages hold at least one row
    rows: list[Entry] = list((await ledger.history(tenant=tenant, query=query, offset=offset, limit=limit)).items
                             if limit else [])
    total = await ledger.count_history(tenant=tenant, query=query)
    return web.json_response(
        {"tenant": tenant.name, "entries": [entry_json(e) for e in rows], "total": total, "offset": offset, "limit": limit}
    )


async def audit(request: web.Request) -> web.Response:
    report = await request.config_dict[LEDGER].audit()
    return web.json_response({"ok": report.ok, "violations": list(report.violations), "checked": dict(report.checked)})
