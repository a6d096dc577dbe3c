"""XML bodies compared for verify and diff. Both sides are read through the gateway's hardened parser and
canonicalized (C14N 2.0; whitespace-only text between elements dropped, all other text kept as written);
equal canonical forms end the comparison. Otherwise the trees are walked with element order kept: `exact`
reports renamed, missing, extra and moved elements, attributes, text and text among elements at each
element's path; `shape` reports names, order, attributes by name, text-or-children and the kind of text
(decimal, integer, boolean, date-time), never values (but type=, which is structure), a run of repeated
elements standing for itself by its first. No vendor words."""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator

from lxml import etree

from .. import safe_xml
from .paths import Finding, Place, first_out_of_order, quoted

Element = etree._Element


class NotXml(ValueError):
    """A body that should be XML and cannot be read; the message says why in one line."""


def canonical(raw: bytes) -> bytes:
    try:
        root = safe_xml.parse(raw)
    except safe_xml.XmlRefused as exc:
        raise NotXml(str(exc)) from None
    _drop_layout(root)
    return etree.tostring(root, method="c14n2")


def _drop_layout(root: Element) -> None:
    """Whitespace-only text between elements is layout (indentation) and goes; every other text is content
    and stays as written: a leaf's spaces (`<b> 10 </b>` is not `<b>10</b>`), and text among elements."""
    for element in root.iter():
        kids = _kids(element)
        if not kids:
            continue
        if element.text is not None and not element.text.strip():
            element.text = None
        for kid in kids:
            if kid.tail is not None and not kid.tail.strip():
                kid.tail = None


def load(raw: bytes) -> Element:
    """The canonical tree: attributes in order, layout whitespace gone, text as written."""
    return safe_xml.parse(canonical(raw))


