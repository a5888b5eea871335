"""Effect sizes of two proportions and their variances: the one home of each formula.

Like metafor's ``escalc``, every effect of a 2 x 2 table is written once here, with its variance
and its zero-cell rule, and every statistic, pooling, criterion, power calculation, plot and print
reads it from here:

* ``log_odds_ratio``: log OR with Woolf's variance 1/a + 1/b + 1/c + 1/d;
* ``log_risk_ratio``: log RR with the Katz variance 1/a - 1/m1 + 1/c - 1/m2;
* ``risk_difference``: p1 - p2 with the unpooled Wald variance p1(1-p1)/m1 + p2(1-p2)/m2;
* ``cohens_h``: 2 asin(sqrt p1) - 2 asin(sqrt p2), with the large-sample variance 1/n1 + 1/n2.

**The zero-cell rule** (``ZERO_CELL_RULE``): when any cell of the table is zero, 0.5 is added to
every cell (so each arm's n grows by 1), as metafor's ``escalc(add = 1/2, to = "only0")``; the
effect carries ``corrected = True``.  Cohen's h needs no correction.

Every function takes counts (``x1`` complied of ``n1`` treated, ``x2`` of ``n2`` controls) as
Python numbers or as numpy arrays of equal shape (vectorised: one call for many sites or many
simulated tables); scalars in, floats out.  None of them formats a number.

Of two groups' means (a count outcome such as Regan's tickets), as ``escalc`` computes them:

* ``hedges_g`` (``measure = "SMD"``): the standardised mean difference with the exact small-sample
  correction J(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n1 + n2 - 2, and the large-sample
  variance 1/n1 + 1/n2 + g^2 / (2 (n1 + n2)) (metafor's default ``vtype = "LS"``);
* ``log_ratio_of_means`` (``"ROM"``): log(m1 / m2), variance sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)
  (undefined, NaN, when a mean is 0).

Of one proportion (a whole study's rate): ``logit_proportion`` (``"PLO"``), log(x / (n - x)) with
variance 1/x + 1/(n - x), 0.5 added to x and to n - x when either is zero.

``z_critical(level)`` is the one normal quantile of a two-sided interval.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy  # scipy.stats on first use

__all__ = ["ZERO_CELL_RULE", "Effect", "zero_cell_cells", "log_odds_ratio", "log_risk_ratio",
           "risk_difference", "cohens_h", "cohens_h_counts", "cohens_h_var", "z_critical", "wald_ci",
           "hedges_g", "log_ratio_of_means", "logit_proportion"]

#: The zero-cell rule of every effect of a 2 x 2 table, said once.
ZERO_CELL_RULE = "0.5 added to every cell of a table with a zero cell (escalc add = 1/2, to = \"only0\")"


class Effect(NamedTuple):
    """An effect (``yi``), its sampling variance (``vi``) and whether the zero-cell rule was applied."""

    yi: float
    vi: float
    corrected: bool


def _scalar(*values) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def zero_cell_cells(x1, n1, x2, n2):
    """The table's cells (a, b, c, d) after the zero-cell rule, and whether it applied.

    ``a``/``b`` complied/did not in the treatment arm, ``c``/``d`` in the control arm.

    Examples
    --------
    >>> zero_cell_cells(3, 10, 0, 10)
    (3.5, 7.5, 0.5, 10.5, True)
    >>> zero_cell_cells(3, 10, 2, 10)
    (3.0, 7.0, 2.0, 8.0, False)
    """
    a, n1, c, n2 = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
    b, d = n1 - a, n2 - c
    corrected = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(corrected, 0.5, 0.0)
    out = (a + add, b + add, c + add, d + add, corrected)
    if _scalar(x1, n1, x2, n2):
        return tuple(float(v) for v in out[:4]) + (bool(corrected),)
    return out


def _effect(yi, vi, corrected, scalar) -> Effect:
    if scalar:
        return Effect(float(yi), float(vi), bool(corrected))
    return Effect(yi, vi, corrected)


def log_odds_ratio(x1, n1, x2, n2) -> Effect:
    """Log odds ratio (treatment vs control) and Woolf's variance, under the zero-cell rule.

    Examples
    --------
    >>> e = log_odds_ratio(25, 40, 12, 40)
    >>> round(math.exp(e.yi), 4), round(e.vi, 4), e.corrected
    (3.8889, 0.2257, False)
    >>> round(log_odds_ratio(0, 10, 2, 10).yi, 4)   # metafor: escalc("OR", 0, 10, 2, 10)
    -1.8207
    """
    a, b, c, d, corrected = zero_cell_cells(x1, n1, x2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log(np.asarray(a) * d / (np.asarray(b) * c))
        vi = 1 / np.asarray(a) + 1 / np.asarray(b) + 1 / np.asarray(c) + 1 / np.asarray(d)
    return _effect(yi, vi, corrected, _scalar(x1, n1, x2, n2))


def log_risk_ratio(x1, n1, x2, n2) -> Effect:
    """Log risk ratio p1 / p2 and the Katz variance, under the zero-cell rule.

    Examples
    --------
    >>> e = log_risk_ratio(25, 40, 12, 40)
    >>> round(math.exp(e.yi), 4), round(e.vi, 4)
    (2.0833, 0.0733)
    """
    a, b, c, d, corrected = zero_cell_cells(x1, n1, x2, n2)
    a, b, c, d = (np.asarray(v) for v in (a, b, c, d))
    m1, m2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        yi = np.log((a / m1) / (c / m2))
        vi = 1 / a - 1 / m1 + 1 / c - 1 / m2
    return _effect(yi, vi, corrected, _scalar(x1, n1, x2, n2))


def risk_difference(x1, n1, x2, n2, corrected_cells: bool = True) -> Effect:
    """Risk difference p1 - p2 and its unpooled Wald variance.

    With ``corrected_cells`` (the default, as the pooling has always computed it and as metafor's
    ``escalc("RD", add = 1/2, to = "only0")``), a table with a zero cell is read after the
    zero-cell rule; without, the raw proportions are used and ``corrected`` is False.

    Examples
    --------
    >>> e = risk_difference(0, 10, 2, 10)
    >>> round(e.yi, 4), round(e.vi, 4), e.corrected
    (-0.1818, 0.0199, True)
    >>> round(risk_difference(0, 10, 2, 10, corrected_cells=False).yi, 4)
    -0.2
    """
    if corrected_cells:
        a, b, c, d, corrected = zero_cell_cells(x1, n1, x2, n2)
    else:
        a, n1_, c, n2_ = (np.asarray(v, dtype=float) for v in (x1, n1, x2, n2))
        b, d, corrected = n1_ - a, n2_ - c, np.zeros(np.shape(a), dtype=bool)
    a, b, c, d = (np.asarray(v, dtype=float) for v in (a, b, c, d))
    m1, m2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / m1, c / m2
        vi = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
    return _effect(p1 - p2, vi, corrected, _scalar(x1, n1, x2, n2))


def cohens_h(p1, p2):
    """Cohen's h = 2 asin(sqrt p1) - 2 asin(sqrt p2); NaN where either rate is undefined.

    Examples
    --------
    >>> round(cohens_h(0.625, 0.3), 4)
    0.6642
    >>> cohens_h(float('nan'), 0.3)
    nan
    """
    if _scalar(p1, p2):
        if any(p is None or (isinstance(p, (float, np.floating)) and math.isnan(p)) for p in (p1, p2)):
            return math.nan
        return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    return 2 * np.arcsin(np.sqrt(np.asarray(p1, dtype=float))) - 2 * np.arcsin(np.sqrt(np.asarray(p2, dtype=float)))


def cohens_h_var(n1, n2):
    """Large-sample variance of Cohen's h: 1/n1 + 1/n2 (the arcsine is variance-stabilising).

    Examples
    --------
    >>> cohens_h_var(40, 40)
    0.05
    """
    return 1 / n1 + 1 / n2


def cohens_h_counts(x1, n1, x2, n2) -> Effect:
    """Cohen's h of two arms' counts, with its variance (no zero-cell rule is needed).

    Examples
    --------
    >>> e = cohens_h_counts(25, 40, 12, 40)
    >>> round(e.yi, 4), e.vi, e.corrected
    (0.6642, 0.05, False)
    """
    scalar = _scalar(x1, n1, x2, n2)
    if scalar:
        return Effect(cohens_h(x1 / n1, x2 / n2), cohens_h_var(n1, n2), False)
    n1, n2 = np.asarray(n1, dtype=float), np.asarray(n2, dtype=float)
    return Effect(cohens_h(np.asarray(x1) / n1, np.asarray(x2) / n2), cohens_h_var(n1, n2),
                  np.zeros(np.shape(n1), dtype=bool))


def z_critical(level: float = 0.95) -> float:
    """The normal quantile of a two-sided ``level`` interval (1.959964 at 95%).

    Examples
    --------
    >>> round(z_critical(0.95), 6), round(z_critical(0.90), 6)
    (1.959964, 1.644854)
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level!r}")
    return float(scipy.stats.norm.ppf(0.5 + level / 2))


