"""Fixtures for the terminal's tests: one real `loyalty-gateway serve` per module, a fresh tenant (a copy
of the demo's, with its own webhook secret) per test, and the CLI run as a real process."""
from __future__ import annotations

import json
import secrets
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import process
from tests.cli.apps import App, start_app

CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"  # Juan Cruz's card, copied into every tenant made from the demo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    where = tmp_path_factory.mktemp("server")
    started = process.start(["--port", "0", "--database", "sqlite:///cli.db", "--no-access-log",
                             "--webhook-retry-base-seconds", "30"], where)
    yield started
    started.stop()


def admin(server: process.Server, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.url}/__admin{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


@pytest.fixture
def tenant(server: process.Server) -> dict[str, Any]:
    made: dict[str, Any] = admin(server, "POST", "/tenants", {"name": f"cli-{secrets.token_hex(4)}"})
    return made


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return process.run(list(args), cwd, timeout=timeout, env=env)


def trigger(server: process.Server, tenant: dict[str, Any], *args: str, cwd: Path,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return cli("trigger", *args, "--url", server.url, "--tenant", tenant["name"], cwd=cwd, env=env)


@pytest.fixture
def apps() -> Iterator[Callable[..., App]]:
    """start(status=200): a developer's app on a free port, stopped after the test."""
    started: list[App] = []

    def start(status: int = 200) -> App:
        started.append(start_app(status))
        return started[-1]

    yield start
    for app in started:
        app.stop()
