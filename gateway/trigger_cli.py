"""`loyalty-gateway trigger DIALECT EVENT ...`: makes an event happen on a running server through the one
documented /__admin call its dialect's descriptor names (no second way to change state), prints what was
done and the webhooks it caused. Names no vendor: the events come from the descriptors.

Exit status: 0 done; 1 the server refused the call (its one-line reason shown); 2 a usage mistake;
3 the server could not be reached."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import quote, urlencode

DONE, REFUSED, USAGE, UNREACHABLE = 0, 1, 2, 3
DEFAULT_URL = "http://127.0.0.1:8080"
TOKEN_ENV = "LOYALTY_GATEWAY_ADMIN_TOKEN"
URL_ENV = "LOYALTY_GATEWAY_URL"
PAGE = 200  # the deliveries listing's own default page


class TriggerFailed(Exception):
    """One line for stderr and the exit status that goes with it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def add_command(commands: Any, dialects: Sequence[Any]) -> None:
    """`trigger DIALECT EVENT`: a sub-command per dialect with events, one per event, its arguments the
    descriptor's."""
    with_events = [d for d in dialects if d.triggers is not None]
    trigger = commands.add_parser(
        "trigger", help="make a dialect's event happen on a running server and show the webhooks it caused",
        description="Make an event happen on a running server (through its /__admin API) and show the webhook"
                    " deliveries it caused. Exit status: 0 done, 1 refused by the server, 2 usage, 3 unreachable.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=None, help=f"the server (default ${URL_ENV}, else {DEFAULT_URL})")
    common.add_argument("--admin-token", default=None, help=f"its admin token (default: ${TOKEN_ENV})")
    common.add_argument("--tenant", default="demo", help="the tenant (default demo)")
    common.add_argument("--wait", type=_seconds, default=5.0,
                        help="how long to wait for the webhooks the event causes (default 5 seconds; 0: look once, do not wait)")
    common.add_argument("--json", action="store_true", help="print one JSON document: the call, its answer, the webhooks")
    by_dialect = trigger.add_subparsers(dest="trigger_dialect", required=True, metavar="DIALECT",
                                        parser_class=type(trigger))
    for dialect in with_events:
        events = dialect.triggers.events
        one = by_dialect.add_parser(dialect.name, help=f"events: {', '.join(t.event for t in events)}")
        by_event = one.add_subparsers(dest="trigger_event", required=True, metavar="EVENT", parser_class=type(trigger))
        for event in events:
            parser = by_event.add_parser(event.event, help=event.help, description=event.help, parents=[common])
            for argument in event.arguments:
                if argument.into == "path":
                    parser.add_argument(argument.name, help=argument.help)
                else:
                    parser.add_argument("--" + argument.name.replace("_", "-"), dest=argument.name,
                                        required=argument.default is None, default=argument.default,
                                        help=argument.help + ("" if argument.default is None else f" (default {argument.default})"))


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 600:
        raise argparse.ArgumentTypeError(f"expected a number of seconds from 0 to 600, not {text!r}")
    return value


def main(args: argparse.Namespace, dialects: Sequence[Any], out: TextIO = sys.stdout) -> int:
    dialect = next(d for d in dialects if d.name == args.trigger_dialect)
    event = next(t for t in dialect.triggers.events if t.event == args.trigger_event)
    url = args.url or os.environ.get(URL_ENV) or DEFAULT_URL
    admin = Admin(url, args.admin_token or os.environ.get(TOKEN_ENV, ""), args.tenant)
    try:
        report = run(admin, dialect.name, dialect.triggers, event, vars(args), args.wait)
    except TriggerFailed as exc:
        print(f"loyalty-gateway: error: {exc}", file=sys.stderr, flush=True)
        return exc.status
    if args.json:
        print(json.dumps(report, indent=2), file=out)
    else:
        for line in readable(report):
            print(line, file=out)
    return DONE


@dataclass
class Admin:
    """The server's /__admin API, for one tenant."""

    url: str
    token: str
    tenant: str

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None,
             query: Mapping[str, Any] | None = None) -> Any:
        target = f"{self.url.rstrip('/')}/__admin{path}?{urlencode({'tenant': self.tenant, **(query or {})})}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(target, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=15) as answer:
                return json.loads(answer.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise TriggerFailed(f"{method} /__admin{path}: {exc.code} {_reason(exc)}", REFUSED) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TriggerFailed(f"cannot reach the server at {self.url}: {reason} (is `loyalty-gateway serve`"
                                " running there? --url names another)", UNREACHABLE) from None
        except ValueError:
            raise TriggerFailed(f"{method} /__admin{path}: the answer is not JSON (is {self.url} a loyalty-gateway?)",
                                REFUSED) from None


def _reason(exc: urllib.error.HTTPError) -> str:
    """The admin API's own message ({"error": {"message"}}), else the status's phrase."""
    try:
        message = json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError, OSError):
        message = exc.reason
    hint = " (give --admin-token or set $" + TOKEN_ENV + ")" if exc.code == 401 else ""
    return " ".join(str(message).split()) + hint