def wald_ci(yi: float, vi: float, level: float = 0.95) -> tuple[float, float]:
    """The Wald interval yi -/+ z sqrt(vi) of an effect on its own scale.

    Examples
    --------
    >>> e = log_odds_ratio(25, 40, 12, 40)
    >>> [round(math.exp(v), 4) for v in wald_ci(e.yi, e.vi)]   # Woolf's interval of the OR
    [1.5326, 9.8679]
    """
    half = z_critical(level) * math.sqrt(vi)
    return yi - half, yi + half


def hedges_g(m1, sd1, n1, m2, sd2, n2) -> Effect:
    """Hedges' g (metafor ``escalc("SMD")``): exact small-sample correction, large-sample variance.

    Examples
    --------
    >>> e = hedges_g(3.2, 2.1, 16, 1.9, 1.7, 16)   # metafor: yi 0.663272688269055, vi 0.131873916546932
    >>> round(e.yi, 6), round(e.vi, 6), e.corrected
    (0.663273, 0.131874, False)
    """
    scalar = _scalar(m1, sd1, n1, m2, sd2, n2)
    m1, sd1, n1, m2, sd2, n2 = (np.asarray(v, dtype=float) for v in (m1, sd1, n1, m2, sd2, n2))
    m = n1 + n2 - 2
    from scipy.special import gammaln

    with np.errstate(divide="ignore", invalid="ignore"):
        sp = np.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / m)
        j = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))
        g = j * (m1 - m2) / sp
        vi = 1 / n1 + 1 / n2 + g ** 2 / (2 * (n1 + n2))
    return _effect(g, vi, np.zeros(np.shape(g), dtype=bool), scalar)


