"""POST /__admin/provider-states: a contract case's state set up on this server (Pact's provider-states
URL), so verify can compare answers exactly. The dialect named turns its state into a scenario tenant, ledger
calls and a clock (its ContractCases.provider_state); this module builds it and answers the credentials.
Knows no vendor: everything a state means is the dialect's."""
from __future__ import annotations

import logging
import secrets
from typing import Any

from aiohttp import web

from ..dialects.descriptor import Dialect, ProviderState
from ..keys import DIALECTS, LEDGER, STATE_SETUPS
from ..ledger import InvalidArgument, Ledger, LedgerError, StoreUnavailable, Tenant, UnknownTenant
from ..sandbox.shared import settled
from . import tenants as made
from .wire import body_of

log = logging.getLogger(__name__)
KEYS = frozenset({"dialect", "state", "tenant"})


def _dialect(body: dict[str, Any], dialects: tuple[Dialect, ...]) -> Dialect:
    name = body.get("dialect")
    offered = [d.name for d in dialects if d.cases is not None and d.cases.provider_state is not None]
    for dialect in dialects:
        if dialect.name == name and dialect.name in offered:
            return dialect
    raise InvalidArgument(f"dialect must be one of {', '.join(offered)}")


def _setup(dialect: Dialect, state: Any) -> ProviderState:
    if not isinstance(state, dict):
        raise InvalidArgument("state must be an object (the case's state)")
    assert dialect.cases is not None and dialect.cases.provider_state is not None
    try:
        setup: ProviderState = dialect.cases.provider_state(state)
    except ValueError as exc:
        raise InvalidArgument(str(exc)) from None
    return setup


async def set_up(request: web.Request) -> web.Response:
    """Body {"dialect", "state", "tenant"?}: the tenant named (default: a fresh name) is replaced by the state's
    one, with new credentials; 200 with its name and credentials per dialect. A bad body or state is refused
    before anything is deleted or built, and a state that fails half-way is taken down again."""
    ledger: Ledger = request.config_dict[LEDGER]
    dialects = request.config_dict[DIALECTS]
    body = await body_of(request)
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise InvalidArgument(f"unknown field(s) {', '.join(unknown)}: the body takes dialect, state and tenant")
    setup = _setup(_dialect(body, dialects), body.get("state"))
    wanted = body.get("tenant")
    if wanted is not None and (not isinstance(wanted, str) or not wanted.strip()):
        raise InvalidArgument("tenant must be a tenant name")
    spec = made.pick_tenant(made.pick_scenario({"scenario": setup.scenario}), setup.tenant)
    name = wanted or f"{spec['name']}-{secrets.token_hex(4)}"
    fresh = made.fresh_credentials(spec, name, dialects) if setup.fresh_credentials else {**spec, "name": name}
    fresh = made.checked({"tenants": [fresh]}, "state")["tenants"][0]
    async with request.config_dict[STATE_SETUPS]:  # one set-up at a time: a second one of this name waits
        await _drop(ledger, name)
        await settled(ledger.clock.reset())  # first, so the tenant is built in real time (a case froze it before)
        tenant = await _made(ledger, fresh, setup, name)
    return web.json_response({"name": name, "members": await ledger.count_members(tenant=tenant),
                              **made.credentials_of(fresh, dialects)})


async def _made(ledger: Ledger, fresh: dict[str, Any], setup: ProviderState, name: str) -> Tenant:
    """The tenant built and its state's follow-up applied, or nothing: on any failure half-way (the build's
    many ledger calls, a movement refused, the store gone) the new tenant is taken down again."""
    try:
        tenant = await made.build(ledger, fresh, generated=True)
        if setup.then is not None:
            await setup.then(ledger, tenant)
        if setup.clock is not None:
            await settled(ledger.clock.freeze(setup.clock))
    except BaseException as exc:
        try:
            await _drop(ledger, name)
        except Exception:  # the first failure is the one to tell; this one is only logged
            log.exception("provider state %r: could not take the half-made tenant down", name)
        if isinstance(exc, (LedgerError, ValueError)) and not isinstance(exc, StoreUnavailable):
            # a movement the ledger refuses (a redemption beyond the balance) is a state that cannot be: 400
            raise InvalidArgument(f"state: {exc.message if isinstance(exc, LedgerError) else exc}") from None
        raise  # anything else is the admin API's 500 (or 503), in its error shape
    return tenant


async def _drop(ledger: Ledger, name: str) -> None:
    try:
        old = await ledger.tenant(name)
    except UnknownTenant:
        return
    await ledger.delete_tenants(tenants=[old])
