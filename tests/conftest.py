"""Shared fixtures.  Screen tests (marker ``screen``) need a display: ``make test``
runs the whole suite under ``xvfb-run``.  Without a display they fail loudly
rather than skip, unless ``COMPLIANCE_ALLOW_NO_SCREEN=1`` is set for a quick
local run of the logic alone."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# `compliance run` shows why it refuses to start on the screen until Esc; the tests of its refusals read
# the exit code and stderr, so they turn that screen off (its own tests turn it on and press Esc)
os.environ["COMPLIANCE_REFUSAL_SCREEN"] = "0"
BIN = Path(sys.executable).parent


def pytest_configure(config):
    """With pytest-xdist (``make test``'s first run): before the workers start, let PsychoPy make
    its per-user folders once.  On a fresh machine (CI) two workers importing it at the same
    moment race in its ``mkdir`` (no ``exist_ok``) and one fails."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        subprocess.run([sys.executable, "-c", "import psychopy.preferences"], capture_output=True, timeout=300)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DISPLAY") or not os.environ.get("COMPLIANCE_ALLOW_NO_SCREEN"):
        return
    skip = pytest.mark.skip(reason="no display and COMPLIANCE_ALLOW_NO_SCREEN=1")
    for item in items:
        if "screen" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def cli(tmp_path):
    """Run the real ``compliance`` command in a subprocess; returns CompletedProcess."""
    def run(*args, cwd=None, check=None):
        proc = subprocess.run([str(BIN / "compliance"), *map(str, args)], capture_output=True, text=True,
                              cwd=cwd or tmp_path, timeout=300)
        if check is not None:
            assert proc.returncode == check, proc.stderr + proc.stdout
        return proc
    return run


@pytest.fixture
def ditf():
    import paradigms
    return paradigms.get("cialdini1975")
