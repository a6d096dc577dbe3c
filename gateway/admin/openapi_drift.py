"""The admin document's part for shadow runs: the drift report's operation and schemas, and the shadow an
upstream declaration and an upstream's overview row show. Kept apart so openapi.py stays one readable
document. Names no vendor (the dialect enum is handed in)."""
from __future__ import annotations

from typing import Any

from .openapi_kit import AMOUNT, ASSET, BOOL, INT, MAYBE_INT, MAYBE_STR, MAYBE_TIME, STR, TIME, _list, _obj, _op, _q, _ref

VERDICT = {"enum": ["in_sync", "in_flight", "drift", "unreadable"],
           "description": "in_sync: equal balances, nothing pending; in_flight: differences that movements still "
                          "pending (at the shadow) or open (at the primary) can account for, i.e. noise; drift: a "
                          "movement refused, failed or unclear at the shadow, the member unknown there, or a "
                          "difference nothing in flight accounts for; unreadable: a balance could not be read"}


def drift_schemas(DIALECT: dict[str, Any]) -> dict[str, Any]:  # noqa: N803  (the enum of dialect names)
    endpoint = _obj("dialect base_url", dialect=DIALECT, base_url=STR)
    return {
        "ShadowDeclared": {**_obj("dialect base_url credentials", dialect=DIALECT, base_url=STR,
                                  credentials={"type": "object", "additionalProperties": STR,
                                               "description": 'a secret credential\'s value is "[FILTERED]"'}),
                           "description": "the candidate upstream every applied movement is also sent to"},
        "ShadowState": {**_obj(
            "dialect base_url pending delivered refused failed lag_seconds", dialect=DIALECT, base_url=STR,
            pending={**INT, "description": "shadow writes not sent yet (or being retried)"}, delivered=INT,
            refused={**INT, "description": "writes the shadow refused for good (or whose outcome it cannot tell)"},
            failed={**INT, "description": "writes given up on after every retry"},
            lag_seconds={"type": "number", "description": "age of the oldest pending write (0: none pending)"}),
            "description": "how the tenant's shadow writes stand"},
        "DriftReport": _obj(
            "tenant taken_at verdict primary shadow lag totals page members", tenant=STR, taken_at=TIME,
            verdict={**VERDICT, "description": "the worst found: drift, else unreadable, else in_flight, else in_sync; "
                                               "a differing movement or a pending write beyond this page counts too"},
            primary=endpoint, shadow=endpoint,
            lag=_obj("pending oldest_pending_at seconds", pending=INT, oldest_pending_at=MAYBE_TIME,
                     seconds={"type": "number", "description": "age of the oldest pending write (0: none pending)"}),
            totals=_obj(
                "members members_differing movements differing open_at_primary page",
                members={**INT, "description": "members with any shadow write"},
                members_differing={**INT, "description": "members with a movement refused, failed or unclear at the shadow"},
                movements=_obj("total applied pending refused failed unclear",
                               **{k: INT for k in ("total", "applied", "pending", "refused", "failed", "unclear")}),
                differing=INT, open_at_primary={**INT, "description": "intents whose outcome at the primary is not known"},
                page=_obj("in_sync in_flight drift unreadable",
                          **{k: INT for k in ("in_sync", "in_flight", "drift", "unreadable")})),
            page=_obj("offset limit members next_offset", offset=INT, limit=INT,
                      members={**INT, "description": "members the pages are taken from"}, next_offset=MAYBE_INT),
            members=_list(_ref("DriftMember"))),
        "DriftMember": _obj(
            "member primary_id shadow_id verdict reasons missing_at_shadow unreadable balances differing in_flight",
            member=INT, primary_id=STR, shadow_id=STR, verdict=VERDICT, reasons=_list(STR), missing_at_shadow=BOOL,
            unreadable={"type": "object", "additionalProperties": STR, "description": "side (primary, shadow) -> why"},
            balances=_list(_obj(
                "asset primary shadow difference explained in_flight unexplained", asset=ASSET, primary=AMOUNT,
                shadow={**AMOUNT, "description": "null: not read (the member unknown at the shadow, or no answer)"},
                difference={**AMOUNT, "description": "primary minus shadow (null when the shadow's is not read)"},
                explained={**AMOUNT, "description": "what the refused movements account for"},
                in_flight=_obj("low high", low=AMOUNT, high=AMOUNT), unexplained=AMOUNT)),
            differing=_list(_obj(
                "key intent direction asset points cause reference primary_ref at attempts shadow", key=STR,
                intent=MAYBE_INT, direction={"enum": ["credit", "debit"]}, asset=ASSET, points=AMOUNT, cause=STR,
                reference=MAYBE_STR, primary_ref=MAYBE_STR, at=TIME, attempts=INT,
                shadow=_obj("outcome code message", outcome={"enum": ["refused", "failed", "unclear"]},
                            code=MAYBE_STR, message=MAYBE_STR))),
            in_flight=_list(_obj(
                "key where state direction asset points since attempts settled_while_read", key=STR,
                where={"enum": ["shadow", "primary"]}, state=STR, direction={"enum": ["credit", "debit"]}, asset=ASSET,
                points=AMOUNT, since=TIME, attempts=INT, settled_while_read=BOOL))),
    }


DRIFT_PATH = {"/upstream/drift": {"get": _op(
    "The tenant's drift report: per member, balances at the primary and at the shadow, the movements whose outcome "
    "differed (and why), what is still in flight, the shadow's lag, totals and a verdict. 409: the tenant has no "
    "upstream or no shadow", "DriftReport", errors=(400, 404, 409), params=[
        {**_q("tenant", "tenant name", {"type": "string", "minLength": 1}), "required": True},
        _q("offset", "members to skip (of those with any shadow write, in id order)",
           {"type": "integer", "minimum": 0, "maximum": 10**9}),
        _q("limit", "members to compare (default 100)", {"type": "integer", "minimum": 1, "maximum": 1000}),
        {**_q("member", "only this member id (repeatable, at most 100 times)",
              {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "maxItems": 100}),
         "style": "form", "explode": True}])}}
