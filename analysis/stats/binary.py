"""Statistics of binary compliance (complied 0/1) by condition.

Every method is pinned (see :data:`METHODS`) rather than left to a library
default.  Degenerate tables (0 of n, n of n, an empty condition) never raise:
undefined quantities are NaN and the result carries a note saying why.

The 2×2 table of a contrast is laid out as::

                 complied   did not
    treatment       a          b
    control         c          d
"""
from __future__ import annotations

import math
import warnings
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.errors import AnalysisError, DegenerateTableWarning, SmallExpectedCountWarning
from analysis.stats import effects
from analysis.stats.effects import cohens_h, z_critical  # re-exported: the one home of each effect
from analysis.format import format_number
from analysis.results import (ChiSquareResult, ConditionRate, ContrastResult, ExclusionCount,
                      ExperimentAnalysis, LogitResult, LogitTerm)

__all__ = [
    "METHODS",
    "wilson_ci",
    "condition_rate",
    "newcombe_diff_ci",
    "odds_ratio_ci",
    "risk_ratio_ci",
    "cohens_h",
    "pearson_chi2",
    "fisher_exact_p",
    "barnard_exact_p",
    "compare_proportions",
    "omnibus_chi2",
    "logistic_regression",
    "analyze_experiment",
]

#: The methods this module uses; change them here, never by relying on a library default.
METHODS = {
    "rate_ci": "wilson",                 # statsmodels proportion_confint(method="wilson")
    "rd_ci": "newcomb",                  # Newcombe (1998) method 10, hybrid score
    "or_ci": "woolf-log, haldane 0.5 only if a cell is 0",
    "rr_ci": "katz-log, haldane 0.5 only if a cell is 0",
    "chi2": "pearson, no continuity correction (Yates reported beside it)",
    "fisher": "two-sided, scipy fisher_exact (sum of tables no more probable than the observed)",
    "barnard": "two-sided, pooled Wald statistic, as scipy barnard_exact(pooled=True) but with ties "
               "taken at a relative tolerance (scipy issue #18798); not computed above EXACT_MAX_TABLES "
               "(1,000,000) tables",
    "logit": "statsmodels logit, treatment coding against the reference control, Wald CIs",
}

_ALPHA = 0.05


# --------------------------------------------------------------------------- #
# One proportion
# --------------------------------------------------------------------------- #
def wilson_ci(complied: int, n: int, alpha: float = _ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion.

    Parameters
    ----------
    complied, n : int
        Successes and trials.
    alpha : float
        1 − confidence level.

    Returns
    -------
    (low, high) : tuple of float
        NaN when ``n == 0``.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_ci(12, 24)]
    [0.3143, 0.6857]
    """
    if n == 0:
        return (math.nan, math.nan)
    low, high = proportion_confint(complied, n, alpha=alpha, method=METHODS["rate_ci"])
    return (float(low), float(high))


def condition_rate(condition: str, complied: int, n: int, alpha: float = _ALPHA) -> ConditionRate:
    """Rate of compliance in one condition with its Wilson interval.

    Examples
    --------
    >>> print(condition_rate("control", 12, 40))
    control: 12/40 complied (30.0%), 95% CI [18.1%, 45.4%] (Wilson)
    """
    notes: tuple[str, ...] = ()
    if n == 0:
        notes = ("no participants analysed in this condition: rate undefined",)
    low, high = wilson_ci(complied, n, alpha)
    rate = complied / n if n else math.nan
    return ConditionRate(condition, int(n), int(complied), rate, low, high,
                         METHODS["rate_ci"], 1 - alpha, notes)


# --------------------------------------------------------------------------- #
# Two proportions: effect sizes
# --------------------------------------------------------------------------- #
def newcombe_diff_ci(x1: int, n1: int, x2: int, n2: int, alpha: float = _ALPHA) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 − p2 (Newcombe 1998, method 10).

    ``L = d − √((p1 − l1)² + (u2 − p2)²)``, ``U = d + √((u1 − p1)² + (p2 − l2)²)``,
    with (l, u) the Wilson limits of each proportion.  Checked in the tests against
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``
    and against Newcombe's Table II.  NaN when either group is empty.

    Examples
    --------
    >>> [round(x, 4) for x in newcombe_diff_ci(25, 40, 12, 40)]
    [0.1065, 0.5035]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ci(x1, n1, alpha)
    l2, u2 = wilson_ci(x2, n2, alpha)
    d = p1 - p2
    return (d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
            d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def _ratio_ci(effect: effects.Effect, alpha: float) -> tuple[float, float, float, bool]:
    lo, hi = effects.wald_ci(effect.yi, effect.vi, 1 - alpha)
    return (math.exp(effect.yi), math.exp(lo), math.exp(hi), effect.corrected)


def odds_ratio_ci(x1: int, n1: int, x2: int, n2: int,
                  alpha: float = _ALPHA) -> tuple[float, float, float, bool]:
    """Odds ratio (treatment odds / control odds) with Woolf's log interval.

    The effect and its variance are :func:`analysis.stats.effects.log_odds_ratio` (with its
    zero-cell rule, :data:`analysis.stats.effects.ZERO_CELL_RULE`: the fourth return value
    says whether it applied).  NaN when either group is empty.

    Returns
    -------
    (or, low, high, corrected)

    Examples
    --------
    >>> or_, lo, hi, corrected = odds_ratio_ci(25, 40, 12, 40)
    >>> round(or_, 4), round(lo, 4), round(hi, 4), corrected
    (3.8889, 1.5326, 9.8679, False)
    >>> odds_ratio_ci(10, 10, 5, 10)[3]   # a zero cell: Haldane's 0.5 added
    True
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan, False)
    return _ratio_ci(effects.log_odds_ratio(x1, n1, x2, n2), alpha)


