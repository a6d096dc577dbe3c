"""`loyalty-gateway serve|seed|check|migrate|drift|trigger|webhooks listen`: flags come from the settings table;
every failure is one line on stderr naming the cause and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import errno
import fcntl
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from aiohttp import web

from . import __version__
from .admin.generated import generate_tenant
from .app import DIALECT_LIST, AccessLog, access_logger, build_ledger, create_app
from .http_server import GuardedRunner, ReadTimeouts
from .receiver import listen
from . import drift_cli, log_format, migrate_cli, trigger_cli, verify, workers
from .ledger import LedgerError, StoreOpenError, UnknownTenant
from .progress import ProgressLine
from .redact import shown_url
from .scenario import ScenarioError, load_scenario, resolve_scenario
from .settings import SETTINGS, Settings, SettingsError

PROG = "loyalty-gateway"
log = logging.getLogger("gateway.cli")


class CliError(Exception):
    """A failure to report as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see {PROG} --help)\n")


def _dialect_names() -> str:
    names = [d.name for d in DIALECT_LIST]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def version() -> str:
    """The version `--version` prints: gateway.__version__, which the package's metadata is built from."""
    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=f"A loyalty-points sandbox speaking {_dialect_names()}.")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="run the server")
    serve.add_argument("--config", help="TOML file of settings (or LOYALTY_GATEWAY_CONFIG)")
    for setting in SETTINGS:
        about = f"{setting.help} Default: {setting.default}. Env: {setting.env}."
        if setting.is_boolean:  # `--access-log`, `--no-access-log`, and `--access-log false` as before
            serve.add_argument(setting.flag, dest=setting.name, default=None, nargs="?", const="true",
                               metavar="true|false", help=about)
            serve.add_argument("--no-" + setting.flag[2:], dest=setting.name, action="store_const", const="false",
                               help=f"the same as {setting.flag} false")
        else:
            serve.add_argument(setting.flag, dest=setting.name, default=None, metavar=setting.name.upper(), help=about)
    seed = commands.add_parser("seed", help="load a scenario into a database, or generate a tenant of N members")
    source = seed.add_mutually_exclusive_group(required=True)
    source.add_argument("--scenario", help="scenario file (JSON or TOML), or `demo`")
    source.add_argument("--generate", type=_count, metavar="N",
                        help="make a tenant of N synthetic members (identities in every dialect, balances, history)")
    seed.add_argument("--tenant", default=None, help="the generated tenant's name (default generated-N)")
    seed.add_argument("--seed", type=int, default=1, help="the generator's seed: the same seed, the same members (default 1)")
    seed.add_argument("--json", action="store_true", help="print the generated tenant's credentials as one JSON document")
    seed.add_argument("--database", default=None, help="store URL (default: the database setting)")
    check = commands.add_parser("check", help="run audit() over a database and report every violation")
    check.add_argument("--database", default=None, help="store URL (default: the database setting)")
    hooks = commands.add_parser("webhooks", help="webhook tools")
    hook_commands = hooks.add_subparsers(dest="webhooks_command", required=True, parser_class=_Parser)
    listen = hook_commands.add_parser(
        "listen", help="receive webhooks, verify their signatures, print them and (--forward-to) pass them on",
        description="Receive the sandbox's webhooks, verify and print each, and with --forward-to pass it on to your"
                    " app with its headers: the sandbox gets your app's status back (502 when the app cannot be"
                    " reached), so it retries what your app failed.")
    listen.add_argument("--port", type=_port, required=True, help="port to listen on (0 picks a free one)")
    listen.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    listen.add_argument("--secret", required=True, type=_secret, help="the tenant's webhook api secret (base64)")
    listen.add_argument("--forward-to", type=_http_url, default=None, metavar="URL",
                        help="your app's webhook URL: each webhook is POSTed there with its headers")
    listen.add_argument("--events", type=_events, default=None, metavar="A,B",
                        help="only these events (others are answered 200 and shown as skipped)")
    trigger_cli.add_command(commands, DIALECT_LIST)
    verify.add_commands(commands, [d.name for d in DIALECT_LIST])
    migrate_cli.add_command(commands)
    drift_cli.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            flags = {s.name: getattr(args, s.name) for s in SETTINGS}
            settings = Settings.load(flags=flags, environ=os.environ, config_file=args.config)
            log_format.configure(settings.log_level, settings.log_format)
            fresh = FreshDatabase(settings.database)
            try:
                if settings.workers > 1:  # a supervisor and its workers (gateway/workers.py); 1 is today's process
                    status = workers.run(settings, serve, shown_url(settings.database), lambda: _event_loop(settings),
                                         served=fresh.keep)
                    if status != 0:
                        fresh.failed()  # a no-op once a worker served
                    sys.exit(status)
                with asyncio.Runner(loop_factory=_event_loop(settings)) as loop:
                    loop.run(serve(settings, listening=fresh.keep))
            except (Exception, KeyboardInterrupt):
                fresh.failed()
                raise
        elif args.command == "seed" and args.generate is not None:
            settings = Settings.load(flags={"database": args.database}, environ=os.environ)
            asyncio.run(seed_generated(settings, args.generate, args.tenant or f"generated-{args.generate}",
                                       args.seed, as_json=args.json))
        elif args.command == "seed":
            if args.tenant is not None or args.json:
                raise CliError("--tenant and --json go with --generate, not --scenario")
            settings = Settings.load(flags={"database": args.database}, environ=os.environ)
            asyncio.run(seed(settings, args.scenario))
        elif args.command == "migrate":
            sys.exit(migrate_cli.main(args, DIALECT_LIST))
        elif args.command == "drift":
            sys.exit(drift_cli.main(args))
        elif args.command in ("verify", "diff"):
            sys.exit(verify.main(args, DIALECT_LIST))
        elif args.command == "trigger":
            sys.exit(trigger_cli.main(args, DIALECT_LIST))
        elif args.command == "webhooks":
            asyncio.run(webhooks_listen(args.host, args.port, args.secret, args.forward_to, args.events))
        else:
            settings = Settings.load(flags={"database": args.database}, environ=os.environ)
            asyncio.run(check(settings))
    except (CliError, SettingsError, ScenarioError, StoreOpenError, workers.WorkersError) as exc:
        _fail(str(exc))
    except LedgerError as exc:
        _fail(exc.message)
    except KeyboardInterrupt:
        sys.exit(130)


