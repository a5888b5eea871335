"""Statistics of a count outcome in a two-factor between-subjects design (Regan, 1971).

The outcome is a count (raffle tickets bought); the design crosses a favor
factor (confederate favor, experimenter favor, no favor) with a liking factor
(pleasant, unpleasant).  :func:`analyze_counts` runs the whole plan on tidy
session data (one row per participant, the columns of the session CSVs) and
returns a frozen :class:`CountAnalysis`; :func:`analyze_count_plan` is the same
with a declared CountPlan supplying the planned contrasts.

What is computed, and how (methods are pinned, see :data:`METHODS`):

* cell table: n, mean, SD (ddof = 1), 95% CI of the mean (t, n - 1 df);
* two-way ANOVA of the counts by OLS, **type II** sums of squares
  (``anova_lm(typ=2)``; each main effect adjusted for the other, the
  interaction for both; sum-to-zero coding, though type II does not depend on
  it);
* Poisson GLM and negative binomial (NB2) regression with the same terms.  The
  NB dispersion alpha is **estimated** by maximum likelihood
  (``statsmodels.formula.api.negativebinomial``; the GLM ``NegativeBinomial()``
  family would silently fix alpha = 1).  Terms are tested by likelihood ratio
  between nested fits, in the type II order; the Poisson fit reports its
  Pearson dispersion (chi2 / df) so overdispersion is visible;
* planned contrasts on the favor factor (H0: the unweighted marginal means of
  the two favor levels are equal; H1: they differ), t test with the ANOVA's
  pooled error, plus the NB rate ratio of the same contrast (the ratio of the
  geometric means of the cell means, Wald z);
* Pearson correlation of the liking composite with the count within each favor
  level (H0: rho = 0), and the Fisher z test of the difference between two
  independent correlations (H0: rho1 = rho2);
* the threshold measure: the share buying more than ``threshold`` tickets in
  the treatment level vs the pooled control levels, risk difference with
  Newcombe's hybrid-score CI (``method="newcomb"``) and Fisher's exact test.

Rows with ``excluded == 1`` or ``data_consent == 0`` are never analysed
(:func:`analysis.load.status.participant_status` decides; withdrawal wins over exclusion).
This module never imports PsychoPy.
"""
from __future__ import annotations

import dataclasses

import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError
from analysis.results import LikelihoodRatioTest, Result, _isnan, format_number, format_p, jsonable
from analysis.load.status import report_counts, split_by_status

__all__ = [
    "METHODS",
    "CellSummary",
    "AnovaTerm",
    "GLMTerm",
    "LRTest",
    "GLMResult",
    "PlannedContrast",
    "Correlation",
    "CorrelationDifference",
    "ThresholdRate",
    "ThresholdResult",
    "CountAnalysis",
    "prepare",
    "cell_summaries",
    "anova_table",
    "poisson_glm",
    "negative_binomial",
    "planned_contrast",
    "liking_correlations",
    "correlation_difference",
    "threshold_test",
    "analyze_counts",
    "analyze_count_plan",
    "analyze_count_input",
    "score_correlations",
]

#: The methods used, pinned (library defaults change between releases).
METHODS: Mapping[str, str] = {
    "anova": "type II by model comparison on the cells present (each main effect vs the additive model "
             "without it, the interaction vs the additive model), F with the full model's residual mean square",
    "cell_ci": "t interval, n - 1 df",
    "poisson": "GLM Poisson, log link; LR tests of nested fits (type II order)",
    "negative_binomial": "NB2, alpha by profile likelihood (root of the profile score, brentq on log alpha; "
                         "alpha = 0 detected by the Dean-Lawless score), IRLS at that alpha; alpha CI by "
                         "profile likelihood; LR tests of nested fits (type II order)",
    "aic": "-2 loglik + 2 k; for NB2 k counts the regression coefficients and alpha (also when alpha = 0, "
           "on its boundary), as MASS::glm.nb counts theta",
    "contrast": "unweighted marginal means of the cells present, pooled within-cell error, t(df_error)",
    "contrast_rate_ratio": "NB2 cell-means model, Wald z on mean log cell means",
    "correlation": "Pearson r, t test; CI by Fisher z",
    "correlation_difference": "Fisher z, two independent correlations",
    "threshold_ci": "confint_proportions_2indep(method='newcomb', compare='diff')",
    "threshold_test": "scipy.stats.fisher_exact, two-sided",
}


# --------------------------------------------------------------------------- #
# Formatting.
# --------------------------------------------------------------------------- #
def _n(x, d: int = 2, zero: bool = True) -> str:
    return format_number(x, d, leading_zero=zero)


_p = format_p
_nan = _isnan
_jsonable = jsonable


def _label(level: str) -> str:
    return str(level).replace("_", " ")


# --------------------------------------------------------------------------- #
# Result objects.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class CellSummary(Result):
    """One cell of the design: its level of the first and of the second factor, and the count's n, mean,
    SD and 95% CI of the mean.  ``favor``/``liking`` are deprecated names of ``level_a``/``level_b``."""

    _aliases = {"estimate": "mean", "term": "cell"}
    _measure = "mean count"

    level_a: str
    level_b: str
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float

    @property
    def cell(self) -> str:
        """The cell's levels, ``first factor's / second factor's``."""
        return f"{self.level_a} / {self.level_b}"

    @property
    def favor(self) -> str:
        """Deprecated name of :attr:`level_a`."""
        return self.level_a

    @property
    def liking(self) -> str:
        """Deprecated name of :attr:`level_b`."""
        return self.level_b

    def __str__(self) -> str:
        return (f"{_label(self.level_a)}, {_label(self.level_b)}: M = {_n(self.mean)}, SD = {_n(self.sd)}, "
                f"95% CI [{_n(self.ci_low)}, {_n(self.ci_high)}], n = {self.n}")


@dataclass(frozen=True)
class AnovaTerm(Result):
    """One row of the type II ANOVA table (H0: the term explains nothing)."""

    _aliases = {"statistic": "F", "pvalue": "p", "estimate": "partial_eta2", "term": "term"}
    _measure = "partial eta squared"

    term: str
    ss: float
    df1: float
    df2: float
    F: float
    p: float
    partial_eta2: float
    #: why F is NaN (not tested, undefined), when it is
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if _nan(self.F) and self.notes:
            return f"{self.term}: not computed: {'; '.join(self.notes)}"
        return (f"{self.term}: F({self.df1:g}, {self.df2:g}) = {_n(self.F)}, {_p(self.p)}, "
                f"ηp² = {_n(self.partial_eta2, 2, zero=False)}")


@dataclass(frozen=True)
class GLMTerm(Result):
    """A coefficient (log scale) and its rate ratio exp(b) with a 95% Wald CI."""

    _aliases = {"statistic": "z", "pvalue": "p", "ci_low": "rr_low", "ci_high": "rr_high",
                "estimate": "rate_ratio", "term": "term"}
    _measure = "rate ratio"

    term: str
    estimate: float
    se: float
    z: float
    p: float
    rate_ratio: float
    rr_low: float
    rr_high: float
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if _nan(self.estimate) and self.notes:
            return f"{self.term}: {'; '.join(self.notes)}"
        return (f"{self.term}: RR = {_n(self.rate_ratio)}, 95% CI [{_n(self.rr_low)}, {_n(self.rr_high)}], "
                f"z = {_n(self.z)}, {_p(self.p)}")


