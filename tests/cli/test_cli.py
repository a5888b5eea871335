"""The ``compliance`` command as a user types it: outputs, and one-line errors with exit 2."""
from __future__ import annotations

import json

import pandas as pd
import pytest


def test_list_shows_every_paradigm_and_experiment(cli):
    import paradigms
    out = cli("list", check=0).stdout
    for pid in paradigms.names():
        assert pid in out
    assert "experiment 3" in out and "rejection_moderation*" in out


def test_schedule_then_its_hash(cli, tmp_path):
    out = cli("schedule", "cialdini1975", "--experiment", "1", "--participants", "72", "--seed", "2026",
              "--out", "schedules/ditf-e1.csv", check=0).stdout
    import hashlib
    digest = hashlib.sha256((tmp_path / "schedules/ditf-e1.csv").read_bytes()).hexdigest()
    assert digest in out
    df = pd.read_csv(tmp_path / "schedules/ditf-e1.csv")
    assert df["condition"].value_counts().to_dict() == {c: 24 for c in set(df["condition"])}


def test_simulate_prints_wilson_table(cli, tmp_path):
    out = cli("simulate", "cialdini1975", "--experiment", "1", "--participants", "72", "--seed", "1",
              "--data-dir", "sim", check=0).stdout
    assert "Wilson" in out and "rejection_moderation" in out
    (csv_path,) = (tmp_path / "sim").glob("*_data.csv")
    assert len(pd.read_csv(csv_path)) == 72
    meta = json.loads(csv_path.with_suffix(".json").read_text())
    assert meta["mode"] == "simulate:data-only" and meta["seed"] == 1 and meta["status"] == "completed"
    assert meta["simulation_model"]["rates"]["rejection_moderation"]["p"] == 0.5


@pytest.mark.parametrize("args, message", [
    (("simulate", "milgram1963", "--participants", "3"), "unknown paradigm 'milgram1963'"),
    (("simulate", "cialdini1975", "--experiment", "9", "--participants", "3"), "has no experiment 9"),
    (("simulate", "cialdini1975", "--participants", "3", "--rate", "zoo=0.5"), "unknown condition 'zoo'"),
    (("simulate", "cialdini1975", "--participants", "3", "--rate", "rejection_moderation=1.5"), "must be in [0, 1]"),
    (("simulate", "regan1971", "--participants", "3", "--rate", "no_favor=-1"), "must be a number >= 0"),
    (("simulate", "cialdini1975", "--participants", "3", "--rate", "rejection_moderation"), "NAME=VALUE"),
    (("simulate", "cialdini1975", "--participants", "0"), "at least 1"),
    (("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "x.csv", "--experiment", "4"),
     "has no experiment 4"),
    (("protocol", "nobody"), "unknown paradigm"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(cli, tmp_path, args, message):
    proc = cli(*args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("compliance: error:")
    assert list(tmp_path.iterdir()) == []


def test_existing_session_refused_untouched(cli, tmp_path):
    cli("simulate", "cialdini1975", "--participants", "6", "--data-dir", "d", "--session", "1", check=0)
    (f,) = (tmp_path / "d").glob("*_data.csv")
    before = f.read_bytes()
    proc = cli("simulate", "cialdini1975", "--participants", "6", "--data-dir", "d", "--session", "1", "--seed", "9")
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert f.read_bytes() == before and len(list((tmp_path / "d").glob("*_data.csv"))) == 1


def test_run_refuses_tampered_schedule_before_opening_a_window(cli, tmp_path):
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    p = tmp_path / "s.csv"
    p.write_text(p.read_text().replace("exposure_control", "rejection_moderation", 1))
    proc = cli("run", "cialdini1975", "--schedule", "s.csv", "--site", "S1", "--experimenter", "E1",
               "--data-dir", "d")
    assert proc.returncode == 2 and "does not match" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_schedule_refuses_to_overwrite(cli, tmp_path):
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    before = (tmp_path / "s.csv").read_bytes()
    proc = cli("schedule", "cialdini1975", "--participants", "9", "--seed", "2", "--out", "s.csv")
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert (tmp_path / "s.csv").read_bytes() == before


def test_only_the_toolkits_own_errors_are_one_line_a_bug_shows_its_traceback(monkeypatch, capsys):
    """issue 8.5: the CLI catches its own error classes; anything else is a bug and says so."""
    import paradigms.cli as cli
    from paradigms.errors import UsageError

    def own(args):
        raise UsageError("--thing 5: not a thing")

    def bug(args):
        return {}["missing"]  # a KeyError from a bug, not from the user's input

    monkeypatch.setattr(cli, "cmd_list", own)
    assert cli.main(["list"]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err == "compliance: error: --thing 5: not a thing\n"
    monkeypatch.setattr(cli, "cmd_list", bug)
    assert cli.main(["list"]) == cli.EXIT_BUG == 70
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'missing'" in err
    assert err.rstrip().splitlines()[-1].startswith("compliance: internal error: 'list' failed")
    assert "this is a bug in the toolkit, not in your input" in err


def test_every_error_class_of_the_toolkit_is_a_compliance_error():
    from analysis.errors import AnalysisError, DataValidationError, ReferenceDataError
    from paradigms.base import DeclarationError
    from paradigms.cli import CLIError
    from paradigms.engine.schedule import ScheduleError
    from paradigms.engine.store import SessionExistsError
    from paradigms.errors import ComplianceError, UsageError
    for cls in (AnalysisError, DataValidationError, ReferenceDataError, DeclarationError, CLIError, ScheduleError,
                SessionExistsError, UsageError):
        assert issubclass(cls, ComplianceError), cls
    assert issubclass(SessionExistsError, FileExistsError) and issubclass(UsageError, ValueError)
