"""Simulated power of a multi-site replication (issue 26.5): :mod:`analysis.power.multisite`.

Every rate compared here is checked against a reference computed another way (a fixed-effect
Woolf pooling written out in numpy below; alpha under H0), within a tolerance of three
Monte-Carlo standard errors derived from the number of simulations; one replicate's pooling is
checked against metafor (the R call and its output are recorded below).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from analysis.errors import AnalysisError
from analysis.power import multisite as ms
from analysis.power.multisite import multisite_power, multisite_power_rates, multisite_tables, pool_sites


def _mc_se(p: float, sims: int) -> float:
    return math.sqrt(p * (1 - p) / sims)


def _woolf_fixed_effect_rejects(p1, p2, n, sites, sims, seed, alpha=0.05) -> np.ndarray:
    """The same draws (replicate i from SeedSequence(seed).spawn(sims)[i]) pooled by the fixed-effect
    inverse-variance (Woolf) method, written out here: 0.5 added to every cell of a table with a zero cell,
    mu = sum(w y) / sum(w), z = mu sqrt(sum w), two-sided."""
    out = []
    for child in np.random.SeedSequence(seed).spawn(sims):
        x1, x2 = multisite_tables(p1, p2, n, n, sites, 0.0, np.random.default_rng(child))
        a, b, c, d = (np.asarray(v, dtype=float) for v in (x1, n - x1, x2, n - x2))
        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        a, b, c, d = (v + 0.5 * zero for v in (a, b, c, d))
        y, w = np.log(a * d / (b * c)), 1 / (1 / a + 1 / b + 1 / c + 1 / d)
        mu = (w * y).sum() / w.sum()
        out.append(abs(mu) * math.sqrt(w.sum()) >= norm.isf(alpha / 2))
    return np.array(out)


def test_with_tau_0_and_many_sites_reml_rejects_as_often_as_the_fixed_effect_pooling_of_the_same_draws():
    # tau = 0, 50 sites: the REML estimate of tau^2 is near 0 and the random-effects test is the
    # fixed-effect one; both at a power near .4, where the Monte-Carlo error is largest
    p1, p2, n, sites, sims, seed = 0.28, 0.25, 30, 50, 2000, 5
    r = multisite_power_rates(p1, p2, sites, n, n, tau=0.0, simulations=sims, seed=seed)
    fe = _woolf_fixed_effect_rejects(p1, p2, n, sites, sims, seed)
    assert 0.2 < fe.mean() < 0.8                       # a power where the comparison means something
    assert abs(r.power - fe.mean()) <= 3 * _mc_se(fe.mean(), sims)
    assert r.mc_se == pytest.approx(_mc_se(r.power, sims))
    assert r.rejections == round(r.power * sims) and r.simulations == sims
    # and the pooled estimate is the true log OR on average (no systematic error at n = 30)
    assert r.log_or == pytest.approx(math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2)))
    assert abs(r.estimate_mean - r.log_or) < 0.02


@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_under_h0_the_rejection_rate_is_alpha_within_monte_carlo_error(alternative):
    # equal rates at every site (tau = 0), many sites: the REML z test's size is alpha.  (Not with
    # tau > 0 at p != .5: there a site's weight grows as its rate nears .5, so the weighted mean of the
    # log ORs is not 0 although their mean is; and the Wald test is liberal with few sites, which
    # Hartung-Knapp would fix: neither is a null this test could check.)
    sims, alpha = 2000, 0.05
    r = multisite_power_rates(0.3, 0.3, 50, 50, 50, tau=0.0, simulations=sims, seed=11, alpha=alpha,
                              alternative=alternative)
    assert abs(r.power - alpha) <= 3 * _mc_se(alpha, sims), r.power
    assert r.alternative == alternative and r.log_or == 0.0


def test_under_h0_at_tau_0_the_reml_test_is_not_liberal():
    # at the boundary tau = 0 REML often estimates tau^2 > 0, which widens the CI: the test's size is at
    # most alpha (conservative), never above it beyond Monte-Carlo error
    sims = 2000
    r = multisite_power_rates(0.3, 0.3, 20, 50, 50, tau=0.0, simulations=sims, seed=11)
    assert r.power <= 0.05 + 3 * _mc_se(0.05, sims)
    assert 0.3 < r.tau2_zero < 0.8           # REML's tau^2 is 0 in about half the replications


def test_one_replicate_is_pooled_as_metafor_pools_it():
    # R 4.2.2, metafor:
    #   dat <- escalc("OR", ai=c(12,0,9,15,7), n1i=rep(20,5), ci=c(5,3,9,4,2), n2i=rep(40,5), add=1/2, to="only0")
    #   r <- rma(yi, vi, data=dat, method="REML", test="z"); p <- predict(r)
    #   sprintf("%.10f", c(r$b, r$se, r$zval, r$pval, r$tau2, p$pi.lb, p$pi.ub))
    #   "1.8494005491" "0.5845910455" "3.1635800161" "0.0015584151" "1.0166174925" "-0.4349155569" "4.1337166552"
    row = dict(zip(ms.COLUMNS, pool_sites([12, 0, 9, 15, 7], 20, [5, 3, 9, 4, 2], 40)))
    expected = dict(estimate=1.8494005491, se=0.5845910455, statistic=3.1635800161, pvalue=0.0015584151,
                    tau2=1.0166174925, pi_low=-0.4349155569, pi_high=4.1337166552)
    for k, v in expected.items():
        assert row[k] == pytest.approx(v, abs=1e-5), k      # metafor's REML stops at a tolerance of 1e-5
    assert row["corrected"] == 1 and row["converged"] == 1


def test_the_treatment_arm_is_shifted_on_the_log_odds_scale_and_the_control_is_not():
    rng = np.random.default_rng(3)
    x1, x2 = multisite_tables(0.4, 0.2, 10 ** 6, 10 ** 6, 400, 0.5, rng)
    logit1 = np.log(x1 / (10 ** 6 - x1))
    assert np.std(logit1 - math.log(0.4 / 0.6), ddof=1) == pytest.approx(0.5, rel=0.1)   # SD tau, 400 sites
    assert np.allclose(x2 / 10 ** 6, 0.2, atol=0.003)
    x1, _ = multisite_tables(0.4, 0.2, 10 ** 6, 10 ** 6, 5, 0.0, rng)
    assert np.allclose(x1 / 10 ** 6, 0.4, atol=0.003)


def test_the_same_result_for_any_number_of_jobs():
    one = multisite_power_rates(0.5, 0.3, 6, 25, 25, tau=0.3, simulations=60, seed=4, jobs=1)
    two = multisite_power_rates(0.5, 0.3, 6, 25, 25, tau=0.3, simulations=60, seed=4, jobs=2)
    assert one.to_dict() == two.to_dict()
    other = multisite_power_rates(0.5, 0.3, 6, 25, 25, tau=0.3, simulations=60, seed=5, jobs=1)
    assert other.to_dict() != one.to_dict()              # the seed matters: the check above can fail


def test_a_declared_contrast_takes_its_rates_allocation_alpha_and_sidedness_from_design_of():
    from analysis.power.design import design_of

    d = design_of("cialdini1975", 1, 0)
    r = multisite_power("cialdini1975", 1, 0, sites=4, n=15, tau=0.2, simulations=10, seed=1)
    assert (r.p_treatment, r.p_control) == (d.p1, d.p2)
    assert (r.n_treatment, r.n_control) == (15 * len(d.treatment), 15 * len(d.control)) == (15, 30)
    assert (r.alpha, r.alternative) == (d.alpha_per_test, d.alternative)
    assert r.contrast == d.label and r.study == "cialdini1975"
    text = str(r)
    assert text.startswith("SIMULATED: cialdini1975 Experiment 1") and "REML" in text
    d_json = r.to_dict()
    assert d_json["data"] == "SIMULATED" and d_json["odds_ratio"] == pytest.approx(math.exp(r.log_or))
    frame = r.to_frame()
    assert frame.loc[0, "estimate"] == r.power and frame.loc[0, "n"] == 10


@pytest.mark.parametrize("kwargs,match", [
    (dict(sites=1), "sites = 1 must be a whole number >= 2"),
    (dict(tau=-0.1), "tau = -0.1"),
    (dict(tau=float("nan")), "tau = nan"),
    (dict(p1=1.0), "treatment rate 1.0"),
    (dict(alternative="up"), "alternative 'up'"),
    (dict(simulations=0), "simulations = 0"),
])
def test_bad_arguments_are_one_line_errors(kwargs, match):
    args = dict(p1=0.5, p2=0.3, sites=5, n1=20, tau=0.2, simulations=5)
    args.update(kwargs)
    with pytest.raises(AnalysisError, match=match) as e:
        multisite_power_rates(**args)
    assert "\n" not in str(e.value)


def test_knha_keeps_its_alpha_with_few_heterogeneous_sites_where_z_does_not():
    """Equal rates, 4 sites, τ = 0.5: the REML Wald z test rejects well above α (it ignores the
    uncertainty of τ²); the Hartung-Knapp-Sidik-Jonkman t test (K − 1 df) stays within Monte-Carlo
    error of α.  The same draws for both (same seed): only the pooled test differs."""
    z = multisite_power_rates(0.3, 0.3, sites=4, n1=50, tau=0.5, simulations=2000, seed=1)
    kh = multisite_power_rates(0.3, 0.3, sites=4, n1=50, tau=0.5, simulations=2000, seed=1, test="knha")
    se = math.sqrt(0.05 * 0.95 / 2000)
    assert z.power > 0.05 + 4 * se and abs(kh.power - 0.05) < 3 * se
    assert (kh.tau2_mean, kh.estimate_mean) == (z.tau2_mean, z.estimate_mean)
    assert "Hartung-Knapp-Sidik-Jonkman t test" in str(kh) and kh.test == "knha"


def test_knha_one_sided_rejections_use_t_with_k_minus_1_df():
    """One-sided (greater) with knha: a replicate rejects when P(T_{K-1} >= t) <= α; the two-sided p the
    pooling reports is twice the smaller tail of that same t distribution."""
    from scipy import stats

    from analysis.power.multisite import COLUMNS, _rejected, multisite_tables, pool_sites

    rows = np.array([pool_sites(*_tables(s), level=0.95, test="knha") for s in range(40)])
    t, p2 = rows[:, COLUMNS.index("statistic")], rows[:, COLUMNS.index("pvalue")]
    assert np.allclose(p2, 2 * stats.t.sf(np.abs(t), 4), rtol=1e-10)
    assert (_rejected(rows, 0.05, "greater", "knha", 5) == (stats.t.sf(t, 4) <= 0.05)).all()


def _tables(seed):
    from analysis.power.multisite import multisite_tables

    x1, x2 = multisite_tables(0.45, 0.3, 30, 30, 5, 0.3, np.random.default_rng(seed))
    return x1, 30, x2, 30


def test_an_unknown_pooled_test_is_a_one_line_error():
    with pytest.raises(AnalysisError, match="test 'hk': expected one of z, knha"):
        multisite_power_rates(0.5, 0.3, sites=5, n1=20, test="hk")


def test_unpublished_rates_are_one_whole_line_from_both_functions():
    """kunz1976's rates are not published: multisite_power and multisite_sample_size say so in the same
    line, its reason whole (the closing brackets were once stripped with an empty reason's)."""
    from analysis.power.multisite import multisite_power, multisite_sample_size

    msgs = []
    for f in (lambda: multisite_power("kunz1976", 1, 0, 4, 10, 0.2),
              lambda: multisite_sample_size("kunz1976", 1, 0, sites=4, tau=0.2)):
        with pytest.raises(AnalysisError) as e:
            f()
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1] and "not computable" in msgs[0] and "\n" not in msgs[0]
    assert msgs[0].count("(") == msgs[0].count(")")
