"""The checkpoint file itself: a last line cut short by a kill is cut off before anything is appended; one
migrate at a time runs on it (readers may share it), the others stop in one line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.migration import Checkpoint
from tests import process


def test_a_torn_last_line_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint = Checkpoint.load(path)
    checkpoint.begin(mode="add", source="s", target="t")
    checkpoint.refused("1", "no member")
    checkpoint.close()
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"event":"failed","source_id":"2","err')  # killed mid-write
    torn = Checkpoint.load(path)
    assert set(torn.failed) == {"1"}
    torn.refused("3", "no member")
    torn.close()
    again = Checkpoint.load(path)
    assert set(again.failed) == {"1", "3"}
    assert path.read_text(encoding="utf-8").endswith("\n")


def _endpoints(root: Path) -> None:
    """Two declarations whose upstreams nobody serves: a held checkpoint must stop the run before any call."""
    (root / "source.toml").write_text('dialect = "memberpoints"\nbase_url = "http://127.0.0.1:9"\n[credentials]\n'
                                      'api_id = "A1"\napi_key = "k-secret"\n')
    (root / "target.toml").write_text('dialect = "pomelo"\nbase_url = "http://127.0.0.1:9"\n[credentials]\n'
                                      'client_id = "C1"\nclient_secret = "s-secret"\naudience = "https://api.pomelo.la"\n')
    (root / "members.csv").write_text("source_id,target_id\n1,u1\n")


HOLDER = """
import sys, time
import pytest

from gateway.migration import Checkpoint
checkpoint = Checkpoint.open(sys.argv[1], shared=sys.argv[2] == "shared")
print("held", flush=True)
time.sleep(60)
"""


def _holding(root: Path, how: str) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root / "cp.jsonl"), how], cwd=root,
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


@pytest.mark.slow  # five migrate processes: over 3 s
def test_a_checkpoint_another_migrate_holds_stops_the_run_in_one_line(tmp_path: Path) -> None:
    _endpoints(tmp_path)
    migrate = ["migrate", "--from", "source.toml", "--to", "target.toml", "--members", "members.csv",
               "--checkpoint", "cp.jsonl", "--timeout", "1"]
    holder = _holding(tmp_path, "exclusive")
    try:
        for extra in ([], ["--dry-run"], ["--verify-only"]):
            done = process.run([*migrate, *extra], tmp_path)
            assert done.returncode == 2, done.stdout + done.stderr
            assert done.stderr.count("\n") == 1 and "in use by another migrate" in done.stderr, done.stderr
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
    reader = _holding(tmp_path, "shared")
    try:
        run = process.run(migrate, tmp_path)
        assert run.returncode == 2 and "in use by another migrate" in run.stderr, run.stderr
        dry = process.run([*migrate, "--dry-run"], tmp_path)  # two readers at once are fine: on to the upstream
        assert "in use" not in dry.stderr and dry.returncode == 2, dry.stderr
    finally:
        reader.kill()
        reader.wait()
        reader.stdout.close()  # type: ignore[union-attr]


def test_creating_the_checkpoint_makes_its_directory_entries_durable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)
    monkeypatch.setattr(os, "fsync", spy)
    for how, path in (("append", tmp_path / "a" / "b" / "cp.jsonl"), ("lock", tmp_path / "c" / "cp.jsonl")):
        checkpoint = Checkpoint.load(path) if how == "append" else Checkpoint.open(path, shared=False)
        checkpoint.begin(mode="add", source="s", target="t")
        checkpoint.close()
        new_dirs = [str(path.parent), str(path.parent.parent)] if how == "append" else [str(path.parent)]
        for directory in [*new_dirs, str(tmp_path)]:  # each new entry's directory, up to the one that was there
            assert directory in synced, (how, directory, synced)
        synced.clear()


def test_a_dry_run_on_the_checkpoint_of_another_migration_is_refused_before_any_call(tmp_path: Path) -> None:
    _endpoints(tmp_path)
    (tmp_path / "cp.jsonl").write_text('{"event":"run","run":"abc","mode":"mirror","source":"x","target":"y"}\n')
    done = process.run(["migrate", "--from", "source.toml", "--to", "target.toml", "--members", "members.csv",
                        "--checkpoint", "cp.jsonl", "--dry-run"], tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "holds run abc" in done.stderr, done.stderr
