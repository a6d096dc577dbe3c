"""Tenants the admin API makes and remakes: a scenario tenant copied under a fresh name with freshly
generated credentials for every dialect, the scenario each tenant came from (kept in its "sandbox"
configuration section), and reset = drop the tenant and rebuild it from that scenario."""
from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import Any

from ..dialects.descriptor import Dialect
from ..ledger import GENERATED, InvalidArgument, Ledger, LedgerError, Tenant, UnknownTenant
from ..scenario import (
    ScenarioError,
    apply_tenant,
    check_scenario,
    read_scenario,
    resolve_scenario,
    sealed,
)
from ..settings import Settings
from .wire import upstream_json

SECTION = "sandbox"  # the tenant's configuration section holding the scenario it was built from


def fresh_credentials(spec: dict[str, Any], name: str, dialects: Sequence[Dialect]) -> dict[str, Any]:
    """A copy of a scenario tenant under `name` with new credentials for every dialect (each dialect makes
    its own). Member ids stay: they are per tenant, so they cannot collide with another tenant's."""
    fresh = copy.deepcopy(spec)
    fresh["name"] = name
    for dialect in dialects:
        make = dialect.admin.fresh_credentials
        if make is not None:
            fresh[dialect.name] = make(fresh.get(dialect.name, {}), name)
    return fresh


def credentials_of(spec: dict[str, Any], dialects: Sequence[Dialect]) -> dict[str, Any]:
    """What a test job needs to talk to its tenant in each dialect (a fresh copy's only: its logins'
    passwords were just generated, so this is the one reply that shows them)."""
    out: dict[str, Any] = {}
    for dialect in dialects:
        show = dialect.admin.credentials_view
        if show is not None and dialect.name in spec:
            out[dialect.name] = show(spec[dialect.name], spec["name"])
    if "upstream" in spec:  # the gateway's own credentials above are fresh; the upstream's are not, and stay hidden
        out["upstream"] = upstream_json(spec["upstream"])
    return out


def checked(data: Any, source: str) -> dict[str, Any]:
    """A scenario document validated; a bad one is an InvalidArgument naming the field."""
    try:
        return check_scenario(data, source)
    except ScenarioError as exc:
        raise InvalidArgument(str(exc)) from None


def pick_scenario(body: dict[str, Any]) -> dict[str, Any]:
    """The scenario a request names: a document under "scenario", or a shipped name ("demo", the default)."""
    given = body.get("scenario", "demo")
    if isinstance(given, str):
        path = resolve_scenario(given)
        if path is None or given != "demo":
            raise InvalidArgument('scenario must be a scenario document or "demo"')
        return checked(read_scenario(path), given)
    return checked(given, "request body")


def pick_tenant(scenario: dict[str, Any], wanted: Any) -> dict[str, Any]:
    tenants = scenario["tenants"]
    if not tenants:
        raise InvalidArgument("the scenario declares no tenant")
    if wanted is None:
        return tenants[0]  # type: ignore[no-any-return]
    for spec in tenants:
        if spec["name"] == wanted:
            return spec  # type: ignore[no-any-return]
    raise InvalidArgument(f"the scenario has no tenant named {wanted!r}")


async def build(ledger: Ledger, spec: dict[str, Any], *, generated: bool = False) -> Tenant:
    """Create a tenant from its scenario spec and remember the spec, so reset can rebuild it. Passwords
    are hashed first (cheaply when `generated`), in a thread since scrypt would stop every other request:
    the remembered spec never holds one in clear."""
    spec = await asyncio.to_thread(sealed, spec, cost=GENERATED if generated else None)
    await apply_tenant(ledger, spec)
    tenant = await ledger.tenant(spec["name"])
    return await ledger.update_tenant_config(tenant=tenant, section=SECTION, values={"spec": spec})


async def build_all(ledger: Ledger, specs: list[dict[str, Any]]) -> None:
    """Build every tenant or none: if one is refused (say, a credential another tenant holds), the ones
    built before it are deleted again."""
    built: list[Tenant] = []
    try:
        for spec in specs:
            built.append(await build(ledger, spec))
    except LedgerError:
        await ledger.delete_tenants(tenants=built)
        raise


def startup_specs(settings: Settings) -> dict[str, dict[str, Any]]:
    path = resolve_scenario(settings.scenario)
    if path is None:
        return {}
    try:
        data = read_scenario(path)
    except ScenarioError as exc:
        raise InvalidArgument(str(exc)) from None
    return {spec["name"]: spec for spec in checked(data, str(path))["tenants"]}


async def reset_tenant(ledger: Ledger, settings: Settings, name: str) -> Tenant:
    tenant = await ledger.tenant(name)
    spec = tenant.section(SECTION).get("spec") or startup_specs(settings).get(name)
    if spec is None:
        raise UnknownTenant(f"no scenario is known for tenant {name!r}, so it cannot be reset")
    await ledger.delete_tenants(tenants=[tenant])
    return await build(ledger, dict(spec))


async def reset_all(ledger: Ledger, settings: Settings) -> list[str]:
    specs = startup_specs(settings)  # read first: a scenario that has gone bad must not cost the tenants
    await ledger.delete_tenants(tenants=await ledger.tenants())
    await build_all(ledger, list(specs.values()))
    return list(specs)