def log_ratio_of_means(m1, sd1, n1, m2, sd2, n2) -> Effect:
    """Log ratio of means (metafor ``escalc("ROM")``) and its delta-method variance.

    Examples
    --------
    >>> e = log_ratio_of_means(3.2, 2.1, 16, 1.9, 1.7, 16)   # metafor: 0.521296923633286, 0.0769511299450312
    >>> round(e.yi, 6), round(e.vi, 6)
    (0.521297, 0.076951)
    """
    scalar = _scalar(m1, sd1, n1, m2, sd2, n2)
    m1, sd1, n1, m2, sd2, n2 = (np.asarray(v, dtype=float) for v in (m1, sd1, n1, m2, sd2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (m1 > 0) & (m2 > 0)
        yi = np.where(ok, np.log(np.where(ok, m1 / np.where(ok, m2, 1.0), 1.0)), np.nan)
        vi = np.where(ok, sd1 ** 2 / (n1 * m1 ** 2) + sd2 ** 2 / (n2 * m2 ** 2), np.nan)
    return _effect(yi, vi, np.zeros(np.shape(yi), dtype=bool), scalar)


def logit_proportion(x, n) -> Effect:
    """Logit of a proportion (metafor ``escalc("PLO", add = 1/2, to = "only0")``) and its variance.

    Examples
    --------
    >>> e = logit_proportion(12, 60)                 # metafor: -1.38629436111989, 0.104166666666667
    >>> round(e.yi, 6), round(e.vi, 6), e.corrected
    (-1.386294, 0.104167, False)
    >>> round(logit_proportion(0, 25).yi, 6)         # metafor: -3.93182563272433
    -3.931826
    """
    scalar = _scalar(x, n)
    x, n = np.asarray(x, dtype=float), np.asarray(n, dtype=float)
    corrected = (x == 0) | (x == n)
    add = np.where(corrected, 0.5, 0.0)
    a, b = x + add, n - x + add
    with np.errstate(divide="ignore", invalid="ignore"):
        return _effect(np.log(a / b), 1 / a + 1 / b, corrected, scalar)
