"""A client written the way Rails-style XML REST clients (ActiveResource and its ports) are: it knows
only the site, the token and the element names. It finds, lists, creates and updates customers and
reads 422 errors from `<errors><error>` against the sandbox, unchanged from how it would talk to
the vendor."""
from __future__ import annotations

import base64
from typing import Any

from aiohttp import ClientSession
from lxml import etree

from tests.support import ClientFactory

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


class ResourceInvalid(Exception):
    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class ResourceNotFound(Exception):
    pass


class Resource:
    """ActiveResource in miniature: `site/api/{plural}.xml`, `site/api/{plural}/{id}.xml`; attributes
    from child elements (type="array" children as lists); save() POSTs new records, PUTs old ones."""

    plural = ""
    singular = ""

    def __init__(self, session: ClientSession, site: str, attributes: dict[str, Any] | None = None) -> None:
        self.session, self.site = session, site
        self.attributes: dict[str, Any] = dict(attributes or {})

    @classmethod
    def _headers(cls) -> dict[str, str]:
        auth = base64.b64encode(f"{TOKEN}:X".encode()).decode()
        return {"Authorization": f"Basic {auth}", "Accept": "application/xml", "Content-Type": "application/xml"}

    @staticmethod
    def _read(element: etree._Element) -> Any:
        if element.get("type") == "array":
            return [Resource._read(c) for c in element]
        if len(element):
            return {c.tag: Resource._read(c) for c in element}
        return None if element.get("nil") == "true" else (element.text or "")

    @classmethod
    async def _request(cls, session: ClientSession, method: str, url: str, body: bytes = b"") -> etree._Element:
        async with session.request(method, url, headers=cls._headers(), data=body) as response:
            payload = await response.read()
            if response.status == 404:
                raise ResourceNotFound(url)
            if response.status == 422:
                raise ResourceInvalid([e.text or "" for e in etree.fromstring(payload).iter("error")])
            assert response.status in (200, 201), (response.status, payload)
            return etree.fromstring(payload)

    @classmethod
    async def find(cls, session: ClientSession, site: str, record_id: int) -> Resource:
        root = await cls._request(session, "GET", f"{site}/api/{cls.plural}/{record_id}.xml")
        return cls(session, site, cls._read(root))

    @classmethod
    async def all(cls, session: ClientSession, site: str, **params: Any) -> list[Resource]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        root = await cls._request(session, "GET", f"{site}/api/{cls.plural}.xml?{query}")
        return [cls(session, site, cls._read(child)) for child in root]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["attributes"][name]
        except KeyError:
            raise AttributeError(name) from None

    def _document(self) -> bytes:
        root = etree.Element(self.singular)
        for key, value in self.attributes.items():
            if value is not None and not isinstance(value, (dict, list)):
                etree.SubElement(root, key).text = str(value)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    async def save(self) -> None:
        if self.attributes.get("id"):
            url, method = f"{self.site}/api/{self.plural}/{self.attributes['id']}.xml", "PUT"
        else:
            url, method = f"{self.site}/api/{self.plural}.xml", "POST"
        root = await self._request(self.session, method, url, self._document())
        self.attributes = self._read(root)


class Customer(Resource):
    plural, singular = "customers", "customer"


async def test_a_rails_style_client_finds_lists_creates_updates_and_reads_errors(app_client: ClientFactory) -> None:
    client = await app_client("demo")
    site = str(client.make_url("")).rstrip("/")
    async with ClientSession() as session:
        juan = await Customer.find(session, site, 1534)
        assert (juan.name, juan.available_points, juan.customer_type_name) == ("Juan Cruz", "30511.0", "Gold")

        everyone = await Customer.all(session, site)
        assert [c.id for c in everyone] == ["1534", "442531", "445123"]
        assert [c.id for c in await Customer.all(session, site, page=2, per_page=2)] == ["445123"]

        maria = Customer(session, site, {"first_name": "Maria", "last_name": "Santos", "customer_type_id": 8})
        await maria.save()
        assert maria.name == "Maria Santos" and maria.available_points == "0.0" and maria.status is None
        assert len(maria.code) == 16 and maria.id

        maria.attributes["city"] = "Makati"
        maria.attributes["last_name"] = "Reyes"
        await maria.save()
        again = await Customer.find(session, site, int(maria.id))
        assert (again.city, again.name, again.last_name) == ("Makati", "Maria Reyes", "Reyes")

        nameless = Customer(session, site, {"city": "Cebu"})
        try:
            await nameless.save()
        except ResourceInvalid as invalid:
            assert invalid.messages == ["Name can't be blank"]
        else:
            raise AssertionError("a customer without a name was saved")

        try:
            await Customer.find(session, site, 424242)
        except ResourceNotFound:
            pass
        else:
            raise AssertionError("an unknown customer was found")
        assert len(await Customer.all(session, site)) == 4
