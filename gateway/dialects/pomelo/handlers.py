"""Loyalty handlers: parse the request into a command, make one ledger call, render Pomelo's reply.
Errors are raised, never caught here: the error middleware maps them."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

from ...keys import LEDGER
from ...ledger import (
    Asset,
    By,
    Idempotency,
    Identity,
    InvalidArgument,
    Kind,
    parse_amount,
)
from ..common import read_json_object, tenant_of
from . import wire
from .auth import SCOPE_BALANCE, SCOPE_BURN, SCOPE_MINT, needs

ACCOUNT_TYPES = {a.value: a for a in (Asset.POINTS, Asset.CASHBACK, Asset.MILES)}
IDEMPOTENCY_HEADER = "x-idempotency-key"



def _holder(values: Any) -> tuple[By, str | None]:
    """Exactly one of card_id or user_id names the member."""
    card_id, user_id = values.get("card_id"), values.get("user_id")
    if (card_id is None) == (user_id is None):
        raise InvalidArgument("exactly one of card_id or user_id must be provided")
    if card_id is not None:
        if not isinstance(card_id, str) or not card_id:
            raise InvalidArgument("card_id must be a non-empty string")
        return By(Identity.CARD_REF, card_id), card_id
    if not isinstance(user_id, str) or not user_id:
        raise InvalidArgument("user_id must be a non-empty string")
    return By(Identity.USER_REF, user_id), None


@needs(SCOPE_BALANCE)
async def balance(request: web.Request) -> web.Response:
    member, card_id = _holder(request.query)
    found = await request.config_dict[LEDGER].balance(tenant=tenant_of(request), member=member)
    return web.Response(body=wire.dumps(wire.balance(found, card_id=card_id)), content_type="application/json")


@dataclass(frozen=True)
class Adjustment:
    asset: Asset
    operation: str  # MINT | BURN
    amount: Decimal
    reason: str
    member: By
    card_id: str | None
    idempotency_key: str
    fingerprint: str


async def _adjustment(request: web.Request, operation: str) -> Adjustment:
    asset = ACCOUNT_TYPES.get(request.match_info["account_type"])
    if asset is None:
        raise InvalidArgument(f"account_type must be one of {', '.join(ACCOUNT_TYPES)}")
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key:
        raise InvalidArgument(f"the {IDEMPOTENCY_HEADER} header is required")
    if len(key) > 255:
        raise InvalidArgument(f"the {IDEMPOTENCY_HEADER} header is longer than 255 characters")
    if not (key.isascii() and key.isprintable()):  # bytes that are not ASCII arrive as lone surrogates
        raise InvalidArgument(f"the {IDEMPOTENCY_HEADER} header must be printable ASCII")
    body = await read_json_object(request)
    if "amount" not in body:
        raise InvalidArgument("amount is required")
    amount = parse_amount(body["amount"], field="amount")
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidArgument("reason is required")
    member, card_id = _holder(body)
    raw = await request.read()
    fingerprint = hashlib.sha256(request.path.encode() + b"\n" + raw).hexdigest()
    return Adjustment(asset, operation, amount, reason, member, card_id, key, fingerprint)


async def _apply(request: web.Request, operation: str) -> web.Response:
    command = await _adjustment(request, operation)
    ledger = request.config_dict[LEDGER]

    def render(moved: Any) -> bytes:
        card_id = command.card_id or (moved.member.card_refs[0] if moved.member.card_refs else None)
        return wire.dumps(wire.movement(moved, operation=command.operation, reason=command.reason, card_id=card_id))

    write = ledger.credit if command.operation == "MINT" else ledger.debit
    outcome = await write(
        tenant=tenant_of(request), member=command.member, amount=command.amount, asset=command.asset,
        kind=Kind.ADJUSTMENT, note=command.reason, origin="pomelo", public_ref=ledger.ids.ksuid("lye-"),
        idempotency=Idempotency("pomelo:accounts", command.idempotency_key, command.fingerprint, render),
    )
    return web.Response(body=outcome.response, content_type="application/json")


@needs(SCOPE_MINT)
async def mint(request: web.Request) -> web.Response:
    return await _apply(request, "MINT")


@needs(SCOPE_BURN)
async def burn(request: web.Request) -> web.Response:
    return await _apply(request, "BURN")
