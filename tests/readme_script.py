"""README.md's ```sh blocks as one bash script, each command on its README line, with the runner's few
rewrites (docs/readme-runner.md lists them): ports and database names made unique, installs checked
rather than made, the set-up's foreground server put in the background, every curl's status checked."""
from __future__ import annotations

import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CI_TEST_COMMAND = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
SETUP_SERVE = ".venv/bin/loyalty-gateway serve"  # the end of set-up's first block, run in the foreground there
POSTGRES_PORT = "5432"

BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)
PORT = re.compile(r"(?:(?<=127\.0\.0\.1:)|(?<=localhost:)|(?<=0\.0\.0\.0:)|(?<=--port )|(?<=--port=)"
                  r"|(?<=\"127\.0\.0\.1\", )|(?<='127\.0\.0\.1', ))(\d{2,5})\b")  # the last two: Python's (host, port)
CREATEDB = re.compile(r"^\s*createdb\b.*?\s([A-Za-z_][\w]*)\s*(?:#.*)?$", re.M)
EXPECTED = re.compile(r"#\s*answers (\d{3})\b")
LONG_RUNNING = re.compile(r"\.venv/bin/loyalty-gateway (?:serve|webhooks listen)\b")
INSTALL_VENV = re.compile(r"python3 -m venv \.venv\b")
INSTALL_PIP = re.compile(r"\.venv/bin/pip install ([^&;#\n]*?)(?=\s*(?:&&|;|#|$))", re.M)

# Sourced by the script's first line: a curl that logs its status and fails on an unexpected one, the
# check that stands for an install, the wait for the set-up's server, the report of a failed command.
PROLOGUE = r"""set -euo pipefail
trap 'echo "README.md line $LINENO failed (exit $?): $BASH_COMMAND" >&2' ERR
curl() {
    # The body still reaches stdout (TOKEN=$(curl ... | python3 ...) works unchanged); the status goes to
    # the log, and one that is not 2xx (or the line's "# answers NNN") fails the command.
    local out rc=0 status want=${EXPECT_STATUS:-2xx} line=${BASH_LINENO[0]}
    out=$(command curl -sS "$@" -w '\n%{http_code}') || rc=$?
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    printf '%s\n' "$out"
    printf '%s %s %s curl %s\n' "$status" "$want" "$line" "$*" >> "$README_STATUS_LOG"
    (( rc == 0 )) || return $rc
    if [[ $want == 2xx && $status == 2?? || $status == "$want" || $want == any ]]; then return 0; fi
    printf 'README.md line %s: curl %s answered %s, not %s\n' "$line" "$*" "$status" "$want" >&2
    return 1
}
readme_venv_exists() {  # stands for `python3 -m venv .venv`: the test runs in that venv, made already
    test -x .venv/bin/python
}
readme_installed() {  # stands for `.venv/bin/pip install ARGS`: checks every named requirement is installed
    .venv/bin/python "$README_DIR/readme_installed.py" "$@"
}
readme_wait_for() {  # PID URL: until URL answers, while PID lives
    until command curl -sf -o /dev/null "$2"; do kill -0 "$1"; sleep 0.2; done
}
"""


@dataclass(frozen=True)
class Block:
    line: int  # README line of the block's first command
    text: str

    @property
    def needs_postgres(self) -> bool:
        return "postgresql://" in self.text or "createdb" in self.text


