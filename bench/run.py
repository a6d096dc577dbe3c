"""`python -m bench` (or `python bench/run.py`): every row of issue 12's table, each measured against
real `loyalty-gateway serve` processes as a ratio to its reference alternated in the same run, printed
as measure | now | target | met? (and as JSON with --json). Knows the rows' names, not how they measure.

    python -m bench                      # every row; builds the 1M-member database once, then reuses it
    python -m bench --quick --only reads # a smoke check: short runs, small N
    python -m bench --only writes,paging --postgres postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench --only migrate       # migrate's throughput against the target's rate limit, and its soak
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make `bench` and `gateway` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "bench"

from bench import harness  # noqa: E402
from bench.context import Context  # noqa: E402
from bench.report import Measure, table, write_json  # noqa: E402

# row name → module in bench/rows; the order is the table
ROWS = {
    "reads": "reads",
    "writes": "writes",
    "seed": "million",
    "paging": "million",
    "mixed": "million",
    "coldstart": "million",
    "soak": "million",
    "webhooks": "webhooks",
    "migrate": "migrate",
}


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "loyalty-gateway-bench"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[],
                        help=f"rows to run, comma-separated or repeated: {', '.join(ROWS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke check: 1 s wrk runs, 2 rounds, 20,000 members, a 6 s soak, "
                             "1,000 members to migrate")
    parser.add_argument("--seconds", type=int, help="length of one wrk run (default 5; 1 with --quick)")
    parser.add_argument("--rounds", type=int, help="alternations, figures are medians (default 5; 2 with --quick)")
    parser.add_argument("--members", type=int, help="members of the big database (default 1,000,000)")
    parser.add_argument("--database-dir", type=Path, default=_cache_dir(),
                        help="where the generated big database is kept and reused, and scratch databases go "
                             "(a real disk: fsync is measured there; default %(default)s)")
    parser.add_argument("--migrate-members", type=int, metavar="N",
                        help="members the migrate row moves (default 10,000; 1,000 with --quick)")
    parser.add_argument("--rebuild", action="store_true",
                        help="generate the big database again (after the generator or the schema changed)")
    parser.add_argument("--soak-minutes", type=float,
                        help="minutes of load before RSS is read (default 1; 10 for the issue's figure)")
    parser.add_argument("--postgres", metavar="URL",
                        help="also run the store rows (reads, writes) on a scratch database of this server")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the table as JSON")
    args = parser.parse_args(argv)
    args.only = [name.strip() for group in args.only for name in group.split(",") if name.strip()] or list(ROWS)
    if args.migrate_members is not None and args.migrate_members < 1:
        parser.error("--migrate-members must be at least 1")
    unknown = [name for name in args.only if name not in ROWS]
    if unknown:
        parser.error(f"unknown row(s) {', '.join(unknown)}; choose from {', '.join(ROWS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if harness.WRK is None:
        print("wrk is not installed (apt-get install wrk): no row can be measured", file=sys.stderr)
        return 2
    args.database_dir.mkdir(parents=True, exist_ok=True)
    measures: list[Measure] = []
    failed = False
    started, when = time.monotonic(), datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.database_dir) as scratch:
        ctx = Context(
            quick=args.quick,
            seconds=args.seconds or (1 if args.quick else 5),
            rounds=args.rounds or (2 if args.quick else 5),
            workdir=Path(scratch),
            database_dir=args.database_dir.resolve(),
            members=args.members or (20_000 if args.quick else 1_000_000),
            soak_minutes=args.soak_minutes if args.soak_minutes is not None else (0.1 if args.quick else 1.0),
            postgres=args.postgres,
            rebuild=args.rebuild,
            migrate_members=args.migrate_members,
        )
        modules = list(dict.fromkeys(ROWS[name] for name in ROWS if name in args.only))
        for module_name in modules:
            wanted = [name for name in args.only if ROWS[name] == module_name]
            print(f"-- {', '.join(wanted)} ...", file=sys.stderr, flush=True)
            module = importlib.import_module(f"bench.rows.{module_name}")
            try:
                measures += module.run(ctx, wanted)
            except Exception as failure:  # one broken row family must not hide the others' figures
                traceback.print_exc()
                failed = True
                measures.append(Measure(f"{', '.join(wanted)}", f"FAILED: {type(failure).__name__}: {failure}"[:200], "", False))
    settings = {
        "when": when, "load_average": os.getloadavg(), "cpus": os.cpu_count(),
        "quick": ctx.quick, "seconds": ctx.seconds, "rounds": ctx.rounds, "members": ctx.members,
        "soak_minutes": ctx.soak_minutes, "postgres": bool(ctx.postgres), "rows": args.only,
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    load = ", ".join(f"{x:.1f}" for x in settings["load_average"])
    print(f"wrk -t1, {ctx.seconds} s runs, {ctx.rounds} alternated rounds, medians; started {when}; "
          f"{ctx.members:,} members; load average at the end {load} on {settings['cpus']} CPUs")
    print(table(measures))
    if args.json:
        write_json(args.json, measures, settings)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