def risk_ratio_ci(x1: int, n1: int, x2: int, n2: int,
                  alpha: float = _ALPHA) -> tuple[float, float, float, bool]:
    """Risk ratio p1 / p2 with the Katz log interval.

    The effect and its variance are :func:`analysis.stats.effects.log_risk_ratio` (a zero
    cell: 0.5 added to every cell, so each n grows by 1; the fourth value says so).  NaN
    when either group is empty.

    Examples
    --------
    >>> [round(x, 4) for x in risk_ratio_ci(25, 40, 12, 40)[:3]]
    [2.0833, 1.2253, 3.5421]
    """
    if n1 == 0 or n2 == 0:
        return (math.nan, math.nan, math.nan, False)
    return _ratio_ci(effects.log_risk_ratio(x1, n1, x2, n2), alpha)


# --------------------------------------------------------------------------- #
# Tests
# --------------------------------------------------------------------------- #
def _expected(table: np.ndarray) -> np.ndarray:
    n = table.sum()
    return np.outer(table.sum(axis=1), table.sum(axis=0)) / n


def pearson_chi2(table, correction: bool = False, warn: bool = True) -> ChiSquareResult:
    """Pearson chi-square test of independence of condition (rows) and compliance (columns).

    H0: the probability of compliance is the same in every row (condition).
    H1: it differs between at least two rows.

    Parameters
    ----------
    table : array-like, shape (k, 2)
        Rows = conditions, columns = (complied, did not comply).
    correction : bool
        Yates' continuity correction (2×2 only; scipy applies it only when df = 1).
    warn : bool
        Emit :class:`SmallExpectedCountWarning` when an expected count is below 5.

    Returns
    -------
    ChiSquareResult
        NaN statistic and p, with a note, when a row or column of the table is empty.

    Examples
    --------
    >>> print(pearson_chi2([[25, 15], [12, 28]]))
    χ²(1, N = 80) = 8.50, p = .004
    >>> print(pearson_chi2([[25, 15], [12, 28]], correction=True))
    χ²(1, N = 80) = 7.24, p = .007 (Yates)
    """
    t = np.asarray(table, dtype=float)
    n = int(t.sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    notes = []
    if n == 0 or (t.sum(axis=0) == 0).any() or (t.sum(axis=1) == 0).any():
        notes.append("chi-square undefined: the table has an empty row or column "
                     "(an empty condition, or everyone/no one complied)")
        return ChiSquareResult(math.nan, df, n, math.nan, correction, math.nan, tuple(notes))
    res = stats.chi2_contingency(t, correction=correction)
    min_exp = float(_expected(t).min())
    if min_exp < 5:
        notes.append(f"smallest expected count {format_number(min_exp)} < 5: prefer the exact tests")
        if warn:
            warnings.warn(f"chi-square: smallest expected count {format_number(min_exp)} < 5; prefer Fisher's or "
                          "Barnard's exact test", SmallExpectedCountWarning, stacklevel=2)
    return ChiSquareResult(float(res.statistic), int(res.dof), n, float(res.pvalue),
                           bool(correction and df == 1), min_exp, tuple(notes))


def fisher_exact_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Fisher's exact test, two-sided.

    H0: the odds ratio of compliance, treatment vs control, is 1 (conditional on
    the margins).  H1: it is not 1.  NaN when either group is empty.

    Examples
    --------
    >>> round(fisher_exact_p(25, 40, 12, 40), 6)
    0.006746
    """
    if n1 == 0 or n2 == 0:
        return math.nan
    return float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]], alternative="two-sided").pvalue)


#: Barnard's test enumerates all (n1 + 1)(n2 + 1) tables (each held as a few float arrays and summed
#: ~400 times); above this many tables (about 1,000 vs 1,000 participants, ~40 MB) it is not computed.
EXACT_MAX_TABLES = 1_000_000


def exact_test_size_note(n1: int, n2: int, test: str = "Barnard's exact test",
                         max_tables: int = EXACT_MAX_TABLES) -> Optional[str]:
    """Why an exact test that enumerates 2 x 2 tables is not computed at this size (None if it is).

    Examples
    --------
    >>> exact_test_size_note(40, 40) is None
    True
    >>> exact_test_size_note(333000, 667000)[:40]
    "Barnard's exact test not computed: 333,0"
    """
    tables = (int(n1) + 1) * (int(n2) + 1)
    if tables <= max_tables:
        return None
    return (f"{test} not computed: {n1:,} vs {n2:,} participants give {tables:,} tables to enumerate "
            f"(limit {max_tables:,}, to stay within time and memory); at this size the χ² tests and "
            "Fisher's exact test are reported")


def barnard_exact_p(x1: int, n1: int, x2: int, n2: int, grid: int = 400,
                    max_tables: int = EXACT_MAX_TABLES) -> float:
    """Barnard's unconditional exact test, two-sided, pooled Wald statistic.

    H0: p_treatment = p_control.  H1: p_treatment ≠ p_control.

    p = max over the nuisance π of P(|T| ≥ |T_obs|) under two independent binomials
    (x1 of n1, x2 of n2), the same definition as ``scipy.stats.barnard_exact(pooled=True)``
    (which takes one binomial sample per **column**).  Computed here rather than
    with scipy because scipy compares |T| without a tolerance, so the mirror table
    (n1 − x1, n2 − x2), whose statistic ties the observed one exactly, is dropped
    whenever rounding makes it 1 ulp smaller (scipy issue #18798): p comes out too
    small.  Ties are taken with a relative tolerance of 1e-9; π is maximised on a
    grid and refined with a bounded scalar search.  NaN when either group is empty,
    and NaN without allocating anything when there are more than ``max_tables``
    tables to enumerate (:func:`exact_test_size_note` says why).

    Examples
    --------
    >>> round(barnard_exact_p(7, 10, 2, 10), 4)
    0.0414
    """
    if n1 == 0 or n2 == 0 or exact_test_size_note(n1, n2, max_tables=max_tables):
        return math.nan
    k1 = np.arange(n1 + 1)[:, None]
    k2 = np.arange(n2 + 1)[None, :]
    p = (k1 + k2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (k1 / n1 - k2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    t = np.nan_to_num(t, nan=0.0)
    t_obs = abs(t[x1, x2])
    if t_obs == 0:
        return 1.0
    extreme = np.abs(t) >= t_obs * (1 - 1e-9)
    return barnard_max_tail(n1, n2, extreme, grid)


def barnard_max_tail(n1: int, n2: int, extreme: np.ndarray, grid: int = 400) -> float:
    """max over the nuisance π of P_π(table in ``extreme``) under two binomials Bin(n1, π), Bin(n2, π).

    ``extreme`` is a boolean (n1 + 1, n2 + 1) array of tables (k1, k2).  π is maximised on
    a grid of ``grid`` − 1 interior points and refined with a bounded scalar search around
    the best grid point.  Used by :func:`barnard_exact_p` and by the exact power of
    Barnard's test (:mod:`analysis.power.exact`).
    """
    from scipy.optimize import minimize_scalar

    def tail(pi: float) -> float:
        b1 = stats.binom.pmf(np.arange(n1 + 1), n1, pi)[:, None]
        b2 = stats.binom.pmf(np.arange(n2 + 1), n2, pi)[None, :]
        return float((b1 * b2)[extreme].sum())

    pis = np.linspace(0, 1, grid + 1)[1:-1]
    vals = [tail(pi) for pi in pis]
    i = int(np.argmax(vals))
    lo, hi = pis[max(i - 1, 0)], pis[min(i + 1, len(pis) - 1)]
    opt = minimize_scalar(lambda q: -tail(q), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    return float(min(1.0, max(vals[i], -opt.fun)))


def compare_proportions(x1: int, n1: int, x2: int, n2: int, *, treatment: str = "treatment",
                        control: Sequence[str] = ("control",), label: str = "",
                        confirmatory: bool = True, alpha: float = _ALPHA,
                        warn: bool = True) -> ContrastResult:
    """Every statistic of one treatment-vs-control contrast.

    Tests (all two-sided):

    * Pearson χ² (with and without Yates): H0 p1 = p2, H1 p1 ≠ p2.
    * Fisher's exact: H0 OR = 1 given the margins, H1 OR ≠ 1.
    * Barnard's exact: H0 p1 = p2 (unconditional), H1 p1 ≠ p2.

    Parameters
    ----------
    x1, n1 : int
        Complied and analysed in the treatment condition.
    x2, n2 : int
        Complied and analysed in the (pooled) control conditions.

    Examples
    --------
    >>> r = compare_proportions(12, 24, 10, 48, warn=False)
    >>> print(f"{r.chi2:.2f} {r.chi2_p:.3f}")
    6.41 0.011
    """
    for name, x, n in (("treatment", x1, n1), ("control", x2, n2)):
        if not (0 <= x <= n):
            raise AnalysisError(f"{name}: complied = {x} is not between 0 and n = {n}")
    control = tuple(control)
    notes: list[str] = []
    p1 = x1 / n1 if n1 else math.nan
    p2 = x2 / n2 if n2 else math.nan
    if n1 == 0 or n2 == 0:
        empty = treatment if n1 == 0 else " + ".join(control)
        notes.append(f"{empty}: no participants analysed; every statistic of this contrast is undefined")
    elif x1 + x2 == 0 or x1 + x2 == n1 + n2:
        notes.append("no one (or everyone) complied in both groups: χ² undefined; exact tests give p = 1")
    too_big = exact_test_size_note(n1, n2)
    if too_big:
        notes.append(too_big)
    if n1 and n2 and 0 in (x1, n1 - x1, x2, n2 - x2):
        notes.append("a cell is zero: OR and RR use Haldane's 0.5 correction on every cell")
    if [n for n in notes if n != too_big] and warn:
        warnings.warn(f"{treatment} vs {' + '.join(control)}: " + "; ".join(notes),
                      DegenerateTableWarning, stacklevel=2)

    rd_low, rd_high = newcombe_diff_ci(x1, n1, x2, n2, alpha)
    orr, or_low, or_high, corrected = odds_ratio_ci(x1, n1, x2, n2, alpha)
    rr, rr_low, rr_high, _ = risk_ratio_ci(x1, n1, x2, n2, alpha)
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    if n1 and n2:
        chi = pearson_chi2(table, correction=False, warn=warn)
        yates = pearson_chi2(table, correction=True, warn=False)
    else:
        nan = ChiSquareResult(math.nan, 1, n1 + n2, math.nan)
        chi = yates = nan
    notes.extend(n for n in chi.notes if n not in notes)
    return ContrastResult(
        treatment=treatment, control=control, label=label or f"{treatment} vs {' + '.join(control)}",
        confirmatory=confirmatory, n_treatment=int(n1), complied_treatment=int(x1),
        n_control=int(n2), complied_control=int(x2), rate_treatment=p1, rate_control=p2,
        risk_difference=p1 - p2, rd_ci_low=rd_low, rd_ci_high=rd_high,
        odds_ratio=orr, or_ci_low=or_low, or_ci_high=or_high,
        risk_ratio=rr, rr_ci_low=rr_low, rr_ci_high=rr_high, cohens_h=cohens_h(p1, p2),
        chi2=chi.statistic, chi2_p=chi.pvalue, chi2_yates=yates.statistic, chi2_yates_p=yates.pvalue,
        fisher_p=fisher_exact_p(x1, n1, x2, n2), barnard_p=barnard_exact_p(x1, n1, x2, n2),
        min_expected=chi.min_expected, haldane_corrected=corrected, confidence=1 - alpha,
        notes=tuple(notes))


def omnibus_chi2(counts: Sequence[tuple[int, int]], warn: bool = True) -> ChiSquareResult:
    """Pearson χ² over all conditions of an experiment (k × 2 table, no correction).

    H0: compliance is equally likely in every condition.  H1: it differs in at
    least one.  Conditions with no participants are dropped (and noted).

    Parameters
    ----------
    counts : sequence of (complied, n)

    Examples
    --------
    >>> print(omnibus_chi2([(25, 40), (12, 40), (13, 40)]))
    χ²(2, N = 120) = 10.77, p = .005
    """
    rows = [[x, n - x] for x, n in counts if n > 0]
    dropped = sum(1 for _, n in counts if n == 0)
    if len(rows) < 2:
        res = ChiSquareResult(math.nan, max(len(rows) - 1, 0), int(sum(n for _, n in counts)), math.nan,
                              notes=("fewer than two conditions have participants: no omnibus test",))
        return res
    res = pearson_chi2(rows, correction=False, warn=warn)
    if dropped:
        res = ChiSquareResult(res.statistic, res.df, res.n, res.pvalue, res.correction, res.min_expected,
                              res.notes + (f"{dropped} empty condition(s) left out of the table",))
    return res


#: How a separated term of the condition logit is estimated and tested (one method for z and p).
_FIRTH = ("Firth-penalised estimate (brglm2 type AS_mean); SE from the penalised information; Wald z, p "
          "and CI on that SE")


def _condition_cells(data: pd.DataFrame, condition: str = "condition", outcome: str = "complied") -> dict:
    """{condition: (complied, n)} over the rows where both cells are given, conditions in
    first-seen order, outcomes as ``astype(int)`` makes them: a groupby of the two columns,
    or, for a text condition and an integer outcome (the loader's), a bincount of the
    condition's codes (no copy of the rows, no string per row)."""
    cond, out = data[condition], data[outcome]
    if pd.api.types.is_string_dtype(cond.dtype) and not pd.api.types.is_object_dtype(cond.dtype) \
            and pd.api.types.is_integer_dtype(out.dtype) and len(data):
        codes, levels = pd.factorize(cond, use_na_sentinel=True)   # codes in first-seen order
        y = out.to_numpy(dtype=np.int64, na_value=0)
        given = (codes >= 0) & out.notna().to_numpy(dtype=bool)
        if not given.all():
            codes, y = codes[given], y[given]
        if not len(codes):
            return {}
        if int(np.abs(y).max()) < 2 ** 53 // len(y):   # every sum exact in a float's bincount
            sums = np.bincount(codes, weights=y, minlength=len(levels))
            counts = np.bincount(codes, minlength=len(levels))
            if given.all():
                order = range(len(levels))
            else:   # a level first seen on a row without an outcome comes where its first given row is
                used, first = np.unique(codes, return_index=True)
                order = used[np.argsort(first, kind="stable")]
            return {str(levels[c]): (int(sums[c]), int(counts[c])) for c in order if counts[c] > 0}
    d = data[[condition, outcome]].dropna().copy()
    d[outcome] = d[outcome].astype(int)
    d[condition] = d[condition].astype(str)
    grouped = d.groupby(condition, sort=False)[outcome].agg(["sum", "count"])
    return {str(c): (int(r["sum"]), int(r["count"])) for c, r in grouped.iterrows() if r["count"] > 0}


def logistic_regression(data: pd.DataFrame, reference: str, outcome: str = "complied",
                        condition: str = "condition", alpha: float = _ALPHA) -> LogitResult:
    """Logistic regression ``complied ~ C(condition, Treatment(reference=...))``.

    H0 (each term): the log odds of compliance in that condition equal those of the
    reference.  H0 (likelihood-ratio test): condition does not predict compliance.
    H1: the opposite, two-sided.

    The model has one parameter per condition (saturated), so its ML fit is in
    closed form: each coefficient is the log odds ratio against the reference, its
    SE Woolf's, and the LR statistic the G statistic of the conditions x complied
    table, exactly what an iterative fit (``statsmodels`` logit, R's ``glm``)
    converges to.  The LR test stays valid under separation (a condition at rate
    0 or 1), where the ML coefficient of that condition is infinite: that term is
    then the Firth-penalised estimate (in this saturated model, 0.5 added to each
    of its four cells, as brglm2's ``AS_mean`` fit), its SE from the information
    at the penalised fit (sum of 1 / (m p~ (1 - p~)) over the two conditions,
    p~ = (x + 0.5) / (m + 1)), and z, p and CI by Wald on that SE (one method);
    the term and a note say so.  When the reference condition
    has no participants another condition is the reference, and a note says so.

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_counts
    >>> df = frame_from_counts('cialdini1975', 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)})
    >>> res = logistic_regression(df, reference='exposure_control')
    >>> print(res.terms[0])
    rejection_moderation: b = 1.36, SE = 0.48, OR = 3.89, 95% CI [1.53, 9.87], z = 2.86, p = .004
    >>> res.lr_df, round(res.lr_chi2, 4)
    (2, 10.7657)
    """
    cells = _condition_cells(data, condition, outcome)
    n = sum(m for _, m in cells.values())
    levels = list(cells)
    notes: list[str] = []
    if reference not in cells and len(levels) >= 2:
        inner = [c for c in levels if 0 < cells[c][0] < cells[c][1]]
        new_ref = (inner or levels)[0]
        notes.append(f"reference condition {reference!r} has no participants: {new_ref!r} is the reference instead")
        reference = new_ref
    formula = f"{outcome} ~ C({condition}, Treatment(reference={reference!r}))"
    if len(levels) < 2:
        return LogitResult(formula, reference, n, (), math.nan, max(len(levels) - 1, 0), math.nan, False,
                           tuple(notes) + ("only one condition has participants: logistic regression not fitted",))

    def loglik(x, m):
        p = x / m
        return (x * math.log(p) if x else 0.0) + ((m - x) * math.log(1 - p) if m - x else 0.0)

    ll_full = sum(loglik(x, m) for x, m in cells.values())
    ll_null = loglik(sum(x for x, _ in cells.values()), n)
    lr = max(2 * (ll_full - ll_null), 0.0)
    df = len(levels) - 1
    z = z_critical(1 - alpha)
    xr, nr = cells[reference]
    sep = [c for c in levels if cells[c][0] in (0, cells[c][1])]
    terms = []
    for c in levels:
        if c == reference:
            continue
        x, m = cells[c]
        if c in sep or reference in sep:
            # Firth: 0.5 added to each cell; the SE from the information at the penalised fit,
            # sum over the two groups of 1 / (m p~ (1 - p~)), p~ = (x + 0.5) / (m + 1) (as brglm2)
            a, b, cc, dd = x + 0.5, m - x + 0.5, xr + 0.5, nr - xr + 0.5
            coef = math.log(a * dd / (b * cc))
            se = math.sqrt((m + 1) ** 2 / (m * a * b) + (nr + 1) ** 2 / (nr * cc * dd))
            zz = coef / se
            terms.append(LogitTerm(c, coef, se, zz, float(2 * stats.norm.sf(abs(zz))), math.exp(coef),
                                   math.exp(coef - z * se), math.exp(coef + z * se), method=_FIRTH))
            continue
        e = effects.log_odds_ratio(x, m, xr, nr)
        coef, se = e.yi, math.sqrt(e.vi)
        zz = coef / se
        terms.append(LogitTerm(c, coef, se, zz, float(2 * stats.norm.sf(abs(zz))), math.exp(coef),
                               math.exp(coef - z * se), math.exp(coef + z * se)))
    if sep:
        notes.append("separation (rate 0 or 1 in " + ", ".join(sep) + "): the ML coefficients involving "
                     + ("it" if len(sep) == 1 else "them") + " are infinite; the LR test is valid and reported; "
                     "those terms are Firth-penalised estimates, with SE, CI, z and p by Wald on the "
                     "penalised information (as brglm2)")
    return LogitResult(formula, reference, n, tuple(terms), lr, df, float(stats.chi2.sf(lr, df)), True,
                       tuple(notes))


# --------------------------------------------------------------------------- #
# A whole experiment
# --------------------------------------------------------------------------- #
def _reference_condition(experiment) -> str:
    """The control used as the reference level of the logistic regression: the sole
    control of the first declared contrast that has exactly one control, else the
    first condition whose role is ``control``, else the first condition."""
    for k in experiment.contrasts:
        if len(k.control) == 1 and k.factor is None:
            return k.control[0]
    for c in experiment.conditions:
        if c.role == "control":
            return c.name
    return experiment.conditions[0].name


def analyze_experiment(data: pd.DataFrame, paradigm, experiment: int, *,
                       report: Optional[pd.DataFrame] = None, reference: Optional[str] = None,
                       alpha: float = _ALPHA, warn: bool = True,
                       files: Iterable[str] = ()) -> ExperimentAnalysis:
    """Rates, declared contrasts, omnibus χ² and logistic regression of one experiment.

    Parameters
    ----------
    data : DataFrame
        Analysable rows (not excluded, not withdrawn) with ``condition`` and ``complied``;
        rows of other studies/experiments are ignored.
    paradigm : paradigms.base.Paradigm or str
    experiment : int
    report : DataFrame, optional
        The exclusion report of :func:`analysis.load.sessions.load_sessions`.
    reference : str, optional
        Reference level of the logistic regression (default: see ``_reference_condition``).

    Examples
    --------
    >>> from analysis.load.synthetic import frame_from_counts
    >>> df = frame_from_counts('cialdini1975', 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)})
    >>> res = analyze_experiment(df, 'cialdini1975', 1, warn=False)
    >>> print(res.omnibus)
    χ²(2, N = 120) = 10.77, p = .005
    >>> [k.label for k in res.contrasts if k.confirmatory]
    ["door-in-the-face vs the two controls combined (the paper's test)", 'door-in-the-face vs exposure control', 'door-in-the-face vs smaller request only']
    """
    from analysis.declared import declaration

    paradigm = declaration(paradigm)   # a study's id still works (the API hands the declaration)
    exp = paradigm.experiment(experiment)
    if "study" in data.columns:
        data = data[(data["study"] == paradigm.id) & (data["experiment"].astype(int) == int(experiment))]
    data = data[data["complied"].notna()]
    cells = _condition_cells(data, "condition", "complied")   # rows without a condition are in no condition
    counts = {c: cells.get(c, (0, 0)) for c in exp.condition_names}
    notes: list[str] = []
    rates = tuple(condition_rate(c, x, n, alpha) for c, (x, n) in counts.items())
    for r in rates:
        notes.extend(f"{r.condition}: {n}" for n in r.notes)
    contrasts = []
    for k in exp.contrasts:
        treated, controls = exp.members(k.treatment, k.factor), exp.members(k.control, k.factor)
        x1, n1 = (sum(counts[c][i] for c in treated) for i in (0, 1))
        x2, n2 = (sum(counts[c][i] for c in controls) for i in (0, 1))
        control = tuple(f"{k.factor}={c}" for c in k.control) if k.factor else k.control
        contrasts.append(compare_proportions(x1, n1, x2, n2, treatment=k.treatment_label, control=control,
                                             label=k.label, confirmatory=k.confirmatory, alpha=alpha,
                                             warn=warn))
        notes.extend(f"{k.label}: {n}" for n in contrasts[-1].notes if n.startswith("Barnard's exact test not"))
    omni = omnibus_chi2(list(counts.values()), warn=warn)
    ref = reference or _reference_condition(exp)
    logit = logistic_regression(data, ref, alpha=alpha)

    n_exc = n_wd = n_pd = 0
    exclusions: list[ExclusionCount] = []
    if report is not None and len(report):
        rep = report[(report["study"] == paradigm.id) & (report["experiment"] == int(experiment))]
        for (cond, status, reason), grp in rep.groupby(["condition", "status", "reason"], sort=True,
                                                        dropna=False):
            exclusions.append(ExclusionCount(str(cond), str(status), "" if pd.isna(reason) else str(reason),
                                             int(len(grp))))
        n_exc = int((rep["status"] == "excluded").sum())
        n_wd = int((rep["status"] == "withdrawn").sum())
        n_pd = int((rep["status"] == "pending").sum())
    return ExperimentAnalysis(paradigm.id, int(experiment), exp.title, rates, tuple(contrasts), omni, logit,
                              int(sum(n for _, n in counts.values())), n_exc, n_wd, tuple(exclusions),
                              tuple(files), tuple(notes), n_pending=n_pd)
