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
(:func:`analysis.status.participant_status` decides; withdrawal wins over exclusion).
This module never imports PsychoPy.
"""
from __future__ import annotations

import dataclasses

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .results import _isnan, format_number, format_p, jsonable
from .status import ANALYSED, EXCLUDED, WITHDRAWN, participant_status

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
]

#: The methods used, pinned (library defaults change between releases).
METHODS: Mapping[str, str] = {
    "anova": "OLS, anova_lm(typ=2), sum-to-zero coding",
    "cell_ci": "t interval, n - 1 df",
    "poisson": "GLM Poisson, log link; LR tests of nested fits (type II order)",
    "negative_binomial": "NB2 by maximum likelihood (smf.negativebinomial), alpha estimated; LR tests of "
                         "nested fits (type II order)",
    "contrast": "unweighted marginal means, pooled ANOVA error, t(df_error)",
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


class _Result:
    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


def _label(level: str) -> str:
    return str(level).replace("_", " ")


# --------------------------------------------------------------------------- #
# Result objects.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class CellSummary(_Result):
    """One cell of the design: the count's n, mean, SD and 95% CI of the mean."""

    favor: str
    liking: str
    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float

    def __str__(self) -> str:
        return (f"{_label(self.favor)}, {_label(self.liking)}: M = {_n(self.mean)}, SD = {_n(self.sd)}, "
                f"95% CI [{_n(self.ci_low)}, {_n(self.ci_high)}], n = {self.n}")


@dataclass(frozen=True)
class AnovaTerm(_Result):
    """One row of the type II ANOVA table (H0: the term explains nothing)."""

    term: str
    ss: float
    df1: float
    df2: float
    F: float
    p: float
    partial_eta2: float

    def __str__(self) -> str:
        return (f"{self.term}: F({self.df1:g}, {self.df2:g}) = {_n(self.F)}, {_p(self.p)}, "
                f"ηp² = {_n(self.partial_eta2, 2, zero=False)}")


@dataclass(frozen=True)
class GLMTerm(_Result):
    """A coefficient (log scale) and its rate ratio exp(b) with a 95% Wald CI."""

    term: str
    estimate: float
    se: float
    z: float
    p: float
    rate_ratio: float
    rr_low: float
    rr_high: float

    def __str__(self) -> str:
        return (f"{self.term}: RR = {_n(self.rate_ratio)}, 95% CI [{_n(self.rr_low)}, {_n(self.rr_high)}], "
                f"z = {_n(self.z)}, {_p(self.p)}")


@dataclass(frozen=True)
class LRTest(_Result):
    """Likelihood-ratio test of one term (H0: its coefficients are all zero)."""

    term: str
    chi2: float
    df: int
    p: float

    def __str__(self) -> str:
        return f"{self.term}: χ²({self.df}) = {_n(self.chi2)}, {_p(self.p)}"


@dataclass(frozen=True)
class GLMResult(_Result):
    """A Poisson or negative binomial (NB2) regression of the count on the design.

    ``alpha`` is the NB2 dispersion (variance = mu + alpha mu²), estimated by
    ML, with its 95% Wald CI and the LR test of alpha = 0 (H0: Poisson; the
    p value is halved because alpha = 0 is on the boundary).  For the Poisson
    fit ``alpha`` is 0 and ``pearson_dispersion`` (Pearson chi2 / residual df)
    shows overdispersion when well above 1.
    """

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

    def __str__(self) -> str:
        head = f"{self.family} regression, N = {self.n}"
        if self.family.startswith("Negative"):
            head += (f", alpha = {_n(self.alpha)} (ML), 95% CI [{_n(self.alpha_ci_low)}, {_n(self.alpha_ci_high)}]"
                     f"; vs Poisson χ²(1) = {_n(self.alpha_lr_chi2)}, {_p(self.alpha_lr_p)} (boundary, halved)")
        else:
            head += f", Pearson dispersion = {_n(self.pearson_dispersion)}"
        lines = [head + "."]
        lines += ["  LR " + str(t) for t in self.tests]
        lines += ["  " + str(t) for t in self.terms if t.term != "Intercept"]
        lines += ["  note: " + n for n in self.notes]
        return "\n".join(lines)


