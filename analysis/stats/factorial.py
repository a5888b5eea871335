"""Technique × price interaction of a binary outcome (Pollock et al., 1998).

The claim of Pollock, Smith, Knowles & Bruce (1998) is an interaction: the
that's-not-all technique raises buying of a cheap box but not of an expensive
one.  :func:`technique_by_price` fits the logistic regression::

    complied ~ C(technique, Treatment('control')) * C(price, Treatment('1')) [+ C(reason)]

with ``statsmodels.formula.api.logit`` (Newton-Raphson, pinned), and reports

* the interaction as a **ratio of odds ratios** (the odds ratio of the
  technique at the other price divided by the one at the reference price),
  with its Wald CI and p, and a likelihood-ratio test of the same term;
* the **simple effect** of the technique at each price: the risk difference
  from the counts pooled over any covariate, with Newcombe's hybrid score CI
  (``confint_proportions_2indep(method="newcomb", compare="diff")``), and the
  model's odds ratio at that price with its Wald CI and p;
* with a reason factor, a likelihood-ratio test of whether the technique ×
  price interaction differs between reasons (the three-way term).

Under separation (a rate of 0 or 1 in a technique × price cell or a reason
level, or any pattern a linear programme finds) the maximum-likelihood estimate
does not exist as a finite point.  The fit is then taken at its limit (the
separated cells fitted exactly, the rest by ML: the values R's ``glm``
approaches), and the result reports what is estimable: the interaction's
likelihood-ratio test (model comparison of maximised likelihoods, valid under
separation); each term that stays finite at the limit with its Wald CI and z;
a simple effect whose ML odds ratio is 0 or infinite as Firth's penalised
estimate with a profile penalised-likelihood CI and a penalised LR test
(``method="firth"``); a ratio of odds ratios that is 0 or infinite as not
estimable (``method="none"``, ``not_estimable`` says why).  Notes say which.

Input is tidy data as the session CSVs give it, one row per participant:
``complied``, ``excluded``, ``data_consent`` and the factor columns.  Rows with
``excluded == 1`` and rows with ``data_consent == 0`` (withdrawn) are dropped.
Degenerate data (an empty cell, separation) never raise: a quantity that cannot
be estimated is NaN and ``notes`` say why.  Malformed input (a missing column, an unknown technique level, not
exactly two prices) raises :class:`~analysis.errors.AnalysisError`.

This module does not import PsychoPy.
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError
from analysis.results import LikelihoodRatioTest, Result, format_number, format_p
from analysis.load.status import ANALYSED, EXCLUDED, WITHDRAWN, participant_status

__all__ = ["METHODS", "SimpleEffect", "InteractionTerm", "LikelihoodRatioTest", "TechniqueByPrice",
           "technique_by_price"]

#: The methods used; pinned here rather than left to library defaults.
METHODS = {
    "model": "statsmodels.formula.api.logit, fit(method='newton', maxiter=100)",
    "coef_ci": "Wald, normal quantile",
    "interaction_test": "Wald z of the interaction coefficient; likelihood-ratio chi2(1) beside it",
    "rd_ci": "newcomb (confint_proportions_2indep(method='newcomb', compare='diff'))",
    "simple_or": "model-based: exp of the technique coefficient plus, at the other price, the interaction",
    "separation": "ML at its limit: separated cells (found by linear programming) fitted exactly, the rest by "
                  "Newton-Raphson; a term is estimable iff it lies in the row space of the remaining design; "
                  "LR tests from the maximised (supremum) log-likelihoods",
    "firth": "Firth's penalised likelihood (Newton-Raphson on the modified score), profile penalised-likelihood "
             "CI and penalised likelihood-ratio test (as logistf), where the ML simple effect is not finite",
}

_ALPHA = 0.05


# --------------------------------------------------------------------------- #
# Result objects
# --------------------------------------------------------------------------- #
def _ci(lo: float, hi: float, digits: int = 2, leading_zero: bool = True) -> str:
    return f"[{format_number(lo, digits, leading_zero)}, {format_number(hi, digits, leading_zero)}]"


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} ({format_number(100 * k / n, 1)}%)" if n else f"{k}/{n} (NA)"


@dataclass(frozen=True)
class SimpleEffect(Result):
    """The technique against the control at one price.

    ``risk_difference`` (treatment − control) and its Newcombe CI come from the
    counts at this price pooled over any covariate; ``odds_ratio``, its CI,
    ``z`` and ``p`` come from the fitted model (adjusted for the covariate).
    H0: the technique does not change the odds of compliance at this price.

    ``method`` names the estimate: ``"wald"`` (maximum likelihood, Wald CI and
    z test); ``"firth"`` where the ML odds ratio is 0 or infinite (a rate of 0
    or 1 at this price): Firth's penalised estimate, its profile
    penalised-likelihood CI, and ``p`` from the penalised likelihood-ratio
    statistic ``lr_chi2`` on 1 df (``z`` is NaN), and ``not_estimable`` says
    why the ML odds ratio is not available; ``"none"``: not estimable at all,
    ``not_estimable`` says why.
    """

    _aliases = {"statistic": "z", "pvalue": "p", "ci_low": "or_ci_low", "ci_high": "or_ci_high",
                "estimate": "odds_ratio", "term": "price"}
    _measure = "odds ratio"

    price: str
    n_treatment: int
    complied_treatment: int
    n_control: int
    complied_control: int
    rate_treatment: float
    rate_control: float
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    z: float
    p: float
    confidence: float = 0.95
    method: str = "wald"
    lr_chi2: float = math.nan
    not_estimable: str = ""

    def __str__(self) -> str:
        ci = f"{self.confidence:.0%} CI"
        head = (f"price {self.price}: {_pct(self.complied_treatment, self.n_treatment)} vs "
                f"{_pct(self.complied_control, self.n_control)}, "
                f"RD = {format_number(self.risk_difference, leading_zero=False)}, {ci} "
                f"{_ci(self.rd_ci_low, self.rd_ci_high, leading_zero=False)}; ")
        if self.method == "firth":
            return head + (f"OR = {format_number(self.odds_ratio)} (Firth penalised estimate; "
                           f"{self.not_estimable or 'the ML odds ratio is not finite'}), "
                           f"{self.confidence:.0%} profile penalised-likelihood CI "
                           f"{_ci(self.or_ci_low, self.or_ci_high)}, penalised LR χ²(1) = "
                           f"{format_number(self.lr_chi2)}, {format_p(self.p)}")
        if self.method == "none":
            return head + f"OR not estimable ({self.not_estimable or 'no model'})"
        return head + (f"OR = {format_number(self.odds_ratio)}, {ci} {_ci(self.or_ci_low, self.or_ci_high)}, "
                       f"z = {format_number(self.z)}, {format_p(self.p)}")


@dataclass(frozen=True)
class InteractionTerm(Result):
    """The technique × price term: ``estimate`` is the ratio of odds ratios.

    ``estimate = exp(coef)`` = OR(technique at the other price) / OR(technique
    at the reference price).  H0: the ratio is 1 (the technique's effect on the
    odds does not depend on price); H1: it is not, two-sided.

    ``method`` is ``"wald"`` (ML estimate, Wald CI and z) or ``"none"``: the
    ML ratio is 0 or infinite under separation, ``not_estimable`` says why,
    and only the likelihood-ratio test (``lr_chi2``, ``lr_p``), which compares
    the two models' maximised likelihoods and stays valid, is reported.
    """

    _aliases = {"statistic": "z", "pvalue": "p", "estimate": "estimate", "term": "term"}
    _measure = "ratio of odds ratios"

    term: str
    estimate: float
    ci_low: float
    ci_high: float
    p: float
    coef: float
    se: float
    z: float
    lr_chi2: float
    lr_p: float
    model_term: str
    confidence: float = 0.95
    method: str = "wald"
    not_estimable: str = ""

    def __str__(self) -> str:
        if self.method == "none":
            return (f"{self.term}: ratio of odds ratios not estimable ({self.not_estimable or 'no model'}); "
                    f"LR χ²(1) = {format_number(self.lr_chi2)}, {format_p(self.lr_p)}")
        return (f"{self.term}: ratio of odds ratios = {format_number(self.estimate)}, "
                f"{self.confidence:.0%} CI {_ci(self.ci_low, self.ci_high)}, b = {format_number(self.coef)}, "
                f"SE = {format_number(self.se)}, z = {format_number(self.z)}, {format_p(self.p)}; "
                f"LR χ²(1) = {format_number(self.lr_chi2)}, {format_p(self.lr_p)}")


@dataclass(frozen=True)
class TechniqueByPrice(Result):
    """Everything :func:`technique_by_price` reports."""

    formula: str
    method: str
    n: int
    n_excluded: int
    n_withdrawn: int
    treatment: str
    control: str
    reference_price: str
    other_price: str
    covariates: tuple[str, ...]
    interaction: InteractionTerm
    simple_effects: tuple[SimpleEffect, ...]
    reason_moderation: Optional[LikelihoodRatioTest]
    converged: bool
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        lines = [f"Logistic regression {self.formula}, N = {self.n} "
                 f"(excluded {self.n_excluded}, withdrawn {self.n_withdrawn}, not analysed)",
                 f"  Interaction {self.interaction}",
                 f"  Simple effects of {self.treatment} vs {self.control}:"]
        lines += [f"    {s}" for s in self.simple_effects]
        if self.reason_moderation is not None:
            lines.append(f"  {self.reason_moderation}")
        lines += [f"  Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["apa"] = str(self.interaction)
        return d


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _sort_levels(levels) -> list[str]:
    try:
        return sorted(levels, key=float)
    except (TypeError, ValueError):
        return sorted(levels)


def _as_str(series: pd.Series) -> pd.Series:
    """Factor levels as plain strings ('5' whether the CSV was read as text or numbers)."""
    def one(v):
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        return str(v)
    return series.map(one).astype(object)


def _fit(formula: str, data: pd.DataFrame):
    """The pinned fit; None and a reason when the MLE does not exist."""
    import statsmodels.formula.api as smf
    from statsmodels.tools.sm_exceptions import PerfectSeparationError, PerfectSeparationWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = smf.logit(formula, data=data).fit(method="newton", maxiter=100, disp=False)
    except (PerfectSeparationError, PerfectSeparationWarning, np.linalg.LinAlgError) as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if not np.all(np.isfinite(fit.bse)):
        return None, "singular information matrix (a cell is empty or a rate is 0 or 1)"
    return fit, ""


def _separated(d: pd.DataFrame, by: list[str], outcome: str) -> list[str]:
    """The groups of ``by`` at rate 0 or 1, as ``"tna / 5 (0/120 complied)"``."""
    g = d.groupby(by, observed=True)[outcome].agg(["sum", "count"])
    return [" / ".join(map(str, k if isinstance(k, tuple) else (k,))) + f" ({int(r['sum'])}/{int(r['count'])} complied)"
            for k, r in g.iterrows() if r["sum"] in (0, r["count"])]


# --------------------------------------------------------------------------- #
# Logistic fits on cell counts under separation (numpy): the ML limit and Firth
# --------------------------------------------------------------------------- #
def _loglik(eta: np.ndarray, k: np.ndarray, n: np.ndarray) -> float:
    """Bernoulli log-likelihood of ``k`` successes of ``n`` per row (no binomial constant)."""
    return float(np.sum(k * eta - n * np.logaddexp(0.0, eta)))


def _newton(X: np.ndarray, k: np.ndarray, n: np.ndarray, maxiter: int = 200):
    """Unpenalised ML by Newton-Raphson with step halving; (beta, cov, llf, converged)."""
    beta = np.zeros(X.shape[1])
    llf = _loglik(X @ beta, k, n)
    converged = False
    for _ in range(maxiter):
        pi = stats.logistic.cdf(X @ beta)
        info = X.T @ (X * (n * pi * (1 - pi))[:, None])
        step = np.linalg.solve(info, X.T @ (k - n * pi))
        t = 1.0
        while t > 1e-8:
            new = beta + t * step
            new_llf = _loglik(X @ new, k, n)
            if new_llf >= llf - 1e-12:
                break
            t /= 2
        beta, delta, llf = new, new_llf - llf, new_llf
        if np.max(np.abs(t * step)) < 1e-10 and abs(delta) < 1e-12:
            converged = True
            break
    pi = stats.logistic.cdf(X @ beta)
    info = X.T @ (X * (n * pi * (1 - pi))[:, None])
    return beta, np.linalg.inv(info), llf, converged


def _separated_rows(X: np.ndarray, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rows that the maximum-likelihood limit fits exactly (rate 0 or 1 reached at infinity).

    Linear programme (Konis, 2007): a direction ``v`` with ``x·v = 0`` on rows
    with both outcomes, ``x·v <= 0`` on rows with none complying, ``x·v >= 0``
    on rows where all complied, maximising the total margin; rows with a
    positive margin go to rate 0 or 1 along ``v``.  Repeated on the remaining
    rows until no direction separates anything.
    """
    from scipy.optimize import linprog

    out = np.zeros(len(k), dtype=bool)
    while True:
        live = ~out
        s = np.where(k == 0, -1.0, np.where(k == n, 1.0, 0.0))
        one_sided, mixed = live & (s != 0), live & (s == 0)
        if not one_sided.any():
            return out
        A = s[one_sided, None] * X[one_sided]
        res = linprog(-A.sum(axis=0), A_ub=-A, b_ub=np.zeros(len(A)),
                      A_eq=X[mixed] if mixed.any() else None, b_eq=np.zeros(int(mixed.sum())) if mixed.any()
                      else None, bounds=[(-1, 1)] * X.shape[1], method="highs")
        if res.status != 0 or -res.fun < 1e-9:
            return out
        margin = (s * (X @ res.x))
        hit = one_sided & (margin > 1e-9)
        if not hit.any():
            return out
        out |= hit


