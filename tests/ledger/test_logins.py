"""A login: a user of a tenant names itself by e-mail, proves its password against the salted hash the
tenant's configuration keeps, and gets one of the tenant's credentials back. A miss answers nothing more
than None, and takes the same scrypt work whatever it missed on."""
from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest

from gateway.ledger import GENERATED, Credential, Ledger, hash_password

STRONG_HASH = hash_password("chosen by a person")
GENERATED_HASH = hash_password("generated-at-random", cost=GENERATED)


async def _shop(ledger: Ledger, users: list[dict[str, Any]], *, with_api: bool = True) -> None:
    credentials = [Credential("login", u["email"].lower()) for u in users]
    if with_api:
        credentials.append(Credential("api", "api-token-1"))
    await ledger.create_tenant(name="shop", credentials=credentials, config={"shop": {"users": users}})


async def _login(ledger: Ledger, email: str, password: str) -> Any:
    return await ledger.login(scheme="login", principal=email, password=password, section="shop", answer="api")


async def test_the_right_password_gets_the_tenant_and_its_credential(ledger: Ledger) -> None:
    await _shop(ledger, [{"email": "Owner@Shop.test", "password_hash": STRONG_HASH},
                         {"email": "clerk@shop.test", "password_hash": GENERATED_HASH}])
    tenant, credential = await _login(ledger, "owner@shop.test", "chosen by a person")
    assert tenant.name == "shop" and credential == Credential("api", "api-token-1")
    assert (await _login(ledger, "clerk@shop.test", "generated-at-random"))[0].name == "shop"


@pytest.mark.parametrize(
    "email,password",
    [
        ("owner@shop.test", "chosen by a Person"),  # wrong password
        ("owner@shop.test", "generated-at-random"),  # another user's password
        ("nobody@shop.test", "chosen by a person"),  # unknown e-mail
        ("hashless@shop.test", "anything"),  # a login credential whose user has no hash
    ],
)
async def test_a_miss_is_none(ledger: Ledger, email: str, password: str) -> None:
    await _shop(ledger, [{"email": "owner@shop.test", "password_hash": STRONG_HASH},
                         {"email": "clerk@shop.test", "password_hash": GENERATED_HASH},
                         {"email": "hashless@shop.test"}])
    assert await _login(ledger, email, password) is None


async def test_a_tenant_without_the_credential_asked_for_answers_none(ledger: Ledger) -> None:
    await _shop(ledger, [{"email": "owner@shop.test", "password_hash": STRONG_HASH}], with_api=False)
    assert await _login(ledger, "owner@shop.test", "chosen by a person") is None


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int, int, str]]:
    """Records every scrypt run: its cost N, r, p and the thread it ran in."""
    calls: list[tuple[int, int, int, str]] = []
    real = hashlib.scrypt

    def scrypt(password: bytes, **kw: Any) -> bytes:
        calls.append((kw["n"], kw["r"], kw["p"], threading.current_thread().name))
        return real(password, **kw)

    monkeypatch.setattr(hashlib, "scrypt", scrypt)
    return calls


async def test_the_hash_is_checked_off_the_event_loop(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
    await _shop(ledger, [{"email": "owner@shop.test", "password_hash": STRONG_HASH}])
    calls = _spy(monkeypatch)
    await _login(ledger, "owner@shop.test", "chosen by a person")
    assert calls and all(thread != threading.main_thread().name for *_, thread in calls)


async def test_every_miss_does_a_strong_checks_work_whatever_kind_of_user_it_missed(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A generated user's hash is cheap; if a wrong password for it were checked against that alone, it
    would answer many times faster than an unknown e-mail, and so tell which e-mails exist."""
    await _shop(ledger, [{"email": "owner@shop.test", "password_hash": STRONG_HASH},
                         {"email": "clerk@shop.test", "password_hash": GENERATED_HASH}])
    strong = int(STRONG_HASH.split("$")[1]) * 8
    generated = int(GENERATED_HASH.split("$")[1]) * 8
    calls = _spy(monkeypatch)
    work = {}
    for email in ("nobody@shop.test", "owner@shop.test", "clerk@shop.test"):
        calls.clear()
        assert await _login(ledger, email, "wrong") is None
        work[email] = sorted(n * r * p for n, r, p, _ in calls)
    # each does one check at the strong cost; a generated user's own hash adds a sixteenth at most
    assert work == {"nobody@shop.test": [strong], "owner@shop.test": [strong],
                    "clerk@shop.test": [generated, strong]}
    assert generated * 16 <= strong
