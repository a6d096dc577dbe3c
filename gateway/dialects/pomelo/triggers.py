"""The card-transaction events `loyalty-gateway trigger pomelo ...` makes happen, each one of this
dialect's documented /__admin routes (admin.py), and how a webhook delivery is matched to the call
that caused it. Data for the CLI, which names no vendor; no state changes here."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..descriptor import Trigger, TriggerArgument, Triggers
from .webhooks import EVENTS, targets

_TRANSACTION = TriggerArgument("transaction_id", "the card transaction's id (ctx-..., as purchase printed it)", "path")


def _rewards(answer: Mapping[str, Any]) -> str:
    rewards = answer.get("rewards") or []
    shown = [f"{r.get('account_type')} {r.get('amount')} {r.get('status')}" for r in rewards]
    return ", ".join(shown) or "no rewards"


def _purchased(answer: Mapping[str, Any]) -> str:
    return (f"authorized {answer.get('id')}: card {answer.get('card_id')}, {answer.get('amount')}"
            f" {answer.get('currency')}; rewards {_rewards(answer)}")


def _presented(answer: Mapping[str, Any]) -> str:
    return f"presented {answer.get('id')}; rewards {_rewards(answer)}"


def _reversed(answer: Mapping[str, Any]) -> str:
    return f"reversed {answer.get('id')}; rewards {_rewards(answer)}"


def configured(answer: Mapping[str, Any]) -> frozenset[str]:
    """GET /__admin/pomelo/webhooks's answer -> the webhook events that have a URL."""
    return frozenset(EVENTS[phase] for phase in targets(answer))


def caused(answer: Mapping[str, Any], delivery: Mapping[str, Any]) -> bool:
    """A delivery is the call's when its body names the transaction the call answered."""
    try:
        body = json.loads(delivery.get("body") or "")
    except ValueError:
        return False
    detail = body.get("event_detail") if isinstance(body, dict) else None
    return isinstance(detail, dict) and detail.get("transaction_id") == answer.get("id")


TRIGGERS = Triggers(
    events=(
        Trigger(
            "purchase", "authorize a card purchase: its rewards are held pending (loyalty-pending)",
            "POST", "/pomelo/transactions",
            (TriggerArgument("card", "the member's card (crd-...; the demo's Juan Cruz: crd-2ay34Uk2fseMY5l3OwddSRX8iR4)",
                             field="card_id"),
             TriggerArgument("amount", "the purchase's total, such as 1500.50"),
             TriggerArgument("currency", "its currency code", default="ARS")),
            (EVENTS["pending"],), _purchased,
        ),
        Trigger("presentment", "present an authorized purchase: its rewards are credited (loyalty-confirm)",
                "POST", "/pomelo/transactions/{transaction_id}/presentment", (_TRANSACTION,),
                (EVENTS["confirm"],), _presented),
        Trigger("reversal", "reverse a purchase: its rewards are cancelled, or debited back (loyalty-cancel)",
                "POST", "/pomelo/transactions/{transaction_id}/reversal", (_TRANSACTION,),
                (EVENTS["cancel"],), _reversed),
    ),
    webhook_settings="/pomelo/webhooks",
    configured=configured,
    caused=caused,
)
