"""The in-process server of a test session: create_app(settings) run by an aiohttp AppRunner on a private
loop thread, on a free port of 127.0.0.1, with the webhook sink beside it and the admin helpers over it
(fault rules, the clock, fresh tenants). Dialects are known only through app.py's list of descriptors."""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ..app import DIALECT_LIST, create_app
from ..scenario import ScenarioError, read_scenario
from ..settings import Settings
from .admin import AdminClient, Changes, Clock, Faults
from .loop import LoopThread
from .tenant import DialectView, LoyaltyTenant
from .webhooks import WebhookSink

# A server for tests: no tenant of its own (each test makes one), no access log in the test output, and
# asyncio's loop (the thread's loop is made here, not by serve).
TEST_SETTINGS = {"host": "127.0.0.1", "port": 0, "scenario": "none", "access_log": False, "uvloop": False}


class LoyaltyGateway:
    """A running server. `base_url` for the dialects, `admin_url` for /__admin, `faults` and `clock` over
    the admin API, `new_tenant()` for a fresh tenant (the loyalty_tenant fixture makes one per test)."""

    def __init__(self, database: str, settings: Mapping[str, Any] | None = None) -> None:
        self.database = database
        self.settings = Settings.defaults().replace(**{**TEST_SETTINGS, **(settings or {}), "database": database})
        self.base_url = self.admin_url = ""
        self.changes = Changes()
        self._loop: LoopThread | None = None
        self._runner: web.AppRunner | None = None
        self._client: AdminClient | None = None
        self.sink: WebhookSink | None = None

    def __repr__(self) -> str:
        return f"<LoyaltyGateway {self.base_url or '(stopped)'} database={self.database}>"

    # -- lifetime ----------------------------------------------------------------------------------------

    def start(self) -> LoyaltyGateway:
        self._loop = LoopThread("loyalty-gateway")
        try:
            self._loop.run(self._start(), timeout=120)
        except BaseException:
            self.stop()
            raise
        return self

    async def _start(self) -> None:
        assert self._loop is not None
        self._runner = web.AppRunner(create_app(self.settings), handle_signals=False, access_log=None)
        await self._runner.setup()  # opens the store: a database that cannot be reached fails here
        await web.TCPSite(self._runner, self.settings.host, self.settings.port).start()
        host, port = next(a for a in self._runner.addresses if isinstance(a, tuple))[:2]
        self.base_url = f"http://{host}:{port}"
        self.admin_url = self.base_url + "/__admin"
        self._client = AdminClient(self._loop, self.base_url)
        await self._client.open()
        self.sink = WebhookSink(self._loop)
        await self.sink.start()

    def stop(self) -> None:
        if self._loop is None:
            return
        if not self._loop.loop.is_closed():
            self._loop.run(self._stop(), timeout=120)
            self._loop.close()

    async def _stop(self) -> None:
        for close in (self.sink.stop if self.sink else None, self._client.close if self._client else None,
                      self._runner.cleanup if self._runner else None):
            if close is not None:
                await close()

    # -- the admin API -----------------------------------------------------------------------------------

    @property
    def client(self) -> AdminClient:
        if self._client is None:
            raise RuntimeError("the server is not running")
        return self._client

    @property
    def faults(self) -> Faults:
        return Faults(self.client, self.changes)

    @property
    def clock(self) -> Clock:
        return Clock(self.client, self.changes)

    def admin(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Any admin call (path under /__admin): its JSON answer; a refusal raises AdminError."""
        return self.client.call(method.upper(), path, json_body=json, params=params)

    async def admin_async(self, method: str, path: str, *, json: Any = None,
                          params: Mapping[str, Any] | None = None) -> Any:
        return await self.client.call_async(method.upper(), path, json_body=json, params=params)

    def undo(self, mark: tuple[int, int]) -> None:
        """Remove the fault rules added since `mark` and, if the clock moved since, put it back to real time."""
        faults, moves = mark
        added = self.changes.faults[faults:]
        if added:
            present = {rule["id"] for rule in self.client.call("GET", "/faults")["faults"]}
            for rule_id in added:
                if rule_id in present:  # one a `with` block or the test removed already is gone
                    self.client.call("DELETE", f"/faults/{rule_id}")
            del self.changes.faults[faults:]
        if self.changes.clock_moves != moves:
            self.clock.reset()

    # -- tenants -----------------------------------------------------------------------------------------

    def new_tenant(self, scenario: Any = "demo", tenant: str | None = None, *,
                   relative_to: Path | None = None) -> LoyaltyTenant:
        """A fresh tenant from the demo, a scenario document (a mapping) or a scenario file (JSON or TOML; a
        relative path is taken from `relative_to`), under new credentials; `tenant` picks one of its tenants."""
        body: dict[str, Any] = {"scenario": scenario_document(scenario, relative_to)}
        if tenant is not None:
            body["tenant"] = tenant
        answer = self.admin("POST", "/tenants", json=body)
        try:
            return self._tenant(answer)
        except BaseException:
            self.admin("DELETE", "/tenants/" + quote(str(answer["name"]), safe=""))
            raise

    def _tenant(self, answer: Mapping[str, Any]) -> LoyaltyTenant:
        assert self._loop is not None and self.sink is not None
        name = str(answer["name"])
        views = {d.name: DialectView(d.name, self.base_url, d.cases.client.from_state(answer), d.cases.client,
                                     self._loop, self.changes)
                 for d in DIALECT_LIST if d.cases is not None and d.cases.client is not None and d.name in answer}
        for dialect in DIALECT_LIST:
            sink = dialect.webhooks.sink if dialect.webhooks is not None else None
            if sink is None or dialect.name not in answer:
                continue
            self._loop.run(_on_loop(self.sink.subscribe, name, dialect.name, sink.secret(answer[dialect.name]),
                                    dialect.webhooks.verify, sink.event_of))
            method, path, body = sink.subscribe(name, self.sink.url(name, dialect.name))
            self.admin(method, path, json=body)
        return LoyaltyTenant(answer=answer, views=views, client=self.client, changes=self.changes, sink=self.sink)

    def forget(self, tenant: LoyaltyTenant) -> None:
        """Delete a tenant and stop receiving its webhooks."""
        assert self._loop is not None and self.sink is not None
        try:
            tenant.delete()
        finally:
            self._loop.run(_on_loop(self.sink.forget, tenant.name))


async def _on_loop(call: Callable[..., Any], *args: Any) -> Any:
    return call(*args)  # run on the server's loop, where the sink's tables are read


def scenario_document(scenario: Any, relative_to: Path | None) -> Any:
    """What POST /__admin/tenants takes as "scenario": "demo", a document, or a file's document."""
    if isinstance(scenario, str) and scenario == "demo":
        return scenario
    if isinstance(scenario, Mapping):
        return dict(scenario)
    if isinstance(scenario, (str, os.PathLike)):
        path = Path(scenario)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
        try:
            return read_scenario(path)
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
    raise TypeError(f'a scenario is "demo", a scenario document (a dict) or a file path, not {type(scenario).__name__}')
