"""Keyset continuations for offset paging: where each page served ended (the offset and the sort key of
its last row), per owner (a tenant) and scope, so a later page can start from a key instead of counting
the rows before it. An owner's continuations are forgotten with it."""
from __future__ import annotations

from bisect import bisect_right, insort
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class Continuations:
    """A bounded memory of page ends. A scope names one ordered listing of its owner in one state (it must
    include a version that changes whenever the listing's rows change); the oldest scopes go first."""

    def __init__(self, *, max_scopes: int = 256, max_marks: int = 4096) -> None:
        self._scopes: OrderedDict[Hashable, tuple[list[int], dict[int, Any]]] = OrderedDict()
        self._max_scopes = max_scopes
        self._max_marks = max_marks

    def nearest(self, owner: int, scope: Hashable, offset: int) -> tuple[int, Any]:
        """(offset', key) of the remembered page end closest at or before `offset`; (0, None) if none."""
        scope = (owner, scope)
        found = self._scopes.get(scope)
        if found is None or offset <= 0:
            return 0, None
        self._scopes.move_to_end(scope)
        offsets, keys = found
        at = bisect_right(offsets, offset)
        if at == 0:
            return 0, None
        mark = offsets[at - 1]
        return mark, keys[mark]

    def remember(self, owner: int, scope: Hashable, offset: int, key: Any) -> None:
        """The row at position `offset` - 1 of this listing has sort key `key`."""
        scope = (owner, scope)
        offsets, keys = self._scopes.setdefault(scope, ([], {}))
        self._scopes.move_to_end(scope)
        if offset not in keys:
            if len(offsets) >= self._max_marks:
                keys.pop(offsets.pop(0))
            insort(offsets, offset)
        keys[offset] = key
        while len(self._scopes) > self._max_scopes:
            self._scopes.popitem(last=False)

    def forget(self, owner: int) -> None:
        """Drop everything remembered for `owner` (a tenant that is gone)."""
        for scope in [s for s in self._scopes if s[0] == owner]:
            del self._scopes[scope]

    def owners(self) -> set[int]:
        return {scope[0] for scope in self._scopes}

    def __len__(self) -> int:
        return sum(len(offsets) for offsets, _ in self._scopes.values())