@dataclass
class _Limit:
    """The maximum-likelihood fit as its limit: separated rows fitted exactly, the rest by ML.

    ``llf`` is the supremum of the log-likelihood (the separated rows add 0);
    a linear combination ``L'b`` is estimable iff ``L`` lies in the row space
    of the design of the remaining rows, and then its estimate and Wald SE are
    those of the remaining rows' fit (what an iterative fit such as R's
    ``glm`` approaches as its separated coefficients run off).
    """

    separated: np.ndarray
    llf: float
    converged: bool
    basis: np.ndarray      # V_r S_r^-1: b = basis @ gamma on the row space
    rowspace: np.ndarray   # V_r, orthonormal
    gamma: np.ndarray
    cov: np.ndarray

    def contrast(self, L: np.ndarray):
        """(estimate, SE) of ``L'b``, or None when it is not estimable (infinite)."""
        if self.rowspace.size == 0 or np.linalg.norm(L - self.rowspace @ (self.rowspace.T @ L)) > 1e-8 * max(
                1.0, np.linalg.norm(L)):
            return None
        c = self.basis.T @ L
        return float(c @ self.gamma), float(math.sqrt(max(c @ self.cov @ c, 0.0)))


def _limit_fit(X: np.ndarray, k: np.ndarray, n: np.ndarray) -> _Limit:
    """The ML fit at its limit (:class:`_Limit`)."""
    sep = _separated_rows(X, k, n)
    keep = ~sep
    Xr = X[keep]
    _, sv, vt = np.linalg.svd(Xr, full_matrices=False) if keep.any() else (None, np.zeros(0), np.zeros((0, X.shape[1])))
    r = int(np.sum(sv > 1e-9 * (sv[0] if sv.size else 1.0)))
    V = vt[:r].T
    basis = V / sv[:r]
    if r == 0:
        return _Limit(sep, 0.0, True, basis, V, np.zeros(0), np.zeros((0, 0)))
    U = Xr @ basis
    gamma, cov, llf, converged = _newton(U, k[keep], n[keep])
    return _Limit(sep, llf, converged, basis, V, gamma, cov)


