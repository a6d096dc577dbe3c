"""JSON bodies compared for verify and diff: `exact` (key order, value types and values, masks, subsets) and
`shape` (key order and types only, the first item of an array standing for all). Numbers are read as
Decimal and compared as written (`10.0` is not `10`); money never passes through float. No vendor words."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from .paths import Finding, Place, first_out_of_order, render, shorten


class NotJson(ValueError):
    """A body that should be JSON and is not; the message says so in one line."""


class Object(dict):  # type: ignore[type-arg]
    """A JSON object as read, remembering the keys the text gave more than once (the last value is kept)."""

    twice: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> Object:
    read = Object(pairs)
    if len(read) != len(pairs):
        given = Counter(key for key, _ in pairs)
        read.twice = tuple(key for key in read if given[key] > 1)
    return read


def load(raw: bytes) -> Any:
    """The body with numbers as written (Decimal, int) and objects as Object."""
    try:
        return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_int=int, object_pairs_hook=_object)
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotJson(f"not JSON ({shorten(str(exc), 80)})") from None


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def shown(value: Any) -> str:
    """A value as JSON writes it, shortened: "10.00", 10.0, true, null, {…3 keys}."""
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    return shorten(json.dumps(value, ensure_ascii=False), 60)


def _same_value(expected: Any, actual: Any) -> bool:
    if kind(expected) == "number":
        return str(expected) == str(actual)  # as written: 26511.0 is not 26511
    return bool(expected == actual)


Walk = Callable[[Any, Any, Place], Iterator[Finding]]


def _members(expected: dict, actual: dict, place: Place, walk: Walk, *, subset: bool) -> Iterator[Finding]:
    """Two objects: their keys (given twice, missing, extra, out of order), then each key both have, walked."""
    yield from _keys(expected, actual, place, subset=subset)
    for key in expected:
        if key in actual:
            yield from walk(expected[key], actual[key], place + (key,))


def _keys(expected: dict, actual: dict, place: Place, *, subset: bool) -> Iterator[Finding]:
    for key in getattr(expected, "twice", ()):
        yield Finding("twice", place + (key,), "key given twice in the expected body")
    for key in getattr(actual, "twice", ()):
        yield Finding("twice", place + (key,), "key given twice")
    for key in expected:
        if key not in actual:
            yield Finding("missing", place + (key,), f"missing (expected {shown(expected[key])})")
    if subset:
        return
    for key in actual:
        if key not in expected:
            yield Finding("extra", place + (key,), f"unexpected key (value {shown(actual[key])})")
    early = first_out_of_order(list(expected), list(actual))
    if early:
        yield Finding("order", place, f"{early[0]} before {early[1]}")


def exact(expected: Any, actual: Any, place: Place, masked: Callable[[Place], bool], *,
          subset: bool) -> Iterator[Finding]:
    if masked(place):
        return
    want, got = kind(expected), kind(actual)
    if want != got:
        yield Finding("type", place, f"expected {want}, got {got}")
        return
    if want == "object":
        yield from _members(expected, actual, place, lambda a, b, p: exact(a, b, p, masked, subset=subset),
                            subset=subset)
    elif want == "array":
        if len(expected) != len(actual):
            yield Finding("length", place, f"expected {len(expected)} items, got {len(actual)}")
        for i, (a, b) in enumerate(zip(expected, actual)):
            yield from exact(a, b, place + (i,), masked, subset=subset)
    elif not _same_value(expected, actual):
        yield Finding("value", place, f"expected {shown(expected)}, got {shown(actual)}")


def shape(expected: Any, actual: Any, place: Place, *, subset: bool) -> Iterator[Finding]:
    """Structure only. A null on either side is a value, not a shape (a field the sample leaves empty may
    hold anything of its type), so it matches any type."""
    want, got = kind(expected), kind(actual)
    if "null" in (want, got):
        return
    if want != got:
        yield Finding("type", place, f"expected {want}, got {got}")
        return
    if want == "object":
        yield from _members(expected, actual, place, lambda a, b, p: shape(a, b, p, subset=subset), subset=subset)
    elif want == "array" and expected and actual:
        yield from shape(expected[0], actual[0], place + (0,), subset=subset)


def message(finding: Finding) -> tuple[str, str]:
    """(path, message) of a Difference: key order differences print as `key order /data`."""
    if finding.kind == "order":
        return "key order " + render(finding.place), finding.message
    return render(finding.place), finding.message
