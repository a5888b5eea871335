"""Mantel-Haenszel, CMH (with and without continuity correction), Breslow-Day and Tarone against
metafor 3.8-1 ``rma.mh`` (R 4.2), including tables where nobody complied (issue 25.5).

R, every reference value below (CI has no R)::

    library(metafor)
    d <- dat.nielweise2007                  # 18 trials, trial 15 has no event in either arm
    for (cc in c(TRUE, FALSE)) {
      m <- rma.mh(ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=d, measure="OR", correct=cc)
      print(c(m$b, m$se, m$ci.lb, m$ci.ub, m$MH, m$MHp, m$BD, m$BDp, m$TA, m$TAp, m$k.pos), digits=15) }
    x1 <- c(12, 15, 9, 20, 7, 25, 11, 30); n1 <- c(24, 30, 20, 40, 18, 50, 26, 45)
    x2 <- c(6, 10, 2, 18, 0, 8, 9, 12);    n2 <- c(25, 31, 22, 38, 17, 48, 27, 44)
    m <- rma.mh(ai=x1, n1i=n1, ci=x2, n2i=n2, measure="OR", correct=TRUE)
    print(c(m$MH, m$MHp, m$BD, m$BDp, m$TA, m$TAp, m$k.pos), digits=15)
    x1 <- c(60, 70, 55); n1 <- c(80, 90, 75); x2 <- c(20, 25, 18); n2 <- c(80, 90, 75)   # a far tail
    for (cc in c(FALSE, TRUE)) { m <- rma.mh(ai=x1, n1i=n1, ci=x2, n2i=n2, measure="OR", correct=cc)
      print(c(m$b, m$se, m$MH, m$MHp, m$BD, m$BDp, m$TA, m$TAp), digits=15) }
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.meta.mh import mantel_haenszel
from analysis.meta.pooling import fixed_effects, site_effect

# dat.nielweise2007 (metadat): ai, n1i, ci, n2i
NIEL = [(0, 116, 3, 117), (1, 44, 3, 35), (2, 208, 9, 195), (0, 130, 7, 136), (5, 151, 6, 157), (1, 98, 4, 139),
        (1, 174, 3, 177), (1, 74, 2, 39), (1, 97, 19, 103), (1, 113, 2, 122), (0, 66, 7, 64), (0, 70, 1, 58),
        (3, 188, 5, 175), (6, 187, 11, 180), (0, 118, 0, 105), (0, 252, 1, 262), (1, 345, 3, 362),
        (4, 64, 1, 69)]
# b, se, ci.lb, ci.ub, then MH, MHp with correct=TRUE, then with correct=FALSE; BD, BDp, TA, TAp, k.pos
NIEL_OR = (-1.20870483273377, 0.222445421341601, -1.64468984708914, -0.772719818378392)
NIEL_MH_CORRECTED = (32.2135612609801, 1.38123316101518e-08)
NIEL_MH = (33.3101297808173, 7.85722910688574e-09)
NIEL_BD = (25.6873688816695, 0.0585889562569664, 25.6794889345090, 0.0587081732477592, 17)

X1 = [12, 15, 9, 20, 7, 25, 11, 30]
N1 = [24, 30, 20, 40, 18, 50, 26, 45]
X2 = [6, 10, 2, 18, 0, 8, 9, 12]
N2 = [25, 31, 22, 38, 17, 48, 27, 44]
EIGHT_CORRECTED = (33.0599468819933, 8.93607139875374e-09, 14.3282874515876, 0.0456411727634578, 14.3135782243644,
                   0.0458769958107014, 8)

TAIL = ([60, 70, 55], [80, 90, 75], [20, 25, 18], [80, 90, 75])
TAIL_R = {False: (2.19109552589160, 0.208808557711388, 120.921483069650, 3.97559154551913e-28),
          True: (2.19109552589160, 0.208808557711388, 118.947287934879, 1.07549892036620e-27)}
TAIL_BD = (7.83738502727051e-03, 9.96088975542352e-01, 7.83736355274904e-03, 9.96088986237619e-01)


def _cells(rows):
    a, n1, c, n2 = (np.array(v, dtype=float) for v in zip(*rows))
    return a, n1 - a, c, n2 - c


def test_double_zero_table_is_left_out_of_breslow_day_as_metafor_does():
    r = mantel_haenszel(*_cells(NIEL))
    np.testing.assert_allclose((r.log_or, r.se, r.ci_low, r.ci_high), NIEL_OR, rtol=1e-12)
    np.testing.assert_allclose((r.cmh, r.cmh_p), NIEL_MH, rtol=1e-11)
    np.testing.assert_allclose((r.cmh_corrected, r.cmh_corrected_p), NIEL_MH_CORRECTED, rtol=1e-11)
    np.testing.assert_allclose((r.breslow_day, r.breslow_day_p, r.tarone, r.tarone_p), NIEL_BD[:4], rtol=1e-10)
    assert (r.k, r.k_pos) == (18, NIEL_BD[4])


def test_pool_fixed_effects_print_bd_with_16_df_and_both_cmh_statistics():
    es = [site_effect(f"T{i}", a, n, c, m) for i, (a, n, c, m) in enumerate(NIEL, 1)]
    f = fixed_effects(es)
    assert f.breslow_day_df == 16 and math.isclose(f.tarone, NIEL_BD[2], rel_tol=1e-10)
    text = str(f)
    assert "Breslow-Day χ²(16) = 25.69, p = .059" in text and "NA" not in text
    assert "(RBG SE)" in text and "no continuity correction" in text and "with it χ²(1) = 32.21" in text
    assert any("left out (as metafor rma.mh): df = 16" in n for n in f.notes)
    d = f.to_dict()
    for key in ("cmh_statistic", "cmh_p", "breslow_day", "breslow_day_p", "tarone", "tarone_p",
                "cmh_corrected_statistic", "cmh_corrected_p", "breslow_day_df"):
        assert key in d


def test_continuity_corrected_cmh_of_the_eight_sites():
    r = mantel_haenszel(*_cells(zip(X1, N1, X2, N2)))
    got = (r.cmh_corrected, r.cmh_corrected_p, r.breslow_day, r.breslow_day_p, r.tarone, r.tarone_p, r.k_pos)
    np.testing.assert_allclose(got, EIGHT_CORRECTED, rtol=1e-10)


@pytest.mark.parametrize("correct", [False, True])
def test_far_tail_p_comes_from_the_survival_function(correct):
    r = mantel_haenszel(*_cells(zip(*TAIL)))
    stat, p = (r.cmh_corrected, r.cmh_corrected_p) if correct else (r.cmh, r.cmh_p)
    np.testing.assert_allclose((r.log_or, r.se, stat, p), TAIL_R[correct], rtol=1e-10)
    assert 1 - stats.chi2.cdf(stat, 1) == 0.0   # what 1 - cdf would have said
    np.testing.assert_allclose((r.breslow_day, r.breslow_day_p, r.tarone, r.tarone_p), TAIL_BD, rtol=1e-8)


def test_no_informative_table_gives_missing_tests_not_a_crash():
    r = mantel_haenszel([0, 0], [10, 12], [0, 0], [9, 11])
    assert math.isnan(r.log_or) and math.isnan(r.breslow_day) and math.isnan(r.cmh) and r.k_pos == 0


def test_replication_mantel_haenszel_names_rbg_and_takes_p_from_the_survival_function():
    from analysis.replication.criteria import mantel_haenszel as mh_criterion

    c = mh_criterion(60, 80, 20, 80, 70, 90, 25, 90, direction=1)
    assert "(RBG SE)" in c.sentence and "RGB" not in c.sentence
    assert c.p == pytest.approx(stats.chi2.sf(c.statistic, 1), rel=1e-12) and c.p > 0
