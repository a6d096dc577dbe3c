"""The access log: one line per request with the query's secrets masked; nothing at all when its logger
does not take INFO (aiohttp asks `enabled` before it formats anything)."""
from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.sandbox.access_log import AccessLog
from gateway.sandbox.redact import MASK


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_line_names_the_request_and_masks_a_password_in_its_query() -> None:
    logger = logging.getLogger("test.access")
    logger.setLevel(logging.INFO)
    logger.addHandler(lines := Lines())
    log = AccessLog(logger, "")
    assert log.enabled
    request = make_mocked_request("GET", "/api/tokens.json?email=a@b.c&password=hunter2")
    log.log(request, web.Response(status=200, body=b"{}"), 0.0012)
    [line] = lines.lines
    assert '"GET /api/tokens.json?email=a@b.c&password=' + MASK + ' HTTP/1.1" 200 ' in line and line.endswith(" 1.2ms")
    assert "hunter2" not in line


def test_a_logger_that_does_not_take_info_is_not_enabled() -> None:
    logger = logging.getLogger("test.access.quiet")
    logger.setLevel(logging.WARNING)
    assert not AccessLog(logger, "").enabled
