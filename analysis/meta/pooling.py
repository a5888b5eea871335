"""Multi-site pooling: per-site effects, random-effects meta-analysis, fixed-effect checks.

A multi-site replication (Many Labs, a registered replication report) is analysed
the way those projects do it: each site's 2×2 table of every confirmatory contrast
(``Experiment.plan.confirmatory``) gives a log odds ratio and a risk difference
with their sampling variances, and the sites are pooled by a random-effects model

    y_i = μ + u_i + e_i,   u_i ~ N(0, τ²),   e_i ~ N(0, v_i)

H0: μ = 0 (no effect on average over sites); H1: μ ≠ 0.  Cochran's Q tests
H0: τ² = 0 (every site has the same true effect) against H1: τ² > 0.

The shape mirrors metafor's ``rma()``: effects in, one frozen :class:`MetaResult`
out (estimate, SE, CI, τ², τ, I², H², Q, the prediction interval, the estimator
named), and the forest plot (:func:`analysis.plots.forest.plot_forest`) drawn from a
:class:`PoolResult` alone.

What is taken from statsmodels and what is not
----------------------------------------------
``statsmodels.stats.meta_analysis.combine_effects(method_re="dl")`` gives the
inverse-variance fixed-effect estimate, its SE, Cochran's Q and the untruncated
DerSimonian–Laird moment estimate of τ²; they are used as they are, except that
τ² is truncated at zero before anything is computed from it (statsmodels passes a
negative τ² on: on homogeneous data its I² is then (Q − df)/Q, e.g. −640%).
Written here: REML (Fisher scoring), Paule–Mandel (the root of the generalised Q
equation, to machine precision; statsmodels' iteration stops at |Q − df| < 1e-5),
I² and H² as metafor computes them for every estimator (τ² / (τ² + ṽ), with ṽ the
typical within-site variance), the Hartung–Knapp–Sidik–Jonkman interval and the
prediction interval.  Every figure is checked against metafor 3.8 in
``tests/test_meta.py``.

Examples
--------
>>> from analysis.meta.pooling import random_effects
>>> r = random_effects([0.9, 0.2, 0.6, 1.4], [0.10, 0.08, 0.12, 0.20], method="REML")
>>> round(r.estimate, 4), round(r.tau2, 4), r.method
(0.7087, 0.1121, 'REML')
"""
from __future__ import annotations

import dataclasses
import json
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.declared import declaration
from analysis.errors import AnalysisError
from analysis.meta.measures import MEASURES, count_contrast_pools, interaction_pool, rate_pool
from analysis.meta.mh import MH_METHOD, mantel_haenszel
from analysis.meta.random import ESTIMATORS, MetaResult, _dl_statsmodels, random_effects  # noqa: F401  re-exported
from analysis.stats import effects as _effects  # the one home of each effect (issue 21.1)
from analysis.results import Result, format_number, format_p, frame_of, jsonable

__all__ = [
    "META_METHODS",
    "ESTIMATORS",
    "SiteEffect",
    "MetaResult",
    "FixedEffects",
    "ContrastPool",
    "PoolResult",
    "PoolWarning",
    "site_effect",
    "random_effects",
    "fixed_effects",
    "pool",
    "pool_counts",
    "pool_count_cells",
]

#: The methods of this module, pinned (never a library default).
META_METHODS = {
    "effects": "log odds ratio (treatment odds / control odds) and risk difference per site; 0.5 added to "
               "every cell of a site's 2x2 table that has a zero cell (as metafor escalc add=1/2, to='only0'); "
               "var(log OR) = 1/a + 1/b + 1/c + 1/d, var(RD) = p1(1-p1)/n1 + p2(1-p2)/n2",
    "DL": "DerSimonian-Laird moment estimator (statsmodels combine_effects method_re='dl'), truncated at 0",
    "REML": "restricted maximum likelihood, Fisher scoring from the DL value until |change| < 1e-12, "
            "step halved to stay >= 0",
    "PM": "Paule-Mandel: root of sum w_i (y_i - mu)^2 = k - 1 (brentq, xtol 1e-14); 0 when Q < k - 1",
    "i2": "metafor: I2 = tau2 / (tau2 + v~), H2 = (tau2 + v~) / v~, v~ = (k-1) sum w / ((sum w)^2 - sum w^2)",
    "ci": "Wald (normal); with knha: Hartung-Knapp-Sidik-Jonkman, t with k-1 df, no truncation "
          "(metafor test='knha')",
    "pi": "estimate +/- crit * sqrt(SE^2 + tau2), crit = z, or t(k-1) with knha (metafor 3.8 predict)",
    "q": "Cochran's Q against the inverse-variance fixed-effect estimate, chi-square with k-1 df",
    "mh": MH_METHOD,
    "logit": "logistic regression complied ~ treated + site (a factor), maximum likelihood on the per-site "
             "counts by Newton-Raphson (O(k) per step), Wald CI; sites where everybody or nobody complied are "
             "left out (their intercept is infinite)",
}

_MEASURES = {"log_or": "log odds ratio", "rd": "risk difference"}


class PoolWarning(UserWarning):
    """Something about the sites that a pooled number alone would hide."""


