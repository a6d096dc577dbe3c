"""Stores the ledger can run on, chosen by URL scheme: sqlite (embedded default) and, later, postgresql."""
from __future__ import annotations

from .base import Store, StoreOpenError, Tx

SCHEMES = ("sqlite",)


def open_store(url: str, **options: object) -> Store:
    """Build (not yet open) the store a URL names: sqlite:///relative.db or sqlite:////absolute.db."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise StoreOpenError(f"database URL {url!r} has no scheme; expected sqlite:///PATH")
    if scheme == "sqlite":
        from .sqlite import SQLiteStore

        return SQLiteStore(url, **options)  # type: ignore[arg-type]
    raise StoreOpenError(f"database URL scheme {scheme!r} is not supported (supported: {', '.join(SCHEMES)})")


__all__ = ["Store", "StoreOpenError", "Tx", "open_store", "SCHEMES"]
