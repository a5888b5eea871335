"""The analyst's API and texts (issue 16, item 10)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import paradigms
from paradigms.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def _subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from action.choices.items()


def test_every_option_of_every_command_has_help_text():
    missing = []
    for name, sub in _subparsers(build_parser()):
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, missing
    assert len(dict(_subparsers(build_parser()))) >= 7


def test_analyze_help_has_no_doubled_percent_and_describes_count_outcomes():
    out = subprocess.run([sys.executable, "-m", "paradigms.cli", "analyze", "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    assert "95%%" not in out and "95% CI" in out
    assert "Count outcomes" in out and "negative binomial" in out


def test_plot_rates_takes_one_result_or_a_list(tmp_path):
    import analysis
    counts = {"rejection_moderation": (12, 24), "exposure_control": (6, 24), "smaller_request_only": (4, 24)}
    csv = tmp_path / "study-cialdini1975_exp-1_site-PUB_session-1_data.csv"
    analysis.write_session_csv(csv, analysis.rows_from_counts("cialdini1975", 1, counts))
    (res,) = analysis.analyze(csv, warn=False)
    one = analysis.plot_rates(res, tmp_path / "one.png")
    many = analysis.plot_rates([res], tmp_path / "many.png")
    assert one.stat().st_size > 10_000 and many.stat().st_size > 10_000


def test_reproduce_does_not_count_a_known_conflicting_source_as_a_mismatch():
    from analysis import reproduce
    (b1,) = reproduce("burger1986", 1)
    c45 = next(c for c in b1.checks if c.as_printed == "45%")
    assert c45.match is False and c45.known_conflict          # the figure still reads "mismatch"
    assert b1.n_mismatch == 0 and b1.n_known_conflict == 1
    assert "0 mismatch, 1 from a source known to conflict" in str(b1)
    assert b1.to_dict()["n_known_conflict"] == 1


def test_readme_explains_every_agreement_label():
    from analysis.replication.reproduce import CLOSE, EXACT, MISMATCH, NOT_AVAILABLE, NOT_COMPUTABLE, NOT_PUBLISHED
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for label in (EXACT, CLOSE, MISMATCH, NOT_COMPUTABLE, NOT_AVAILABLE, NOT_PUBLISHED):
        assert f"`{label}`" in readme, label
    assert "known to conflict" in readme


def test_notes_name_an_experiment_or_a_condition_never_the_study():
    from analysis import reproduce
    for study in paradigms.names():
        for r in reproduce(study):
            text = str(r)
            assert f" of {study}" not in text, (study, r.experiment)


def test_list_and_reproduce_number_burgers_experiments_the_same_way():
    from analysis import reproduce
    burger = paradigms.get("burger1986")
    declared = next(e.number for e in burger.experiments if "price_reduction_control" in e.condition_names)
    reps = {r.experiment: r for r in reproduce("burger1986")}
    assert f"compliance list: Experiment {declared}" in str(reps[None]).splitlines()[0]
    assert "compliance list's Experiment" in str(reps[declared]).splitlines()[0]
    listing = subprocess.run([sys.executable, "-m", "paradigms.cli", "list"], capture_output=True, text=True,
                             timeout=60).stdout
    assert f"experiment {declared}: Price reduction" in listing


def test_the_example_writes_its_plot_to_a_given_or_temporary_folder(tmp_path):
    script = ROOT / "analysis" / "examples" / "reproduce_cialdini_e1.py"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "plots")], cwd=cwd, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "plots" / "cialdini1975_e1.png").is_file() and not list(cwd.iterdir())
    out = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True, timeout=300)
    saved = Path(out.stdout.strip().splitlines()[-1].split("plot saved to ")[1])
    assert saved.is_file() and saved.parent != cwd and not list(cwd.iterdir())


def test_license_is_an_spdx_string():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"


@pytest.mark.parametrize("argv", [["simulate", "cialdini1975", "--participants", "2", "--mode", "visual"],
                                  ["run", "cialdini1975", "--schedule", "s.csv", "--site", "S1",
                                   "--experimenter", "E1"]])
def test_session_commands_without_psychopy_say_to_install_the_session_extra(tmp_path, argv):
    code = ("import sys; sys.modules['psychopy'] = None\n"  # as in an install without the session extra
            "from paradigms.cli import main; sys.exit(main(sys.argv[1:]))")
    if argv[0] == "run":
        subprocess.run([sys.executable, "-m", "paradigms.cli", "schedule", "cialdini1975", "--participants", "3",
                        "--seed", "1", "--out", str(tmp_path / "s.csv")], check=True, capture_output=True)
    out = subprocess.run([sys.executable, "-c", code, *argv, "--data-dir", str(tmp_path / "d")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and "compliance[session]" not in out.stderr
    assert "pip install 'compliance-toolkit[session]'" in out.stderr