@dataclass(frozen=True)
class PlannedContrast(_Result):
    """A planned contrast of two factor levels' unweighted marginal means.

    H0: the mean count is equal at the two levels (averaged with equal weight
    over the other factor's levels); H1: it differs (two-sided).
    """

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

    def __str__(self) -> str:
        ctrl = " + ".join(_label(c) for c in self.control)
        return (f"{_label(self.treatment)} vs {ctrl}: difference = {_n(self.estimate)} tickets, 95% CI "
                f"[{_n(self.ci_low)}, {_n(self.ci_high)}], t({self.df:g}) = {_n(self.t)}, {_p(self.p)}; "
                f"NB rate ratio = {_n(self.rate_ratio)}, 95% CI [{_n(self.rr_low)}, {_n(self.rr_high)}], "
                f"{_p(self.rr_p)}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["weights"] = dict(self.weights)
        return d


@dataclass(frozen=True)
class Correlation(_Result):
    """Pearson r of the liking composite with the count within one favor level (H0: rho = 0)."""

    favor: str
    r: float
    n: int
    p: float
    ci_low: float
    ci_high: float

    def __str__(self) -> str:
        return (f"{_label(self.favor)}: r({self.n - 2}) = {_n(self.r, 2, zero=False)}, 95% CI "
                f"[{_n(self.ci_low, 2, zero=False)}, {_n(self.ci_high, 2, zero=False)}], {_p(self.p)}")


@dataclass(frozen=True)
class CorrelationDifference(_Result):
    """Fisher z test of two independent correlations (H0: rho1 = rho2; two-sided)."""

    first: str
    second: str
    r1: float
    n1: int
    r2: float
    n2: int
    z: float
    p: float

    def __str__(self) -> str:
        return (f"r in {_label(self.first)} ({_n(self.r1, 2, zero=False)}, n = {self.n1}) vs "
                f"{_label(self.second)} ({_n(self.r2, 2, zero=False)}, n = {self.n2}): z = {_n(self.z)}, "
                f"{_p(self.p)}")


@dataclass(frozen=True)
class ThresholdRate(_Result):
    level: str
    k: int
    n: int
    rate: float


@dataclass(frozen=True)
class ThresholdResult(_Result):
    """Share buying more than ``threshold`` tickets: treatment level vs pooled controls.

    H0: the two proportions are equal.  Risk difference with Newcombe's CI;
    Fisher's exact test (two-sided) and the sample odds ratio.
    """

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

    def __str__(self) -> str:
        ctrl = " + ".join(_label(c) for c in self.control)
        return (f"more than {self.threshold} ticket{'s' if self.threshold != 1 else ''}: "
                f"{_label(self.treatment)} {_n(100 * self.p1, 1)}% ({self.k1}/{self.n1}) vs {ctrl} "
                f"{_n(100 * self.p2, 1)}% ({self.k2}/{self.n2}); difference = {_n(100 * self.difference, 1)} "
                f"points, 95% CI [{_n(100 * self.ci_low, 1)}, {_n(100 * self.ci_high, 1)}] (Newcombe); "
                f"Fisher's exact {_p(self.fisher_p)}, OR = {_n(self.odds_ratio)}")


@dataclass(frozen=True)
class CountAnalysis(_Result):
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
    liking_correlation: tuple[Correlation, ...]
    correlation_difference: tuple[CorrelationDifference, ...]
    threshold: Optional[ThresholdResult]
    methods: Mapping[str, str] = field(default_factory=lambda: dict(METHODS))
    notes: tuple[str, ...] = ()
    paradigm: str = ""
    experiment: Optional[int] = None

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
        L += ["", "Liking and tickets within each favor condition (Pearson):"]
        L += ["  " + str(c) for c in self.liking_correlation]
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
            "cells": [{a: c.favor, b: c.liking, "n": c.n, "mean": c.mean, "sd": c.sd, "ci_low": c.ci_low,
                       "ci_high": c.ci_high} for c in self.cells],
            "anova": [t.to_dict() for t in self.anova],
            "poisson": self.poisson.to_dict(),
            "negative_binomial": self.negative_binomial.to_dict(),
            "contrasts": [c.to_dict() for c in self.contrasts],
            "liking_correlation": [{a: c.favor, "r": c.r, "n": c.n, "p": c.p, "ci_low": c.ci_low,
                                    "ci_high": c.ci_high} for c in self.liking_correlation],
            "correlation_difference": [c.to_dict() for c in self.correlation_difference],
            "threshold": None if self.threshold is None else self.threshold.to_dict(),
            "methods": dict(self.methods),
            "notes": list(self.notes),
        })


