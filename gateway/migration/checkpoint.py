"""The migration's memory: an append-only file of JSON lines, each flushed and fsynced before the step it
records goes on, so a run killed at any moment (SIGKILL included) is resumed by the same command. Its first
line names the run (its id, mode, source and target); then one `plan` line per member before its movement is
sent (the amount computed once, and when it was sent: `at`), a `sent` line when it is sent again later (a
new `at`), and a `done` or `failed` line once its outcome is known. A last line cut
short by a kill is ignored, and cut off the file (fsynced) before anything new is appended to it."""
from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from secrets import token_hex
from typing import IO, Any


class CheckpointError(Exception):
    """The checkpoint cannot be used for this command (another mode or target, or unreadable)."""


@dataclass(frozen=True)
class Plan:
    """One member's movement, as recorded before it is sent."""

    source_id: str
    target_id: str
    source_balance: Decimal
    target_opening: Decimal
    points: Decimal  # signed: > 0 credits the target, < 0 debits it, 0 moves nothing
    key: str
    at: float | None = None  # when it was last sent (seconds since the epoch); None in older files

    def line(self) -> dict[str, Any]:
        return {"event": "plan", "source_id": self.source_id, "target_id": self.target_id,
                "source_balance": str(self.source_balance), "target_opening": str(self.target_opening),
                "points": str(self.points), "key": self.key, "at": self.at}

    @classmethod
    def read(cls, line: Mapping[str, Any]) -> Plan:
        at = line.get("at")
        return cls(str(line["source_id"]), str(line["target_id"]), Decimal(line["source_balance"]),
                   Decimal(line["target_opening"]), Decimal(line["points"]), str(line["key"]),
                   None if at is None else float(at))


