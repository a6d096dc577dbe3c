"""Record mode: with "record": true, every exchange with the upstream is also written as a contract case in
the shape of fixtures/<dialect>/cases.json for the upstream's dialect, to
<upstream_record_dir>/<tenant>/<dialect>/cases.json, secrets masked, numbers as the vendor wrote them; a
restart appends. Three gateway tenants, one per upstream dialect, all at one vendor sandbox process."""
from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.dialects.upstream_transport import Exchange
from gateway.upstream.record import Recorder
from tests import process
from tests.upstream.servers import VENDOR_SECRETS, call, imonggo_auth, shop, start_gateway, start_vendor

pytestmark = pytest.mark.slow
SPEND = "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=R-{n}"
# What each dialect's contract replay accepts (contract_tests/<dialect>/...: the keys a case may have).
POMELO_KEYS = {"id", "method", "path", "status", "token", "idempotency_key", "content_type", "json", "form", "raw",
               "error_code", "schema", "expect", "sdk", "balance_after"}
MEMBERPOINTS_KEYS = {"id", "doc", "request", "seed", "status", "schema", "volatile", "deviations", "added",
                     "ambiguities", "sample", "expected", "documented_reply", "balances_after"}
IMONGGO_STEP_KEYS = {"method", "path", "status", "body", "moved_on", "expect_file", "expect_text", "expect_json", "schema"}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[process.Server, Path, Path]]:
    base = tmp_path_factory.mktemp("record")
    vendor = start_vendor(base / "vendor")
    try:
        yield vendor, base / "gateway", base / "gateway" / "recorded"
    finally:
        vendor.stop()


async def exercise(folder: Path, tenants: list[dict[str, Any]] | None, n: int) -> str:
    """A balance read and a spend through each tenant of a gateway over `folder`; returns its log."""
    gateway = start_gateway(folder, tenants)
    try:
        for name in ("p", "m", "i"):
            auth = imonggo_auth(f"{name}-imonggo")
            status, _, text = await call("GET", f"{gateway.url}/api/customers/1534.xml", headers=auth)
            assert status == 200, text
            status, _, text = await call("POST", gateway.url + SPEND.format(n=n), headers=auth)
            assert status == 200, (name, text)
    finally:
        gateway.stop()
    return gateway.output


def cases(root: Path, tenant: str, dialect: str) -> list[dict[str, Any]]:
    document = json.loads((root / tenant / dialect / "cases.json").read_text(encoding="utf-8"), parse_float=Decimal)
    assert set(document) == {"description", "cases"}
    return document["cases"]  # type: ignore[no-any-return]


async def test_each_dialects_exchanges_are_written_in_its_own_case_shape_and_a_restart_appends(
    recorded: tuple[process.Server, Path, Path],
) -> None:
    vendor, folder, root = recorded
    await exercise(folder, [shop(d, vendor.url, record=True, name=d[0]) for d in ("pomelo", "memberpoints", "imonggo")], 1)

    pomelo = cases(root, "p", "pomelo")
    assert all(set(c) <= POMELO_KEYS and "expect" in c for c in pomelo)
    token = next(c for c in pomelo if c["path"] == "/oauth/token")
    assert (token["token"], token["status"], token["json"]["client_secret"]) == ("none", 200, "[FILTERED]")
    assert token["expect"]["access_token"] == "[FILTERED]"
    [burn] = [c for c in pomelo if c["path"] == "/loyalty/v1/accounts/points/burn"]
    assert burn["token"] == "full" and burn["idempotency_key"].startswith("lg-") and burn["json"]["amount"] == "2000"
    assert burn["expect"]["updated_balance"] == 28511 and isinstance(burn["expect"]["updated_balance"], int)

    memberpoints = cases(root, "m", "memberpoints")
    assert all(set(c) <= MEMBERPOINTS_KEYS and "expected" in c and c["doc"].startswith("recorded from") for c in memberpoints)
    [adjustment] = [c for c in memberpoints if c["request"]["method"] == "POST"]
    sent = json.loads((root / "m" / "memberpoints" / adjustment["request"]["body"]).read_text(encoding="utf-8"))
    assert adjustment["request"]["content_type"].startswith("application/json")
    assert str(sent["adjustpoints"]).startswith("-2000") and "[lg:" in sent["adjustmentnote"]
    assert adjustment["expected"]["success"] is True
    balance = next(c for c in memberpoints if c["request"]["path"].startswith("/webapps/api/memberpointsbalances"))
    assert balance["expected"]["data"][0]["mbr_points_balance"] == "28511.00"  # as the vendor wrote it: a string
    # (28511: the pomelo tenant's spend went to the same vendor member first)

    imonggo = cases(root, "i", "imonggo")
    assert all(set(c) == {"id", "steps"} and len(c["steps"]) == 1 for c in imonggo)
    steps = [c["steps"][0] for c in imonggo]
    assert all(set(s) <= IMONGGO_STEP_KEYS and {"method", "path", "status"} <= set(s) for s in steps)
    [spend] = [s for s in steps if s["method"] == "POST"]
    assert spend["path"] == "/api/rewards.xml?q=spend&customer_id=1534&amount=10&reference=R-1" and spend["status"] == 200
    assert '<points-spent type="decimal">2000.0</points-spent>' in spend["expect_text"]

    everything = "".join(p.read_text(encoding="utf-8") for p in root.rglob("*") if p.is_file())
    assert not [s for s in VENDOR_SECRETS if s in everything]

    # A second run over the same folder appends, numbering on.
    counts = {d: len(cases(root, d[0], d)) for d in ("pomelo", "memberpoints", "imonggo")}
    await exercise(folder, None, 2)
    for dialect, before in counts.items():
        after = cases(root, dialect[0], dialect)
        assert len(after) > before and after[before]["id"].startswith(f"{before + 1:04d}-")
        assert len({c["id"] for c in after}) == len(after)


def test_an_unanswered_exchange_is_no_case_and_a_broken_file_stops_recording_without_failing(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    lost = Exchange("POST", "http://vendor/api/x", None, 2000.0, {}, "{}", {}, "", error="no answer within 2 s")
    recorder.record("t", "pomelo", "flat", lost, [])
    assert not (tmp_path / "t").exists()
    broken = tmp_path / "u" / "pomelo" / "cases.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("[1, 2", encoding="utf-8")
    answered = Exchange("GET", "http://vendor/x?api_token=s3cret", 200, 1.0, {}, "", {}, '{"a": 1.50}')
    recorder.record("u", "pomelo", "flat", answered, [])
    recorder.record("u", "pomelo", "flat", answered, [])
    assert broken.read_text(encoding="utf-8") == "[1, 2"  # left as it was, for a person to look at
    recorder.record("v", "pomelo", "flat", answered, ["s3cret"])
    [case] = cases(tmp_path, "v", "pomelo")
    assert case["path"] == "/x?api_token=[FILTERED]" and case["expect"] == {"a": Decimal("1.50")}
    assert '"a": 1.50' in (tmp_path / "v" / "pomelo" / "cases.json").read_text(encoding="utf-8")
