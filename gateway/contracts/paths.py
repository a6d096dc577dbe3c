"""Where in a body a difference lies, and which places a case masks. A place is a tuple of segments: a key or
an element name (str, an element repeated among its siblings carries its position: "item[2]") or a JSON array
index (int). Knows no vendor; reads no bodies.

Mask syntax (a case's `volatile` paths, diff's `masked` paths, what `noise` returns):

- dotted from the top: `data.id`, `data[*].id`, `order.lines[*].sku`; an XML path starts with the root
  element's name (`account.updated_at`). An array index is never needed: `data.id` and `data[*].id` both mask
  the id of data itself or of each of data's items. `*` alone as a segment is any one key or element.
- a bare name, `updated_at`: that key or element anywhere, at any depth.
- `$.` before a dotted path anchors it at the top even when it is one name: `$.id` is the top-level id only
  (what `noise` returns is always anchored). `$` alone is the whole body.
- a slash path, `/data/0/id` or `/account/item[2]/id`, as the differences print them (positions ignored).
- masking a place masks everything under it; the place must still be there (a missing key is reported).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Segment = str | int
Place = tuple[Segment, ...]

_POSITION = re.compile(r"\[(?:\d+|\*)\]")


@dataclass(frozen=True)
class Finding:
    """One difference as the walkers find it; `kind` says whether it is a value ("value") or structure."""

    kind: str  # "value" | "type" | "missing" | "extra" | "order" | "renamed" | "length" | "form" | "twice"
    place: Place
    message: str


def render(place: Place, *, xml: bool = False) -> str:
    """`/data/0/id` (JSON, "~" and "/" escaped as in a JSON pointer) or `/account/item[2]/id` (XML)."""
    if not place:
        return "/"
    if xml:
        return "/" + "/".join(str(s) for s in place)
    return "/" + "/".join(str(s).replace("~", "~0").replace("/", "~1") for s in place)


def _names(place: Place) -> list[str]:
    """The names along a place, positions dropped: ("data", 0, "id") and ("data", "id") read alike."""
    return [_POSITION.sub("", s) for s in place if isinstance(s, str)]


def _pattern(text: str) -> tuple[bool, list[str]]:
    """(anywhere, names) for one mask."""
    text = text.strip()
    anchored = text.startswith("$")
    if anchored:
        text = text[1:].lstrip(".")
    if text.startswith("/"):
        parts = [_POSITION.sub("", p.replace("~1", "/").replace("~0", "~")) for p in text.split("/")[1:]]
        names = [p for p in parts if p and not p.isdigit()]
        return False, names
    names = [p for p in (_POSITION.sub("", p) for p in text.split(".")) if p]
    return not anchored and len(names) == 1 and text == names[0], names


def masker(masks: Iterable[str]) -> Callable[[Place], bool]:
    """masked(place): whether a place (or one above it) is masked."""
    patterns = [_pattern(m) for m in masks if m and m.strip()]
    if not patterns:
        return lambda place: False

    def masked(place: Place) -> bool:
        names = _names(place)
        for anywhere, wanted in patterns:
            if anywhere:
                if wanted[0] in names:
                    return True
            elif len(names) >= len(wanted) and all(w in ("*", n) for w, n in zip(wanted, names)):
                return True
        return False

    return masked


WHOLE_BODY = "$"  # the mask of a body that changes as a whole (a bare value, or items of a top-level array)
_UNSPELLABLE = re.compile(r"[.\[\]$*]|^\s|\s$")  # what a dotted mask cannot carry in a name


def as_mask(place: Place) -> str:
    """The anchored mask that covers a place and its siblings in other items: ("data", 0, "id") -> "$.data[*].id",
    ("id",) -> "$.id" (never the bare "id", which would be that name anywhere). A place under no name at all is
    the whole body, "$"; a name a dotted path cannot spell ("a.b") makes it a slash path, "/a.b/c"."""
    if not _names(place):
        return WHOLE_BODY
    out: list[str] = []
    for seg in place:
        if isinstance(seg, int):
            out.append("[*]")
            continue
        name = _POSITION.sub("", seg)
        if _UNSPELLABLE.search(name):
            return render(place)
        out.append("." + name + ("[*]" if name != seg else ""))
    return "$" + "".join(out)


def shorten(text: str, limit: int = 60) -> str:
    """One line, at most `limit` characters, with an ellipsis where cut."""
    line = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    return line if len(line) <= limit else line[: limit - 1] + "…"


def quoted(value: str, limit: int = 60) -> str:
    return '"' + shorten(value, limit).replace('"', '\\"') + '"'


def first_out_of_order(expected: Sequence[str], actual: Sequence[str]) -> tuple[str, str] | None:
    """(what came early, what it came before) for the first name of `actual` out of `expected`'s order,
    comparing only names both have; None when they agree."""
    common_expected = [n for n in expected if n in actual]
    common_actual = [n for n in actual if n in expected]
    for want, got in zip(common_expected, common_actual):
        if want != got:
            return got, want
    return None
