"""A target's admin API as verify and diff use it: health, provider states (Pact's provider-states URL) and
the server's clock, which exact mode takes over for a run and gives back after. The admin token, when given,
goes as `Authorization: Bearer` on these calls only, never to a dialect's routes, and is never shown.
Knows no vendor."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from .model import Answer, Case, Request
from .transport import Target, Unreachable

HEALTH = "/__admin/health"
STATES_PATH = "/__admin/provider-states"
CLOCK = "/__admin/clock"
TOKEN_HINT = "--admin-token or LOYALTY_GATEWAY_ADMIN_TOKEN"


class StateRefused(Exception):
    """The target's provider-state call failed: status and message in one line."""


class AdminRefused(Exception):
    """The target's admin API answered 401 or 403: the run cannot set states up, said in one line."""


class Admin:
    def __init__(self, target: Target, token: str | None = None) -> None:
        self.target, self._token = target, token or None

    async def call(self, method: str, path: str, body: Any = None) -> Answer:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        answer = await self.target.send(Request(method, path, headers, data))
        if answer.status in (401, 403):
            where = f"{self.target.base}{path}"
            raise AdminRefused(f"{where} refused the admin token ({answer.status})" if self._token else
                               f"{where} answered {answer.status}: its admin API wants a token ({TOKEN_HINT})")
        return answer

    async def healthy(self) -> bool:
        return (await self.target.send(Request("GET", HEALTH))).status == 200  # open: no token needed

    async def set_state(self, case: Case, tenant: str) -> dict[str, Any]:
        answer = await self.call("POST", STATES_PATH, {"dialect": case.dialect, "state": _plain(case.state),
                                                       "tenant": tenant})
        if answer.status != 200:
            raise StateRefused(f"{self.target.base}{STATES_PATH} answered {answer.status}: {one_line(answer.body)}")
        value: dict[str, Any] = json.loads(answer.body)
        return value

    async def clock(self) -> dict[str, Any] | None:
        """The server's clock as GET /__admin/clock tells it; None where the target has no such call."""
        answer = await self.call("GET", CLOCK)
        try:
            value = json.loads(answer.body) if answer.status == 200 else None
        except ValueError:
            return None
        return value if isinstance(value, dict) and "frozen_at" in value else None

    async def give_back(self, saved: dict[str, Any]) -> None:
        """The clock as it was before the run: frozen where it was, shifted by what it was, or real. A target
        gone by now cannot be helped (the run says why it stopped)."""
        try:
            offset = saved.get("offset_seconds") or 0
            if offset:
                await self.call("PUT", CLOCK, {"offset_seconds": offset})
            if saved.get("frozen_at"):
                await self.call("PUT", CLOCK, {"frozen_at": saved["frozen_at"]})
            elif not offset:
                await self.call("DELETE", CLOCK)
        except (Unreachable, AdminRefused):
            pass


def _plain(value: Any) -> Any:
    """A state loaded with Decimals, as JSON can carry it (numbers that are not whole as their text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def one_line(body: bytes, limit: int = 160) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
