"""The ledger's commit hook, which the metrics count ledger writes by: told what a write published only
once it has committed, never for a write refused, rolled back or replayed; and every write of the ledger
goes through it."""
from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.ledger import Asset, Idempotency, InsufficientFunds, Ledger, Member, Tenant
from gateway.ledger.repo import events as event_sql

LEDGER = Path(__file__).resolve().parents[2] / "gateway" / "ledger"


@pytest.fixture
def told(ledger: Ledger) -> list[list[tuple[str, str]]]:
    seen: list[list[tuple[str, str]]] = []
    ledger.on_commit = seen.append
    return seen


async def test_a_committed_write_is_told_by_topic_and_kind(ledger: Ledger, tenant: Tenant, member: Member,
                                                           told: list[list[tuple[str, str]]]) -> None:
    await ledger.debit(tenant=tenant, member=member, amount=Decimal("5"), asset=Asset.POINTS)
    assert told == [[("entry.created", "adjustment")]]


async def test_a_refused_write_is_not_told(ledger: Ledger, tenant: Tenant, member: Member,
                                           told: list[list[tuple[str, str]]]) -> None:
    with pytest.raises(InsufficientFunds):
        await ledger.debit(tenant=tenant, member=member, amount=Decimal("100000"), asset=Asset.POINTS)
    assert told == []


async def test_a_replayed_write_is_told_once(ledger: Ledger, tenant: Tenant, member: Member,
                                            told: list[list[tuple[str, str]]]) -> None:
    key = Idempotency("test", "k-1", "same", lambda result: b"done")
    for _ in range(2):
        await ledger.credit(tenant=tenant, member=member, amount=Decimal("5"), idempotency=key)
    assert told == [[("entry.created", "adjustment")]]


async def test_a_unit_that_published_and_then_failed_is_not_told(ledger: Ledger, tenant: Tenant,
                                                                 told: list[list[tuple[str, str]]]) -> None:
    async def published_then_failed(tx: object) -> None:
        await event_sql.publish(tx, tenant.id, "entry.created", None, {"kind": "adjustment"},  # type: ignore[arg-type]
                                ledger.clock.now())
        raise RuntimeError("after publishing")

    with pytest.raises(RuntimeError):
        await ledger._commit(published_then_failed)
    assert told == [] and await ledger.events() == []


async def test_without_a_hook_nothing_is_noted(ledger: Ledger, tenant: Tenant, member: Member) -> None:
    assert ledger.on_commit is None
    await ledger.credit(tenant=tenant, member=member, amount=Decimal("1"))  # and nothing to tell: no error


WRITE_CALL = re.compile(r"\bstore\.write\(")


def writes_past_the_hook(sources: dict[str, str]) -> list[str]:
    """Calls of the store's write anywhere in the ledger but LedgerBase._commit (which the hook sees)."""
    found = []
    for name, text in sources.items():
        for number, line in enumerate(text.splitlines(), 1):
            if WRITE_CALL.search(line) and (name, _enclosing(text, number)) != ("core.py", "_commit"):
                found.append(f"{name}:{number}: {line.strip()}")
    return found


def _enclosing(text: str, number: int) -> str:
    """The name of the function the line `number` is in (the nearest def above, indented less)."""
    lines = text.splitlines()
    depth = len(lines[number - 1]) - len(lines[number - 1].lstrip())
    for line in reversed(lines[:number - 1]):
        match = re.match(r"(\s*)(?:async )?def (\w+)", line)
        if match and len(match.group(1)) < depth:
            return match.group(2)
    return ""


def test_every_ledger_write_goes_through_the_commit_hook() -> None:
    sources = {str(p.relative_to(LEDGER)): p.read_text(encoding="utf-8") for p in LEDGER.rglob("*.py")
               if "store" not in p.relative_to(LEDGER).parts}
    assert writes_past_the_hook(sources) == []


def test_the_rule_finds_a_write_that_bypasses_the_hook() -> None:
    sneaky = "class X:\n    async def op(self):\n        return await self.store.write(work)\n"
    assert writes_past_the_hook({"movements.py": sneaky}) != []
    assert writes_past_the_hook({"core.py": sneaky}) != []  # in core, but not in _commit