def _firth(X: np.ndarray, k: np.ndarray, n: np.ndarray, fix: Optional[tuple[int, float]] = None,
           start: Optional[np.ndarray] = None, maxiter: int = 1000):
    """Firth's penalised ML (log-likelihood + ½ log det I(b)); (beta, penalised llf, converged).

    Newton steps on the modified score ``X'(k - n·pi + h(1/2 - pi))`` with step
    halving on the penalised log-likelihood; ``fix=(j, value)`` holds
    coefficient ``j`` at ``value`` (the penalty still uses the whole
    information matrix, as in logistf's profile likelihood).  Converged when
    the free part of the modified score is below 1e-10 or a step changes
    nothing (1e-10 in the coefficients, 1e-12 in the penalised log-likelihood).
    """
    p = X.shape[1]
    free = np.ones(p, dtype=bool)
    beta = np.zeros(p) if start is None else np.array(start, dtype=float)
    if fix is not None:
        free[fix[0]] = False
        beta[fix[0]] = fix[1]

    def pen(b):
        # QR of W^1/2 X: log det I = 2 sum log|diag R| and the hat values h = rowsum(Q^2), both
        # accurate when a cell's weight is tiny (a rate near 0 or 1), where inverting I is not
        eta = X @ b
        pi = stats.logistic.cdf(eta)
        q, r = np.linalg.qr(np.sqrt(n * pi * (1 - pi))[:, None] * X)
        d = np.abs(np.diag(r))
        value = (_loglik(eta, k, n) + float(np.sum(np.log(d)))) if np.all(d > 0) else -math.inf
        return value, pi, np.sum(q * q, axis=1)

    value, pi, h = pen(beta)
    converged = False
    for _ in range(maxiter):
        score = X.T @ (k - n * pi + h * (0.5 - pi))
        if np.max(np.abs(score[free])) < 1e-10:
            converged = True
            break
        a_free = np.sqrt(n * pi * (1 - pi))[:, None] * X[:, free]
        newton = np.zeros(p)
        newton[free] = np.linalg.lstsq(a_free.T @ a_free, score[free], rcond=None)[0]
        gradient = np.where(free, score, 0.0)
        # the modified score is the gradient of the penalised log-likelihood: where the Newton
        # (Fisher-scoring) direction fails to climb, a steepest-ascent step does
        for step in (newton, gradient / max(1.0, float(np.max(np.abs(gradient))))):
            t = 1.0
            while True:
                new = beta + t * step
                new_value, new_pi, new_h = pen(new)
                if new_value >= value - 1e-12 or t < 1e-10:
                    break
                t /= 2
            if new_value >= value - 1e-12:
                break
        if new_value < value - 1e-12:  # neither climbs: at a maximum if the score says so
            converged = bool(np.isfinite(value) and np.max(np.abs(score[free])) < 1e-6)
            break
        beta, delta, value, pi, h = new, new_value - value, new_value, new_pi, new_h
        if np.max(np.abs(t * step)) < 1e-10 and abs(delta) < 1e-12:
            converged = True
            break
    return beta, value, converged


