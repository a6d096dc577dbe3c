"""Keyset continuations for offset paging: where each page served ended (the offset and the sort key of
its last row), per scope, so a later page can start from a key instead of counting the rows before it."""
from __future__ import annotations

from bisect import bisect_right, insort
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class Continuations:
    """A bounded memory of page ends. A scope names one ordered listing in one state (it must include a
    version that changes whenever the listing's rows change); the oldest scopes are forgotten first."""

    def __init__(self, *, max_scopes: int = 256, max_marks: int = 4096) -> None:
        self._scopes: OrderedDict[Hashable, tuple[list[int], dict[int, Any]]] = OrderedDict()
        self._max_scopes = max_scopes
        self._max_marks = max_marks

    def nearest(self, scope: Hashable, offset: int) -> tuple[int, Any]:
        """(offset', key) of the remembered page end closest at or before `offset`; (0, None) if none."""
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

    def remember(self, scope: Hashable, offset: int, key: Any) -> None:
        """The row at position `offset` - 1 of this listing has sort key `key`."""
        offsets, keys = self._scopes.setdefault(scope, ([], {}))
        self._scopes.move_to_end(scope)
        if offset not in keys:
            if len(offsets) >= self._max_marks:
                keys.pop(offsets.pop(0))
            insort(offsets, offset)
        keys[offset] = key
        while len(self._scopes) > self._max_scopes:
            self._scopes.popitem(last=False)

    def __len__(self) -> int:
        return sum(len(offsets) for offsets, _ in self._scopes.values())
