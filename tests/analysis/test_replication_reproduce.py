"""reproduce(): published figures beside recomputed ones."""
import json
import math

import pytest
from scipy.stats import chi2_contingency

from analysis import ReferenceDataError, reproduce
from analysis.replication.reproduce import agreement, attainable_counts
from tests import reference_values as R


@pytest.fixture(scope="module")
def e1():
    (rep,) = reproduce("cialdini1975", 1)
    return rep


def _check(rep, statistic, condition, control=""):
    (c,) = [c for c in rep.checks if c.statistic == statistic and c.condition == condition and c.control == control]
    return c


def test_cialdini_e1_main_chi2_matches_with_uncorrected_pearson(e1):
    c = _check(e1, "chi2", "rejection_moderation", "exposure_control+smaller_request_only")
    assert c.published == R.CIALDINI_E1_PUBLISHED["chi2_main"]
    assert c.recomputed == pytest.approx(float(R.CIALDINI_E1_CHI2_MAIN))
    assert c.match is True
    assert c.method == "Pearson χ² without continuity correction"
    # and Yates would not have matched: computed independently
    yates = R.pearson_2x2(12, 12, 10, 38, yates=True)
    assert agreement(yates, 6.42, 2) == "mismatch"


def test_cialdini_e1_p_matches_exactly_two_tailed(e1):
    c = _check(e1, "p", "rejection_moderation", "exposure_control+smaller_request_only")
    assert c.match is True and c.agreement == "exact"
    assert c.recomputed == pytest.approx(R.chi2_sf_1df(float(R.CIALDINI_E1_CHI2_MAIN)))
    assert "two-tailed" in c.method and "Yates" not in c.method


def test_cialdini_e1_controls_chi2(e1):
    c = _check(e1, "chi2", "exposure_control", "smaller_request_only")
    assert c.recomputed == pytest.approx(float(R.CIALDINI_E1_CHI2_CONTROLS))
    assert c.match is True
    ref = chi2_contingency([[6, 18], [4, 20]], correction=False).statistic
    assert abs(ref - 0.50) <= 0.01  # within one unit of the printed digit, as the check says


def test_course_page_swap_is_a_mismatch_shown_beside_the_table(e1):
    rates = [c for c in e1.checks if c.statistic == "rate" and c.condition == "exposure_control"]
    assert {(c.as_printed, c.match) for c in rates} == {("25.0%", True), ("16.7%", False)}
    assert any("exposure_control" in s and "16.7%" in s and "25.0%" in s for s in e1.conflicts)


def test_burger_45_percent_is_not_attainable_with_30():
    (b1,) = reproduce("burger1986", 1)
    c45 = [c for c in b1.checks if c.statistic == "rate" and c.as_printed == "45%"][0]
    assert c45.match is False and "not attainable" in c45.note
    assert attainable_counts(0.45, 2, 30) == []                  # 13/30 = .433, 14/30 = .467
    assert attainable_counts(0.73, 2, 30) == [22]


def test_pollock_effect_sizes_from_rates_and_no_tests():
    (p1,) = reproduce("pollock1998", 1)
    h = _check(p1, "cohens_h", "cheap_thats_not_all", "cheap_control")
    assert h.recomputed == pytest.approx(R.cohens_h(0.76, 0.45))
    chi = _check(p1, "chi2", "cheap_thats_not_all", "cheap_control")
    assert chi.recomputed is None and chi.match is None
    assert any("cell" in s for s in p1.cannot)


def test_regan_means_cannot_be_tested():
    (r1,) = reproduce("regan1971", 1)
    means = [c for c in r1.checks if c.statistic == "mean"]
    assert len(means) == 6 and all(c.match is None for c in means)
    assert any(s.startswith("sd") for s in r1.cannot)
    rd = _check(r1, "risk_difference", "confederate_favor", "experimenter_favor+no_favor")
    assert rd.recomputed == pytest.approx(0.58 - 0.25)


def test_every_study_in_the_reference_data_reproduces():
    from analysis import load_published
    for study in sorted(set(load_published()["study"])):
        for rep in reproduce(study):
            assert rep.checks
            json.dumps(rep.to_dict(), allow_nan=False)


def test_json_keys(e1):
    d = e1.to_dict()
    assert {"study", "experiment", "checks"} <= set(d)
    assert {"statistic", "published", "recomputed", "match", "method"} <= set(d["checks"][0])


def test_unknown_study_and_experiment():
    with pytest.raises(ReferenceDataError, match="unknown study 'nobody'"):
        reproduce("nobody")
    with pytest.raises(ReferenceDataError, match="no experiment 9"):
        reproduce("cialdini1975", 9)


@pytest.mark.parametrize("rec,pub,dec,want", [(0.011319, 0.011, 3, "exact"), (6.4145, 6.42, 2, "within_last_digit"),
                                              (5.1136, 6.42, 2, "mismatch"), (0.0125, 0.011, 3, "mismatch"),
                                              (math.nan, 1.0, 2, "not_computable")])
def test_agreement(rec, pub, dec, want):
    assert agreement(rec, pub, dec) == want
