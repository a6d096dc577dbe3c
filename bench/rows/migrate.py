"""Row "migrate": `loyalty-gateway migrate` from a memberpoints sandbox of 10,000 generated members (1,000
with --quick) to a pomelo sandbox generated from the same seed, both kept in --database-dir like the big
database. The target sandbox is rate-limited to 6,000 requests a minute, as 100 per 1 s window (so a round
shorter than a minute meets the limit too), and migrate is given the same --rate.
Throughput: members/s and the target's requests/s (counted by its own journal, less those its limit
refused) over whole runs (plan, credit, verification pass), as a ratio to the limit, which is this row's
reference: the median of rounds on fresh slices of the members. Soak: every member moved to a fresh copy of the target with faults
there (answers dropped after the write applied, 503, 429) and the migrator SIGKILLed twice; members exact
(read from the target's own database), the moves of a second run, and the time."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.migration.harness import balances, fault, killed_at

from .. import big_database
from ..context import Context
from ..harness import Server, http, median
from ..report import Measure, rate

PER_SECOND = 100  # the target's limit: 6,000 requests a minute, enforced per second
CONCURRENCY = 8
AUDIENCE = "https://api.pomelo.la"
WRITES = "/loyalty/v1/accounts/*"
MOVED = re.compile(r"run \w+: (\d+) moved, ")


def run(ctx: Context, wanted: list[str]) -> list[Measure]:
    members = ctx.migrate_members or (1_000 if ctx.quick else 10_000)
    per_round = max(1, min(200 if ctx.quick else 600, members // 5))
    names = (f"migrate throughput, memberpoints to pomelo sandbox, target limited to {PER_SECOND * 60:,} requests/min",
             f"migrate soak: {members:,} members, faults at the target, migrator SIGKILLed twice")
    if ctx.rebuild:
        for stem in ("migrate-source", "migrate-target"):
            big_database.forget(ctx.database_dir, members, stem)
    if not all(big_database.kept(ctx.database_dir, members, s) for s in ("migrate-source", "migrate-target")) \
            and not big_database.generator_available():
        return [Measure(name, "n/a (seed --generate not available)", "", None) for name in names]
    source_db = big_database.ensure(ctx.database_dir, members, "migrate-source")
    target_db = big_database.ensure(ctx.database_dir, members, "migrate-target")
    root = ctx.workdir / "migrate"
    root.mkdir()
    source = _sandbox(ctx, source_db.copy_into(root, "source.db"))
    try:
        source.start(timeout=120)
        (root / "source.toml").write_text(
            f'dialect = "memberpoints"\nbase_url = "{source.base}"\n[credentials]\n'
            f'api_id = "{source_db.credentials["memberpoints"]["api_id"]}"\n'
            f'api_key = "{source_db.credentials["memberpoints"]["api_key"]}"\n')
        pairs = sorted((n, ref) for n, (ref, _) in balances(target_db.path).items())
        rounds = max(1, min(ctx.rounds, len(pairs) // per_round))
        found = _throughput(ctx, root, target_db, pairs, per_round, rounds)
        soak = _soak(ctx, root, target_db, pairs)
    finally:
        source.stop()
    ratio = median([r["ratio"] for r in found])
    failed = [r for r in found if r["exit"] != 0]
    now = (f"{ratio:.2f}x the limit: {rate(median([r['requests_per_s'] for r in found]))} target requests/s, "
           f"{median([r['members_per_s'] for r in found]):.1f} members/s ({rounds} rounds of {per_round:,} members, "
           f"each whole run: read, credit, verification read; --concurrency {CONCURRENCY}; "
           f"{sum(r['refused'] for r in found):,} of {sum(r['requests'] for r in found):,} refused by the limit)")
    if failed:
        now += f"; {len(failed)} RUNS FAILED"
    exact, moved_again, changed = soak["exact"], soak["second_run_moved"], soak["changed_by_second_run"]
    soak_now = (f"{exact:,}/{members:,} exact; second run moved {moved_again} (balances changed: {changed}); "
                f"{soak['seconds']:,.0f} s through 2 kills (faults fired at the target: {soak['faults_fired']})")
    return [Measure(names[0], now, ">= 0.8x the limit", not failed and ratio >= 0.8,
                    {"ratio": ratio, "limit_per_s": PER_SECOND, "rounds": found}),
            Measure(names[1], soak_now, f"{members:,}/{members:,} exact, second run moves 0",
                    exact == members and moved_again == 0 and changed == 0 and soak["resumed_exit"] == 0, soak)]


def _sandbox(ctx: Context, database: str) -> Server:
    return ctx.gateway(database, "--scenario", "none", "--access-log", "false")


def _target(ctx: Context, root: Path, target_db: big_database.BigDatabase, name: str) -> Server:
    """A sandbox on a fresh copy of the kept target, rate-limited, its journal counting every request and
    keeping them all (a few hundred bytes each) so the limit's refusals can be counted."""
    server = _sandbox(ctx, target_db.copy_into(root, name))
    server.start(timeout=120)
    for path, body in (("/__admin/rate-limits", {"pomelo": {"limit": PER_SECOND, "window_seconds": 1}}),
                       ("/__admin/journal", {"enabled": True, "max_entries": 10_000_000, "max_bytes": 1 << 30})):
        status, said = http("PUT", server.base + path, body)
        if status != 200:
            raise RuntimeError(f"PUT {path} answered {status}: {said[:200]!r}")
    pomelo = target_db.credentials["pomelo"]
    (root / "target.toml").write_text(
        f'dialect = "pomelo"\nbase_url = "{server.base}"\n[credentials]\nclient_id = "{pomelo["client_id"]}"\n'
        f'client_secret = "{pomelo["client_secret"]}"\naudience = "{AUDIENCE}"\n')
    return server


