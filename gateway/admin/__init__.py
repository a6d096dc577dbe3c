"""/__admin: the sandbox's own JSON API (health now; state, journal, faults and clock follow)."""
from __future__ import annotations

from .routes import create_admin_app

__all__ = ["create_admin_app"]
