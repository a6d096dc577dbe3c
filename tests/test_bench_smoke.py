"""`python -m bench` cannot rot: a quick run of the read rows against real servers prints the table and
its JSON, the big-database rows build a small one (or say the generator is missing), a mistaken row
name is one clear error, and wrk's output is read right (units, errors)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import harness

ROOT = Path(__file__).resolve().parent.parent


def bench(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**__import__("os").environ, "XDG_CACHE_HOME": str(cwd)})


@pytest.mark.slow
@pytest.mark.skipif(harness.WRK is None, reason="wrk is not installed (apt-get install wrk); the bench drives it")
def test_a_quick_run_of_the_reads_prints_the_table(tmp_path: Path) -> None:
    done = bench("--quick", "--only", "reads", "--json", str(tmp_path / "bench.json"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| measure"))
    rows = [line for line in lines[header + 2:] if line.startswith("| read: ")]
    assert [row.split("|")[1].strip() for row in rows] == [
        "read: imonggo GET customer XML [sqlite]", "read: memberpoints balances [sqlite]", "read: pomelo balance [sqlite]"]
    assert all(" req/s = " in row and "x hello" in row and "ERRORS" not in row for row in rows), rows
    written = json.loads((tmp_path / "bench.json").read_text())
    assert [row["figures"]["errors"] for row in written["rows"]] == [0, 0, 0]
    assert all(row["figures"]["rate"] > 0 and row["figures"]["hello_rate"] > 0 for row in written["rows"])


@pytest.mark.slow
@pytest.mark.skipif(harness.WRK is None, reason="wrk is not installed (apt-get install wrk); the bench drives it")
def test_the_seeding_row_builds_a_small_database_or_says_the_generator_is_missing(tmp_path: Path) -> None:
    done = bench("--quick", "--members", "300", "--only", "seed", "--database-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("| 300 members: seeding"))
    assert "n/a (seed --generate not available)" in row or "(built in this run;" in row, row


@pytest.mark.slow
@pytest.mark.skipif(harness.WRK is None, reason="wrk is not installed (apt-get install wrk); the bench drives it")
def test_the_migrate_row_prints_throughput_against_the_limit_and_an_exact_soak(tmp_path: Path) -> None:
    done = bench("--quick", "--migrate-members", "100", "--only", "migrate", "--database-dir", str(tmp_path),
                 "--json", str(tmp_path / "bench.json"), cwd=tmp_path, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    throughput = next(line for line in lines if line.startswith("| migrate throughput"))
    soak = next(line for line in lines if line.startswith("| migrate soak: 100 members"))
    assert "x the limit: " in throughput and "members/s" in throughput and "FAILED" not in throughput, throughput
    assert "100/100 exact; second run moved 0 (balances changed: 0)" in soak, soak
    rows = json.loads((tmp_path / "bench.json").read_text())["rows"]
    assert rows[0]["figures"]["ratio"] > 0 and all(r["exit"] == 0 for r in rows[0]["figures"]["rounds"])
    assert rows[1]["met"] is True and rows[1]["figures"]["faults_fired"] > 0


@pytest.mark.skipif(harness.WRK is None, reason="wrk is not installed (apt-get install wrk); the bench drives it")
def test_a_row_that_fails_is_shown_failed_beside_the_others_and_the_exit_says_so(tmp_path: Path) -> None:
    (tmp_path / "members-300.db").write_bytes(b"")
    (tmp_path / "members-300.json").write_text("not the credentials")  # a kept database gone bad
    done = bench("--members", "300", "--only", "seed", "--database-dir", str(tmp_path), cwd=tmp_path, timeout=60)
    assert done.returncode == 1
    row = next(line for line in done.stdout.splitlines() if line.startswith("| seed "))
    assert "FAILED: JSONDecodeError" in row and row.rstrip().endswith("| NO   |"), row


def test_an_unknown_row_is_one_clear_error(tmp_path: Path) -> None:
    done = bench("--only", "reads,speed", cwd=tmp_path, timeout=30)
    assert done.returncode == 2
    assert "unknown row(s) speed" in done.stderr and "Traceback" not in done.stderr


WRK_OUTPUT = """Running 1s test @ http://127.0.0.1:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  800.00us  40.00ms   90.00%
    Req/Sec    15.20k     1.10k   16.00k    80.00%
  Latency Distribution
     50%  850.00us
     75%    2.00ms
     90%    3.00ms
     99%    1.20s
  15234 requests in 1.00s, 2.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:  15211.42
Transfer/sec:      2.10MB
"""


def test_wrk_output_is_read_with_its_units_and_its_errors() -> None:
    found = harness.parse_wrk(WRK_OUTPUT)
    assert (found.rate, found.p50_ms, found.p99_ms, found.requests) == (15211.42, 0.85, 1200.0, 15234)
    assert found.errors == 12  # a run with refused or failed requests must never pass as a figure


def test_unreadable_wrk_output_is_an_error_not_a_zero() -> None:
    with pytest.raises(RuntimeError, match="unreadable wrk output"):
        harness.parse_wrk(WRK_OUTPUT.replace("Requests/sec:  15211.42\n", ""))
