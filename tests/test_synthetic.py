"""The synthetic member generator: one function of (count, seed, makers), realistic and unique identities
in every dialect's shape, money in whole hundredths that never goes below zero."""
from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

import pytest

from gateway.admin.generated import makers_of
from gateway.app import DIALECT_LIST

SYNTHETIC_MAKERS = makers_of(DIALECT_LIST)
from gateway.ledger import Asset, Kind
from gateway.synthetic import Person, generate


def members(count: int, seed: int) -> list[Any]:
    return [m for batch in generate(count, seed=seed, makers=SYNTHETIC_MAKERS, batch=97) for m in batch]


def test_the_same_seed_gives_the_same_members_and_another_seed_others() -> None:
    first, again, other = members(500, 7), members(500, 7), members(500, 8)
    assert first == again
    assert [m.user_ref for m in first] != [m.user_ref for m in other]
    # Batching is how they are handed over, not what they are.
    assert first == [m for b in generate(500, seed=7, makers=SYNTHETIC_MAKERS, batch=500) for m in b]


def test_identities_are_unique_and_shaped_as_each_dialect_names_people() -> None:
    made = members(2000, 1)
    for key in ("user_ref", "email"):
        values = [getattr(m, key).lower() for m in made]
        assert len(set(values)) == len(values), key
    cards = [c for m in made for c in m.card_refs]
    assert len(set(cards)) == len(cards) == len(made)
    assert all(re.fullmatch(r"usr-[0-9A-Za-z]{27}", m.user_ref) for m in made)
    assert all(re.fullmatch(r"crd-[0-9A-Za-z]{27}", m.card_refs[0]) for m in made)
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d+@example\.(com|net|org)", m.email) for m in made)
    first = made[0]
    assert first.name == f"{first.profile['first_name']} {first.profile['last_name']}"
    assert [m.created_at for m in made] == sorted(m.created_at for m in made)  # numbered in joining order
    assert made[0].user_ref < made[-1].user_ref  # the KSUID's time part sorts by age


def test_money_is_whole_hundredths_never_below_zero_with_history_for_a_share() -> None:
    made = members(3000, 3)
    with_history = 0
    for m in made:
        running: dict[Asset, int] = {}
        for e in m.entries:
            assert type(e.cents) is int and e.cents != 0
            running[e.asset] = running.get(e.asset, 0) + e.cents
            assert running[e.asset] >= 0
        with_history += any(e.kind is Kind.ADJUSTMENT for e in m.entries)
        assert [e.occurred_at for e in m.entries] == sorted(e.occurred_at for e in m.entries)
    assert 0.1 < with_history / len(made) < 0.3
    assert 0.8 < sum(1 for m in made if m.entries) / len(made) < 0.99


def test_a_maker_returning_an_unknown_field_is_refused() -> None:
    def rogue(rng: random.Random, person: Person) -> Mapping[str, Any]:
        return {"balance": 1}

    with pytest.raises(ValueError, match="balance"):
        members_of = generate(1, seed=1, makers=[rogue])
        next(members_of)


@pytest.mark.parametrize("count", [0, -1])
def test_a_count_below_one_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        next(generate(count, seed=1, makers=SYNTHETIC_MAKERS))
