"""Issue 22.6 and 22.7: sizes and numbers that were internal errors (exit 70), hangs or out of memory.

Every line the reliability audit found is now refused before any work starts, with exit code 2
and one line that names the flag, the limit and why; the limit in that line is the one the help
text states (both read :mod:`paradigms.limits`).  In-process, under a 10 s watchdog that fails the
test naming the line (a hang is a failure, not a timing measurement).
"""
from __future__ import annotations

import contextlib
import io
import re
import signal

import pytest

from paradigms import limits
from paradigms.cli import EXIT_BUG, build_parser, main


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run(argv, cwd=None):
    """(status, stdout, stderr) of ``compliance *argv`` in this process, within 10 s."""
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        with contextlib.ExitStack() as stack:
            if cwd is not None:
                stack.enter_context(contextlib.chdir(cwd))
            stack.enter_context(contextlib.redirect_stdout(out))
            stack.enter_context(contextlib.redirect_stderr(err))
            try:
                status = main(argv)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 2
    except _Hang:
        pytest.fail(f"compliance {' '.join(argv)}: still running after 10 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return status, out.getvalue(), err.getvalue()


def _help_of(command: str, flag: str) -> str:
    sub = next(a for a in build_parser()._subparsers._group_actions if a.dest == "command").choices[command]
    action = next(a for a in sub._actions if flag in a.option_strings)
    return action.help


# (the line, the flag whose help states the limit, the limit)
HUGE = [
    # asked 149 GiB; the pooled control doubles n2, so the table limit the help states gives n1 <= 1,414
    (["power", "cialdini1975", "--n", "100000"], "--n", f"{limits.exact_n_limit(2.0):,}"),
    (["power", "--rates", "0.5", "0.3", "--n", "1000000000"], "--n", f"{limits.EXACT_N.value:,}"),
    (["power", "--rates", "0.5", "0.3", "--target", "0.8", "--n-max", "100000000"], "--n-max",
     f"{limits.EXACT_N.value:,}"),
    (["power", "--rates", "0.5", "0.5001", "--target", "0.8"], "--n-max", f"{limits.SCAN_TABLES.value:,}"),
    (["power", "pollock1998", "--n", "20", "--simulations", "100000000"], "--simulations",
     f"{limits.SIMULATIONS.value:,}"),
    (["power", "pollock1998", "--n", "20", "--jobs", "100000"], "--jobs", f"{limits.jobs_limit()}"),
    (["power", "pollock1998", "--n", "1000000000"], "--n", f"{limits.SIMULATED_N.value:,}"),
    (["power", "regan1971", "--target", "0.8", "--n-max", "100000000"], "--n-max", f"{limits.SIMULATED_N.value:,}"),
    (["replicate", "cialdini1975", "--experiment", "1", "--counts",
      "rejection_moderation=123456789012345678901234567890/1234567890123456789012345678901",
      "exposure_control=1/2", "smaller_request_only=1/2"], "--counts", f"{limits.COUNT_N.value:,}"),
    (["simulate", "cialdini1975", "--participants", "1000000000"], "--participants",
     f"{limits.PARTICIPANTS.value:,}"),
    (["simulate", "cialdini1975", "--participants", "5", "--session", "1000000000000000000000"], "--session",
     f"{limits.SESSION.value:,}"),
    (["simulate", "cialdini1975", "--participants", "5", "--site-sd", "1e308"], "--site-sd",
     f"{limits.SITE_SD.value:,}"),
]


@pytest.mark.parametrize("argv,flag,limit", HUGE, ids=[" ".join(h[0])[:60] for h in HUGE])
def test_a_huge_size_is_refused_at_once_with_the_limit_the_help_states(tmp_path, argv, flag, limit):
    status, out, err = run(argv, cwd=tmp_path)
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (status, err)
    assert f"at most {limit}" in lines[0] and ": " in lines[0].split(f"at most {limit}")[1], lines[0]
    stated = f"{limits.EXACT_TABLES:,}" if limit == f"{limits.exact_n_limit(2.0):,}" else limit
    assert stated in lines[0] and stated in _help_of(argv[0], flag), _help_of(argv[0], flag)
    assert not list(tmp_path.iterdir()), "a refused command wrote something"


def test_equal_rates_with_a_target_are_said_at_once():
    status, out, err = run(["power", "--rates", "0.5", "0.5", "--target", "0.8"])
    assert status == 2 and "the two rates are equal" in err and "no n reaches the target" in err


def test_the_scan_limit_is_predicted_from_the_normal_approximation_stated_in_the_error():
    """0.5 vs 0.5001: n = (z_.975 + z_.80)^2 * 2 / h^2 per group, computed here with statistics.NormalDist."""
    import math
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.80)
    h = 2 * math.asin(math.sqrt(0.5)) - 2 * math.asin(math.sqrt(0.5001))
    n = math.ceil(z * z * 2 / (h * h))
    status, out, err = run(["power", "--rates", "0.5", "0.5001", "--target", "0.8"])
    assert status == 2 and f"needs about {n:,} per group, beyond --n-max 2,000" in err


