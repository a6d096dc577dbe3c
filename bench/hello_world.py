"""The reference every read is a ratio to: the smallest aiohttp server of this venv (one route, no
access log), so the ratio says what the gateway costs above aiohttp itself on this machine today.

    python -m bench.hello_world PORT
"""
from __future__ import annotations

import sys

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="Hello, world")


def main() -> None:
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
