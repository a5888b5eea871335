"""P3, start-up (issue 14): ``compliance --help`` and ``compliance list`` against a bare interpreter.

Group ``startup`` and its baseline: ``python -c pass`` in a fresh process, the least any command
can cost; then ``compliance --help`` and ``compliance list`` (which reads every declaration), each a
fresh process.  The issue's goal: at most 0.3 s for either (it was about 1.9 s when the parser
imported statsmodels).  Nothing is asserted; the summary prints the ratios.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def _run(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.benchmark(group="startup")
def test_python_pass_baseline(benchmark):
    benchmark.pedantic(_run, args=([sys.executable, "-c", "pass"],), rounds=10, iterations=1)


@pytest.mark.benchmark(group="startup")
def test_compliance_help(benchmark):
    benchmark.pedantic(_run, args=([str(BIN / "compliance"), "--help"],), rounds=10, iterations=1)


@pytest.mark.benchmark(group="startup")
def test_compliance_list(benchmark):
    benchmark.pedantic(_run, args=([str(BIN / "compliance"), "list"],), rounds=10, iterations=1)
