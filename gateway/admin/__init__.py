"""/__admin: the sandbox's own JSON API (state, tenants, journal, faults, clock, rate limits, health and
its OpenAPI document), protected by admin_token beyond loopback."""
from __future__ import annotations

from .routes import create_admin_app

__all__ = ["create_admin_app"]
