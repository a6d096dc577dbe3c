"""The web console at /__admin/console: server-rendered pages that carry no data, whose small scripts read and
change the sandbox only through documented admin API calls. Names no vendor: what a dialect shows comes from
its descriptor. The registry is imported first, so a page module may be imported on its own."""
from __future__ import annotations

from .registry import PAGES, ConsolePage

__all__ = ["PAGES", "ConsolePage"]
