"""Random-effects meta-analysis of per-site effects (DL, REML, PM; Wald or Hartung-Knapp; the prediction
interval), as metafor's ``rma()`` with ``predict()``.

Its own module so that :mod:`analysis.meta.pooling` (the binary contrasts) and
:mod:`analysis.meta.measures` (SMD, ROM, PLO, LROR) both pool through it without importing each other
(issue 21: no import cycle).  What is taken from statsmodels and what is written here is said in
:mod:`analysis.meta.pooling`; every figure is checked against metafor in ``tests/analysis/test_meta_pooling.py``.

Examples
--------
>>> r = random_effects([0.9, 0.2, 0.6, 1.4], [0.10, 0.08, 0.12, 0.20], method="REML")
>>> round(r.estimate, 4), round(r.tau2, 4), r.method
(0.7087, 0.1121, 'REML')
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from scipy import optimize, stats

from analysis.errors import AnalysisError
from analysis.results import Result, format_number, format_p, jsonable

__all__ = ["ESTIMATORS", "MetaResult", "random_effects"]

#: The random-effects estimators of τ², in the order they are reported.
ESTIMATORS = ("DL", "REML", "PM")


# --------------------------------------------------------------------------- #
# Random effects
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class MetaResult(Result):
    """A random-effects meta-analysis, as metafor's ``rma()`` with ``predict()``.

    Attributes
    ----------
    measure : str
        ``log_or`` or ``rd``.
    method : str
        The τ² estimator: ``DL``, ``REML`` or ``PM``.
    test : str
        ``z`` (Wald) or ``knha`` (Hartung–Knapp–Sidik–Jonkman, t with k − 1 df).
    estimate, se, ci_low, ci_high, statistic, pvalue
        The pooled effect μ, its SE and CI; z (or t) and its two-sided p for H0: μ = 0.
    tau2, tau, i2, h2
        τ² (never negative), τ, I² in percent and H² as metafor computes them.
    q, q_df, q_p
        Cochran's Q, its df (k − 1) and p for H0: τ² = 0.
    pi_low, pi_high
        The prediction interval for the true effect at a new site.
    weights : tuple of float
        Each site's share of the total weight, in percent, in ``sites`` order.
    """

    _aliases = {'estimate': 'estimate', 'term': 'label', 'measure': 'measure'}

    measure: str
    method: str
    test: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    pvalue: float
    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    level: float = 0.95
    sites: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()
    iterations: int = 0
    converged: bool = True
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``RE (method)``, as the pooled rows of :meth:`PoolResult.to_frame` name it."""
        return f"RE ({self.method})"

    #: how each measure is named in the sentence (log scales are printed exponentiated)
    _NAMES = {"log_or": "OR", "rd": "RD", "SMD": "g", "ROM": "ratio of means", "PLO": "logit p",
              "LROR": "ratio of ORs"}

    @property
    def exponentiate(self) -> bool:
        return self.measure in ("log_or", "ROM", "LROR")

    def _fmt(self, x: float) -> str:
        return format_number(math.exp(x) if self.exponentiate else x,
                             leading_zero=self.measure != "rd")

    def __str__(self) -> str:
        name = self._NAMES.get(self.measure, self.measure)
        stat = f"t({self.k - 1})" if self.test == "knha" else "z"
        pct = f"{self.level:.0%}"
        ci_tag = " (Hartung-Knapp)" if self.test == "knha" else ""
        return (f"{self.method}, k = {self.k}: {name} = {self._fmt(self.estimate)}, {pct} CI "
                f"[{self._fmt(self.ci_low)}, {self._fmt(self.ci_high)}]{ci_tag}, {stat} = "
                f"{format_number(self.statistic)}, {format_p(self.pvalue)}; τ² = {format_number(self.tau2, 3)}, "
                f"I² = {format_number(self.i2, 1)}%, H² = {format_number(self.h2)}; Q({self.q_df}) = "
                f"{format_number(self.q)}, {format_p(self.q_p)}; {pct} PI [{self._fmt(self.pi_low)}, "
                f"{self._fmt(self.pi_high)}]")

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.measure == "log_or":
            d.update(odds_ratio=math.exp(self.estimate), or_ci_low=math.exp(self.ci_low),
                     or_ci_high=math.exp(self.ci_high), or_pi_low=math.exp(self.pi_low),
                     or_pi_high=math.exp(self.pi_high))
        d["apa"] = str(self)
        return jsonable(d)


def _dl_statsmodels(y: np.ndarray, v: np.ndarray):
    """Fixed-effect estimate, its variance, Q and the untruncated DL τ², from statsmodels."""
    from statsmodels.stats.meta_analysis import combine_effects

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = combine_effects(y, v, method_re="dl", use_t=False)
    return float(res.mean_effect_fe), float(res.var_eff_w_fe), float(res.q), float(res.tau2)


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    mu = np.dot(w, y) / w.sum()
    return float(np.dot(w, (y - mu) ** 2))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> tuple[float, int]:
    k = len(y)
    if _generalised_q(0.0, y, v) <= k - 1:
        return 0.0, 0
    hi = max(float(np.var(y, ddof=1)) * 10, 1e-8)  # Q(tau2) decreases to < k-1 as tau2 grows
    while _generalised_q(hi, y, v) > k - 1:
        hi *= 10
    root, info = optimize.brentq(lambda t: _generalised_q(t, y, v) - (k - 1), 0.0, hi, xtol=1e-14,
                                 rtol=4 * np.finfo(float).eps, full_output=True)
    return float(root), int(info.iterations)


