"""The migration's rules with fake ports: each movement exactly once (settled before any resend after an
unclear attempt or a kill), mirror's amount computed once and kept in the checkpoint, a finished run applies
nothing when run again, refusals and rate limits."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from gateway.ledger import Applied, Asset, Direction, Forward, UpstreamFailed, UpstreamRateLimited
from gateway.migration import Checkpoint, Endpoint, Migrator, Pair, Plan, key_for, load_endpoint, run_id_for, verify
from tests.migration.fakes import FakePort

D = Decimal
PAIRS = [Pair("1", "u1"), Pair("2", "u2"), Pair("3", "u3")]


def ports() -> tuple[FakePort, FakePort]:
    return (FakePort({"1": D("100"), "2": D("0"), "3": D("12.50")}),
            FakePort({"u1": D("5"), "u2": D("7"), "u3": D("20")}))


async def no_sleep(seconds: float) -> None:
    SLEPT.append(seconds)


SLEPT: list[float] = []


def migrator(source: FakePort, target: FakePort, mode: str = "add") -> Migrator:
    return Migrator(source, target, mode=mode, concurrency=2, sleep=no_sleep)


async def run(tmp_path: Path, source: FakePort, target: FakePort, mode: str = "add") -> tuple[Checkpoint, object]:
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    run_id = checkpoint.begin(mode=mode, source="s", target="t")
    outcome = await migrator(source, target, mode).run(PAIRS, checkpoint, run_id)
    checkpoint.close()
    return Checkpoint.load(tmp_path / "cp.jsonl"), outcome


async def test_add_credits_the_source_balance_once_and_a_rerun_applies_nothing(tmp_path: Path) -> None:
    source, target = ports()
    checkpoint, outcome = await run(tmp_path, source, target)
    assert target.points == {"u1": D("105"), "u2": D("7"), "u3": D("32.50")}
    assert (outcome.moved, outcome.unchanged) == (2, 1)
    assert set(checkpoint.done) == {"1", "2", "3"}
    keys = {f.key for f in target.applies}
    assert all(k.startswith(f"mig-{checkpoint.run['run']}-") for k in keys) and len(keys) == 2

    again, outcome = await run(tmp_path, source, target)
    assert len(target.applies) == 2 and outcome.before == 3 and outcome.moved == 0
    assert target.points["u1"] == D("105")
    rows = await verify(migrator(source, target), PAIRS, again)
    assert [r.status for r in rows] == ["ok", "ok", "ok"]


async def test_an_unclear_write_is_settled_under_its_key_not_sent_twice(tmp_path: Path) -> None:
    source, target = ports()
    target.faults = ["drop-after", "fail-before"]  # the first write applied but its answer lost; then a 503
    checkpoint, outcome = await run(tmp_path, source, target)
    assert outcome.moved == 2 and not outcome.unfinished
    assert target.points == {"u1": D("105"), "u2": D("7"), "u3": D("32.50")}  # no member credited twice
    assert len(target.applies) == 2 and target.settled  # settled, not resent blindly


async def test_a_kill_after_the_plan_resumes_by_settling_the_same_key(tmp_path: Path) -> None:
    source, target = ports()
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    run_id = checkpoint.begin(mode="add", source="s", target="t")
    applied = Plan("1", "u1", D("100"), D("5"), D("100"), key_for(run_id, "1", "u1"))
    lost = Plan("3", "u3", D("12.50"), D("20"), D("12.50"), key_for(run_id, "3", "u3"))
    checkpoint.planned(applied)
    checkpoint.planned(lost)
    checkpoint.close()
    # the killed run's write reached the target; its "done" line was never written
    await target.apply(Forward(key=applied.key, member="u1", direction=Direction.CREDIT, asset=Asset.POINTS,
                               points=D("100")))
    target.applies.clear()
    checkpoint, outcome = await run(tmp_path, source, target)
    assert target.points == {"u1": D("105"), "u2": D("7"), "u3": D("32.50")}
    assert applied.key not in [f.key for f in target.applies]  # settled: found, never resent
    assert [f.key for f in target.applies].count(lost.key) == 1  # settled: not found, sent under the same key
    assert set(checkpoint.done) == {"1", "2", "3"}


async def test_mirror_uses_the_recorded_amount_never_a_fresh_read_of_a_half_moved_target(tmp_path: Path) -> None:
    source, target = ports()
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    run_id = checkpoint.begin(mode="mirror", source="s", target="t")
    checkpoint.planned(Plan("3", "u3", D("12.50"), D("20"), D("-7.50"), key_for(run_id, "3", "u3")))
    checkpoint.close()
    target.points["u3"] = D("15")  # half-moved as far as a fresh read could tell
    checkpoint, outcome = await run(tmp_path, source, target, mode="mirror")
    assert "u3" not in target.reads and [f.points for f in target.applies if f.member == "u3"] == [D("7.50")]
    assert target.points["u1"] == D("100") and target.points["u2"] == D("0")
    lines = [json.loads(x) for x in (tmp_path / "cp.jsonl").read_text().splitlines()]
    assert [x["points"] for x in lines if x["event"] == "plan" and x["source_id"] == "3"] == ["-7.50"]  # once


async def test_refusals_are_recorded_and_rate_limits_honour_retry_after(tmp_path: Path) -> None:
    source, target = ports()
    del target.points["u2"]
    source.points["2"] = D("1")
    target.faults = ["rate-limited"]
    SLEPT.clear()
    checkpoint, outcome = await run(tmp_path, source, target)
    assert set(outcome.failed) == {"2"} and "no member u2" in checkpoint.failed["2"]
    assert 3.0 in SLEPT
    rows = await verify(migrator(source, target), PAIRS, checkpoint)
    assert [r.status for r in rows] == ["ok", "unreadable", "ok"]


async def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    path.write_text('{"event":"run","run":"abc","mode":"add","source":"s","target":"t"}\n{"event":"plan","sour')
    checkpoint = Checkpoint.load(path)
    assert checkpoint.run is not None and checkpoint.plans == {}


async def test_dry_run_reads_and_writes_nothing(tmp_path: Path) -> None:
    source, target = ports()
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    lines = await migrator(source, target, "mirror").plan_only(PAIRS, checkpoint)
    assert lines[0] == "1 -> u1: source 100, target 5: credit 95" and "debit 7" in lines[1]
    assert not (tmp_path / "cp.jsonl").exists() and not target.applies


class SlowVendor(FakePort):
    """A target without idempotency keys (settles by its history, with a grace) whose writes are committed
    `lag` seconds after they were sent: the killed run's last POST lands after a fresh process started."""

    def __init__(self, balances: dict[str, Decimal], clock: list[float], *, grace: float) -> None:
        super().__init__(balances)
        self.settle_grace = grace
        self.clock = clock
        self.landing: list[tuple[float, Forward]] = []

    def _land(self) -> None:
        for when, forward in [x for x in self.landing if x[0] <= self.clock[0]]:
            self.landing.remove((when, forward))
            self.points[forward.member] += forward.points
            self.history[forward.key] = forward

    async def settle(self, forward: Forward) -> object:
        self._land()
        return await super().settle(forward)

    async def apply(self, forward: Forward) -> object:
        self._land()
        return await super().apply(forward)


