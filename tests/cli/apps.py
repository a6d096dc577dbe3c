"""A developer's app for the CLI tests: a real HTTP server on a free port, in a thread, that records what
it receives and answers the status the test chooses."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class App:
    status: int = 200
    answer: bytes = b'{"ok": true}'
    received: list[Received] = field(default_factory=list)
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"the app got {len(self.received)} requests, not {count}"
        return self.received


def start_app(status: int = 200) -> App:
    app = App(status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            app.received.append(Received("POST", self.path, dict(self.headers.items()), body))
            self.send_response(app.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(app.answer)))
            self.end_headers()
            self.wfile.write(app.answer)

        def log_message(self, *args: Any) -> None:
            pass

    app.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=app.server.serve_forever, daemon=True).start()
    return app