# --------------------------------------------------------------------------- #
# Data.
# --------------------------------------------------------------------------- #
def prepare(data: pd.DataFrame, outcome: str = "tickets", factors: Sequence[str] = ("favor", "liking"),
            extra: Sequence[str] = ()) -> tuple[pd.DataFrame, dict]:
    """The rows to analyse, and how many were left out and why.

    Drops ``excluded == 1`` and ``data_consent == 0`` rows (never analysed)
    and rows without a count; checks the count is a whole number >= 0.
    """
    missing = [c for c in (outcome, *factors, *extra) if c not in data.columns]
    if missing:
        raise ValueError(f"count analysis: column(s) {', '.join(missing)} not in the data "
                         f"(columns: {', '.join(map(str, data.columns))})")
    df = data.copy()
    keep = pd.Series(True, index=df.index)
    status = participant_status(df)
    excluded, withdrawn = status == EXCLUDED, status == WITHDRAWN
    keep &= status == ANALYSED
    y = pd.to_numeric(df[outcome], errors="coerce")
    bad = keep & df[outcome].notna() & (df[outcome].astype(str).str.strip() != "") & y.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(f"count analysis: row {i + 1}, column {outcome}: {df[outcome].iloc[i]!r} is not a number")
    no_y = keep & y.isna()
    keep &= ~no_y
    y = y[keep]
    if ((y < 0) | (y != np.floor(y))).any():
        v = y[(y < 0) | (y != np.floor(y))].iloc[0]
        raise ValueError(f"count analysis: column {outcome}: {v!r} is not a whole number >= 0")
    out = df[keep].copy()
    out[outcome] = y.astype(int)
    for f in factors:
        out[f] = out[f].astype(str)
    counts = {"excluded": int(excluded.sum()), "withdrawn": int(withdrawn.sum()),
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


def _ols(df: pd.DataFrame, outcome: str, a: str, b: str):
    import statsmodels.formula.api as smf
    return smf.ols(f"{outcome} ~ C({a}, Sum) * C({b}, Sum)", data=df).fit()


def anova_table(df: pd.DataFrame, outcome: str, a: str, b: str) -> tuple[AnovaTerm, ...]:
    """Type II ANOVA of ``outcome`` by ``a``, ``b`` and their interaction."""
    from statsmodels.stats.anova import anova_lm
    fit = _ols(df, outcome, a, b)
    tab = anova_lm(fit, typ=2)
    ss_res = float(tab.loc["Residual", "sum_sq"])
    df_res = float(tab.loc["Residual", "df"])
    names = {f"C({a}, Sum)": a, f"C({b}, Sum)": b, f"C({a}, Sum):C({b}, Sum)": f"{a} x {b}", "Residual": "Residual"}
    out = []
    for idx, row in tab.iterrows():
        ss = float(row["sum_sq"])
        if idx == "Residual":
            out.append(AnovaTerm("Residual", ss, float(row["df"]), df_res, float("nan"), float("nan"), float("nan")))
        else:
            out.append(AnovaTerm(names.get(idx, idx), ss, float(row["df"]), df_res, float(row["F"]),
                                 float(row["PR(>F)"]), ss / (ss + ss_res)))
    return tuple(out)


def _treatment_formula(outcome: str, a: str, b: str, ref_a: str, ref_b: str, terms: str = "full") -> str:
    A = f"C({a}, Treatment({ref_a!r}))"
    B = f"C({b}, Treatment({ref_b!r}))"
    rhs = {"full": f"{A} * {B}", "additive": f"{A} + {B}", "no_a": B, "no_b": A, "null": "1"}[terms]
    return f"{outcome} ~ {rhs}"


def _pretty_term(name: str, a: str, b: str) -> str:
    import re
    name = re.sub(rf"C\({a}, Treatment\('[^']*'\)\)\[T\.([^\]]+)\]", rf"{a}[\1]", name)
    name = re.sub(rf"C\({b}, Treatment\('[^']*'\)\)\[T\.([^\]]+)\]", rf"{b}[\1]", name)
    return name


def _glm_terms(fit, a: str, b: str, skip: Sequence[str] = ()) -> tuple[GLMTerm, ...]:
    ci = fit.conf_int(0.05)
    out = []
    for name in fit.params.index:
        if name in skip:
            continue
        est, se = float(fit.params[name]), float(fit.bse[name])
        out.append(GLMTerm(_pretty_term(name, a, b), est, se, float(fit.tvalues[name]), float(fit.pvalues[name]),
                           math.exp(est), math.exp(float(ci.loc[name, 0])), math.exp(float(ci.loc[name, 1]))))
    return tuple(out)


def _lr_tests(fits: Mapping[str, object], a: str, b: str) -> tuple[LRTest, ...]:
    """Type II order: each main effect against the additive model, the interaction against the full model."""
    def lr(big, small, term):
        chi2 = max(2 * (float(big.llf) - float(small.llf)), 0.0)
        dfd = int(round(big.df_model - small.df_model))
        return LRTest(term, chi2, dfd, float(stats.chi2.sf(chi2, dfd)) if dfd > 0 else float("nan"))
    return (lr(fits["additive"], fits["no_a"], a), lr(fits["additive"], fits["no_b"], b),
            lr(fits["full"], fits["additive"], f"{a} x {b}"))


def _fit_quietly(fn):
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = fn()
    for w in caught:
        msg = str(w.message).strip().splitlines()[0] if str(w.message).strip() else type(w.message).__name__
        if msg not in notes:
            notes.append(msg)
    return fit, notes


def poisson_glm(df: pd.DataFrame, outcome: str, a: str, b: str, ref_a: str, ref_b: str) -> GLMResult:
    """Poisson GLM (log link) of the count on the two factors and their interaction."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    fits, notes = {}, []
    for key in ("full", "additive", "no_a", "no_b"):
        fit, n = _fit_quietly(lambda: smf.glm(_treatment_formula(outcome, a, b, ref_a, ref_b, key), data=df,
                                              family=sm.families.Poisson()).fit())
        fits[key] = fit
        notes += [x for x in n if x not in notes]
    full = fits["full"]
    return GLMResult("Poisson", _treatment_formula(outcome, a, b, ref_a, ref_b), int(full.nobs), float(full.llf),
                     float(full.aic), _glm_terms(full, a, b), _lr_tests(fits, a, b),
                     float(full.pearson_chi2 / full.df_resid) if full.df_resid > 0 else float("nan"),
                     converged=bool(getattr(full, "converged", True)), notes=tuple(notes))


def _nb_fit(formula: str, df: pd.DataFrame):
    import statsmodels.formula.api as smf
    model = smf.negativebinomial(formula, data=df, loglike_method="nb2")
    fit = model.fit(method="bfgs", maxiter=2000, disp=0)
    if not fit.mle_retvals.get("converged", True):
        fit = model.fit(method="nm", maxiter=20000, disp=0, start_params=fit.params)
    return fit


def negative_binomial(df: pd.DataFrame, outcome: str, a: str, b: str, ref_a: str, ref_b: str) -> GLMResult:
    """NB2 regression with alpha estimated by maximum likelihood (not fixed at 1)."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    fits, notes = {}, []
    for key in ("full", "additive", "no_a", "no_b"):
        fit, n = _fit_quietly(lambda: _nb_fit(_treatment_formula(outcome, a, b, ref_a, ref_b, key), df))
        fits[key] = fit
        notes += [x for x in n if x not in notes]
    full = fits["full"]
    alpha = float(full.params["alpha"])
    ci = full.conf_int(0.05).loc["alpha"]
    pois = smf.glm(_treatment_formula(outcome, a, b, ref_a, ref_b), data=df, family=sm.families.Poisson()).fit()
    lr = max(2 * (float(full.llf) - float(pois.llf)), 0.0)
    mu = full.predict()
    y = df[outcome].to_numpy(float)
    pearson = float(np.sum((y - mu) ** 2 / (mu + alpha * mu ** 2)) / full.df_resid) if full.df_resid > 0 else float("nan")
    return GLMResult("Negative binomial (NB2)", _treatment_formula(outcome, a, b, ref_a, ref_b), int(full.nobs),
                     float(full.llf), float(full.aic), _glm_terms(full, a, b, skip=("alpha",)),
                     _lr_tests(fits, a, b), pearson, alpha, float(ci[0]), float(ci[1]), lr,
                     0.5 * float(stats.chi2.sf(lr, 1)),
                     converged=bool(full.mle_retvals.get("converged", True)), notes=tuple(notes))


def planned_contrast(df: pd.DataFrame, outcome: str, a: str, b: str, treatment: str, control: Sequence[str],
                     label: str = "", level: float = 0.95) -> PlannedContrast:
    """Treatment level vs control level(s) of factor ``a``, on unweighted marginal means.

    Weights: +1/k over the treatment's cells, -1/m over the control cells
    (every level of ``b`` equally).  The t test uses the mean squared error
    and residual df of the full two-way model.
    """
    cells = df.groupby([a, b])[outcome].agg(["mean", "count"])
    t_cells = [c for c in cells.index if c[0] == treatment]
    c_cells = [c for c in cells.index if c[0] in control]
    if not t_cells or not c_cells:
        raise ValueError(f"contrast {treatment} vs {', '.join(control)}: no data at one of the levels of {a}")
    w = {c: 1 / len(t_cells) for c in t_cells} | {c: -1 / len(c_cells) for c in c_cells}
    fit = _ols(df, outcome, a, b)
    mse, dfe = float(fit.mse_resid), float(fit.df_resid)
    est = sum(wi * float(cells.loc[c, "mean"]) for c, wi in w.items())
    se = math.sqrt(mse * sum(wi ** 2 / float(cells.loc[c, "count"]) for c, wi in w.items()))
    t = est / se if se > 0 else float("nan")
    p = float(2 * stats.t.sf(abs(t), dfe)) if se > 0 else float("nan")
    half = stats.t.ppf(0.5 + level / 2, dfe) * se
    # the same contrast on the log scale of an NB2 cell-means model: a rate ratio
    rr = rr_lo = rr_hi = rr_p = float("nan")
    try:
        d = df.assign(_cell=df[a].astype(str) + "|" + df[b].astype(str))
        nb, _ = _fit_quietly(lambda: _nb_fit(f"{outcome} ~ 0 + C(_cell)", d))
        names = list(nb.params.index)
        vec = np.zeros(len(names))
        for (la, lb), wi in w.items():
            vec[names.index(f"C(_cell)[{la}|{lb}]")] = wi
        tt = nb.t_test(vec)
        e, s = float(np.squeeze(tt.effect)), float(np.squeeze(tt.sd))
        z = stats.norm.ppf(0.5 + level / 2)
        rr, rr_lo, rr_hi = math.exp(e), math.exp(e - z * s), math.exp(e + z * s)
        rr_p = float(2 * stats.norm.sf(abs(e / s)))
    except (ValueError, np.linalg.LinAlgError, KeyError):
        pass
    return PlannedContrast(label or f"{treatment} vs {' + '.join(control)}", a, treatment, tuple(control), est, se, t,
                           dfe, p, est - half, est + half, rr, rr_lo, rr_hi, rr_p,
                           {f"{la}|{lb}": wi for (la, lb), wi in w.items()})


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


def liking_correlations(df: pd.DataFrame, outcome: str, score: str, a: str,
                        a_levels: Sequence[str]) -> tuple[Correlation, ...]:
    out = []
    for la in a_levels:
        g = df[(df[a] == la)][[score, outcome]].apply(pd.to_numeric, errors="coerce").dropna()
        r, p, lo, hi = _pearson(g[score].to_numpy(float), g[outcome].to_numpy(float))
        out.append(Correlation(la, r, len(g), p, lo, hi))
    return tuple(out)


def correlation_difference(first: Correlation, second: Correlation) -> CorrelationDifference:
    """Fisher z test of two independent Pearson correlations (two-sided)."""
    if first.n > 3 and second.n > 3 and not _nan(first.r) and not _nan(second.r) \
            and abs(first.r) < 1 and abs(second.r) < 1:
        z = (math.atanh(first.r) - math.atanh(second.r)) / math.sqrt(1 / (first.n - 3) + 1 / (second.n - 3))
        p = float(2 * stats.norm.sf(abs(z)))
    else:
        z = p = float("nan")
    return CorrelationDifference(first.favor, second.favor, first.r, first.n, second.r, second.n, z, p)


def threshold_test(df: pd.DataFrame, outcome: str, a: str, treatment: str, control: Sequence[str],
                   threshold: int = 1, a_levels: Sequence[str] = ()) -> ThresholdResult:
    """Share with ``outcome > threshold``: treatment level vs the pooled control levels."""
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
        raise ValueError(f"threshold: no data for {treatment if n1 == 0 else ', '.join(control)} in column {a}")
    p1, p2 = k1 / n1, k2 / n2
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff", alpha=0.05)
    res = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
    return ThresholdResult(threshold, a, treatment, tuple(control), tuple(rates), k1, n1, k2, n2, p1, p2, p1 - p2,
                           float(lo), float(hi), float(res.statistic), float(res.pvalue))


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
                   threshold_contrast: Optional[tuple[str, Sequence[str]]] = None) -> CountAnalysis:
    """Run the count analysis on tidy session data.

    Parameters
    ----------
    data : DataFrame
        One row per participant (session CSVs concatenated).
    outcome : str
        The count column.
    factors : (str, str)
        The two design factors; the first is the one contrasted (favor).
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
    """
    a, b = factors
    df, dropped = prepare(data, outcome, factors, extra=(score,))
    if len(df) == 0:
        raise ValueError("count analysis: no rows left after exclusions and withdrawals")
    order = dict(level_order or {})
    a_levels, b_levels = _levels(df, a, order.get(a)), _levels(df, b, order.get(b))
    refs = dict(references or {})
    ref_a = refs.get(a, a_levels[0])
    ref_b = refs.get(b, b_levels[0])
    notes = []
    cells = cell_summaries(df, outcome, a, b, a_levels, b_levels)
    for c in cells:
        if c.n < 2:
            notes.append(f"cell {c.favor} x {c.liking} has n = {c.n}: its SD and CI are undefined")
        elif c.n and c.mean == 0:
            notes.append(f"cell {c.favor} x {c.liking} has no tickets at all: its log rate is -inf, the GLM "
                         "coefficients involving it do not converge")
    anova = anova_table(df, outcome, a, b)
    pois = poisson_glm(df, outcome, a, b, ref_a, ref_b)
    nb = negative_binomial(df, outcome, a, b, ref_a, ref_b)
    planned = tuple(planned_contrast(df, outcome, a, b, t, tuple(c), label) for t, c, label in contrasts)
    corr = liking_correlations(df, outcome, score, a, a_levels)
    by_level = {c.favor: c for c in corr}
    diffs = tuple(correlation_difference(by_level[x], by_level[y]) for x, y in correlation_pairs
                  if x in by_level and y in by_level)
    thr = None
    if threshold is not None:
        if threshold_contrast is None and contrasts:
            t0 = contrasts[0][0]
            threshold_contrast = (t0, tuple(lv for lv in a_levels if lv != t0))
        if threshold_contrast is not None:
            thr = threshold_test(df, outcome, a, threshold_contrast[0], tuple(threshold_contrast[1]), int(threshold),
                                 a_levels)
    return CountAnalysis(outcome, (a, b), len(df), dropped["excluded"], dropped["withdrawn"],
                         dropped["missing_outcome"], cells, anova, pois, nb, planned, corr, diffs, thr,
                         dict(METHODS), tuple(notes))


