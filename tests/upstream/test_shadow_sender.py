"""The shadow sender, round by round, against a fake primary and a fake shadow over the real ledger (both
stores): each applied write is sent once under its own key to the shadow's own identity of the member;
refusals are final; transport trouble is retried; a write that may have applied is asked about before it
is sent again (or, at a shadow that cannot be asked, left unclear); a void names the shadow's own ref."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from gateway.ledger import Asset, Credential, Delivery, InsufficientFunds, Ledger, Member, NewDelivery, Tenant
from gateway.upstream.shadow import CHANNEL, ShadowSender, send
from tests.ledger.fake_upstream import FakeUpstream

P = Asset.POINTS
DECLARED = {"dialect": "fake", "base_url": "http://primary.example", "credentials": {},
            "shadow": {"dialect": "fake", "base_url": "http://shadow.example", "credentials": {}}}


class ShadowPorts:
    """What the sender asks of Ports: the tenant's shadow port."""

    def __init__(self, shadow: FakeUpstream) -> None:
        self.shadow = shadow

    def resolve_shadow(self, tenant: Tenant) -> Any:
        return self.shadow if tenant.section("upstream").get("shadow") else None


@pytest.fixture
def primary() -> FakeUpstream:
    return FakeUpstream(name="the primary")


@pytest.fixture
def shadow() -> FakeUpstream:
    return FakeUpstream(name="the shadow")


@pytest.fixture
async def up(ledger: Ledger, primary: FakeUpstream) -> Tenant:
    tenant = await ledger.create_tenant(name="up", credentials=[Credential("imonggo", "token-up")],
                                        config={"upstream": DECLARED})
    await ledger.upsert_programme(tenant=tenant, number=8, name="Gold", spend_ratio=Decimal("200"), earn_unit=Decimal("10"))
    ledger.bind_upstreams(lambda t: primary if t.id == tenant.id else None)
    ledger.mark_ready(tenant)
    return tenant


@pytest.fixture
async def juan(ledger: Ledger, up: Tenant, primary: FakeUpstream, shadow: FakeUpstream) -> Member:
    created = await ledger.create_member(tenant=up, name="Juan", customer_no=1534, programme_no=8, upstream_ref="usr-9")
    primary.kept[("usr-9", P)] = Decimal("100.00")
    shadow.kept[(created.user_ref, P)] = Decimal("100.00")  # the shadow knows him by its own kind of identity
    return created


@pytest.fixture
def sender(ledger: Ledger, shadow: FakeUpstream) -> ShadowSender:
    return ShadowSender(ledger, ShadowPorts(shadow), retry_base_seconds=0, max_attempts=3,  # type: ignore[arg-type]
                        timeout_seconds=1)


async def deliveries(ledger: Ledger, tenant: Tenant) -> list[Delivery]:
    return await ledger.deliveries(tenant=tenant, channel=CHANNEL)


