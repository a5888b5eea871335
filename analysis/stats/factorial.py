"""Treatment × moderator interaction of a binary outcome (Pollock et al., 1998: technique × price).

The claim of Pollock, Smith, Knowles & Bruce (1998) is an interaction: the
that's-not-all technique raises buying of a cheap box but not of an expensive
one.  :func:`treatment_by_moderator` fits the declared
:class:`~paradigms.base.FactorialLogitPlan`'s logistic regression, for Pollock::

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
from typing import Mapping, Optional

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError
from analysis.format import ci, pct_of
from analysis.results import LikelihoodRatioTest, Result, format_number, format_p
from analysis.load.status import split_by_status

__all__ = ["METHODS", "SimpleEffect", "InteractionTerm", "LikelihoodRatioTest", "TreatmentByModerator",
           "treatment_by_moderator", "treatment_by_moderator_input",
           # deprecated names (Pollock et al.'s words), kept for old callers
           "TechniqueByPrice", "technique_by_price"]

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
    return ci(lo, hi, digits, level=None, leading_zero=leading_zero)


@dataclass(frozen=True)
class SimpleEffect(Result):
    """The treatment against the control at one level of the moderator.

    ``risk_difference`` (treatment − control) and its Newcombe CI come from the
    counts at this level pooled over any covariate; ``odds_ratio``, its CI,
    ``z`` and ``p`` come from the fitted model (adjusted for the covariate).
    H0: the treatment does not change the odds of compliance at this level.
    ``moderator`` names the moderator (``price`` in Pollock et al., 1998);
    ``price`` is the deprecated name of ``level`` (and stays a ``--json`` key).

    ``method`` names the estimate: ``"wald"`` (maximum likelihood, Wald CI and
    z test); ``"firth"`` where the ML odds ratio is 0 or infinite (a rate of 0
    or 1 at this price): Firth's penalised estimate, its profile
    penalised-likelihood CI, and ``p`` from the penalised likelihood-ratio
    statistic ``lr_chi2`` on 1 df (``z`` is NaN), and ``not_estimable`` says
    why the ML odds ratio is not available; ``"none"``: not estimable at all,
    ``not_estimable`` says why.
    """

    _aliases = {"statistic": "z", "pvalue": "p", "ci_low": "or_ci_low", "ci_high": "or_ci_high",
                "estimate": "odds_ratio", "term": "level"}
    _measure = "odds ratio"

    level: str
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
    moderator: str = ""

    @property
    def price(self) -> str:
        """Deprecated name of :attr:`level`."""
        return self.level

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["price"] = d["level"]   # the key --json has always had
        return d

    def __str__(self) -> str:
        ci_label = f"{self.confidence:.0%} CI"
        head = (f"{self.moderator or 'level'} {self.level}: {pct_of(self.complied_treatment, self.n_treatment)} vs "
                f"{pct_of(self.complied_control, self.n_control)}, "
                f"RD = {format_number(self.risk_difference, leading_zero=False)}, {ci_label} "
                f"{_ci(self.rd_ci_low, self.rd_ci_high, leading_zero=False)}; ")
        if self.method == "firth":
            return head + (f"OR = {format_number(self.odds_ratio)} (Firth penalised estimate; "
                           f"{self.not_estimable or 'the ML odds ratio is not finite'}), "
                           f"{self.confidence:.0%} profile penalised-likelihood CI "
                           f"{_ci(self.or_ci_low, self.or_ci_high)}, penalised LR χ²(1) = "
                           f"{format_number(self.lr_chi2)}, {format_p(self.p)}")
        if self.method == "none":
            return head + f"OR not estimable ({self.not_estimable or 'no model'})"
        return head + (f"OR = {format_number(self.odds_ratio)}, {ci_label} {_ci(self.or_ci_low, self.or_ci_high)}, "
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
class TreatmentByModerator(Result):
    """Everything :func:`treatment_by_moderator` reports.

    ``reference_level``/``other_level`` are the moderator's levels (deprecated
    names ``reference_price``/``other_price``, kept as ``--json`` keys);
    ``reason_moderation`` is the covariate's three-way test.
    """

    formula: str
    method: str
    n: int
    n_excluded: int
    n_withdrawn: int
    treatment: str
    control: str
    reference_level: str
    other_level: str
    covariates: tuple[str, ...]
    interaction: InteractionTerm
    simple_effects: tuple[SimpleEffect, ...]
    reason_moderation: Optional[LikelihoodRatioTest]
    converged: bool
    notes: tuple[str, ...] = ()
    factor: str = ""
    moderator: str = ""

    @property
    def reference_price(self) -> str:
        """Deprecated name of :attr:`reference_level`."""
        return self.reference_level

    @property
    def other_price(self) -> str:
        """Deprecated name of :attr:`other_level`."""
        return self.other_level

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
        d["reference_price"], d["other_price"] = d["reference_level"], d["other_level"]  # the old keys
        d["apa"] = str(self.interaction)
        return d


#: Deprecated name of :class:`TreatmentByModerator`.
TechniqueByPrice = TreatmentByModerator


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
@dataclass(frozen=True)
class _Spec:
    """The model's column names, levels and formula pieces (from the declared plan)."""

    outcome: str
    factor: str
    moderator: str
    covariate: Optional[str]
    treatment: str
    control: str
    levels: tuple          # the moderator's two levels, sorted
    reference: str
    other: str

    @property
    def columns(self) -> list:
        return [self.outcome, self.factor, self.moderator] + ([self.covariate] if self.covariate else [])

    @property
    def t_term(self) -> str:
        return f"C({self.factor}, Treatment(reference={self.control!r}))"

    def m_term(self, level: Optional[str] = None) -> str:
        return f"C({self.moderator}, Treatment(reference={(self.reference if level is None else level)!r}))"

    @property
    def cov(self) -> str:
        return f" + C({self.covariate})" if self.covariate else ""

    def rhs_at(self, level: Optional[str] = None) -> str:
        return f"{self.t_term} * {self.m_term(level)}" + self.cov

    @property
    def formula(self) -> str:
        return f"{self.outcome} ~ {self.rhs_at()}"

    @property
    def reduced_rhs(self) -> str:
        return f"{self.t_term} + {self.m_term()}" + self.cov

    @property
    def t_name(self) -> str:
        return f"{self.t_term}[T.{self.treatment}]"

    @property
    def i_name(self) -> str:
        return f"{self.t_name}:{self.m_term()}[T.{self.other}]"

    @property
    def label(self) -> str:
        return f"{self.factor}[{self.treatment}] × {self.moderator}[{self.other}]"