def _firth_term(X: np.ndarray, k: np.ndarray, n: np.ndarray, j: int, alpha: float, reach: float = 60.0):
    """Firth estimate of coefficient ``j`` with its profile penalised-likelihood CI and LR test.

    Returns (estimate, ci_low, ci_high, lr_chi2, p, converged): the CI is the
    set of values ``b`` with ``2 (l*(b_hat) - max l*(b_j = b)) <= chi2_1(1 - alpha)``
    (Heinze & Schemper, 2002), bracketed by steps doubling outward from the
    estimate (a limit beyond ``reach`` on the log-odds scale is reported as
    infinite) and found by Brent's method; the test is the penalised
    likelihood ratio of ``b_j = 0``, referred to chi2(1).  ``converged``: the
    fit, the two limits and the fit at 0 all converged.
    """
    from scipy.optimize import brentq

    beta, top, converged = _firth(X, k, n)
    if not (converged and np.all(np.isfinite(beta)) and math.isfinite(top)):
        return math.nan, math.nan, math.nan, math.nan, math.nan, False
    crit = float(stats.chi2.ppf(1 - alpha, 1))
    state = {"start": beta}

    def dev(b):
        # warm start from the last profile point; if that fit stalls (far out, where cells' weights
        # are tiny), also from the estimate and from 0, and keep the highest penalised likelihood
        fit, value, ok = _firth(X, k, n, fix=(j, b), start=state["start"])
        for start in ((beta, None) if not ok else ()):
            f2, v2, ok2 = _firth(X, k, n, fix=(j, b), start=start)
            if v2 > value:
                fit, value, ok = f2, v2, ok2
        if ok and math.isfinite(value):
            state["start"] = fit
        return min(2 * (top - value), 1e6) if math.isfinite(value) else 1e6, ok

    pi = stats.logistic.cdf(X @ beta)
    info = X.T @ (X * (n * pi * (1 - pi))[:, None])
    se = float(math.sqrt(max(np.linalg.pinv(info, hermitian=True)[j, j], 1e-4)))
    bounds, oks = [], []
    for sign in (-1.0, 1.0):
        state["start"] = beta
        step, lo = min(se, 1.0), float(beta[j])
        hi, found = lo + sign * step, False
        while abs(hi - beta[j]) <= reach:
            if dev(hi)[0] > crit:
                found = True
                break
            lo, step = hi, step * 2
            hi = lo + sign * step
        if not found:
            bounds.append(sign * math.inf)
            continue
        root = brentq(lambda b: dev(b)[0] - crit, min(lo, hi), max(lo, hi), xtol=1e-10)
        bounds.append(float(root))
        oks.append(dev(root)[1])
    state["start"] = beta
    lr, ok0 = dev(0.0)
    lr = max(lr, 0.0)
    return (float(beta[j]), bounds[0], bounds[1], float(lr), float(stats.chi2.sf(lr, 1)),
            bool(ok0 and all(oks)))


