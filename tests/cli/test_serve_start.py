"""`loyalty-gateway --version`, boolean settings as `--flag/--no-flag` (and `--flag false` as before),
and a failed start that leaves no database file behind while never touching one that was there."""
from __future__ import annotations

import json
import socket
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

import gateway
from gateway.cli import _parser
from gateway.settings import SETTINGS
from tests import process
from tests.cli.conftest import cli
from tests.cli.test_trigger import one_line


def test_version_prints_the_installed_packages_version(tmp_path: Path) -> None:
    shown = cli("--version", cwd=tmp_path)
    assert shown.returncode == 0
    assert shown.stdout == f"loyalty-gateway {metadata.version('loyalty-gateway')}\n"
    assert shown.stdout == f"loyalty-gateway {gateway.__version__}\n"  # what build_info and User-Agents say


def test_the_version_is_written_once() -> None:
    """pyproject.toml takes it from gateway.__version__ (so --version, the metadata and the metrics' build_info
    cannot disagree): no second copy to forget when it changes."""
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "gateway.__version__"}


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.is_boolean], ids=lambda s: s.name)
def test_every_boolean_setting_takes_flag_no_flag_and_a_value(setting) -> None:  # type: ignore[no-untyped-def]
    def parsed(*args: str) -> object:
        return getattr(_parser().parse_args(["serve", *args]), setting.name)

    assert parsed(setting.flag) == "true"
    assert parsed("--no-" + setting.flag[2:]) == "false"
    assert parsed(setting.flag, "false") == "false" and parsed(setting.flag, "on") == "on"
    assert parsed() is None  # left to the environment, the file and the default


def test_no_access_log_turns_the_access_log_off_in_a_real_server(tmp_path: Path) -> None:
    quiet = process.start(["--port", "0", "--database", "sqlite:///q.db", "--no-access-log"], tmp_path)
    loud = process.start(["--port", "0", "--database", "sqlite:///l.db", "--access-log"], tmp_path)
    for server in (quiet, loud):
        urllib.request.urlopen(f"{server.url}/__admin/health", timeout=5).close()
        server.stop()
    assert "GET /__admin/health" not in quiet.output
    assert "GET /__admin/health" in loud.output


def _taken_port() -> socket.socket:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    return taken


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_leaves_no_database_file(tmp_path: Path, workers: str) -> None:
    with _taken_port() as taken:
        port = str(taken.getsockname()[1])
        result = cli("serve", "--port", port, "--database", "sqlite:///fresh.db", "--workers", workers, cwd=tmp_path)
    one_line_last(result, "address already in use")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_missing_scenario_leaves_no_database_file(tmp_path: Path, workers: str) -> None:
    result = cli("serve", "--port", "0", "--database", "sqlite:///fresh.db", "--scenario", "nowhere.json",
                 "--workers", workers, cwd=tmp_path)
    one_line_last(result, "nowhere.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_bad_config_leaves_no_database_file(tmp_path: Path) -> None:
    (tmp_path / "gateway.toml").write_text('port = "eighty"\n', encoding="utf-8")
    one_line_last(cli("serve", "--config", "gateway.toml", cwd=tmp_path), "config file gateway.toml", "port")
    one_line_last(cli("serve", "--host", "0.0.0.0", "--port", "0", cwd=tmp_path), "refusing to listen on 0.0.0.0")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gateway.toml"]


def test_a_database_that_was_there_is_never_removed(tmp_path: Path) -> None:
    seeded = cli("seed", "--scenario", "demo", "--database", "sqlite:///kept.db", cwd=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    with _taken_port() as taken:
        result = cli("serve", "--port", str(taken.getsockname()[1]), "--database", "sqlite:///kept.db", cwd=tmp_path)
    one_line_last(result, "address already in use")
    assert (tmp_path / "kept.db").exists()
    checked = cli("check", "--database", "sqlite:///kept.db", cwd=tmp_path)
    assert "audit clean" in checked.stdout and "tenants 1" in checked.stdout


def test_a_start_that_served_keeps_its_database(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", "sqlite:///served.db", "--no-access-log"], tmp_path)
    with urllib.request.urlopen(f"{server.url}/__admin/health", timeout=5) as answer:
        assert json.load(answer)["status"] == "ok"
    assert server.stop() == 0
    assert (tmp_path / "served.db").exists()


def one_line_last(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    """Start-up may log before failing; the error is the one last line, and nothing else is an error."""
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
