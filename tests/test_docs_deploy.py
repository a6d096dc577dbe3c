"""What can be checked of the Dockerfile without a Docker engine (its base, its user, its command's flags
run by the real CLI, its healthcheck run against a real server), its .dockerignore, and that LICENSE is
the license pyproject.toml declares."""
from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from gateway.settings import SETTINGS
from tests.process import run, start

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
TOKEN_ENV = "LOYALTY_GATEWAY_ADMIN_TOKEN"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order; continued lines joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(word.upper(), rest.strip()) for word, _, rest in (line.strip().partition(" ") for line in joined.splitlines()) if word]


def only(name: str, text: str = DOCKERFILE) -> str:
    found = [args for word, args in instructions(text) if word == name]
    assert len(found) == 1, f"the Dockerfile has {len(found)} {name} instructions"
    return found[0]


def command() -> list[str]:
    return json.loads(only("CMD"))  # exec form: no shell between docker and the server (signals reach it)


def healthcheck() -> list[str]:
    options, _, exec_form = only("HEALTHCHECK").partition("CMD ")
    assert "--interval" in options
    return json.loads(exec_form)


def flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_image_is_python_3_11_slim() -> None:
    assert only("FROM") == "python:3.11-slim"


def check_user(text: str) -> None:
    user = only("USER", text)
    assert user not in ("root", "0") and not user.startswith(("root:", "0:")), user
    creates = [args for word, args in instructions(text) if word == "RUN" and re.search(rf"useradd\b.*\b{user}\b", args)]
    assert creates, f"no RUN creates the user {user}"
    order = [word for word, _ in instructions(text)]
    assert order.index("USER") < order.index("CMD")


def test_it_runs_as_a_user_it_creates_never_root() -> None:
    check_user(DOCKERFILE)


def test_it_installs_the_package_from_the_files_it_copies_and_the_context_keeps_them() -> None:
    runs = " ".join(args for word, args in instructions(DOCKERFILE) if word == "RUN")
    assert "pip install ." in runs
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    kept = {line[1:] for line in ignore if line.startswith("!")}
    assert "*" in ignore, ".dockerignore keeps a list of what goes in, after excluding everything"
    for word, args in instructions(DOCKERFILE):
        if word == "COPY":
            *sources, _ = shlex.split(args)
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source in kept, f"COPY {source}: .dockerignore leaves it out of the build context"
    # pyproject's readme and the package data link (gateway/contracts/pinned -> fixtures) must be in the image
    assert {"pyproject.toml", "README.md", "gateway", "fixtures"} <= kept


def test_the_command_is_serve_with_real_settings_on_the_exposed_port() -> None:
    argv = command()
    assert argv[:2] == ["loyalty-gateway", "serve"], argv
    flags = {setting.flag for setting in SETTINGS}
    used = [arg for arg in argv[2:] if arg.startswith("--")]
    assert used and set(used) <= flags, set(used) - flags
    assert only("EXPOSE") == flag(argv, "--port")
    assert f"127.0.0.1:{flag(argv, '--port')}/" in healthcheck()[-1]


def test_the_admin_token_comes_from_the_environment_at_run_time() -> None:
    for word, args in instructions(DOCKERFILE):
        assert not (word in ("ENV", "ARG") and TOKEN_ENV in args), f"{word} {args}: a token baked into the image"
    assert "--admin-token" not in command()


def test_the_command_refuses_to_start_without_the_token_and_its_healthcheck_passes_with_it(tmp_path: Path) -> None:
    """The CMD's own flags through the real CLI (a free port, a database in tmp_path), then the
    HEALTHCHECK's own command against that server."""
    argv = command()[1:]
    argv[argv.index("--port") + 1] = "0"
    argv[argv.index("--database") + 1] = f"sqlite:///{tmp_path / 'loyalty-gateway.db'}"
    refused = run(argv, cwd=tmp_path, env={TOKEN_ENV: ""})
    assert refused.returncode != 0 and "without admin_token" in refused.stderr, refused.stderr
    server = start(argv[1:], cwd=tmp_path, env={TOKEN_ENV: "docker-test-token"})
    try:
        assert server.host == "0.0.0.0"
        check = healthcheck()
        assert check[0] == "python" and check[1] == "-c", check  # slim has python, not curl
        code = check[2].replace(f"127.0.0.1:{command()[command().index('--port') + 1]}", f"127.0.0.1:{server.port}")
        assert "/__admin/health" in code
        assert subprocess.run([sys.executable, "-c", code], timeout=10).returncode == 0
        broken = code.replace("/__admin/health", "/__admin/healthz")
        assert subprocess.run([sys.executable, "-c", broken], capture_output=True, timeout=10).returncode != 0
    finally:
        assert server.stop() == 0, server.output


def test_license_is_the_one_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert declared == {"text": "MIT"}
    assert text.splitlines()[0] == "MIT License"
    assert re.search(r"^Copyright \(c\) 2026 loyalty-gateway contributors$", text, re.M)
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


@pytest.mark.parametrize("line", ["USER root", "USER 0", "USER nobody"])
def test_the_user_rule_catches_root_and_a_user_never_made(line: str) -> None:
    with pytest.raises(AssertionError):
        check_user(re.sub(r"^USER .*$", line, DOCKERFILE, flags=re.M))