async def test_an_applied_write_is_sent_once_under_its_key_to_the_shadows_own_identity(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert await sender.round() == 1
    assert await sender.round() == 0
    (intent,) = await ledger.intents(tenant=up, states=("applied",))
    assert shadow.apply_calls == [intent.key] and shadow.forwards[intent.key].member == juan.user_ref
    (sent,) = await deliveries(ledger, up)
    assert (sent.state, sent.label, sent.target, sent.key) == ("delivered", f"member-{juan.id}", "http://shadow.example", intent.key)
    assert sent.outcome == {"state": "applied", "ref": "up-1", "balance": "105.00", "shadow_member": juan.user_ref,
                            "claim": sent.outcome["claim"]}  # the claim that recorded it


async def test_a_tenant_without_a_shadow_enqueues_nothing(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    await ledger.update_tenant_config(tenant=up, section="upstream", values={k: v for k, v in DECLARED.items() if k != "shadow"})
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert await sender.round() == 0 and await deliveries(ledger, up) == [] and shadow.apply_calls == []


async def test_a_shadow_declared_later_is_sent_only_what_is_applied_from_then_on(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    without = {k: v for k, v in DECLARED.items() if k != "shadow"}
    up = await ledger.update_tenant_config(tenant=up, section="upstream", values=without)
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    await ledger.update_tenant_config(tenant=up, section="upstream", values=DECLARED)
    await ledger.credit(tenant=up, member=juan, amount=Decimal("6"))
    assert await sender.round() == 1
    (sent,) = await deliveries(ledger, up)
    assert shadow.apply_calls == [sent.key] and shadow.forwards[sent.key].points == Decimal("6.00")


async def test_while_no_tenant_declares_a_shadow_a_round_writes_only_to_move_the_cursor_past_new_events(
    ledger: Ledger, up: Tenant, juan: Member, sender: ShadowSender, monkeypatch: pytest.MonkeyPatch
) -> None:
    up = await ledger.update_tenant_config(tenant=up, section="upstream", values={k: v for k, v in DECLARED.items() if k != "shadow"})
    writes: list[bool] = []
    write = ledger.store.write

    async def counted(work: Any, *, alone: bool = False) -> Any:
        writes.append(alone)
        return await write(work, alone=alone)

    monkeypatch.setattr(ledger.store, "write", counted)
    await sender.round()
    await sender.round()
    assert writes == []  # nothing came: nothing written, nothing claimed
    monkeypatch.setattr(ledger.store, "write", write)
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    monkeypatch.setattr(ledger.store, "write", counted)
    await sender.round()
    assert writes == [False]  # the cursor passes the new event in a plain write, not one that runs alone
    assert await ledger.cursor(name="upstream-shadow") == (await ledger.consumer_lag(consumer="upstream-shadow", channel=CHANNEL))[1]


async def test_writes_still_due_when_the_last_shadow_is_dropped_are_refused_as_not_declared(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.down = True
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    await ledger.update_tenant_config(tenant=up, section="upstream", values={k: v for k, v in DECLARED.items() if k != "shadow"})
    await sender.round()
    (dropped,) = await deliveries(ledger, up)
    assert dropped.outcome is not None and (dropped.state, dropped.outcome["code"]) == ("refused", "shadow_not_declared")


async def test_a_refusal_is_final_and_never_sent_again(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.kept[(juan.user_ref, P)] = Decimal("1.00")
    await ledger.debit(tenant=up, member=juan, amount=Decimal("50"))
    await sender.round()
    assert await sender.round() == 0 and len(shadow.apply_calls) == 1
    (refused,) = await deliveries(ledger, up)
    assert refused.state == "refused" and refused.outcome is not None
    assert (refused.outcome["state"], refused.outcome["code"]) == ("refused", InsufficientFunds.code)


async def test_transport_trouble_is_retried_and_ends_failed_after_the_last_try(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.down = True
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    for _ in range(3):
        assert await sender.round() == 1
    assert await sender.round() == 0
    (failed,) = await deliveries(ledger, up)
    assert (failed.state, failed.attempts) == ("failed", 3)
    # every retry asks first (it was claimed before), and the shadow cannot be asked while it is down
    assert failed.outcome is not None and (failed.outcome["state"], failed.outcome["code"]) == ("failed", "upstream_timeout")
    assert shadow.apply_calls == [failed.key] and len(shadow.settle_calls) == 2


async def test_a_write_applied_whose_answer_was_lost_is_asked_about_not_applied_twice(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.keyless = True  # a resend would apply it again
    shadow.drop_next = 1
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    (waiting,) = await deliveries(ledger, up)
    assert waiting.state == "pending" and waiting.outcome is not None and waiting.outcome["sent"] is True
    await sender.round()
    (done,) = await deliveries(ledger, up)
    assert (done.state, done.attempts) == ("delivered", 2)
    assert list(shadow.writes.values()) == [1] and len(shadow.settle_calls) == 1


async def test_at_a_shadow_that_cannot_be_asked_a_write_that_may_have_applied_is_left_unclear(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.settles = False
    shadow.drop_next = 1
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    await sender.round()
    (unclear,) = await deliveries(ledger, up)
    assert unclear.state == "refused" and unclear.outcome is not None
    assert (unclear.outcome["state"], unclear.outcome["code"]) == ("unclear", "shadow_unclear")
    assert len(shadow.apply_calls) == 1  # never sent again


async def test_at_a_shadow_that_cannot_be_asked_a_claim_that_left_no_record_may_have_applied(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    # attempt 1 is surely not sent (recorded, sent: false); attempt 2 applies at the shadow and its worker dies
    # before recording it; after its lease the next claim must not send it a third time
    shadow.settles, shadow.keyless = False, True
    shadow.down = True
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    (retrying,) = await deliveries(ledger, up)
    assert retrying.outcome is not None and (retrying.outcome["state"], retrying.outcome["sent"]) == ("retrying", False)
    shadow.down = False
    (claimed,) = await ledger.claim_deliveries(lease_seconds=sender.lease_seconds, channel=CHANNEL, in_order=True)
    await send(ledger, sender.ports, up, claimed, last_try=False)  # applied there; the worker dies here
    ledger.clock.shift(timedelta(seconds=sender.lease_seconds + 1))
    await sender.round()
    (unclear,) = await deliveries(ledger, up)
    assert dict(shadow.writes) == {unclear.key: 1}
    assert unclear.outcome is not None and (unclear.state, unclear.outcome["code"]) == ("refused", "shadow_unclear")


async def test_at_a_shadow_that_cannot_be_asked_a_recorded_attempt_not_sent_is_sent_again(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.settles, shadow.down = False, True
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await sender.round()
    shadow.down = False
    await sender.round()
    (sent,) = await deliveries(ledger, up)
    assert (sent.state, sent.attempts, dict(shadow.writes)) == ("delivered", 2, {sent.key: 1})


async def test_a_write_of_a_member_marked_deleted_since_is_still_sent_as_the_primary_applied_it(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    await ledger.update_member(tenant=up, member=juan, changes={"deleted": True})
    await sender.round()
    (sent,) = await deliveries(ledger, up)
    assert sent.state == "delivered" and shadow.apply_calls == [sent.key]


async def test_a_write_of_a_member_no_longer_here_is_refused_as_gone_not_blamed_on_the_shadow(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    await ledger.enqueue_deliveries(consumer="test", upto=0, items=[NewDelivery(
        up.id, None, CHANNEL, "member-999", "http://shadow.example", "gone-key", json.dumps({"member_id": 999}))])
    await sender.round()
    (gone,) = await deliveries(ledger, up)
    assert gone.state == "refused" and gone.outcome is not None and gone.outcome["code"] == "shadow_member_gone"
    assert "deleted here" in gone.outcome["message"] and shadow.apply_calls == []


async def test_a_void_names_the_shadows_own_ref_of_the_order_it_takes_back(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    shadow.applied["padding"] = object()  # type: ignore[assignment]  (the shadow's refs differ from the primary's)
    order = await ledger.record_order(tenant=up, value=Decimal("100"), member=juan)
    await ledger.void_order(tenant=up, order=order.order.id)
    await sender.round()
    await sender.round()
    earn, void = await deliveries(ledger, up)
    assert earn.outcome is not None and earn.outcome["ref"] == "up-2"
    assert shadow.forwards[void.key].reverses == "up-2" and void.state == "delivered"


async def test_a_void_of_an_order_the_shadow_refused_is_refused_as_missing_its_original(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender
) -> None:
    order = await ledger.record_order(tenant=up, value=Decimal("100"), member=juan)
    shadow.refuse = InsufficientFunds("the shadow says no")
    await sender.round()
    shadow.refuse = None
    await ledger.void_order(tenant=up, order=order.order.id)
    await sender.round()
    earn, void = await deliveries(ledger, up)
    assert earn.state == void.state == "refused"
    assert void.outcome is not None and void.outcome["code"] == "shadow_original_missing"


async def test_a_send_that_outlasts_the_lease_keeps_its_write_from_being_taken_over(
    ledger: Ledger, up: Tenant, juan: Member, shadow: FakeUpstream, sender: ShadowSender,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lease is renewed while a call is in flight: another claimer (another instance) finds the write
    still held however long the vendor takes, so it is never sent a second time meanwhile."""
    sender.lease_seconds = 0.3  # a slow vendor: the call below lasts several leases
    taken_over: list[Delivery] = []
    sending = shadow.apply

    async def slow_apply(forward: Any) -> Any:
        for _ in range(4):
            await asyncio.sleep(sender.lease_seconds)
            taken_over.extend(await ledger.claim_deliveries(limit=10, channel=CHANNEL, in_order=True))
        return await sending(forward)

    monkeypatch.setattr(shadow, "apply", slow_apply)
    await ledger.credit(tenant=up, member=juan, amount=Decimal("5"))
    assert await sender.round() == 1
    assert taken_over == [] and len(shadow.apply_calls) == 1
    (sent,) = await deliveries(ledger, up)
    assert sent.state == "delivered" and sent.attempts == 1