#: The former name of the likelihood-ratio test class (one class now: :class:`analysis.results.LikelihoodRatioTest`).
LRTest = LikelihoodRatioTest


@dataclass(frozen=True)
class GLMResult(Result):
    """A Poisson or negative binomial (NB2) regression of the count on the design.

    ``alpha`` is the NB2 dispersion (variance = mu + alpha mu²), estimated by
    profile likelihood, with its 95% profile-likelihood CI (never below 0) and
    the LR test of alpha = 0 (H0: Poisson; the p value is halved because
    alpha = 0 is on the boundary).  ``alpha_at_boundary`` is true when the
    likelihood is largest at alpha = 0: the NB2 fit is then the Poisson fit.
    A model that could not be fitted has ``computed`` false and says why in
    ``notes``.  For the Poisson
    fit ``alpha`` is 0 and ``pearson_dispersion`` (Pearson chi2 / residual df)
    shows overdispersion when well above 1.
    """

    _aliases = {"statistic": "alpha_lr_chi2", "pvalue": "alpha_lr_p", "ci_low": "alpha_ci_low",
                "ci_high": "alpha_ci_high", "estimate": "alpha", "term": "family"}
    _measure = "NB2 dispersion alpha"

    family: str
    formula: str
    n: int
    loglik: float
    aic: float
    terms: tuple[GLMTerm, ...]
    tests: tuple[LRTest, ...]
    pearson_dispersion: float
    alpha: float = 0.0
    alpha_ci_low: float = float("nan")
    alpha_ci_high: float = float("nan")
    alpha_lr_chi2: float = float("nan")
    alpha_lr_p: float = float("nan")
    converged: bool = True
    notes: tuple[str, ...] = ()
    alpha_at_boundary: bool = False
    computed: bool = True

    @classmethod
    def not_computed(cls, family: str, formula: str, n: int, reason: str) -> "GLMResult":
        nan = float("nan")
        return cls(family, formula, n, nan, nan, (), (), nan, nan, converged=False, notes=(reason,),
                   computed=False)

    def __str__(self) -> str:
        head = f"{self.family} regression, N = {self.n}"
        if not self.computed:
            return head + ": not computed: " + "; ".join(self.notes)
        if self.family.startswith("Negative") and self.alpha_at_boundary:
            head += (f", alpha = 0 (ML on the boundary), 95% CI [0, {_n(self.alpha_ci_high)}] (profile); "
                     "the same fit as the Poisson model")
        elif self.family.startswith("Negative"):
            head += (f", alpha = {_n(self.alpha)} (ML), 95% CI [{_n(self.alpha_ci_low)}, {_n(self.alpha_ci_high)}]"
                     f" (profile); vs Poisson χ²(1) = {_n(self.alpha_lr_chi2)}, {_p(self.alpha_lr_p)} "
                     "(boundary, halved)")
        else:
            head += f", Pearson dispersion = {_n(self.pearson_dispersion)}"
        lines = [head + "."]
        lines += [f"  LR {t.term}: {t.test_text()}" for t in self.tests]
        lines += ["  " + str(t) for t in self.terms if t.term != "Intercept"]
        lines += ["  note: " + n for n in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True)
class PlannedContrast(Result):
    """A planned contrast of two factor levels' unweighted marginal means.

    H0: the mean count is equal at the two levels (averaged with equal weight
    over the other factor's levels); H1: it differs (two-sided).
    """

    _aliases = {"statistic": "t", "pvalue": "p", "estimate": "estimate", "term": "label"}
    _measure = "difference of marginal mean counts"

    label: str
    factor: str
    treatment: str
    control: tuple[str, ...]
    estimate: float
    se: float
    t: float
    df: float
    p: float
    ci_low: float
    ci_high: float
    rate_ratio: float
    rr_low: float
    rr_high: float
    rr_p: float
    weights: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: what is counted (the outcome column), as the differences are worded
    unit: str = ""

    @classmethod
    def not_computed(cls, label, factor, treatment, control, reason) -> "PlannedContrast":
        nan = float("nan")
        return cls(label, factor, treatment, tuple(control), nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
                   {}, (reason,))

    def __str__(self) -> str:
        ctrl = " + ".join(_label(c) for c in self.control)
        if _nan(self.estimate):
            return f"{_label(self.treatment)} vs {ctrl}: " + "; ".join(self.notes)
        if _nan(self.t):
            return (f"{_label(self.treatment)} vs {ctrl}: difference = {_n(self.estimate)}{self._unit}; "
                    + "; ".join(self.notes))
        return (f"{_label(self.treatment)} vs {ctrl}: difference = {_n(self.estimate)}{self._unit}, 95% CI "
                f"[{_n(self.ci_low)}, {_n(self.ci_high)}], t({self.df:g}) = {_n(self.t)}, {_p(self.p)}; "
                f"NB rate ratio = {_n(self.rate_ratio)}, 95% CI [{_n(self.rr_low)}, {_n(self.rr_high)}], "
                f"{_p(self.rr_p)}" + "".join(f" (note: {n})" for n in self.notes))

    @property
    def _unit(self) -> str:
        return f" {self.unit}" if self.unit else ""

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["weights"] = dict(self.weights)
        return d


@dataclass(frozen=True)
class Correlation(Result):
    """Pearson r of the declared score with the count within one level of the first factor (H0: rho = 0).

    ``favor`` is the deprecated name of ``level``."""

    _aliases = {"pvalue": "p", "estimate": "r", "term": "level"}
    _measure = "Pearson r"

    level: str
    r: float
    n: int
    p: float
    ci_low: float
    ci_high: float

    @property
    def favor(self) -> str:
        """Deprecated name of :attr:`level`."""
        return self.level

    def __str__(self) -> str:
        if _nan(self.r):
            return f"{_label(self.level)}: r undefined (n = {self.n}; needs 3 or more and both variables varying)"
        return (f"{_label(self.level)}: r({self.n - 2}) = {_n(self.r, 2, zero=False)}, 95% CI "
                f"[{_n(self.ci_low, 2, zero=False)}, {_n(self.ci_high, 2, zero=False)}], {_p(self.p)}")


@dataclass(frozen=True)
class CorrelationDifference(Result):
    """Fisher z test of two independent correlations (H0: rho1 = rho2; two-sided)."""

    _aliases = {"statistic": "z", "pvalue": "p", "term": "label"}
    _measure = "difference of Fisher z"

    first: str
    second: str
    r1: float
    n1: int
    r2: float
    n2: int
    z: float
    p: float

    @property
    def label(self) -> str:
        """``first vs second``."""
        return f"{self.first} vs {self.second}"

    def __str__(self) -> str:
        return (f"r in {_label(self.first)} ({_n(self.r1, 2, zero=False)}, n = {self.n1}) vs "
                f"{_label(self.second)} ({_n(self.r2, 2, zero=False)}, n = {self.n2}): z = {_n(self.z)}, "
                f"{_p(self.p)}")


@dataclass(frozen=True)
class ThresholdRate(Result):
    """The share of one level buying more than the threshold."""

    _aliases = {"estimate": "rate", "term": "level"}
    _measure = "share above the threshold"

    level: str
    k: int
    n: int
    rate: float


