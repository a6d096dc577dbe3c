"""offset and pageSize: parsed from the query string (the same names as the envelope's keys), pageSize
defaulting to 200 and clamped to 200; the envelope reports the size actually used."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import RequestError

DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 200
_WHOLE = re.compile(r"^[0-9]{1,18}$")


def whole(query: Mapping[str, str], name: str, *, minimum: int = 0) -> int | None:
    """A whole-number parameter, or None when absent; anything else is a 400 naming the parameter."""
    if name not in query:
        return None
    text = query[name].strip()
    if not _WHOLE.match(text) or int(text) < minimum:
        raise RequestError(400, f"{name} must be a whole number" + (f" of at least {minimum}" if minimum else ""))
    return int(text)


@dataclass(frozen=True)
class PageRequest:
    offset: int
    size: int


def page_request(query: Mapping[str, str]) -> PageRequest:
    offset = whole(query, "offset")
    size = whole(query, "pageSize", minimum=1)
    return PageRequest(offset or 0, min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