def _tau2_reml(y: np.ndarray, v: np.ndarray, start: float, tol: float = 1e-12,
               maxiter: int = 1000) -> tuple[float, int, bool]:
    """REML τ² by Fisher scoring (as metafor), steps halved so that τ² stays >= 0."""
    tau2 = max(start, 0.0)
    for it in range(1, maxiter + 1):
        w = 1.0 / (v + tau2)
        sw, sw2 = w.sum(), np.dot(w, w)
        mu = np.dot(w, y) / sw
        r = y - mu
        tr_p = sw - sw2 / sw
        tr_pp = sw2 - 2 * np.dot(w * w, w) / sw + (sw2 / sw) ** 2
        adj = (np.dot(w * w, r * r) - tr_p) / tr_pp
        step = 1.0
        while tau2 + step * adj < 0:
            step /= 2
            if step < 1e-12:
                adj, step = -tau2, 1.0
                break
        new = tau2 + step * adj
        if abs(new - tau2) < tol:
            return float(max(new, 0.0)), it, True
        tau2 = new
    return float(max(tau2, 0.0)), maxiter, False


def random_effects(yi: Sequence[float], vi: Sequence[float], method: str = "REML", test: str = "z",
                   level: float = 0.95, measure: str = "log_or",
                   sites: Optional[Sequence[str]] = None) -> MetaResult:
    """Random-effects meta-analysis of effects ``yi`` with sampling variances ``vi``.

    H0: μ = 0 (z, or t with knha); H1: μ ≠ 0.  Q tests H0: τ² = 0 against τ² > 0.

    Parameters
    ----------
    yi, vi : sequence of float
        Effects and their sampling variances (at least two).
    method : {"DL", "REML", "PM"}
        The τ² estimator (pinned; no default is taken from a library).
    test : {"z", "knha"}
        Wald CI and test, or Hartung–Knapp–Sidik–Jonkman (t with k − 1 df).
    level : float
        Confidence level of the CI and the prediction interval.
    measure : str
        What ``yi`` are (``log_or`` results print as odds ratios).
    sites : sequence of str, optional
        Labels of the effects, kept with the weights.

    Returns
    -------
    MetaResult

    Examples
    --------
    >>> r = random_effects([0.1, 0.1, 0.1], [0.2, 0.3, 0.4], method="DL")
    >>> r.tau2, r.i2, r.h2       # homogeneous: zero, never negative
    (0.0, 0.0, 1.0)
    """
    method = str(method).upper()
    if method not in ESTIMATORS:
        raise AnalysisError(f"method {method!r}: known estimators are {', '.join(ESTIMATORS)}")
    if test not in ("z", "knha"):
        raise AnalysisError(f"test {test!r}: expected 'z' or 'knha'")
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    k = len(y)
    if k < 2 or len(v) != k:
        raise AnalysisError(f"a random-effects model needs at least two effects with variances, got {k}")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise AnalysisError("every effect needs a finite value and a positive finite variance")
    notes: list[str] = []
    _, _, q, tau2_dl_raw = _dl_statsmodels(y, v)
    iterations, converged = 0, True
    if method == "DL":
        tau2 = max(tau2_dl_raw, 0.0)
        if tau2_dl_raw < 0:
            notes.append(f"the DL moment estimate of τ² was negative ({tau2_dl_raw:.4g}); truncated at 0")
    elif method == "PM":
        tau2, iterations = _tau2_pm(y, v)
    else:
        tau2, iterations, converged = _tau2_reml(y, v, start=max(tau2_dl_raw, 0.0))
        if not converged:
            notes.append(f"REML did not converge in {iterations} Fisher-scoring iterations")
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = float(np.dot(w, y) / sw)
    df = k - 1
    if test == "knha":
        se = math.sqrt(float(np.dot(w, (y - mu) ** 2)) / df / sw)
        crit = float(stats.t.ppf(0.5 + level / 2, df))
        statistic = mu / se if se > 0 else math.nan
        p = float(2 * stats.t.sf(abs(statistic), df)) if se > 0 else math.nan
    else:
        se = math.sqrt(1.0 / sw)
        crit = float(stats.norm.ppf(0.5 + level / 2))
        statistic = mu / se
        p = float(2 * stats.norm.sf(abs(statistic)))
    w0 = 1.0 / v
    vt = df * w0.sum() / (w0.sum() ** 2 - np.dot(w0, w0))
    i2 = 100.0 * tau2 / (tau2 + vt)
    h2 = (tau2 + vt) / vt
    pi_half = crit * math.sqrt(se ** 2 + tau2)
    if k < 3:
        notes.append(f"only {k} sites: τ² and the prediction interval are very uncertain")
    return MetaResult(measure=measure, method=method, test=test, k=k, estimate=mu, se=se,
                      ci_low=mu - crit * se, ci_high=mu + crit * se, statistic=statistic, pvalue=p,
                      tau2=float(tau2), tau=math.sqrt(tau2), i2=float(i2), h2=float(h2), q=q, q_df=df,
                      q_p=float(stats.chi2.sf(q, df)), pi_low=mu - pi_half, pi_high=mu + pi_half,
                      level=level, sites=tuple(str(s) for s in (sites if sites is not None else range(1, k + 1))),
                      weights=tuple(float(x) for x in 100 * w / sw), iterations=iterations,
                      converged=converged, notes=tuple(notes))
