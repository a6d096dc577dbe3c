"""What a scenario's tenant declares in pomelo's section: the OAuth client as a credential, the rest (the
reward rule, webhook URLs and their signing credentials) as configuration. Knows no scenario file."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ...ledger import Credential
from .auth import SCHEME


def parts(section: Mapping[str, Any], tenant: str) -> tuple[list[Credential], dict[str, Any]]:
    rest = dict(section)
    credential = Credential(SCHEME, rest.pop("client_id"), rest.pop("client_secret"))
    return [credential], {k: (str(v) if isinstance(v, Decimal) else v) for k, v in rest.items()}
