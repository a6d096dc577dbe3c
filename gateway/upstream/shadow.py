"""Shadow runs: every write a tenant's primary upstream applied is sent to its shadow upstream too, through
the outbox (an `upstream.applied` event becomes a delivery on the shadow channel, claimed in order per
member). The names below are stored as data: never rename them. Names no vendor."""
from __future__ import annotations

import dataclasses

from ..ledger import APPLIED_TOPIC, Member, Upstream

CONSUMER = "upstream-shadow"  # the outbox cursor of the shadow sender
CHANNEL = "upstream-shadow"  # the deliveries' channel
TOPIC = APPLIED_TOPIC  # the outbox event a shadow write is made from ("upstream.applied")


def label_of(member_id: int) -> str:
    """A shadow delivery's label: one member's writes are claimed in order, one at a time."""
    return f"member-{member_id}"


def shadow_member_ref(port: Upstream, member: Member) -> str:
    """The identity the shadow's kind of API names the member by. member.upstream_ref is the PRIMARY's
    identity, so it is cleared first: the shadow knows the member by the shadow dialect's own identity."""
    return port.member_ref(dataclasses.replace(member, upstream_ref=None))
