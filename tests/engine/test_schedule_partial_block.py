"""Issue 23.7: `schedule` says when its last block is partial, and which conditions are short."""
from __future__ import annotations


def test_schedule_says_the_last_block_is_partial_and_which_conditions_are_short(cli, tmp_path):
    out = cli("schedule", "cialdini1975", "--participants", "70", "--seed", "1", "--out", "s.csv", check=0).stdout
    assert "the last block (block 24) is partial" in out, out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.startswith("  ")}
    assert sorted(counts.values()) == [23, 23, 24]
    (full,) = [c for c, n in counts.items() if n == 24]
    short = [c for c, n in counts.items() if n == 23]
    note = next(line for line in out.splitlines() if line.startswith("note:"))
    assert all(c in note.split("fewer than")[0] for c in short) and full in note.split("fewer than")[1]
    assert "multiple of 3 participants (69 or 72)" in note


def test_schedule_of_whole_blocks_says_nothing_more(cli, tmp_path):
    out = cli("schedule", "cialdini1975", "--participants", "72", "--seed", "1", "--out", "s.csv", check=0).stdout
    assert "partial" not in out and "note:" not in out