@dataclass(frozen=True)
class ThresholdResult(Result):
    """Share with more than ``threshold`` (of the ``outcome`` counted): treatment level vs pooled controls.

    H0: the two proportions are equal.  Risk difference with Newcombe's CI;
    Fisher's exact test (two-sided) and the sample odds ratio.
    """

    _aliases = {"pvalue": "fisher_p", "estimate": "difference", "term": "treatment"}
    _measure = "risk difference"

    threshold: int
    factor: str
    treatment: str
    control: tuple[str, ...]
    rates: tuple[ThresholdRate, ...]
    k1: int
    n1: int
    k2: int
    n2: int
    p1: float
    p2: float
    difference: float
    ci_low: float
    ci_high: float
    odds_ratio: float
    fisher_p: float
    outcome: str = ""

    def __str__(self) -> str:
        ctrl = " + ".join(_label(c) for c in self.control)
        unit = _label(self.outcome) or "counted"
        unit = unit[:-1] if self.threshold == 1 and unit.endswith("s") else unit   # "more than 1 ticket"
        return (f"more than {self.threshold} {unit}: "
                f"{_label(self.treatment)} {_n(100 * self.p1, 1)}% ({self.k1}/{self.n1}) vs {ctrl} "
                f"{_n(100 * self.p2, 1)}% ({self.k2}/{self.n2}); difference = {_n(100 * self.difference, 1)} "
                f"points, 95% CI [{_n(100 * self.ci_low, 1)}, {_n(100 * self.ci_high, 1)}] (Newcombe); "
                f"Fisher's exact {_p(self.fisher_p)}, OR = {_n(self.odds_ratio)}")


@dataclass(frozen=True)
class CountAnalysis(Result):
    """The whole count analysis of one experiment."""

    outcome: str
    factors: tuple[str, str]
    n: int
    n_excluded: int
    n_withdrawn: int
    n_missing_outcome: int
    cells: tuple[CellSummary, ...]
    anova: tuple[AnovaTerm, ...]
    poisson: GLMResult
    negative_binomial: GLMResult
    contrasts: tuple[PlannedContrast, ...]
    score_correlation: tuple[Correlation, ...]
    correlation_difference: tuple[CorrelationDifference, ...]
    threshold: Optional[ThresholdResult]
    methods: Mapping[str, str] = field(default_factory=lambda: dict(METHODS))
    notes: tuple[str, ...] = ()
    paradigm: str = ""
    experiment: Optional[int] = None
    #: the score correlated with the count (the plan's ``score``), "" for none
    score: str = ""

    @property
    def liking_correlation(self) -> tuple:
        """Deprecated name of :attr:`score_correlation` (and still its ``--json`` key)."""
        return self.score_correlation

    def __str__(self) -> str:
        L = [f"{self.paradigm}, Experiment {self.experiment}"] if self.paradigm else []
        L += [f"Count analysis of {self.outcome}: N = {self.n} analysed ({self.n_excluded} excluded, "
             f"{self.n_withdrawn} withdrew consent, {self.n_missing_outcome} without a count).", "",
             "Cells:"]
        L += ["  " + str(c) for c in self.cells]
        L += ["", "ANOVA (type II sums of squares):"]
        L += ["  " + str(t) for t in self.anova if t.term != "Residual"]
        L += ["", str(self.poisson), "", str(self.negative_binomial), "", "Planned contrasts:"]
        L += ["  " + str(c) for c in self.contrasts]
        L += ["", f"{_label(self.score or 'score').capitalize()} and {self.outcome} within each "
                  f"{_label(self.factors[0])} condition (Pearson):"]
        L += ["  " + str(c) for c in self.score_correlation]
        L += ["  " + str(c) for c in self.correlation_difference]
        if self.threshold is not None:
            L += ["", "Threshold: " + str(self.threshold)]
        if self.notes:
            L += [""] + ["note: " + n for n in self.notes]
        return "\n".join(L)

    def to_dict(self) -> dict:
        a, b = self.factors
        return _jsonable({
            "paradigm": self.paradigm,
            "experiment": self.experiment,
            "outcome": self.outcome,
            "factors": list(self.factors),
            "n": self.n,
            "n_excluded": self.n_excluded,
            "n_withdrawn": self.n_withdrawn,
            "n_missing_outcome": self.n_missing_outcome,
            "cells": [{a: c.level_a, b: c.level_b, "n": c.n, "mean": c.mean, "sd": c.sd, "ci_low": c.ci_low,
                       "ci_high": c.ci_high} for c in self.cells],
            "anova": [t.to_dict() for t in self.anova],
            "poisson": self.poisson.to_dict(),
            "negative_binomial": self.negative_binomial.to_dict(),
            "contrasts": [c.to_dict() for c in self.contrasts],
            "liking_correlation": [{a: c.level, "r": c.r, "n": c.n, "p": c.p, "ci_low": c.ci_low,
                                    "ci_high": c.ci_high} for c in self.score_correlation],
            "correlation_difference": [c.to_dict() for c in self.correlation_difference],
            "threshold": None if self.threshold is None else self.threshold.to_dict(),
            "methods": dict(self.methods),
            "notes": list(self.notes),
        })


# --------------------------------------------------------------------------- #
# Data.
# --------------------------------------------------------------------------- #
def prepare(data: pd.DataFrame, outcome: str = "tickets", factors: Sequence[str] = ("favor", "liking"),
            extra: Sequence[str] = (), dropped: Optional[Mapping[str, int]] = None) -> tuple[pd.DataFrame, dict]:
    """The rows to analyse, and how many were left out and why.

    Drops ``excluded == 1`` and ``data_consent == 0`` rows (never analysed;
    :func:`analysis.load.status.split_by_status` decides) and rows without a
    count; checks the count is a whole number >= 0.  With ``dropped`` (the
    loader's ``{"excluded": n, "withdrawn": n}``) ``data`` holds the analysable
    rows already and the status rule is not applied again.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> df = frame_from_tickets()
    >>> df.loc[0, 'data_consent'] = 0; df.loc[1, 'excluded'] = 1
    >>> rows, dropped = prepare(df)
    >>> len(rows), dropped
    (46, {'excluded': 1, 'withdrawn': 1, 'missing_outcome': 0})
    """
    missing = [c for c in (outcome, *factors, *extra) if c not in data.columns]
    if missing:
        raise AnalysisError(f"count analysis: column(s) {', '.join(missing)} not in the data "
                         f"(columns: {', '.join(map(str, data.columns))})")
    if dropped is None:
        df, dropped = split_by_status(data)
    else:
        df = data.copy()
    keep = pd.Series(True, index=df.index)
    y = pd.to_numeric(df[outcome], errors="coerce")
    bad = keep & df[outcome].notna() & (df[outcome].astype(str).str.strip() != "") & y.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        row = int(data.index.get_indexer([df.index[i]])[0]) if data.index.is_unique else i  # as in the data given
        raise AnalysisError(f"count analysis: row {row + 1}, column {outcome}: {df[outcome].iloc[i]!r} is not a "
                            "number")
    no_y = keep & y.isna()
    keep &= ~no_y
    y = y[keep]
    if ((y < 0) | (y != np.floor(y))).any():
        v = y[(y < 0) | (y != np.floor(y))].iloc[0]
        raise AnalysisError(f"count analysis: column {outcome}: {v!r} is not a whole number >= 0")
    out = df[keep].copy()
    out[outcome] = y.astype(int)
    for f in factors:
        out[f] = out[f].astype(str)
    counts = {"excluded": int(dropped.get("excluded", 0)), "withdrawn": int(dropped.get("withdrawn", 0)),
              "missing_outcome": int(no_y.sum())}
    return out, counts


