"""Imonggo's fields for synthetic members: the profile a customer record shows (first and last name, city,
country, mobile). Its customer id is the member's customer number, which the ledger gives, and its
`code` defaults from it (views.default_code), so neither is made here."""
from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ...synthetic import Person, below, pick

CITIES = ("Makati", "Quezon City", "Manila", "Pasig", "Taguig", "Cebu City", "Davao City", "Baguio", "Iloilo City",
          "Cagayan de Oro")


def make(rng: random.Random, person: Person) -> Mapping[str, Any]:
    return {"profile": {
        "first_name": person.given, "last_name": person.family, "city": pick(rng, CITIES), "country": "PH",
        "mobile": f"09{below(rng, 10**9):09d}",
    }}
