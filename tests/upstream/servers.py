"""Two real processes for the upstream tests: a `loyalty-gateway` sandbox playing the vendor (the demo
tenant, whose pomelo client and imonggo token the gateway uses as its upstream credentials), and the
gateway itself, started from a scenario whose tenant "shop" keeps its points at that vendor."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

from tests import process

# What the vendor sandbox's demo tenant accepts: the gateway's credentials at its upstream.
VENDOR_CREDENTIALS = {
    "pomelo": {"client_id": "demo-client-id", "client_secret": "demo-client-secret", "audience": "https://api.pomelo.la"},
    "imonggo": {"api_token": "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"},
    "memberpoints": {"api_id": "demo-api-id", "api_key": "demo-api-key"},
}
VENDOR_SECRETS = ("demo-client-secret", "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa", "demo-api-key")
JUAN_USER = "usr-2ay34WhGUtCeoewakpeJTRuVWlx"
SHOP_IMONGGO = "shop-imonggo-token-4411"  # the gateway's own credentials for its clients
SHOP_POMELO = {"client_id": "shop-client", "client_secret": "shop-client-secret-9d2e"}
SHOP_MP = {"api_id": "shop-api-id", "api_key": "shop-api-key-73aa"}


def shop(dialect: str, base_url: str, *, record: bool = False, members: list[dict[str, Any]] | None = None,
         name: str = "shop") -> dict[str, Any]:
    """The gateway's tenant: its clients' credentials in every dialect, its points at the vendor."""
    return {
        "name": name,
        "imonggo": {"api_token": SHOP_IMONGGO if name == "shop" else f"{name}-imonggo"},
        "memberpoints": {**SHOP_MP, "cid": 77} if name == "shop" else
        {"api_id": f"{name}-id", "api_key": f"{name}-key", "cid": 78},
        "pomelo": SHOP_POMELO if name == "shop" else {"client_id": f"{name}-client", "client_secret": f"{name}-secret"},
        "customer_types": [{"id": 8, "name": "Gold", "point_to_amount_ratio": "200", "amount_per_point": "10"}],
        "members": members if members is not None else [
            {"customer_id": 1534, "mbr_id": 1534, "name": "Juan Cruz", "user_id": JUAN_USER, "customer_type_id": 8}],
        "upstream": {"dialect": dialect, "base_url": base_url, "credentials": dict(VENDOR_CREDENTIALS[dialect]),
                     "record": record},
    }


def start_vendor(folder: Path, *extra: str) -> process.Server:
    folder.mkdir(parents=True, exist_ok=True)
    return process.start(["--port", "0", "--database", f"sqlite:///{folder / 'vendor.db'}", "--scenario", "demo",
                          *extra], folder)


def start_gateway(folder: Path, tenants: list[dict[str, Any]] | None, *extra: str, database: str | None = None,
                  ) -> process.Server:
    """The gateway over its own database (a restart over the same folder keeps it), with a short upstream
    timeout and its recordings under folder/recorded."""
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "scenario.json"
    if tenants is not None:
        scenario.write_text(json.dumps({"tenants": tenants}), encoding="utf-8")
    return process.start(gateway_args(folder, *extra, database=database), folder)


def gateway_args(folder: Path, *extra: str, database: str | None = None) -> list[str]:
    database = database or f"sqlite:///{folder / 'gateway.db'}"
    return ["--port", "0", "--database", database, "--scenario", str(folder / "scenario.json"),
            "--upstream-timeout-seconds", "2", "--upstream-record-dir", str(folder / "recorded"), "--log-level", "debug",
            *extra]


def start_logged(args: list[str], folder: Path) -> tuple[process.Server, list[str]]:
    """Like process.start, also returning what the server printed before it listened (startup's log)."""
    server = process.start(args, folder, timeout=60)
    return server, server.startup


@contextmanager
def running(server: process.Server) -> Iterator[process.Server]:
    try:
        yield server
    finally:
        server.stop()


async def call(method: str, url: str, **kwargs: Any) -> tuple[int, Any, str]:
    """One request: (status, parsed JSON or None, text)."""
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, timeout=aiohttp.ClientTimeout(total=30), **kwargs) as response:
            text = await response.text()
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            return response.status, parsed, text


def imonggo_auth(token: str = SHOP_IMONGGO) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:X".encode()).decode()}


def no_secret_in(text: str, *more: str) -> list[str]:
    return [s for s in (*VENDOR_SECRETS, *more) if s in text]
