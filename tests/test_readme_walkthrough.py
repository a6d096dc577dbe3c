"""Every ```sh block of README.md, read from the README itself (so the two cannot drift), run in order in
one bash session with `set -euo pipefail`, from a copy of the repository's tracked files, against the server
the set-up block starts: the script exits 0 and every curl answers 2xx (or its line's `# answers NNN`). Then
again in the same copy, as a user runs it a second time: on the first run's leftovers, with the set-up's
server started again on its database; and neither run leaves a file behind but that database."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import pg
from tests.readme_script import INSTALLED_CHECK, PROLOGUE, ROOT, Script, blocks, build

pytestmark = pytest.mark.slow
README = (ROOT / "README.md").read_text(encoding="utf-8")


# What the set-up's `serve` makes in the repository root, as a user expects it to: its SQLite database.
SETUP_DATABASE = {"loyalty-gateway.db", "loyalty-gateway.db-wal", "loyalty-gateway.db-shm"}


def checkout(into: Path) -> Path:
    """A copy of the files git tracks (as a fresh clone has them, with the working tree's edits), so nothing
    the README writes lands in the repository; .venv is this test's own environment, where the package is
    installed."""
    listed = subprocess.run(["git", "ls-files", "-c", "-z"], cwd=ROOT, capture_output=True)
    if listed.returncode != 0:
        pytest.fail(f"git ls-files failed: {listed.stderr.decode()}")
    for name in filter(None, listed.stdout.decode().split("\0")):
        source, target = ROOT / name, into / name
        if not os.path.lexists(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
    venv = Path(sys.prefix)
    assert (venv / "bin" / "loyalty-gateway").exists(), f"the package is not installed in {venv}"
    os.symlink(venv, into / ".venv")
    return into


def files_in(repo: Path) -> set[str]:
    """Every file under the copy, relative to it (the .venv link not followed)."""
    return {str(path.relative_to(repo)) for path in repo.rglob("*")
            if not path.is_dir() and path.relative_to(repo).parts[0] != ".venv"}


def run_script(script: Script, tmp_path: Path, timeout: float = 300, *, repo: Path | None = None,
               runner: Path | None = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run it in its own process group, in `repo` (default: a new copy); whatever a block leaves running is
    killed afterwards and named."""
    runner = runner or tmp_path / "runner"
    runner.mkdir()
    (runner / "prologue.sh").write_text(PROLOGUE)
    (runner / "readme_installed.py").write_text(INSTALLED_CHECK)
    (runner / "script.sh").write_text(script.text)
    log = runner / "statuses.log"
    log.write_text("")
    repo = repo or checkout(tmp_path / "repo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_GATEWAY_") or k == pg.ENV}
    env.update(README_DIR=str(runner), README_STATUS_LOG=str(log), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(["bash", str(runner / "script.sh")], cwd=repo, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        err += f"\n(the README runner stopped it after {timeout} s)"
    # After a failure what it started is stopped at once; after a success, each block must have done so.
    left = stop_group(proc.pid, grace=15 if proc.returncode == 0 else 0)
    if left and proc.returncode == 0:
        err += f"\nstill running when the script ended (killed now): {left}"
    server_log = runner / "server.log"
    done = subprocess.CompletedProcess(proc.args, proc.returncode if not left else 99, out, err)
    done.stderr += "\n--- the set-up's server log (tail)\n" + (
        "".join(server_log.read_text().splitlines(True)[-30:]) if server_log.exists() else "(none)")
    return done, log


def stop_group(pgid: int, grace: float) -> list[str]:
    """The processes of the script's group still alive `grace` seconds after it ended (each block stops
    what it starts, and a stopped server takes a moment to exit), then stopped."""
    deadline = time.monotonic() + grace
    while (alive := group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not group(pgid):
            break
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        time.sleep(1)
    return alive


def group(pgid: int) -> list[str]:
    listed = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(pgid)], capture_output=True, text=True)
    return [line.strip() for line in listed.stdout.splitlines() if line.strip()]


def report(done: subprocess.CompletedProcess[str]) -> str:
    """Which README line failed first, then stderr with repeats (a wait loop's refused connections)
    collapsed, then the end of stdout."""
    lines = done.stderr.splitlines()
    first = [line for line in lines if line.startswith("README.md line")]
    collapsed: list[str] = []
    for line in lines:
        if collapsed and collapsed[-1].split(" (x")[0] == line:
            count = int(collapsed[-1].rpartition("(x")[2].rstrip(")")) + 1 if " (x" in collapsed[-1] else 2
            collapsed[-1] = f"{line} (x{count})"
        else:
            collapsed.append(line)
    tail = "\n".join(done.stdout.splitlines()[-40:])
    return "\n".join([*first, "--- stderr", *collapsed, "--- stdout (tail)", tail])


def statuses(log: Path) -> list[tuple[str, str, int, str]]:
    rows = []
    for row in log.read_text().splitlines():
        status, want, line, command = row.split(" ", 3)
        rows.append((status, want, int(line), command))
    return rows


def postgres() -> bool:
    return pg.unavailable() is None


def test_every_sh_block_of_the_readme_runs_in_order(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.fail("the README's blocks run the real curl, which is not on PATH")
    repo = checkout(tmp_path / "repo")
    tracked = files_in(repo)
    for run in ("first", "second"):
        done, log, script = walk(repo, tmp_path / run)
        assert done.returncode == 0, f"the {run} run:\n" + report(done)
        checked(done, log, script)
        left = files_in(repo) - tracked
        assert left <= SETUP_DATABASE, f"the {run} run left files in the repository: {sorted(left - SETUP_DATABASE)}"
    assert (repo / "loyalty-gateway.db").exists()  # the second run's server started on the first's database


def walk(repo: Path, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path, Script]:
    """One run of the whole script (fresh ports and database names, a set-up server started afresh)."""
    tmp_path.mkdir()
    with_postgres = postgres()
    script = build(README, postgres=with_postgres)
    try:
        done, log = run_script(script, tmp_path, repo=repo)
    finally:  # a block that failed before its dropdb leaves its database behind
        for name in script.databases.values() if with_postgres else ():
            subprocess.run(["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", name], capture_output=True)
    return done, log, script


def checked(done: subprocess.CompletedProcess[str], log: Path, script: Script) -> None:
    """What a run that exited 0 must also show: every curl's status, every block reached, the comments'
    promises in the output."""
    calls = statuses(log)
    refused = [(status, want, line) for status, want, line, _ in calls
               if status != "000" and want != "any" and not (status == want or want == "2xx" and status.startswith("2"))]
    assert not refused, refused
    # Every block that makes a request made it through the checked curl (a block the runner dropped
    # would leave no row), and the walk reached its end: the set-up's server was stopped by the script.
    ran = {line for _, _, line, _ in calls}
    for block in blocks(README):
        if block.line in script.skipped or "curl " not in block.text:
            continue
        last = block.line + block.text.rstrip().count("\n")
        assert any(block.line <= line <= last for line in ran), f"no curl of the block at README line {block.line} ran"
    out = done.stdout
    # What the README's comments promise, seen in its own output.
    assert "<available_points>30511.0</available_points>" in out  # the pomelo upstream's balance, via imonggo
    assert '<points-spent type="decimal">2000.0</points-spent>' in out
    assert "demo-client-secret" not in out  # the gateway's journal and admin replies mask it
    assert "signature ok  POST /loyalty loyalty-confirm" in out  # the webhook listener verified the presentment
    assert done.stderr.count("exit 0: every case that ran passed") == 2  # verify, in Checking a live server and the CI recipe
    assert "1 passed" in out  # the CI recipe's own test
    both = out + done.stderr
    assert "3 moved" in both and "0 moved, 0 with nothing to move, 3 done before" in both  # migrate, run twice
    assert ": IN SYNC" in both and ": DRIFT" in both  # the drift report before and after a spend at the shadow


if not postgres():  # said where pytest's summary shows it, rather than passed over in silence
    def test_the_postgresql_blocks_need_a_server() -> None:
        pytest.skip(f"README.md's PostgreSQL blocks were not run: {pg.unavailable()}")


def test_a_broken_block_fails_the_run_and_names_its_line(tmp_path: Path) -> None:
    """The runner must not pass a README that does not work: a wrong path in Try it's first curl."""
    broken = README.replace("http://127.0.0.1:8080/api/tokens.xml", "http://127.0.0.1:8080/api/tokenz.xml", 1)
    assert broken != README
    line = README.count("\n", 0, README.index("/api/tokens.xml")) + 1
    setup_only = "\n".join(broken.splitlines()[:line]) + "\n```\n"
    done, log = run_script(build(setup_only, postgres=False), tmp_path, timeout=120)
    assert done.returncode != 0
    assert f"README.md line {line}: curl" in done.stderr and "answered 401, not 2xx" in done.stderr, done.stderr
    assert statuses(log)[-1][:3] == ("401", "2xx", line)  # imonggo: no such route without Basic auth
