"""The table `python -m bench` prints and writes as JSON: one Measure per row, the way the issue's table
reads (measure | now | target | met?). Knows nothing of how a figure was measured."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Measure:
    measure: str
    now: str  # medians and the ratio to the reference, as a person reads them
    target: str
    met: bool | None  # None: not measured here (n/a), or no target
    figures: dict[str, Any] = field(default_factory=dict)  # the numbers behind `now`, for the JSON


def _mark(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "n/a"}[met]


def table(measures: Sequence[Measure]) -> str:
    """A Markdown table, so the README can show it verbatim."""
    rows = [("measure", "now (median, ratio)", "target", "met?")]
    rows += [(m.measure, m.now, m.target, _mark(m.met)) for m in measures]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def write_json(path: Path, measures: Sequence[Measure], settings: dict[str, Any]) -> None:
    path.write_text(json.dumps({"settings": settings, "rows": [asdict(m) for m in measures]}, indent=2) + "\n")


def ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:,.0f} ms"


def rate(value: float) -> str:
    return f"{value:,.0f}"
