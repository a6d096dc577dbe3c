"""A tenant of N synthetic members (`seed --generate`, `POST /__admin/tenants {"generate": N}`): the demo
scenario's tenant (catalogue, customer types) under a fresh name with fresh credentials, made as the admin
API makes any tenant, then filled in bulk from the generator. Knows no vendor: the dialects' makers are
handed in; a failure part-way deletes the tenant again, so no half-filled tenant is left behind."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from ..dialects.descriptor import Dialect
from ..ledger import InvalidArgument, Ledger, NewMember, Tenant, add_members_in_bulk
from ..settings import Settings
from ..synthetic import BATCH, Maker, generate
from . import tenants as made

Progress = Callable[[int, int], None]  # (members written so far, members wanted)
# The most POST /__admin/tenants makes in one request (the CLI has no bound). The request holds the store's
# one writer between its batches and its client waits for the whole tenant: 10,000 members take about a
# second, well inside any client's timeout, while a million would hold a CI job's sandbox for a minute.
HTTP_LIMIT = 10_000
PIECE = 250  # members made between two looks at the loop
GENERATED = "generated"  # in the tenant's sandbox section: [count, seed] it was generated with


def check_count(value: Any, *, limit: int | None = None) -> int:
    """N as a whole positive number (a bool or "10" is no count), at most `limit` when given."""
    if type(value) is not int or value < 1:  # noqa: E721 - True is an int to isinstance
        raise InvalidArgument(f"generate must be a positive whole number of members, not {value!r}")
    if limit is not None and value > limit:
        raise InvalidArgument(f"generate is at most {limit} here; use `loyalty-gateway seed --generate N` for more")
    return value


def check_seed(value: Any) -> int:
    if type(value) is not int:  # noqa: E721
        raise InvalidArgument(f"seed must be a whole number, not {value!r}")
    return value


def makers_of(dialects: Sequence[Dialect]) -> list[Maker]:
    """What each dialect adds to a generated member (its descriptor's `synthetic`)."""
    return [d.synthetic for d in dialects if d.synthetic is not None]


def base_spec() -> dict[str, Any]:
    """The shipped demo tenant without its members: what a generated tenant's catalogue and types are."""
    spec = dict(made.pick_tenant(made.pick_scenario({}), None))
    spec.pop("members", None)
    return spec


async def from_request(
    ledger: Ledger, body: dict[str, Any], dialects: Sequence[Dialect], refuse_existing: Callable[[Ledger, list[str]], Any],
) -> dict[str, Any]:
    """`{"generate": N, "name": ..., "seed": S}`: the tenant made, as `POST /__admin/tenants` answers it."""
    if "scenario" in body or "tenant" in body:
        raise InvalidArgument("generate makes its tenant from the demo's: scenario and tenant do not go with it")
    if "generate" not in body:
        raise InvalidArgument("seed goes with generate")
    count = check_count(body["generate"], limit=HTTP_LIMIT)
    seed = check_seed(body.get("seed", 1))
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidArgument("name must be a string")
    name = name or f"generated-{secrets.token_hex(4)}"
    await refuse_existing(ledger, [name])
    return await generate_tenant(ledger, count=count, name=name, seed=seed, dialects=dialects)


async def generate_tenant(
    ledger: Ledger, *, count: int, name: str, seed: int, dialects: Sequence[Dialect], progress: Progress | None = None,
) -> dict[str, Any]:
    """Make the tenant and its `count` members; returns what `POST /__admin/tenants` answers for it."""
    fresh = made.checked({"tenants": [made.fresh_credentials(base_spec(), name, dialects)]}, "generated tenant")["tenants"][0]
    tenant = await made.build(ledger, fresh, generated=True)
    # Remembered beside the spec, so a reset makes the same members again (reset_tenant below).
    tenant = await ledger.update_tenant_config(
        tenant=tenant, section=made.SECTION, values={**tenant.section(made.SECTION), GENERATED: [count, seed]}
    )
    written = await _fill(ledger, tenant, count, seed, makers_of(dialects), progress)
    return {"name": tenant.name, "members": written, **made.credentials_of(fresh, dialects)}


async def reset_tenant(ledger: Ledger, settings: Settings, name: str, dialects: Sequence[Dialect]) -> Tenant:
    """made.reset_tenant, and a generated tenant's members made again, the same ones (same count and seed)."""
    count_seed = (await ledger.tenant(name)).section(made.SECTION).get(GENERATED)
    tenant = await made.reset_tenant(ledger, settings, name)
    if count_seed:
        count, seed = count_seed
        tenant = await ledger.update_tenant_config(
            tenant=tenant, section=made.SECTION, values={**tenant.section(made.SECTION), GENERATED: [count, seed]}
        )
        await _fill(ledger, tenant, count, seed, makers_of(dialects), None)
    return tenant


async def _fill(
    ledger: Ledger, tenant: Tenant, count: int, seed: int, makers: Sequence[Maker], progress: Progress | None
) -> int:
    """Write `count` generated members into a tenant made for them; a failure part-way deletes the tenant."""
    written = 0
    writing: asyncio.Future[int] | None = None

    async def hand_over(batch: list[NewMember] | None) -> None:
        """Wait for the batch being written, then start writing this one (None: the end)."""
        nonlocal written, writing
        if writing is not None:
            written += await writing
            if progress is not None:
                progress(written, count)
        # Only this call made the tenant and every identity in it: nothing to look up before writing.
        writing = None if batch is None else asyncio.ensure_future(
            add_members_in_bulk(ledger, tenant=tenant, members=batch, origin="generated", check_taken=False)
        )

    try:
        # Made in small pieces with the loop let in between, so the batch before is being written (its
        # statements run off the loop) while the next is made, and a server keeps answering meanwhile.
        batch: list[NewMember] = []
        for piece in generate(count, seed=seed, makers=makers, batch=PIECE):
            batch += piece
            await asyncio.sleep(0)
            if len(batch) >= BATCH:
                await hand_over(batch)
                batch = []
        await hand_over(batch or None)
        await hand_over(None)
    except BaseException:
        if writing is not None and not writing.done():
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)
        await asyncio.shield(ledger.delete_tenants(tenants=[tenant]))
        raise
    return written
