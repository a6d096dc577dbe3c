"""The documents hold together: README.md links every file under docs/ and every other README, each docs/
file opens with a line saying what it is, and no document points at a file that is not in the
repository (a moved file, or a path on the machine it was written on)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRACKED = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
DOCUMENTS = sorted(name for name in TRACKED if name.endswith(".md") and (ROOT / name).exists())
DOCS = sorted(name for name in DOCUMENTS if name.startswith("docs/"))
OTHER_READMES = sorted(name for name in DOCUMENTS if name.endswith("README.md") and name != "README.md")
TOP_LEVEL = sorted({name.split("/", 1)[0] + "/" for name in TRACKED if "/" in name})
README = (ROOT / "README.md").read_text(encoding="utf-8")

LINK = re.compile(r"\]\(([^)\s]+)\)")
# A path on some machine, or the notes the project was written from, which live outside the repository.
OUTSIDE = re.compile(r"(?<![\w.])(?:/work/|/home/|\.\./shared|shared/(?:seeds|specs|design|hooks)/)")


def links(text: str) -> list[str]:
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:|#", target)]


def repo_paths(text: str) -> list[str]:
    """Backticked paths that start with one of the repository's top-level folders (not patterns)."""
    quoted = re.findall(r"`([^`\s]+)`", text)
    return [q.rstrip(".,:") for q in quoted
            if q.startswith(tuple(TOP_LEVEL)) and not re.search(r"[<>*{}…]|\.\.\.|=", q)]


def problems(name: str, text: str) -> list[str]:
    found = [f"{name}: points outside the repository: {m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    here = (ROOT / name).parent
    for target in links(text):
        path = (here / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            found.append(f"{name}: link to {target!r}, which is not a file of the repository")
    for quoted in repo_paths(text):
        if not (ROOT / quoted).exists():
            found.append(f"{name}: names {quoted!r}, which is not in the repository")
    return found


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_document_points_only_at_files_of_the_repository(name: str) -> None:
    assert not problems(name, (ROOT / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", [
    "Ground truth: `shared/seeds/memberpoints.txt`.",
    "see ../shared/specs/imonggo.md",
    "read /work/shared/design/architecture.md",
    "the [notes](../outside.md)",
    "the [notes](docs/no-such-file.md)",
    "`tests/no_such_test.py` runs it",
])
def test_the_rule_catches_a_path_outside_or_missing(text: str) -> None:
    assert problems("README.md", text)


@pytest.mark.parametrize("name", DOCS + OTHER_READMES)
def test_the_readme_links_every_document(name: str) -> None:
    assert f"]({name})" in README, f"README.md has no link to {name}"


@pytest.mark.parametrize("name", DOCS)
def test_a_docs_file_opens_with_what_it_is(name: str) -> None:
    first = (ROOT / name).read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ") and len(first.split()) >= 5, first


def test_the_readme_keeps_what_a_user_does_and_links_the_rest() -> None:
    """The internals moved to docs/ stay there: one short link each in the README."""
    for moved in ("SQLSTATE 40001", "FOR UPDATE SKIP LOCKED", "wrk -t1, 5 s runs", "scenario.py           scenario files"):
        assert moved not in README, moved
    for doc in ("docs/postgresql.md", "docs/performance.md", "docs/internals.md"):
        assert f"]({doc})" in README