def _kids(element: Element) -> list[Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _text(element: Element) -> str:
    return element.text or ""


def _between(element: Element) -> list[str]:
    """The text among an element's children (before, between and after them), layout already dropped."""
    return [t for t in [element.text, *(k.tail for k in _kids(element))] if t]


def _between_differs(expected: Element, actual: Element, place: Place, *, values: bool) -> Iterator[Finding]:
    """Text among elements is content: its presence is structure (shape), its words are values (exact)."""
    want, got = _between(expected), _between(actual)
    if values and want and got and want != got:
        yield Finding("value", place, f"expected text {quoted(' '.join(want))} among its elements, "
                                      f"got {quoted(' '.join(got))}")
    elif bool(want) != bool(got):
        if want:
            yield Finding("form", place, "expected text among its elements, got none")
        else:
            shown = quoted(" ".join(got)) if values else "text"
            yield Finding("form", place, f"expected no text among its elements, got {shown}")


def _names(kids: list[Element]) -> list[str]:
    return [str(k.tag) for k in kids]


def _places(kids: list[Element], place: Place) -> list[Place]:
    """Each child's place: its name, with its position among same-named siblings when it repeats."""
    counts: dict[str, int] = {}
    for name in _names(kids):
        counts[name] = counts.get(name, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for name in _names(kids):
        seen[name] = seen.get(name, 0) + 1
        out.append(place + ((f"{name}[{seen[name]}]" if counts[name] > 1 else name),))
    return out


_STRUCTURAL = ("type",)  # type= says what an element holds (integer, decimal, array): structure, not a value


def _attributes(expected: Element, actual: Element, place: Place, *, values: bool) -> Iterator[Finding]:
    """Attributes by name (missing, unexpected); their values too, or (shape) only those that are structure."""
    for name, value in expected.attrib.items():
        got = actual.get(name)
        if got is None:
            yield Finding("missing", place + (f"@{name}",), f"missing (expected {quoted(value)})")
        elif got != value and (values or name in _STRUCTURAL):
            yield Finding("value", place + (f"@{name}",), f"expected {quoted(value)}, got {quoted(got)}")
    for name, value in actual.attrib.items():
        if name not in expected.attrib:
            yield Finding("extra", place + (f"@{name}",), f"unexpected attribute (value {quoted(value)})")


def _children(expected: list[Element], actual: list[Element], place: Place,
              walk: Callable[[Element, Element, Place], Iterator[Finding]]) -> Iterator[Finding]:
    """Pairs children up in order and walks each pair; names that do not line up are reported."""
    want, got = _names(expected), _names(actual)
    want_places = _places(expected, place)
    if want == got:
        for a, b, p in zip(expected, actual, want_places):
            yield from walk(a, b, p)
        return
    if sorted(want) == sorted(got):
        early = first_out_of_order(want, got)
        if early:
            yield Finding("order", place, f"<{early[0]}> before <{early[1]}>")
        pending = {p: b for p, b in zip(_places(actual, place), actual)}
        for a, p in zip(expected, want_places):
            yield from walk(a, pending[p], p)
        return
    got_places = _places(actual, place)
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, got, autojunk=False).get_opcodes():
        if op == "equal":
            for k in range(i2 - i1):
                yield from walk(expected[i1 + k], actual[j1 + k], want_places[i1 + k])
            continue
        paired = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(paired):
            yield Finding("renamed", want_places[i1 + k], f"expected element <{want[i1 + k]}>, got <{got[j1 + k]}>")
        for k in range(i1 + paired, i2):
            yield Finding("missing", want_places[k], "missing")
        for k in range(j1 + paired, j2):
            yield Finding("extra", got_places[k], "unexpected element")


def exact(expected: Element, actual: Element, masked: Callable[[Place], bool]) -> Iterator[Finding]:
    """The whole documents, from their roots."""
    if expected.tag != actual.tag:
        yield Finding("renamed", (str(expected.tag),), f"expected element <{expected.tag}>, got <{actual.tag}>")
        return
    yield from _exact(expected, actual, (str(expected.tag),), masked)


def _exact(expected: Element, actual: Element, place: Place, masked: Callable[[Place], bool]) -> Iterator[Finding]:
    if masked(place):
        return
    yield from _attributes(expected, actual, place, values=True)
    want_kids, got_kids = _kids(expected), _kids(actual)
    if bool(want_kids) != bool(got_kids):
        yield _form(expected, actual, place)
        return
    if want_kids:
        yield from _between_differs(expected, actual, place, values=True)
        yield from _children(want_kids, got_kids, place, lambda a, b, p: _exact(a, b, p, masked))
    elif _text(expected) != _text(actual):
        yield Finding("value", place, f"expected {quoted(_text(expected))}, got {quoted(_text(actual))}")


def _form(expected: Element, actual: Element, place: Place) -> Finding:
    if _kids(expected):
        return Finding("form", place, f"expected child elements, got text {quoted(_text(actual))}")
    text = "text" if _text(expected) else "text or empty"
    return Finding("form", place, f"expected {text}, got child elements <{', '.join(_names(_kids(actual))[:3])}>")


_KINDS = (
    ("boolean", re.compile(r"true|false", re.IGNORECASE)),
    ("integer", re.compile(r"[+-]?\d+")),
    ("decimal text", re.compile(r"[+-]?\d*\.\d+")),
    ("date-time", re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")),
)
_TYPED = {name for name, _ in _KINDS}


def text_kind(text: str) -> str:
    """What a text is, for shape: "empty", "boolean", "integer", "decimal text", "date-time" or "text"."""
    if not text.strip():
        return "empty"
    for name, pattern in _KINDS:
        if pattern.fullmatch(text.strip()):
            return name
    return "text"


def shape(expected: Element, actual: Element) -> Iterator[Finding]:
    if expected.tag != actual.tag:
        yield Finding("renamed", (str(expected.tag),), f"expected element <{expected.tag}>, got <{actual.tag}>")
        return
    yield from _shape(expected, actual, (str(expected.tag),))


def _runs(kids: list[Element]) -> list[Element]:
    """One element per run of same-named siblings: a list of 3 items and one of 40 have the same shape."""
    return [k for i, k in enumerate(kids) if i == 0 or kids[i - 1].tag != k.tag]


def _is_list(element: Element, place: Place) -> bool:
    """An element that may hold any items: type="array" (Rails' lists), or the root (a body that is a list)."""
    return element.get("type") == "array" or len(place) == 1


def _shape(expected: Element, actual: Element, place: Place) -> Iterator[Finding]:
    """An element the answer leaves empty matches anything (an empty field, an empty list, is a value); one the
    sample leaves empty holds text or nothing in the answer, unless it is a list, whose items it cannot show."""
    yield from _attributes(expected, actual, place, values=False)
    want_kids, got_kids = _runs(_kids(expected)), _runs(_kids(actual))
    if want_kids and got_kids:
        yield from _between_differs(expected, actual, place, values=False)
        yield from _children(want_kids, got_kids, place, _shape)
        return
    if want_kids:
        if text_kind(_text(actual)) != "empty":
            yield _form(expected, actual, place)
        return
    if got_kids:
        if text_kind(_text(expected)) != "empty" or not _is_list(expected, place):
            yield _form(expected, actual, place)
        return
    want, got = text_kind(_text(expected)), text_kind(_text(actual))
    # Free text in the sample says nothing of the type (a name may be all digits): only typed text is held.
    if want in _TYPED and got != "empty" and want != got:
        yield Finding("type", place, f"expected {want}, got {got}")