def _limit_word(r1: float, r0: float) -> str:
    """What the ML odds ratio of rates ``r1`` vs ``r0`` tends to when one of them is 0 or 1."""
    if r1 in (0.0, 1.0) and r0 in (0.0, 1.0):
        return "undefined (0/0 or ∞/∞)" if r1 == r0 else ("infinite" if r1 > r0 else "0")
    if r1 == 0.0 or r0 == 1.0:
        return "0"
    if r1 == 1.0 or r0 == 0.0:
        return "infinite"
    return "not finite"


def _cell_design(cells: pd.DataFrame, rhs: str) -> tuple[np.ndarray, list[str]]:
    """The model matrix of ``rhs`` on one row per cell (the column names statsmodels gives)."""
    from patsy import dmatrix

    X = dmatrix(rhs, cells, return_type="dataframe")
    return X.to_numpy(dtype=float), list(X.columns)


def _cell_counts(d: pd.DataFrame, outcome: str, factors: list[str]) -> pd.DataFrame:
    """One row per observed combination of ``factors``: its compliers ``k`` of ``n``."""
    return d.groupby(factors, observed=True)[outcome].agg(k="sum", n="count").reset_index()


def _lp_separates(d: pd.DataFrame, outcome: str, factors: list[str], rhs: str) -> bool:
    """Whether any direction separates the data (the ML estimate does not exist)."""
    cells = _cell_counts(d, outcome, factors)
    X, _ = _cell_design(cells, rhs)
    return bool(_separated_rows(X, cells["k"].to_numpy(dtype=float), cells["n"].to_numpy(dtype=float)).any())


class _SeparatedModel:
    """The technique × price model fitted on cell counts when the ML estimate does not exist.

    ``full`` and ``reduced`` (no interaction) are :class:`_Limit` fits;
    ``lr_chi2`` the likelihood-ratio statistic of the interaction from their
    supremum log-likelihoods; :meth:`firth` a Firth estimate of the technique's
    effect at one price (the design refitted with that price as reference:
    Firth's estimate is equivariant under that reparametrisation).
    """

    def __init__(self, d: pd.DataFrame, outcome: str, factors: list[str], rhs_at, reference: str,
                 reduced_rhs: str):
        self.cells = _cell_counts(d, outcome, factors)
        self.k = self.cells["k"].to_numpy(dtype=float)
        self.n = self.cells["n"].to_numpy(dtype=float)
        self.rhs_at = rhs_at  # price level -> the model's right-hand side with that reference price
        X, self.names = _cell_design(self.cells, rhs_at(reference))
        self.full = _limit_fit(X, self.k, self.n)
        self.reduced = _limit_fit(_cell_design(self.cells, reduced_rhs)[0], self.k, self.n)
        self.lr_chi2 = float(max(2 * (self.full.llf - self.reduced.llf), 0.0))
        self.converged = self.full.converged and self.reduced.converged
        self.lp_rows = [" / ".join(str(self.cells.at[i, f]) for f in factors)
                        + f" ({int(self.k[i])}/{int(self.n[i])} complied)"
                        for i in np.flatnonzero(self.full.separated)]

    def firth(self, at_price: str, t_name: str, alpha: float):
        """(b, ci_low, ci_high, lr_chi2, p, converged) of the technique's log odds ratio at ``at_price``."""
        X, names = _cell_design(self.cells, self.rhs_at(at_price))
        return _firth_term(X, self.k, self.n, names.index(t_name), alpha)


