"""A customer document (POST/PUT) turned into the ledger's member fields: core fields (name, email,
customer type) and the rest into the member's profile. Widths are truncated, not refused, as the
vendor documents; read-only fields (id, available_points, utc_*) are ignored."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ...ledger import InvalidArgument, Member
from .params import whole_text

# Customer Fields: the longest text each keeps.
WIDTHS = {
    "alternate_code": 30, "first_name": 50, "last_name": 50, "name": 100, "company_name": 50, "tin": 30,
    "street": 50, "city": 50, "state": 50, "zipcode": 50, "country": 2, "telephone": 50, "fax": 50,
    "mobile": 50, "email": 50, "remark": 2000, "code": 30,
}
PROFILE = ("first_name", "last_name", "company_name", "tin", "street", "city", "state",
           "zipcode", "country", "telephone", "fax", "mobile", "remark", "code")
TRUE = ("1", "true", "t", "yes")


@dataclass
class CustomerCommand:
    """What to create or change; only the fields the document carried."""

    name: str | None = None
    email: str | None = None
    has_email: bool = False
    programme_no: int | None = None
    has_programme: bool = False
    # alternate_code is the member's external_ref, which the ledger keeps unique in the tenant.
    alternate_code: str | None = None
    has_alternate_code: bool = False
    profile: dict[str, Any] = field(default_factory=dict)

    def changes(self, current: Member) -> dict[str, Any]:
        """The update_member changes. The name follows first and last name whenever they are not both
        blank (the vendor's name is "first+last"); only then does a name sent on its own count."""
        out: dict[str, Any] = {}
        if self.name is not None or "first_name" in self.profile or "last_name" in self.profile:
            merged = {**current.profile, **self.profile}
            full = _full_name(merged.get("first_name"), merged.get("last_name"))
            name = full or (self.name if self.name is not None else current.name)
            out["name"] = _required_name(name)
        if self.has_email:
            out["email"] = self.email
        if self.has_programme:
            out["programme_no"] = self.programme_no
        profile = dict(self.profile)
        if self.has_alternate_code:
            out["external_ref"] = self.alternate_code
            if current.profile.get("alternate_code") is not None:
                profile["alternate_code"] = None  # kept in the profile before it had its own column
        if profile:
            out["profile"] = profile
        return out

    def new_name(self) -> str:
        full = _full_name(self.profile.get("first_name"), self.profile.get("last_name"))
        return _required_name(full or self.name or "")


def _full_name(first: Any, last: Any) -> str:
    return f"{first or ''} {last or ''}".strip()


def _required_name(name: str) -> str:
    if not name.strip():
        raise InvalidArgument("Name can't be blank")
    return name.strip()


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _scalar(fields: Mapping[str, Any], key: str) -> str | None:
    value = fields[key]
    if isinstance(value, (dict, list)):
        raise InvalidArgument(f"{_label(key)} is invalid")
    if value is None:
        return None
    return value[: WIDTHS[key]] if key in WIDTHS else value


def _birthdate(text: str | None) -> str | None:
    """An invalid birthdate becomes null, without an error (Customer Fields)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10]).isoformat()
    except ValueError:
        return None


def parse(fields: Mapping[str, Any]) -> CustomerCommand:
    command = CustomerCommand()
    for key in fields:
        if key in PROFILE:
            command.profile[key] = _scalar(fields, key) or ""
        elif key == "name":
            command.name = _scalar(fields, key) or ""
        elif key == "alternate_code":
            command.has_alternate_code = True
            code = _scalar(fields, key) or ""
            command.alternate_code = code if code.strip() else None  # no code is never a duplicate
        elif key == "email":
            command.has_email, command.email = True, (_scalar(fields, key) or "").strip() or None
        elif key == "tax_exempt":
            command.profile["tax_exempt"] = (_scalar(fields, key) or "").strip().lower() in TRUE
        elif key == "birthdate":
            command.profile["birthdate"] = _birthdate(_scalar(fields, key))
        elif key == "customer_type_id":
            command.has_programme, command.programme_no = True, _programme(_scalar(fields, key))
    return command


def _programme(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    number = whole_text(text)
    if number is None:
        raise InvalidArgument("Customer type is invalid")
    return number