def _refuse(message: str):
    raise AnalysisError(f"treatment_by_moderator: {message}")


def _model_rows(data: pd.DataFrame, outcome: str, factor: str, moderator: str, covariate: Optional[str],
                treatment: str, control: str, reference_level, dropped) -> tuple:
    """(analysed rows, _Spec, excluded/withdrawn counts, notes); malformed input refused."""
    if not isinstance(data, pd.DataFrame):
        _refuse(f"data must be a pandas DataFrame, not {type(data).__name__}")
    needed = [outcome, factor, moderator] + (["excluded", "data_consent"] if dropped is None else [])
    missing = [c for c in needed if c not in data.columns]
    if missing:
        _refuse(f"column {missing[0]!r} missing from the data"
                + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""))
    if covariate is not None and covariate not in data.columns:
        _refuse(f"column {covariate!r} missing from the data (pass covariate=None to fit without it)")
    if dropped is None:
        data, dropped = split_by_status(data)
    notes: list[str] = []
    cols = [outcome, factor, moderator] + ([covariate] if covariate is not None else [])
    d = data.loc[:, cols].copy()
    n_missing = int(d[outcome].isna().sum())
    if n_missing:
        notes.append(f"{n_missing} analysable row(s) without {outcome!r} left out")
        d = d[d[outcome].notna()]
    d[outcome] = pd.to_numeric(d[outcome]).astype(int)
    bad_y = sorted(set(d[outcome]) - {0, 1})
    if bad_y:
        _refuse(f"column {outcome!r} has value {bad_y[0]!r}; expected 0 or 1")
    for c in cols[1:]:
        d[c] = _as_str(d[c])
    unknown = sorted(set(d[factor]) - {treatment, control})
    if unknown:
        _refuse(f"column {factor!r} has level {unknown[0]!r}; expected {treatment!r} or {control!r}")
    levels = _sort_levels(set(d[moderator]))
    if len(levels) != 2:
        _refuse(f"column {moderator!r} must have exactly two levels among the analysed rows, not {len(levels)} "
                f"({', '.join(levels) or 'none'})")
    ref = levels[0] if reference_level is None else str(reference_level)
    if ref not in levels:
        _refuse(f"reference level {ref!r} is not a level of {moderator!r} ({', '.join(levels)})")
    other = levels[1] if ref == levels[0] else levels[0]
    if covariate is not None and d[covariate].nunique() < 2:
        notes.append(f"{covariate!r} has one level among the analysed rows: left out of the model")
        covariate = None
    spec = _Spec(outcome, factor, moderator, covariate, treatment, control, tuple(levels), ref, other)
    return d, spec, dict(dropped), notes


