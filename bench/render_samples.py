"""Representative ledger records for the rendering benchmark and the rendering tests: a customer with a
programme, a page of customers, a reward spend, an invoice with lines and payments, memberpoints history and
balance rows, a pomelo balance. Plain data only; renders nothing."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from gateway.ledger import (
    AccountBalance,
    Asset,
    Balance,
    BalanceRow,
    Entry,
    Member,
    Movement,
    Order,
    Programme,
    SpendResult,
)
from gateway.ledger.models import Kind, Status

AT = datetime(2013, 5, 25, 2, 24, 31, 834896, tzinfo=timezone.utc)


def member(number: int = 1534, *, name: str = "Juan Cruz", email: str | None = "juan@example.com",
           profile: dict[str, object] | None = None, external_ref: str | None = "ALT-1534") -> Member:
    return Member(
        id=number, tenant_id=1, customer_no=number, member_no=number, email=email, user_ref=f"usr-{number}",
        card_refs=(f"card-{number}",), name=name, programme_no=1,
        profile=profile if profile is not None else {
            "first_name": "Juan", "last_name": "Cruz", "city": "Makati", "street": "1 Ayala Ave",
            "birthday": "1980-01-02", "remark": "prefers e-mail", "mobile": "+63 917 000 0000",
        },
        deleted=False, created_at=AT, updated_at=AT, external_ref=external_ref,
    )


PROGRAMME = Programme(
    tenant_id=1, number=1, name="Gold", spend_ratio=Decimal("1.00"), earn_unit=Decimal("100.00"),
    discount=Decimal("0.10"), data={}, status=None, created_at=AT, updated_at=AT,
)


def entry(number: int = 7, *, amount: str = "-10.00", kind: Kind = Kind.REWARD, note: str | None = "Reward",
          reference: str | None = "INV-1", asset: Asset = Asset.POINTS) -> Entry:
    return Entry(
        id=number, tenant_id=1, member_id=1534, asset=asset, amount=Decimal(amount), record_id=number,
        record_amount=Decimal(amount), kind=kind, status=Status.CONFIRMED, reference=reference, note=note,
        origin=None, value=Decimal("10.00"), order_id=None, reverses_id=None, public_ref=f"mv-{number}",
        occurred_at=AT, created_at=AT, data={}, member_no=1534, customer_no=1534,
    )


def account(posted: str = "30511.00", asset: Asset = Asset.POINTS) -> AccountBalance:
    return AccountBalance(asset=asset, posted=Decimal(posted), pending=Decimal("0.00"), updated_at=AT)


def spend() -> SpendResult:
    moved = Movement(entry=entry(), balance=account(), member=member())
    return SpendResult(movement=moved, points=Decimal("10.00"), value=Decimal("10.00"))


def balance() -> Balance:
    return Balance(member=member(), accounts={a: account(asset=a) for a in (Asset.POINTS, Asset.CASHBACK)})


def movement() -> Movement:
    return Movement(entry=entry(), balance=account(), member=member())


def order(number: int = 42, *, remark: str = "counter 2") -> Order:
    lines = [
        {"product_id": 100 + i, "product_name": f"Product {i}", "product_stock_no": f"SKU-{i}", "line_no": i,
         "retail_price": "100.00", "discount_text": "", "price": "100.00", "quantity": "2",
         "subtotal": "200.00", "remark": ""}
        for i in range(1, 4)
    ]
    return Order(
        id=number, tenant_id=1, number=number, reference=f"REF-{number}", member_id=1534, value=Decimal("672.00"),
        earned=Decimal("6.72"), voided=False, void_reason=None,
        data={"customer_id": 1534, "remark": remark, "tax_inclusive": False, "amount": "600.00", "tax": "72.00",
              "quantity": "6", "lines": lines, "payments": [{"payment_type_id": 1, "amount": "672.00", "tender": "700.00"}],
              "tax_rates": [{"tax_rate_id": 1, "name": "VAT", "rate": "0.12", "amount": "72.00"}]},
        occurred_at=AT, created_at=AT, voided_at=None,
    )


def balance_rows(count: int = 50) -> list[BalanceRow]:
    return [BalanceRow(member=member(1000 + i, name=f"Member {i}"), balance=Decimal("123.45")) for i in range(count)]


def history(count: int = 50) -> list[Entry]:
    return [entry(i, kind=Kind.ADJUSTMENT if i % 2 else Kind.REWARD) for i in range(1, count + 1)]
