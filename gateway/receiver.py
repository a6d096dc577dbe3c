"""`loyalty-gateway webhooks listen`: a small receiver an integrator runs to watch the sandbox's
signed webhooks. It checks every X-Signature against the api secret, prints each event, and answers
200 (403 for a bad signature, so the sandbox retries and the mismatch shows). Names no vendor: the check
is the one of the dialect that sends webhooks (its descriptor, as app.py lists the dialects)."""
from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable, Mapping
from typing import TextIO

from aiohttp import web

Verify = Callable[[str, Mapping[str, str], bytes], bool]


def _sender_check() -> Verify:
    from .app import DIALECT_LIST  # the composition root: the one list of dialects

    return next(d.webhooks.verify for d in DIALECT_LIST if d.webhooks is not None)


def receiver_app(secret: str, out: TextIO = sys.stdout, verify: Verify | None = None) -> web.Application:
    check = verify or _sender_check()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        ok = check(secret, request.headers, body)
        try:
            event = json.loads(body)
            summary = f"{event.get('event_id')} {event.get('idempotency_key')}"
        except (ValueError, AttributeError):
            summary = f"{len(body)} bytes, not JSON"
        print(f"{'signature ok ' if ok else 'BAD SIGNATURE'} {request.method} {request.path_qs} {summary}", file=out)
        print(f"  {body.decode('utf-8', 'replace')}", file=out, flush=True)
        if not ok:
            return web.json_response({"error": "signature mismatch"}, status=403)
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", receive)
    return app


async def listen(*, host: str, port: int, secret: str) -> None:
    runner = web.AppRunner(receiver_app(secret), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        print(f"listening for webhooks on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
