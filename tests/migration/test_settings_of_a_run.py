"""What a run is told or refused before it starts: the target's documented rate limit as the default, a
bad --rate, a checkpoint that belongs to another migration, TOML and CSV mistakes named by file and field."""
from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.app import DIALECT_LIST
from gateway.migrate_cli import rate_limiter
from gateway.ledger import RemoteMember
from gateway.migration import (
    Checkpoint,
    CheckpointError,
    MigrationError,
    Pair,
    Plan,
    discover,
    load_endpoint,
    read_members,
)
from tests.migration.fakes import FakePort


def _args(rate: str | None) -> argparse.Namespace:
    return argparse.Namespace(rate=rate)


def test_the_default_rate_is_the_target_dialects_documented_limit() -> None:
    documented = {d.name: d.cases.client.rate for d in DIALECT_LIST if d.cases and d.cases.client}
    for name, rate in documented.items():
        limiter = rate_limiter(_args(None), name, DIALECT_LIST)
        if rate:
            assert limiter is not None and limiter.count == 100 and limiter.seconds == 60, name
        else:
            assert limiter is None, name
    assert any(documented.values())  # at least one vendor documents a limit (100 a minute)
    given = rate_limiter(_args("5/second"), "any", DIALECT_LIST)
    assert given is not None and (given.count, given.seconds) == (5, 1)
    with pytest.raises(MigrationError, match="--rate: rate 'fast'"):
        rate_limiter(_args("fast"), "any", DIALECT_LIST)


def test_a_checkpoint_of_another_migration_is_refused(tmp_path: Path) -> None:
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    run = checkpoint.begin(mode="add", source="a", target="b")
    checkpoint.close()
    again = Checkpoint.load(tmp_path / "cp.jsonl")
    assert again.begin(mode="add", source="a", target="b") == run
    with pytest.raises(CheckpointError, match="with mode 'add', not 'mirror'"):
        again.begin(mode="mirror", source="a", target="b")
    with pytest.raises(CheckpointError, match="with target 'b', not 'c'"):
        again.check(mode="add", source="a", target="c")


def test_toml_and_csv_mistakes_name_the_file_and_field(tmp_path: Path) -> None:
    cases = {
        "dialect = 1\n": "x.toml.dialect: required",
        'dialect = "nope"\nbase_url = "http://h"\n': "'nope' is no upstream dialect",
        'dialect = "pomelo"\nbase_url = "ftp://h"\n[credentials]\n': "base_url: must be an absolute http",
        'dialect = "pomelo"\nbase_url = "http://h"\n[credentials]\nclient_id = "i"\nclient_secret = "s3cr3t"\n':
            "credentials.audience: required",
    }
    for text, said in cases.items():
        (tmp_path / "x.toml").write_text(text)
        with pytest.raises(MigrationError, match=said.replace("(", r"\(")) as caught:
            load_endpoint(tmp_path / "x.toml")
        assert "s3cr3t" not in str(caught.value)
    with pytest.raises(MigrationError, match="no such file"):
        load_endpoint(tmp_path / "missing.toml")
    for text, said in {"": "line 1 must be the header", "source_id,target_id\n": "no members listed",
                       "source_id,target_id\n1,\n": "line 2 must be source_id,target_id",
                       "source_id,target_id\n1,a\n1,b\n": "line 3: source_id 1 is listed twice",
                       "source_id,target_id\n1,a\n2,b\n3,a\n": "line 4: target_id a is listed twice"}.items():
        (tmp_path / "m.csv").write_text(text)
        with pytest.raises(MigrationError, match=said):
            read_members(tmp_path / "m.csv")


def test_a_shadow_in_a_migration_endpoint_is_refused_naming_the_file_and_key(tmp_path: Path) -> None:
    """An upstream declaration may name a shadow; a migration side has none, so the key is an error, not
    something quietly dropped."""
    (tmp_path / "to.toml").write_text(
        'dialect = "memberpoints"\nbase_url = "http://h"\n[credentials]\napi_id = "i"\napi_key = "s3cr3t"\n'
        '[shadow]\ndialect = "memberpoints"\nbase_url = "http://s"\n[shadow.credentials]\napi_id = "j"\n'
        'api_key = "k3y"\n')
    with pytest.raises(MigrationError, match=r"to\.toml\.shadow: a migration endpoint has no shadow") as caught:
        load_endpoint(tmp_path / "to.toml")
    assert "s3cr3t" not in str(caught.value) and "k3y" not in str(caught.value)


async def test_a_member_discovered_twice_is_refused_naming_it() -> None:
    class Twice(FakePort):
        async def members(self):  # type: ignore[no-untyped-def]
            for ref in ("1", "2", "1"):  # a listing whose pages shifted under it
                yield RemoteMember(ref=ref)
    with pytest.raises(MigrationError, match="lists member 1 twice"):
        await discover(Twice({}))


def test_a_checkpoint_of_another_tenant_at_the_same_url_or_other_pairs_is_refused(tmp_path: Path) -> None:
    checkpoint = Checkpoint.load(tmp_path / "cp.jsonl")
    checkpoint.begin(mode="add", source="a", target="b", identity="api_id=A1 -> client_id=C1")
    checkpoint.planned(Plan("1", "u1", Decimal(1), Decimal(0), Decimal(1), "k"))
    checkpoint.close()
    again = Checkpoint.load(tmp_path / "cp.jsonl")
    assert again.check(mode="add", source="a", target="b", identity="api_id=A1 -> client_id=C1")
    with pytest.raises(CheckpointError, match="client_id=C2"):
        again.check(mode="add", source="a", target="b", identity="api_id=A1 -> client_id=C2")
    again.check_members([Pair("1", "u1"), Pair("2", "u2")])
    with pytest.raises(CheckpointError, match="source_id 1 .* u1, not u9"):
        again.check_members([Pair("1", "u9")])