def _fail(message: str) -> NoReturn:
    """One line and exit 1. Once `serve` has set up logging, a record of the "gateway" logger at error (so
    --log-format and --log-level apply; the text form is this same line); before that (a bad flag or
    setting, and every other command) the plain line."""
    if log_format.configured():
        logging.getLogger("gateway").error(message, extra=log_format.CLI_LINE)
    else:
        print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class FreshDatabase:
    """The SQLite files a start makes: removed again when the start fails before it serves (a port in use,
    a missing scenario), so a failed start leaves nothing behind. A file that existed before is never
    touched, nor is anything once the server has served (or a worker of --workers N has: what they wrote
    is kept).

    Two starts on one new path at once must not remove each other's file: this start creates the file
    itself (O_EXCL: it knows it made it, and records its identity, st_dev and st_ino) and every start holds
    a shared flock on the file it serves from, for as long as it runs (its workers inherit it). A failed
    start removes the file only if it made it, the path is still that file, and no other start holds it
    (its lock becomes exclusive); a start that finds the path was removed meanwhile opens it afresh."""

    SIDECARS = ("-wal", "-shm", "-journal")

    def __init__(self, url: str) -> None:
        self.path: Path | None = None
        self.fd: int | None = None
        self.identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file this start made
        self.sidecars: list[Path] = []
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            self.path = Path(url[len("sqlite:///"):])  # sqlite:///rel.db -> rel.db, sqlite:////abs.db -> /abs.db
            self.sidecars = [p for p in (Path(f"{self.path}{s}") for s in self.SIDECARS) if not p.exists()]
            self._claim(self.path)

    def _claim(self, path: Path) -> None:
        """Create the file (or open the one there) and hold a shared lock on it; its identity if made here."""
        for _ in range(100):  # another start removing the path meanwhile: open what is there now
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o644)
                made = True
            except FileExistsError:
                try:
                    fd = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                made = False
            except OSError:  # no such folder, no permission: the store says so in its own words
                return
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits while a failed start is removing this very file
            mine = os.fstat(fd)
            try:
                there = os.stat(path)
            except FileNotFoundError:
                there = None
            if there is not None and (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
                self.fd = fd
                self.identity = (mine.st_dev, mine.st_ino) if made else None
                return
            os.close(fd)  # removed (or replaced) between the open and the lock: try again

    def keep(self) -> None:
        """The server serves: whatever happens next, its files stay (the lock is held until it exits)."""
        self.identity = None

    def failed(self) -> None:
        if self.path is None or self.fd is None or self.identity is None:
            return
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another start serves from it now: it is theirs as much as ours
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return
        if (there.st_dev, there.st_ino) != self.identity:
            return  # replaced by someone else's file: not ours to remove
        for sidecar in self.sidecars:
            sidecar.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        self.identity = None


def _event_loop(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed (the `speed` extra) and not turned off, else asyncio's own (None). Logged:
    which loop served changes every figure measured against this process."""
    if not settings.uvloop:
        log.info("event loop: asyncio (uvloop turned off)")
        return None
    try:
        import uvloop
    except ImportError:
        log.info("event loop: asyncio (uvloop is not installed: pip install 'loyalty-gateway[speed]')")
        return None
    log.info("event loop: uvloop %s", uvloop.__version__)
    return uvloop.new_event_loop


async def serve(settings: Settings, sock: socket.socket | None = None, ready: Callable[[], None] | None = None,
                listening: Callable[[], None] | None = None) -> None:
    """Serve until SIGINT/SIGTERM; a worker of `--workers N` gets the supervisor's socket, and says it
    serves through `ready` instead of printing (the supervisor prints once for all). `listening` is told
    once the port is bound and the store open."""
    app = create_app(settings)
    runner = GuardedRunner(
        app,
        timeouts=ReadTimeouts(settings.header_timeout_seconds, settings.body_timeout_seconds),
        handle_signals=False,
        shutdown_timeout=float(settings.shutdown_timeout_seconds),
        access_log=access_logger() if settings.access_log else None,  # None: aiohttp skips logging entirely
        access_log_class=AccessLog.for_dialects(DIALECT_LIST),  # masks the Token API's password; cheap per line
    )
    # Handlers go in before readiness is announced: a SIGTERM sent the moment "listening" appears must
    # still shut down gracefully rather than kill the process.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock) if sock is not None else web.TCPSite(runner, settings.host, settings.port)
        try:
            await site.start()
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise CliError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
        if listening is not None:
            listening()
        if ready is not None:
            ready()
            await stop.wait()
            return
        port = _bound_port(runner, settings.port)
        print(f"{PROG}: listening on http://{settings.host}:{port} (database {shown_url(settings.database)})", flush=True)
        await stop.wait()
        print(f"{PROG}: shutting down", flush=True)
    finally:
        await runner.cleanup()  # finishes in-flight requests, then closes the store



def _bound_port(runner: web.AppRunner, fallback: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return fallback


async def seed(settings: Settings, scenario: str) -> None:
    path = resolve_scenario(scenario)
    if path is None:
        raise CliError("seed needs a scenario file")
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        names = await load_scenario(ledger, path)
    finally:
        await ledger.close()
    print(f"{PROG}: seeded {', '.join(names)} from {path} into {shown_url(settings.database)}")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"N must be a positive whole number, not {text!r}")
    return value


async def seed_generated(settings: Settings, count: int, name: str, seed_value: int, *, as_json: bool) -> None:
    """A tenant of `count` synthetic members; progress on stderr, its credentials on stdout."""
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        try:
            await ledger.tenant(name)
        except UnknownTenant:
            pass
        else:
            raise CliError(f"a tenant named {name!r} exists already in {shown_url(settings.database)} (choose another with --tenant)")
        progress = ProgressLine(sys.stderr, count)
        made = await generate_tenant(ledger, count=count, name=name, seed=seed_value, dialects=DIALECT_LIST,
                                     progress=progress.update)
        progress.done()
    finally:
        await ledger.close()
    if as_json:
        print(json.dumps(made, indent=2))
        return
    print(f"{PROG}: generated tenant {made['name']} with {made['members']} members into {shown_url(settings.database)}"
          f" in {progress.elapsed():.1f} s")
    for line in _readable(made):
        print(line)


def _readable(made: dict[str, object], indent: str = "") -> list[str]:
    """The credentials document as indented `key: value` lines, whatever sections it holds."""
    lines = []
    for key, value in made.items():
        if key in ("name", "members") and not indent:
            continue
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines.extend(_readable(value, indent + "  "))
        elif isinstance(value, list):
            lines.append(f"{indent}{key}:")
            for item in value:
                shown = ", ".join(f"{k} {v}" for k, v in item.items()) if isinstance(item, dict) else str(item)
                lines.append(f"{indent}  - {shown}")
        else:
            lines.append(f"{indent}{key}: {value}")
    return lines


async def check(settings: Settings) -> None:
    if settings.database.startswith("sqlite:///") and not Path(settings.database[len("sqlite:///"):]).exists():
        raise CliError(f"database {settings.database} does not exist")
    ledger = build_ledger(settings)
    await ledger.start()
    try:
        report = await ledger.audit()
    finally:
        await ledger.close()
    counts = ", ".join(f"{k} {v}" for k, v in report.checked.items())
    if report.ok:
        print(f"{PROG}: audit clean ({counts})")
        return
    for violation in report.violations:
        print(f"violation: {violation}")
    raise CliError(f"audit found {len(report.violations)} violation(s)")


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, not {text!r}")
    return int(text)


def _secret(text: str) -> str:
    """The api secret, refused at start unless it is base64 (the key the signatures are made with)."""
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise argparse.ArgumentTypeError(f"the secret must be base64, as the tenant's webhook api secret is (not {text!r})")
    return text


def _http_url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"expected an http(s) URL such as http://127.0.0.1:4242/webhooks, not {text!r}")
    return text


def _events(text: str) -> frozenset[str]:
    names = frozenset(name.strip() for name in text.split(",") if name.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected one or more event names, comma-separated")
    return names


async def webhooks_listen(host: str, port: int, secret: str, forward_to: str | None = None,
                          events: frozenset[str] | None = None) -> None:
    try:
        await listen(host=host, port=port, secret=secret, forward_to=forward_to, events=events)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise CliError(f"cannot listen on {host}:{port}: {reason}") from None
