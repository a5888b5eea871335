"""The count analysis (Regan) at pilot sizes and on degenerate data (issue 16, items 1-5).

Reference values were computed in R 4.2.2 (car 3.1, MASS 7.3) on the data written
out below; each R call is given beside its numbers.
"""
from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import paradigms
from analysis.stats.counts import analyze_count_plan, anova_table, negative_binomial
from paradigms.cli import main

REGAN = paradigms.get("regan1971")

# 12 participants per cell (NB2 draws, mean ratio 3 : 2.2 : 1.6 : 1.2 : 1.5 : 0.9, alpha 0.5)
CELLS = {
    ("confederate_favor", "pleasant"): [0, 3, 1, 2, 4, 3, 1, 8, 7, 0, 2, 0],
    ("confederate_favor", "unpleasant"): [1, 2, 3, 2, 0, 5, 1, 0, 2, 9, 2, 1],
    ("experimenter_favor", "pleasant"): [1, 1, 2, 1, 2, 3, 0, 0, 0, 1, 0, 0],
    ("experimenter_favor", "unpleasant"): [0, 0, 1, 1, 0, 0, 2, 1, 1, 1, 0, 0],
    ("no_favor", "pleasant"): [2, 0, 1, 0, 1, 5, 4, 0, 5, 1, 5, 5],
    ("no_favor", "unpleasant"): [0, 0, 0, 1, 2, 2, 0, 5, 1, 1, 0, 0],
}
# fewer tickets than a Poisson would spread: the NB2 likelihood is largest at alpha = 0
UNDER = {
    ("confederate_favor", "pleasant"): [2, 3, 2, 3, 2, 3], ("confederate_favor", "unpleasant"): [1, 2, 1, 2, 2, 1],
    ("experimenter_favor", "pleasant"): [1, 1, 2, 1, 2, 1], ("experimenter_favor", "unpleasant"): [1, 1, 1, 2, 1, 1],
    ("no_favor", "pleasant"): [2, 1, 2, 1, 2, 2], ("no_favor", "unpleasant"): [1, 0, 1, 1, 1, 1],
}


def frame(cells, drop=()):
    rows = [{"favor": a, "liking": b, "tickets": y, "liking_score": 4 + (i % 5) - 2 * (y % 2), "excluded": 0,
             "data_consent": 1}
            for (a, b), ys in cells.items() if (a, b) not in drop for i, y in enumerate(ys)]
    return pd.DataFrame(rows)


def analyze_cli(tmp_path, participants, seed):
    d = tmp_path / f"n{participants}-s{seed}"
    assert main(["simulate", "regan1971", "--participants", str(participants), "--seed", str(seed),
                 "--data-dir", str(d), "--quiet"]) == 0
    from analysis.cli import cmd_analyze
    import argparse
    out = io.StringIO()
    assert cmd_analyze(argparse.Namespace(paths=[str(d)], json=False, plot=None), out=out) == 0
    return out.getvalue()


# --- item 1: valid data at any n -------------------------------------------------
@pytest.mark.parametrize("participants,seeds", [(12, range(1, 13)), (6, range(3)), (9, range(3)), (1, range(2)),
                                                (2, range(2))])
def test_simulate_then_analyze_never_crashes_at_pilot_sizes(tmp_path, capsys, participants, seeds):
    # before: OverflowError (math.exp of a Wald bound), "array must not contain infs or NaNs",
    # "must have at least one row in constraint matrix"
    said_not_estimable = 0
    for seed in seeds:
        text = analyze_cli(tmp_path, participants, seed)
        assert f"N = {participants} analysed" in text
        assert "Traceback" not in text and "nan" not in text.lower().replace("nana", "")
        said_not_estimable += "not estimable" in text
        if participants <= 6:
            assert "not computed" in text or "undefined" in text  # says plainly what cannot be done
    if participants == 12:
        assert said_not_estimable > 0  # some of these seeds do have a cell without tickets


def test_a_cell_without_tickets_gives_lr_tests_and_says_which_terms_are_not_estimable():
    cells = dict(CELLS)
    cells[("experimenter_favor", "unpleasant")] = [0] * 12
    res = analyze_count_plan(frame(cells), REGAN.experiment(1))
    for glm in (res.poisson, res.negative_binomial):
        assert all(math.isfinite(t.chi2) for t in glm.tests)
        bad = [t for t in glm.terms if math.isnan(t.rate_ratio)]
        assert bad and all("not estimable" in t.notes[0] for t in bad)
        # the estimable terms are finite (no overflow into inf)
        assert all(math.isfinite(t.rr_high) for t in glm.terms if t not in bad)
    assert "experimenter_favor x unpleasant has no tickets" in str(res)


