"""`loyalty-gateway migrate`: its flags, and the run from the two TOML endpoints to the verification report.
Every failure before the run is one line and exit 2; a run that leaves any member wrong or unfinished exits 1.
Names no vendor: handed the dialect descriptors (for each one's documented rate limit)."""
from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from .ledger import LedgerError
from .contracts.transport import Limiter, parse_rate
from .migration import (
    MODES,
    Checkpoint,
    CheckpointError,
    MigrationError,
    Migrator,
    load_endpoint,
    read_members,
    discover,
    run_id_for,
    summary,
    verify,
    write_reports,
)

PROG = "loyalty-gateway"
TIMEOUT_SECONDS = 10.0
RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")  # it goes into every key: kept to what every vendor's keys take


def add_command(commands: Any) -> None:
    parser = commands.add_parser("migrate", help="move every member's balance from one upstream to another")
    parser.add_argument("--from", dest="source", required=True, metavar="SOURCE.toml",
                        help="the source upstream: dialect, base_url and [credentials], as a tenant declares it")
    parser.add_argument("--to", dest="target", required=True, metavar="TARGET.toml", help="the target upstream, likewise")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--members", metavar="FILE.csv", help="the members, a CSV with the header source_id,target_id")
    who.add_argument("--discover", action="store_true", help="every member the source lists, same id at the target")
    parser.add_argument("--mode", choices=MODES, default="add",
                        help="add: credit the target with the source's balance (default); mirror: make it equal")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; write nothing anywhere")
    parser.add_argument("--verify-only", action="store_true", help="only the verification pass and its report")
    parser.add_argument("--run-id", type=_run_id, metavar="ID",
                        help="names the run, and so its idempotency keys (default: derived from the mode, both "
                             "endpoints and their credential identities, so the same migration gets the same keys)")
    parser.add_argument("--checkpoint", default="migration.checkpoint.jsonl", metavar="FILE",
                        help="the run's append-only record; the same command resumes from it (default %(default)s)")
    parser.add_argument("--concurrency", type=_positive, default=4, metavar="N", help="members at a time (default 4)")
    parser.add_argument("--rate", metavar="N/period",
                        help="most requests per period sent to the target (default: its dialect's documented limit)")
    parser.add_argument("--report-dir", metavar="DIR", help="where the verification report goes (default: beside the checkpoint)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="seconds per request (default 10)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def _run_id(text: str) -> str:
    if not RUN_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"must be 1 to 32 letters, digits, '-' or '_', not {text!r}")
    return text


def main(args: argparse.Namespace, dialects: Sequence[Any]) -> int:
    try:
        return asyncio.run(_main(args, dialects))
    except (MigrationError, CheckpointError) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr, flush=True)
        return 2
    except OSError as exc:  # a report or checkpoint that cannot be written: said in one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"{PROG}: error: {where}{exc.strerror or exc.__class__.__name__}", file=sys.stderr, flush=True)
        return 2


def rate_limiter(args: argparse.Namespace, target_dialect: str, dialects: Sequence[Any]) -> Limiter | None:
    text = args.rate
    if text is None:
        found = next((d for d in dialects if d.name == target_dialect), None)
        client = getattr(getattr(found, "cases", None), "client", None)
        text = getattr(client, "rate", None)
    if not text:
        return None
    try:
        count, seconds = parse_rate(text)
    except ValueError as exc:
        raise MigrationError(f"--rate: {exc}") from None
    return Limiter(count, seconds)


async def _main(args: argparse.Namespace, dialects: Sequence[Any]) -> int:
    source_end, target_end = load_endpoint(args.source), load_endpoint(args.target)
    pairs = read_members(args.members) if args.members else None
    identity = f"{source_end.identity()} -> {target_end.identity()}"  # whose accounts, no secret
    checkpoint = Checkpoint.open(args.checkpoint, shared=args.dry_run or args.verify_only)
    try:  # a checkpoint of another migration is refused before any call, a dry run's included
        checkpoint.check(mode=args.mode, source=source_end.label(), target=target_end.label(), identity=identity)
        if pairs is not None:
            checkpoint.check_members(pairs)
    except CheckpointError:
        checkpoint.close()
        raise
    limiter = rate_limiter(args, target_end.dialect, dialects)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.concurrency * 2 + 2)) as session:
        source = source_end.connect(session, timeout=args.timeout)
        target = target_end.connect(session, timeout=args.timeout)
        try:
            if pairs is None:
                try:
                    pairs = await discover(source)
                except LedgerError as exc:  # the listing's trouble (unreachable, refused), said in one line
                    raise MigrationError(exc.message) from None
                if not pairs:
                    raise MigrationError(f"{source.name} lists no members")
                checkpoint.check_members(pairs)
            migrator = Migrator(source, target, mode=args.mode, concurrency=args.concurrency, limiter=limiter,
                                progress=sys.stderr)
            await migrator.check_reachable(pairs[0])
            if args.dry_run:
                for line in await migrator.plan_only(pairs, checkpoint):
                    print(line)
                print(f"{PROG}: dry run: {len(pairs)} members from {source_end.label()} to {target_end.label()}"
                      f" ({args.mode} mode); nothing was written")
                return 0
            code = 0
            if args.verify_only:  # reads the checkpoint (for add mode's openings) and writes nothing to it
                run = checkpoint.check(mode=args.mode, source=source_end.label(), target=target_end.label(),
                                       identity=identity)
            else:
                wanted = args.run_id or run_id_for(args.mode, source_end, target_end)
                run = checkpoint.begin(mode=args.mode, source=source_end.label(), target=target_end.label(),
                                       run=wanted, identity=identity)
                if args.run_id and run != args.run_id:
                    raise MigrationError(f"{args.checkpoint} holds run {run}, not --run-id {args.run_id}: "
                                         "give another --checkpoint, or leave --run-id out to resume it")
                print(f"{PROG}: run {run}{' (resumed from ' + args.checkpoint + ')' if checkpoint.plans else ''}",
                      flush=True)
                outcome = await migrator.run(pairs, checkpoint, run)
                print(f"{PROG}: run {run}: {outcome.moved} moved, {outcome.unchanged} with nothing to move, "
                      f"{outcome.before} done before, {len(outcome.failed)} refused, "
                      f"{len(outcome.unfinished)} unfinished")
                for source_id, why in list(outcome.unfinished.items())[:5]:
                    print(f"  unfinished: {source_id}: {why} (run the same command again to finish)")
                code = 1 if outcome.failed or outcome.unfinished else 0
            rows = await verify(migrator, pairs, checkpoint)
        finally:
            checkpoint.close()
            await source.close()
            await target.close()
    report_dir = Path(args.report_dir) if args.report_dir else Path(args.checkpoint).resolve().parent
    meta = {"run": run, "mode": args.mode, "source": source_end.label(), "target": target_end.label()}
    as_csv, as_json = write_reports(rows, report_dir, meta)
    for line in summary(rows):
        print(line)
    print(f"report: {as_csv} and {as_json}")
    return 1 if code or any(r.status != "ok" for r in rows) else 0
