"""The wrk loads of the read and write rows, against the shipped demo scenario (its credentials and
members as README.md lists them): one read and one durable write per dialect."""
from __future__ import annotations

import base64
import json

from ..harness import Load, http

IMONGGO_TOKEN = "5c4fc5805eb643716bbc17dad456a0c6cf2e23fa"
IMONGGO_AUTH = {"Authorization": "Basic " + base64.b64encode(f"{IMONGGO_TOKEN}:X".encode()).decode()}
MEMBERPOINTS_AUTH = {"apiID": "demo-api-id", "apiKey": "demo-api-key"}
POMELO_CLIENT = {"client_id": "demo-client-id", "client_secret": "demo-client-secret",
                 "audience": "https://api.pomelo.la", "grant_type": "client_credentials"}
CUSTOMER = 1534  # Juan Cruz: a customer in imonggo, a member in memberpoints, a card in pomelo
CARD = "crd-2ay34Uk2fseMY5l3OwddSRX8iR4"


def pomelo_token(base: str) -> str:
    status, body = http("POST", base + "/oauth/token", POMELO_CLIENT)
    if status != 200:
        raise RuntimeError(f"/oauth/token answered {status}: {body[:200]!r}")
    return str(json.loads(body)["access_token"])


def reads(base: str) -> dict[str, Load]:
    bearer = {"Authorization": "Bearer " + pomelo_token(base)}
    return {
        "imonggo GET customer XML": Load(f"{base}/api/customers/{CUSTOMER}.xml", IMONGGO_AUTH),
        "memberpoints balances": Load(f"{base}/webapps/api/memberpointsbalances", MEMBERPOINTS_AUTH),
        "pomelo balance": Load(f"{base}/loyalty/v1/accounts/balance?card_id={CARD}", bearer),
    }


def top_up(base: str, points: int) -> None:
    """Credit the spend's customer first, so a long run of spends never meets 'insufficient points'."""
    body = {"mbr_id": CUSTOMER, "adjustpoints": points, "adjustmentnote": "bench top-up"}
    status, answer = http("POST", base + "/webapps/api/memberpoints", body, MEMBERPOINTS_AUTH)
    if status != 200:
        raise RuntimeError(f"top-up answered {status}: {answer[:200]!r}")


def writes(base: str) -> dict[str, Load]:
    """imonggo spends of 0.01 (2 points each, a new reference each), memberpoints credits of 1 point."""
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in IMONGGO_AUTH.items())
    spend = f"""wrk.method = "POST"
{headers}
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, "/api/rewards.xml?q=spend&customer_id={CUSTOMER}&amount=0.01&reference=bench-" .. n)
end
"""
    adjust = json.dumps({"mbr_id": 442531, "adjustpoints": 1, "adjustmentnote": "bench"})
    return {
        "imonggo spend": Load(f"{base}/api/rewards.xml", lua=spend),
        "memberpoints POST": Load(f"{base}/webapps/api/memberpoints",
                                  {**MEMBERPOINTS_AUTH, "Content-Type": "application/json"}, "POST", adjust),
    }
