"""A client per dialect as the tests' tills and checkers use it: read a balance, take points, give points,
read an error, over real HTTP. The same class talks to the gateway (with the gateway tenant's credentials)
and to the vendor process (with the vendor tenant's), since both speak the same wire."""
from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import aiohttp
from lxml import etree

RATIO = Decimal("200")  # the Gold customer type: a spend of 1.00 takes 200 points
POINTS_PER_COFFEE_BAG = Decimal("10")  # an invoice for product 54 (100.00, no tax) earns 10 points
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Person:
    """One member as a dialect names them on one side (gateway or vendor)."""

    customer_id: int
    mbr_id: int
    user_id: str | None = None
    card_id: str | None = None


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text, parse_float=Decimal)

    def xml(self) -> Any:
        return etree.fromstring(self.text.encode())

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


async def call(session: aiohttp.ClientSession, method: str, url: str, **kw: Any) -> Answer:
    async with session.request(method, url, **kw) as response:
        return Answer(response.status, dict(response.headers), await response.text())


class Client(Protocol):
    dialect: str

    async def balance(self, who: Person) -> Answer: ...
    def points(self, answer: Answer) -> Decimal: ...
    async def debit(self, who: Person, points: Decimal) -> Answer: ...
    async def credit(self, who: Person, points: Decimal) -> Answer: ...
    def error(self, answer: Answer) -> str: ...
    def balance_after(self, answer: Answer) -> Decimal | None: ...


class Imonggo:
    """Basic auth with the API token; a debit is a Reward API spend (points / the Gold ratio), a credit
    an invoice for coffee bags (10 points each)."""

    dialect = "imonggo"
    insufficient = (422, "Insufficient points")
    unknown = 404
    rate_limited = 503
    cannot_express = 422

    def __init__(self, session: aiohttp.ClientSession, base: str, credentials: dict[str, Any]) -> None:
        self.session, self.base = session, base
        self.auth = {"Authorization": "Basic " + _b64(f"{credentials['imonggo']['api_token']}:X")}

    async def balance(self, who: Person) -> Answer:
        return await call(self.session, "GET", f"{self.base}/api/customers/{who.customer_id}.xml", headers=self.auth)

    def points(self, answer: Answer) -> Decimal:
        assert answer.status == 200, answer
        return Decimal(answer.xml().findtext("available_points"))

    async def spend(self, who: Person, amount: Decimal, reference: str = "X-1") -> Answer:
        url = f"{self.base}/api/rewards.xml"
        params = {"q": "spend", "customer_id": str(who.customer_id), "amount": str(amount), "reference": reference}
        return await call(self.session, "POST", url, params=params, headers=self.auth)

    async def debit(self, who: Person, points: Decimal) -> Answer:
        return await self.spend(who, points / RATIO, reference=f"T-{next(_numbers)}")

    async def credit(self, who: Person, points: Decimal) -> Answer:
        bags = points / POINTS_PER_COFFEE_BAG
        body = (f"<invoice><customer_id>{who.customer_id}</customer_id><reference>INV-{next(_numbers)}</reference>"
                f"<invoice_lines type=\"array\"><invoice_line><product_id>54</product_id><quantity>{bags}</quantity>"
                "</invoice_line></invoice_lines></invoice>")
        return await call(self.session, "POST", f"{self.base}/api/invoices.xml", data=body.encode(),
                          headers={**self.auth, "Content-Type": "application/xml"})

    def error(self, answer: Answer) -> str:
        return str(answer.xml().findtext("error"))

    def balance_after(self, answer: Answer) -> Decimal | None:
        """The balance a write's answer reports (a spend's points-available; an invoice reports none)."""
        found = answer.xml().findtext("points-available")
        return None if found is None else Decimal(found)


