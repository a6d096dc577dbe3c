"""Stores the ledger can run on, chosen by URL scheme: sqlite (embedded default) and postgresql (several
gateway processes over one database; asyncpg is imported only for that scheme)."""
from __future__ import annotations

from .base import Store, StoreOpenError, Tx

SCHEMES = ("sqlite", "postgresql")
# Options each store takes; the rest of the caller's options belong to the other store.
_SQLITE_OPTIONS = ("synchronous", "busy_timeout_ms", "group_commit_max", "readers")
_POSTGRES_OPTIONS = ("pool_size", "group_commit_max")


def open_store(url: str, **options: object) -> Store:
    """Build (not yet open) the store a URL names: sqlite:///relative.db, sqlite:////absolute.db or
    postgresql://user[:password]@host[:port]/database."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise StoreOpenError(f"database URL {url!r} has no scheme; expected sqlite:///PATH or postgresql://HOST/NAME")
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(url, **_only(options, _SQLITE_OPTIONS))  # type: ignore[arg-type]
    if scheme in ("postgresql", "postgres"):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise StoreOpenError(
                f"a {scheme}:// database needs asyncpg ({exc}); install loyalty-gateway[postgres]"
            ) from None
        return PostgresStore(url, **_only(options, _POSTGRES_OPTIONS))  # type: ignore[arg-type]
    raise StoreOpenError(f"database URL scheme {scheme!r} is not supported (supported: {', '.join(SCHEMES)})")


def _only(options: dict[str, object], names: tuple[str, ...]) -> dict[str, object]:
    unknown = set(options) - set(_SQLITE_OPTIONS) - set(_POSTGRES_OPTIONS)
    if unknown:
        raise TypeError(f"unknown store option {sorted(unknown)[0]!r}")
    return {k: v for k, v in options.items() if k in names}


__all__ = ["Store", "StoreOpenError", "Tx", "open_store", "SCHEMES"]
