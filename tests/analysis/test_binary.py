"""Every statistic of analysis.stats.binary against a reference computed another way."""
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import confint_proportions_2indep

from tests import reference_values as R
from analysis import (ChiSquareResult, DegenerateTableWarning, SmallExpectedCountWarning, barnard_exact_p,
                      cohens_h, compare_proportions, condition_rate, fisher_exact_p, format_p,
                      logistic_regression, newcombe_diff_ci, odds_ratio_ci, omnibus_chi2, pearson_chi2,
                      risk_ratio_ci, wilson_ci)
from analysis.load.synthetic import frame_from_counts

TABLES = [(12, 24, 10, 48), (6, 24, 4, 24), (2, 10, 7, 9), (22, 30, 12, 30), (1, 7, 5, 8)]


@pytest.mark.parametrize("x,n", [(12, 24), (0, 10), (10, 10), (1, 3), (37, 81)])
def test_wilson_matches_hand_formula(x, n):
    assert wilson_ci(x, n) == pytest.approx(R.wilson(x, n), abs=1e-12)


def test_wilson_empty_is_nan():
    lo, hi = wilson_ci(0, 0)
    assert math.isnan(lo) and math.isnan(hi)
    r = condition_rate("c", 0, 0)
    assert math.isnan(r.rate) and r.notes


@pytest.mark.parametrize("x1,n1,x2,n2,lo,hi", R.NEWCOMBE_TABLE_II)
def test_newcombe_against_paper_table(x1, n1, x2, n2, lo, hi):
    got = newcombe_diff_ci(x1, n1, x2, n2)
    assert got == pytest.approx((lo, hi), abs=6e-5)


@pytest.mark.parametrize("x1,n1,x2,n2", TABLES + [(0, 10, 3, 12), (10, 10, 4, 12), (0, 5, 0, 9)])
def test_newcombe_matches_statsmodels(x1, n1, x2, n2):
    ref = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff")
    assert newcombe_diff_ci(x1, n1, x2, n2) == pytest.approx(tuple(map(float, ref)), abs=1e-10)


@pytest.mark.parametrize("x1,n1,x2,n2", TABLES)
def test_odds_and_risk_ratio_match_statsmodels_table2x2(x1, n1, x2, n2):
    t = Table2x2(np.array([[x1, n1 - x1], [x2, n2 - x2]]))
    orr, lo, hi, corrected = odds_ratio_ci(x1, n1, x2, n2)
    assert not corrected
    assert orr == pytest.approx(t.oddsratio)
    assert (lo, hi) == pytest.approx(tuple(t.oddsratio_confint()))
    assert (lo, hi) == pytest.approx(R.woolf_or(x1, n1 - x1, x2, n2 - x2)[1:])
    rr, rlo, rhi, _ = risk_ratio_ci(x1, n1, x2, n2)
    assert rr == pytest.approx(t.riskratio)
    assert (rlo, rhi) == pytest.approx(tuple(t.riskratio_confint()))


def test_haldane_correction_only_with_a_zero_cell():
    orr, lo, hi, corrected = odds_ratio_ci(0, 10, 5, 10)
    assert corrected
    assert orr == pytest.approx((0.5 * 5.5) / (10.5 * 5.5))
    assert (lo, hi) == pytest.approx(R.woolf_or(0.5, 10.5, 5.5, 5.5)[1:])


@pytest.mark.parametrize("x1,n1,x2,n2", TABLES)
def test_chi2_fisher_barnard_h(x1, n1, x2, n2):
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = compare_proportions(x1, n1, x2, n2)
    assert r.chi2 == pytest.approx(R.pearson_2x2(a, b, c, d), rel=1e-12)
    assert r.chi2_p == pytest.approx(R.chi2_sf_1df(r.chi2), rel=1e-9)
    assert r.chi2_yates == pytest.approx(R.pearson_2x2(a, b, c, d, yates=True), rel=1e-12)
    assert r.fisher_p == pytest.approx(R.fisher_two_sided(a, b, c, d), rel=1e-9)
    assert r.cohens_h == pytest.approx(R.cohens_h(x1 / n1, x2 / n2))
    assert r.risk_difference == pytest.approx(x1 / n1 - x2 / n2)


@pytest.mark.parametrize("x1,n1,x2,n2", [(2, 10, 7, 9), (3, 6, 0, 5), (4, 12, 9, 11), (1, 7, 5, 8)])
def test_barnard_orientation_against_brute_force(x1, n1, x2, n2):
    # one binomial sample per group; scipy wants them per column -- a wrong orientation
    # would test a different hypothesis and give a different p for unequal n
    ref = R.barnard_brute(x1, n1, x2, n2, grid=1000)
    assert barnard_exact_p(x1, n1, x2, n2) == pytest.approx(ref, abs=2e-4)
    assert barnard_exact_p(x1, n1, x2, n2) >= ref - 1e-9  # the grid can only under-estimate the maximum


def test_barnard_agrees_with_scipy_where_scipy_has_no_tie_problem():
    from scipy.stats import barnard_exact
    # 2/10 vs 7/9: the mirror table's statistic is computed equal, so scipy is right here
    ref = barnard_exact(np.array([[2, 7], [8, 2]]), alternative="two-sided", pooled=True).pvalue
    assert barnard_exact_p(2, 10, 7, 9) == pytest.approx(ref, rel=1e-6)


