"""`loyalty-gateway migrate` as a user runs it, over real processes: a memberpoints sandbox of generated
members as the source, a pomelo sandbox generated from the same seed (the same people, the same opening
balances) as the target, faults at the target (answers dropped after the write applied, 503s, 429s) and the
migrator SIGKILLed twice mid-run. Afterwards every target balance is exactly right, read from the target's
own database, and a second run changes nothing. Then the unhappy paths, each one line and exit 2."""
from __future__ import annotations

import json
import signal
import subprocess
import time
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import process
from tests.migration import harness
from tests.migration.harness import balances as _balances

MEMBERS = 200
AUDIENCE = "https://api.pomelo.la"


class Sandboxes:
    def __init__(self, root: Path, source: process.Server, target: process.Server) -> None:
        self.root, self.source, self.target = root, source, target


def _seed(root: Path, name: str) -> dict[str, Any]:
    made = process.run(["seed", "--generate", str(MEMBERS), "--tenant", "shop", "--json", "--database",
                        f"sqlite:///{root / name}"], root)
    assert made.returncode == 0, made.stderr
    return json.loads(made.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    root = tmp_path_factory.mktemp("migrate")
    src, dst = _seed(root, "src.db"), _seed(root, "dst.db")
    source = process.start(["--port", "0", "--database", f"sqlite:///{root / 'src.db'}", "--scenario", "none",
                            "--access-log", "false"], root)
    target = process.start(["--port", "0", "--database", f"sqlite:///{root / 'dst.db'}", "--scenario", "none",
                            "--access-log", "false"], root)
    (root / "source.toml").write_text(
        f'dialect = "memberpoints"\nbase_url = "{source.url}"\n[credentials]\n'
        f'api_id = "{src["memberpoints"]["api_id"]}"\napi_key = "{src["memberpoints"]["api_key"]}"\n')
    (root / "target.toml").write_text(
        f'dialect = "pomelo"\nbase_url = "{target.url}"\n[credentials]\nclient_id = "{dst["pomelo"]["client_id"]}"\n'
        f'client_secret = "{dst["pomelo"]["client_secret"]}"\naudience = "{AUDIENCE}"\n')
    pairs = _balances(root / "dst.db", "user_ref")
    (root / "members.csv").write_text("source_id,target_id\n" + "".join(f"{n},{ref}\n" for n, (ref, _) in pairs.items()))
    try:
        yield Sandboxes(root, source, target)
    finally:
        source.stop()
        target.stop()


def _fault(target: process.Server, **rule: Any) -> None:
    harness.fault(target.url, "shop", "pomelo", **rule)


def _migrate(s: Sandboxes, *args: str) -> subprocess.CompletedProcess[str]:
    return process.run(["migrate", "--from", "source.toml", "--to", "target.toml", *args], s.root, timeout=120)


def _killed_at(s: Sandboxes, lines: int, *args: str) -> None:
    """Starts the migrator and SIGKILLs it once its checkpoint holds `lines` lines."""
    harness.killed_at(process.command("migrate", "--from", "source.toml", "--to", "target.toml", *args), s.root,
                      s.root / args[args.index("--checkpoint") + 1], lines)


@pytest.mark.slow
def test_killed_twice_under_faults_every_balance_is_right_and_a_rerun_changes_nothing(sandboxes: Sandboxes) -> None:
    s = sandboxes
    source, opening = _balances(s.root / "src.db", "member_no"), _balances(s.root / "dst.db")
    _fault(s.target, effect="drop", when="after", method="POST", path="/loyalty/v1/accounts/*", probability=0.1, times=15)
    _fault(s.target, effect="status", status=503, method="POST", path="/loyalty/v1/accounts/*", probability=0.1, times=15)
    _fault(s.target, effect="status", status=429, probability=0.05, times=8)
    args = ("--members", "members.csv", "--checkpoint", "add/cp.jsonl", "--concurrency", "4")
    _killed_at(s, 60, *args)
    _killed_at(s, 200, *args)
    resumed = _migrate(s, *args)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"verified {MEMBERS} members: {MEMBERS} ok" in resumed.stdout
    after = _balances(s.root / "dst.db")
    wrong = {n: (opening[n][1], source[n][1], after[n][1]) for n in source
             if after[n][1] != opening[n][1] + source[n][1]}
    assert not wrong, wrong  # every member credited exactly once, through two kills and the faults
    report = json.loads((s.root / "add" / "migration-verification.json").read_text())
    assert report["counts"] == {"ok": MEMBERS} and report["mode"] == "add"

    again = _migrate(s, *args)
    assert again.returncode == 0 and f"0 moved, 0 with nothing to move, {MEMBERS} done before" in again.stdout
    assert _balances(s.root / "dst.db") == after

    mirrored = _migrate(s, "--members", "members.csv", "--checkpoint", "mirror/cp.jsonl", "--mode", "mirror")
    assert mirrored.returncode == 0, mirrored.stdout + mirrored.stderr
    final = _balances(s.root / "dst.db")
    assert all(final[n][1] == source[n][1] for n in source)  # mirror debited each back to the source's
    dry = _migrate(s, "--members", "members.csv", "--checkpoint", "dry/cp.jsonl", "--mode", "mirror", "--dry-run")
    assert dry.returncode == 0 and "nothing to move" in dry.stdout and not (s.root / "dry").exists()
    secret = tomllib.loads((s.root / "target.toml").read_text())["credentials"]["client_secret"]
    assert secret not in resumed.stdout + resumed.stderr + again.stdout + again.stderr


@pytest.mark.slow
def test_to_a_target_without_keys_the_history_is_searched_before_any_resend(sandboxes: Sandboxes) -> None:
    """The other way round: memberpoints as the target keeps no idempotency keys, so each movement's key
    rides in its note and an unclear write is looked up in the member's history before it is sent again."""
    s = sandboxes
    pomelo, before = _balances(s.root / "dst.db"), _balances(s.root / "src.db", "member_no")
    chosen = sorted(pomelo)[:40]
    (s.root / "back.csv").write_text("source_id,target_id\n" + "".join(f"{pomelo[n][0]},{n}\n" for n in chosen))
    body = {"tenant": "shop", "dialect": "memberpoints", "method": "POST", "path": "/webapps/api/memberpoints"}
    for rule in ({"effect": "drop", "when": "after", "probability": 0.3, "times": 8},
                 {"effect": "status", "status": 503, "probability": 0.2, "times": 4}):
        request = urllib.request.Request(f"{s.source.url}/__admin/faults", data=json.dumps({**body, **rule}).encode(),
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).close()
    args = ("--from", "target.toml", "--to", "source.toml", "--members", "back.csv", "--checkpoint", "back/cp.jsonl",
            "--rate", "6000/minute", "--timeout", "1")
    proc = subprocess.Popen(process.command("migrate", *args), cwd=s.root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    checkpoint = s.root / "back" / "cp.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None and not (
            checkpoint.exists() and checkpoint.read_text().count("\n") >= 30):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    resumed = process.run(["migrate", *args], s.root, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    with urllib.request.urlopen(f"{s.source.url}/__admin/faults", timeout=10) as answer:
        fired = [r["hits"] for r in json.loads(answer.read())["faults"] if r["dialect"] == "memberpoints"]
    assert fired and fired[0] > 0, fired  # answers were dropped after the write applied
    after = _balances(s.root / "src.db", "member_no")
    wrong = {n: (before[n][1], pomelo[n][1], after[n][1]) for n in chosen if after[n][1] != before[n][1] + pomelo[n][1]}
    assert not wrong, wrong
    again = process.run(["migrate", *args], s.root, timeout=120)
    assert again.returncode == 0 and "0 moved" in again.stdout and _balances(s.root / "src.db", "member_no") == after


def _one_line_error(done: subprocess.CompletedProcess[str], said: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if "members (" not in line and "verified (" not in line]
    assert len(lines) == 1 and said in lines[0], done.stderr


@pytest.mark.slow
def test_unhappy_paths_are_one_line_each(sandboxes: Sandboxes) -> None:
    s, root = sandboxes, sandboxes.root
    (root / "bad.toml").write_text('dialect = "memberpoints\n')
    (root / "nocred.toml").write_text("\n".join(l for l in (root / "source.toml").read_text().splitlines()
                                                if not l.startswith("api_key")) + "\n")
    (root / "nohead.csv").write_text("1,usr-x\n")
    _one_line_error(process.run(["migrate", "--from", "bad.toml", "--to", "target.toml", "--members", "members.csv"],
                                root), "bad.toml: not valid TOML")
    _one_line_error(process.run(["migrate", "--from", "nocred.toml", "--to", "target.toml", "--members",
                                 "members.csv"], root), "credentials.api_key: required")
    _one_line_error(_migrate(s, "--members", "nohead.csv"), "nohead.csv: line 1 must be the header source_id,target_id")
    _one_line_error(process.run(["migrate", "--from", "target.toml", "--to", "source.toml", "--discover"], root),
                    "cannot list its members")
    first = (root / "members.csv").read_text().splitlines()[1]
    (root / "unknown.csv").write_text(f"source_id,target_id\n{first}\n999999,usr-nobody\n")
    unknown = _migrate(s, "--members", "unknown.csv", "--checkpoint", "unknown/cp.jsonl", "--dry-run")
    assert unknown.returncode == 0 and "999999 -> usr-nobody: cannot be planned" in unknown.stdout, unknown.stdout
    verified = _migrate(s, "--members", "unknown.csv", "--checkpoint", "unknown/cp.jsonl", "--verify-only")
    assert verified.returncode == 1 and "unreadable: 999999" in verified.stdout and "1 not migrated" in verified.stdout
    blocked = _migrate(s, "--members", "unknown.csv", "--checkpoint", "unknown/cp.jsonl", "--verify-only",
                       "--report-dir", "members.csv/reports")  # a report that cannot be written: no traceback
    _one_line_error(blocked, "members.csv/reports")
