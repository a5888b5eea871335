"""A sweep of bad command lines: each is refused in one line with exit 2, never a traceback (issue 15.15).

Since the CLI catches only the toolkit's own error classes (issue 8.5), a plain ``ValueError``
raised on bad input somewhere would now show as a bug (exit 70, with its traceback): this sweep is
the net that catches such a regression.  The commands run in-process (``paradigms.cli.main``), so
the sweep stays quick; argparse's own usage errors exit 2 through ``SystemExit``.
"""
from __future__ import annotations

import pytest

from paradigms import cli

BAD = [
    # (argv, a fragment the one line must hold)
    (["schedule", "nosuchstudy", "--participants", "10", "--seed", "1", "--out", "{tmp}/s.csv"], "unknown paradigm"),
    (["schedule", "cialdini1975", "--experiment", "9", "--participants", "10", "--seed", "1",
      "--out", "{tmp}/s.csv"], "has no experiment 9"),
    (["schedule", "cialdini1975", "--participants", "0", "--seed", "1", "--out", "{tmp}/s.csv"], "participants"),
    (["schedule", "cialdini1975", "--participants", "-3", "--seed", "1", "--out", "{tmp}/s.csv"], "participants"),
    (["schedule", "cialdini1975", "--participants", "10", "--seed", "-5", "--out", "{tmp}/s.csv"], "seed"),
    (["schedule", "cialdini1975", "--participants", "100000000", "--seed", "1", "--out", "{tmp}/s.csv"],
     "participants"),
    (["schedule", "cialdini1975", "--participants", "10", "--seed", "1", "--out", "{tmp}"], "{tmp}"),
    (["simulate", "cialdini1975", "--participants", "0", "--data-dir", "{tmp}/d"], "participants"),
    (["simulate", "cialdini1975", "--participants", "5", "--rate", "zoo=0.5", "--data-dir", "{tmp}/d"], "zoo"),
    (["simulate", "cialdini1975", "--participants", "5", "--rate", "rejection_moderation=1.5",
      "--data-dir", "{tmp}/d"], "[0, 1]"),
    (["simulate", "cialdini1975", "--participants", "5", "--rate", "rejection_moderation", "--data-dir", "{tmp}/d"],
     "NAME=VALUE"),
    (["simulate", "cialdini1975", "--participants", "5", "--rate", "rejection_moderation=abc",
      "--data-dir", "{tmp}/d"], "not a number"),
    (["simulate", "cialdini1975", "--participants", "5", "--time-scale", "nan", "--data-dir", "{tmp}/d"],
     "time-scale"),
    (["simulate", "cialdini1975", "--participants", "5", "--site", "S 1", "--data-dir", "{tmp}/d"], "site"),
    (["simulate", "cialdini1975", "--participants", "5", "--site-sd", "-1", "--data-dir", "{tmp}/d"], "site-sd"),
    (["simulate", "regan1971", "--participants", "5", "--site-sd", "nan", "--data-dir", "{tmp}/d"], "site-sd"),
    (["simulate", "cialdini1975", "--participants", "5", "--site", "A", "--site", "A", "--data-dir", "{tmp}/d"],
     "twice"),
    (["simulate", "regan1971", "--participants", "5", "--rate", "nosuch=2", "--data-dir", "{tmp}/d"], "nosuch"),
    (["simulate", "cialdini1975", "--participants", "5", "--session", "0", "--data-dir", "{tmp}/d"], "session"),
    (["protocol", "nosuchstudy"], "unknown paradigm"),
    (["protocol", "cialdini1975", "--out", "{tmp}"], "is a folder"),
    (["analyze", "{tmp}/missing"], "missing"),
    (["analyze", "{tmp}/empty"], "{tmp}/empty"),
    (["reproduce", "nosuchstudy"], "nosuchstudy"),
    (["reproduce", "cialdini1975", "--experiment", "9"], "9"),
    (["replicate", "cialdini1975", "--experiment", "1", "--counts", "smaller_request_only=5/4"], "K = 5"),
    (["replicate", "cialdini1975", "--experiment", "1", "--counts", "smaller_request_only=x"], "NAME=K/N"),
    (["power", "--rates", "0.5", "0.2"], "--n"),
    (["power", "--rates", "0.5", "0.2", "--n", "10", "--simulations", "0"], "simulations"),
    (["pool", "{tmp}/missing"], "missing"),
    (["report", "nosuchstudy", "--out", "{tmp}/r.html"], "nosuchstudy"),
    (["withdraw", "{tmp}/empty", "P123", "--reason", "asked", "--by", "E1"], "no session files"),
    (["verify", "{tmp}/missing"], "missing"),
]

USAGE = [  # argparse refuses these itself (exit 2, its usage line and one error line)
    ["nosuchcommand"],
    ["schedule", "cialdini1975", "--participants", "ten", "--seed", "1", "--out", "x.csv"],
    ["simulate", "cialdini1975", "--participants", "5", "--mode", "fast"],
    ["analyze"],
]


@pytest.mark.parametrize("argv,fragment", BAD, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_bad_command_line_is_one_line_exit_2(argv, fragment, tmp_path, capsys, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("compliance: error: ") and fragment.replace("{tmp}", str(tmp_path)) in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # nothing written


@pytest.mark.parametrize("argv", USAGE, ids=" ".join)
def test_usage_errors_exit_2_without_a_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
