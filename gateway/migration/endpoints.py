"""One side of a migration: a TOML file with the keys of a tenant's upstream declaration (dialect, base_url,
[credentials] by the dialect's own names), checked by the declaration's own rules and connected to its port
over a shared ClientSession; a shadow is refused (a side is one upstream). Errors name the file and the
field, never a secret's value."""
from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ..dialects.upstream_transport import Transport
from ..ledger import Upstream
from ..upstream.declaration import DIALECTS, MASK, SHADOW, DeclarationError, check, masked, secrets_of


class MigrationError(Exception):
    """What stops a migration before or while it runs, said in one line."""


@dataclass(frozen=True)
class Endpoint:
    path: Path
    declaration: Mapping[str, Any]

    @property
    def dialect(self) -> str:
        return str(self.declaration["dialect"])

    @property
    def base_url(self) -> str:
        return str(self.declaration["base_url"])

    def label(self) -> str:
        """How messages and the checkpoint name it: no credentials."""
        return f"{self.dialect} at {self.base_url}"

    def identity(self) -> str:
        """Whose credentials these are, without a secret: the non-secret ones (an account's or a client's
        id), or where the dialect has none a short hash of the secret."""
        shown = masked(self.declaration)["credentials"]
        plain = [f"{name}={value}" for name, value in sorted(shown.items()) if value != MASK]
        if plain:
            return ",".join(plain)
        return "sha256:" + hashlib.sha256("\x00".join(secrets_of(self.declaration)).encode()).hexdigest()[:12]

    def connect(self, session: aiohttp.ClientSession, *, timeout: float) -> Upstream:
        secrets = secrets_of(self.declaration)
        transport = Transport(session, self.base_url, timeout=timeout, secrets=secrets,
                              label=f"the {self.dialect} upstream at {self.base_url}")
        return DIALECTS[self.dialect].connect(transport, dict(self.declaration["credentials"]))


def load_endpoint(path: str | Path) -> Endpoint:
    """The checked declaration in `path`, or MigrationError naming the file and what is wrong."""
    where = Path(path)
    try:
        raw = tomllib.loads(where.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MigrationError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"{where}: cannot be read ({exc.__class__.__name__})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MigrationError(f"{where}: not valid TOML ({exc})") from None
    if SHADOW in raw:  # an upstream declaration may name one; a side of a migration is one upstream only
        raise MigrationError(f"{where}: {where.name}.{SHADOW}: a migration endpoint has no shadow "
                             f"(remove [{SHADOW}]; migrate to each upstream in its own run)")
    try:
        checked = check(raw, where.name)
    except DeclarationError as exc:
        raise MigrationError(str(exc)) from None
    return Endpoint(where, checked)
