"""An invoice document (POST) turned into an order: its lines, payments and tax lines priced as the
Invoice Fields page says, the total with tax as the order's value, the document as the order's data.
Computed money rounds half up to two places; inputs must be numbers, never floats."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from ...ledger import InvalidArgument, parse_number
from ...whole_numbers import whole_number
from . import params

CENT = Decimal("0.01")
LIMIT = Decimal(10) ** 12
PLACES = 4  # quantities may be fractional (kilograms); money is rounded to cents after computing
TRUE = ("1", "true", "t", "yes")
Products = Mapping[int, Mapping[str, Any]]


@dataclass(frozen=True)
class InvoiceCommand:
    reference: str | None
    customer_no: int | None
    occurred_at: datetime | None
    value: Decimal
    data: dict[str, Any]


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize()


# Invoice arithmetic (price x quantity, tax) can outgrow the default 28 digits; beyond this the
# invoice is refused rather than rounded or crashed on.
_WIDE = Context(prec=80)
_LIMIT = Decimal(10) ** 12


def _money(value: Decimal) -> Decimal:
    if not value.is_finite() or _WIDE.abs(value) >= _LIMIT:
        raise InvalidArgument("Amount is too large")
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_WIDE)


def _number(fields: Mapping[str, Any], key: str, default: Decimal | None = None) -> Decimal | None:
    raw = fields.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    # The ledger's bounded reader: below 10^12 and at most PLACES places, so no price x quantity or tax
    # below can overflow or trap, however the number was written ("1e1000000", 5000 digits, NaN).
    return parse_number(raw, field=_label(key), places=PLACES)


def _text(fields: Mapping[str, Any], key: str) -> str:
    value = fields.get(key)
    if isinstance(value, (dict, list)):
        raise InvalidArgument(f"{_label(key)} is invalid")
    return (value or "").strip()


def _items(fields: Mapping[str, Any], key: str, item: str) -> list[Mapping[str, Any]]:
    """A nested list as XML (`type="array"`) or JSON gives it; JSON items may be wrapped in `item`."""
    value = fields.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, Mapping) and set(value) == {item}:
        value = value[item] if isinstance(value[item], list) else [value[item]]
    if not isinstance(value, list):
        raise InvalidArgument(f"{_label(key)} must be a list")
    out = []
    for entry in value:
        if isinstance(entry, Mapping) and set(entry) == {item} and isinstance(entry[item], Mapping):
            entry = entry[item]
        if not isinstance(entry, Mapping):
            raise InvalidArgument(f"{_label(key)} must be a list of {item}s")
        out.append(entry)
    return out


def _product(fields: Mapping[str, Any], products: Products | None) -> tuple[int | str, Mapping[str, Any]]:
    """The line's product id and catalogue record. An id the catalogue does not hold is refused as Rails'
    presence validation of the line's product refuses it: the association finds nothing, so the message
    is the same as for a missing id. A tenant without a catalogue (`products` None) takes any id."""
    product = _text(fields, "product_id")
    if not product:
        raise InvalidArgument("Product can't be blank")
    number = whole_number(product)
    if products is None:
        return (number if number is not None else product), {}
    if number is None or number not in products:
        raise InvalidArgument("Product can't be blank")
    return number, products[number]


def _line(fields: Mapping[str, Any], number: int, products: Products | None) -> dict[str, Any]:
    """Net price: subtotal / quantity if a subtotal came, else the retail price (the product's when none
    came) less the discount."""
    product_id, product = _product(fields, products)
    quantity = _number(fields, "quantity", Decimal(1))
    assert quantity is not None
    if quantity == 0:
        raise InvalidArgument("Quantity must be greater than 0")
    retail = _number(fields, "retail_price")
    if retail is None and product.get("retail_price") is not None:
        retail = Decimal(str(product["retail_price"]))
    discount = _text(fields, "discount_text")
    subtotal = _number(fields, "subtotal")
    if subtotal is not None:
        if subtotal / quantity >= LIMIT:
            raise InvalidArgument("Subtotal is too large for the quantity")
        price = _money(subtotal / quantity)
    else:
        price = _discounted(retail or Decimal(0), discount)
        subtotal = _money(price * quantity)
    return {
        "product_id": product_id, "product_name": str(product.get("name") or ""),
        "product_stock_no": str(product.get("stock_no") or ""), "line_no": number,
        "retail_price": str(retail if retail is not None else price), "discount_text": discount,
        "price": str(price), "quantity": str(quantity), "subtotal": str(_money(subtotal)),
        "remark": _text(fields, "remark"),
    }


def _discounted(retail: Decimal, discount: str) -> Decimal:
    """`10%` takes a tenth off; `5` takes 5.00 off each unit; never below zero."""
    if not discount:
        return _money(retail)
    percent = discount.endswith("%")
    amount = _number({"discount_text": discount.rstrip("%").strip()}, "discount_text")
    assert amount is not None
    off = retail * amount / 100 if percent else amount
    return _money(max(retail - off, Decimal(0)))


def parse(fields: Mapping[str, Any], products: Products | None = None) -> InvoiceCommand:
    """The invoice a document describes, its lines priced from `products` (the catalogue by id)."""
    lines = [_line(x, i, products) for i, x in enumerate(_items(fields, "invoice_lines", "invoice_line"), start=1)]
    if not lines:
        raise InvalidArgument("Invoice lines can't be blank")
    inclusive = _text(fields, "tax_inclusive").lower() in TRUE
    gross = sum((Decimal(x["subtotal"]) for x in lines), Decimal("0.00"))
    taxes = []
    for x in _items(fields, "invoice_tax_rates", "invoice_tax_rate"):
        rate = _number(x, "rate", Decimal(0))
        assert rate is not None
        amount = _number(x, "amount")
        if amount is None:  # the rate is a fraction; an inclusive price already holds its tax
            amount = gross * rate / (1 + rate) if inclusive else gross * rate
        taxes.append({"tax_rate_id": _text(x, "tax_rate_id") or None, "name": _text(x, "name"), "rate": str(rate),
                      "amount": str(_money(amount))})
    tax = sum((Decimal(t["amount"]) for t in taxes), Decimal("0.00"))
    amount, with_tax = (gross - tax, gross) if inclusive else (gross, gross + tax)
    payments = []
    for x in _items(fields, "payments", "payment"):
        kind = params.whole_text(_text(x, "payment_type_id") or "1")
        if kind is None:
            raise InvalidArgument("Payment type is invalid")
        paid = _money(_number(x, "amount", with_tax) or Decimal(0))
        tender = _money(_number(x, "tender", paid) or paid)
        payments.append({"payment_type_id": kind, "amount": str(paid), "tender": str(tender)})
    customer = _text(fields, "customer_id")
    date = _text(fields, "invoice_date")
    data = {
        # An id that cannot name a customer is an unknown customer: the invoice stands without one.
        "customer_id": whole_number(customer),
        "customer_name": _text(fields, "customer_name"),
        "remark": _text(fields, "remark"), "tax_inclusive": inclusive, "amount": str(_money(amount)),
        "tax": str(tax), "quantity": str(sum((Decimal(x["quantity"]) for x in lines), Decimal(0))),
        "lines": lines, "payments": payments, "tax_rates": taxes,
    }
    return InvoiceCommand(
        reference=_text(fields, "reference") or None, customer_no=data["customer_id"],
        occurred_at=params.moment(date, "Invoice date") if date else None, value=_money(with_tax), data=data,
    )