def blocks(readme: str) -> list[Block]:
    return [Block(readme.count("\n", 0, found.start(1)) + 1, found.group(1)) for found in BLOCK.finditer(readme)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def logical_lines(text: str) -> list[str]:
    """Commands continued with a trailing backslash, joined."""
    return re.sub(r"\\\n", " ", text).splitlines()


def check_conventions(found: list[Block]) -> None:
    """What would make the script hang or collide rather than fail clearly."""
    setup = found[0]
    if not setup.text.rstrip().endswith(SETUP_SERVE):
        raise AssertionError(f"README.md line {setup.line}: the set-up block no longer ends with {SETUP_SERVE!r}")
    for block in found[1:]:
        for command in logical_lines(block.text):
            code = command.split("#", 1)[0]
            if LONG_RUNNING.search(code) and not re.search(r"(?<!&)&(?!&)", code):
                raise AssertionError(
                    f"README.md block at line {block.line}: {command.strip()!r} runs in the foreground and never "
                    "returns: end it with & and keep its pid (NAME=$!), then kill $NAME in the same section")
            if "loyalty-gateway serve" in code and not re.search(r"--port[ =]\d", code):
                raise AssertionError(f"README.md block at line {block.line}: {command.strip()!r} needs its own --port N")


def mark_expected_statuses(text: str) -> str:
    """`curl ...   # answers 503 ...`: that curl is expected to answer 503 (on a continued command, the
    comment ends its last line). A curl in an `until` or `while` condition is a probe: any answer will do
    (a refused connection is no answer; with -f, curl itself takes 4xx and 5xx for a failure)."""
    lines = mark_probes(text).split("\n")
    for end, line in enumerate(lines):
        expected = EXPECTED.search(line)
        if not expected:
            continue
        start = end
        while start > 0 and lines[start - 1].rstrip().endswith("\\"):
            start -= 1
        for i in range(start, end + 1):
            if re.search(r"\bcurl ", lines[i]):
                lines[i] = re.sub(r"\bcurl ", f"EXPECT_STATUS={expected.group(1)} curl ", lines[i], count=1)
                break
        else:
            raise AssertionError(f"'# answers {expected.group(1)}' on a command with no curl: {line!r}")
    return "\n".join(lines)


def mark_probes(text: str) -> str:
    """EXPECT_STATUS=any before each curl between `until`/`while` and its `do`."""
    out, probing = [], False
    for line in text.split("\n"):
        code, hash_, comment = line.partition(" #")
        probing = probing or bool(re.match(r"\s*(until|while)\b", code))
        if probing:
            head, do, rest = (re.split(r"(;\s*do\b)", code, maxsplit=1) + ["", ""])[:3]
            head = re.sub(r"\bcurl ", "EXPECT_STATUS=any curl ", head)
            code = head + do + rest
            probing = not do
        out.append(code + hash_ + comment)
    return "\n".join(out)


@dataclass
class Script:
    text: str
    ports: dict[str, int]
    databases: dict[str, str]
    setup_port: int
    skipped: list[int]  # README lines of the blocks left out (PostgreSQL unavailable)


def build(readme: str, *, postgres: bool) -> Script:
    """The script: README.md with every line outside a ```sh block blank, so bash's line numbers are the
    README's; then the set-up's server stopped."""
    found = blocks(readme)
    check_conventions(found)
    lines = [""] * (readme.count("\n") + 1)
    skipped = []
    every = "\n".join(block.text for block in found)
    ports = {port: free_port() for port in sorted(set(PORT.findall(every)) - {POSTGRES_PORT})}
    setup_port = ports.setdefault("8080", free_port())  # the set-up's server: the README's 127.0.0.1:8080
    databases = {name: f"{name}_{secrets.token_hex(4)}" for name in CREATEDB.findall(every)}
    # Commands whose default server is the README's 127.0.0.1:8080 (trigger) read this one instead.
    lines[0] = f'source "$README_DIR/prologue.sh"; export LOYALTY_GATEWAY_URL=http://127.0.0.1:{setup_port}'
    for number, block in enumerate(found):
        if block.needs_postgres and not postgres:
            skipped.append(block.line)
            continue
        text = rewrite(block.text, ports, databases, setup=setup_port if number == 0 else None,
                       ci_test=number == 1)
        for offset, line in enumerate(text.split("\n")[:-1]):
            lines[block.line - 1 + offset] = line
    lines.append("kill $README_SERVER; wait $README_SERVER")
    return Script("\n".join(lines) + "\n", ports, databases, setup_port, skipped)


def rewrite(text: str, ports: dict[str, int], databases: dict[str, str], *, setup: int | None, ci_test: bool) -> str:
    text = PORT.sub(lambda m: str(ports.get(m.group(1), m.group(1))), text)
    for name, unique in databases.items():
        text = re.sub(rf"(?<=/){name}\b|(?<=\s){name}\b(?=\s*(?:#|$))", unique, text, flags=re.M)
    if ci_test:
        if CI_TEST_COMMAND not in (line.strip() for line in text.splitlines()):
            raise AssertionError(f"README.md's second block is not .ci/run's test command: {CI_TEST_COMMAND!r}")
        # The suite this test is part of: its install is checked, the suite itself not run from inside it.
        text = text.replace(".venv/bin/python -m pytest", "echo 'the runner does not run the suite it belongs to'")
    if setup is not None or ci_test:
        # Under set -e a failure before the last && of a list does not stop bash: each its own command.
        text = text.replace(" && ", " ; ")
    text = INSTALL_VENV.sub("readme_venv_exists", text)
    text = INSTALL_PIP.sub(lambda m: f"readme_installed {m.group(1)}", text)
    if setup is not None:
        head, serve, rest = text.rstrip().rpartition(SETUP_SERVE)
        text = (f"{head}LOYALTY_GATEWAY_PORT={setup} {serve}{rest} > \"$README_DIR/server.log\" 2>&1 & README_SERVER=$!; "
                f"readme_wait_for $README_SERVER http://127.0.0.1:{setup}/__admin/health\n")
    return mark_expected_statuses(text)


# Run by readme_installed with .venv's python: each requirement the pip command names (`.` and `.[extra]`
# are this package) must be installed there, extras' requirements included; it installs nothing.
INSTALLED_CHECK = r'''
import sys
from importlib import metadata
from packaging.requirements import Requirement

def check(requirement: Requirement, extra: str = "") -> str | None:
    if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
        return None
    try:
        version = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return f"{requirement} is not installed"
    if not requirement.specifier.contains(version, prereleases=True):
        return f"{requirement.name} {version} does not satisfy {requirement}"
    for wanted in requirement.extras:
        for needed in metadata.requires(requirement.name) or []:
            needed = Requirement(needed)
            if needed.marker and needed.marker.evaluate({"extra": wanted}) and not needed.marker.evaluate({"extra": ""}):
                problem = check(Requirement(str(needed).split(";")[0]))
                if problem:
                    return f"{problem} (wanted by {requirement})"
    return None

specs = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
if not specs:
    sys.exit("readme_installed: no requirement named")
problems = []
for spec in specs:
    if spec == "." or spec.startswith(".["):
        spec = "loyalty-gateway" + spec[1:]
    problem = check(Requirement(spec))
    if problem:
        problems.append(problem)
for problem in problems:
    print(f"pip install {' '.join(sys.argv[1:])}: {problem} in .venv (the README runner checks, never installs)",
          file=sys.stderr)
sys.exit(1 if problems else 0)
'''
