"""The README is the newcomer's only guide: it must list every setting and carry the exact test
command that .ci/run runs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_the_readme_lists_every_setting(setting) -> None:  # type: ignore[no-untyped-def]
    row = re.search(rf"^\| `{setting.name}` \| `{setting.flag}` \| `{setting.env}` \| `([^`]*)` \|", README, re.M)
    assert row, f"README.md has no settings row for {setting.name}"
    assert row.group(1) == str(setting.default), f"README.md gives {setting.name} the wrong default"


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert any(ci == line.strip() for block in blocks for line in block.splitlines()), ci


def test_the_readme_says_how_to_start_the_server() -> None:
    assert ".venv/bin/loyalty-gateway serve" in README
