"""The ledger's notion of time and of fresh ids: injectable, so tests and the sandbox can freeze or
shift time, and ids can be made deterministic."""
from __future__ import annotations

import os
import random
from datetime import datetime, timedelta, timezone

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH = 1_400_000_000


class Clock:
    """Real UTC time, optionally frozen at an instant or shifted by an offset."""

    def __init__(self) -> None:
        self._frozen: datetime | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        if self._frozen is not None:
            return self._frozen
        return datetime.now(timezone.utc) + self._offset

    def freeze(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a frozen time must carry a timezone")
        self._frozen = at.astimezone(timezone.utc)

    def shift(self, offset: timedelta) -> None:
        self._frozen = None
        self._offset = offset

    def reset(self) -> None:
        self._frozen = None
        self._offset = timedelta(0)

    @property
    def state(self) -> dict[str, object]:
        return {"frozen": self._frozen, "offset_seconds": self._offset.total_seconds()}


class IdGenerator:
    """KSUID-shaped ids (27 base62 characters after a prefix); seeded for deterministic tests."""

    def __init__(self, clock: Clock, seed: int | None = None) -> None:
        self._clock = clock
        self._random = random.Random(seed) if seed is not None else None

    def _bytes(self, n: int) -> bytes:
        if self._random is None:
            return os.urandom(n)
        return bytes(self._random.getrandbits(8) for _ in range(n))

    def ksuid(self, prefix: str) -> str:
        seconds = max(0, int(self._clock.now().timestamp()) - _KSUID_EPOCH)
        number = int.from_bytes(seconds.to_bytes(4, "big") + self._bytes(16), "big")
        digits = []
        for _ in range(27):
            number, rem = divmod(number, 62)
            digits.append(_BASE62[rem])
        return prefix + "".join(reversed(digits))

    def token(self, nbytes: int = 24) -> str:
        return self._bytes(nbytes).hex()


def to_text(moment: datetime) -> str:
    """The storage form of an instant: UTC, microseconds, sortable as text. The year is written with
    four digits by hand: strftime's %Y does not pad years before 1000 on every platform."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} {utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"


def from_text(text: str) -> datetime:
    """The instant a stored text names (the form to_text writes). fromisoformat with the offset spelled
    out: strptime cost 7% of a read, and .replace(tzinfo=...) after parsing costs more than the parse."""
    return datetime.fromisoformat(text + "+00:00")
