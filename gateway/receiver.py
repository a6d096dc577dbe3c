"""`loyalty-gateway webhooks listen`: a small receiver an integrator runs to watch the sandbox's signed
webhooks. It checks every X-Signature against the api secret and prints each event; with a forward URL it
passes each one on to the developer's app with its headers (the signature's too) and gives the sandbox the
app's answer, so the sandbox retries what the app failed. 403 for a bad signature (not forwarded), 200 for
an event `--events` leaves out, 502 when the app cannot be reached, 405 (not printed) for anything but a
POST. Names no vendor and no vendor field: the check, the event's name and the printed summary are the
sending dialect's (its descriptor's Webhooks.verify and sink, as app.py lists the dialects)."""
from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TextIO

import aiohttp
from aiohttp import web

from .dialects.descriptor import WebhookSink, Webhooks

Verify = Callable[[str, Mapping[str, str], bytes], bool]
# Headers that belong to one hop, not to the webhook: the forward makes its own.
HOP_BY_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
                        "upgrade", "proxy-authorization", "proxy-connection"})
FORWARD_TIMEOUT_SECONDS = 10.0
SHOWN_BODY = 200  # characters of the app's answer printed


def _sender() -> Webhooks:
    from .app import DIALECT_LIST  # the composition root: the one list of dialects

    return next(d.webhooks for d in DIALECT_LIST if d.webhooks is not None)


def _reader(sink: WebhookSink | None) -> Callable[[bytes], tuple[str | None, str]]:
    """(body) -> the event's name (None when the body is none of the dialect's webhooks) and a summary line's
    tail, both as the sending dialect's descriptor reads them."""

    def read(body: bytes) -> tuple[str | None, str]:
        name = sink.event_of(body) if sink is not None else None
        if name is None:
            return None, f"{len(body)} bytes, not a webhook this sandbox sends"
        summary = sink.summary_of(body) if sink is not None and sink.summary_of is not None else None
        return name, summary or name

    return read


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_BODY else flat[:SHOWN_BODY] + "..."


def receiver_app(secret: str, out: TextIO = sys.stdout, verify: Verify | None = None, *,
                 forward_to: str | None = None, events: frozenset[str] | None = None) -> web.Application:
    sender = _sender()
    check = verify or sender.verify
    read = _reader(sender.sink)
    sessions: list[aiohttp.ClientSession] = []

    async def receive(request: web.Request) -> web.StreamResponse:
        if request.method != "POST":  # a webhook is a POST; anything else (a readiness probe) is not one to show
            return web.json_response({"error": "webhooks are POSTed here"}, status=405, headers={"Allow": "POST"})
        body = await request.read()
        ok = check(secret, request.headers, body)
        name, summary = read(body)
        print(f"{'signature ok ' if ok else 'BAD SIGNATURE'} {request.method} {request.path_qs} {summary}", file=out)
        print(f"  {body.decode('utf-8', 'replace')}", file=out, flush=True)
        if not ok:
            if forward_to:
                print("  not forwarded: the signature does not match --secret", file=out, flush=True)
            return web.json_response({"error": "signature mismatch"}, status=403)
        if events is not None and name not in events:
            print(f"  skipped: {name} is not among --events {','.join(sorted(events))}", file=out, flush=True)
            return web.json_response({"received": True, "skipped": True})
        if not forward_to:
            return web.json_response({"received": True})
        return await forward(request, body)

    async def forward(request: web.Request, body: bytes) -> web.Response:
        assert forward_to is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            async with sessions[0].request(request.method, forward_to, data=body, headers=headers,
                                           allow_redirects=False) as answer:
                raw = await answer.read()
                print(f"  -> {forward_to}: {answer.status} {_short(raw.decode('utf-8', 'replace'))}", file=out, flush=True)
                kept = {k: v for k, v in answer.headers.items() if k.lower() == "content-type"}
                return web.Response(status=answer.status, body=raw, headers=kept)
        except asyncio.TimeoutError:
            why = f"no answer within {FORWARD_TIMEOUT_SECONDS:g} s"
        except aiohttp.ClientError as exc:
            why = str(exc) or type(exc).__name__
        print(f"  -> {forward_to}: not delivered ({why}); answered 502, so the sandbox tries again", file=out, flush=True)
        return web.json_response({"error": f"forwarding to {forward_to} failed: {why}"}, status=502)

    async def session(app: web.Application) -> AsyncIterator[None]:
        sessions.append(aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=FORWARD_TIMEOUT_SECONDS)))
        yield
        await sessions.pop().close()

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", receive)
    return app


async def listen(*, host: str, port: int, secret: str, forward_to: str | None = None,
                 events: frozenset[str] | None = None) -> None:
    runner = web.AppRunner(receiver_app(secret, forward_to=forward_to, events=events), handle_signals=False,
                           access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = next((a[1] for a in runner.addresses if isinstance(a, tuple) and len(a) >= 2), port)
        where = f" forwarding to {forward_to}" if forward_to else ""
        only = f" (only {','.join(sorted(events))})" if events else ""
        print(f"listening for webhooks on http://{host}:{bound}/{where}{only} (Ctrl-C to stop)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
