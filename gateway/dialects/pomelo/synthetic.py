"""Pomelo's identities for synthetic members: a user id and a card id, KSUID-shaped after their prefixes
as Pomelo's are (`usr-2ay34WhGUtCeoewakpeJTRuVWlx`): 27 base62 characters whose first six carry the
member's joining time, so ids sort roughly by age as real ones do. Drawn from the generator's random
source: the same seed, the same ids."""
from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ...synthetic import Person

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_KSUID_EPOCH = 1_400_000_000
_TAIL = 21  # characters after the time part: 62**21 is about 2**125, the rest of a KSUID's 160 bits
# Random bytes to base62 characters in one translate (a byte's value modulo 62: a slight lean towards
# the first eight characters, harmless in test data, and ten times cheaper than converting a number).
_TO_BASE62 = bytes(ord(_BASE62[b % 62]) for b in range(256))


_PAIRS = [a + b for a in _BASE62 for b in _BASE62]  # two digits per divmod: a third of the steps


def _time_part(person: Person) -> str:
    """The six leading digits a KSUID made in the member's joining second has."""
    seconds = max(0, int(person.joined.timestamp()) - _KSUID_EPOCH)
    number = (seconds << 128) // 62**_TAIL
    high, low = divmod(number, 3844)
    top, middle = divmod(high, 3844)
    return _PAIRS[top] + _PAIRS[middle] + _PAIRS[low]


def ksuid(rng: random.Random, person: Person, time_part: str | None = None) -> str:
    return (time_part or _time_part(person)) + rng.randbytes(_TAIL).translate(_TO_BASE62).decode("ascii")


def make(rng: random.Random, person: Person) -> Mapping[str, Any]:
    when = _time_part(person)
    return {"user_ref": "usr-" + ksuid(rng, person, when), "card_refs": ("crd-" + ksuid(rng, person, when),)}
