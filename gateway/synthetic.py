"""Synthetic members for big tenants (`seed --generate`, benchmarks, the admin API): the same members for
the same seed, realistic names and e-mails, balances in integer hundredths and some history. Knows no
vendor: each dialect hands a maker that adds the identities its vendor names people by (user ids, card
ids, profile fields); knows no SQL: the ledger's bulk writer stores the batches this yields."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .ledger import Asset, Kind, NewEntry, NewMember
from .synthetic_names import FAMILY, GIVEN

# Fixed, not "now": the same seed gives the same members whenever it runs.
FIRST_JOIN = datetime(2016, 1, 1, tzinfo=timezone.utc)
LAST_JOIN = datetime(2025, 1, 1, tzinfo=timezone.utc)
UNTIL = datetime(2025, 6, 30, tzinfo=timezone.utc)  # no history after this
DOMAINS = ("example.com", "example.net", "example.org")  # reserved for examples: no real mailbox gets mail
HISTORY_SHARE = 5  # one member in HISTORY_SHARE has a few movements after the opening balance
BATCH = 10_000


@dataclass(frozen=True)
class Person:
    """One synthetic person as every maker sees it: `number` counts from 1 in join order."""

    number: int
    given: str
    family: str
    email: str
    joined: datetime


# A dialect's maker: the member fields its vendor needs (user_ref, card_refs, profile, external_ref), drawn
# from the shared generator so the whole set stays one function of the seed.
Maker = Callable[[random.Random, Person], Mapping[str, Any]]
FIELDS = frozenset({"user_ref", "card_refs", "profile", "external_ref"})


def _mailbox(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


_MAILBOX = {name: _mailbox(name) for name in (*GIVEN, *FAMILY)}
_SPAN = int((LAST_JOIN - FIRST_JOIN).total_seconds())


def below(rng: random.Random, n: int) -> int:
    """A whole number in [0, n): random() scaled, a third of randrange's cost (a million members draw
    some fifteen million of these). Money is never a float: the float is only where to land."""
    return int(rng.random() * n)


def pick(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def person(rng: random.Random, number: int, count: int) -> Person:
    given, family = pick(rng, GIVEN), pick(rng, FAMILY)
    joined = FIRST_JOIN + timedelta(seconds=_SPAN * (number - 1) // max(1, count) + below(rng, 3600))
    # The number keeps the address unique however often a name repeats.
    email = f"{_MAILBOX[given]}.{_MAILBOX[family]}{number}@{pick(rng, DOMAINS)}"
    return Person(number, given, family, email, joined)


def _cents(rng: random.Random) -> int:
    """A balance spread over orders of magnitude, as real ones are: most small, a few large."""
    return 100 + below(rng, 10 ** (3 + below(rng, 5)))


def history(rng: random.Random, joined: datetime) -> tuple[NewEntry, ...]:
    """An opening balance for most members, another asset for a few, and later movements for a share."""
    entries: list[NewEntry] = []
    balance = 0
    if below(rng, 10):  # one in ten starts at zero
        balance = _cents(rng)
        entries.append(NewEntry(Asset.POINTS, balance, joined, Kind.OPENING, "Opening balance"))
    for asset, odds in ((Asset.CASHBACK, 20), (Asset.MILES, 30)):
        if not below(rng, odds):
            entries.append(NewEntry(asset, _cents(rng), joined, Kind.OPENING, "Opening balance"))
    if not below(rng, HISTORY_SHARE):
        at = joined
        step = max(60, int((UNTIL - joined).total_seconds()) // 4)
        for _ in range(1 + below(rng, 4)):
            at += timedelta(seconds=60 + below(rng, step))
            if balance and not below(rng, 3):
                spent = 1 + below(rng, balance)
                balance -= spent
                entries.append(NewEntry(Asset.POINTS, -spent, at, Kind.ADJUSTMENT, "Redeemed"))
            else:
                earned = 100 + below(rng, 50_000)
                balance += earned
                entries.append(NewEntry(Asset.POINTS, earned, at, Kind.ADJUSTMENT, "Purchase"))
    return tuple(entries)


def member(rng: random.Random, number: int, count: int, makers: Sequence[Maker]) -> NewMember:
    who = person(rng, number, count)
    fields: dict[str, Any] = {}
    profile: dict[str, Any] = {}
    for make in makers:
        made = make(rng, who)
        if not made.keys() <= FIELDS:
            raise ValueError(f"a synthetic maker returned fields the generator does not know: {sorted(made.keys() - FIELDS)}")
        for key, value in made.items():
            if key == "profile":
                profile.update(value)
            else:
                fields[key] = value
    return NewMember(
        name=f"{who.given} {who.family}", email=who.email, created_at=who.joined,
        user_ref=fields.get("user_ref") or f"user-{number}",
        card_refs=tuple(fields.get("card_refs", ())), profile=profile,
        external_ref=fields.get("external_ref"), entries=history(rng, who.joined),
    )


def generate(count: int, *, seed: int, makers: Sequence[Maker], batch: int = BATCH) -> Iterator[list[NewMember]]:
    """`count` members in batches of at most `batch`; one function of (count, seed, makers)."""
    if count < 1:
        raise ValueError("the number of members must be positive")
    rng = random.Random(seed)
    out: list[NewMember] = []
    for number in range(1, count + 1):
        out.append(member(rng, number, count, makers))
        if len(out) == batch:
            yield out
            out = []
    if out:
        yield out
