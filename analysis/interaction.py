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

Input is tidy data as the session CSVs give it, one row per participant:
``complied``, ``excluded``, ``data_consent`` and the factor columns.  Rows with
``excluded == 1`` and rows with ``data_consent == 0`` (withdrawn) are dropped.
Degenerate data (an empty cell, a rate of 0 or 1 so that the maximum-likelihood
estimate does not exist) never raise: model quantities are NaN and ``notes``
say why.  Malformed input (a missing column, an unknown technique level, not
exactly two prices) raises :class:`~analysis.errors.AnalysisError`.

This module does not import PsychoPy.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
from scipy import stats

from .errors import AnalysisError
from .results import LikelihoodRatioTest, Result, format_number, format_p
from .status import ANALYSED, EXCLUDED, WITHDRAWN, participant_status

__all__ = ["METHODS", "SimpleEffect", "InteractionTerm", "LikelihoodRatioTest", "TechniqueByPrice",
           "technique_by_price"]

#: The methods used; pinned here rather than left to library defaults.
METHODS = {
    "model": "statsmodels.formula.api.logit, fit(method='newton', maxiter=100)",
    "coef_ci": "Wald, normal quantile",
    "interaction_test": "Wald z of the interaction coefficient; likelihood-ratio chi2(1) beside it",
    "rd_ci": "newcomb (confint_proportions_2indep(method='newcomb', compare='diff'))",
    "simple_or": "model-based: exp of the technique coefficient plus, at the other price, the interaction",
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

    def __str__(self) -> str:
        ci = f"{self.confidence:.0%} CI"
        return (f"price {self.price}: {_pct(self.complied_treatment, self.n_treatment)} vs "
                f"{_pct(self.complied_control, self.n_control)}, "
                f"RD = {format_number(self.risk_difference, leading_zero=False)}, {ci} "
                f"{_ci(self.rd_ci_low, self.rd_ci_high, leading_zero=False)}; "
                f"OR = {format_number(self.odds_ratio)}, {ci} {_ci(self.or_ci_low, self.or_ci_high)}, "
                f"z = {format_number(self.z)}, {format_p(self.p)}")


@dataclass(frozen=True)
class InteractionTerm(Result):
    """The technique × price term: ``estimate`` is the ratio of odds ratios.

    ``estimate = exp(coef)`` = OR(technique at the other price) / OR(technique
    at the reference price).  H0: the ratio is 1 (the technique's effect on the
    odds does not depend on price); H1: it is not, two-sided.
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

    def __str__(self) -> str:
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
    rates = d.groupby(by, observed=True)[outcome].mean()
    return [" / ".join(map(str, k if isinstance(k, tuple) else (k,))) for k, r in rates.items() if r in (0.0, 1.0)]


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
    cells = d.groupby([technique, price]).size()
    empty = [f"{t} / {p}" for t in (treatment, control) for p in prices if cells.get((t, p), 0) == 0]
    sep = _separated(d, [technique, price], outcome) + (_separated(d, [reason], outcome) if use_reason else [])
    if empty:
        notes.append("no participants in " + ", ".join(empty) + ": the model is not fitted")
    elif sep:
        notes.append("complete or quasi-complete separation (rate 0 or 1 in " + ", ".join(sep) + "): "
                     "maximum-likelihood estimates do not exist; model odds ratios and p values are NA")
    else:
        fit, why = _fit(formula, d)
        if fit is None:
            notes.append(f"logistic regression failed: {why}")
    converged = bool(fit is not None and fit.mle_retvals.get("converged", True))
    if fit is not None and not converged:
        notes.append("the fit did not converge")

    if fit is not None:
        b, se = float(fit.params[i_name]), float(fit.bse[i_name])
        reduced, _ = _fit(f"{outcome} ~ {tech_term} + {price_term}" + (f" + C({reason})" if use_reason else ""), d)
        lr = 2 * (fit.llf - reduced.llf) if reduced is not None else nan
        interaction = InteractionTerm(label, math.exp(b), math.exp(b - z * se), math.exp(b + z * se),
                                      float(fit.pvalues[i_name]), b, se, b / se, float(lr),
                                      float(stats.chi2.sf(lr, 1)) if not math.isnan(lr) else nan,
                                      i_name, 1 - alpha)
    else:
        interaction = InteractionTerm(label, nan, nan, nan, nan, nan, nan, nan, nan, nan, i_name, 1 - alpha)

    # ---- simple effects --------------------------------------------------
    from statsmodels.stats.proportion import confint_proportions_2indep

    simple = []
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
        else:
            orr = olo = ohi = zz = pval = nan
        simple.append(SimpleEffect(p, n1, x1, n0, x0, r1, r0, r1 - r0, lo, hi, orr, olo, ohi, zz, pval, 1 - alpha))

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

    # a withdrawn row counts as withdrawn even if it was also excluded (as analysis.load reports it)
    return TechniqueByPrice(formula, METHODS["model"], len(d), int(excluded.sum()),
                            int(withdrawn.sum()), treatment, control, ref, other, covariates,
                            interaction, tuple(simple), moderation, converged, tuple(notes))
