"""`loyalty-gateway verify URL --dialect D` and `loyalty-gateway diff A_URL B_URL --dialect D`: the pinned
contract cases (or a cases file, such as record mode writes) replayed against live servers, progress on
stderr, JSON and JUnit reports. Exit 0: every case passed (or was skipped by design); 1: a case failed;
2: the command could not judge the target (a usage error, a bad cases file, a target that cannot be reached
or refuses the credentials), said in one line. Handed the dialects by cli.py; names none itself."""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .contracts.cases import PINNED, CasesError
from .contracts.diff import diff_case
from .contracts.model import Case, CaseOutcome
from .contracts.runner import CredentialsRefused, Mode, Speaker, StateRefused, run_case, set_state
from .contracts.transport import Limiter, Target, Unreachable, parse_rate

PROG = "loyalty-gateway"
HEALTH = "/__admin/health"


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
    parser.add_argument("--rate", help="most requests per period sent to a server (100/minute, 10/second; default: "
                                       "the vendor's documented limit, if it has one)")


def main(args: argparse.Namespace, dialects: Sequence[Any]) -> int:
    try:
        dialect = next(d for d in dialects if d.name == args.dialect)
        if dialect.cases is None or dialect.cases.client is None:
            raise UsageError(f"the {dialect.name} dialect has no contract cases")
        speaker = Speaker(dialect.name, dialect.cases.client, _check_answer(dialect),
                          _credentials(args.credentials, dialect.cases.client.defaults))
        cases = _cases(dialect, args.cases, args.only)
        rate = args.rate or dialect.cases.client.rate
        limit = parse_rate(rate) if rate else None
        if args.command == "diff":
            outcomes, meta = asyncio.run(_diff(args, speaker, cases, limit))
        else:
            outcomes, meta = asyncio.run(_verify(args, speaker, cases, limit))
    except (UsageError, CasesError, ValueError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except (Unreachable, CredentialsRefused) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr, flush=True)
        return 2
    _write_reports(args, outcomes, meta)
    return 0 if all(o.status in ("passed", "skipped") for o in outcomes) else 1


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


async def offers_states(target: Target, cases: Sequence[Case], tenant: str) -> bool:
    """The target answers /__admin/health and sets up the first stateful case's state."""
    from .contracts.model import Request

    health = await target.send(Request("GET", HEALTH))
    if health.status != 200:
        return False
    first = next((c for c in cases if c.state is not None), None)
    if first is None:
        return True
    try:
        await set_state(target, first, tenant)
    except StateRefused:
        return False
    return True


async def _verify(args: argparse.Namespace, speaker: Speaker, cases: list[Case],
                  limit: tuple[int, float] | None) -> tuple[list[CaseOutcome], dict[str, Any]]:
    from .contracts import report

    tenant = f"verify-{speaker.dialect}"
    async with Target(args.url, limiter=_limiter(limit)) as target:
        mode: Mode = args.mode if args.mode != "auto" else (
            "exact" if await offers_states(target, cases, tenant) else "shape")
        console = report.Console(sys.stderr, len(cases))
        outcomes = []
        for case in cases:
            console.progress(case.id)
            if mode == "shape" and case.writes and not args.allow_writes:
                outcome = CaseOutcome(case.id, case.dialect, mode, "skipped",
                                      reason="it writes (shape mode runs read-only cases; --allow-writes runs it)")
            else:
                outcome = await run_case(target, speaker, case, mode, tenant=tenant)
            console.outcome(outcome)
            outcomes.append(outcome)
        console.summary(outcomes)
    return outcomes, _meta(args, speaker, mode, [args.url])


async def _diff(args: argparse.Namespace, speaker: Speaker, cases: list[Case],
                limit: tuple[int, float] | None) -> tuple[list[CaseOutcome], dict[str, Any]]:
    from .contracts import report

    tenant = f"diff-{speaker.dialect}"
    async with Target(args.url, limiter=_limiter(limit)) as a, Target(args.other, limiter=_limiter(limit)) as b:
        states = await offers_states(a, cases, tenant) and await offers_states(b, cases, tenant)
        console = report.Console(sys.stderr, len(cases))
        outcomes = []
        for case in cases:
            console.progress(case.id)
            outcome = await diff_case(a, b, speaker, case, states=states, tenant=tenant)
            console.outcome(outcome)
            outcomes.append(outcome)
        console.summary(outcomes)
    return outcomes, _meta(args, speaker, "diff" if states else "diff (read-only cases)", [args.url, args.other])


def _meta(args: argparse.Namespace, speaker: Speaker, mode: str, urls: list[str]) -> dict[str, Any]:
    return {"command": args.command, "targets": urls, "dialect": speaker.dialect, "mode": mode,
            "cases": args.cases or "pinned", "credentials": sorted(speaker.overrides),  # names only, never values
            "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _write_reports(args: argparse.Namespace, outcomes: list[CaseOutcome], meta: dict[str, Any]) -> None:
    from .contracts import report

    if args.report:
        report.write_json(outcomes, Path(args.report), meta)
    if args.junit:
        report.write_junit(outcomes, Path(args.junit), f"{PROG} {args.command} {meta['dialect']}")