def run(admin: Admin, dialect: str, triggers: Any, event: Any, values: Mapping[str, Any], wait: float) -> dict[str, Any]:
    """Make the call, then watch for the deliveries it caused; the report `readable` prints."""
    path = event.path.format(**{a.name: quote(str(values[a.name]), safe="") for a in event.arguments if a.into == "path"})
    body = {a.field or a.name: values[a.name] for a in event.arguments if a.into == "body" and values[a.name] is not None}
    seen_before = _count_deliveries(admin) if event.webhooks else 0
    configured = _configured(admin, triggers) if event.webhooks else frozenset()
    answer = admin.call(event.method, path, body if event.method != "GET" else None)
    expected = [e for e in event.webhooks if e in configured]
    report: dict[str, Any] = {
        "dialect": dialect, "event": event.event, "tenant": admin.tenant,
        "request": {"method": event.method, "path": "/__admin" + path, "body": body},
        "answer": answer, "done": event.summary(answer),
        "webhooks_expected": expected, "webhooks_unconfigured": [e for e in event.webhooks if e not in configured],
        "webhooks": [],
    }
    if expected and triggers.caused is not None:
        report["webhooks"] = _await_deliveries(admin, triggers, answer, expected, seen_before, wait)
    return report


def _configured(admin: Admin, triggers: Any) -> frozenset[str]:
    if triggers.webhook_settings is None or triggers.configured is None:
        return frozenset()
    return frozenset(triggers.configured(admin.call("GET", triggers.webhook_settings)))


def _deliveries(admin: Admin, offset: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while True:
        page = admin.call("GET", "/webhooks/deliveries", query={"offset": offset + len(found), "limit": PAGE})
        found += page["deliveries"]
        if len(page["deliveries"]) < PAGE:
            return found


def _count_deliveries(admin: Admin) -> int:
    return len(_deliveries(admin, 0))


def _await_deliveries(admin: Admin, triggers: Any, answer: Any, expected: list[str], offset: int,
                      wait: float) -> list[dict[str, Any]]:
    """The deliveries the call caused, once each expected event has one and none is still on its first
    try (or once `wait` runs out: what there is then)."""
    deadline = time.monotonic() + wait
    while True:
        mine = [d for d in _deliveries(admin, offset) if triggers.caused(answer, d)]
        events = {d["event"] for d in mine}
        settled = all(d["state"] != "pending" or d["attempts"] > 0 for d in mine)
        if (all(e in events for e in expected) and settled) or time.monotonic() >= deadline:
            return mine
        time.sleep(0.2)


def readable(report: Mapping[str, Any]) -> list[str]:
    lines = [f"{report['dialect']} {report['event']} (tenant {report['tenant']}): {report['done']}"]
    for event in report["webhooks_unconfigured"]:
        lines.append(f"webhook {event}: no webhook configured for it (tenant {report['tenant']})")
    for delivery in report["webhooks"]:
        lines.append(f"webhook {delivery['event']} -> {delivery['url']}: {_delivery_state(delivery)}")
    missing = [e for e in report["webhooks_expected"] if e not in {d["event"] for d in report["webhooks"]}]
    for event in missing:
        lines.append(f"webhook {event}: no delivery seen yet (see GET /__admin/webhooks/deliveries)")
    return lines


def _delivery_state(d: Mapping[str, Any]) -> str:
    last = f"HTTP {d['last_status']}" if d.get("last_status") else (d.get("last_error") or "no answer")
    tries = f"{d['attempts']} attempt{'s' if d['attempts'] != 1 else ''}"
    if d["state"] == "pending" and not d["attempts"]:
        return "pending, not sent yet"
    if d["state"] == "pending":
        return f"failed so far ({last}, {tries}); next try at {d.get('next_attempt_at')}"
    return f"{d['state']} ({last}, {tries})"
