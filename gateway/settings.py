"""Every setting in one table (name, default, help), read from defaults, an optional TOML file, then
LOYALTY_GATEWAY_* environment variables, then command-line flags: later sources win. Names no vendor: a
dialect's own settings are declared in its descriptor and registered here by app.py."""
from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_PREFIX = "LOYALTY_GATEWAY_"


class SettingsError(Exception):
    """A setting could not be read; the message names the setting and where it came from."""


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("expected a whole number of at least 0")
    return value


def _workers(text: str) -> int:
    """A number of worker processes; 0 or `auto` is WORKERS_AUTO, what served best on a 2-core machine."""
    if text.strip().lower() in ("auto", "0"):
        return WORKERS_AUTO
    value = int(text)
    if value < 1:
        raise ValueError("expected a whole number of at least 1, or 0 or auto for the default")
    return value


# What `auto` means: see bench/workers_bench.py and the workers branch's report for the measurement.
WORKERS_AUTO = 1


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("expected a port number from 0 to 65535")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 86400:
        raise ValueError("expected a number of seconds from 0 to 86400")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 86400:
        raise ValueError("expected a number of seconds above 0, at most 86400")
    return value


def _choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text.lower()

    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def is_boolean(self) -> bool:
        """A true/false setting: its flag also comes as `--no-NAME`."""
        return self.parse is _boolean


# The gateway's own settings; each dialect's (e.g. its rate-limit emulation) are added by register(), which
# app.py calls at import with the settings every dialect's descriptor declares. A list, changed in place, so
# every module that imported it sees the whole table.
SETTINGS: list[Setting] = [
    Setting("host", "127.0.0.1", "Address the server listens on."),
    Setting("port", 8080, "Port the server listens on (0 picks a free one).", _port),
    Setting(
        "database",
        "sqlite:///loyalty-gateway.db",
        "Store URL: sqlite:///relative.db or sqlite:////absolute.db (the file is created if missing),"
        " or postgresql://user@host:port/name (an existing database; needs loyalty-gateway[postgres]).",
    ),
    Setting(
        "scenario",
        "demo",
        "Scenario loaded when the database has no tenant yet: `demo` (shipped), a JSON/TOML path, or `none`.",
    ),
    Setting(
        "sqlite_synchronous",
        "full",
        "SQLite synchronous mode: `full` keeps every acknowledged write through power loss; `normal` is faster.",
        _choice("full", "normal", "extra"),
    ),
    Setting(
        "sqlite_readers", 4,
        "SQLite read connections, each on a thread of its own off the event loop: a slow read (a deep page)"
        " holds up one of them and nothing else.",
        _positive_int,
    ),
    Setting("sqlite_busy_timeout_ms", 5000, "How long a write waits for another process's lock.", _positive_int),
    Setting("group_commit_max", 64, "Most writes that share one commit (one fsync).", _positive_int),
    Setting(
        "postgres_pool_size", 10, "Read connections each gateway process keeps to PostgreSQL (writes use one more).",
        _positive_int,
    ),
    Setting(
        "workers", 1,
        "Processes serving the port (a supervisor binds it once and runs them); 0 or auto: the measured best."
        " With more than 1, the sandbox's faults, rate limits, clock and journal live in the database.",
        _workers,
    ),
    Setting(
        "shared_state", False,
        "Keep the sandbox's faults, rate limits, clock and journal in the database, so every instance on one"
        " (PostgreSQL) database sees them; always on with workers above 1.",
        _boolean,
    ),
    Setting("max_body_bytes", 1_048_576, "Largest request body accepted; larger ones get 413.", _positive_int),
    Setting(
        "header_timeout_seconds",
        10.0,
        "Read timeout for a request's header: how long a client may take to send it (and how long a kept-alive"
        " connection may wait idle for the next one); then the connection is closed, with a 408 if part of a"
        " header came (a slow-loris guard). A handler still answering never counts against it. 0 turns it off.",
        _seconds,
    ),
    Setting(
        "body_timeout_seconds",
        30.0,
        "Read timeout for a request's body: how long a client may take to send all of it once its header is in;"
        " then the request is answered 408 in the dialect's error shape, nothing is applied, and the connection"
        " is closed. 0 turns it off.",
        _seconds,
    ),
    Setting(
        "shutdown_timeout_seconds", 10, "On SIGINT/SIGTERM, how long in-flight requests may finish.", _positive_int
    ),
    Setting(
        "log_level", "info",
        "Least severe log line written (to stderr). `error`: unexpected failures (a 500) and a dead worker;"
        " `warning` adds paused webhook deliveries and shadow writes and lost leases; `info` (the default) adds"
        " start-up (event loop, scenario loaded), the access log, connections closed by the read timeouts, refused"
        " malformed requests and webhooks not sent for want of a URL; `debug` adds aiohttp's and asyncio's own.",
        _choice("debug", "info", "warning", "error"),
    ),
    Setting(
        "log_format", "text",
        "`text`: one readable line per log record; `json`: one JSON object per line (time, level, logger, message;"
        " an access-log line adds method, path, status, bytes, duration_ms, remote, and dialect and tenant where"
        " known), secrets masked as in the text log.",
        _choice("text", "json"),
    ),
    # On by default: in CI the sandbox's output is what survives a failed job (the journal lives in memory and
    # goes with the process), so one cheap line per request is what someone reading the job needs.
    Setting("access_log", True, "Log one line per request (address, time, request line with secrets masked,"
            " status, bytes, duration); off costs nothing.", _boolean),
    Setting("uvloop", True, "Run on uvloop's event loop when it is installed (the `speed` extra); false keeps asyncio's own.",
            _boolean),
    Setting(
        "webhook_retry_base_seconds",
        1.0,
        "Webhook retry backoff: a failed attempt n is retried after base x 2^(n-1) seconds.",
        _seconds,
    ),
    Setting("webhook_max_attempts", 8, "Attempts per webhook before it is marked failed.", _positive_int),
    Setting(
        "webhook_timeout_seconds",
        10.0,
        "How long one webhook request may take. A delivery is leased for three times this: if its process dies"
        " mid-send, another instance sends it again once the lease runs out.",
        _seconds,
    ),
    Setting(
        "admin_token",
        "",
        "Token /__admin requires (`Authorization: Bearer TOKEN`); the server refuses to listen beyond loopback without one.",
    ),
    Setting("journal", True, "Record every dialect request in the request journal (GET /__admin/requests).", _boolean),
    Setting("journal_max_entries", 1000, "Most requests the journal keeps; the oldest go first.", _positive_int),
    Setting("journal_max_bytes", 8_388_608, "Most bytes of recorded requests the journal keeps; the oldest go first.", _positive_int),
    Setting("journal_body_bytes", 4096, "Largest part of each request and response body the journal copies.", _non_negative_int),
    Setting(
        "upstream_timeout_seconds",
        10.0,
        "How long one request to a tenant's upstream vendor may take; then it counts as a timeout (a write's"
        " outcome is unclear and is settled before it is sent again).",
        _positive_seconds,
    ),
    Setting(
        "upstream_read_retries", 2,
        "How many more times a read (a balance, a page of members) is sent to an upstream that failed or timed out.",
        _non_negative_int,
    ),
    Setting("upstream_pool_size", 100, "Most connections open to all upstreams at once (one pool per process).",
            _positive_int),
    Setting(
        "upstream_record_dir",
        "recorded",
        "Where upstreams declared with \"record\": true write each exchange as a contract case:"
        " DIR/<tenant>/<dialect>/cases.json (relative to the working directory).",
    ),
    Setting(
        "shadow_retry_base_seconds",
        1.0,
        "Shadow write retry backoff: a write the shadow upstream could not be reached for is tried again after"
        " base x 2^(n-1) seconds (its refusals are recorded, never retried).",
        _seconds,
    ),
    Setting("shadow_max_attempts", 10, "Attempts per shadow write before it is recorded as failed.", _positive_int),
]