def _levels(df: pd.DataFrame, col: str, order: Optional[Sequence[str]] = None) -> list[str]:
    present = list(dict.fromkeys(df[col]))
    if order:
        return [lv for lv in order if lv in present] + [lv for lv in present if lv not in order]
    return sorted(present)


# --------------------------------------------------------------------------- #
# Pieces of the analysis.
# --------------------------------------------------------------------------- #
def cell_summaries(df: pd.DataFrame, outcome: str, a: str, b: str, a_levels: Sequence[str],
                   b_levels: Sequence[str], level: float = 0.95) -> tuple[CellSummary, ...]:
    """One :class:`CellSummary` per cell (``a_levels`` x ``b_levels`` order): n, mean, SD and t CI.

    Parameters
    ----------
    df : DataFrame
        Analysable rows (see :func:`prepare`).
    outcome, a, b : str
        The count column and the two factor columns.
    a_levels, b_levels : sequence of str
        The levels, in the order the cells are reported.
    level : float
        Confidence level of the t interval of each mean (n - 1 df).

    Returns
    -------
    tuple of CellSummary
        A cell without participants has n = 0 and NaN statistics.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> cells = cell_summaries(frame_from_tickets(), 'tickets', 'favor', 'liking', ['confederate_favor', 'experimenter_favor', 'no_favor'], ['pleasant', 'unpleasant'])
    >>> print(cells[0])
    confederate favor, pleasant: M = 2.75, SD = 2.49, 95% CI [0.67, 4.83], n = 8
    """
    out = []
    for la in a_levels:
        for lb in b_levels:
            y = df.loc[(df[a] == la) & (df[b] == lb), outcome].to_numpy(float)
            n = len(y)
            mean = float(y.mean()) if n else float("nan")
            sd = float(y.std(ddof=1)) if n > 1 else float("nan")
            if n > 1:
                half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
                lo, hi = mean - half, mean + half
            else:
                lo = hi = float("nan")
            out.append(CellSummary(la, lb, n, mean, sd, lo, hi))
    return tuple(out)


# --- design matrices on the cells present ------------------------------------
def _design(df: pd.DataFrame, a: str, b: str, ref_a: str, ref_b: str,
            terms: str = "full") -> tuple[np.ndarray, list[str]]:
    """Treatment-coded design matrix of ``terms`` on the levels and cells present.

    Columns that add nothing (the interaction column of an empty cell, a level
    with no participants) are dropped, so the number of columns is the rank:
    with one of six cells empty the interaction has 1 column, not 2.
    """
    la = [ref_a] + [v for v in _levels(df, a) if v != ref_a]
    lb = [ref_b] + [v for v in _levels(df, b) if v != ref_b]
    A = {f"{a}[{v}]": (df[a] == v).to_numpy(float) for v in la[1:]}
    B = {f"{b}[{v}]": (df[b] == v).to_numpy(float) for v in lb[1:]}
    AB = {f"{x}:{y}": A[x] * B[y] for x in A for y in B}
    parts = {"full": (A, B, AB), "additive": (A, B), "no_a": (B,), "no_b": (A,), "null": ()}[terms]
    cols, names = [np.ones(len(df))], ["Intercept"]
    for part in parts:
        for name, col in part.items():
            trial = np.column_stack(cols + [col])
            if np.linalg.matrix_rank(trial) > len(cols):
                cols.append(col)
                names.append(name)
    return np.column_stack(cols), names


def _rss(X: np.ndarray, y: np.ndarray) -> float:
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ beta
    return float(r @ r)


def anova_table(df: pd.DataFrame, outcome: str, a: str, b: str) -> tuple[AnovaTerm, ...]:
    """Type II ANOVA of ``outcome`` by ``a``, ``b`` and their interaction, by model comparison.

    Each main effect is tested against the additive model without it, the
    interaction against the additive model; every F uses the full model's
    residual mean square (as ``car::Anova(type = 2)``).  The models are fitted
    to the cells present, so an empty cell costs the interaction a degree of
    freedom instead of giving wrong sums of squares.  A test that cannot be
    computed has F and p NaN and says why in its ``notes``: only one level of a
    factor present, no residual degrees of freedom, counts that do not vary.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> for t in anova_table(frame_from_tickets(), 'tickets', 'favor', 'liking')[:3]: print(t)
    favor: F(2, 42) = 2.42, p = .101, ηp² = .10
    liking: F(1, 42) = 1.84, p = .182, ηp² = .04
    favor x liking: F(2, 42) = 0.14, p = .873, ηp² = .01
    """
    y = df[outcome].to_numpy(float)
    ref_a, ref_b = _levels(df, a)[0], _levels(df, b)[0]
    X = {k: _design(df, a, b, ref_a, ref_b, k)[0] for k in ("full", "additive", "no_a", "no_b")}
    rss = {k: _rss(x, y) for k, x in X.items()}
    rank = {k: x.shape[1] for k, x in X.items()}
    tol = 1e-10 * max(1.0, float(y @ y))
    tss = float(((y - y.mean()) ** 2).sum()) if len(y) else 0.0
    rss = {k: (0.0 if v < tol else v) for k, v in rss.items()}
    df_res = len(y) - rank["full"]
    ss_res = rss["full"]
    common = []
    if tss < tol:
        v = y[0] if len(y) else float("nan")
        common.append(f"the counts do not vary (every participant has {outcome} = {v:g}): F is undefined")
    elif df_res <= 0:
        common.append(f"no residual degrees of freedom (N = {len(y)} in {rank['full']} cells): F is undefined")
    elif ss_res == 0:
        common.append(f"{outcome} does not vary within any cell (residual SS = 0): F is undefined")
    out = []
    for term, big, small, lev in ((a, "additive", "no_a", a), (b, "additive", "no_b", b),
                                  (f"{a} x {b}", "full", "additive", None)):
        d1 = rank[big] - rank[small]
        ss = max(rss[small] - rss[big], 0.0)
        notes = list(common)
        if d1 == 0:
            notes = [f"only one level of {lev} present: not tested" if lev else
                     "no cells to estimate an interaction from: not tested"]
        if notes:
            out.append(AnovaTerm(term, ss, float(d1), float(df_res), float("nan"), float("nan"), float("nan"),
                                 tuple(notes)))
            continue
        F = (ss / d1) / (ss_res / df_res)
        out.append(AnovaTerm(term, ss, float(d1), float(df_res), F, float(stats.f.sf(F, d1, df_res)),
                             ss / (ss + ss_res)))
    out.append(AnovaTerm("Residual", ss_res, float(df_res), float(df_res), float("nan"), float("nan"),
                         float("nan")))
    return tuple(out)


# --- GLMs -----------------------------------------------------------------------
def _treatment_formula(outcome: str, a: str, b: str, ref_a: str, ref_b: str, terms: str = "full") -> str:
    A = f"C({a}, Treatment({ref_a!r}))"
    B = f"C({b}, Treatment({ref_b!r}))"
    rhs = {"full": f"{A} * {B}", "additive": f"{A} + {B}", "no_a": B, "no_b": A, "null": "1"}[terms]
    return f"{outcome} ~ {rhs}"


