"""The sandbox inside an integrator's own test suite: an in-process server on a thread of its own, fresh
tenants with ready credentials for every dialect, and helpers over the admin API (faults, clock, journal,
a webhook sink). The pytest plugin (gateway/pytest_plugin.py) hands these out as fixtures."""
from __future__ import annotations

from .admin import AdminError, Clock, Fault, Faults
from .gateway import LoyaltyGateway
from .journal import Journal, JournalEntry, Requests
from .tenant import DialectView, LoyaltyTenant, UnknownMember
from .webhooks import ReceivedWebhook, WebhookSink, WebhookTimeout

__all__ = ["AdminError", "Clock", "DialectView", "Fault", "Faults", "Journal", "JournalEntry", "LoyaltyGateway",
           "LoyaltyTenant", "ReceivedWebhook", "Requests", "UnknownMember", "WebhookSink", "WebhookTimeout"]
