"""Scenarios: JSON or TOML files that declare tenants (with their credentials for every dialect, and an
upstream vendor where their points live), customer types, members and opening balances. Validated whole
before anything is written; errors name the file and the field, never an upstream's secret. Names no
vendor: what a tenant declares in a dialect's section is that dialect's ScenarioPart, registered by app.py."""
from __future__ import annotations

import json
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema

from .dialects.descriptor import ScenarioPart
from .ledger import (
    GENERATED,
    Asset,
    Credential,
    Kind,
    Ledger,
    LedgerError,
    parse_amount,
)
from .upstream import declaration

SHIPPED = {"demo": "demo.json"}
# Filled by app.py (the one module that knows every dialect): each dialect's part of a tenant spec, by the
# name of its section. At import, not in create_app: `loyalty-gateway seed` reads scenarios with no app.
PARTS: dict[str, ScenarioPart] = {}


def register(**parts: ScenarioPart) -> None:
    PARTS.update(parts)


def login_schemes() -> set[str]:
    """Credential schemes that are a user's login rather than a dialect's API credentials."""
    return {scheme for part in PARTS.values() for scheme in part.logins}


class ScenarioError(Exception):
    """A scenario could not be read or applied; the message names the file and the field."""


def _data_file(name: str) -> Path:
    """Files shipped inside the package (gateway/data), so an installed wheel finds them too."""
    return Path(__file__).resolve().parent / "data" / name


