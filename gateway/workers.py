"""`serve --workers N` (N > 1): a supervisor binds the port once, migrates the database and loads the
scenario once, then forks N workers that serve the inherited socket, forwards SIGTERM/SIGINT to them, and
stops them all if one dies. Knows the CLI's serve coroutine and the app's ledger builder, not the dialects.

Why an inherited socket and not SO_REUSEPORT: the port is taken (or refused) once, before anything else,
so a taken port fails at start with one line and no database is made; no other program can bind the
same port beside us; and it works with port 0 (every worker serves the one port the kernel picked).
Why a dead worker stops the rest instead of being restarted: a sandbox that quietly lost a process (and
whatever it was doing) would make a test run flaky in ways nobody sees; the supervisor logs which worker
died and how, exits non-zero, and a process manager that wants restarts can restart the whole.
The supervisor also makes the directory and shared counter through which a scrape of /__admin/metrics
in any worker sums every worker's counts (worker_metrics.py), and removes the directory at the end."""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from . import worker_metrics
from .app import DIALECT_LIST, build_ledger, load_default_scenario
from .sandbox import changes
from .sandbox.shared_app import start_afresh
from .settings import Settings

log = logging.getLogger("gateway.workers")
PROG = "loyalty-gateway"
BACKLOG = 1024  # connections the kernel queues while every worker is busy (aiohttp's own default is 128)

# The serve coroutine a worker runs: the settings, the inherited socket, and what to call once it serves.
ServeOne = Callable[[Settings, socket.socket, Callable[[], None]], Awaitable[None]]


class WorkersError(Exception):
    """A failure to report as one line (the CLI prints it)."""


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker inherits."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise WorkersError(f"cannot listen on {host}:{port}: {reason}") from None


async def prepare(settings: Settings) -> None:
    """Migrate the database and load the scenario into an empty one: once here, not once per worker (a
    worker then finds the tenants there and loads nothing)."""
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        await start_afresh(ledger, settings, DIALECT_LIST)
        await load_default_scenario(ledger, settings)
    finally:
        await ledger.close()


def run(settings: Settings, serve_one: ServeOne, shown_database: str,
        choose_loop: Callable[[], Callable[[], asyncio.AbstractEventLoop] | None] | None = None) -> int:
    """Serve with settings.workers processes until SIGTERM/SIGINT; the exit status for the supervisor."""
    if settings.workers > changes.MOST_WORKERS:
        raise WorkersError(f"workers must be at most {changes.MOST_WORKERS}")
    sock = bind(settings.host, settings.port)
    port = int(sock.getsockname()[1])  # the kernel's pick, for port 0
    shared_metrics: str | None = None
    try:
        try:
            asyncio.run(prepare(settings))
            counter = changes.ChangeCounter()
            shared_metrics = tempfile.mkdtemp(prefix="loyalty-gateway-metrics-")
            sharing = worker_metrics.Sharing(Path(shared_metrics), settings.workers)
            ready_in, ready_out = os.pipe()
            # Signals wait until the workers exist and the handlers are in: a SIGTERM in between must neither
            # kill the supervisor alone (orphaning workers) nor be lost.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
            pids = [_fork(settings, serve_one, sock, counter, sharing, ready_in, ready_out, i, choose_loop)
                    for i in range(settings.workers)]
        finally:
            sock.close()  # the workers hold it now
        os.close(ready_out)
        return Supervisor(settings, pids, ready_in, f"http://{settings.host}:{port}", shown_database).run()
    finally:
        if shared_metrics is not None:
            shutil.rmtree(shared_metrics, ignore_errors=True)


def _fork(settings: Settings, serve_one: ServeOne, sock: socket.socket, counter: changes.ChangeCounter,
          sharing: worker_metrics.Sharing, ready_in: int, ready_out: int, index: int,
          choose_loop: Callable[[], Callable[[], asyncio.AbstractEventLoop] | None] | None = None) -> int:
    pid = os.fork()
    if pid:
        return pid
    # The worker: never returns into the supervisor's code.
    status = 1
    try:
        os.close(ready_in)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        changes.install(counter, index)
        worker_metrics.install(sharing, index)
        # Each worker picks (and logs) its event loop itself: uvloop in every worker too, when chosen.
        with asyncio.Runner(loop_factory=choose_loop() if choose_loop is not None else None) as loop:
            loop.run(serve_one(settings, sock, lambda: os.write(ready_out, b".")))
        status = 0
    except KeyboardInterrupt:
        status = 0
    except BaseException as exc:  # noqa: BLE001  (one line, as the CLI reports any failure)
        print(f"{PROG}: worker {os.getpid()}: error: {exc}", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


class Supervisor:
    def __init__(self, settings: Settings, pids: list[int], ready_in: int, address: str, shown_database: str) -> None:
        self.settings = settings
        self.address = address
        self.alive = set(pids)
        self.ready_in = ready_in
        self.shown_database = shown_database
        self.stopping = False
        self.failed = False

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
        if self._await_ready():
            print(f"{PROG}: listening on {self.address} (database {self.shown_database},"
                  f" {len(self.alive)} workers)", flush=True)
        deadline: float | None = None
        while self.alive:
            self._reap()
            if self.stopping and deadline is None:
                deadline = time.monotonic() + self.settings.shutdown_timeout_seconds + 5
            if deadline is not None and time.monotonic() > deadline:
                log.error("workers %s did not stop in time: killed", sorted(self.alive))
                self._signal_all(signal.SIGKILL)
                deadline = float("inf")
            time.sleep(0.05)
        os.close(self.ready_in)
        return 1 if self.failed else 0

    def _await_ready(self) -> bool:
        """Wait until every worker serves (or one fails first)."""
        ready = 0
        while ready < len(self.alive) and not self.stopping:
            try:
                readable, _, _ = select.select([self.ready_in], [], [], 0.05)
            except InterruptedError:
                continue
            if readable:
                got = os.read(self.ready_in, 64)
                ready += len(got)
            self._reap()
        return not self.stopping

    def _on_signal(self, signum: int, frame: object) -> None:
        if not self.stopping:
            print(f"{PROG}: shutting down", flush=True)
        self.stopping = True
        self._signal_all(signal.SIGTERM)

    def _signal_all(self, sig: int) -> None:
        for pid in self.alive:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _reap(self) -> None:
        for pid in list(self.alive):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if not done:
                continue
            self.alive.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping and code == 0:
                continue
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            log.error("worker %d stopped (%s)%s", pid, how, "" if self.stopping else ": stopping the others")
            print(f"{PROG}: worker {pid} stopped ({how})", file=sys.stderr, flush=True)
            self.failed = True
            if not self.stopping:
                self.stopping = True
                self._signal_all(signal.SIGTERM)