async def test_a_plan_left_by_a_killed_process_is_settled_only_after_its_write_could_have_landed(tmp_path: Path) -> None:
    clock = [1_000_000.0]

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    source = FakePort({"1": D("100")})
    target = SlowVendor({"u1": D("5")}, clock, grace=10)
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    run_id = checkpoint.begin(mode="add", source="s", target="t")
    plan = Plan("1", "u1", D("100"), D("5"), D("100"), key_for(run_id, "1", "u1"), at=clock[0])
    checkpoint.planned(plan)
    checkpoint.close()
    # the killed process sent it; the vendor commits it 8 s later, within the request timeout
    target.landing.append((clock[0] + 8, Forward(key=plan.key, member="u1", direction=Direction.CREDIT,
                                                 asset=Asset.POINTS, points=D("100"))))
    clock[0] += 1  # the resume starts a second after the kill
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    outcome = await Migrator(source, target, mode="add", sleep=sleep, clock=lambda: clock[0]).run(
        [Pair("1", "u1")], checkpoint, run_id)
    checkpoint.close()
    assert target.points["u1"] == D("105") and not target.applies  # found once it landed, never resent
    assert outcome.moved == 1 and clock[0] >= plan.at + 10  # waited out the send's timeout


class KeyedPort(FakePort):
    """A target with idempotency keys (as pomelo): a key it has seen replays the first answer, applies nothing."""

    answers: dict[str, Applied] = {}

    async def apply(self, forward: Forward) -> Applied:
        if forward.key not in self.answers:
            self.answers[forward.key] = await super().apply(forward)
        return self.answers[forward.key]  # the first answer again, its balance as it was then