# --------------------------------------------------------------------------- #
# Per-site effects
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class SiteEffect(Result):
    """One site's 2×2 table of a contrast and its effects (log OR and RD, with variances).

    ``corrected`` is True when the table had a zero cell and 0.5 was added to every
    cell before the effects and variances were computed.  ``original`` marks the
    original study's row (``--include-original``).
    """

    _aliases = {'estimate': 'log_or', 'ci_low': 'log_or_ci_low', 'ci_high': 'log_or_ci_high', 'term': 'site'}
    _measure = "log odds ratio"

    site: str
    n_treatment: int
    complied_treatment: int
    n_control: int
    complied_control: int
    log_or: float
    var_log_or: float
    rd: float
    var_rd: float
    corrected: bool = False
    original: bool = False
    notes: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return self.n_treatment + self.n_control

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.log_or)

    @property
    def log_or_ci_low(self) -> float:
        """Lower bound of the 95% Wald interval of the log odds ratio."""
        return self.ci()[0]

    @property
    def log_or_ci_high(self) -> float:
        """Upper bound of the 95% Wald interval of the log odds ratio."""
        return self.ci()[1]

    def ci(self, measure: str = "log_or", level: float = 0.95) -> tuple[float, float]:
        """Wald interval of the site's effect on the ``measure`` scale."""
        return _effects.wald_ci(getattr(self, measure), getattr(self, f"var_{measure}"), level)

    def __str__(self) -> str:
        lo, hi = self.ci()
        tag = " (the original study)" if self.original else ""
        fix = " (0.5 added to every cell)" if self.corrected else ""
        return (f"{self.site}{tag}: {self.complied_treatment}/{self.n_treatment} vs "
                f"{self.complied_control}/{self.n_control}; OR = {format_number(math.exp(self.log_or))}, "
                f"95% CI [{format_number(math.exp(lo))}, {format_number(math.exp(hi))}]; "
                f"RD = {format_number(self.rd, leading_zero=False)}{fix}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        lo, hi = self.ci()
        d.update(n=self.n, odds_ratio=math.exp(self.log_or), or_ci_low=math.exp(lo), or_ci_high=math.exp(hi))
        return jsonable(d)


def site_effect(site: str, x1: int, n1: int, x2: int, n2: int, original: bool = False) -> SiteEffect:
    """Log odds ratio and risk difference of one site's table, with their variances.

    Parameters
    ----------
    site : str
        The site's label.
    x1, n1 : int
        Complied and analysed in the treatment arm.
    x2, n2 : int
        Complied and analysed in the control arm (pooled controls).

    Returns
    -------
    SiteEffect
        When a cell is zero, 0.5 is added to every cell (so each arm's n grows by
        1), as metafor's ``escalc(add = 1/2, to = "only0")`` does, and
        ``corrected`` is True.

    Examples
    --------
    >>> e = site_effect("S1", 0, 10, 2, 10)
    >>> round(e.log_or, 4), round(e.rd, 4), e.corrected
    (-1.8207, -0.1818, True)
    """
    if n1 <= 0 or n2 <= 0:
        raise AnalysisError(f"site {site!r}: an arm with no participants has no effect (n = {n1}, {n2})")
    lor = _effects.log_odds_ratio(x1, n1, x2, n2)
    rd = _effects.risk_difference(x1, n1, x2, n2)  # the zero-cell rule, as the OR's
    notes = ("a zero cell: 0.5 added to every cell of this site's table",) if lor.corrected else ()
    return SiteEffect(str(site), int(n1), int(x1), int(n2), int(x2), lor.yi, lor.vi, rd.yi, rd.vi,
                      lor.corrected, original, notes)


def _effect_arrays(x1, n1, x2, n2):
    """Vectorised :func:`site_effect`: (log_or, var_log_or, rd, var_rd, corrected) arrays."""
    x1, n1, x2, n2 = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x1, n1, x2, n2))
    lor = _effects.log_odds_ratio(x1, n1, x2, n2)
    rd = _effects.risk_difference(x1, n1, x2, n2)
    return lor.yi, lor.vi, rd.yi, rd.vi, lor.corrected


