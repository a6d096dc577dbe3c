"""`loyalty-gateway drift --tenant NAME`: a running gateway's drift report between the tenant's primary upstream
and its shadow (GET /__admin/upstream/drift, every page), summarised on the console or printed as JSON.
Exit 0: in sync; 1: drift; 3: in flight only (noise: run it again once the shadow caught up); 4: some balance
could not be read and no drift was found; 2: a usage error, or the gateway could not be asked (unreachable,
the admin token refused, no such tenant, a tenant without shadow), said in one line; 130: Ctrl-C."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
from yarl import URL

from .upstream.drift_rules import DRIFT, IN_FLIGHT, IN_SYNC, SEVERITY, UNREADABLE

PROG = "loyalty-gateway"
ADMIN_TOKEN_ENV = "LOYALTY_GATEWAY_ADMIN_TOKEN"
EXIT = {IN_SYNC: 0, DRIFT: 1, IN_FLIGHT: 3, UNREADABLE: 4}
PAGE = 1000  # members asked for per request
FILTERS = 100  # --member ids sent per request (the most the gateway takes at once)
SHOWN = 10  # differing movements printed per member on the console (--json has every one)
TIMEOUT_SECONDS = 300.0  # one page reads up to PAGE members' balances at two upstreams


class Unanswered(Exception):
    """The gateway could not be asked, or refused to answer; one line, exit 2."""


def add_command(commands: Any) -> None:
    parser = commands.add_parser("drift", help="compare a tenant's primary upstream with its shadow, member by member")
    parser.add_argument("--tenant", required=True, help="the tenant whose upstream declares a shadow")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the gateway's base URL (default %(default)s)")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        help=f"the gateway's admin token (default: ${ADMIN_TOKEN_ENV}); never printed")
    parser.add_argument("--json", action="store_true", help="print the whole report as JSON")
    parser.add_argument("--all", action="store_true", help="print every member, not only those that drift")
    parser.add_argument("--member", dest="members", type=_member_id, nargs="+", action="extend", default=[],
                        metavar="ID", help="only these members (the gateway's member ids)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (default 300)")


def _member_id(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a member id is a whole number from 1, not {text!r}")
    return int(text)


def main(args: argparse.Namespace) -> int:
    token = args.admin_token or os.environ.get(ADMIN_TOKEN_ENV) or None
    try:
        found = asyncio.run(fetch(args.url, args.tenant, token, sorted(set(args.members)), args.timeout))
    except Unanswered as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (Ctrl-C)", file=sys.stderr, flush=True)
        return 130
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        for line in console(found, every=args.all):
            print(line)
    return EXIT.get(found.get("verdict"), 1)


async def fetch(url: str, tenant: str, token: str | None, members: Sequence[int], timeout: float) -> dict[str, Any]:
    """The whole report: one request with member filters, else every page, merged into one document."""
    try:
        base = URL(url.rstrip("/"))
        if base.scheme not in ("http", "https") or not base.host:
            raise ValueError
    except ValueError:
        raise Unanswered(f"--url {url!r} is no http(s) URL with a host") from None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    pages: list[dict[str, Any]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), headers=headers) as session:
        url = base / "__admin" / "upstream" / "drift"
        for start in range(0, len(members), FILTERS):
            chosen = [("member", str(m)) for m in members[start:start + FILTERS]]
            pages.append(await _page(session, url, [("tenant", tenant), *chosen]))
        offset: int | None = None if members else 0
        while offset is not None:
            pages.append(await _page(session, url, [("tenant", tenant), ("offset", str(offset)), ("limit", str(PAGE))]))
            offset = pages[-1]["page"].get("next_offset")
    return merged(pages)


async def _page(session: aiohttp.ClientSession, url: URL, query: list[tuple[str, str]]) -> dict[str, Any]:
    try:
        async with session.get(url.with_query(query)) as response:
            text = await response.text()
            status = response.status
    except asyncio.TimeoutError:
        raise Unanswered(f"{url.origin()} did not answer in time") from None
    except aiohttp.ClientError as exc:
        raise Unanswered(f"cannot reach {url.origin()}: {exc.__class__.__name__}: {exc}") from None
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if status == 200 and isinstance(body, dict) and "members" in body:
        return body
    said = body.get("error", {}).get("message") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    if status == 401:
        said = f"the admin token was refused ({'give --admin-token or $' + ADMIN_TOKEN_ENV})"
    raise Unanswered(f"{url.origin()} answered {status}: {said or text[:200].strip() or 'nothing'}")


def merged(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """Pages of one report as one: every member, the page counts summed, the worst verdict, the last lag."""
    whole = dict(pages[-1])
    whole["members"] = [m for p in pages for m in p["members"]]
    counts = {v: sum(1 for m in whole["members"] if m["verdict"] == v) for v in (IN_SYNC, IN_FLIGHT, DRIFT, UNREADABLE)}
    whole["totals"] = {**whole["totals"], "page": counts}
    whole["verdict"] = next(v for v in SEVERITY if v in {p["verdict"] for p in pages} | {IN_SYNC})
    whole["page"] = {**whole["page"], "offset": pages[0]["page"]["offset"], "limit": len(whole["members"]),
                     "next_offset": None}
    return whole


def console(report: dict[str, Any], *, every: bool = False) -> list[str]:
    t, lag = report["totals"], report["lag"]
    moved = t["movements"]
    oldest = f", the oldest {lag['seconds']:.1f} s old" if lag.get("pending") else ""
    lines = [
        f"drift report of tenant {report['tenant']} at {report['taken_at']}: {report['verdict'].upper().replace('_', ' ')}",
        f"  primary {report['primary']['dialect']} at {report['primary']['base_url']}; "
        f"shadow {report['shadow']['dialect']} at {report['shadow']['base_url']}",
        f"  shadow lag: {lag['pending']} pending{oldest}",
        f"  movements: {moved['total']} sent to the shadow: {moved['applied']} applied, {moved['pending']} pending, "
        f"{moved['refused']} refused, {moved['failed']} failed, {moved['unclear']} unclear; "
        f"{t['open_at_primary']} open at the primary",
        f"  members: {t['members']} with shadow movements, {t['members_differing']} with differing movements; "
        f"compared {len(report['members'])}: " + ", ".join(f"{n} {v.replace('_', ' ')}" for v, n in t["page"].items()),
    ]
    for member in report["members"]:
        if every or member["verdict"] in (DRIFT, UNREADABLE):
            lines += [""] + _member_lines(member)
    return lines


def _member_lines(m: dict[str, Any]) -> list[str]:
    lines = [f"member {m['member']} (primary {m['primary_id']}, shadow {m['shadow_id']}): {m['verdict'].replace('_', ' ')}"]
    lines += [f"  {reason}" for reason in m["reasons"]]
    for b in m["balances"]:
        if b["shadow"] is None:  # the member unknown at the shadow (or its balance unread): the primary's alone
            lines.append(f"  {b['asset']}: primary {b['primary']}, shadow not read")
            continue
        lines.append(f"  {b['asset']}: primary {b['primary']}, shadow {b['shadow']}, difference {b['difference']}"
                     f" (refused {b['explained']}, in flight {b['in_flight']['low']}..{b['in_flight']['high']}, "
                     f"unexplained {b['unexplained']})")
    for d in m["differing"][:SHOWN]:
        shadow = d["shadow"]
        lines.append(f"  {shadow['outcome']}: {d['direction']} {d['points']} {d['asset']} ({d['cause']}) key {d['key']}"
                     f" primary ref {d['primary_ref']}: {shadow['code']}: {shadow['message']}")
    if len(m["differing"]) > SHOWN:
        lines.append(f"  ... and {len(m['differing']) - SHOWN} more (--json lists every one)")
    for p in m["in_flight"]:
        lines.append(f"  in flight at the {p['where']}: {p['direction']} {p['points']} {p['asset']} key {p['key']}"
                     f" ({p['state']}{', settled while read' if p['settled_while_read'] else ''})")
    return lines