def analyze_count_plan(data: pd.DataFrame, experiment) -> CountAnalysis:
    """:func:`analyze_counts` with a declared experiment's :class:`~paradigms.base.CountPlan`.

    The plan's contrasts on levels of its first factor are the planned
    contrasts; the regressions are referenced to ``plan.references``; the
    correlations of ``plan.score`` with the count are compared between the
    declared pairs; the threshold measure is ``plan.threshold``.  Factor
    levels are ordered as the experiment declares its conditions.

    Examples
    --------
    >>> import paradigms, tempfile, pandas as pd
    >>> from paradigms.engine.sessions import simulate
    >>> regan = paradigms.get("regan1971")
    >>> r = simulate(regan, 1, 120, seed=3, data_dir=tempfile.mkdtemp())
    >>> res = analyze_count_plan(pd.read_csv(r.csv_path), regan.experiment(1))
    >>> res.n, [c.n for c in res.cells]
    (120, [20, 20, 20, 20, 20, 20])
    """
    plan = experiment.plan
    a, b = plan.factors
    order = {f: tuple(dict.fromkeys(c.factors[f] for c in experiment.conditions)) for f in plan.factors}
    contrasts = tuple((k.treatment, k.control, k.label) for k in plan.contrasts if k.factor == a)
    return analyze_counts(
        data, outcome=plan.outcome, factors=(a, b), score=plan.score, contrasts=contrasts,
        references=dict(plan.references), level_order=order, correlation_pairs=plan.correlation_pairs,
        threshold=plan.threshold, threshold_contrast=plan.threshold_contrast)


def analyze_count_experiment(loaded, paradigm, experiment: int) -> CountAnalysis:
    """The count analysis of one experiment of validated session data (``compliance analyze``).

    ``loaded`` is a :class:`~analysis.load.LoadedData`; participants who
    withdrew their data are already gone from it and are counted from its
    report.  The experiment's declared :class:`~paradigms.base.CountPlan`
    says what is analysed.
    """
    exp = paradigm.experiment(experiment)
    d = loaded.data
    d = d[(d["study"] == paradigm.id) & (d["experiment"] == int(experiment))]
    rep = loaded.report
    n_withdrawn = int(((rep["study"] == paradigm.id) & (rep["experiment"] == int(experiment))
                       & (rep["status"] == "withdrawn")).sum()) if len(rep) else 0
    res = analyze_count_plan(d, exp)
    return dataclasses.replace(res, paradigm=paradigm.id, experiment=int(experiment),
                               n_withdrawn=res.n_withdrawn + n_withdrawn)
