"""The rules of one member's movement: what moves in each mode, and the idempotency key it is sent under
(derived from the run and the member, so every attempt of it, in this process or a resumed one, is the same
write); the run's id itself derived from what the migration is, so a lost checkpoint does not make new keys."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from .endpoints import Endpoint

MODES = ("add", "mirror")


def movement(mode: str, source: Decimal, target: Decimal) -> Decimal:
    """The signed points to move at the target: the source's whole balance (add), or what makes the
    target equal the source (mirror). Computed once per run and member, before anything is sent."""
    if mode == "add":
        return source
    if mode == "mirror":
        return source - target
    raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")


def key_for(run: str, source_id: str, target_id: str) -> str:
    """The movement's idempotency key: the same for the same run and member, different across runs."""
    digest = hashlib.sha256(f"{source_id}\x00{target_id}".encode()).hexdigest()[:20]
    return f"mig-{run}-{digest}"


def run_id_for(mode: str, source: Endpoint, target: Endpoint) -> str:
    """The run's id when none is given: the same for the same mode, endpoints (dialect, base_url) and
    credential identities, so the same migration started over from a lost or moved checkpoint sends the
    same keys (a keyed target replays them) instead of crediting everyone again."""
    parts = [mode] + [f"{e.dialect}\x00{e.base_url.rstrip('/')}\x00{e.identity()}" for e in (source, target)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:12]
