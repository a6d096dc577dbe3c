"""The ledger's Upstream port over an Imonggo account: balances from the customer record, debits as Reward
API spends (points turned into an amount by the customer's point_to_amount_ratio), order earnings as
invoices, order voids as invoice voids; anything else refused in words that name Imonggo's limit."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ...ledger import (
    Applied,
    Asset,
    Cause,
    Direction,
    DuplicateReference,
    Forward,
    InsufficientFunds,
    InvalidArgument,
    LedgerError,
    Member,
    NotInProgramme,
    OrderVoided,
    RemoteMember,
    UnknownMember,
    UnknownOrder,
    Upstream,
    UpstreamCannotExpress,
    UpstreamError,
)
from ..upstream_transport import Transport, unsent
from .client import Customer, ImonggoClient, ImonggoRefusal, NewInvoice, amount_text

CREDENTIAL_NAMES = ("api_token",)
CENT = Decimal("0.01")
VOID_REASON = "voided through loyalty-gateway"


@dataclass(frozen=True)
class Refusal:
    """One row of the table below: Imonggo's 4xx answer to a call, as the ledger says it."""

    call: str
    status: int
    words: str | None  # lower-case words the vendor's message must hold; None: any message
    error: type[LedgerError]
    says: Callable[[str, str, str], str]  # (upstream name, the ref asked about, vendor message) -> message


def _said(name: str, ref: str, message: str) -> str:
    return f"{name} said: {message}"


REFUSALS = (
    Refusal("customer", 404, None, UnknownMember, lambda name, ref, _: f"{name} has no customer {ref}"),
    Refusal("spend", 404, None, UnknownMember, lambda name, ref, _: f"{name} has no customer {ref}"),
    Refusal("spend", 422, "insufficient", InsufficientFunds, _said),
    Refusal("spend", 422, "membership", NotInProgramme, _said),
    Refusal("invoice", 422, "reference has already been taken", DuplicateReference, _said),
    Refusal("void", 404, None, UnknownOrder, lambda name, ref, _: f"{name} has no invoice {ref}"),
    Refusal("void", 422, "already voided", OrderVoided, _said),
)


def translated(name: str, call: str, ref: str, refusal: ImonggoRefusal) -> LedgerError:
    """The ledger's error for a refusal, by the table; any other 4xx is the vendor's message, prefixed."""
    for row in REFUSALS:
        if row.call == call and row.status == refusal.status and (row.words is None or row.words in refusal.message.lower()):
            return row.error(row.says(name, ref, refusal.message), status=refusal.status)
    return InvalidArgument(_said(name, ref, refusal.message), status=refusal.status)


def _points(value: Decimal) -> str:
    return format(value.normalize(), "f")


