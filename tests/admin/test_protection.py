"""Protection of /__admin: beyond loopback the server will not start without admin_token; with a token
every admin path but health needs it, and no dialect credential ever opens the admin API."""
from __future__ import annotations

import pytest

from gateway.admin.auth import is_loopback
from gateway.app import create_app
from gateway.cli import main
from gateway.settings import Settings, SettingsError
from tests.admin.conftest import DEMO_IMONGGO, imonggo_auth, memberpoints_auth
from tests.admin.real import read

TOKEN = "s3cret-admin-token"


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                               ("localhost", True), ("0.0.0.0", False), ("::", False),
                                               ("192.168.1.5", False), ("example.org", False)])
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_app_refuses_to_listen_beyond_loopback_without_a_token() -> None:
    with pytest.raises(SettingsError, match="refusing to listen on 0.0.0.0 without admin_token"):
        create_app(Settings.defaults().replace(host="0.0.0.0"))
    create_app(Settings.defaults().replace(host="0.0.0.0", admin_token=TOKEN))  # fine with one


def test_serve_refuses_in_one_line_with_a_non_zero_exit(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--host", "0.0.0.0", "--port", "0", "--database", f"sqlite:///{tmp_path / 'x.db'}"])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("loyalty-gateway: error: refusing to listen on 0.0.0.0")


async def test_without_a_token_loopback_admin_is_open(sandbox_client) -> None:
    client = await sandbox_client()
    assert (await client.get("/__admin/tenants")).status == 200


async def test_with_a_token_admin_needs_it_and_dialect_credentials_never_grant_it(sandbox_client) -> None:
    client = await sandbox_client(admin_token=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}, imonggo_auth(),
                    memberpoints_auth(), {"Authorization": f"Bearer {DEMO_IMONGGO}"}):
        response = await client.get("/__admin/tenants", headers=headers)
        assert response.status == 401, headers
        assert (await response.json())["error"]["message"] == "the admin API needs Authorization: Bearer <admin_token>"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for method, path in (("POST", "/__admin/reset"), ("DELETE", "/__admin/requests"), ("POST", "/__admin/faults"),
                         ("GET", "/__admin/no-such-path")):
        assert (await client.request(method, path, headers=imonggo_auth())).status == 401, path
    assert (await client.get("/__admin/tenants", headers={"Authorization": f"Bearer {TOKEN}"})).status == 200
    assert (await client.get("/__admin/health")).status == 200  # a readiness probe needs no token
    # and the admin token is no dialect credential either
    assert (await read(client, "imonggo", headers={"Authorization": f"Bearer {TOKEN}"})).status == 401
    assert (await read(client, "pomelo", headers={"Authorization": f"Bearer {TOKEN}"})).status == 401


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},  # a web page's cross-site POST (CSRF)
        {"Origin": "null"},
        {"Host": "rebind.example:8080"},  # DNS rebinding: the page's own name pointed at 127.0.0.1
        {"Host": "rebind.example:8080", "Origin": "http://rebind.example:8080"},
    ],
)
async def test_without_a_token_a_web_page_cannot_drive_the_admin_api(sandbox_client, headers) -> None:  # type: ignore[no-untyped-def]
    client = await sandbox_client()
    response = await client.post("/__admin/reset", headers=headers)
    assert response.status == 403
    assert "local callers only" in (await response.json())["error"]["message"]
    local = await client.get("/__admin/tenants", headers={"Origin": "http://localhost:8080"})
    assert local.status == 200