class Memberpoints:
    """apiID/apiKey headers; a debit is a negative adjustment, a credit a positive one."""

    dialect = "memberpoints"
    insufficient = (400, "Insufficient points")
    unknown = 400  # the vendor answers a member it does not know with 400 "Member not found"
    rate_limited = 429
    cannot_express = 400

    def __init__(self, session: aiohttp.ClientSession, base: str, credentials: dict[str, Any]) -> None:
        self.session, self.base = session, base
        mp = credentials["memberpoints"]
        self.auth = {"apiID": str(mp["api_id"]), "apiKey": mp["api_key"]}

    async def balance(self, who: Person) -> Answer:
        return await call(self.session, "GET", f"{self.base}/webapps/api/memberpointsbalances",
                          params={"mbr_id": str(who.mbr_id)}, headers=self.auth)

    def points(self, answer: Answer) -> Decimal:
        assert answer.status == 200, answer
        rows = answer.json()["data"]
        assert len(rows) == 1, answer
        return Decimal(rows[0]["mbr_points_balance"])

    async def adjust(self, who: Person, points: Decimal, note: str) -> Answer:
        body = {"mbr_id": who.mbr_id, "adjustpoints": str(points), "adjustmentnote": note}
        return await call(self.session, "POST", f"{self.base}/webapps/api/memberpoints", json=body, headers=self.auth)

    async def debit(self, who: Person, points: Decimal) -> Answer:
        return await self.adjust(who, -points, f"till debit {next(_numbers)}")

    async def credit(self, who: Person, points: Decimal) -> Answer:
        return await self.adjust(who, points, f"till credit {next(_numbers)}")

    async def history(self, who: Person) -> Answer:
        return await call(self.session, "GET", f"{self.base}/webapps/api/memberpoints",
                          params={"mbr_id": str(who.mbr_id), "pageSize": "1000"}, headers=self.auth)

    def error(self, answer: Answer) -> str:
        return str(answer.json()["message"])

    def balance_after(self, answer: Answer) -> Decimal | None:
        return None  # an adjustment's answer is the saved row, without a balance


class Pomelo:
    """OAuth client credentials (a token fetched once), then mint and burn on the points account under an
    idempotency key of the till's own."""

    dialect = "pomelo"
    insufficient = (400, "INSUFFICIENT_BALANCE")
    unknown = 404
    rate_limited = 429
    cannot_express = 422

    def __init__(self, session: aiohttp.ClientSession, base: str, credentials: dict[str, Any]) -> None:
        self.session, self.base = session, base
        self.credentials = credentials["pomelo"]
        self.token: str | None = None
        self.last_key: str | None = None
        self.fetching = asyncio.Lock()  # concurrent first calls wait for one token fetch

    async def auth(self) -> dict[str, str]:
        async with self.fetching:
            if self.token is None:
                await self._fetch_token()
        return {"Authorization": f"Bearer {self.token}"}

    async def _fetch_token(self) -> None:
        body = {"client_id": self.credentials["client_id"], "client_secret": self.credentials["client_secret"],
                "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}
        answer = await call(self.session, "POST", f"{self.base}/oauth/token", json=body)
        assert answer.status == 200, answer
        self.token = answer.json()["access_token"]

    @staticmethod
    def account(who: Person) -> dict[str, str]:
        return {"card_id": who.card_id} if who.card_id else {"user_id": str(who.user_id)}

    async def balance(self, who: Person) -> Answer:
        return await call(self.session, "GET", f"{self.base}/loyalty/v1/accounts/balance",
                          params=self.account(who), headers=await self.auth())

    def points(self, answer: Answer) -> Decimal:
        assert answer.status == 200, answer
        return Decimal(str(answer.json()["points"]))

    async def move(self, who: Person, operation: str, points: Decimal, key: str | None = None) -> Answer:
        auth = await self.auth()  # before the key: a call waiting here must not take another call's key
        mine = self.last_key = key or f"till-{operation}-{next(_numbers)}"
        body = {"amount": str(points), "reason": f"till {operation}", **self.account(who)}
        return await call(self.session, "POST", f"{self.base}/loyalty/v1/accounts/points/{operation}", json=body,
                          headers={**auth, "x-idempotency-key": mine})

    async def debit(self, who: Person, points: Decimal) -> Answer:
        return await self.move(who, "burn", points)

    async def credit(self, who: Person, points: Decimal) -> Answer:
        return await self.move(who, "mint", points)

    def balance_after(self, answer: Answer) -> Decimal | None:
        return Decimal(str(answer.json()["updated_balance"]))

    def error(self, answer: Answer) -> str:
        error = answer.json()["error"]
        return f"{error['error_code']}: {error['details'][0]['detail']}"


CLIENTS: dict[str, type[Imonggo] | type[Memberpoints] | type[Pomelo]] = {
    "imonggo": Imonggo, "memberpoints": Memberpoints, "pomelo": Pomelo,
}


def client(dialect: str, session: aiohttp.ClientSession, base: str, credentials: dict[str, Any]) -> Any:
    return CLIENTS[dialect](session, base, credentials)


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()
