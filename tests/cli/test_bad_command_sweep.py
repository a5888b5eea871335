"""Issue 22: a property-based sweep of bad command lines over every ``compliance`` command.

Hypothesis draws a command and a handful of tokens (flags, bad values, paths that are not what the
flag wants); whatever the line, the command must end with a clean status (0, 1 or 2; never 70, an
internal error), within a 10 s watchdog (a hang is a failure naming the line, not a timing
measurement), and a command that fails must change nothing in its folder.  In-process
(``paradigms.cli.main``) and derandomized, with few examples, so that it runs in seconds in
``make test`` and gives the same lines in CI every time.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import signal
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings, strategies as st  # noqa: E402

import paradigms  # noqa: E402
from paradigms.cli import EXIT_BUG, main  # noqa: E402

settings.register_profile("sweep", max_examples=40, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# `run` is left to the screen tests: a run whose arguments happen to be valid opens a window
COMMANDS = ["list", "schedule", "simulate", "protocol", "analyze", "reproduce", "report", "replicate", "pool",
            "power", "withdraw", "verify", "seal", "export", "plan", "preregister"]
FLAGS = ["--experiment", "--participants", "--seed", "--out", "--force", "--json", "--plot", "--data-dir",
         "--mode", "--rate", "--reason", "--by", "--manifest", "--parquet", "--partition-by", "--counts",
         "--n", "--target", "--rates", "--include-simulated", "--accept-unverified", "--search", "--quiet",
         # issue 22.7: every size flag, with the huge values below
         "--simulations", "--jobs", "--n-max", "--session", "--site-sd"]
VALUES = ["", "0", "-1", "2", "nan", "inf", "1e308", "3.5", "abc", "x=1", "exposure_control=2",
          "123456789012345678901234567890", "cialdini1975", "kunz1976", "nostudy", "data", "data/site1",
          "sched.csv", "report.html", "data/site1/dataset_description.json", "missing/x.csv", "out.png",
          "fig.csv", "--", "-", "E1", "Jane Doe", "é", "a\tb",
          # issue 22.6/22.7: sizes far beyond their limits, and numbers no float holds
          "100000000", "1000000000", "1e9", "-100000", "1e-308", "0.5", "nocond"]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A small folder: a simulated session, a schedule, a report."""
    from paradigms.engine.sessions import simulate

    t = tmp_path_factory.mktemp("sweep")
    res = simulate(paradigms.get("cialdini1975"), 1, 9, seed=1, data_dir=t / "data" / "site1")
    # a session file without its condition column (issue 22.6: analyze on it was exit 70)
    lines = res.csv_path.read_text(encoding="utf-8").splitlines()
    i = lines[0].split(",").index("condition")
    (t / "nocond").mkdir()
    (t / "nocond" / res.csv_path.name).write_text(
        "".join(",".join(c for k, c in enumerate(ln.split(",")) if k != i) + "\n" for ln in lines), encoding="utf-8")
    with contextlib.chdir(t), contextlib.redirect_stdout(io.StringIO()):
        assert main(["schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "sched.csv"]) == 0
    return t


def _snapshot(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


line = st.tuples(st.sampled_from(COMMANDS),
                 st.lists(st.one_of(st.sampled_from(FLAGS), st.sampled_from(VALUES)), max_size=6))


@settings(settings.get_profile("sweep"))
@given(cmd=line)
# the lines the reliability audit of issue 22.6 found exiting 70, always tried
@example(cmd=("analyze", ["data", "--plot", "x.csv"]))
@example(cmd=("replicate", ["data", "--plot", "fig.csv"]))
@example(cmd=("schedule", ["cialdini1975", "--participants", "5", "--seed", "1", "--out", ""]))
@example(cmd=("report", ["data/site1", "--out", "data/site1/dataset_description.json", "--force"]))
# the audit's internal errors (22.6), hangs and memory (22.7): refused at once now
@example(cmd=("analyze", ["nocond"]))
@example(cmd=("replicate", ["cialdini1975", "--experiment", "1", "--counts",
                            "rejection_moderation=123456789012345678901234567890/1234567890123456789012345678901",
                            "exposure_control=1/2"]))
@example(cmd=("power", ["cialdini1975", "--n", "100000"]))
@example(cmd=("simulate", ["regan1971", "--participants", "5", "--rate", "confederate_favor_pleasant=1e308"]))
@example(cmd=("simulate", ["cialdini1975", "--participants", "5", "--site-sd", "1e308"]))
@example(cmd=("simulate", ["cialdini1975", "--participants", "1000000000"]))
@example(cmd=("power", ["--rates", "0.5", "0.5", "--target", "0.8"]))
@example(cmd=("power", ["--rates", "0.5", "0.5001", "--target", "0.8"]))
@example(cmd=("power", ["--rates", "0.5", "0.3", "--target", "0.8", "--n-max", "100000000"]))
@example(cmd=("power", ["cialdini1975", "--simulations", "100000000"]))
@example(cmd=("power", ["cialdini1975", "--jobs", "100000"]))
@example(cmd=("power", ["--rates", "0.5", "0.3", "--n", "1000000000"]))
def test_no_bad_command_line_is_an_internal_error_a_hang_or_a_change(template, tmp_path_factory, cmd):
    name, tokens = cmd
    argv = [name, *tokens]
    work = tmp_path_factory.mktemp("case")
    shutil.rmtree(work)
    shutil.copytree(template, work)
    before = _snapshot(work)
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(10)
    try:
        with contextlib.chdir(work), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv)
            except SystemExit as exc:          # argparse: usage error (2) or --help (0)
                status = exc.code if isinstance(exc.code, int) else 2
    except _Hang:
        pytest.fail(f"compliance {' '.join(argv)!r}: still running after 10 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert status != EXIT_BUG, f"compliance {argv!r}: internal error\n{err.getvalue()}"
    assert status in (0, 1, 2), (argv, status)
    if status == 2:
        assert _snapshot(work) == before, f"compliance {argv!r} failed and changed files"
    shutil.rmtree(work, ignore_errors=True)