BY_NAME = {s.name: s for s in SETTINGS}
# The parsers a dialect's settings may use.
whole_number, positive_whole_number = _non_negative_int, _positive_int


def register(*settings: Setting) -> None:
    """Add settings declared elsewhere (a dialect's) to the table; a name is added once."""
    for setting in settings:
        if setting.name not in BY_NAME:
            SETTINGS.append(setting)
            BY_NAME[setting.name] = setting


class Settings:
    """Resolved settings; attribute access by setting name."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(BY_NAME)
        if unknown:
            raise SettingsError(f"unknown setting {sorted(unknown)[0]!r}")
        return Settings({**self._values, **changes})

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @classmethod
    def defaults(cls) -> Settings:
        return cls({s.name: s.default for s in SETTINGS})

    @classmethod
    def load(
        cls,
        *,
        flags: Mapping[str, str | None] | None = None,
        environ: Mapping[str, str] | None = None,
        config_file: str | None = None,
    ) -> Settings:
        values = {s.name: s.default for s in SETTINGS}
        env = dict(environ or {})
        path = config_file or env.get(ENV_PREFIX + "CONFIG")
        if path:
            for name, raw in from_toml(path).items():
                values[name] = _convert(BY_NAME[name], raw, f"config file {path}")
        for setting in SETTINGS:
            if setting.env in env:
                values[setting.name] = _convert(setting, env[setting.env], f"environment variable {setting.env}")
        for name, raw in (flags or {}).items():
            if raw is not None:
                values[name] = _convert(BY_NAME[name], raw, f"flag {BY_NAME[name].flag}")
        return cls(values)


def _convert(setting: Setting, raw: Any, source: str) -> Any:
    if isinstance(raw, bool) and setting.parse is _boolean:
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool) and setting.parse in (_positive_int, _non_negative_int, _port, _workers):
        raw = str(raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and setting.parse in (_seconds, _positive_seconds):
        raw = str(raw)
    if not isinstance(raw, str):
        raise SettingsError(f"{source}: {setting.name} must be text, not {type(raw).__name__}")
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{source}: invalid {setting.name} {raw!r}: {exc}") from None


def from_toml(path: str) -> dict[str, Any]:
    """Settings from a TOML file: keys at the top level or under [gateway]."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"config file {path}: cannot read it ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path}: not valid TOML ({exc})") from None
    section = data.get("gateway", data)
    if not isinstance(section, dict):
        raise SettingsError(f"config file {path}: [gateway] must be a table")
    unknown = sorted(k for k in section if k not in BY_NAME and k != "gateway")
    if unknown:
        raise SettingsError(f"config file {path}: unknown setting {unknown[0]!r}")
    return {k: v for k, v in section.items() if k in BY_NAME}