def _glm(y: np.ndarray, X: np.ndarray, alpha: Optional[float] = None, start=None):
    """Poisson (alpha None) or NB2 with alpha fixed, by IRLS to a tight tolerance."""
    import statsmodels.api as sm
    fam = sm.families.Poisson() if alpha is None else sm.families.NegativeBinomial(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.GLM(y, X, family=fam).fit(start_params=start, maxiter=300, tol=1e-13)


def _nb2_alpha_score(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    """d loglik / d alpha of NB2 at fixed means (the profile score, by the envelope theorem)."""
    from scipy.special import digamma
    th = 1.0 / alpha
    dtheta = np.sum(digamma(th + y) - digamma(th) + np.log(th) + 1 - np.log(th + mu) - (y + th) / (mu + th))
    return float(-dtheta / alpha ** 2)


@dataclass(frozen=True)
class _NBFit:
    alpha: float
    llf: float
    fit: object
    boundary: bool
    ci_low: float
    ci_high: float


_ALPHA_LO, _ALPHA_HI = 1e-8, 1e6


def _nb2_profile(y: np.ndarray, X: np.ndarray, poisson=None, ci: bool = True, level: float = 0.95) -> _NBFit:
    """NB2 by profile likelihood: alpha solves the profile score equation (brentq on log alpha).

    When the Dean-Lawless score at alpha = 0 is not positive (no overdispersion
    relative to the Poisson fit) the maximum is on the boundary: alpha = 0 and
    the NB2 model is the Poisson model.  The CI of alpha is the profile
    likelihood interval (it cannot go below zero; its lower end is 0 when the
    Poisson model is inside it).
    """
    from scipy.optimize import brentq
    pois = poisson if poisson is not None else _glm(y, X)
    mu0 = pois.mu
    state = {"start": pois.params}

    def fit_at(alpha):
        f = _glm(y, X, alpha, start=state["start"])
        state["start"] = f.params
        return f

    def score(log_alpha):
        al = math.exp(log_alpha)
        return _nb2_alpha_score(y, fit_at(al).mu, al)

    dean = 0.5 * float(np.sum((y - mu0) ** 2 - y))
    boundary = dean <= 0
    if boundary:
        alpha, fit, llf = 0.0, pois, float(pois.llf)
    else:
        lo_bracket = 1e-4  # below it the digamma difference of the score loses its digits
        if score(math.log(_ALPHA_HI)) > 0:
            alpha = _ALPHA_HI
        elif score(math.log(lo_bracket)) > 0:
            alpha = math.exp(brentq(score, math.log(lo_bracket), math.log(_ALPHA_HI), xtol=1e-13, rtol=1e-13,
                                    maxiter=200))
        else:  # a tiny alpha: maximise the profile likelihood itself
            from scipy.optimize import minimize_scalar
            r = minimize_scalar(lambda la: -float(fit_at(math.exp(la)).llf), method="bounded",
                                bounds=(math.log(_ALPHA_LO), math.log(lo_bracket)), options={"xatol": 1e-10})
            alpha = math.exp(float(r.x))
        fit = fit_at(alpha)
        llf = float(fit.llf)
        if llf < float(pois.llf):  # numerically at the boundary
            alpha, fit, llf, boundary = 0.0, pois, float(pois.llf), True
    lo = hi = float("nan")
    if ci:
        q = float(stats.chi2.ppf(level, 1))

        def drop(log_alpha):
            return 2 * (llf - float(fit_at(math.exp(log_alpha)).llf)) - q
        state["start"] = fit.params
        lo = 0.0 if 2 * (llf - float(pois.llf)) <= q else math.exp(
            brentq(drop, math.log(_ALPHA_LO), math.log(alpha), xtol=1e-10))
        state["start"] = fit.params
        start = math.log(max(alpha, _ALPHA_LO))
        hi = float("inf") if drop(math.log(_ALPHA_HI)) < 0 else math.exp(
            brentq(drop, start, math.log(_ALPHA_HI), xtol=1e-10))
    return _NBFit(alpha, llf, fit, boundary, lo, hi)


def _glm_terms(fit, names: Sequence[str], zero_cells: bool, level: float = 0.95) -> tuple[GLMTerm, ...]:
    """Wald terms; a coefficient driven to infinity by a cell without counts is reported as not estimable."""
    z = stats.norm.ppf(0.5 + level / 2)
    out = []
    for i, name in enumerate(names):
        est, se = float(fit.params[i]), float(fit.bse[i])
        if not math.isfinite(se) or not math.isfinite(est) or (zero_cells and se > 10):
            out.append(GLMTerm(name, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"),
                               float("nan"), float("nan"),
                               ("not estimable: a cell with no counts drives its ML estimate to -∞ "
                                f"(b = {est:.1f}, SE = {se:.3g}); see the LR tests",)))
            continue
        zv = est / se if se > 0 else float("nan")
        p = float(2 * stats.norm.sf(abs(zv))) if se > 0 else float("nan")
        out.append(GLMTerm(name, est, se, zv, p, float(np.exp(est)), float(np.exp(est - z * se)),
                           float(np.exp(est + z * se))))
    return tuple(out)


def _lr_test(term: str, big_llf: float, small_llf: float, d: int, why: str = "") -> LRTest:
    if d <= 0:
        return LRTest(term, float("nan"), 0, float("nan"), (why or "nothing to test",))
    chi2 = max(2 * (big_llf - small_llf), 0.0)
    return LRTest(term, chi2, d, float(stats.chi2.sf(chi2, d)))


def _model_set(df, outcome, a, b, ref_a, ref_b):
    y = df[outcome].to_numpy(float)
    designs = {k: _design(df, a, b, ref_a, ref_b, k) for k in ("full", "additive", "no_a", "no_b")}
    return y, designs


def _lr_tests(llf: Mapping[str, float], rank: Mapping[str, int], a: str, b: str) -> tuple[LRTest, ...]:
    """Type II order: each main effect against the additive model, the interaction against the full model."""
    return (_lr_test(a, llf["additive"], llf["no_a"], rank["additive"] - rank["no_a"],
                     f"only one level of {a} present: not tested"),
            _lr_test(b, llf["additive"], llf["no_b"], rank["additive"] - rank["no_b"],
                     f"only one level of {b} present: not tested"),
            _lr_test(f"{a} x {b}", llf["full"], llf["additive"], rank["full"] - rank["additive"],
                     "no cells to estimate an interaction from: not tested"))


def _no_counts(y: np.ndarray, outcome: str) -> Optional[str]:
    if len(y) and not np.any(y > 0):
        return (f"nobody has {outcome} > 0 (all {len(y)} counts are 0): a log-linear model of the count is "
                "undefined (every log rate is -∞); not fitted")
    return None


def _zero_cells(df, outcome, a, b) -> list[str]:
    tot = df.groupby([a, b])[outcome].sum()
    return [f"{x} x {y}" for (x, y), v in tot.items() if v == 0]


def poisson_glm(df: pd.DataFrame, outcome: str, a: str, b: str, ref_a: str, ref_b: str) -> GLMResult:
    """Poisson GLM (log link) of the count on the two factors and their interaction (cells present).

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> fit = poisson_glm(frame_from_tickets(), 'tickets', 'favor', 'liking', 'no_favor', 'unpleasant')
    >>> print(fit.tests[0])
    favor: LR χ²(2) = 9.08, p = .011
    >>> round(fit.pearson_dispersion, 3)
    1.721
    """
    formula = _treatment_formula(outcome, a, b, ref_a, ref_b)
    y, designs = _model_set(df, outcome, a, b, ref_a, ref_b)
    why = _no_counts(y, outcome)
    if why:
        return GLMResult.not_computed("Poisson", formula, len(y), why)
    fits = {k: _glm(y, X) for k, (X, _) in designs.items()}
    full = fits["full"]
    X, names = designs["full"]
    zc = _zero_cells(df, outcome, a, b)
    dfr = len(y) - X.shape[1]
    return GLMResult("Poisson", formula, len(y), float(full.llf), float(full.aic), _glm_terms(full, names, bool(zc)),
                     _lr_tests({k: float(f.llf) for k, f in fits.items()},
                               {k: d[0].shape[1] for k, d in designs.items()}, a, b),
                     float(full.pearson_chi2 / dfr) if dfr > 0 else float("nan"),
                     converged=bool(getattr(full, "converged", True)), notes=_zero_cell_notes(zc))


def _zero_cell_notes(zc: Sequence[str]) -> tuple[str, ...]:
    if not zc:
        return ()
    return (f"no counts in cell(s) {', '.join(zc)}: the coefficients that reach those cells have no finite "
            "ML estimate (reported as not estimable); the LR tests are valid",)


def negative_binomial(df: pd.DataFrame, outcome: str, a: str, b: str, ref_a: str, ref_b: str) -> GLMResult:
    """NB2 regression; alpha by profile likelihood (not fixed at 1), with alpha = 0 (Poisson) detected.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> fit = negative_binomial(frame_from_tickets(), 'tickets', 'favor', 'liking', 'no_favor', 'unpleasant')
    >>> round(fit.alpha, 4), fit.alpha_at_boundary
    (0.3807, False)
    >>> print(fit.tests[0])
    favor: LR χ²(2) = 5.34, p = .069
    """
    formula = _treatment_formula(outcome, a, b, ref_a, ref_b)
    family = "Negative binomial (NB2)"
    y, designs = _model_set(df, outcome, a, b, ref_a, ref_b)
    why = _no_counts(y, outcome)
    if why:
        return GLMResult.not_computed(family, formula, len(y), why)
    pois = {k: _glm(y, X) for k, (X, _) in designs.items()}
    nbs = {k: _nb2_profile(y, designs[k][0], pois[k], ci=(k == "full")) for k in designs}
    nb = nbs["full"]
    X, names = designs["full"]
    mu = nb.fit.mu
    dfr = len(y) - X.shape[1]
    pearson = float(np.sum((y - mu) ** 2 / (mu + nb.alpha * mu ** 2)) / dfr) if dfr > 0 else float("nan")
    lr = max(2 * (nb.llf - float(pois["full"].llf)), 0.0)
    k = X.shape[1] + 1  # alpha is a parameter even on its boundary, as MASS::glm.nb counts theta
    notes = list(_zero_cell_notes(_zero_cells(df, outcome, a, b)))
    if nb.boundary:
        notes.append("the likelihood is largest at alpha = 0: no overdispersion, the negative binomial model "
                     "reduces to the Poisson model (same estimates)")
    if nb.alpha >= _ALPHA_HI:
        notes.append(f"alpha has no finite maximum (stopped at {_ALPHA_HI:g})")
    return GLMResult(family, formula, len(y), nb.llf, 2 * k - 2 * nb.llf,
                     _glm_terms(nb.fit, names, bool(_zero_cells(df, outcome, a, b))),
                     _lr_tests({k2: v.llf for k2, v in nbs.items()}, {k2: d[0].shape[1] for k2, d in designs.items()},
                               a, b),
                     pearson, nb.alpha, nb.ci_low, nb.ci_high, lr, 0.5 * float(stats.chi2.sf(lr, 1)) if lr > 0 else 1.0,
                     converged=bool(getattr(nb.fit, "converged", True)), notes=tuple(notes),
                     alpha_at_boundary=nb.boundary)


def planned_contrast(df: pd.DataFrame, outcome: str, a: str, b: str, treatment: str, control: Sequence[str],
                     label: str = "", level: float = 0.95, b_levels: Sequence[str] = ()) -> PlannedContrast:
    """Treatment level vs control level(s) of factor ``a``, on unweighted marginal means.

    Weights: +1/k over the treatment's cells present, -1/m over the control
    cells present (every level of ``b`` equally).  The t test uses the pooled
    within-cell mean square (the full two-way model on the cells present) and
    its df.  When a cell of the contrast is empty the weights change (and with
    them what the contrast means); ``notes`` says so.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> print(planned_contrast(frame_from_tickets(), 'tickets', 'favor', 'liking', 'confederate_favor', ['no_favor']))
    confederate favor vs no favor: difference = 0.81 tickets, 95% CI [-0.40, 2.03], t(42) = 1.35, p = .184; NB rate ratio = 1.54, 95% CI [0.78, 3.04], p = .215
    """
    cells = df.groupby([a, b])[outcome].agg(["mean", "count", "sum"])
    t_cells = [c for c in cells.index if c[0] == treatment]
    c_cells = [c for c in cells.index if c[0] in control]
    name = label or f"{treatment} vs {' + '.join(control)}"
    if not t_cells or not c_cells:
        missing = treatment if not t_cells else " + ".join(control)
        return PlannedContrast.not_computed(name, a, treatment, tuple(control),
                                            f"no participants in {missing}: not computed")
    notes = []
    all_b = list(b_levels) or _levels(df, b)
    for lv in (treatment, *control):
        gone = [lb for lb in all_b if (lv, lb) not in cells.index]
        if gone:
            notes.append(f"cell {lv} x {', '.join(gone)} is empty: the contrast's weights change (it averages "
                         f"{lv} over {b} = {', '.join(lb for lb in all_b if lb not in gone)} only)")
    w = {c: 1 / len(t_cells) for c in t_cells} | {c: -1 / len(c_cells) for c in c_cells}
    y = df[outcome].to_numpy(float)
    cm = df.groupby([a, b])[outcome].transform("mean").to_numpy(float)
    dfe = float(len(y) - len(cells))
    ss = float(((y - cm) ** 2).sum())
    est = sum(wi * float(cells.loc[c, "mean"]) for c, wi in w.items())
    nan = float("nan")
    t = p = lo = hi = se = nan
    if dfe <= 0:
        notes.append(f"no residual degrees of freedom (N = {len(y)} in {len(cells)} cells): t is undefined")
    elif ss <= 1e-10 * max(1.0, float(y @ y)):
        notes.append(f"{outcome} does not vary within any cell: t is undefined")
    else:
        mse = ss / dfe
        se = math.sqrt(mse * sum(wi ** 2 / float(cells.loc[c, "count"]) for c, wi in w.items()))
        t = est / se
        p = float(2 * stats.t.sf(abs(t), dfe))
        half = float(stats.t.ppf(0.5 + level / 2, dfe)) * se
        lo, hi = est - half, est + half
    # the same contrast on the log scale of an NB2 cell-means model: a rate ratio
    rr = rr_lo = rr_hi = rr_p = nan
    empty = [f"{la} x {lb}" for (la, lb) in w if float(cells.loc[(la, lb), "sum"]) == 0]
    if empty:
        notes.append(f"no counts in cell(s) {', '.join(empty)}: the rate ratio is not estimable")
    else:
        keys = list(cells.index)
        X = np.column_stack([((df[a] == la) & (df[b] == lb)).to_numpy(float) for la, lb in keys])
        try:
            nb = _nb2_profile(y, X, ci=False)
            vec = np.array([w.get(k, 0.0) for k in keys])
            e = float(vec @ nb.fit.params)
            s = math.sqrt(float(vec @ nb.fit.cov_params() @ vec))
            z = stats.norm.ppf(0.5 + level / 2)
            rr, rr_lo, rr_hi = math.exp(e), math.exp(e - z * s), math.exp(e + z * s)
            rr_p = float(2 * stats.norm.sf(abs(e / s))) if s > 0 else nan
        except (ValueError, np.linalg.LinAlgError, OverflowError) as exc:
            notes.append(f"the NB rate ratio could not be computed ({exc})")
    return PlannedContrast(name, a, treatment, tuple(control), est, se, t, dfe, p, lo, hi, rr, rr_lo, rr_hi, rr_p,
                           {f"{la}|{lb}": wi for (la, lb), wi in w.items()}, tuple(notes), unit=outcome)


def _pearson(x: np.ndarray, y: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float]:
    n = len(x)
    if n < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan"), float("nan"), float("nan"), float("nan")
    r, p = stats.pearsonr(x, y)
    r = float(r)
    if n > 3 and abs(r) < 1:
        z, h = math.atanh(r), stats.norm.ppf(0.5 + level / 2) / math.sqrt(n - 3)
        lo, hi = math.tanh(z - h), math.tanh(z + h)
    else:
        lo = hi = float("nan")
    return r, float(p), lo, hi


def score_correlations(df: pd.DataFrame, outcome: str, score: str, a: str,
                       a_levels: Sequence[str]) -> tuple[Correlation, ...]:
    """Pearson r of ``score`` with ``outcome`` within each level of ``a`` (H0: rho = 0).

    Parameters
    ----------
    df : DataFrame
        Analysable rows.
    outcome, score, a : str
        The count, the score (e.g. the liking composite) and the factor columns.
    a_levels : sequence of str
        The levels of ``a``, in order.

    Returns
    -------
    tuple of Correlation
        NaN r (with its n) where a level has fewer than 3 rows or a variable does not vary.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> rs = score_correlations(frame_from_tickets(), 'tickets', 'liking_score', 'favor', ['confederate_favor', 'no_favor'])
    >>> print(rs[0])
    confederate favor: r(14) = .10, 95% CI [-.42, .57], p = .721
    """
    out = []
    for la in a_levels:
        g = df[(df[a] == la)][[score, outcome]].apply(pd.to_numeric, errors="coerce").dropna()
        r, p, lo, hi = _pearson(g[score].to_numpy(float), g[outcome].to_numpy(float))
        out.append(Correlation(la, r, len(g), p, lo, hi))
    return tuple(out)


#: Deprecated name of :func:`score_correlations` (kept for old callers).
liking_correlations = score_correlations


def correlation_difference(first: Correlation, second: Correlation) -> CorrelationDifference:
    """Fisher z test of two independent Pearson correlations (two-sided).

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> r1, r2 = score_correlations(frame_from_tickets(), 'tickets', 'liking_score', 'favor', ['confederate_favor', 'no_favor'])
    >>> print(correlation_difference(r1, r2))
    r in confederate favor (.10, n = 16) vs no favor (.30, n = 16): z = -0.55, p = .579
    """
    if first.n > 3 and second.n > 3 and not _nan(first.r) and not _nan(second.r) \
            and abs(first.r) < 1 and abs(second.r) < 1:
        z = (math.atanh(first.r) - math.atanh(second.r)) / math.sqrt(1 / (first.n - 3) + 1 / (second.n - 3))
        p = float(2 * stats.norm.sf(abs(z)))
    else:
        z = p = float("nan")
    return CorrelationDifference(first.level, second.level, first.r, first.n, second.r, second.n, z, p)


def threshold_test(df: pd.DataFrame, outcome: str, a: str, treatment: str, control: Sequence[str],
                   threshold: int = 1, a_levels: Sequence[str] = ()) -> ThresholdResult:
    """Share with ``outcome > threshold``: treatment level vs the pooled control levels.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> print(threshold_test(frame_from_tickets(), 'tickets', 'favor', 'confederate_favor', ['experimenter_favor', 'no_favor']))
    more than 1 ticket: confederate favor 56.3% (9/16) vs experimenter favor + no favor 31.3% (10/32); difference = 25.0 points, 95% CI [-3.8, 49.6] (Newcombe); Fisher's exact p = .124, OR = 2.83
    """
    from statsmodels.stats.proportion import confint_proportions_2indep
    above = df[outcome] > threshold
    rates = []
    for la in a_levels or _levels(df, a):
        m = df[a] == la
        n, k = int(m.sum()), int(above[m].sum())
        rates.append(ThresholdRate(la, k, n, k / n if n else float("nan")))
    t, c = df[a] == treatment, df[a].isin(control)
    k1, n1, k2, n2 = int(above[t].sum()), int(t.sum()), int(above[c].sum()), int(c.sum())
    if n1 == 0 or n2 == 0:
        raise AnalysisError(f"threshold: no data for {treatment if n1 == 0 else ', '.join(control)} in column {a}")
    p1, p2 = k1 / n1, k2 / n2
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=0.05)
    res = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
    return ThresholdResult(threshold, a, treatment, tuple(control), tuple(rates), k1, n1, k2, n2, p1, p2, p1 - p2,
                           float(lo), float(hi), float(res.statistic), float(res.pvalue), outcome=outcome)


# --------------------------------------------------------------------------- #
# The whole plan.
# --------------------------------------------------------------------------- #
def analyze_counts(data: pd.DataFrame, *, outcome: str = "tickets", factors: tuple[str, str] = ("favor", "liking"),
                   score: str = "liking_score",
                   contrasts: Sequence[tuple[str, Sequence[str], str]] = (),
                   references: Optional[Mapping[str, str]] = None,
                   level_order: Optional[Mapping[str, Sequence[str]]] = None,
                   correlation_pairs: Sequence[tuple[str, str]] = (),
                   threshold: Optional[int] = 1,
                   threshold_contrast: Optional[tuple[str, Sequence[str]]] = None,
                   dropped: Optional[Mapping[str, int]] = None) -> CountAnalysis:
    """Run the count analysis on tidy session data.

    The defaults of ``outcome``, ``factors`` and ``score`` are Regan's (1971) column names, kept for old
    callers and deprecated: pass the declared names (:func:`analyze_count_plan` takes them from the
    experiment's :class:`~paradigms.base.CountPlan`).

    Parameters
    ----------
    data : DataFrame
        One row per participant (session CSVs concatenated).
    outcome : str
        The count column.
    factors : (str, str)
        The two design factors; the first is the one contrasted.
    score : str
        Column correlated with the count within each level of the first factor.
    contrasts : sequence of (treatment level, control levels, label)
        Planned contrasts on the first factor.
    references : mapping factor -> level
        Reference levels of the treatment coding of the regressions (default:
        the first level of each factor in ``level_order`` or sorted order).
    level_order : mapping factor -> levels
        Display order of levels.
    correlation_pairs : sequence of (level, level)
        Pairs of first-factor levels whose correlations are compared (Fisher z).
    threshold : int or None
        The threshold measure is ``outcome > threshold``; None skips it.
    threshold_contrast : (treatment level, control levels)
        Defaults to the first planned contrast's treatment vs every other level.
    dropped : mapping, optional
        ``{"excluded": n, "withdrawn": n}`` when ``data`` holds only the analysable
        rows (as :class:`~analysis.load.inputs.AnalysisInput` gives them); by
        default the participant-status rule is applied to ``data`` here.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> res = analyze_counts(frame_from_tickets(), contrasts=[('confederate_favor', ['no_favor'], 'favor vs none')], references={'favor': 'no_favor', 'liking': 'unpleasant'})
    >>> res.n, [t.term for t in res.anova]
    (48, ['favor', 'liking', 'favor x liking', 'Residual'])
    >>> print(res.contrasts[0])
    confederate favor vs no favor: difference = 0.81 tickets, 95% CI [-0.40, 2.03], t(42) = 1.35, p = .184; NB rate ratio = 1.54, 95% CI [0.78, 3.04], p = .215
    """
    a, b = factors
    df, dropped = prepare(data, outcome, factors, extra=(score,) if score else (), dropped=dropped)
    if len(df) == 0:
        raise AnalysisError("count analysis: no rows left after exclusions and withdrawals")
    order = dict(level_order or {})
    a_levels, b_levels = _levels(df, a, order.get(a)), _levels(df, b, order.get(b))
    refs = dict(references or {})
    notes = []
    ref_a, ref_b = refs.get(a, a_levels[0]), refs.get(b, b_levels[0])
    for f, lv, levels in ((a, ref_a, a_levels), (b, ref_b, b_levels)):
        if lv not in levels:
            notes.append(f"the reference level {lv} of {f} has no participants: the regressions use "
                         f"{levels[0]} as the reference instead")
    ref_a = ref_a if ref_a in a_levels else a_levels[0]
    ref_b = ref_b if ref_b in b_levels else b_levels[0]
    all_a = list(dict.fromkeys([*(order.get(a) or ()), *a_levels]))
    all_b = list(dict.fromkeys([*(order.get(b) or ()), *b_levels]))
    cells = cell_summaries(df, outcome, a, b, all_a, all_b)
    y = df[outcome].to_numpy(float)
    if not np.any(y > 0):
        notes.append(f"nobody has {outcome} > 0 (all {len(y)} counts are 0): the data cannot show an effect on "
                     f"{outcome}; the ANOVA and the count models are undefined (check that {outcome} was "
                     "recorded)")
    empty = [f"{c.level_a} x {c.level_b}" for c in cells if c.n == 0]
    if empty:
        notes.append(f"cell(s) {', '.join(empty)} have no participants: the ANOVA and the regressions are "
                     f"fitted to the {len(cells) - len(empty)} cells present (type II tests by model comparison; "
                     "the interaction loses a degree of freedom per empty cell)")
    for c in cells:
        if c.n == 1:
            notes.append(f"cell {c.level_a} x {c.level_b} has n = 1: its SD and CI are undefined")
        elif c.n and c.mean == 0:
            notes.append(f"cell {c.level_a} x {c.level_b} has no {outcome} at all: its log rate is -∞; the GLM "
                         "coefficients that reach it are not estimable (the LR tests are)")
    anova = anova_table(df, outcome, a, b)
    pois = poisson_glm(df, outcome, a, b, ref_a, ref_b)
    nb = negative_binomial(df, outcome, a, b, ref_a, ref_b)
    planned = tuple(planned_contrast(df, outcome, a, b, t, tuple(c), label, b_levels=all_b)
                    for t, c, label in contrasts)
    corr = score_correlations(df, outcome, score, a, a_levels) if score else ()  # a plan may declare no score
    by_level = {c.level: c for c in corr}
    diffs = tuple(correlation_difference(by_level[x], by_level[y]) for x, y in correlation_pairs
                  if x in by_level and y in by_level)
    thr = None
    if threshold is not None:
        if threshold_contrast is None and contrasts:
            t0 = contrasts[0][0]
            threshold_contrast = (t0, tuple(lv for lv in a_levels if lv != t0))
        if threshold_contrast is not None:
            t0, ctrl = threshold_contrast[0], tuple(threshold_contrast[1])
            if t0 in a_levels and any(c in a_levels for c in ctrl):
                thr = threshold_test(df, outcome, a, t0, ctrl, int(threshold), a_levels)
            else:
                notes.append(f"threshold measure not computed: no participants in "
                             f"{t0 if t0 not in a_levels else ' + '.join(ctrl)}")
    return CountAnalysis(outcome, (a, b), len(df), dropped["excluded"], dropped["withdrawn"],
                         dropped["missing_outcome"], cells, anova, pois, nb, planned, corr, diffs, thr,
                         dict(METHODS), tuple(notes), score=score or "")


def analyze_count_plan(data: pd.DataFrame, experiment, dropped: Optional[Mapping[str, int]] = None) -> CountAnalysis:
    """:func:`analyze_counts` with a declared experiment's :class:`~paradigms.base.CountPlan`.

    The plan's contrasts on levels of its first factor are the planned
    contrasts; the regressions are referenced to ``plan.references``; the
    correlations of ``plan.score`` with the count are compared between the
    declared pairs; the threshold measure is ``plan.threshold``.  Factor
    levels are ordered as the experiment declares its conditions.

    Examples
    --------
    >>> import paradigms
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> res = analyze_count_plan(frame_from_tickets(), paradigms.get("regan1971").experiment(1))
    >>> res.n, [c.n for c in res.cells]
    (48, [8, 8, 8, 8, 8, 8])
    >>> print(res.contrasts[0])
    confederate favor vs no favor: difference = 0.81 tickets, 95% CI [-0.40, 2.03], t(42) = 1.35, p = .184; NB rate ratio = 1.54, 95% CI [0.78, 3.04], p = .215
    """
    plan = experiment.plan
    a, b = plan.factors
    order = {f: tuple(dict.fromkeys(c.factors[f] for c in experiment.conditions)) for f in plan.factors}
    contrasts = tuple((k.treatment, k.control, k.label) for k in plan.contrasts if k.factor == a)
    return analyze_counts(
        data, outcome=plan.outcome, factors=(a, b), score=plan.score, contrasts=contrasts,
        references=dict(plan.references), level_order=order, correlation_pairs=plan.correlation_pairs,
        threshold=plan.threshold, threshold_contrast=plan.threshold_contrast, dropped=dropped)


def analyze_count_input(inp) -> CountAnalysis:
    """The count analysis of one experiment's :class:`~analysis.load.inputs.AnalysisInput`.

    The input's frame holds the analysable rows (the loader applied the
    participant-status rule once); the excluded and withdrawn are counted from
    its report; the experiment's declared :class:`~paradigms.base.CountPlan`
    says what is analysed.

    Examples
    --------
    >>> from analysis.declared import declaration
    >>> from analysis.load.inputs import AnalysisInput
    >>> from analysis.load.synthetic import frame_from_tickets
    >>> import pandas as pd
    >>> regan = declaration("regan1971")
    >>> inp = AnalysisInput(frame_from_tickets(), regan, regan.experiment(1), pd.DataFrame({"status": ["withdrawn"]}))
    >>> res = analyze_count_input(inp)
    >>> res.n, res.n_withdrawn, res.paradigm
    (48, 1, 'regan1971')
    """
    res = analyze_count_plan(inp.frame, inp.experiment, dropped=report_counts(inp.report))
    return dataclasses.replace(res, paradigm=inp.paradigm.id, experiment=int(inp.experiment.number))


def analyze_count_experiment(loaded, paradigm, experiment: int) -> CountAnalysis:
    """The count analysis of one experiment of validated session data (``compliance analyze``).

    ``loaded`` is a :class:`~analysis.load.sessions.LoadedData`; participants who
    withdrew their data are already gone from it and are counted from its
    report.  The experiment's declared :class:`~paradigms.base.CountPlan`
    says what is analysed.
    """
    from analysis.load.inputs import analysis_input

    return analyze_count_input(analysis_input(loaded, paradigm, paradigm.experiment(experiment)))