class ImonggoUpstream:
    name: str
    settles = False  # no idempotency keys, no movement history to look a spend up in
    lists_members = True

    def __init__(self, client: ImonggoClient) -> None:
        self.client = client
        self.name = client.name
        self._product: str | None = None

    def member_ref(self, member: Member) -> str:
        # upstream_ref is the column the core adds for issue 11; older Member records have none.
        return getattr(member, "upstream_ref", None) or str(member.customer_no)

    # -- reads ---------------------------------------------------------------------------------------

    async def balance(self, member: str, asset: Asset) -> Decimal:
        if asset is not Asset.POINTS:
            return Decimal("0")  # Imonggo keeps points only
        return (await self._customer(member)).available_points or Decimal("0")

    async def balances(self, member: str) -> Mapping[Asset, Decimal]:
        """One read of the customer: its points; Imonggo keeps no other asset."""
        points = await self.balance(member, Asset.POINTS)
        return {asset: points if asset is Asset.POINTS else Decimal("0") for asset in Asset}

    async def members(self) -> AsyncIterator[RemoteMember]:
        async for customer in self.client.all_customers():
            yield RemoteMember(ref=customer.id, email=customer.email, name=customer.name or None)

    async def _customer(self, ref: str) -> Customer:
        if not _is_id(ref):
            raise UnknownMember(f"{self.name} names customers by number; {ref!r} is none")
        try:
            return await self.client.customer(ref)
        except ImonggoRefusal as exc:
            raise translated(self.name, "customer", ref, exc) from None

    async def _before_writing(self, ref: str) -> Customer:
        """The customer, read before a write: its failures leave nothing unclear."""
        try:
            return await self._customer(ref)
        except UpstreamError as exc:
            raise unsent(exc) from None

    async def _after_writing(self, ref: str) -> Customer | None:
        """The customer after a write that was applied: None if it cannot be read now (the write stands)."""
        try:
            return await self._customer(ref)
        except LedgerError:
            return None

    # -- writes --------------------------------------------------------------------------------------

    async def apply(self, forward: Forward) -> Applied:
        if forward.asset is not Asset.POINTS:
            raise UpstreamCannotExpress(f"{self.name} keeps points only; it cannot hold {forward.asset.value}")
        if forward.cause is Cause.ORDER_VOID and forward.direction is Direction.DEBIT:
            return await self._void(forward)
        if forward.direction is Direction.DEBIT:
            return await self._spend(forward)
        if forward.cause is Cause.ORDER_EARN:
            return await self._earn(forward)
        raise UpstreamCannotExpress(
            f"{self.name} earns points only through invoices; it cannot be credited {_points(forward.points)} points"
        )

    async def settle(self, forward: Forward) -> Applied | None:
        raise UpstreamCannotExpress(
            f"{self.name} has no idempotency keys and no history of spends to look this write up in; "
            "whether it was applied must be settled by a person"
        )

    async def close(self) -> None:
        """Nothing of its own to release: the HTTP session belongs to whoever made the transport."""

    async def _spend(self, forward: Forward) -> Applied:
        customer = await self._before_writing(forward.member)
        ratio = await self._ratio(customer)
        amount = self._amount(forward, ratio)
        try:
            spent = await self.client.spend(forward.member, amount, forward.reference or forward.key)
        except ImonggoRefusal as exc:
            raise translated(self.name, "spend", forward.member, exc) from None
        return Applied(balance=spent.points_available, points=spent.points_spent)

    async def _ratio(self, customer: Customer) -> Decimal:
        """Points per currency unit: the customer record shows it; else its customer type may."""
        ratio = customer.point_to_amount_ratio
        if ratio is None and customer.customer_type_id is not None and _is_id(customer.customer_type_id):
            try:
                ratio = (await self.client.customer_type(customer.customer_type_id)).point_to_amount_ratio
            except ImonggoRefusal:
                ratio = None
            except UpstreamError as exc:
                raise unsent(exc) from None
        if ratio is None or ratio <= 0:
            raise NotInProgramme(f"{self.name}: customer {customer.id or '?'} has no membership that pays with points")
        return ratio

    def _amount(self, forward: Forward, ratio: Decimal) -> Decimal:
        """The currency amount whose spend takes exactly `forward.points` at `ratio` points per unit."""
        if forward.cause is Cause.SPEND and forward.value is not None and forward.value * ratio == forward.points:
            amount = forward.value
        elif (forward.points * 100) % ratio == 0:
            amount = (forward.points * 100 / ratio).to_integral_value() * CENT
        else:
            raise UpstreamCannotExpress(
                f"{self.name} spends currency amounts at {_points(ratio)} points per 1 (the customer's "
                f"point_to_amount_ratio); {_points(forward.points)} points is not a whole number of cents"
            )
        if amount <= 0 or amount != amount.quantize(CENT):
            raise UpstreamCannotExpress(f"{self.name} spends whole cents; {amount_text(amount)} is not one")
        return amount

    async def _earn(self, forward: Forward) -> Applied:
        value = forward.value
        if value is None or value <= 0 or value != value.quantize(CENT):
            raise UpstreamCannotExpress(
                f"{self.name} earns points only through invoices, which need a purchase amount in whole cents"
            )
        before = await self._before_writing(forward.member)
        invoice = NewInvoice(
            customer_id=forward.member, product_id=await self._product_id(), amount=value,
            reference=forward.reference or forward.key, remark=forward.note,
        )
        try:
            created = await self.client.create_invoice(invoice)
        except ImonggoRefusal as exc:
            raise translated(self.name, "invoice", forward.member, exc) from None
        return _moved(created.id, before, await self._after_writing(forward.member), sign=1)

    async def _void(self, forward: Forward) -> Applied:
        invoice = forward.reverses
        if not invoice or not _is_id(invoice):
            raise UpstreamCannotExpress(
                f"{self.name} takes points back only by voiding the invoice that earned them; "
                f"this names no invoice of it ({invoice!r})"
            )
        before = await self._before_writing(forward.member)
        try:
            voided = await self.client.void_invoice(invoice, forward.note or VOID_REASON)
        except ImonggoRefusal as exc:
            raise translated(self.name, "void", invoice, exc) from None
        return _moved(voided.id, before, await self._after_writing(forward.member), sign=-1)

    async def _product_id(self) -> str:
        """The product an earning invoice's one line carries (its price is set on the line): the account's
        first active product, looked up once. Imonggo refuses a line without a product."""
        if self._product is None:
            try:
                products = await self.client.products(per_page=1)
            except ImonggoRefusal as exc:
                raise translated(self.name, "products", "", exc) from None
            except UpstreamError as exc:
                raise unsent(exc) from None
            if not products or not _is_id(products[0].id):
                raise UpstreamCannotExpress(
                    f"{self.name} has no active product to put on an invoice, and earns points only through invoices"
                )
            self._product = products[0].id
        return self._product


def _moved(ref: str, before: Customer, after: Customer | None, *, sign: int) -> Applied:
    """An invoice's effect on points as the customer's available_points shows it: the difference around
    the write (Imonggo's invoice answer does not say what it earned). Another movement of the same
    customer in between would be counted too; unknown when the balance cannot be read after."""
    if after is None or after.available_points is None or before.available_points is None:
        return Applied(ref=ref)
    return Applied(balance=after.available_points, ref=ref, points=sign * (after.available_points - before.available_points))


def _is_id(ref: str) -> bool:
    return bool(ref) and ref.isascii() and ref.isdigit() and len(ref) <= 18


def connect(transport: Transport, credentials: Mapping[str, str]) -> Upstream:
    """The port for the Imonggo account whose API token `credentials` carries."""
    token = credentials.get("api_token")
    if not isinstance(token, str) or not token.strip():
        raise InvalidArgument("an imonggo upstream needs credentials.api_token (the account's API token)")
    if transport.label == "upstream":  # the transport's own messages name this upstream too
        transport.label = f"the imonggo upstream at {transport.base_url}"
    return ImonggoUpstream(ImonggoClient(transport, token.strip()))