# --------------------------------------------------------------------------- #
# The analysis
# --------------------------------------------------------------------------- #
def technique_by_price(data: pd.DataFrame, *, outcome: str = "complied", technique: str = "technique",
                       price: str = "price", reason: Optional[str] = "reason", treatment: str = "tna",
                       control: str = "control", reference_price: Optional[str] = None,
                       alpha: float = _ALPHA) -> TechniqueByPrice:
    """Logistic regression of compliance on technique × price (+ reason), with simple effects.

    Parameters
    ----------
    data : DataFrame
        One row per participant, as the session CSVs give it: ``outcome``,
        ``excluded``, ``data_consent`` and the factor columns.  Rows with
        ``excluded == 1`` or ``data_consent == 0`` are dropped.
    outcome, technique, price : str
        Column names.  ``technique`` holds ``treatment`` and ``control``;
        ``price`` holds exactly two levels.
    reason : str or None
        A further factor entered as a main effect (and tested for a three-way
        interaction); ``None`` or a column with one level leaves it out.
    treatment, control : str
        The two levels of ``technique``; ``control`` is the reference.
    reference_price : str, optional
        The price at which the technique's coefficient is its simple effect;
        default the lower price (numerically, if the levels are numbers).
    alpha : float
        1 − confidence level of every interval.

    Returns
    -------
    TechniqueByPrice
        ``interaction`` (ratio of odds ratios, CI, p), ``simple_effects`` (one
        per price, lower price first), ``reason_moderation`` and ``notes``.
        Under separation each estimate's ``method`` says how it was made
        (``"wald"``, ``"firth"``, or ``"none"`` with ``not_estimable``); the
        interaction's LR test is always reported when the model is fitted.

    Raises
    ------
    AnalysisError
        A required column is missing, ``technique`` has a level other than
        ``treatment``/``control``, or ``price`` does not have exactly two levels.

    Notes
    -----
    H0 (interaction): the odds ratio of the technique is the same at both
    prices (ratio of odds ratios = 1).  H0 (simple effect at a price): the
    technique does not change the odds of compliance at that price.  H0
    (reason moderation): the technique × price interaction is the same at every
    reason level.  All tests two-sided.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = []
    >>> for price, tech, k, n in [("1", "tna", 22, 30), ("1", "control", 12, 30),
    ...                           ("5", "tna", 6, 30), ("5", "control", 8, 30)]:
    ...     rows += [dict(price=price, technique=tech, complied=int(i < k), excluded=0,
    ...                   data_consent=1) for i in range(n)]
    >>> res = technique_by_price(pd.DataFrame(rows), reason=None)
    >>> round(res.interaction.estimate, 3)  # (6/24 / (8/22)) / (22/8 / (12/18))
    0.167
    >>> [round(s.risk_difference, 3) for s in res.simple_effects]
    [0.333, -0.067]
    """
    if not isinstance(data, pd.DataFrame):
        raise AnalysisError(f"technique_by_price: data must be a pandas DataFrame, not {type(data).__name__}")
    needed = [outcome, technique, price, "excluded", "data_consent"]
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise AnalysisError(f"technique_by_price: column {missing[0]!r} missing from the data"
                            + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""))
    use_reason = reason is not None and reason in data.columns
    if reason is not None and not use_reason:
        raise AnalysisError(f"technique_by_price: column {reason!r} missing from the data (pass reason=None "
                            "to fit without it)")

    status = participant_status(data)
    excluded, withdrawn = status == EXCLUDED, status == WITHDRAWN
    keep = status == ANALYSED
    notes: list[str] = []
    cols = [outcome, technique, price] + ([reason] if use_reason else [])
    d = data.loc[keep, cols].copy()
    n_missing = int(d[outcome].isna().sum())
    if n_missing:
        notes.append(f"{n_missing} analysable row(s) without {outcome!r} left out")
        d = d[d[outcome].notna()]
    d[outcome] = pd.to_numeric(d[outcome]).astype(int)
    bad_y = sorted(set(d[outcome]) - {0, 1})
    if bad_y:
        raise AnalysisError(f"technique_by_price: column {outcome!r} has value {bad_y[0]!r}; expected 0 or 1")
    for c in cols[1:]:
        d[c] = _as_str(d[c])

    techs = set(d[technique])
    unknown = sorted(techs - {treatment, control})
    if unknown:
        raise AnalysisError(f"technique_by_price: column {technique!r} has level {unknown[0]!r}; expected "
                            f"{treatment!r} or {control!r}")
    prices = _sort_levels(set(d[price]))
    if len(prices) != 2:
        raise AnalysisError(f"technique_by_price: column {price!r} must have exactly two levels among the "
                            f"analysed rows, not {len(prices)} ({', '.join(prices) or 'none'})")
    ref = prices[0] if reference_price is None else str(reference_price)
    if ref not in prices:
        raise AnalysisError(f"technique_by_price: reference_price {ref!r} is not a level of {price!r} "
                            f"({', '.join(prices)})")
    other = prices[1] if ref == prices[0] else prices[0]
    if use_reason and d[reason].nunique() < 2:
        notes.append(f"{reason!r} has one level among the analysed rows: left out of the model")
        use_reason = False

    tech_term = f"C({technique}, Treatment(reference={control!r}))"
    price_term = f"C({price}, Treatment(reference={ref!r}))"
    covariates = (reason,) if use_reason else ()
    rhs = f"{tech_term} * {price_term}" + (f" + C({reason})" if use_reason else "")
    formula = f"{outcome} ~ {rhs}"
    t_name = f"{tech_term}[T.{treatment}]"
    i_name = f"{t_name}:{price_term}[T.{other}]"
    label = f"{technique}[{treatment}] × {price}[{other}]"

    z = float(stats.norm.ppf(1 - alpha / 2))
    nan = math.nan

    # ---- the model -------------------------------------------------------
    fit = None
    limit = None  # the ML fit at its limit, under separation (numpy, on cell counts)
    cells = d.groupby([technique, price]).size()
    empty = [f"{t} / {p}" for t in (treatment, control) for p in prices if cells.get((t, p), 0) == 0]
    sep = _separated(d, [technique, price], outcome) + (_separated(d, [reason], outcome) if use_reason else [])
    if empty:
        notes.append("no participants in " + ", ".join(empty) + ": the model is not fitted")
    else:
        why = ""
        if not sep and not _lp_separates(d, outcome, cols[1:], rhs):  # quasi-separation of another pattern
            fit, why = _fit(formula, d)
        if fit is None:
            def rhs_at(level):
                return (f"{tech_term} * C({price}, Treatment(reference={level!r}))"
                        + (f" + C({reason})" if use_reason else ""))
            limit = _SeparatedModel(d, outcome, cols[1:], rhs_at, ref, f"{tech_term} + {price_term}"
                                    + (f" + C({reason})" if use_reason else ""))
            if not limit.lp_rows and not sep:
                notes.append(f"logistic regression failed: {why}")
                limit = None
    converged = bool(fit is not None and fit.mle_retvals.get("converged", True))
    if limit is not None:
        converged = limit.converged
    if (fit is not None or limit is not None) and not converged:
        notes.append("the fit did not converge")
    sep_text = ", ".join(sep) if sep else (", ".join(limit.lp_rows) if limit is not None else "")

    def _unit(names, *which):
        L = np.zeros(len(names))
        for w in which:
            L[names.index(w)] = 1.0
        return L

    if fit is not None:
        b, se = float(fit.params[i_name]), float(fit.bse[i_name])
        reduced, _ = _fit(f"{outcome} ~ {tech_term} + {price_term}" + (f" + C({reason})" if use_reason else ""), d)
        lr = 2 * (fit.llf - reduced.llf) if reduced is not None else nan
        interaction = InteractionTerm(label, math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                                      float(fit.pvalues[i_name]), b, se, b / se, float(lr),
                                      float(stats.chi2.sf(lr, 1)) if not math.isnan(lr) else nan,
                                      i_name, 1 - alpha)
    elif limit is not None:
        lr = limit.lr_chi2
        lr_p = float(stats.chi2.sf(lr, 1))
        got = limit.full.contrast(_unit(limit.names, i_name))
        if got is not None:
            b, se = got
            interaction = InteractionTerm(label, math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                                          float(2 * stats.norm.sf(abs(b / se))), b, se, b / se, lr, lr_p,
                                          i_name, 1 - alpha)
        else:
            interaction = InteractionTerm(label, nan, nan, nan, nan, nan, nan, nan, lr, lr_p, i_name, 1 - alpha,
                                          method="none",
                                          not_estimable=f"the ML ratio of odds ratios is not finite under "
                                                        f"separation: rate 0 or 1 in {sep_text}")
    else:
        interaction = InteractionTerm(label, nan, nan, nan, nan, nan, nan, nan, nan, nan, i_name, 1 - alpha,
                                      method="none", not_estimable="no model fitted")

    # ---- simple effects --------------------------------------------------
    from statsmodels.stats.proportion import confint_proportions_2indep

    simple = []
    firth_at, none_at = [], []
    limits: dict[str, str] = {}  # price -> what the ML odds ratio is at the limit, where it is not finite
    for p in prices:
        at = d[d[price] == p]
        y1 = at.loc[at[technique] == treatment, outcome]
        y0 = at.loc[at[technique] == control, outcome]
        x1, n1, x0, n0 = int(y1.sum()), len(y1), int(y0.sum()), len(y0)
        r1 = x1 / n1 if n1 else nan
        r0 = x0 / n0 if n0 else nan
        if n1 and n0:
            lo, hi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff", alpha=alpha)
            lo, hi = float(lo), float(hi)
        else:
            lo = hi = nan
        counts = (p, n1, x1, n0, x0, r1, r0, r1 - r0, lo, hi)
        if fit is not None:
            L = pd.Series(0.0, index=fit.params.index)
            L[t_name] = 1.0
            if p == other:
                L[i_name] = 1.0
            est = float(L @ fit.params)
            se_l = float(math.sqrt(L @ fit.cov_params() @ L))
            zz = est / se_l
            orr, olo, ohi = math.exp(est), math.exp(est - z * se_l), math.exp(est + z * se_l)
            pval = float(2 * stats.norm.sf(abs(zz)))
            simple.append(SimpleEffect(*counts, orr, olo, ohi, zz, pval, 1 - alpha))
            continue
        if limit is None:
            simple.append(SimpleEffect(*counts, nan, nan, nan, nan, nan, 1 - alpha, method="none",
                                       not_estimable="no model fitted"))
            continue
        got = limit.full.contrast(_unit(limit.names, t_name, *([i_name] if p == other else [])))
        if got is not None:
            est, se_l = got
            zz = est / se_l
            simple.append(SimpleEffect(*counts, math.exp(est), math.exp(est - z * se_l), math.exp(est + z * se_l),
                                       zz, float(2 * stats.norm.sf(abs(zz))), 1 - alpha))
            continue
        word = _limit_word(r1, r0)
        limits[p] = word
        why_ml = f"the ML odds ratio is {word}: {treatment} {x1}/{n1}, {control} {x0}/{n0} complied"
        try:
            b, blo, bhi, plr, pp, ok = limit.firth(p, t_name, alpha)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            b, ok, why_f = nan, False, f"{type(exc).__name__}"
        else:
            why_f = "" if ok else "the Firth fit did not converge"
        if ok and all(math.isfinite(v) for v in (b, plr)):
            firth_at.append(p)
            simple.append(SimpleEffect(*counts, math.exp(b), math.exp(blo), math.exp(bhi), nan, pp, 1 - alpha,
                                       method="firth", lr_chi2=plr, not_estimable=why_ml))
        else:
            none_at.append(p)
            simple.append(SimpleEffect(*counts, nan, nan, nan, nan, nan, 1 - alpha, method="none",
                                       not_estimable=f"{why_ml}; {why_f or 'Firth estimate not finite'}"))

    if limit is not None:
        wald_at = [s.price for s in simple if s.method == "wald"]
        parts = [f"separation (rate 0 or 1 in {sep_text}): maximum-likelihood estimates of the terms involving "
                 "it are infinite; the fit is taken at its limit, which fits those participants exactly and "
                 "estimates the rest from the other cells (the values R's glm approaches)",
                 "the interaction's likelihood-ratio test compares the two models' maximised likelihoods and "
                 "is valid: reported"]
        if interaction.method == "none":
            ratio = "not finite"
            if len(limits) == 1:
                (at, word), = limits.items()
                flip = {"0": "infinite", "infinite": "0"}
                ratio = word if at == other else flip.get(word, word)
            interaction = dataclasses.replace(
                interaction, not_estimable=f"the ML ratio of odds ratios is {ratio} under separation: rate 0 or 1 "
                                           f"in {sep_text}")
            parts.append(f"the ratio of odds ratios is not estimable (its ML value is {ratio})")
        if wald_at:
            parts.append(f"simple effect at {price} {', '.join(wald_at)}: ML estimate, Wald CI and z")
        if firth_at:
            parts.append(f"simple effect at {price} {', '.join(firth_at)}: the ML odds ratio is not finite, so "
                         "Firth's penalised estimate with a profile penalised-likelihood CI and a penalised LR test")
        if none_at:
            parts.append(f"simple effect at {price} {', '.join(none_at)}: not estimable")
        notes.append("; ".join(parts))

    # ---- does the interaction differ by reason? ----------------------------
    moderation = None
    if use_reason and fit is not None:
        label3 = f"{technique} × {price} × {reason}"
        full_f = f"{outcome} ~ {tech_term} * {price_term} * C({reason})"
        two_f = (f"{outcome} ~ ({tech_term} + {price_term} + C({reason}))**2")
        cell_sep = _separated(d, [technique, price, reason], outcome)
        df3 = d[reason].nunique() - 1
        if cell_sep:
            notes.append(f"{label3}: not tested, rate 0 or 1 in " + ", ".join(cell_sep))
        else:
            full, why_f = _fit(full_f, d)
            two, why_t = _fit(two_f, d)
            if full is None or two is None:
                notes.append(f"{label3}: not tested ({why_f or why_t})")
            else:
                lr3 = float(2 * (full.llf - two.llf))
                moderation = LikelihoodRatioTest(label3, lr3, df3, float(stats.chi2.sf(lr3, df3)))
    elif use_reason and limit is not None:
        notes.append(f"{technique} × {price} × {reason}: not tested under separation")

    # a withdrawn row counts as withdrawn even if it was also excluded (as analysis.load.sessions reports it)
    return TechniqueByPrice(formula, METHODS["model"], len(d), int(excluded.sum()),
                            int(withdrawn.sum()), treatment, control, ref, other, covariates,
                            interaction, tuple(simple), moderation, converged, tuple(notes))
