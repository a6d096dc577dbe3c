"""`loyalty-gateway seed --generate N` as a user meets it: a tenant whose printed credentials work in all
three dialects against a real `serve` on that database, an audit with no violation, one-line refusals."""
from __future__ import annotations

import base64
import json
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

from tests import process
from tests.test_cli import one_line_error


def _get(url: str, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read()


def _post_json(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _a_member_with_history(db: Path) -> tuple[int, str, str, int]:
    """(customer number, user id, card id, points in hundredths) of a member whose points moved after opening."""
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT m.customer_no, m.user_ref, c.card_ref, a.posted FROM members m JOIN cards c ON c.member_id = m.id"
            " JOIN accounts a ON a.member_id = m.id AND a.asset = 'points'"
            " WHERE (SELECT count(*) FROM entries e WHERE e.member_id = m.id AND e.asset = 'points') > 1"
            " ORDER BY m.customer_no LIMIT 1"
        ).fetchone()
    assert row is not None
    return row


def test_generated_credentials_answer_in_every_dialect(tmp_path: Path) -> None:
    """The server is already running when the tenant is made by another process: it must find it."""
    url = f"sqlite:///{tmp_path / 'gen.db'}"
    server = process.start(["--port", "0", "--database", url, "--scenario", "none"], tmp_path)
    try:
        seeded = process.run(["seed", "--generate", "300", "--tenant", "big", "--json", "--database", url], tmp_path)
        assert seeded.returncode == 0, seeded.stderr
        made = json.loads(seeded.stdout)  # stdout is the one JSON document, progress went to stderr
        assert made["name"] == "big" and made["members"] == 300
        assert "300/300 members" in seeded.stderr
        checked = process.run(["check", "--database", url], tmp_path)
        assert checked.returncode == 0 and "audit clean" in checked.stdout, checked.stdout + checked.stderr
        assert "members 300" in checked.stdout
        _answers_in_every_dialect(server, made, tmp_path / "gen.db")
    finally:
        server.stop()


def _answers_in_every_dialect(server: process.Server, made: dict[str, Any], db: Path) -> None:
    customer_no, user_ref, card_ref, cents = _a_member_with_history(db)
    points = f"{cents // 100}.{cents % 100:02d}"
    token = base64.b64encode(f"{made['imonggo']['api_token']}:X".encode()).decode()
    xml = _get(f"{server.url}/api/customers/{customer_no}.xml", {"Authorization": f"Basic {token}"}).decode()
    assert f"<id type=\"integer\">{customer_no}</id>" in xml or f"<id>{customer_no}</id>" in xml, xml
    assert points in xml, (points, xml)

    mp = made["memberpoints"]
    body = json.loads(_get(f"{server.url}/webapps/api/memberpointsbalances?mbr_id={customer_no}",
                           {"apiID": mp["api_id"], "apiKey": mp["api_key"]}))
    assert [row["mbr_id"] for row in body["data"]] == [customer_no], body
    assert str(body["data"][0]["mbr_points_balance"]) in (points, points.rstrip("0").rstrip(".")), body

    pomelo = made["pomelo"]
    grant = _post_json(f"{server.url}/oauth/token", {
        "client_id": pomelo["client_id"], "client_secret": pomelo["client_secret"],
        "audience": "https://api.pomelo.la", "grant_type": "client_credentials",
    })
    balance = json.loads(_get(f"{server.url}/loyalty/v1/accounts/balance?card_id={card_ref}",
                              {"Authorization": f"Bearer {grant['access_token']}"}))
    assert balance["user_id"] == user_ref and balance["card_id"] == card_ref, balance
    assert str(balance["points"]) in (points, points.rstrip("0").rstrip(".")), balance


def test_readable_credentials_and_a_name_taken(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    first = process.run(["seed", "--generate", "5", "--database", url], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "generated tenant generated-5 with 5 members" in first.stdout
    for section in ("imonggo:", "memberpoints:", "pomelo:", "api_token:", "client_secret:"):
        assert section in first.stdout
    again = process.run(["seed", "--generate", "5", "--database", url], tmp_path)
    one_line_error(again, "'generated-5' exists already")


def test_refuses_a_count_that_is_no_positive_whole_number(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'n.db'}"
    for bad in ("0", "-3", "ten", "1.5", ""):
        one_line_error(process.run(["seed", "--generate", bad, "--database", url], tmp_path),
                       "positive whole number")
    one_line_error(process.run(["seed", "--generate", "3", "--scenario", "demo", "--database", url], tmp_path),
                   "not allowed with argument")
    one_line_error(process.run(["seed", "--scenario", "demo", "--json", "--database", url], tmp_path),
                   "--tenant and --json go with --generate")
    assert not (tmp_path / "n.db").exists()  # refused before any database was opened