# --------------------------------------------------------------------------- #
# Fixed-effect checks
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class FixedEffects(Result):
    """Fixed-effect pooled odds ratios: inverse-variance, Mantel–Haenszel, logistic with site factor.

    Breslow–Day: H0: the odds ratio is the same at every site; H1: it differs.
    CMH: H0: the common odds ratio is 1.  All on the log-OR scale where a scale is needed.
    """

    _aliases = {'statistic': 'cmh_statistic', 'pvalue': 'cmh_p', 'ci_low': 'mh_ci_low', 'ci_high': 'mh_ci_high', 'estimate': 'mh_log_or', 'term': 'label', 'n': 'k'}
    _measure = "log odds ratio"

    k: int
    iv_log_or: float
    iv_se: float
    iv_ci_low: float
    iv_ci_high: float
    mh_log_or: float
    mh_se: float
    mh_ci_low: float
    mh_ci_high: float
    cmh_statistic: float
    cmh_p: float
    breslow_day: float
    breslow_day_p: float
    tarone: float
    tarone_p: float
    logit_log_or: float
    logit_se: float
    logit_ci_low: float
    logit_ci_high: float
    logit_p: float
    logit_sites: int
    level: float = 0.95
    notes: tuple[str, ...] = ()
    cmh_corrected_statistic: float = math.nan
    cmh_corrected_p: float = math.nan
    breslow_day_df: int = 0

    #: the three estimates: (row label, field prefix, its test's statistic and p fields)
    _ESTIMATES = (("FE (inverse variance)", "iv", None, None), ("FE (Mantel-Haenszel)", "mh", "cmh_statistic", "cmh_p"),
                  ("FE (logistic, site factor)", "logit", None, "logit_p"))

    @property
    def label(self) -> str:
        """The headline estimate's name (Mantel-Haenszel; CMH test)."""
        return "FE (Mantel-Haenszel)"

    def _frame_rows(self, part: str = "") -> list:
        """One row per fixed-effect estimate (log OR): inverse variance, Mantel-Haenszel, logistic."""
        rows = []
        for label, name, stat, p in self._ESTIMATES:
            rows.append({"part": part, "result": type(self).__name__, "term": label, "measure": self._measure,
                         "estimate": getattr(self, f"{name}_log_or"), "ci_low": getattr(self, f"{name}_ci_low"),
                         "ci_high": getattr(self, f"{name}_ci_high"), "statistic": getattr(self, stat) if stat else None,
                         "pvalue": getattr(self, p) if p else None,
                         "n": self.logit_sites if name == "logit" else self.k})
        return rows

    def __str__(self) -> str:
        e = lambda x: format_number(math.exp(x))  # noqa: E731
        return (f"Fixed effect (k = {self.k}): inverse-variance OR = {e(self.iv_log_or)} "
                f"[{e(self.iv_ci_low)}, {e(self.iv_ci_high)}]; Mantel-Haenszel OR = {e(self.mh_log_or)} "
                f"[{e(self.mh_ci_low)}, {e(self.mh_ci_high)}] (RBG SE), CMH χ²(1) = "
                f"{format_number(self.cmh_statistic)}, {format_p(self.cmh_p)} (no continuity correction; "
                f"with it χ²(1) = {format_number(self.cmh_corrected_statistic)}, {format_p(self.cmh_corrected_p)}); "
                f"Breslow-Day χ²({self.breslow_day_df}) = {format_number(self.breslow_day)}, "
                f"{format_p(self.breslow_day_p)} (Tarone {format_p(self.tarone_p)}); logistic with site factor "
                f"OR = {e(self.logit_log_or)} [{e(self.logit_ci_low)}, {e(self.logit_ci_high)}], "
                f"{format_p(self.logit_p)}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        for name in ("iv", "mh", "logit"):
            d[f"{name}_odds_ratio"] = math.exp(getattr(self, f"{name}_log_or"))
        d["apa"] = str(self)
        return jsonable(d)


def _logit_site_factor(x1, n1, x2, n2, level: float):
    """complied ~ treated + site, fitted on the per-site counts by Newton-Raphson.

    The model has one intercept per site and a common treatment coefficient β,
    so its information matrix is an arrow (diagonal in the site intercepts plus
    β's row and column): each Newton step is solved through the Schur complement
    of β in O(k), and SE(β) = 1 / √(that complement).  This is the maximum
    likelihood fit R's ``glm(cbind(y, n - y) ~ treated + factor(site), binomial)``
    finds (checked in the tests), without the k × k algebra of a dummy-coded
    design, so 500 sites cost little more than 5.
    """
    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    tot, comp = n1 + n2, x1 + x2
    keep = (comp > 0) & (comp < tot)
    k = int(keep.sum())
    if k == 0:
        return (math.nan,) * 5 + (0, ("no site has both compliers and non-compliers: no logistic model",))
    x1, n1, x2, n2 = x1[keep], n1[keep], x2[keep], n2[keep]
    alpha = np.log((x1 + x2) / (n1 + n2 - x1 - x2))
    beta = 0.0
    converged = False
    for _ in range(200):
        p1 = 1 / (1 + np.exp(-(alpha + beta)))
        p2 = 1 / (1 + np.exp(-alpha))
        r1, r2 = x1 - n1 * p1, x2 - n2 * p2
        w1, w2 = n1 * p1 * (1 - p1), n2 * p2 * (1 - p2)
        d = w1 + w2
        u_alpha, u_beta = r1 + r2, r1.sum()
        schur = w1.sum() - np.sum(w1 * w1 / d)
        step_beta = (u_beta - np.sum(w1 * u_alpha / d)) / schur
        step_alpha = (u_alpha - w1 * step_beta) / d
        beta += step_beta
        alpha += step_alpha
        if abs(step_beta) < 1e-12 and np.max(np.abs(step_alpha)) < 1e-10:
            converged = True
            break
    p1 = 1 / (1 + np.exp(-(alpha + beta)))
    p2 = 1 / (1 + np.exp(-alpha))
    w1, w2 = n1 * p1 * (1 - p1), n2 * p2 * (1 - p2)
    schur = w1.sum() - np.sum(w1 * w1 / (w1 + w2))
    if not converged or not math.isfinite(beta) or not schur > 0:
        return (math.nan,) * 5 + (k, ("logistic model did not converge (the treatment separates compliers "
                                      "at every site?): no estimate",))
    se = 1 / math.sqrt(schur)
    z = stats.norm.ppf(0.5 + level / 2)
    p = float(2 * stats.norm.sf(abs(beta / se)))
    return float(beta), se, beta - z * se, beta + z * se, p, k, ()


def fixed_effects(effects: Sequence[SiteEffect], level: float = 0.95) -> FixedEffects:
    """Inverse-variance and Mantel–Haenszel pooled odds ratios with Breslow–Day, and a
    logistic regression with site as a factor, from the sites' tables.

    Examples
    --------
    >>> es = [site_effect("A", 12, 24, 6, 24), site_effect("B", 15, 30, 9, 31)]
    >>> f = fixed_effects(es)
    >>> round(math.exp(f.mh_log_or), 3)
    2.669
    """
    effects = [e for e in effects if not e.original]
    k = len(effects)
    y = np.array([e.log_or for e in effects])
    v = np.array([e.var_log_or for e in effects])
    iv, iv_var, _, _ = _dl_statsmodels(y, v)
    iv_se = math.sqrt(iv_var)
    z = float(stats.norm.ppf(0.5 + level / 2))
    x1 = np.array([e.complied_treatment for e in effects], dtype=float)
    n1 = np.array([e.n_treatment for e in effects], dtype=float)
    x2 = np.array([e.complied_control for e in effects], dtype=float)
    n2 = np.array([e.n_control for e in effects], dtype=float)
    mh = mantel_haenszel(x1, n1 - x1, x2, n2 - x2, level)
    notes: list[str] = []
    if not math.isfinite(mh.log_or):
        notes.append("Mantel-Haenszel: the pooled odds ratio is undefined (no site has a discordant pair of cells)")
    if mh.k_pos < k:
        notes.append(f"Breslow-Day and Tarone: {k - mh.k_pos} site(s) where nobody or everybody complied carry "
                     f"no information on the odds ratio and are left out (as metafor rma.mh): "
                     f"df = {max(mh.k_pos - 1, 0)}")
    lb, lse, llo, lhi, lp, lk, lnotes = _logit_site_factor(x1, n1, x2, n2, level)
    notes += lnotes
    if lk < k:
        notes.append(f"logistic model: {k - lk} site(s) where everybody or nobody complied left out")
    return FixedEffects(k=k, iv_log_or=iv, iv_se=iv_se, iv_ci_low=iv - z * iv_se, iv_ci_high=iv + z * iv_se,
                        mh_log_or=mh.log_or, mh_se=mh.se, mh_ci_low=mh.ci_low, mh_ci_high=mh.ci_high,
                        cmh_statistic=mh.cmh, cmh_p=mh.cmh_p,
                        breslow_day=mh.breslow_day, breslow_day_p=mh.breslow_day_p,
                        tarone=mh.tarone, tarone_p=mh.tarone_p,
                        logit_log_or=lb, logit_se=lse, logit_ci_low=llo, logit_ci_high=lhi, logit_p=lp,
                        logit_sites=lk, level=level, notes=tuple(notes),
                        cmh_corrected_statistic=mh.cmh_corrected, cmh_corrected_p=mh.cmh_corrected_p,
                        breslow_day_df=max(mh.k_pos - 1, 0))


# --------------------------------------------------------------------------- #
# One contrast, and the whole pooling
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ContrastPool(Result):
    """Pooling of one confirmatory contrast over sites.

    ``random`` holds one :class:`MetaResult` per estimator on the log-OR scale
    (``ESTIMATORS`` order), ``random_rd`` the same on the risk-difference scale;
    ``method`` names the headline estimator.  ``left_out`` lists ``(site, reason)``
    for sites that lack a condition of the contrast.  With the original study
    included, ``original`` is its row and ``with_original`` the log-OR models
    refitted with it as one more site.
    """

    label: str
    treatment: str
    control: tuple[str, ...]
    method: str
    sites: tuple[SiteEffect, ...]
    left_out: tuple[tuple[str, str], ...]
    random: tuple[MetaResult, ...]
    random_rd: tuple[MetaResult, ...]
    fixed: Optional[FixedEffects]
    original: Optional[SiteEffect] = None
    with_original: tuple[MetaResult, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def headline(self) -> Optional[MetaResult]:
        """The log-OR model of the chosen estimator (None when fewer than two sites remain)."""
        return next((r for r in self.random if r.method == self.method), None)

    def result(self, method: str, measure: str = "log_or", with_original: bool = False) -> MetaResult:
        pool_ = self.with_original if with_original else (self.random if measure == "log_or" else self.random_rd)
        return next(r for r in pool_ if r.method == method.upper())

    def __str__(self) -> str:
        lines = [f"{self.label}: {self.treatment} vs {' + '.join(self.control)}"]
        lines += [f"  {s}" for s in self.sites]
        if self.original is not None:
            lines.append(f"  {self.original}")
        for site, why in self.left_out:
            lines.append(f"  {site}: left out ({why})")
        if self.random:
            lines.append("  Random effects, odds ratio:")
            lines += [f"    {r}" + ("   <- chosen" if r.method == self.method else "") for r in self.random]
            lines.append("  Random effects, risk difference:")
            lines += [f"    {r}" for r in self.random_rd if r.method == self.method]
        if self.with_original:
            lines.append("  With the original study as one more site:")
            lines += [f"    {r}" for r in self.with_original if r.method == self.method]
        if self.fixed is not None:
            lines.append(f"  {self.fixed}")
        notes = list(self.notes) + [n for r in self.random if r.method == self.method for n in r.notes]
        if self.fixed is not None:
            notes += list(self.fixed.notes)
        lines += [f"  Note: {n}" for n in dict.fromkeys(notes)]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["left_out"] = [{"site": s, "reason": r} for s, r in self.left_out]
        d["headline"] = jsonable(self.headline)
        return jsonable(d)


@dataclass(frozen=True)
class PoolResult(Result):
    """Everything ``compliance pool`` reports: every confirmatory contrast pooled over sites."""

    study: str
    experiment: int
    title: str
    by: str
    method: str
    test: str
    level: float
    n_sites: int
    contrasts: tuple[ContrastPool, ...]
    files: tuple[str, ...] = ()
    include_original: bool = False
    notes: tuple[str, ...] = ()
    #: the other measures pooled (count plans: SMD and ROM; the whole-study rate: PLO; the
    #: factorial interaction: log ratio of ORs), see :mod:`analysis.meta.measures`
    pools: tuple = ()
    #: how the data were made: ``real``, ``pilot``, ``simulated``, ``unrecorded``, or ``table``
    data_origin: tuple[str, ...] = ()

    @property
    def simulated(self) -> bool:
        return "simulated" in self.data_origin

    @property
    def origin_label(self) -> str:
        """``SIMULATED DATA: ...`` (or the pilot line) heading every output; '' for real data."""
        from analysis.load.sessions import origin_label

        return origin_label(self.data_origin)

    def __str__(self) -> str:
        ci = "Hartung-Knapp-Sidik-Jonkman" if self.test == "knha" else "Wald"
        lines = [self.origin_label] if self.origin_label else []
        lines += [f"{self.study}, Experiment {self.experiment}: {self.title}",
                 f"  {self.n_sites} sites (by {self.by!r}); random effects, τ² by {self.method}, {ci} CI, "
                 f"{self.level:.0%} prediction interval for a new site"]
        for c in self.contrasts:
            lines += ["  " + line for line in str(c).splitlines()]
        for c in self.pools:
            lines += ["  " + line for line in str(c).splitlines()]
        lines += [f"  Note: {n}" for n in self.notes]
        if self.origin_label:
            lines.append(self.origin_label)
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row per site (and the original study) and one per pooled estimate, per contrast.

        Columns: :data:`~analysis.results.FRAME_COLUMNS` (``part`` is ``contrasts``,
        ``result`` the row's class, ``term`` its label, ``statistic``/``pvalue`` the pooled
        z or t test and the CMH test), then ``contrast, row
        (site|original|pooled|pooled_with_original|fixed), label, method, k, se, weight,
        tau2, i2, h2, q, q_p, pi_low, pi_high, corrected``; estimates on the ``measure``
        scale (log OR or RD).
        """
        rows = []
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        for c in self.contrasts:
            head = c.headline
            w = dict(zip(head.sites, head.weights)) if head else {}
            site_rows = [(s, "site") for s in c.sites] + ([(c.original, "original")] if c.original else [])
            for s, kind in site_rows:
                for measure in ("log_or", "rd"):
                    y, var = getattr(s, measure), getattr(s, f"var_{measure}")
                    rows.append(dict(part="contrasts", result="SiteEffect", term=s.site,
                                     contrast=c.label, row=kind, label=s.site, method=None, measure=measure,
                                     k=1, n=s.n, estimate=y, se=math.sqrt(var), ci_low=y - z * math.sqrt(var),
                                     ci_high=y + z * math.sqrt(var),
                                     weight=w.get(s.site) if (kind == "site" and measure == "log_or") else None,
                                     corrected=s.corrected))
            for kind, models in (("pooled", c.random + c.random_rd), ("pooled_with_original", c.with_original)):
                for r in models:
                    rows.append(dict(part="contrasts", result="MetaResult", term=r.label, statistic=r.statistic,
                                     pvalue=r.pvalue,
                                     contrast=c.label, row=kind, label=r.label, method=r.method,
                                     measure=r.measure, k=r.k, n=None, estimate=r.estimate, se=r.se,
                                     ci_low=r.ci_low, ci_high=r.ci_high, weight=None, tau2=r.tau2, i2=r.i2,
                                     h2=r.h2, q=r.q, q_p=r.q_p, pi_low=r.pi_low, pi_high=r.pi_high))
            if c.fixed is not None:
                f = c.fixed
                for label, name, stat, p in f._ESTIMATES:
                    rows.append(dict(part="contrasts", result="FixedEffects", term=label,
                                     statistic=getattr(f, stat) if stat else None, pvalue=getattr(f, p) if p else None,
                                     contrast=c.label, row="fixed", label=label, method=name.upper(),
                                     measure="log_or", k=f.k if name != "logit" else f.logit_sites, n=None,
                                     estimate=getattr(f, f"{name}_log_or"), se=getattr(f, f"{name}_se"),
                                     ci_low=getattr(f, f"{name}_ci_low"), ci_high=getattr(f, f"{name}_ci_high")))
        cols = ("contrast", "row", "label", "method", "k", "se", "weight", "tau2", "i2", "h2", "q", "q_p",
                "pi_low", "pi_high", "corrected")
        return frame_of(rows, extra=cols)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["methods"] = dict(META_METHODS)
        d["methods"].update({f"measure_{k}": v[0] for k, v in MEASURES.items()})
        d["apa"] = [str(c.headline) if c.headline else None for c in self.contrasts]
        d["simulated"] = self.simulated
        d["origin_label"] = self.origin_label
        return jsonable(d)


def _natural_key(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(s))]


def _pool_contrast(counts: pd.DataFrame, experiment, contrast, method: str, test: str, level: float,
                   original: Optional[SiteEffect] = None) -> ContrastPool:
    """Pool one contrast from per-site, per-condition counts (index site, columns conditions)."""
    treat = experiment.members(contrast.treatment, contrast.factor)
    ctrl = experiment.members(contrast.control, contrast.factor)
    n = counts["n"].reindex(columns=list(treat + ctrl), fill_value=0)
    x = counts["complied"].reindex(columns=list(treat + ctrl), fill_value=0)
    missing = n.eq(0)
    left_out = []
    for site in n.index[missing.any(axis=1)]:
        gone = [c for c in treat + ctrl if missing.loc[site, c]]
        left_out.append((str(site), "no analysed participant in " + ", ".join(gone)))
    keep = ~missing.any(axis=1).to_numpy()
    sites = [str(s) for s in n.index[keep]]
    n1 = n[list(treat)].sum(axis=1).to_numpy()[keep]
    x1 = x[list(treat)].sum(axis=1).to_numpy()[keep]
    n2 = n[list(ctrl)].sum(axis=1).to_numpy()[keep]
    x2 = x[list(ctrl)].sum(axis=1).to_numpy()[keep]
    lor, vlor, rd, vrd, corr = _effect_arrays(x1, n1, x2, n2)
    note = "a zero cell: 0.5 added to every cell of this site's table"
    effects = tuple(SiteEffect(s, int(a), int(b), int(c), int(d), float(e), float(f), float(g), float(h),
                               bool(k), False, (note,) if k else ())
                    for s, a, b, c, d, e, f, g, h, k in zip(sites, n1, x1, n2, x2, lor, vlor, rd, vrd, corr))
    notes = []
    if corr.any():
        notes.append(f"{int(corr.sum())} site(s) with a zero cell: 0.5 added to every cell of their table")
    if left_out:
        notes.append(f"{len(left_out)} site(s) left out of this contrast for lack of a condition: "
                     + ", ".join(s for s, _ in left_out))
    control = tuple(contrast.control)
    if len(effects) < 2:
        notes.append(f"only {len(effects)} site(s) have every condition of this contrast: nothing pooled")
        return ContrastPool(contrast.label, contrast.treatment, control, method, effects, tuple(left_out),
                            (), (), None, original, (), tuple(notes))
    rnd = tuple(random_effects(lor, vlor, m, test, level, "log_or", sites) for m in ESTIMATORS)
    rnd_rd = tuple(random_effects(rd, vrd, m, test, level, "rd", sites) for m in ESTIMATORS)
    fixed = fixed_effects(effects, level)
    with_orig: tuple[MetaResult, ...] = ()
    if original is not None:
        with_orig = tuple(random_effects(np.append(lor, original.log_or), np.append(vlor, original.var_log_or),
                                         m, test, level, "log_or", sites + [original.site]) for m in ESTIMATORS)
    return ContrastPool(contrast.label, contrast.treatment, control, method, effects, tuple(left_out), rnd,
                        rnd_rd, fixed, original, with_orig, tuple(notes))


def _plan_of(study: str, experiment: int):
    """The experiment's CountPlan, or None for a binary plan."""
    from paradigms.base import CountPlan

    plan = declaration(study).experiment(experiment).plan
    return plan if isinstance(plan, CountPlan) else None


def _binary_plan(study: str, experiment: int):
    from paradigms.base import ContrastPlan

    paradigm = declaration(study)
    exp = paradigm.experiment(experiment)
    if not isinstance(exp.plan, ContrastPlan):
        raise AnalysisError(f"{paradigm.id} experiment {experiment} declares a {type(exp.plan).__name__}: pooling works "
                            "on the binary contrasts of a ContrastPlan")
    return exp


def pool_counts(counts: pd.DataFrame, study: str, experiment: int, by: str = "site", method: str = "REML",
                knha: bool = False, level: float = 0.95, originals: Optional[dict] = None,
                files: Sequence[str] = (), notes: Sequence[str] = (),
                data_origin: Sequence[str] = ()) -> PoolResult:
    """Pool every confirmatory contrast from per-site counts.

    Parameters
    ----------
    counts : DataFrame
        Columns ``by`` (the site), ``condition``, ``n`` (analysed) and ``complied``.
    study, experiment
        The declared paradigm and experiment whose plan names the contrasts.
    originals : dict, optional
        Contrast label -> (:class:`SiteEffect` of the original study or None, notes).

    Returns
    -------
    PoolResult

    Examples
    --------
    >>> import pandas as pd
    >>> cells = [(s, c, 40, k) for s, ks in [('S1', (25, 12, 13)), ('S2', (20, 15, 15)), ('S3', (30, 10, 10))] for c, k in zip(['rejection_moderation', 'exposure_control', 'smaller_request_only'], ks)]
    >>> counts = pd.DataFrame(cells, columns=['site', 'condition', 'n', 'complied'])
    >>> res = pool_counts(counts, 'cialdini1975', 1)
    >>> print(res.contrasts[0].headline)
    REML, k = 3: OR = 3.73, 95% CI [1.45, 9.63], z = 2.72, p = .006; τ² = 0.530, I² = 75.5%, H² = 4.09; Q(2) = 8.06, p = .018; 95% PI [0.67, 20.70]
    """
    method = str(method).upper()
    if method not in ESTIMATORS:
        raise AnalysisError(f"--method {method.lower()!r}: choose one of {', '.join(m.lower() for m in ESTIMATORS)}")
    exp = _binary_plan(study, experiment)
    study = declaration(study).id
    wide = counts.pivot_table(index=by, columns="condition", values=["n", "complied"], aggfunc="sum",
                              fill_value=0, observed=True)
    wide = wide.reindex(sorted(wide.index, key=_natural_key))
    if len(wide.index) < 2:
        only = ", ".join(map(str, wide.index)) or "none"
        raise AnalysisError(f"only one {by} ({only}) in the data: pooling needs at least two; "
                            "use 'compliance analyze' for one site")
    test = "knha" if knha else "z"
    pools = []
    for k in exp.plan.confirmatory:
        orig, orig_notes = (originals or {}).get(k.label, (None, ()))
        c = _pool_contrast(wide, exp, k, method, test, level, orig)
        if orig_notes:
            c = dataclasses.replace(c, notes=c.notes + tuple(orig_notes))
        pools.append(c)
    pools = tuple(pools)
    others = [rate_pool(counts, by, method, test, level)]
    if getattr(exp.plan, "moderator", None):
        inter = interaction_pool(counts, exp, by, method, test, level)
        if inter is not None:
            others.insert(0, inter)
    return PoolResult(study, int(experiment), exp.title, by, method, test, level, len(wide.index), pools,
                      tuple(files), bool(originals), tuple(notes), tuple(others), tuple(data_origin))


def pool_count_cells(cells: pd.DataFrame, study: str, experiment: int, method: str = "REML", knha: bool = False,
                     level: float = 0.95, files: Sequence[str] = (), notes: Sequence[str] = (),
                     data_origin: Sequence[str] = (), by: str = "site") -> PoolResult:
    """Pool every confirmatory contrast of a count plan (Regan) from per-site cell moments.

    Parameters
    ----------
    cells : DataFrame
        Columns ``site``, ``condition``, ``mean``, ``sd``, ``n``: one row per site and condition.
    study, experiment
        The declared paradigm and experiment (its plan a ``CountPlan``).

    Returns
    -------
    PoolResult
        ``contrasts`` is empty; ``pools`` holds Hedges' g (SMD) and the log ratio of means (ROM)
        of every confirmatory contrast.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = [(s, f"{f}_{l}", m + (0.5 if f != "no_favor" else 0), 1.5, 8) for s, m in (("A", 1.0), ("B", 1.4), ("C", 0.9)) for f in ("confederate_favor", "experimenter_favor", "no_favor") for l in ("pleasant", "unpleasant")]
    >>> res = pool_count_cells(pd.DataFrame(rows, columns=["site", "condition", "mean", "sd", "n"]), "regan1971", 1)
    >>> [p.measure for p in res.pools][:2], res.n_sites
    (['SMD', 'ROM'], 3)
    """
    from paradigms.base import CountPlan

    method = str(method).upper()
    if method not in ESTIMATORS:
        raise AnalysisError(f"--method {method.lower()!r}: choose one of {', '.join(m.lower() for m in ESTIMATORS)}")
    paradigm = declaration(study)
    study, exp = paradigm.id, paradigm.experiment(experiment)
    if not isinstance(exp.plan, CountPlan):
        raise AnalysisError(f"{study} experiment {experiment} declares a {type(exp.plan).__name__}, not a count plan")
    sites = sorted(dict.fromkeys(cells["site"].astype(str)), key=_natural_key)
    if len(sites) < 2:
        raise AnalysisError(f"only one {by} ({', '.join(sites) or 'none'}) in the data: pooling needs at least two; "
                            "use 'compliance analyze' for one site")
    cells = cells.assign(site=cells["site"].astype(str)).set_index("site").loc[sites].reset_index()
    test = "knha" if knha else "z"
    pools = count_contrast_pools(cells, exp, method, test, level)
    return PoolResult(study, int(experiment), exp.title, by, method, test, level, len(sites), (), tuple(files),
                      False, tuple(notes), pools, tuple(data_origin))


# --------------------------------------------------------------------------- #
# From session files
# --------------------------------------------------------------------------- #
_SITE_KEY = re.compile(r"_site-([A-Za-z0-9]+)_")


def _check_sites(data: pd.DataFrame, by: str, files: Sequence[str]) -> list[str]:
    """Site labels present in every row and consistent with the file names and sidecars.

    Returns warnings (stated, not raised) about labels that may hide two sites.
    """
    if by not in data.columns:
        raise AnalysisError(f"{files[0]}: no column {by!r} to pool by (--by {by})")
    empty = data[by].isna()
    if empty.any():
        row = data[empty].iloc[0]
        raise AnalysisError(f"{row['source_file']}: line {row['source_line']} (data row {row['source_row']}), "
                            f"column {by!r}: empty, but every row needs a {by} label to be pooled")
    warns: list[str] = []
    if by != "site":
        return warns
    per_file = data.groupby("source_file", sort=False)["site"].unique()
    schedules: dict[str, dict[str, set]] = {}
    for file, labels in per_file.items():
        name = Path(file).name
        m = _SITE_KEY.search("_" + name)
        if m and len(labels) == 1 and m.group(1) != labels[0]:
            raise AnalysisError(f"{file}: the file name says site {m.group(1)!r} but column 'site' says "
                                f"{labels[0]!r}")
        sidecar = Path(file).with_name(name[: -len("_data.csv")] + "_data.json") if name.endswith("_data.csv") \
            else None
        if sidecar is None or not sidecar.is_file():
            continue
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AnalysisError(f"{sidecar}: not a readable JSON sidecar ({exc})") from None
        if "site" in meta and len(labels) == 1 and str(meta["site"]) != labels[0]:
            raise AnalysisError(f"{sidecar}: field 'site' is {meta['site']!r} but {name} says {labels[0]!r}")
        sha = meta.get("schedule_sha256")
        if sha:
            for label in labels:
                schedules.setdefault(str(label), {}).setdefault(sha, set()).add(str(meta.get("experimenter", "?")))
    for label, by_sha in schedules.items():
        if len(by_sha) > 1:
            who = "; ".join(f"{sha[:12]} (experimenter {', '.join(sorted(e))})" for sha, e in by_sha.items())
            warns.append(f"site {label!r}: sessions follow {len(by_sha)} different pre-registered schedules "
                         f"({who}): two sites under one label? They are pooled as one site")
    return warns


def pool(*sources, by: str = "site", method: str = "REML", knha: bool = False, include_original: bool = False,
         level: float = 0.95, warn: bool = True) -> PoolResult:
    """Pool session files of a multi-site replication: per-site effects, random and fixed effects.

    Parameters
    ----------
    *sources : path(s) or LoadedData
        Session CSVs or folders (all sites of one experiment of one study).
    by : str
        The column that names the site (``site``, the session files' keyword).
    method : {"REML", "DL", "PM"}
        The headline τ² estimator (all three are computed and reported).
    knha : bool
        Hartung–Knapp–Sidik–Jonkman CI and test instead of the Wald ones.
    include_original : bool
        Add the original study's counts as a marked row, and report the pooled
        estimate with it beside the one without it.
    level : float
        Confidence level of the CIs and prediction intervals.
    warn : bool
        Emit :class:`PoolWarning` for what the result's notes state.

    Returns
    -------
    PoolResult

    Raises
    ------
    AnalysisError
        Files of more than one study or experiment; a row without a site label;
        a site label that disagrees with its file name or sidecar; one site only.

    Examples
    --------
    >>> from analysis import pool
    >>> res = pool("data/sessions/")                    # doctest: +SKIP
    >>> print(res.contrasts[0].headline)                # doctest: +SKIP
    >>> res.to_frame()                                  # doctest: +SKIP
    """
    from analysis.load.sessions import LoadedData, load_sessions

    if len(sources) == 1 and isinstance(sources[0], LoadedData):
        loaded = sources[0]
    else:
        loaded = load_sessions(*sources)
    exps = loaded.experiments()
    if not exps:
        raise AnalysisError("no session rows to pool")
    if len(exps) > 1:
        (s1, e1), (s2, e2) = exps[:2]
        f1, f2 = loaded.files_of(s1, e1)[0], loaded.files_of(s2, e2)[0]
        raise AnalysisError(f"sites of different experiments in one call: {s1} experiment {e1} ({f1}) and "
                            f"{s2} experiment {e2} ({f2}); pool one experiment of one study at a time")
    study, experiment = exps[0]
    origin = loaded.origin_of(study, experiment)
    data = loaded.analysable()
    notes = _check_sites(loaded.data, by, loaded.files)
    if data.empty:
        raise AnalysisError(f"{loaded.files[0]}: no analysed participant (all excluded or withdrawn)")
    plan = _plan_of(study, experiment)
    if plan is not None:
        y = data[plan.outcome].astype(float)
        cells = (data.assign(**{by: data[by].astype(str), "_y": y}).groupby([by, "condition"], observed=True)["_y"]
                 .agg(mean="mean", sd="std", n="size").reset_index().rename(columns={by: "site"}))
        res = pool_count_cells(cells, study, experiment, method=method, knha=knha, level=level, files=loaded.files,
                               notes=notes, data_origin=origin, by=by)
        if warn:
            for n in notes:
                warnings.warn(n, PoolWarning, stacklevel=2)
        return res
    _binary_plan(study, experiment)
    counts = (data.assign(complied=data["complied"].astype(int), **{by: data[by].astype(str)})
              .groupby([by, "condition"], observed=True)["complied"].agg(n="size", complied="sum").reset_index())
    originals = None
    if include_original:
        originals = _originals(study, experiment)
    res = pool_counts(counts, study, experiment, by=by, method=method, knha=knha, level=level,
                      originals=originals, files=loaded.files, notes=notes, data_origin=origin)
    if warn:
        for n in notes:
            warnings.warn(n, PoolWarning, stacklevel=2)
    return res


def _originals(study: str, experiment: int) -> dict:
    """The original study's row of every confirmatory contrast: label -> (SiteEffect or None, notes).

    Counts come from :func:`analysis.replication.original.original_effect` (published counts, or
    counts derived from a published rate and n, said so); where the original n is
    unknown there is no row, and the note says why.
    """
    from analysis.replication.original import original_effect

    paradigm = declaration(study)
    exp = paradigm.experiment(experiment)
    out = {}
    for k in exp.plan.confirmatory:
        oe = original_effect(paradigm, experiment, k)
        if not oe.counts_known:
            why = oe.reason or "the original counts are not published"
            out[k.label] = (None, (f"original study not added: {why}",))
            continue
        t, c = oe.treatment, oe.control
        notes = []
        if t.derived or c.derived:
            notes.append("original counts derived from a published rate and n (rounded)")
        if oe.source:
            notes.append(f"original: {oe.source}" + (f" ({oe.confidence})" if oe.confidence else ""))
        notes += list(oe.notes)
        e = site_effect("Original", t.complied, t.n, c.complied, c.n, original=True)
        out[k.label] = (dataclasses.replace(e, notes=e.notes + tuple(notes)), tuple(notes))
    return out
