"""Exact tests at large n (issue 14, part 3): Barnard's test has a size limit, above it the
result says why it was not computed and the asymptotic tests are reported."""
from __future__ import annotations

import math
import subprocess
import sys

import pytest
from scipy import stats

from analysis.stats.binary import EXACT_MAX_TABLES, barnard_exact_p, compare_proportions, exact_test_size_note


def test_barnard_is_not_computed_for_the_million_row_data_set_and_says_why():
    # before: Barnard tried to allocate 1.6 TiB for n = 333,000 vs 667,000
    r = compare_proportions(100_000, 333_000, 180_000, 667_000, warn=False)
    assert math.isnan(r.barnard_p)
    note = next(n for n in r.notes if n.startswith("Barnard's exact test not computed"))
    assert "333,000 vs 667,000" in note and f"{333_001 * 667_001:,} tables" in note
    # the asymptotic test is reported, checked against scipy
    chi2, p, _, _ = stats.chi2_contingency([[100_000, 233_000], [180_000, 487_000]], correction=False)
    assert r.chi2 == pytest.approx(chi2) and r.chi2_p == pytest.approx(p)
    assert r.to_dict()["barnard_p"] is None


def test_the_limit_is_on_the_number_of_tables():
    n = int(math.isqrt(EXACT_MAX_TABLES)) - 1  # (n + 1)^2 tables: just at the limit
    assert exact_test_size_note(n, n) is None and exact_test_size_note(n, n + 1) is not None
    # below the limit the exact test is computed (and matches scipy on a small table)
    assert barnard_exact_p(7, 20, 2, 20) == pytest.approx(
        stats.barnard_exact([[7, 2], [13, 18]], pooled=True).pvalue, rel=1e-6)
    assert math.isnan(barnard_exact_p(7, 20, 2, 20, max_tables=100))


def test_barnard_over_the_limit_allocates_nothing_large():
    code = ("import resource, analysis.stats.binary as b; "
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "p = b.barnard_exact_p(300000, 600000, 310000, 600000); "
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "print(p, after - before)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    p, grew_kb = out.stdout.split()
    assert p == "nan" and int(grew_kb) < 50_000, out.stderr


def test_replication_criteria_refuse_barnard_at_that_size():
    from analysis.errors import AnalysisError
    from analysis.replication.criteria import two_sample_p_values
    with pytest.raises(AnalysisError, match="Barnard's exact test not computed"):
        two_sample_p_values(100_000, 333_000, 180_000, 667_000, test="barnard")
    assert two_sample_p_values(100_000, 333_000, 180_000, 667_000, test="chi2")[1] < 1e-10
