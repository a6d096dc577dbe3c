"""The big database the "1M members" rows share: made once with `loyalty-gateway seed --generate N
--tenant bench --json` (timed, its progress lines passed through to stderr) and kept in --database-dir
with the tenant's credentials and how long it took, then copied for each run so a first-time figure
meets a database no earlier run has touched."""
from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TENANT = "bench"


@dataclass(frozen=True)
class BigDatabase:
    path: Path  # the kept original: never served
    members: int
    credentials: dict[str, Any]  # as POST /__admin/tenants answers: one section per dialect
    seed_seconds: float
    progress_lines: int  # lines the generator wrote on stderr while it ran
    built_at: str
    built_now: bool

    def copy_into(self, directory: Path, name: str | None = None) -> str:
        """A fresh copy to serve (named `name`, default the original's); returns its store URL."""
        target = directory / (name or self.path.name)
        for suffix in ("", "-wal"):
            if Path(f"{self.path}{suffix}").exists():
                shutil.copyfile(f"{self.path}{suffix}", f"{target}{suffix}")
        return f"sqlite:///{target}"


def generator_available() -> bool:
    done = subprocess.run([sys.executable, "-m", "gateway", "seed", "--help"], capture_output=True, text=True)
    return "--generate" in done.stdout


def _files(directory: Path, members: int, stem: str) -> tuple[Path, Path]:
    return directory / f"{stem}-{members}.db", directory / f"{stem}-{members}.json"


def kept(directory: Path, members: int, stem: str = "members") -> bool:
    """A database built by an earlier run (its credentials beside it) is used without the generator."""
    return all(p.exists() for p in _files(directory, members, stem))


def forget(directory: Path, members: int, stem: str = "members") -> None:
    path, meta = _files(directory, members, stem)
    for each in (meta, path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        each.unlink(missing_ok=True)


def ensure(directory: Path, members: int, stem: str = "members") -> BigDatabase:
    """The kept database `{stem}-{members}.db` of tenant "bench", generated first if there is none (other
    rows keep theirs under another stem; generated with the same seed, two stems hold the same people)."""
    path, meta = _files(directory, members, stem)
    if kept(directory, members, stem):
        stored = json.loads(meta.read_text())
        return BigDatabase(path, members, stored["credentials"], stored["seed_seconds"], stored["progress_lines"],
                           stored["built_at"], built_now=False)
    forget(directory, members, stem)
    argv = [sys.executable, "-m", "gateway", "seed", "--generate", str(members), "--tenant", TENANT, "--json",
            "--database", f"sqlite:///{path}"]
    print(f"building {path} ({members:,} members) once; later runs reuse it", file=sys.stderr, flush=True)
    started = time.perf_counter()
    seeding = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []
    relay = threading.Thread(target=_relay, args=(seeding.stderr, progress), daemon=True)
    relay.start()
    out = seeding.stdout.read()  # type: ignore[union-attr]
    seeding.wait()
    seconds = time.perf_counter() - started
    relay.join()
    if seeding.returncode != 0:
        raise RuntimeError(f"seed --generate exited {seeding.returncode}: {''.join(progress[-5:])}")
    credentials, _ = json.JSONDecoder().raw_decode(out[out.index("{"):])
    built_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    stored = {"credentials": credentials, "seed_seconds": seconds, "progress_lines": len(progress), "built_at": built_at}
    meta.write_text(json.dumps(stored, indent=2) + "\n")
    return BigDatabase(path, members, credentials, seconds, len(progress), built_at, built_now=True)


def _relay(stream: Any, lines: list[str]) -> None:
    """Progress goes on showing while the build runs (lines or carriage-return updates alike)."""
    for line in iter(stream.readline, ""):
        lines.append(line)
        sys.stderr.write(line)
        sys.stderr.flush()
