"""A failed start removes only the SQLite file it made and nobody else uses: two starts on one new path at
once never remove each other's file, a file put in its place is left alone, and with --workers N a start
whose workers all failed before serving leaves nothing behind, while one that served keeps its database."""
from __future__ import annotations

import json
import os
import signal
import urllib.request
from pathlib import Path

from gateway.cli import FreshDatabase
from tests import process
from tests.cli.conftest import cli
from tests.cli.test_serve_start import one_line_last

DEMO = "Basic NWM0ZmM1ODA1ZWI2NDM3MTZiYmMxN2RhZDQ1NmEwYzZjZjJlMjNmYTpY"  # the demo imonggo user, password X


def _points(url: str) -> str:
    request = urllib.request.Request(f"{url}/api/customers/1534.json", headers={"Authorization": DEMO})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return str(json.load(answer)["available_points"])


def test_a_failed_start_leaves_the_file_another_start_serves_from(tmp_path: Path) -> None:
    # This start checks the path first and makes the file; then, before it fails, another server opens the
    # same path and serves from it (the race of two `serve` runs on one new path, in a fixed order).
    losing = FreshDatabase(f"sqlite:///{tmp_path / 'race.db'}")
    winner = process.start(["--port", "0", "--database", "sqlite:///race.db", "--no-access-log"], tmp_path)
    try:
        before = _points(winner.url)
        losing.failed()  # its port was in use, say
        assert (tmp_path / "race.db").exists()
        assert _points(winner.url) == before
    finally:
        assert winner.stop() == 0
    checked = cli("check", "--database", "sqlite:///race.db", cwd=tmp_path)
    assert "audit clean" in checked.stdout and "tenants 1" in checked.stdout, checked.stdout + checked.stderr


def test_a_second_start_on_a_served_path_fails_and_removes_nothing(tmp_path: Path) -> None:
    first = process.start(["--port", "0", "--database", "sqlite:///both.db", "--no-access-log"], tmp_path)
    try:
        second = cli("serve", "--port", str(first.port), "--database", "sqlite:///both.db", cwd=tmp_path)
        one_line_last(second, "address already in use")
        assert (tmp_path / "both.db").exists()
        assert _points(first.url)  # the first still serves from its file
    finally:
        assert first.stop() == 0


def test_a_file_put_in_its_place_is_not_removed(tmp_path: Path) -> None:
    path = tmp_path / "swapped.db"
    fresh = FreshDatabase(f"sqlite:///{path}")
    path.unlink()
    path.write_bytes(b"someone else's")
    fresh.failed()
    assert path.read_bytes() == b"someone else's"


def test_a_file_it_made_and_nobody_used_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    fresh = FreshDatabase(f"sqlite:///{path}")
    assert path.exists()
    fresh.failed()
    assert not path.exists()


def test_a_file_that_was_there_is_never_removed(tmp_path: Path) -> None:
    path = tmp_path / "there.db"
    path.write_bytes(b"")
    FreshDatabase(f"sqlite:///{path}").failed()
    assert path.exists()


def test_workers_that_all_fail_before_serving_leave_no_database(tmp_path: Path) -> None:
    # The workers refuse to serve the admin API on 0.0.0.0 without a token (create_app checks it in each),
    # after the supervisor has made and migrated the database.
    done = cli("serve", "--workers", "2", "--host", "0.0.0.0", "--port", "0", "--database", "sqlite:///w.db",
               cwd=tmp_path)
    assert done.returncode == 1 and "refusing to listen on 0.0.0.0" in done.stderr, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_workers_that_served_keep_their_database_when_one_dies(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", "sqlite:///w.db", "--workers", "2", "--no-access-log"],
                           tmp_path)
    _points(server.url)
    victim = min(process.children(server.proc.pid))
    os.kill(victim, signal.SIGKILL)
    assert server.proc.wait(timeout=20) == 1
    server.stop()
    assert (tmp_path / "w.db").exists()

