"""`loyalty-gateway verify URL --dialect D` and `loyalty-gateway diff A_URL B_URL --dialect D`: the pinned
contract cases (or a cases file, such as record mode writes) replayed against live servers, progress on
stderr, JSON and JUnit reports (written also when a run stops early). Exit 0: every case that ran passed;
1: a case failed; 2: the command could not judge the target (a usage error, a bad cases file, a target that
cannot be reached or refuses the credentials or the admin token) or no case ran, said in one line; 130:
Ctrl-C. Handed the dialects by cli.py; names none itself."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .contracts.cases import PINNED, CasesError
from .contracts.diff import diff_case
from .contracts.model import Case, CaseOutcome
from .contracts.provider import Admin, AdminRefused, StateRefused
from .contracts.runner import CredentialsRefused, Mode, Speaker, check_credentials, run_case
from .contracts.transport import Limiter, Target, Unreachable, parse_rate

PROG = "loyalty-gateway"
ADMIN_TOKEN_ENV = "LOYALTY_GATEWAY_ADMIN_TOKEN"


class UsageError(Exception):
    """A command line or a cases file verify cannot work with; one line, exit 2."""


def add_commands(commands: Any, dialect_names: Sequence[str]) -> None:
    verify = commands.add_parser("verify", help="replay the pinned contract cases against a live server")
    verify.add_argument("url", help="the server's base URL (http://host:port)")
    _common(verify, dialect_names)
    verify.add_argument("--mode", choices=("exact", "shape", "auto"), default="auto",
                        help="exact: set each case's state up (POST /__admin/provider-states) and compare answers "
                             "exactly; shape: structure only, read-only cases unless --allow-writes; auto (default): "
                             "exact when the target offers provider states")
    verify.add_argument("--allow-writes", action="store_true", help="in shape mode, run the cases that write too")
    diff = commands.add_parser("diff", help="send the same cases to two servers and compare their answers")
    diff.add_argument("url", help="the known-good server's base URL")
    diff.add_argument("other", help="the server compared with it")
    _common(diff, dialect_names)


def _common(parser: argparse.ArgumentParser, dialect_names: Sequence[str]) -> None:
    parser.add_argument("--dialect", required=True, choices=list(dialect_names), help="the API the server speaks")
    parser.add_argument("--credentials", nargs="+", default=[], metavar="NAME=VALUE",
                        help="credentials by the dialect's own names (default: the demo's; in exact mode the provider "
                             "state's answer gives them)")
    parser.add_argument("--cases", help="a cases.json (default: the pinned cases shipped with the gateway)")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME", help="run only these cases (by id)")
    parser.add_argument("--report", metavar="FILE.json", help="write the JSON report here")
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        help=f"the target's admin token (default: ${ADMIN_TOKEN_ENV}), sent as Authorization: Bearer on "
                             "its /__admin calls only, never printed: exact mode against a gateway started with "
                             "--admin-token needs it")
    parser.add_argument("--rate", help="most requests per period sent to a server (100/minute, 10/second; default: "
                                       "the vendor's documented limit, if it has one)")


@dataclass
class Run:
    """What a run has done so far, kept by main so that a run stopped early still writes its reports: the
    outcomes, what the reports say of the run (set once its targets are open) and why it stopped, if it did."""

    outcomes: list[CaseOutcome] = field(default_factory=list)
    meta: dict[str, Any] | None = None
    stopped: str | None = "stopped by an unexpected error"


def main(args: argparse.Namespace, dialects: Sequence[Any]) -> int:
    run = Run()
    try:
        dialect = next(d for d in dialects if d.name == args.dialect)
        if dialect.cases is None or dialect.cases.client is None:
            raise UsageError(f"the {dialect.name} dialect has no contract cases")
        speaker = Speaker(dialect.name, dialect.cases.client, _check_answer(dialect),
                          _credentials(args.credentials, dialect.cases.client.defaults))
        cases = _cases(dialect, args.cases, args.only)
        rate = args.rate or dialect.cases.client.rate
        limit = parse_rate(rate) if rate else None
        token = args.admin_token or os.environ.get(ADMIN_TOKEN_ENV) or None
        asyncio.run((_diff if args.command == "diff" else _verify)(args, speaker, cases, limit, token, run))
        run.stopped = None
    except (UsageError, CasesError, ValueError) as exc:
        run.stopped = f"error: {exc}"
        return _said(run.stopped, 2)
    except (Unreachable, CredentialsRefused, AdminRefused) as exc:
        run.stopped = str(exc)
        return _said(run.stopped, 2)
    except KeyboardInterrupt:
        run.stopped = "interrupted (Ctrl-C)"
        return _said(run.stopped, 130)
    finally:
        if run.meta is not None:  # the run started: its reports say what it did, and why it stopped if it did
            _write_reports(args, run)
    ran = [o for o in run.outcomes if o.status != "skipped"]
    if not ran:
        reasons = sorted({o.reason for o in run.outcomes if o.reason})
        return _said(f"no case ran: {len(run.outcomes)} skipped" + (f" ({'; '.join(reasons)})" if reasons else ""), 2)
    return 0 if all(o.status == "passed" for o in ran) else 1


def _said(line: str, code: int) -> int:
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)
    return code


def _check_answer(dialect: Any) -> Any:
    return dialect.documents.check_answer if dialect.documents is not None else None


def _credentials(given: Sequence[str], defaults: Any) -> dict[str, str]:
    out = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or name not in defaults:
            raise UsageError(f"--credentials takes NAME=VALUE with NAME one of {', '.join(defaults)} (got {item!r})")
        out[name] = value
    return out


def _cases(dialect: Any, given: str | None, only: Sequence[str]) -> list[Case]:
    path = Path(given) if given else PINNED / dialect.name / "cases.json"
    if not path.is_file():
        raise UsageError(f"no cases file at {path}")
    cases: list[Case] = dialect.cases.load(path)
    if only:
        known = {c.id for c in cases}
        missing = [name for name in only if name not in known]
        if missing:
            raise UsageError(f"no case named {', '.join(missing)} in {path}")
        cases = [c for c in cases if c.id in set(only)]
    return cases


def _limiter(limit: tuple[int, float] | None) -> Limiter | None:
    return Limiter(*limit) if limit else None


async def offers_states(admin: Admin, cases: Sequence[Case], tenant: str) -> bool:
    """The target answers /__admin/health and sets up the first stateful case's state. An admin API that
    refuses the caller (401, 403) is no reason to fall back to shape mode: AdminRefused goes up."""
    if not await admin.healthy():
        return False
    first = next((c for c in cases if c.state is not None), None)
    if first is None:
        return True
    try:
        await admin.set_state(first, tenant)
    except StateRefused:
        return False
    return True


class Clocks:
    """The targets' clocks, read before exact mode first sets a state up (a state freezes or resets the
    server-wide clock) and given back when the run ends, however it ends."""

    def __init__(self) -> None:
        self.saved: list[tuple[Admin, dict[str, Any]]] = []

    async def keep(self, admin: Admin) -> None:
        saved = await admin.clock()
        if saved is not None:
            self.saved.append((admin, saved))

    async def give_back(self) -> None:
        for admin, saved in self.saved:
            await admin.give_back(saved)


async def _verify(args: argparse.Namespace, speaker: Speaker, cases: list[Case], limit: tuple[int, float] | None,
                  token: str | None, run: Run) -> None:
    from .contracts import report

    tenant = f"verify-{speaker.dialect}"
    async with Target(args.url, limiter=_limiter(limit)) as target:
        admin, clocks = Admin(target, token), Clocks()
        run.meta = _meta(args, speaker, args.mode, [args.url])
        try:
            mode: Mode = "shape" if args.mode == "shape" else "exact"
            if args.mode != "shape":
                healthy = await admin.healthy()
                if healthy or args.mode == "exact":
                    await clocks.keep(admin)
                if args.mode == "auto" and not (healthy and await offers_states(admin, cases, tenant)):
                    mode = "shape"
            run.meta["mode"] = mode
            if mode == "shape" or any(c.state is None for c in cases):
                await check_credentials(target, speaker)
            console = report.Console(sys.stderr, len(cases))
            for case in cases:
                console.progress(case.id)
                if mode == "shape" and case.writes and not args.allow_writes:
                    outcome = CaseOutcome(case.id, case.dialect, mode, "skipped",
                                          reason="it writes (shape mode runs read-only cases; --allow-writes runs it)")
                else:
                    outcome = await run_case(admin, speaker, case, mode, tenant=tenant)
                console.outcome(outcome)
                run.outcomes.append(outcome)
            console.summary(run.outcomes)
        finally:
            await clocks.give_back()


async def _diff(args: argparse.Namespace, speaker: Speaker, cases: list[Case], limit: tuple[int, float] | None,
                token: str | None, run: Run) -> None:
    from .contracts import report

    tenant = f"diff-{speaker.dialect}"
    async with Target(args.url, limiter=_limiter(limit)) as a, Target(args.other, limiter=_limiter(limit)) as b:
        admins, clocks = (Admin(a, token), Admin(b, token)), Clocks()
        run.meta = _meta(args, speaker, "diff", [args.url, args.other])
        try:
            for admin in admins:
                if await admin.healthy():
                    await clocks.keep(admin)
            states = await offers_states(admins[0], cases, tenant) and await offers_states(admins[1], cases, tenant)
            run.meta["mode"] = "diff" if states else "diff (read-only cases)"
            if not states or any(c.state is None for c in cases):
                await check_credentials(a, speaker)
                await check_credentials(b, speaker)
            console = report.Console(sys.stderr, len(cases))
            for case in cases:
                console.progress(case.id)
                outcome = await diff_case(*admins, speaker, case, states=states, tenant=tenant)
                console.outcome(outcome)
                run.outcomes.append(outcome)
            console.summary(run.outcomes)
        finally:
            await clocks.give_back()


def _meta(args: argparse.Namespace, speaker: Speaker, mode: str, urls: list[str]) -> dict[str, Any]:
    return {"command": args.command, "targets": urls, "dialect": speaker.dialect, "mode": mode,
            "cases": args.cases or "pinned", "credentials": sorted(speaker.overrides),  # names only, never values
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _write_reports(args: argparse.Namespace, run: Run) -> None:
    """The JSON report and the JUnit file; a run that stopped early adds one errored testcase saying why."""
    from .contracts import report

    assert run.meta is not None
    outcomes, meta = list(run.outcomes), {**run.meta, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if run.stopped is not None:
        meta["stopped"] = run.stopped
        outcomes.append(CaseOutcome("run stopped", meta["dialect"], "diff" if args.command == "diff" else (
            "exact" if meta["mode"] == "exact" else "shape"), "error", reason=run.stopped))
    if args.report:
        report.write_json(outcomes, Path(args.report), meta)
    if args.junit:
        report.write_junit(outcomes, Path(args.junit), f"{PROG} {args.command} {meta['dialect']}")
