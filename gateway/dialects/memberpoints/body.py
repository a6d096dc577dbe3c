"""The POST memberpoints document → an adjustment command. The JSON comes as the raw body, as a form
field `data`, or as a `data` query parameter; every field is checked before the ledger is called."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from ...ledger import By, Identity, parse_amount
from ...whole_numbers import json_whole, whole_number
from ..common import BodyError, parsed_json
from .errors import RequestError
from .filters import parse_when

MAX_NOTE = 2000
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass(frozen=True)
class AdjustCommand:
    member: By | None
    amount: Decimal | None
    note: str | None
    occurred_at: datetime | None
    revises: int | None


async def read_document(request: web.Request) -> Any:
    """The JSON document: a form's `data` field, else the raw body (also when a client such as `curl -d`
    labels raw JSON as a form), else a `data` query parameter."""
    text: str | None = None
    if request.content_type in _FORMS:
        try:
            form = await request.post()
        except (UnicodeDecodeError, ValueError, HttpProcessingError):  # a part's text or headers aiohttp cannot read
            raise RequestError(400, "the form is not readable: send UTF-8 fields with well-formed part headers") from None
        field = form.get("data")
        text = field if isinstance(field, str) else None
    if text is None:
        raw = await request.read()
        if raw.strip():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise RequestError(400, "request body is not UTF-8 text") from None
        elif "data" in request.query:
            text = request.query["data"]
        else:
            raise RequestError(400, "request body is empty: send the JSON as the body or as a data field")
    try:
        return parsed_json(request, text)
    except BodyError as exc:
        raise RequestError(400, f"data is not valid JSON: {exc}") from None



def _number(doc: dict[str, Any], name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    # clients send ids as JSON numbers or as the digit strings the replies carry; both read the same way
    number = whole_number(value, low=1) if isinstance(value, str) else json_whole(value, low=1)
    if number is None:
        raise RequestError(400, f"{name} must be a positive whole number")
    return number


def adjust_command(doc: Any) -> AdjustCommand:
    if not isinstance(doc, dict):
        raise RequestError(400, "data must be one JSON object")
    revises = _number(doc, "id")
    alias = _number(doc, "pointsadjustid")
    if revises is not None and alias is not None and revises != alias:
        raise RequestError(400, "id and pointsadjustid name different adjustments")
    revises = revises if revises is not None else alias
    member: By | None = None
    member_no = _number(doc, "mbr_id")
    email = doc.get("mbr_email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email.strip())):
        raise RequestError(400, "mbr_email must be an e-mail address")
    if member_no is not None:
        member = By(Identity.MEMBER_NO, member_no)  # mbr_id wins when both are sent
    elif email is not None:
        member = By(Identity.EMAIL, email.strip())
    amount = None
    if doc.get("adjustpoints") is not None:
        amount = parse_amount(doc["adjustpoints"], field="adjustpoints", allow_negative=True, allow_zero=True)
    if revises is None and member is None:
        raise RequestError(400, "mbr_id or mbr_email is required")
    if revises is None and amount is None:
        raise RequestError(400, "adjustpoints is required")
    note = doc.get("adjustmentnote")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise RequestError(400, f"adjustmentnote must be text of at most {MAX_NOTE} characters")
    occurred_at = None
    if doc.get("adjustdate") is not None:
        if not isinstance(doc["adjustdate"], str):
            raise RequestError(400, "adjustdate must be a date as dd/mm/yyyy or yyyy-mm-dd, optionally with a time")
        occurred_at = parse_when(doc["adjustdate"], "adjustdate").period.start
    return AdjustCommand(member, amount, note, occurred_at, revises)