class Checkpoint:
    """The file's events read back (run, plans, done, failed) and the handle new ones are appended to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.run: dict[str, Any] | None = None
        self.plans: dict[str, Plan] = {}
        self.done: dict[str, dict[str, Any]] = {}
        self.failed: dict[str, str] = {}
        self._handle: IO[str] | None = None
        self._complete: int | None = None  # bytes of whole lines, when a torn last line follows them
        self._lock: int | None = None  # the descriptor holding the file's flock while this process uses it

    @classmethod
    def open(cls, path: str | Path, *, shared: bool) -> Checkpoint:
        """The file locked for this process, then loaded: shared to read it (--dry-run, --verify-only; a
        file not there yet is not created), exclusive to run on it, held until close(). Two runs on one
        file, or a resume while the killed run's process still lives, would both send: the second is
        refused with CheckpointError."""
        where = Path(path)
        try:
            if shared:
                descriptor = os.open(where, os.O_RDONLY)
            else:
                _create_durably(where)
                descriptor = os.open(where, os.O_RDONLY)
        except FileNotFoundError:
            return cls.load(where)
        except OSError as exc:
            raise CheckpointError(f"{where}: cannot be opened ({exc.__class__.__name__})") from None
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise CheckpointError(f"{where} is in use by another migrate (a run still going, or a killed "
                                  "one whose process lives on): wait for it or stop it") from None
        try:
            checkpoint = cls.load(where)
        except CheckpointError:
            os.close(descriptor)
            raise
        checkpoint._lock = descriptor
        return checkpoint

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        checkpoint = cls(Path(path))
        try:
            data = checkpoint.path.read_bytes()
        except FileNotFoundError:
            return checkpoint
        except OSError as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
        whole = data.rfind(b"\n") + 1  # a fragment after the last newline was being written when killed
        if whole < len(data):
            checkpoint._complete = whole
        try:
            text = data[:whole].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CheckpointError(f"{path}: cannot be read ({exc.__class__.__name__})") from None
        for number, raw in enumerate(text.split("\n"), start=1):
            if not raw.strip():
                continue
            try:
                checkpoint._take(json.loads(raw))
            except (ValueError, KeyError, TypeError, ArithmeticError):
                raise CheckpointError(f"{path}: line {number} is not a checkpoint event") from None
        return checkpoint

    def _take(self, line: Mapping[str, Any]) -> None:
        event = line["event"]
        if event == "run":
            self.run = dict(line)
        elif event == "plan":
            plan = Plan.read(line)
            self.plans[plan.source_id] = plan
        elif event == "sent":
            source_id = str(line["source_id"])
            self.plans[source_id] = replace(self.plans[source_id], at=float(line["at"]))
        elif event == "done":
            self.done[str(line["source_id"])] = dict(line)
            self.failed.pop(str(line["source_id"]), None)
        elif event == "failed":
            self.failed[str(line["source_id"])] = str(line["error"])
        else:
            raise ValueError(event)

    def check(self, *, mode: str, source: str, target: str, identity: str | None = None) -> str | None:
        """The recorded run's id (None before any run); CheckpointError when the file holds another
        migration (a different mode, source or target, or, where recorded, other credentials' identity:
        another tenant at the same URL)."""
        if self.run is None:
            return None
        wanted_of = {"mode": mode, "source": source, "target": target}
        if identity is not None and "identity" in self.run:  # files from before identities were recorded: not asked
            wanted_of["identity"] = identity
        for name, wanted in wanted_of.items():
            if self.run.get(name) != wanted:
                raise CheckpointError(f"{self.path} holds run {self.run.get('run')} with {name} "
                                      f"{self.run.get(name)!r}, not {wanted!r}: give another --checkpoint")
        return str(self.run["run"])

    def check_members(self, pairs: Iterable[Any]) -> None:
        """CheckpointError when a member's recorded movement went to another target than the list now says."""
        for pair in pairs:
            plan = self.plans.get(pair.source_id)
            if plan is not None and plan.target_id != pair.target_id:
                raise CheckpointError(f"{self.path}: source_id {pair.source_id} was planned onto {plan.target_id}, "
                                      f"not {pair.target_id}: fix the member list or give another --checkpoint")

    def begin(self, *, mode: str, source: str, target: str, run: str | None = None,
              identity: str | None = None) -> str:
        """The run's id: the recorded one when the file holds this same migration, else `run` (a new random
        one if None), recorded with the credentials' `identity` (no secret in it)."""
        recorded = self.check(mode=mode, source=source, target=target, identity=identity)
        if recorded is not None:
            return recorded
        run = run or token_hex(6)
        line = {"event": "run", "run": run, "mode": mode, "source": source, "target": target,
                "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        self.append(line if identity is None else {**line, "identity": identity})
        return run

    def append(self, line: Mapping[str, Any]) -> None:
        """Writes one event and makes it durable before returning."""
        if self._handle is None:
            _create_durably(self.path)
            if self._complete is not None:  # the torn last line goes before anything is glued onto it
                with self.path.open("r+b") as handle:
                    handle.truncate(self._complete)
                    os.fsync(handle.fileno())
                self._complete = None
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(line, separators=(",", ":")) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._take(line)

    def planned(self, plan: Plan) -> None:
        self.append(plan.line())

    def sent(self, source_id: str, at: float) -> None:
        """Its movement is sent again (a resend after settling found nothing): its write may land until
        `at` plus the request's timeout."""
        self.append({"event": "sent", "source_id": source_id, "at": at})

    def finished(self, source_id: str, *, ref: str | None, balance: Decimal | None, replayed: bool = False) -> None:
        """Its movement is carried out; `replayed`: the target answered with an earlier run's application of
        it, already in the opening this plan read."""
        line = {"event": "done", "source_id": source_id, "ref": ref, "balance": None if balance is None else str(balance)}
        self.append({**line, "replayed": True} if replayed else line)

    def refused(self, source_id: str, error: str) -> None:
        self.append({"event": "failed", "source_id": source_id, "error": error})

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._lock is not None:
            os.close(self._lock)  # releases the flock
            self._lock = None


def _create_durably(path: Path) -> None:
    """Makes `path` (an empty file) and its missing directories, if not there, and fsyncs the directory of
    each new entry: a crash right after must not lose the file whose lines were fsynced."""
    if path.exists():
        return
    missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    for directory in reversed(missing):
        directory.mkdir(exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o644))
    for directory in (path.parent, *(d.parent for d in missing)):  # where each new entry is
        _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
