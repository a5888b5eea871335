"""The start dialog of ``compliance run`` (issue 13, finding 7).

Its checking is a pure function (:func:`paradigms.screens.dialog.validate_start`), tested here
without a screen; the experiment comes from the schedule when one is given.  The dialog itself,
driven with real X input, is tested in test_run_real.py."""
from __future__ import annotations

import json

import pytest

import paradigms
from paradigms.screens.dialog import Start, schedule_experiment, validate_start


@pytest.fixture
def p():
    return paradigms.get("cialdini1975")


@pytest.fixture
def sched2(cli, tmp_path):
    """A schedule for experiment 2 of Cialdini et al. (1975)."""
    cli("schedule", "cialdini1975", "--experiment", "2", "--participants", "6", "--seed", "4", "--out", "s2.csv",
        check=0)
    return tmp_path / "s2.csv"


def test_valid_input_gives_the_start_with_the_schedules_experiment(p, sched2):
    start, errors = validate_start(p, str(sched2), " S1 ", "E1", experiment=1)
    assert errors == {}
    assert start == Start(str(sched2), 2, "S1", "E1")  # experiment 2, as the schedule says, not 1
    assert schedule_experiment(sched2) == 2


def test_every_bad_field_has_its_own_message(p, tmp_path):
    start, errors = validate_start(p, str(tmp_path / "nope.csv"), "S 1", "", experiment=None)
    assert start is None
    assert set(errors) == {"schedule", "site", "experimenter"}
    assert "nope.csv: no such file" in errors["schedule"]
    assert "letters and digits" in errors["site"] and "required" in errors["experimenter"]
    assert all("\n" not in m for m in errors.values())


def test_an_empty_schedule_and_an_unknown_experiment_are_refused(p):
    start, errors = validate_start(p, "", "S1", "E1", experiment=9)
    assert start is None
    assert "required" in errors["schedule"] and "not 9" in errors["experiment"]


def test_a_changed_schedule_is_refused_in_the_dialog(p, sched2):
    sched2.write_text(sched2.read_text().replace("\n2,", "\n9,", 1))
    _, errors = validate_start(p, str(sched2), "S1", "E1")
    assert "SHA-256" in errors["schedule"], errors


def test_a_used_up_schedule_is_refused_unless_pilot(p, sched2):
    from paradigms.engine.schedule import SlotLedger, load_schedule
    ledger = SlotLedger(load_schedule(sched2, p, 2))
    while ledger.remaining():
        ledger.claim_next()
    _, errors = validate_start(p, str(sched2), "S1", "E1")
    assert "all 6 slots are used" in errors["schedule"]
    start, errors = validate_start(p, str(sched2), "S1", "E1", pilot=True)
    assert errors == {} and start.experiment == 2


def test_schedule_experiment_of_an_unreadable_meta_is_none(tmp_path):
    (tmp_path / "s.csv").write_text("slot,block,condition\n")
    (tmp_path / "s.csv.meta.json").write_text("{not json")
    assert schedule_experiment(tmp_path / "s.csv") is None
    (tmp_path / "s.csv.meta.json").write_text(json.dumps({"experiment": 3}))
    assert schedule_experiment(tmp_path / "s.csv") == 3


def test_run_takes_the_experiment_from_the_schedule(sched2, capsys):
    """``run --experiment 1`` with a schedule for experiment 2 runs experiment 2 (and says so) instead of
    refusing the mismatch."""
    from paradigms.cli import _schedule_experiment, build_parser
    p = paradigms.get("cialdini1975")
    args = build_parser().parse_args(["run", "cialdini1975", "--experiment", "1", "--schedule", str(sched2)])
    assert _schedule_experiment(args, p) == 2
    assert "schedule for experiment 2; running experiment 2, not 1" in capsys.readouterr().err
    args = build_parser().parse_args(["run", "cialdini1975", "--schedule", str(sched2)])
    assert _schedule_experiment(args, p) == 2
    args = build_parser().parse_args(["run", "cialdini1975", "--experiment", "3"])
    assert _schedule_experiment(args, p) == 3