def _declarations(root: Path, client_id: str = "C1", secret: str = "s-1") -> tuple[Endpoint, Endpoint]:
    (root / "s.toml").write_text('dialect = "memberpoints"\nbase_url = "http://src.example/"\n[credentials]\n'
                                 'api_id = "A1"\napi_key = "k-1"\n')
    (root / "t.toml").write_text(f'dialect = "pomelo"\nbase_url = "http://dst.example"\n[credentials]\n'
                                 f'client_id = "{client_id}"\nclient_secret = "{secret}"\naudience = "https://a"\n')
    return load_endpoint(root / "s.toml"), load_endpoint(root / "t.toml")


async def test_a_lost_checkpoint_gives_the_same_keys_so_a_keyed_target_replays(tmp_path: Path) -> None:
    ends = _declarations(tmp_path)
    run_id = run_id_for("add", *ends)
    assert run_id == run_id_for("add", *_declarations(tmp_path, secret="rotated"))  # a secret is no identity
    assert run_id != run_id_for("mirror", *ends) and run_id != run_id_for("add", *_declarations(tmp_path, "C2"))
    assert "k-1" not in run_id and "s-1" not in ends[1].identity() and "C1" in ends[1].identity()
    source, target = FakePort({"1": D("100")}), KeyedPort({"u1": D("5")})
    target.answers = {}
    outcomes = []
    for name in ("first.jsonl", "relocated.jsonl"):  # the first checkpoint lost; the same command again
        checkpoint = Checkpoint.load(tmp_path / name)
        begun = checkpoint.begin(mode="add", source="s", target="t", run=run_id_for("add", *ends))
        outcomes.append(await Migrator(source, target, mode="add").run([Pair("1", "u1")], checkpoint, begun))
        checkpoint.close()
    assert target.points["u1"] == D("105") and len(target.applies) == 1
    # the replay is told apart from a movement (its balance is the opening read now): counted and verified as done
    assert (outcomes[1].moved, outcomes[1].before) == (0, 1)
    rows = await verify(Migrator(source, target, mode="add"), [Pair("1", "u1")], Checkpoint.load(tmp_path / name))
    assert [(r.status, r.expected) for r in rows] == [("ok", "105")]


async def test_a_dry_run_through_an_upstream_that_stays_down_says_so_per_member(tmp_path: Path) -> None:
    source, target = ports()
    target.faults = []

    async def down(member: str, asset: Asset) -> Decimal:
        raise UpstreamFailed("503 for good", sent=False)
    target.balance = down  # type: ignore[method-assign]
    lines = await migrator(source, target).plan_only(PAIRS[:1], Checkpoint.load(tmp_path / "cp.jsonl"))
    assert lines == ["1 -> u1: cannot be planned now: the target balance of u1: 503 for good"]


async def test_a_retry_after_beyond_the_cap_leaves_the_member_unfinished_instead_of_waiting(tmp_path: Path) -> None:
    source, target = ports()

    async def maintenance(forward: Forward) -> Applied:
        raise UpstreamRateLimited("down for maintenance", retry_after=3600, sent=False)
    target.apply = maintenance  # type: ignore[method-assign]
    SLEPT.clear()
    checkpoint, outcome = await run(tmp_path, source, target)
    assert set(outcome.unfinished) == {"1", "3"} and "3600" in outcome.unfinished["1"]
    assert all(s <= 300 for s in SLEPT), SLEPT
