"""Read timeouts of a real `loyalty-gateway serve` process, over real sockets: a client that sends part of a
header (or nothing) is closed once header_timeout_seconds pass, a body shorter than its Content-Length is
answered 408 once body_timeout_seconds pass, a slow client that keeps within both is served, and a
malformed request is answered 400 and logged as one INFO line."""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import process

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.5
BODY_TIMEOUT = 1.5
MEMBERPOINTS = "apiID: demo-api-id\r\napiKey: demo-api-key\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[process.Server]:
    where = tmp_path_factory.mktemp("timeouts")
    started = process.start(
        ["--port", "0", "--database", f"sqlite:///{where / 'gw.db'}",
         "--header-timeout-seconds", str(HEADER_TIMEOUT), "--body-timeout-seconds", str(BODY_TIMEOUT)],
        where,
    )
    yield started
    started.stop()


def connect(server: process.Server) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=HEADER_TIMEOUT * 6)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a timeout here fails the test)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One response with a Content-Length: (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split()[1]), body


def test_a_partial_header_is_answered_408_and_closed_after_the_header_timeout(server: process.Server) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        reply = read_until_closed(sock)
        waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert HEADER_TIMEOUT * 0.9 <= waited < HEADER_TIMEOUT * 4


def test_many_partial_headers_and_silent_connections_are_all_closed(server: process.Server) -> None:
    socks = [connect(server) for _ in range(60)]
    try:
        for i, sock in enumerate(socks):
            if i % 2:
                sock.sendall(b"POST /webapps/api/memberpoints HTTP/1.1\r\nHost: 127.0.0.1\r\napiID: demo")
        started = time.monotonic()
        replies = [read_until_closed(sock) for sock in socks]
        waited = time.monotonic() - started
    finally:
        for sock in socks:
            sock.close()
    assert all(r.startswith(b"HTTP/1.1 408 ") for r in replies[1::2])
    assert all(r == b"" for r in replies[::2])  # nothing was asked, so nothing is answered
    assert waited < HEADER_TIMEOUT * 4
    with connect(server) as sock:  # and the server still serves
        sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_response(sock)[0] == 200


def test_a_body_shorter_than_its_content_length_is_answered_408_in_the_dialect_shape(server: process.Server) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(
            f"POST /webapps/api/memberpoints HTTP/1.1\r\nHost: 127.0.0.1\r\n{MEMBERPOINTS}"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"mbr_id\": 1534".encode()
        )
        status, body = read_response(sock)
        waited = time.monotonic() - started
        assert read_until_closed(sock) == b""  # the connection is closed after the reply
    assert status == 408
    reply = json.loads(body)
    assert reply["success"] is False and reply["endPoint"] == "memberpoints"
    assert BODY_TIMEOUT * 0.9 <= waited < BODY_TIMEOUT * 4


def test_a_slow_client_that_keeps_within_the_limits_is_served(server: process.Server) -> None:
    body = json.dumps({"mbr_id": 1534, "adjustpoints": 1, "adjustmentnote": "slow but steady"}).encode()
    head = (f"POST /webapps/api/memberpoints HTTP/1.1\r\nHost: 127.0.0.1\r\n{MEMBERPOINTS}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with connect(server) as sock:
        for request in range(2):  # twice on one kept-alive connection
            for part in (head[:20], head[20:60], head[60:]):
                sock.sendall(part)
                time.sleep(HEADER_TIMEOUT / 5)
            for part in (body[:10], body[10:]):
                sock.sendall(part)
                time.sleep(BODY_TIMEOUT / 5)
            status, reply = read_response(sock)
            assert status == 200, reply
            assert json.loads(reply)["data"]["adjustmentnote"] == "slow but steady"


def test_malformed_http_is_answered_400_and_logged_as_one_info_line(tmp_path: Path) -> None:
    started = process.start(["--port", "0", "--database", f"sqlite:///{tmp_path / 'gw.db'}"], tmp_path)
    try:
        for garbage in (b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"):
            with connect(started) as sock:
                sock.sendall(garbage)
                assert read_until_closed(sock).split(b" ")[1] == b"400"
    finally:
        started.stop()
    refused = [line for line in started.output.splitlines() if "malformed request" in line]
    assert len(refused) == 2 and all(" INFO gateway.http: refused a malformed request from " in r for r in refused)
    assert "Traceback" not in started.output and " ERROR " not in started.output


def test_a_kept_alive_connection_gets_a_whole_period_after_each_response_then_is_closed(server: process.Server) -> None:
    request = f"GET /webapps/api/memberpointsbalances HTTP/1.1\r\nHost: 127.0.0.1\r\n{MEMBERPOINTS}\r\n".encode()
    slow = json.dumps({"dialect": "memberpoints", "effect": "latency", "latency_ms": int(HEADER_TIMEOUT * 800), "times": 1})
    with connect(server) as admin:
        admin.sendall(f"POST /__admin/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(slow)}\r\n\r\n{slow}".encode())
        assert read_response(admin)[0] == 201
    with connect(server) as sock:
        sock.sendall(request)  # answered 0.8 periods later (the injected latency)
        assert read_response(sock)[0] == 200
        time.sleep(HEADER_TIMEOUT * 0.6)  # past a period since the request, within one since the response
        sock.sendall(request)
        assert read_response(sock)[0] == 200
        answered = time.monotonic()
        assert read_until_closed(sock) == b""  # then idle: closed without a word
        assert HEADER_TIMEOUT * 0.9 <= time.monotonic() - answered < HEADER_TIMEOUT * 4
