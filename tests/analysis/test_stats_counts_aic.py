"""The NB2 AIC counts alpha as a parameter, as MASS::glm.nb counts theta (issue 25.5).

R 4.2, MASS 7.3 (``d`` is the frame written by the test: ``frame_from_tickets()``, tickets replaced
as below)::

    d <- read.csv("tickets.csv")
    d$favor <- relevel(factor(d$favor), "no_favor"); d$liking <- relevel(factor(d$liking), "unpleasant")
    m <- glm.nb(tickets ~ favor * liking, data=d, control=glm.control(epsilon=1e-12, maxit=100))
    print(c(AIC(m), m$twologlik/2, 1/m$theta, length(coef(m))), digits=15)
    # frame_from_tickets() as it is:     168.729480603893052 -77.364740301946526 0.380693717820155 6
    # tickets = 2, 3, 2, 3, ... (no overdispersion: alpha on its boundary, theta -> Inf; glm.nb warns)
    #                                    153.365737915039    -69.6828689575195   5.5e-09           6
"""
from __future__ import annotations

import pytest

from analysis.load.synthetic import frame_from_tickets
from analysis.stats.counts import METHODS, negative_binomial


def _fit(df):
    return negative_binomial(df, "tickets", "favor", "liking", "no_favor", "unpleasant")


def test_nb_aic_equals_glm_nb_with_alpha_counted():
    f = _fit(frame_from_tickets())
    assert f.aic == pytest.approx(168.729480603893052, rel=1e-10)
    assert f.aic == pytest.approx(2 * (6 + 1) - 2 * f.loglik, rel=1e-12)


def test_nb_aic_counts_alpha_on_its_boundary_too():
    df = frame_from_tickets()
    df["tickets"] = [2 + (i % 2) for i in range(len(df))]
    f = _fit(df)
    assert f.alpha_at_boundary and f.alpha == 0.0
    # glm.nb stops at a large finite theta, so its log-likelihood is ~3e-6 below the limit
    assert f.aic == pytest.approx(153.365737915039, rel=1e-7)
    assert f.aic == pytest.approx(2 * 7 - 2 * f.loglik, rel=1e-12)
    assert "glm.nb" in METHODS["aic"]
