"""Schedules: balance, determinism, the SHA-256 stamp, and slot bookkeeping."""
from __future__ import annotations

import collections
import json

import pytest

import paradigms
from paradigms.engine.schedule import (ScheduleError, SlotLedger, load_schedule, make_schedule,
                                       write_schedule)


@pytest.mark.parametrize("pid", paradigms.names())
@pytest.mark.parametrize("n", [1, 7, 72, 100])
def test_every_block_holds_every_condition_once(pid, n):
    p = paradigms.get(pid)
    for exp in p.experiments:
        s = make_schedule(p, exp.number, n, seed=11)
        k = len(exp.conditions)
        assert [x.slot for x in s.slots] == list(range(1, n + 1))
        by_block = collections.defaultdict(list)
        for x in s.slots:
            by_block[x.block].append(x.condition)
        for block, conds in by_block.items():
            assert len(conds) == len(set(conds))  # no condition twice in a block
            if block < max(by_block):
                assert sorted(conds) == sorted(exp.condition_names)
        counts = collections.Counter(x.condition for x in s.slots)
        assert max(counts.values()) - min(counts.get(c, 0) for c in exp.condition_names) <= 1
        assert sum(counts.values()) == n and len(by_block) == -(-n // k)


def test_same_seed_same_bytes_other_seed_other_order(ditf, tmp_path):
    a = write_schedule(make_schedule(ditf, 1, 72, 2026), tmp_path / "a.csv")
    b = write_schedule(make_schedule(ditf, 1, 72, 2026), tmp_path / "b.csv")
    c = write_schedule(make_schedule(ditf, 1, 72, 2027), tmp_path / "c.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a.sha256 == b.sha256 != c.sha256
    assert [s.condition for s in a.slots] != [s.condition for s in c.slots]


def test_schedule_is_randomised_not_cyclic(ditf):
    s = make_schedule(ditf, 1, 300, 5)
    orders = {tuple(x.condition for x in s.slots[i:i + 3]) for i in range(0, 300, 3)}
    assert len(orders) == 6  # all 3! block orders occur


def test_hash_file_and_meta(ditf, tmp_path):
    import hashlib
    s = write_schedule(make_schedule(ditf, 2, 9, 1), tmp_path / "s.csv")
    digest = hashlib.sha256((tmp_path / "s.csv").read_bytes()).hexdigest()
    assert (tmp_path / "s.csv.sha256").read_text().split() == [digest, "s.csv"]
    meta = json.loads((tmp_path / "s.csv.meta.json").read_text())
    assert meta["sha256"] == digest and meta["experiment"] == 2 and meta["seed"] == 1
    loaded = load_schedule(tmp_path / "s.csv", ditf, 2)
    assert loaded.slots == s.slots and loaded.sha256 == digest


def test_tampered_schedule_refused(ditf, tmp_path):
    write_schedule(make_schedule(ditf, 1, 6, 1), tmp_path / "s.csv")
    text = (tmp_path / "s.csv").read_text()
    (tmp_path / "s.csv").write_text(text.replace("smaller_request_only", "rejection_moderation", 1))
    with pytest.raises(ScheduleError, match="does not match"):
        load_schedule(tmp_path / "s.csv", ditf, 1)


def test_wrong_experiment_refused(ditf, tmp_path):
    write_schedule(make_schedule(ditf, 1, 6, 1), tmp_path / "s.csv")
    with pytest.raises(ScheduleError, match="experiment 1, not 2"):
        load_schedule(tmp_path / "s.csv", ditf, 2)


def test_schedule_never_overwritten(ditf, tmp_path):
    write_schedule(make_schedule(ditf, 1, 6, 1), tmp_path / "s.csv")
    before = (tmp_path / "s.csv").read_bytes()
    with pytest.raises(FileExistsError):
        write_schedule(make_schedule(ditf, 1, 6, 2), tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_bytes() == before


def test_ledger_takes_slots_in_order_across_instances(ditf, tmp_path):
    s = write_schedule(make_schedule(ditf, 1, 5, 3), tmp_path / "s.csv")
    taken = [SlotLedger(s).claim_next().slot for _ in range(3)]  # a new ledger each time, as after restarts
    assert taken == [1, 2, 3]
    assert SlotLedger(s).remaining() == 2
    assert [SlotLedger(s).claim_next().slot for _ in range(2)] == [4, 5]
    with pytest.raises(ScheduleError, match="all 5 slots are used"):
        SlotLedger(s).claim_next()


def test_torn_ledger_line_counts_as_used(ditf, tmp_path):
    """A crash in the middle of writing a ledger line must not give that slot out again."""
    s = write_schedule(make_schedule(ditf, 1, 6, 3), tmp_path / "s.csv")
    led = SlotLedger(s)
    led.claim_next()
    with open(led.path, "a") as fh:
        fh.write('{"slot": 2, "condi')  # torn write
    assert SlotLedger(s).claim_next().slot == 3
