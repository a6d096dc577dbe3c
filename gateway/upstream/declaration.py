"""A tenant's upstream declaration: a registered dialect, an absolute http(s) base URL, exactly the
credentials that dialect names, whether to record, and optionally a shadow (a second upstream that is sent
every applied write too); checked with errors that name the field (never a secret's value), and shown with
its secrets masked. Names no vendor: app.py registers the dialects."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..dialects.upstream_transport import Transport
from ..ledger import Upstream
from ..sandbox.redact import MASK, SECRET_KEYS

SECTION = "upstream"  # the tenant's configuration section holding its declaration
FIELDS = ("dialect", "base_url", "credentials", "record", "shadow")
SHADOW = "shadow"  # the declaration's field naming the shadow upstream
SHADOW_FIELDS = ("dialect", "base_url", "credentials")
Connect = Callable[[Transport, Mapping[str, str]], Upstream]


@dataclass(frozen=True)
class UpstreamDialect:
    """What the gateway needs to serve a tenant through one vendor: its port's connect, the names of the
    credentials it takes, and the shape its recorded contract cases have (see record.FORMATS)."""

    name: str
    connect: Connect
    credentials: tuple[str, ...]
    case_format: str

    def is_secret(self, credential: str) -> bool:
        return credential.lower() in SECRET_KEYS


# Filled by app.py (the one module that knows every dialect); read by scenarios, ports and the admin API.
DIALECTS: dict[str, UpstreamDialect] = {}


def register(*dialects: UpstreamDialect) -> None:
    for dialect in dialects:
        DIALECTS[dialect.name] = dialect


class DeclarationError(ValueError):
    """What is wrong with a declaration; the message starts with the field it is about."""


def check(value: Any, where: str) -> dict[str, Any]:
    """The declaration as stored (record defaulting to false, shadow kept only when given), or
    DeclarationError naming the field."""
    if not isinstance(value, Mapping):
        raise DeclarationError(f"{where}: must be an object with dialect, base_url, credentials and record")
    checked = _endpoint(value, where, FIELDS, "an upstream")
    record = value.get("record", False)
    if not isinstance(record, bool):
        raise DeclarationError(f"{where}.record: must be true or false")
    checked["record"] = record
    if value.get(SHADOW) is not None:
        shadow = value[SHADOW]
        if not isinstance(shadow, Mapping):
            raise DeclarationError(f"{where}.{SHADOW}: must be an object with dialect, base_url and credentials")
        checked[SHADOW] = _endpoint(shadow, f"{where}.{SHADOW}", SHADOW_FIELDS, "a shadow")
        if _same_account(checked, checked[SHADOW]):
            raise DeclarationError(f"{where}.{SHADOW}: must not be the primary upstream itself (the same dialect, "
                                   "base_url and credentials): every movement would be applied there twice")
    return checked


def _same_account(primary: Mapping[str, Any], shadow: Mapping[str, Any]) -> bool:
    """Whether two checked endpoints are one account at one vendor (the same vendor with other credentials,
    another tenant there, is another account)."""
    return (primary["dialect"] == shadow["dialect"] and primary["credentials"] == shadow["credentials"]
            and _place(primary["base_url"]) == _place(shadow["base_url"]))


def _place(url: str) -> tuple[str, str, int | None, str]:
    """A checked base URL as the server it reaches: scheme and host in any case, a default port written or not."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port if parts.port is not None else {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def _endpoint(value: Mapping[str, Any], where: str, fields: tuple[str, ...], what: str) -> dict[str, Any]:
    """The dialect, base URL and credentials of an upstream (the primary or its shadow), checked."""
    unknown = sorted(str(k) for k in value if k not in fields)
    if unknown:
        raise DeclarationError(f"{where}: unknown field {unknown[0]!r} ({what} has {', '.join(fields)})")
    dialect = _dialect(value.get("dialect"), f"{where}.dialect")
    base_url = _base_url(value.get("base_url"), f"{where}.base_url")
    credentials = _credentials(dialect, value.get("credentials"), f"{where}.credentials")
    return {"dialect": dialect.name, "base_url": base_url, "credentials": credentials}


def _dialect(name: Any, where: str) -> UpstreamDialect:
    known = ", ".join(sorted(DIALECTS)) or "none is registered"
    if not isinstance(name, str) or not name:
        raise DeclarationError(f"{where}: required, one of {known}")
    if name not in DIALECTS:
        raise DeclarationError(f"{where}: {name[:40]!r} is no upstream dialect (one of {known})")
    return DIALECTS[name]


def _base_url(url: Any, where: str) -> str:
    if not isinstance(url, str) or not url:
        raise DeclarationError(f"{where}: required, an absolute http(s) URL")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is no number)
    except ValueError:
        raise DeclarationError(f"{where}: not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeclarationError(f"{where}: must be an absolute http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise DeclarationError(f"{where}: must not carry a user or password; put them under credentials")
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        raise DeclarationError(f"{where}: must have no query, fragment or spaces")
    return url.rstrip("/")


def _credentials(dialect: UpstreamDialect, value: Any, where: str) -> dict[str, str]:
    wanted = ", ".join(dialect.credentials)
    if not isinstance(value, Mapping):
        raise DeclarationError(f"{where}: must be an object with {wanted} (what the {dialect.name} upstream takes)")
    unknown = sorted(str(k) for k in value if k not in dialect.credentials)
    if unknown:
        raise DeclarationError(f"{where}: {unknown[0]!r} is not a {dialect.name} credential (it takes {wanted})")
    for name in dialect.credentials:
        if name not in value:
            raise DeclarationError(f"{where}.{name}: required (the {dialect.name} upstream takes {wanted})")
        if not isinstance(value[name], str) or not value[name].strip():
            raise DeclarationError(f"{where}.{name}: must be a non-empty string")
    return {name: value[name] for name in dialect.credentials}


def secrets_of(declaration: Mapping[str, Any]) -> list[str]:
    """The secret credential values of a declaration (checked or not), its shadow's included, longest
    first, for masking."""
    if not isinstance(declaration, Mapping):
        return []
    found: set[str] = set()
    for endpoint in (declaration, declaration.get(SHADOW)):
        credentials = endpoint.get("credentials") if isinstance(endpoint, Mapping) else None
        if isinstance(credentials, Mapping):
            found |= {v for k, v in credentials.items() if isinstance(v, str) and v and str(k).lower() in SECRET_KEYS}
    return sorted(found, key=len, reverse=True)


def masked(declaration: Mapping[str, Any]) -> dict[str, Any]:
    """The declaration fit to show: every credential's name, secret ones as [FILTERED]; the shadow's alike
    (None when there is none)."""
    shadow = declaration.get(SHADOW)
    return {
        **_masked_endpoint(declaration),
        "record": bool(declaration.get("record", False)),
        SHADOW: _masked_endpoint(shadow) if isinstance(shadow, Mapping) else None,
    }


def _masked_endpoint(endpoint: Mapping[str, Any]) -> dict[str, Any]:
    credentials = endpoint.get("credentials")
    credentials = credentials if isinstance(credentials, Mapping) else {}
    return {
        "dialect": endpoint.get("dialect"),
        "base_url": endpoint.get("base_url"),
        "credentials": {str(k): (MASK if str(k).lower() in SECRET_KEYS else v) for k, v in credentials.items()},
    }
