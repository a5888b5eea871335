"""``run`` and ``simulate --mode visual`` where no session window can be opened: one line saying
what to do, exit 2, and nothing written (issue 13, finding 9); ``--window-size`` is checked."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import BIN


def _run(args, cwd, env):
    return subprocess.run([str(BIN / "compliance"), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def schedule(cli, tmp_path):
    cli("schedule", "cialdini1975", "--participants", "4", "--seed", "1", "--out", "s.csv", check=0)
    return tmp_path / "s.csv"


RUN = ["run", "cialdini1975", "--schedule", "s.csv", "--site", "S1", "--experimenter", "E1", "--data-dir", "d"]
VISUAL = ["simulate", "cialdini1975", "--participants", "2", "--mode", "visual", "--data-dir", "d"]


@pytest.mark.parametrize("args", [RUN, VISUAL], ids=["run", "simulate-visual"])
def test_no_display_is_one_line_and_writes_nothing(schedule, tmp_path, args):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = _run(args, tmp_path, env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("compliance: error: no display")
    assert "xvfb-run -a compliance" in lines[0]
    assert not (tmp_path / "d").exists()
    assert not (tmp_path / "s.csv.slots.log").exists()


@pytest.mark.parametrize("args", [RUN, VISUAL], ids=["run", "simulate-visual"])
def test_no_psychopy_is_one_line_and_writes_nothing(schedule, tmp_path, args):
    """An analysis-only install: PsychoPy cannot be imported (hidden by a sitecustomize)."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['psychopy'] = None\n")
    env = {**os.environ, "DISPLAY": os.environ.get("DISPLAY") or ":99", "PYTHONPATH": str(hide)}
    proc = _run(args, tmp_path, env)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "PsychoPy is not installed" in lines[0] and "[session]" in lines[0]
    assert not (tmp_path / "d").exists()


def test_window_size_is_checked(schedule, tmp_path, cli):
    proc = cli(*RUN, "--window-size", "1024by768")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("compliance: error: --window-size '1024by768': expected WIDTHxHEIGHT in pixels, "
                                   "e.g. 1024x768")
    assert not (tmp_path / "d").exists()
