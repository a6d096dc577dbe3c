"""The command line as a newcomer meets it: one clear line and a non-zero exit for every mistake,
never a traceback; seed and check; a graceful stop on SIGTERM and SIGINT."""
from __future__ import annotations

import json
import signal
import socket
import urllib.request
from pathlib import Path

import pytest

from tests import process


def one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("loyalty-gateway: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr  # log lines may come before it
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_a_bad_flag(tmp_path: Path) -> None:
    one_line_error(process.run(["serve", "--colour", "blue"], tmp_path), "unrecognized arguments: --colour")
    one_line_error(process.run(["serve", "--port", "http"], tmp_path), "--port", "invalid port")


def test_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = process.run(["serve", "--port", str(port), "--database", f"sqlite:///{tmp_path / 'p.db'}"], tmp_path)
    one_line_error(result, f"cannot listen on 127.0.0.1:{port}", "address already in use")


def test_an_unreadable_database(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"not a database at all" * 50)
    one_line_error(process.run(["serve", "--database", "sqlite:///junk.db"], tmp_path), "junk.db", "not a database")
    one_line_error(process.run(["serve", "--database", "sqlite:///nowhere/x.db"], tmp_path), "does not exist")
    one_line_error(process.run(["serve", "--database", "oracle://x"], tmp_path), "'oracle' is not supported")


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ('{"tenants": [{"name": "x", "members": [{"balances": {"points": "ten"}}]}]}',
         ["bad.json", "tenants[0].members[0].balances.points"]),
        ('{"tenants": [{"name": "x", "members": [{"customer_type_id": 3}]}]}',
         ["bad.json", "tenants[0].members[0].customer_type_id", "no customer type 3"]),
        ('{"tenants": [{"name": "x", "imonggo": {}}]}', ["bad.json", "tenants[0].imonggo", "api_token"]),
        ('{"tenants": [', ["bad.json", "not valid JSON at line 1"]),
        ('{"tenants": [{"name": "x", "members": [{"balances": {"points": "1.001"}}]}]}',
         ["bad.json", "tenants[0].members[0].balances.points"]),
    ],
)
def test_a_malformed_scenario_names_the_file_and_the_field(tmp_path: Path, content: str, fragments: list[str]) -> None:
    (tmp_path / "bad.json").write_text(content, encoding="utf-8")
    result = process.run(["serve", "--scenario", "bad.json", "--database", "sqlite:///s.db"], tmp_path)
    one_line_error(result, *fragments)
    result = process.run(["seed", "--scenario", "bad.json", "--database", "sqlite:///s.db"], tmp_path)
    one_line_error(result, *fragments)


def test_seed_then_check(tmp_path: Path) -> None:
    seeded = process.run(["seed", "--scenario", "demo", "--database", "sqlite:///seeded.db"], tmp_path)
    assert seeded.returncode == 0 and "seeded demo" in seeded.stdout
    again = process.run(["seed", "--scenario", "demo", "--database", "sqlite:///seeded.db"], tmp_path)
    one_line_error(again, "tenant 'demo' exists already")
    checked = process.run(["check", "--database", "sqlite:///seeded.db"], tmp_path)
    assert checked.returncode == 0 and "audit clean" in checked.stdout and "members 3" in checked.stdout
    one_line_error(process.run(["check", "--database", "sqlite:///missing.db"], tmp_path), "does not exist")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_on_the_default_database_then_stop_gracefully(tmp_path: Path, sig: int) -> None:
    server = process.start(["--port", "0"], tmp_path)
    try:
        with urllib.request.urlopen(f"{server.url}/__admin/health", timeout=5) as response:
            assert json.load(response) == {"status": "ok", "store": "sqlite"}
    finally:
        code = server.stop(sig)
    assert code == 0
    assert (tmp_path / "loyalty-gateway.db").exists()
    checked = process.run(["check", "--database", "sqlite:///loyalty-gateway.db"], tmp_path)
    assert "audit clean" in checked.stdout and "tenants 1" in checked.stdout


def test_a_toml_scenario_with_fractional_balances_seeds_exactly(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text(
        '[[tenants]]\nname = "toml"\n[[tenants.members]]\nmbr_id = 7\nname = "Seven"\n'
        '[tenants.members.balances]\npoints = 0.1\ncashback = 12.34\n', encoding="utf-8")
    seeded = process.run(["seed", "--scenario", "s.toml", "--database", "sqlite:///t.db"], tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    import sqlite3

    with sqlite3.connect(tmp_path / "t.db") as conn:
        rows = dict(conn.execute("SELECT asset, posted FROM accounts WHERE posted != 0").fetchall())
    assert rows == {"points": 10, "cashback": 1234}
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tenants]]\nname = "toml"\n[[tenants.members]]\n[tenants.members.balances]\npoints = 0.001\n',
                   encoding="utf-8")
    result = process.run(["seed", "--scenario", "bad.toml", "--database", "sqlite:///t2.db"], tmp_path)
    assert result.returncode == 1 and "tenants[0].members[0].balances.points" in result.stderr
