"""One effect, one answer (issue 21.1): every place that computes a 2 x 2 table's effect reads it from
analysis.stats.effects, so a zero-cell table gives the same log OR, variance and RD everywhere.

R 4.x, metafor:
    escalc("OR", ai=0, n1i=10, ci=2, n2i=10, add=1/2, to="only0")  # yi -1.82074700610, vi 2.61288515406
    escalc("RD", ai=0, n1i=10, ci=2, n2i=10, add=1/2, to="only0")  # yi -0.1818181818182, vi 0.0199098422239
"""
from __future__ import annotations

import math

import pytest

R_OR = (-1.82074700610, 2.61288515406)
R_RD = (-0.1818181818182, 0.0199098422239)


def test_zero_cell_table_gives_one_log_odds_ratio_everywhere():
    import analysis
    from analysis.meta.pooling import _effect_arrays, site_effect
    from analysis.replication import criteria
    from analysis.replication.verdict import counts_side, effects_of
    from analysis.stats import effects
    from analysis.stats.binary import odds_ratio_ci

    e = effects.log_odds_ratio(0, 10, 2, 10)
    assert (e.yi, e.vi) == pytest.approx(R_OR, rel=1e-10) and e.corrected
    lor, var, corrected = criteria.log_odds_ratio(0, 10, 2, 10)
    assert (lor, var, corrected) == (e.yi, e.vi, True)
    assert math.log(odds_ratio_ci(0, 10, 2, 10)[0]) == pytest.approx(e.yi, rel=1e-14)
    assert math.log(effects_of(counts_side("replication", 0, 10, 2, 10)).odds_ratio) == pytest.approx(e.yi, rel=1e-14)
    s = site_effect("S", 0, 10, 2, 10)
    assert (s.log_or, s.var_log_or) == (e.yi, e.vi) and (s.rd, s.var_rd) == pytest.approx(R_RD, rel=1e-10)
    arr = _effect_arrays([0, 5], [10, 10], [2, 3], [10, 10])
    assert (arr[0][0], arr[1][0], arr[2][0], arr[3][0]) == (s.log_or, s.var_log_or, s.rd, s.var_rd)
    # Cohen's h: one function, re-exported under its old names
    assert analysis.cohens_h is effects.cohens_h
    assert criteria.cohens_h_var is effects.cohens_h_var
    from analysis.power import exact
    assert exact.cohens_h is effects.cohens_h
