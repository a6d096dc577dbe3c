"""The ledger's commit hook: what each write published, told once it has committed, so something outside
the core (the server's metrics) can count ledger writes while the core knows nothing of who listens."""
from __future__ import annotations

from collections.abc import Callable

from .store.base import Tx

# Told the (topic, entry kind) of every outbox event one write committed, once it has committed (never for a
# write refused or rolled back): how a caller outside the core counts ledger writes without the core
# knowing who listens. Called on the event loop, after the store's write returned.
CommitHook = Callable[[list[tuple[str, str]]], None]


class Noting:
    """A unit of work's transaction that also keeps what the unit published (see CommitHook): the same
    calls as the store's transaction, bound once, so a statement costs no extra call."""

    __slots__ = ("execute", "fetchone", "fetchall", "fetchval", "executemany", "skip_locked", "published")

    def __init__(self, tx: Tx) -> None:
        self.execute, self.fetchone, self.fetchall = tx.execute, tx.fetchone, tx.fetchall
        self.fetchval, self.executemany, self.skip_locked = tx.fetchval, tx.executemany, tx.skip_locked
        self.published: list[tuple[str, str]] = []


def note(tx: Tx, topic: str, kind: str, times: int = 1) -> None:
    """Tell the commit hook, if one listens, that this unit published `times` events of `topic` and `kind`."""
    if isinstance(tx, Noting):
        tx.published.extend([(topic, kind)] * times)
