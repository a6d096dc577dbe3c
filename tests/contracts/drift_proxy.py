"""A deliberately drifted server for verify's tests: an aiohttp app that proxies a real `loyalty-gateway serve`
and changes ONE thing in the answers of the dialects (never in /__admin, so provider states still work):

    python -m tests.contracts.drift_proxy UPSTREAM_URL DRIFT [ARGS...] [--path PREFIX] [--port 0]

    rename OLD NEW     an XML element renamed (<OLD> ... </OLD> becomes <NEW> ... </NEW>)
    number KEY         a JSON string holding a number turned into that number ("50.00" -> 50.00)
    reorder            the top-level keys of a JSON object reversed (numbers written as they came)
    drop HEADER        a header left out of the answer (Content-Type: none at all)
    fail-once          the first request answered 500, later ones proxied
    none               nothing changed

--path: only requests whose path (with its query) starts with PREFIX drift (default: every path but /__admin's).

It prints `listening on http://127.0.0.1:PORT` once it listens, like `serve`."""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from typing import Any

from aiohttp import ClientSession, web

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}
_RAW = re.compile(r'"\\u0000(-?[0-9.eE+-]+)\\u0000"')


def reversed_keys(body: bytes) -> bytes:
    """The top-level object's keys in reverse order; numbers kept exactly as written."""
    def raw(text: str) -> str:
        return f"\0{text}\0"

    value = json.loads(body, parse_float=raw, parse_int=raw)
    if not isinstance(value, dict):
        return body
    text = json.dumps(dict(reversed(list(value.items()))))
    return _RAW.sub(lambda m: m[1], text).encode()


def string_to_number(body: bytes, key: str) -> bytes:
    pattern = re.compile(rb'("' + re.escape(key.encode()) + rb'"\s*:\s*)"(-?\d+(?:\.\d+)?)"')
    return pattern.sub(rb"\1\2", body)


def renamed(body: bytes, old: str, new: str) -> bytes:
    o, n = old.encode(), new.encode()
    return re.sub(rb"<(/?)" + re.escape(o) + rb"([\s/>])", rb"<\1" + n + rb"\2", body)


class Drift:
    def __init__(self, kind: str, args: list[str], prefix: str = "/") -> None:
        self.kind, self.args, self.prefix = kind, args, prefix
        self.failed = False

    def applies(self, request: web.Request) -> bool:
        return request.path_qs.startswith(self.prefix) and not request.path.startswith("/__admin")

    def before(self, request: web.Request) -> web.Response | None:
        if self.kind == "fail-once" and not self.failed:
            self.failed = True
            return web.Response(status=500, text="Internal Server Error")
        return None

    def body(self, body: bytes, content_type: str) -> bytes:
        if self.kind == "rename" and "xml" in content_type:
            return renamed(body, *self.args)
        if self.kind == "number" and "json" in content_type:
            return string_to_number(body, self.args[0])
        if self.kind == "reorder" and "json" in content_type:
            return reversed_keys(body)
        return body

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        if self.kind == "drop":
            return {k: v for k, v in headers.items() if k.lower() != self.args[0].lower()}
        return headers


class Bare(web.StreamResponse):
    """An answer without a Content-Type (aiohttp adds application/octet-stream to any body it sends)."""

    async def _write_headers(self) -> None:
        self.headers.popall("Content-Type", None)
        await super()._write_headers()


def make_app(upstream: str, drift: Drift) -> web.Application:
    async def session_ctx(app: web.Application) -> Any:
        async with ClientSession(auto_decompress=True) as session:
            app["session"] = session
            yield

    async def proxy(request: web.Request) -> web.StreamResponse:
        drifts = drift.applies(request)
        if drifts:
            early = drift.before(request)
            if early is not None:
                return early
        session: ClientSession = request.app["session"]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        async with session.request(request.method, upstream + request.path_qs, headers=headers,
                                   data=await request.read(), allow_redirects=False) as reply:
            body = await reply.read()
            answer = {k: v for k, v in reply.headers.items() if k.lower() not in HOP}
        if drifts:
            body = drift.body(body, reply.headers.get("Content-Type", ""))
            answer = drift.headers(answer)
        bare = not any(k.lower() == "content-type" for k in answer)
        response = (Bare if bare else web.StreamResponse)(status=reply.status, headers=answer)
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    app = web.Application()
    app.cleanup_ctx.append(session_ctx)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="drift_proxy")
    parser.add_argument("upstream")
    parser.add_argument("drift", nargs="+")
    parser.add_argument("--path", default="/")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    drift = Drift(args.drift[0], args.drift[1:], args.path)
    asyncio.run(serve(make_app(args.upstream.rstrip("/"), drift), args.port))


async def serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"listening on http://127.0.0.1:{bound}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    main(sys.argv[1:])
