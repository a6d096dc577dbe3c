"""The README runner's rewrites, each on a small README of its own (fast: nothing is started): what
docs/readme-runner.md says it changes, it changes, and what would hang or collide is refused."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme_script import CI_TEST_COMMAND, INSTALLED_CHECK, SETUP_SERVE, build

SETUP = f"""# t

```sh
python3 -m venv .venv && .venv/bin/pip install . && {SETUP_SERVE}
```

```sh
{CI_TEST_COMMAND}
```
"""


def script(body: str, postgres: bool = True) -> str:
    return build(SETUP + body, postgres=postgres).text


def test_each_command_keeps_its_readme_line() -> None:
    text = script("\nsome prose\n\n```sh\ncurl http://127.0.0.1:8080/a\n```\n")
    readme = (SETUP + "\nsome prose\n\n```sh\ncurl http://127.0.0.1:8080/a\n```\n").splitlines()
    lines = text.splitlines()
    at = readme.index("curl http://127.0.0.1:8080/a")
    assert lines[at].startswith("curl http://127.0.0.1:") and lines[at].endswith("/a")
    assert lines[0].startswith('source "$README_DIR/prologue.sh"; export LOYALTY_GATEWAY_URL=http://127.0.0.1:')


def test_the_setup_serves_in_the_background_on_the_readmes_8080_and_installs_are_checked() -> None:
    built = build(SETUP + "\n```sh\ncurl 127.0.0.1:8080/__admin/health\n```\n", postgres=True)
    setup = built.text.splitlines()[3]
    port = built.ports["8080"]
    assert setup.startswith("readme_venv_exists ; readme_installed . ; ")
    assert f"LOYALTY_GATEWAY_PORT={port} {SETUP_SERVE} > \"$README_DIR/server.log\" 2>&1 & README_SERVER=$!" in setup
    assert f"readme_wait_for $README_SERVER http://127.0.0.1:{port}/__admin/health" in setup
    assert f"curl 127.0.0.1:{port}/__admin/health" in built.text
    assert built.text.rstrip().endswith("kill $README_SERVER; wait $README_SERVER")


def test_the_test_command_checks_its_installs_but_never_runs_the_suite() -> None:
    line = script("").splitlines()[7]
    assert line.startswith("readme_venv_exists ; readme_installed -e '.[test]' ; echo ")
    assert "pytest" not in line


def test_every_port_is_one_free_port_everywhere_but_postgresqls() -> None:
    built = build(SETUP + """
```sh
.venv/bin/loyalty-gateway serve --port 8081 --database postgresql://postgres@127.0.0.1:5432/x > v.log &
V=$!
curl localhost:8081/a && curl http://127.0.0.1:8081/b
kill $V
```
""", postgres=True)
    port = built.ports["8081"]
    assert f"--port {port} " in built.text and f"localhost:{port}/a" in built.text and f"127.0.0.1:{port}/b" in built.text
    assert "127.0.0.1:5432/x" in built.text and "5432" not in built.ports
    assert len(set(built.ports.values())) == len(built.ports)


def test_a_created_database_gets_a_name_of_its_own_wherever_the_block_names_it() -> None:
    built = build(SETUP + """
```sh
createdb -h 127.0.0.1 -U postgres shop_db   # empty
curl "http://127.0.0.1:8080/?db=postgresql://postgres@127.0.0.1:5432/shop_db"
dropdb -h 127.0.0.1 -U postgres shop_db
```
""", postgres=True)
    unique = built.databases["shop_db"]
    assert unique.startswith("shop_db_") and built.text.count(unique) == 3 and " shop_db " not in built.text


def test_postgresql_blocks_are_left_out_without_a_server_and_listed() -> None:
    readme = SETUP + "\n```sh\ncreatedb -h 127.0.0.1 -U postgres a\ndropdb -h 127.0.0.1 -U postgres a\n```\n"
    built = build(readme, postgres=False)
    assert "createdb" not in built.text and built.skipped == [readme.splitlines().index("createdb -h 127.0.0.1 -U postgres a") + 1]


def test_a_curl_meant_to_fail_says_its_status_on_its_last_line() -> None:
    text = script("""
```sh
curl -X POST \\
     http://127.0.0.1:8080/x   # answers 503 in the dialect's shape
curl http://127.0.0.1:8080/y
```
""")
    assert "EXPECT_STATUS=503 curl -X POST \\" in text
    assert "EXPECT_STATUS=503 curl http" not in text


@pytest.mark.parametrize(("block", "says"), [
    (".venv/bin/loyalty-gateway serve --port 8081", "runs in the foreground"),
    (".venv/bin/loyalty-gateway webhooks listen --port 9000 --secret c2VjcmV0", "runs in the foreground"),
    (".venv/bin/loyalty-gateway serve > s.log 2>&1 &", "needs its own --port"),
    ("true   # answers 404", "no curl"),
])
def test_what_would_hang_or_collide_is_refused_before_anything_runs(block: str, says: str) -> None:
    with pytest.raises(AssertionError, match=says):
        script(f"\n```sh\n{block}\n```\n")


def test_the_setup_and_test_command_are_held_to_what_the_runner_expects() -> None:
    with pytest.raises(AssertionError, match="no longer ends with"):
        build(SETUP.replace(SETUP_SERVE, SETUP_SERVE + " --port 9999"), postgres=True)
    with pytest.raises(AssertionError, match="not .ci/run's test command"):
        build(SETUP.replace(".venv/bin/python -m pytest", ".venv/bin/python -m pytest -x"), postgres=True)


@pytest.mark.parametrize(("args", "ok"), [
    (["-e", ".[test]"], True),
    (["."], True),
    (["loyalty-gateway[test]"], True),
    (["no-such-package-for-the-readme"], False),
    (["pytest>=999"], False),
    ([], False),
])
def test_an_install_is_checked_against_this_environment(tmp_path: Path, args: list[str], ok: bool) -> None:
    check = tmp_path / "readme_installed.py"
    check.write_text(INSTALLED_CHECK)
    done = subprocess.run([sys.executable, str(check), *args], capture_output=True, text=True)
    assert (done.returncode == 0) is ok, done.stderr
    assert ok or done.stderr


def test_a_curl_in_a_wait_loop_is_a_probe_any_answer_will_do() -> None:
    text = script("""
```sh
python3 -c 'HTTPServer(("127.0.0.1", 4242), App).serve_forever()' &
APP=$!
until curl -s -o /dev/null http://127.0.0.1:4242/ \\
      && curl -sf http://127.0.0.1:8080/__admin/health; do   # a 501 from the app is an answer
    kill -0 $APP; sleep 0.2
done
curl http://127.0.0.1:4242/x
kill $APP
```
""")
    assert text.count("EXPECT_STATUS=any curl") == 2
    assert "EXPECT_STATUS=any curl http" not in text.split("done")[1]
    port = re.search(r'\("127\.0\.0\.1", (\d+)\)', text).group(1)
    assert port != "4242" and f"http://127.0.0.1:{port}/x" in text  # Python's (host, port) moves with the rest