def _fit_model(d: pd.DataFrame, spec: _Spec, notes: list) -> tuple:
    """(statsmodels fit or None, the fit at its limit under separation or None, converged, separated cells)."""
    fit = limit = None
    cells = d.groupby([spec.factor, spec.moderator]).size()
    empty = [f"{t} / {p}" for t in (spec.treatment, spec.control) for p in spec.levels
             if cells.get((t, p), 0) == 0]
    sep = _separated(d, [spec.factor, spec.moderator], spec.outcome) + (
        _separated(d, [spec.covariate], spec.outcome) if spec.covariate else [])
    if empty:
        notes.append("no participants in " + ", ".join(empty) + ": the model is not fitted")
    else:
        why = ""
        if not sep and not _lp_separates(d, spec.outcome, spec.columns[1:], spec.rhs_at()):
            fit, why = _fit(spec.formula, d)   # (the LP finds quasi-separation of any other pattern)
        if fit is None:
            limit = _SeparatedModel(d, spec.outcome, spec.columns[1:], spec.rhs_at, spec.reference,
                                    spec.reduced_rhs)
            if not limit.lp_rows and not sep:
                notes.append(f"logistic regression failed: {why}")
                limit = None
    converged = bool(fit is not None and fit.mle_retvals.get("converged", True))
    if limit is not None:
        converged = limit.converged
    if (fit is not None or limit is not None) and not converged:
        notes.append("the fit did not converge")
    sep_text = ", ".join(sep) if sep else (", ".join(limit.lp_rows) if limit is not None else "")
    return fit, limit, converged, sep_text


def _unit(names, *which) -> np.ndarray:
    L = np.zeros(len(names))
    for w in which:
        L[names.index(w)] = 1.0
    return L


def _interaction(d: pd.DataFrame, spec: _Spec, fit, limit, sep_text: str, alpha: float) -> InteractionTerm:
    """The treatment × moderator term: Wald (ML or ML at its limit), or its LR test alone."""
    z, nan, conf = float(stats.norm.ppf(1 - alpha / 2)), math.nan, 1 - alpha
    i_name = spec.i_name
    if fit is not None:
        b, se = float(fit.params[i_name]), float(fit.bse[i_name])
        reduced, _ = _fit(f"{spec.outcome} ~ {spec.reduced_rhs}", d)
        lr = 2 * (fit.llf - reduced.llf) if reduced is not None else nan
        return InteractionTerm(spec.label, math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                               float(fit.pvalues[i_name]), b, se, b / se, float(lr),
                               float(stats.chi2.sf(lr, 1)) if not math.isnan(lr) else nan, i_name, conf)
    if limit is None:
        return InteractionTerm(spec.label, nan, nan, nan, nan, nan, nan, nan, nan, nan, i_name, conf,
                               method="none", not_estimable="no model fitted")
    lr = limit.lr_chi2
    lr_p = float(stats.chi2.sf(lr, 1))
    got = limit.full.contrast(_unit(limit.names, i_name))
    if got is None:
        return InteractionTerm(spec.label, nan, nan, nan, nan, nan, nan, nan, lr, lr_p, i_name, conf,
                               method="none", not_estimable=f"the ML ratio of odds ratios is not finite under "
                                                            f"separation: rate 0 or 1 in {sep_text}")
    b, se = got
    return InteractionTerm(spec.label, math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                           float(2 * stats.norm.sf(abs(b / se))), b, se, b / se, lr, lr_p, i_name, conf)


