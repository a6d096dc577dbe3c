"""The checkpoint file itself: a last line cut short by a kill is cut off before anything is appended."""
from __future__ import annotations

from pathlib import Path

from gateway.migration import Checkpoint


def test_a_torn_last_line_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    checkpoint = Checkpoint.load(path)
    checkpoint.begin(mode="add", source="s", target="t")
    checkpoint.refused("1", "no member")
    checkpoint.close()
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"event":"failed","source_id":"2","err')  # killed mid-write
    torn = Checkpoint.load(path)
    assert set(torn.failed) == {"1"}
    torn.refused("3", "no member")
    torn.close()
    again = Checkpoint.load(path)
    assert set(again.failed) == {"1", "3"}
    assert path.read_text(encoding="utf-8").endswith("\n")
