"""What every dialect's case loader shares: reading a cases file, JSON written back as the case wrote it
(Decimals as their text, key order kept), and the demo's credential values
turned into {name} placeholders the runner fills. Neutral: knows no vendor and no HTTP."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from .model import Step


PINNED = Path(__file__).resolve().parent / "pinned"  # the fixtures, shipped in the wheel


class CasesError(ValueError):
    """A cases file that cannot be read as cases: the file and what is wrong, in one line."""


def read_cases(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    except (OSError, ValueError) as exc:
        raise CasesError(f"{path}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise CasesError(f"{path}: not a cases document (an object with a cases list)")
    return document


def json_bytes(value: Any) -> bytes:
    """Compact JSON, Decimals written as the numbers they are and keys in the case's order."""
    return _dump(value).encode()


def _dump(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def writes(steps: Sequence[Step], *, no_state: Sequence[str] = ()) -> bool:
    """Whether a case may change the target's state, so shape mode skips it without --allow-writes: any step
    that is not a GET or HEAD, unless its path starts with one of no_state (a token grant changes no points)
    or it pins a 405 (a method the route does not take)."""
    return any(s.request.method not in ("GET", "HEAD") and s.expect.status != 405
               and not s.request.path.startswith(tuple(no_state)) for s in steps)


def placeholders(text: str, values: Mapping[str, str]) -> str:
    """The text with each credential value replaced by its {name}, so another tenant's fill in (longest first:
    a value that holds another is replaced whole)."""
    for name, value in sorted(values.items(), key=lambda item: -len(item[1])):
        if value:
            text = text.replace(value, "{" + name + "}")
    return text


def fill(text: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