def _counts_at(d: pd.DataFrame, spec: _Spec, level: str, alpha: float) -> tuple:
    """(level, n1, x1, n0, x0, r1, r0, rd, rd CI) of the treatment vs the control at one moderator level."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    nan = math.nan
    at = d[d[spec.moderator] == level]
    y1 = at.loc[at[spec.factor] == spec.treatment, spec.outcome]
    y0 = at.loc[at[spec.factor] == spec.control, spec.outcome]
    x1, n1, x0, n0 = int(y1.sum()), len(y1), int(y0.sum()), len(y0)
    r1 = x1 / n1 if n1 else nan
    r0 = x0 / n0 if n0 else nan
    lo = hi = nan
    if n1 and n0:
        lo, hi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff", alpha=alpha)
        lo, hi = float(lo), float(hi)
    return (level, n1, x1, n0, x0, r1, r0, r1 - r0, lo, hi)


def _wald(counts: tuple, est: float, se: float, alpha: float, moderator: str) -> SimpleEffect:
    z = float(stats.norm.ppf(1 - alpha / 2))
    zz = est / se
    return SimpleEffect(*counts, math.exp(est), math.exp(est - z * se), math.exp(est + z * se), zz,
                        float(2 * stats.norm.sf(abs(zz))), 1 - alpha, moderator=moderator)


def _simple_effect(d: pd.DataFrame, spec: _Spec, fit, limit, level: str, alpha: float) -> tuple:
    """(SimpleEffect at ``level``, what the ML odds ratio tends to there or '' where it is finite)."""
    nan, counts, m = math.nan, _counts_at(d, spec, level, alpha), spec.moderator
    with_i = [spec.i_name] if level == spec.other else []
    if fit is not None:
        L = pd.Series(0.0, index=fit.params.index)
        L[[spec.t_name, *with_i]] = 1.0
        return _wald(counts, float(L @ fit.params), float(math.sqrt(L @ fit.cov_params() @ L)), alpha, m), ""
    if limit is None:
        return SimpleEffect(*counts, nan, nan, nan, nan, nan, 1 - alpha, method="none",
                            not_estimable="no model fitted", moderator=m), ""
    got = limit.full.contrast(_unit(limit.names, spec.t_name, *with_i))
    if got is not None:
        return _wald(counts, *got, alpha, m), ""
    _, n1, x1, n0, x0, r1, r0 = counts[:7]
    word = _limit_word(r1, r0)
    why_ml = f"the ML odds ratio is {word}: {spec.treatment} {x1}/{n1}, {spec.control} {x0}/{n0} complied"
    try:
        b, blo, bhi, plr, pp, ok = limit.firth(level, spec.t_name, alpha)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        b, ok, why_f = nan, False, f"{type(exc).__name__}"
    else:
        why_f = "" if ok else "the Firth fit did not converge"
    if ok and all(math.isfinite(v) for v in (b, plr)):
        return SimpleEffect(*counts, math.exp(b), math.exp(blo), math.exp(bhi), nan, pp, 1 - alpha,
                            method="firth", lr_chi2=plr, not_estimable=why_ml, moderator=m), word
    return SimpleEffect(*counts, nan, nan, nan, nan, nan, 1 - alpha, method="none",
                        not_estimable=f"{why_ml}; {why_f or 'Firth estimate not finite'}", moderator=m), word


def _separation_note(spec: _Spec, interaction: InteractionTerm, simple: list, limits: dict,
                     sep_text: str) -> tuple:
    """(the interaction with its not-estimable reason, the note that says what was estimated how)."""
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
            ratio = word if at == spec.other else flip.get(word, word)
        interaction = dataclasses.replace(
            interaction, not_estimable=f"the ML ratio of odds ratios is {ratio} under separation: rate 0 or 1 "
                                       f"in {sep_text}")
        parts.append(f"the ratio of odds ratios is not estimable (its ML value is {ratio})")
    m = spec.moderator
    by = {k: [s.level for s in simple if s.method == k] for k in ("wald", "firth", "none")}
    if by["wald"]:
        parts.append(f"simple effect at {m} {', '.join(by['wald'])}: ML estimate, Wald CI and z")
    if by["firth"]:
        parts.append(f"simple effect at {m} {', '.join(by['firth'])}: the ML odds ratio is not finite, so "
                     "Firth's penalised estimate with a profile penalised-likelihood CI and a penalised LR test")
    if by["none"]:
        parts.append(f"simple effect at {m} {', '.join(by['none'])}: not estimable")
    return interaction, "; ".join(parts)


def _covariate_moderation(d: pd.DataFrame, spec: _Spec, fit, limit, notes: list) -> Optional[LikelihoodRatioTest]:
    """Does the treatment × moderator interaction differ between covariate levels (the three-way term)?"""
    if not spec.covariate:
        return None
    label3 = f"{spec.factor} × {spec.moderator} × {spec.covariate}"
    if fit is None:
        if limit is not None:
            notes.append(f"{label3}: not tested under separation")
        return None
    cov = f"C({spec.covariate})"
    cell_sep = _separated(d, [spec.factor, spec.moderator, spec.covariate], spec.outcome)
    if cell_sep:
        notes.append(f"{label3}: not tested, rate 0 or 1 in " + ", ".join(cell_sep))
        return None
    full, why_f = _fit(f"{spec.outcome} ~ {spec.t_term} * {spec.m_term()} * {cov}", d)
    two, why_t = _fit(f"{spec.outcome} ~ ({spec.t_term} + {spec.m_term()} + {cov})**2", d)
    if full is None or two is None:
        notes.append(f"{label3}: not tested ({why_f or why_t})")
        return None
    lr3 = float(2 * (full.llf - two.llf))
    df3 = d[spec.covariate].nunique() - 1
    return LikelihoodRatioTest(label3, lr3, df3, float(stats.chi2.sf(lr3, df3)))


def treatment_by_moderator(data: pd.DataFrame, *, factor: str, moderator: str, treatment: str, control: str,
                           outcome: str = "complied", covariate: Optional[str] = None,
                           reference_level: Optional[str] = None, alpha: float = _ALPHA,
                           dropped: Optional[Mapping[str, int]] = None) -> TreatmentByModerator:
    """Logistic regression of a binary outcome on treatment × moderator (+ covariate), with simple effects.

    Parameters
    ----------
    data : DataFrame
        One row per participant: ``outcome`` and the factor columns.  Without
        ``dropped`` the rows are as the session CSVs give them (with ``excluded``
        and ``data_consent``) and the participant-status rule is applied here;
        with ``dropped`` they are the analysable rows already.
    factor : str
        The column holding ``treatment`` and ``control`` (the treatment factor).
    moderator : str
        The column holding exactly two levels (the moderator).
    treatment, control : str
        The two levels of ``factor``; ``control`` is the reference.
    outcome : str
        The 0/1 column.
    covariate : str or None
        A further factor entered as a main effect (and tested for a three-way
        interaction); ``None`` or a column with one level leaves it out.
    reference_level : str, optional
        The moderator level at which the treatment's coefficient is its simple
        effect; default the lower level (numerically, if the levels are numbers).
    alpha : float
        1 − confidence level of every interval.
    dropped : mapping, optional
        ``{"excluded": n, "withdrawn": n}`` counted by the loader, when ``data``
        holds the analysable rows.

    Returns
    -------
    TreatmentByModerator
        ``interaction`` (ratio of odds ratios, CI, p), ``simple_effects`` (one
        per moderator level, the lower first), ``reason_moderation`` (the
        covariate's three-way test) and ``notes``.  Under separation each
        estimate's ``method`` says how it was made (``"wald"``, ``"firth"``, or
        ``"none"`` with ``not_estimable``); the interaction's LR test is always
        reported when the model is fitted.

    Raises
    ------
    AnalysisError
        A required column is missing, ``factor`` has a level other than
        ``treatment``/``control``, or ``moderator`` does not have exactly two levels.

    Notes
    -----
    H0 (interaction): the odds ratio of the treatment is the same at both
    moderator levels (ratio of odds ratios = 1).  H0 (simple effect at a level):
    the treatment does not change the odds of the outcome at that level.  H0
    (covariate moderation): the treatment × moderator interaction is the same at
    every covariate level.  All tests two-sided.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = []
    >>> for dose, arm, k, n in [("low", "new", 22, 30), ("low", "usual", 12, 30),
    ...                         ("high", "new", 6, 30), ("high", "usual", 8, 30)]:
    ...     rows += [dict(dose=dose, arm=arm, y=int(i < k)) for i in range(n)]
    >>> res = treatment_by_moderator(pd.DataFrame(rows), factor="arm", moderator="dose", treatment="new",
    ...                              control="usual", outcome="y", reference_level="low",
    ...                              dropped={"excluded": 0, "withdrawn": 0})
    >>> round(res.interaction.estimate, 3)  # (6/24 / (8/22)) / (22/8 / (12/18))
    0.167
    >>> [(s.level, round(s.risk_difference, 3)) for s in res.simple_effects]
    [('high', -0.067), ('low', 0.333)]
    """
    d, spec, dropped, notes = _model_rows(data, outcome, factor, moderator, covariate, treatment, control,
                                          reference_level, dropped)
    fit, limit, converged, sep_text = _fit_model(d, spec, notes)
    interaction = _interaction(d, spec, fit, limit, sep_text, alpha)
    simple, limits = [], {}
    for level in spec.levels:
        effect, word = _simple_effect(d, spec, fit, limit, level, alpha)
        simple.append(effect)
        if word:
            limits[level] = word
    if limit is not None:
        interaction, note = _separation_note(spec, interaction, simple, limits, sep_text)
        notes.append(note)
    moderation = _covariate_moderation(d, spec, fit, limit, notes)
    covariates = (spec.covariate,) if spec.covariate else ()
    return TreatmentByModerator(spec.formula, METHODS["model"], len(d), int(dropped.get("excluded", 0)),
                                int(dropped.get("withdrawn", 0)), spec.treatment, spec.control, spec.reference,
                                spec.other, covariates, interaction, tuple(simple), moderation, converged,
                                tuple(notes), factor=spec.factor, moderator=spec.moderator)


def treatment_by_moderator_input(inp) -> TreatmentByModerator:
    """The declared factorial model of one experiment's :class:`~analysis.load.inputs.AnalysisInput`.

    The plan (:class:`~paradigms.base.FactorialLogitPlan`) names the treatment
    factor, the moderator, the two compared levels and the covariate; the frame
    holds the analysable rows; the report counts the excluded and withdrawn.

    Examples
    --------
    >>> from analysis.declared import declaration
    >>> from analysis.load.inputs import AnalysisInput
    >>> import pandas as pd
    >>> tna = declaration("pollock1998")
    >>> exp = tna.experiment(1)
    >>> plan = exp.plan
    >>> frame = pd.DataFrame([dict(c.factors, complied=int(i < (8 if c.factors[plan.treatment_factor]
    ...                                                         == plan.treatment_level else 5)))
    ...                       for c in exp.conditions for i in range(10)])
    >>> res = treatment_by_moderator_input(AnalysisInput(frame, tna, exp, pd.DataFrame({"status": ["excluded"]})))
    >>> res.n, res.n_excluded, res.factor, res.moderator
    (120, 1, 'technique', 'price')
    """
    plan = inp.experiment.plan
    from analysis.load.status import report_counts

    return treatment_by_moderator(inp.frame, factor=plan.treatment_factor, moderator=plan.moderator,
                                  covariate=plan.covariates[0] if plan.covariates else None,
                                  treatment=plan.treatment_level, control=plan.control_level,
                                  dropped=report_counts(inp.report))


def technique_by_price(data: pd.DataFrame, *, outcome: str = "complied", technique: str = "technique",
                       price: str = "price", reason: Optional[str] = "reason", treatment: str = "tna",
                       control: str = "control", reference_price: Optional[str] = None,
                       alpha: float = _ALPHA) -> TreatmentByModerator:
    """Deprecated name of :func:`treatment_by_moderator`, with Pollock et al.'s (1998) column names as defaults.

    ``technique`` is the treatment factor, ``price`` the moderator, ``reason``
    the covariate; ``data`` is tidy session data (``excluded`` and
    ``data_consent`` included: excluded and withdrawn rows are dropped here).

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
    if reason is not None and isinstance(data, pd.DataFrame) and reason not in data.columns \
            and all(c in data.columns for c in (outcome, technique, price, "excluded", "data_consent")):
        raise AnalysisError(f"technique_by_price: column {reason!r} missing from the data (pass reason=None "
                            "to fit without it)")
    try:
        return treatment_by_moderator(data, factor=technique, moderator=price, covariate=reason,
                                      treatment=treatment, control=control, outcome=outcome,
                                      reference_level=reference_price, alpha=alpha)
    except AnalysisError as exc:
        raise AnalysisError(str(exc).replace("treatment_by_moderator:", "technique_by_price:", 1)
                            .replace("reference level", "reference_price")) from None
