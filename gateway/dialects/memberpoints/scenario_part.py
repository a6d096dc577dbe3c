"""What a scenario's tenant declares in memberpoints' section: the apiID/apiKey pair as a credential and
the website id (cid) as configuration. Knows no scenario file."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...ledger import Credential
from .auth import DIALECT


def parts(section: Mapping[str, Any], tenant: str) -> tuple[list[Credential], dict[str, Any]]:
    return [Credential(DIALECT, section["api_id"], section["api_key"])], {"cid": section["cid"]}