def _requests_seen(target: Server) -> int:
    """Every request the target's journal took (kept or since dropped): the migrator is its only caller."""
    status, body = http("GET", target.base + "/__admin/journal")
    if status != 200:
        raise RuntimeError(f"GET /__admin/journal answered {status}")
    stats = json.loads(body)
    return int(stats["entries"]) + int(stats["dropped"])


def _refused(target: Server) -> int:
    """Requests the target answered 429 so far (all of them its limit's while no fault is set)."""
    status, body = http("GET", target.base + "/__admin/requests?dialect=pomelo&status=429&limit=1")
    if status != 200:
        raise RuntimeError(f"GET /__admin/requests answered {status}")
    return int(json.loads(body)["total"])


def _migrate_argv(members_csv: str, checkpoint: str) -> list[str]:
    return [sys.executable, "-m", "gateway", "migrate", "--from", "source.toml", "--to", "target.toml",
            "--members", members_csv, "--checkpoint", checkpoint, "--rate", f"{PER_SECOND}/second",
            "--concurrency", str(CONCURRENCY)]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_GATEWAY_")}


def _members_csv(path: Path, pairs: list[tuple[int, str]]) -> str:
    path.write_text("source_id,target_id\n" + "".join(f"{n},{ref}\n" for n, ref in pairs))
    return path.name


def _throughput(ctx: Context, root: Path, target_db: big_database.BigDatabase, pairs: list[tuple[int, str]],
                per_round: int, rounds: int) -> list[dict[str, float]]:
    """Each round's figures; the ratio counts the requests the target took, not those its limit refused."""
    target = _target(ctx, root, target_db, "target-rounds.db")
    found = []
    try:
        for index in range(rounds):
            csv = _members_csv(root / f"round-{index}.csv", pairs[index * per_round:(index + 1) * per_round])
            before, refused_before, started = _requests_seen(target), _refused(target), time.perf_counter()
            done = subprocess.run(_migrate_argv(csv, f"round-{index}/cp.jsonl"), cwd=root, capture_output=True,
                                  text=True, env=_env(), timeout=per_round * 4 / PER_SECOND + 120)
            seconds = time.perf_counter() - started
            requests, refused = _requests_seen(target) - before, _refused(target) - refused_before
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
            found.append({"members": per_round, "seconds": seconds, "requests": requests, "refused": refused,
                          "exit": done.returncode, "members_per_s": per_round / seconds,
                          "requests_per_s": (requests - refused) / seconds,
                          "ratio": (requests - refused) / seconds / PER_SECOND})
            print(f"   migrate round {index + 1}/{rounds}: {found[-1]['ratio']:.2f}x the limit", file=sys.stderr, flush=True)
    finally:
        target.stop()
    return found


def _soak(ctx: Context, root: Path, target_db: big_database.BigDatabase, pairs: list[tuple[int, str]]) -> dict[str, object]:
    members = len(pairs)
    target = _target(ctx, root, target_db, "target-soak.db")
    try:
        opening, moved = balances(root / "target-soak.db"), balances(root / "source.db", "member_no")
        rules = ({"effect": "drop", "when": "after", "method": "POST", "path": WRITES, "probability": 0.1, "times": members // 20},
                 {"effect": "status", "status": 503, "method": "POST", "path": WRITES, "probability": 0.1, "times": members // 20},
                 {"effect": "status", "status": 429, "probability": 0.05, "times": members // 40})
        for rule in rules:
            fault(target.base, big_database.TENANT, "pomelo", **rule)
        argv = _migrate_argv(_members_csv(root / "all.csv", pairs), "soak/cp.jsonl")
        budget = members * 4 / PER_SECOND + 120
        started = time.perf_counter()
        for lines in (members * 3 // 10, members * 12 // 10):  # a checkpoint holds about 2 lines a member
            killed_at(argv, root, root / "soak" / "cp.jsonl", lines, timeout=budget)
            print(f"   migrate soak: SIGKILLed at {lines:,} checkpoint lines", file=sys.stderr, flush=True)
        resumed = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=_env(), timeout=budget)
        seconds = time.perf_counter() - started
        after = balances(root / "target-soak.db")
        exact = sum(1 for n in moved if after[n][1] == opening[n][1] + moved[n][1])
        again = subprocess.run(argv, cwd=root, capture_output=True, text=True, env=_env(), timeout=budget)
        said = MOVED.search(again.stdout)
        changed = sum(1 for n, held in balances(root / "target-soak.db").items() if held != after[n])
        status, body = http("GET", target.base + "/__admin/faults")
        fired = sum(int(r.get("hits", 0)) for r in json.loads(body)["faults"]) if status == 200 else "?"
    finally:
        target.stop()
    if resumed.returncode != 0 or again.returncode != 0:
        print(resumed.stdout[-2000:], again.stdout[-2000:], again.stderr[-2000:], file=sys.stderr)
    return {"members": members, "exact": exact, "second_run_moved": int(said.group(1)) if said else -1,
            "seconds": seconds, "faults_fired": fired, "resumed_exit": resumed.returncode, "second_exit": again.returncode, "changed_by_second_run": changed}
