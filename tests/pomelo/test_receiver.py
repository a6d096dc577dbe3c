"""`loyalty-gateway webhooks listen`: the receiver accepts correctly signed webhooks (200) and shows,
then refuses (403), anything whose signature does not match the secret."""
from __future__ import annotations

import base64
import io
from datetime import datetime, timezone
from typing import Any

from gateway.cli import _parser
from gateway.dialects.pomelo.webhooks import headers
from gateway.receiver import receiver_app

SECRET = base64.b64encode(b"listen-secret").decode()
BODY = b'{"event_id":"loyalty-confirm","idempotency_key":"lye-1-confirm","event_detail":{}}'


async def test_the_receiver_verifies_and_prints_each_event(aiohttp_client: Any) -> None:
    out = io.StringIO()
    client = await aiohttp_client(receiver_app(SECRET, out))
    signed = headers(api_key="k", api_secret=SECRET, url="http://x/hooks?a=1", body=BODY, key="lye-1-confirm",
                     now=datetime.now(timezone.utc))
    good = await client.post("/hooks?a=1", data=BODY, headers=signed)
    assert good.status == 200
    bad = await client.post("/hooks?a=1", data=BODY + b" ", headers=signed)
    assert bad.status == 403
    lines = out.getvalue().splitlines()
    assert lines[0] == "signature ok  POST /hooks?a=1 loyalty-confirm lye-1-confirm"
    assert lines[2].startswith("BAD SIGNATURE POST /hooks?a=1")


def test_the_cli_takes_webhooks_listen_with_port_and_secret() -> None:
    args = _parser().parse_args(["webhooks", "listen", "--port", "18115", "--secret", SECRET])
    assert (args.command, args.webhooks_command, args.port, args.secret, args.host) == (
        "webhooks", "listen", 18115, SECRET, "127.0.0.1")