def test_barnard_counts_the_tied_mirror_table_that_scipy_drops():
    # scipy issue #18798: scipy's p for 1/7 vs 5/8 leaves out 6/7 vs 3/8 (|T| tied to 2e-16)
    from scipy.stats import barnard_exact
    scipy_p = barnard_exact(np.array([[1, 5], [6, 3]]), pooled=True).pvalue
    ours = barnard_exact_p(1, 7, 5, 8)
    assert ours > scipy_p + 1e-3
    assert ours == pytest.approx(R.barnard_brute(1, 7, 5, 8, grid=1000), abs=1e-4)


def test_cialdini_e1_pearson_chi2_is_hand_value():
    r = pearson_chi2([[12, 12], [10, 38]])
    assert r.statistic == pytest.approx(float(R.CIALDINI_E1_CHI2_MAIN), rel=1e-12)
    assert str(r) == f"χ²(1, N = 72) = {float(R.CIALDINI_E1_CHI2_MAIN):.2f}, p = .011"


def test_omnibus_matches_hand_formula():
    table = [[12, 12], [6, 18], [4, 20]]
    r = omnibus_chi2([(12, 24), (6, 24), (4, 24)])
    assert r.df == 2 and r.n == 72
    assert r.statistic == pytest.approx(R.pearson_kx2(table))


def test_omnibus_drops_empty_condition_with_note():
    r = omnibus_chi2([(12, 24), (0, 0), (4, 24)])
    assert r.df == 1 and any("empty" in n for n in r.notes)
    r1 = omnibus_chi2([(12, 24), (0, 0)])
    assert math.isnan(r1.statistic) and r1.notes


def test_small_expected_count_warns():
    with pytest.warns(SmallExpectedCountWarning):
        pearson_chi2([[1, 4], [4, 1]])


@pytest.mark.parametrize("x1,n1,x2,n2", [(0, 10, 0, 12), (10, 10, 12, 12), (0, 10, 6, 12), (5, 10, 0, 0),
                                         (0, 0, 0, 0)])
def test_degenerate_tables_do_not_crash(x1, n1, x2, n2):
    with pytest.warns(DegenerateTableWarning):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallExpectedCountWarning)
            r = compare_proportions(x1, n1, x2, n2)
    assert r.notes
    d = r.to_dict()
    json.dumps(d, allow_nan=False)  # NaN became None
    if n1 == 0 or n2 == 0:
        assert math.isnan(r.chi2) and math.isnan(r.fisher_p) and d["odds_ratio"] is None
    elif x1 + x2 in (0, n1 + n2):
        assert math.isnan(r.chi2) and d["chi2"] is None
        assert r.fisher_p == pytest.approx(1.0) and r.barnard_p == pytest.approx(1.0)
        assert r.haldane_corrected
    else:
        assert r.chi2 == pytest.approx(R.pearson_2x2(x1, n1 - x1, x2, n2 - x2))
        assert r.haldane_corrected


def _people(counts):
    return frame_from_counts("cialdini1975", 1, counts)


def test_logit_two_groups_coefficient_is_log_odds_ratio():
    d = _people({"rejection_moderation": (12, 24), "smaller_request_only": (4, 24)})
    r = logistic_regression(d, reference="smaller_request_only")
    (term,) = r.terms
    assert term.condition == "rejection_moderation"
    assert term.coef == pytest.approx(math.log((12 * 20) / (12 * 4)), rel=1e-6)
    # Wald SE of a log OR is Woolf's
    assert term.se == pytest.approx(math.sqrt(1 / 12 + 1 / 12 + 1 / 4 + 1 / 20), rel=1e-6)


def test_logit_lr_test_equals_g_statistic():
    counts = {"rejection_moderation": (12, 24), "exposure_control": (6, 24), "smaller_request_only": (4, 24)}
    r = logistic_regression(_people(counts), reference="exposure_control")
    assert r.reference == "exposure_control" and r.lr_df == 2
    assert r.lr_chi2 == pytest.approx(R.g_statistic([[12, 12], [6, 18], [4, 20]]), rel=1e-6)
    ors = {t.condition: t.odds_ratio for t in r.terms}
    assert ors["rejection_moderation"] == pytest.approx((12 / 12) / (6 / 18), rel=1e-6)
    assert ors["smaller_request_only"] == pytest.approx((4 / 20) / (6 / 18), rel=1e-6)


def test_logit_separation_gives_note_not_crash():
    d = _people({"rejection_moderation": (0, 10), "smaller_request_only": (4, 24)})
    r = logistic_regression(d, reference="smaller_request_only")
    assert "separation" in r.notes[0]
    # issue 16 item 6: the LR test is valid under separation and is reported; the term is Firth's
    assert r.lr_chi2 == pytest.approx(R.g_statistic([[0, 10], [4, 20]]), rel=1e-9)
    (term,) = r.terms
    assert term.method.startswith("Firth")


@pytest.mark.parametrize("p,txt", [(0.011318, "p = .011"), (0.0004, "p < .001"), (0.5, "p = .500"),
                                   (0.99999, "p > .999"), (float("nan"), "p = NA")])
def test_format_p(p, txt):
    assert format_p(p) == txt


def test_apa_sentence_of_contrast():
    r = compare_proportions(12, 24, 10, 48, treatment="rejection_moderation",
                            control=("exposure_control", "smaller_request_only"), warn=False)
    s = str(r)
    assert "χ²(1, N = 72) = 6.41, p = .011" in s
    assert "RD = .29" in s and "OR = 3.80" in s and "0.29" not in s.split("RD")[1][:8]
    d = r.to_dict()
    assert d["control"] == "exposure_control + smaller_request_only"
    assert isinstance(ChiSquareResult(float("nan"), 1, 0, float("nan")).to_dict()["statistic"], type(None))
