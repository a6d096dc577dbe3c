"""The `workers` setting: 0 and `auto` mean the measured default, anything not a whole number of at least
1 is refused with one line; a taken port fails a supervisor at start with one line and leaves no database
behind; one worker is today's single process (no supervisor)."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.settings import WORKERS_AUTO, Settings, SettingsError
from tests import process


@pytest.mark.parametrize("given", ["0", "auto", "AUTO"])
def test_zero_and_auto_mean_the_measured_default(given: str) -> None:
    assert Settings.load(flags={"workers": given}).workers == WORKERS_AUTO


@pytest.mark.parametrize("given", ["-1", "two", "1.5", ""])
def test_a_bad_number_of_workers_is_refused(given: str) -> None:
    with pytest.raises(SettingsError, match="invalid workers"):
        Settings.load(flags={"workers": given})


def test_workers_from_the_environment_and_a_config_file(tmp_path: Path) -> None:
    assert Settings.load(environ={"LOYALTY_GATEWAY_WORKERS": "3"}).workers == 3
    config = tmp_path / "gateway.toml"
    config.write_text("workers = 2\n", encoding="utf-8")
    assert Settings.load(config_file=str(config)).workers == 2
    config.write_text("workers = -2\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="invalid workers"):
        Settings.load(config_file=str(config))


@pytest.mark.slow
@pytest.mark.parametrize("given", ["-1", "many"])
def test_serve_refuses_a_bad_number_of_workers_in_one_line(given: str, tmp_path: Path) -> None:
    done = process.run(["serve", "--workers", given, "--port", "0", "--database", "sqlite:///w.db"], cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "invalid workers" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "w.db").exists()


@pytest.mark.slow
def test_more_workers_than_the_shared_mapping_holds_are_refused_in_one_line(tmp_path: Path) -> None:
    done = process.run(["serve", "--workers", "257", "--port", "0", "--database", "sqlite:///w.db"], cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "loyalty-gateway: error: workers must be at most 256\n"
    assert not (tmp_path / "w.db").exists()


@pytest.mark.slow
def test_a_taken_port_fails_the_supervisor_at_start_and_makes_no_database(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = process.run(
            ["serve", "--workers", "2", "--port", str(port), "--database", "sqlite:///w.db"], cwd=tmp_path
        )
    assert done.returncode == 1
    assert done.stderr == f"loyalty-gateway: error: cannot listen on 127.0.0.1:{port}: address already in use\n"
    assert not (tmp_path / "w.db").exists()


@pytest.mark.slow
def test_one_worker_is_the_single_process_of_before(tmp_path: Path) -> None:
    server = process.start(["--workers", "1", "--port", "0", "--database", "sqlite:///w.db"], cwd=tmp_path)
    try:
        assert "workers)" not in server.startup[-1]
        # the process started is the one that serves: no child was forked to do it
        children = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == server.proc.pid]
        assert children == []
    finally:
        assert server.stop() == 0


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1