def scenario_schema() -> dict[str, Any]:
    """The JSON Schema every scenario is validated with (the admin API's OpenAPI document shows it too)."""
    return json.loads(_data_file("scenario.schema.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def resolve_scenario(value: str | None) -> Path | None:
    """`demo` names the shipped demo (found in an installed wheel too), `none` or empty means none."""
    if not value or value.lower() == "none":
        return None
    if value in SHIPPED:
        return _data_file(SHIPPED[value])
    return Path(value)


def read_scenario(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"scenario {path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"scenario {path}: not UTF-8 text") from None
    if path.suffix.lower() == ".toml":
        try:
            data: Any = tomllib.loads(text, parse_float=Decimal)  # never float, as for JSON
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError(f"scenario {path}: not valid TOML ({exc})") from None
    else:
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"scenario {path}: not valid JSON at line {exc.lineno} column {exc.colno} ({exc.msg})") from None
    _validate(path, _plain(data))
    return data


def _plain(data: Any) -> Any:
    """Decimals as strings so the JSON Schema sees what the file said."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, Decimal):
        return str(data)
    return data


def _field(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _validate(path: Path | str, data: Any) -> None:
    _check_upstreams(path, data)
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(scenario_schema()).iter_errors(data))
    if error is not None:
        message = error.message
        for secret in _upstream_secrets(data):  # a schema message may quote a value holding one
            message = message.replace(secret, declaration.MASK)
        raise ScenarioError(f"scenario {path}: field {_field(error.absolute_path)}: {message}")
    names: set[str] = set()
    for t, tenant in enumerate(data["tenants"]):
        if tenant["name"] in names:
            raise ScenarioError(f"scenario {path}: field tenants[{t}].name: tenant {tenant['name']!r} appears twice")
        names.add(tenant["name"])
        for name, part in PARTS.items():
            if part.check is not None and name in tenant:
                try:
                    part.check(tenant[name])
                except ValueError as exc:
                    raise ScenarioError(f"scenario {path}: field tenants[{t}].{name}.{exc}") from None
        types = {ct["id"] for ct in tenant.get("customer_types", [])}
        seen: dict[str, set[Any]] = {"customer_id": set(), "mbr_id": set(), "email": set(), "user_id": set(),
                                     "upstream_id": set()}
        codes: set[str | None] = set()
        for m, member in enumerate(tenant.get("members", [])):
            where = f"tenants[{t}].members[{m}]"
            if "upstream_id" in member and "upstream" not in tenant:
                raise ScenarioError(
                    f"scenario {path}: field {where}.upstream_id: the tenant declares no upstream for it to name a member of"
                )
            if member.get("balances") and "upstream" in tenant:
                raise ScenarioError(
                    f"scenario {path}: field {where}.balances: the tenant's points live at its upstream, so its"
                    " members have no opening balance here"
                )
            if "customer_type_id" in member and member["customer_type_id"] not in types:
                raise ScenarioError(
                    f"scenario {path}: field {where}.customer_type_id: no customer type {member['customer_type_id']}"
                )
            for key, values in seen.items():
                value = member.get(key)
                if isinstance(value, str) and key != "upstream_id":  # an upstream's ids may differ by case alone
                    value = value.lower()
                if value is not None and value in values:
                    raise ScenarioError(f"scenario {path}: field {where}.{key}: {member[key]!r} appears twice")
                values.add(value)
            code = _external_ref(member)
            if code is not None and code in codes:
                raise ScenarioError(f"scenario {path}: field {where}.profile.alternate_code: {code!r} appears twice")
            codes.add(code)
            for asset, amount in member.get("balances", {}).items():
                try:
                    parse_amount(str(amount), allow_zero=True)
                except LedgerError as exc:
                    raise ScenarioError(f"scenario {path}: field {where}.balances.{asset}: {exc.message}") from None
        dated = [(f"tenants[{t}].customer_types[{c}]", ct) for c, ct in enumerate(tenant.get("customer_types", []))]
        dated += [(f"tenants[{t}].members[{m}]", member) for m, member in enumerate(tenant.get("members", []))]
        for where, record in dated:
            for key in ("created_at", "updated_at"):
                try:  # the schema checks the shape only: 2024-02-30 has it too
                    _time(record.get(key))
                except ValueError:
                    raise ScenarioError(f"scenario {path}: field {where}.{key}: {record[key]!r} is no real time") from None


def _tenants(data: Any) -> list[tuple[int, dict[str, Any]]]:
    """The tenant objects of a document not yet checked against the schema (anything else is left to it)."""
    tenants = data.get("tenants") if isinstance(data, dict) else None
    return [(t, tenant) for t, tenant in enumerate(tenants) if isinstance(tenant, dict)] if isinstance(tenants, list) else []


def _check_upstreams(path: Path | str, data: Any) -> None:
    """Upstreams are checked before the schema, by their own rules: the dialects are the registered ones,
    and no message may quote a credential's value."""
    for t, tenant in _tenants(data):
        if "upstream" in tenant:
            try:
                declaration.check(tenant["upstream"], f"tenants[{t}].upstream")
            except declaration.DeclarationError as exc:
                raise ScenarioError(f"scenario {path}: field {exc}") from None


def _upstream_secrets(data: Any) -> list[str]:
    return [s for _, tenant in _tenants(data) for s in declaration.secrets_of(tenant.get("upstream") or {})]


def _external_ref(member: dict[str, Any]) -> str | None:
    """A customer record's alternate_code is the member's unique external_ref (absent or empty: none)."""
    code = (member.get("profile") or {}).get("alternate_code")
    return str(code) if code not in (None, "") else None


def sealed(spec: dict[str, Any], *, cost: int | None = None) -> dict[str, Any]:
    """A tenant spec whose secrets are kept only as hashes (each dialect seals its own section), so the spec
    can be stored (reset rebuilds from it) without a password in clear. `cost` is for generated passwords."""
    out = spec
    for name, part in PARTS.items():
        if part.seal is not None and name in spec:
            section = part.seal(spec[name], cost)
            if section is not spec[name]:
                out = {**out, name: section}
    return out


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


async def load_scenario(ledger: Ledger, path: Path) -> list[str]:
    """Validate the whole file, then create its tenants. Returns the tenant names created."""
    return await apply_scenario(ledger, read_scenario(path), path)


def check_scenario(data: Any, source: str) -> dict[str, Any]:
    """Validate an already parsed scenario document (e.g. a request body) as read_scenario does a file.
    Returns it with Decimals as strings, the form a tenant's configuration can store."""
    plain = _plain(data)
    _validate(source, plain)
    return plain  # type: ignore[no-any-return]


async def apply_scenario(ledger: Ledger, data: dict[str, Any], source: Path | str) -> list[str]:
    """Create every tenant of a validated scenario; refused whole if any of its tenant names exists."""
    path = source
    existing = {t.name for t in await ledger.tenants()}
    for t, tenant in enumerate(data["tenants"]):
        if tenant["name"] in existing:
            raise ScenarioError(f"scenario {path}: field tenants[{t}].name: tenant {tenant['name']!r} exists already")
    created = []
    for t, spec in enumerate(data["tenants"]):
        try:
            await apply_tenant(ledger, spec)
        except LedgerError as exc:
            raise ScenarioError(f"scenario {path}: tenants[{t}] ({spec['name']}): {exc.message}") from None
        created.append(spec["name"])
    return created


def tenant_parts(spec: dict[str, Any]) -> tuple[list[Credential], dict[str, Any]]:
    """The credentials and configuration sections a scenario's tenant declares."""
    credentials: list[Credential] = []
    config: dict[str, Any] = {}
    whole = sealed(spec)
    for name, part in PARTS.items():
        if name in spec:
            found, config[name] = part.parts(_plain(whole[name]), spec["name"])
            credentials.extend(found)
    if "upstream" in spec:
        config[declaration.SECTION] = declaration.check(spec["upstream"], "upstream")
    return credentials, config


async def apply_tenant(ledger: Ledger, spec: dict[str, Any]) -> None:
    credentials, config = tenant_parts(spec)
    tenant = await ledger.create_tenant(name=spec["name"], credentials=credentials, config=config)
    for ct in spec.get("customer_types", []):
        await ledger.upsert_programme(
            tenant=tenant, number=ct["id"], name=ct["name"],
            spend_ratio=_decimal(ct.get("point_to_amount_ratio")), earn_unit=_decimal(ct.get("amount_per_point")),
            discount=Decimal(str(ct.get("discount_percent", "0"))) / 100,
            created_at=_time(ct.get("created_at")), updated_at=_time(ct.get("updated_at")),
        )
    for m in spec.get("members", []):
        member = await ledger.create_member(
            tenant=tenant, name=m.get("name", ""), email=m.get("email"), customer_no=m.get("customer_id"),
            member_no=m.get("mbr_id"), user_ref=m.get("user_id"), card_refs=m.get("card_ids", []),
            programme_no=m.get("customer_type_id"), profile=m.get("profile", {}), external_ref=_external_ref(m),
            upstream_ref=m.get("upstream_id"),
            created_at=_time(m.get("created_at")), updated_at=_time(m.get("updated_at")),
        )
        for asset, amount in m.get("balances", {}).items():
            value = parse_amount(str(amount), allow_zero=True)
            if value > 0:
                await ledger.credit(
                    tenant=tenant, member=member, amount=value, asset=Asset(asset), kind=Kind.OPENING,
                    note="Opening balance", origin="scenario", occurred_at=_time(m.get("created_at")),
                )
