"""MemberPoints' fields for synthetic members: none of its own. A member is `mbr_id` (the member number the
ledger gives), `mbr_email` and `mbr_name` (the generator's e-mail and name); this maker exists so every
dialect is asked, and is where a MemberPoints-only field would go."""
from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ...synthetic import Person


def make(rng: random.Random, person: Person) -> Mapping[str, Any]:
    return {}