def test_a_target_within_the_limits_is_still_computed():
    status, out, err = run(["power", "--rates", "0.5", "0.3", "--target", "0.8"])
    assert status == 0 and "first reached at n = " in out


@pytest.mark.parametrize("rate", ["confederate_favor_pleasant=1e308", "no_favor=21", "no_favor=nan"])
def test_an_impossible_mean_count_is_refused(tmp_path, rate):
    status, out, err = run(["simulate", "regan1971", "--participants", "5", "--rate", rate, "--data-dir", "d"],
                           cwd=tmp_path)
    assert status == 2 and "--rate" in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "d").exists()


def test_analyze_without_the_condition_column_is_the_header_refusal(tmp_path):
    """Issue 22.6: a regression to exit 70; the header check names the missing column again."""
    import csv

    from analysis.load.synthetic import rows_from_counts, write_session_csv

    src = write_session_csv(tmp_path / "study-cialdini1975_exp-1_site-S1_session-1_data.csv",
                            rows_from_counts("cialdini1975", 1, {"rejection_moderation": (3, 6),
                                                                  "exposure_control": (1, 6),
                                                                  "smaller_request_only": (2, 6)}, site="S1"))
    rows = list(csv.reader(open(src, newline="", encoding="utf-8")))
    i = rows[0].index("condition")
    with open(src, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([r[:i] + r[i + 1:] for r in rows])
    status, out, err = run(["analyze", str(tmp_path), "--accept-unverified"])
    assert status == 2 and "line 1 (header), column 'condition': missing" in err, err


def test_every_limit_is_stated_once_with_its_reason():
    for name in limits.__all__:
        value = getattr(limits, name)
        if isinstance(value, limits.Limit):
            assert value.value > 0 and len(value.why) > 20
            assert re.fullmatch(r"at most [\d,]+", str(value))
    assert EXIT_BUG == 70


def test_a_tiny_alpha_is_refused_by_the_scan_limit_not_an_overflow():
    """--alpha 1e-300: 1 - alpha/2 is 1.0 in floating point (the normal quantile was infinite: exit 70)."""
    status, out, err = run(["power", "--rates", "0.5", "0.3", "--alpha", "1e-300", "--target", "0.8"])
    assert status == 2 and "beyond --n-max 2,000" in err and len(err.strip().splitlines()) == 1, err


def test_the_readme_states_the_same_limits():
    from tests.conftest import ROOT

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for number in (limits.EXACT_N.value, limits.EXACT_TABLES, limits.SCAN_TABLES.value, limits.SIMULATIONS.value,
                   limits.SIMULATED_N.value, limits.COUNT_N.value, limits.PARTICIPANTS.value):
        assert f"{number:,}" in text, number
