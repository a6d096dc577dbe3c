"""`--log-format json` (and LOYALTY_GATEWAY_LOG_FORMAT): every log line a real server writes is one JSON
object with time, level, logger and message; an access-log line carries its parts as fields (method,
path, status, duration, dialect and tenant where known) with secrets masked as in the text log."""
from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import signal
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gateway.log_format import JsonLines
from tests import process
from tests.cli.conftest import cli
from tests.cli.test_serve_start import one_line_last

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


def _get(url: str, headers: dict[str, str] | None = None) -> None:
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5).close()
    except urllib.error.HTTPError as exc:
        exc.close()


# What `serve` prints on stdout (tests/process.py merges it with stderr): where it listens and that it stops.
# Those are its output, not log records; every other line, errors included, must be JSON.
STDOUT_LINES = re.compile(r"loyalty-gateway: (listening on http://\S+ \(database .*\)|shutting down)")


def _records(output: str) -> list[dict[str, Any]]:
    lines = [line for line in output.splitlines() if line.strip()]
    logged = [line for line in lines if not STDOUT_LINES.fullmatch(line)]
    return [json.loads(line) for line in logged]  # every log line parses, or this fails


def test_a_failed_start_is_one_json_error_record(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for workers in ("1", "2"):
            done = process.run(["serve", "--port", str(port), "--database", "sqlite:///f.db", "--log-format", "json",
                                "--workers", workers], cwd=tmp_path)
            assert done.returncode == 1, done.stderr
            last = _records(done.stderr)[-1]  # every stderr line is JSON
            assert (last["level"], last["logger"]) == ("error", "gateway")
            assert last["message"] == f"cannot listen on 127.0.0.1:{port}: address already in use"
    assert not (tmp_path / "f.db").exists()


def test_a_failed_start_at_log_level_error_is_its_one_json_line(tmp_path: Path) -> None:
    done = process.run(["serve", "--port", "0", "--database", "sqlite:///f.db", "--scenario", "missing.json",
                        "--log-format", "json", "--log-level", "error"], cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    (record,) = _records(done.stderr)
    assert record["level"] == "error" and "missing.json" in record["message"]
    assert not (tmp_path / "f.db").exists()


def test_a_bad_flag_before_logging_is_set_up_stays_the_plain_line(tmp_path: Path) -> None:
    done = process.run(["serve", "--port", "0", "--workers", "many", "--log-format", "json"], cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.startswith("loyalty-gateway: error: ") and done.stderr.count("\n") == 1


def test_a_worker_that_dies_is_logged_as_a_json_error(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", "sqlite:///w.db", "--workers", "2", "--log-format", "json"],
                           tmp_path)
    victim = min(process.children(server.proc.pid))
    os.kill(victim, signal.SIGKILL)
    assert server.proc.wait(timeout=20) == 1
    server.stop()
    records = _records("".join(server.startup) + server.output)
    died = [r for r in records if r["level"] == "error"]
    assert [(r["logger"], r["message"]) for r in died] == [
        ("gateway.workers", f"worker {victim} stopped (killed by signal 9): stopping the others")]



@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_real_server_logs_one_json_object_per_line(tmp_path: Path, how: str) -> None:
    args = ["--port", "0", "--database", "sqlite:///j.db"]
    env = {"LOYALTY_GATEWAY_LOG_FORMAT": "json"} if how == "environment" else None
    server = process.start([*args, "--log-format", "json"] if how == "flag" else args, tmp_path, env=env)
    basic = "Basic " + base64.b64encode(f"{TOKEN}:X".encode()).decode()
    _get(f"{server.url}/api/customers/1534.xml", {"Authorization": basic})
    _get(f"{server.url}/api/tokens.xml?email=demo@example.com&password=demo-password")
    _get(f"{server.url}/__admin/health")
    with socket.create_connection((server.host, server.port), timeout=5) as sock:  # a malformed request
        sock.sendall(b"GARBAGE?password=s3cret HTTP/1.1\r\n\r\n")
        sock.recv(100)
    server.stop()
    everything = "".join(server.startup) + server.output
    records = _records(everything)
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["logger"] == "gateway" and "loaded scenario" in r["message"] for r in records)
    access = {r["path"].partition("?")[0]: r for r in records if r["logger"] == "aiohttp.access"}
    customer = access["/api/customers/1534.xml"]
    assert (customer["method"], customer["status"], customer["dialect"], customer["tenant"]) == ("GET", 200, "imonggo", "demo")
    assert isinstance(customer["duration_ms"], float) and customer["time"].endswith("Z")
    token = access["/api/tokens.xml"]
    assert token["path"] == "/api/tokens.xml?email=demo@example.com&password=[FILTERED]"
    assert "demo-password" not in everything and "s3cret" not in everything
    assert any("refused a malformed request" in r["message"] for r in records)
    assert "dialect" not in access["/__admin/health"] and "tenant" not in access["/__admin/health"]


def test_the_text_format_stays_the_default(tmp_path: Path) -> None:
    server = process.start(["--port", "0", "--database", "sqlite:///t.db"], tmp_path)
    _get(f"{server.url}/__admin/health")
    server.stop()
    assert '"GET /__admin/health HTTP/1.1" 200' in server.output
    assert not any(line.startswith("{") for line in server.output.splitlines())


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    one_line_last(cli("serve", "--log-format", "xml", cwd=tmp_path), "--log-format", "expected one of text, json")
    one_line_last(cli("serve", cwd=tmp_path, env={"LOYALTY_GATEWAY_LOG_FORMAT": "yaml"}), "LOYALTY_GATEWAY_LOG_FORMAT")
    assert list(tmp_path.iterdir()) == []


def test_a_message_and_an_exception_are_masked_and_kept_on_one_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("tests.cli.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("refused GET /api/tokens.xml?password=s3cret&email=a")
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "refused GET /api/tokens.xml?password=[FILTERED]&email=a"
    assert first["level"] == "warning" and first["logger"] == "tests.cli.json"
    assert second["message"] == "failed" and "ValueError: boom" in second["exception"]
