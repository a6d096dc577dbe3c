"""The sandbox's campaign rule for card purchases (tenant config pomelo.rewards, e.g. {"points": "1"}:
one point per currency unit, per account type), rounded half up to two places as decisions.md says."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ...ledger import Asset, InvalidArgument, round_half_up

DEFAULT_RULE = {"points": "1"}


def reward_amounts(rule: Mapping[str, Any] | None, purchase: Decimal) -> dict[Asset, Decimal]:
    """What a purchase of `purchase` currency units earns on each account type; zero rewards left out."""
    earned: dict[Asset, Decimal] = {}
    for name, rate in (rule if rule is not None else DEFAULT_RULE).items():
        try:
            asset = Asset(name)
            per_unit = Decimal(str(rate))
        except (ValueError, InvalidOperation):
            raise InvalidArgument(f"the tenant's reward rule has a bad entry {name!r}: {rate!r}") from None
        amount = round_half_up(purchase * per_unit)
        if amount > 0:
            earned[asset] = amount
    if not earned:
        raise InvalidArgument("the tenant's campaign rule rewards nothing for this purchase")
    return earned
