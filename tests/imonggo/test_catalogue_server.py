"""The Token API and the catalogue against a real `loyalty-gateway serve`, as a client meets them: plain
HTTP requests, a restart in between (the catalogue and the login are in the database, not in memory),
and an access log that never prints the password."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests import process

TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"


def get(url: str, *, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{token}:X".encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def as_json(pair: tuple[int, bytes]) -> tuple[int, Any]:
    return pair[0], json.loads(pair[1])


def test_login_and_catalogue_through_a_real_server_and_a_restart(tmp_path: Path) -> None:
    database = ["--port", "0", "--database", f"sqlite:///{tmp_path / 'gw.db'}"]
    server = process.start(database, tmp_path)
    try:
        login = f"{server.url}/api/tokens.json?email=demo@example.com&password=demo-password"
        assert as_json(get(login)) == (200, {"api_token": TOKEN})
        status, body = get(f"{server.url}/api/tokens.xml?email=demo@example.com&password=guess")
        assert status == 404 and b"<error>Not Found</error>" in body
        status, body = get(f"{server.url}/api/products.xml?per_page=2&page=5", token=TOKEN)
        assert (status, body) == (200, b'<?xml version="1.0" encoding="UTF-8"?>\n<products/>\n')
        assert as_json(get(f"{server.url}/api/products.json?q=count", token=TOKEN)) == (200, {"count": 8})
        assert get(f"{server.url}/api/products.json", token=None)[0] == 401
    finally:
        server.stop()
    assert "demo-password" not in server.output and "password=[FILTERED]" in server.output

    again = process.start([*database, "--scenario", "none"], tmp_path)  # no reload: what is read was kept
    try:
        assert as_json(get(login.replace(server.url, again.url))) == (200, {"api_token": TOKEN})
        status, product = as_json(get(f"{again.url}/api/products/54.json", token=TOKEN))
        assert status == 200 and (product["name"], product["retail_price"]) == ("Arabica Coffee Beans 250g", "100.0")
        status, users = as_json(get(f"{again.url}/api/users.json", token=TOKEN))
        assert status == 200 and [u["email"] for u in users] == ["demo@example.com"]
    finally:
        again.stop()