# --- item 2: type II by model comparison with an empty cell (R: car::Anova) ----------
def test_type_two_anova_with_an_empty_cell_matches_car():
    # R: d <- read.csv(...)  (CELLS without experimenter_favor x unpleasant)
    #    car::Anova(lm(tickets ~ favor * liking, data = d), type = 2)
    #    favor 26.80555556, 2 df, F 3.15810, p 0.05031; liking 8.33333333, 1, 1.96358, 0.16675;
    #    favor:liking 4.08333333, 1, 0.96216, 0.33094; Residuals 233.41666667, 55
    d = frame(CELLS, drop={("experimenter_favor", "unpleasant")})
    terms = {t.term: t for t in anova_table(d, "tickets", "favor", "liking")}
    for name, ss, df1, F, p in (("favor", 26.80555556, 2, 3.15810, 0.05031),
                                ("liking", 8.33333333, 1, 1.96358, 0.16675),
                                ("favor x liking", 4.08333333, 1, 0.96216, 0.33094)):
        t = terms[name]
        assert t.ss == pytest.approx(ss, rel=1e-8) and t.df1 == df1 and t.df2 == 55
        assert t.F == pytest.approx(F, abs=5e-6) and t.p == pytest.approx(p, abs=5e-6)
    assert terms["Residual"].ss == pytest.approx(233.41666667, rel=1e-9)
    res = analyze_count_plan(d, REGAN.experiment(1))
    assert "fitted to the 5 cells present" in str(res)
    vs_ef = next(c for c in res.contrasts if c.control == ("experimenter_favor",))
    assert vs_ef.weights == {"confederate_favor|pleasant": 0.5, "confederate_favor|unpleasant": 0.5,
                             "experimenter_favor|pleasant": -1.0}
    assert any("weights change" in n for n in vs_ef.notes) and "weights change" in str(vs_ef)
    vs_nf = next(c for c in res.contrasts if c.control == ("no_favor",))
    assert not vs_nf.notes
    # the pooled error of the contrast is the within-cell one of the 5 cells present
    assert vs_ef.df == 55
    assert vs_ef.se == pytest.approx(math.sqrt(233.41666667 / 55 * (0.25 / 12 * 2 + 1 / 12)), rel=1e-8)


# --- item 3: constant counts -------------------------------------------------------
def test_constant_counts_give_an_undefined_test_not_rounding_noise():
    cells = {k: [1] * 5 for k in CELLS}
    res = analyze_count_plan(frame(cells), REGAN.experiment(1))
    for t in res.anova[:3]:
        assert math.isnan(t.F) and math.isnan(t.p) and t.ss == 0
        assert "do not vary" in t.notes[0]
    assert "do not vary (every participant has tickets = 1)" in str(res)
    assert all(math.isnan(c.t) for c in res.contrasts)


# --- item 4: NB2 alpha at the maximum, the boundary, the CI (R: MASS::glm.nb) ---------
def test_nb2_alpha_is_at_the_profile_maximum_as_in_glm_nb():
    # R: f$favor <- relevel(f$favor, "no_favor"); f$liking <- relevel(f$liking, "unpleasant")
    #    m <- MASS::glm.nb(tickets ~ favor * liking, data = f, control = glm.control(epsilon = 1e-12, maxit = 100))
    #    1 / m$theta = 0.521577652082; logLik(m) = -118.181705274;
    #    SE of favorconfederate_favor 0.453847141368, of the cf x pleasant interaction 0.599706311077
    #    profile: optimize(-logLik(glm(..., family = negative.binomial(1 / a))), c(.01, 5), tol = 1e-12)
    #    gives 0.521577650338; the 95% profile CI (uniroot of 2 (l - prof(a)) = qchisq(.95, 1)):
    #    [0.198675996154, 1.06790523962]
    nb = negative_binomial(frame(CELLS), "tickets", "favor", "liking", "no_favor", "unpleasant")
    assert nb.alpha == pytest.approx(0.52157765, rel=1e-8)
    assert nb.loglik == pytest.approx(-118.181705274, abs=1e-8)
    se = {t.term: t.se for t in nb.terms}
    assert se["favor[confederate_favor]"] == pytest.approx(0.453847141368, rel=1e-7)
    assert se["favor[confederate_favor]:liking[pleasant]"] == pytest.approx(0.599706311077, rel=1e-7)
    assert (nb.alpha_ci_low, nb.alpha_ci_high) == pytest.approx((0.198675996154, 1.06790523962), rel=1e-7)
    assert not nb.alpha_at_boundary and "(profile)" in str(nb)


def test_nb2_at_the_boundary_is_the_poisson_model():
    # R: logLik(glm(tickets ~ favor * liking, family = poisson)) = -43.4154850118;
    #    MASS::glm.nb reports theta = 162863.98 and logLik -43.4156282842 (below the Poisson one);
    #    profile logLik at alpha = 1e-6, 1e-4, 1e-2: -43.4155083783 -43.4178182032 -43.6474168021 (decreasing)
    #    upper 95% profile bound: uniroot(2 (lpois - prof(a)) - qchisq(.95, 1)) = 0.0864776026663
    nb = negative_binomial(frame(UNDER), "tickets", "favor", "liking", "no_favor", "unpleasant")
    assert nb.alpha == 0 and nb.alpha_at_boundary
    assert nb.loglik == pytest.approx(-43.4154850118, abs=1e-9)
    assert nb.alpha_ci_low == 0 and nb.alpha_ci_high == pytest.approx(0.0864776026663, rel=1e-7)
    assert "reduces to the Poisson model" in str(nb) and "alpha = 0" in str(nb)


# --- item 5: nobody bought a ticket ----------------------------------------------------
def test_nobody_bought_a_ticket_says_what_is_wrong_with_the_data():
    res = analyze_count_plan(frame({k: [0] * 4 for k in CELLS}), REGAN.experiment(1))
    assert not res.poisson.computed and not res.negative_binomial.computed
    text = str(res)
    assert "nobody has tickets > 0 (all 24 counts are 0)" in text and "check that tickets was recorded" in text
    assert "should be reported" not in text
    assert res.to_dict()["poisson"]["computed"] is False
