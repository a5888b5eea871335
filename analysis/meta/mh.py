"""Mantel-Haenszel pooling of 2 x 2 tables, as metafor's ``rma.mh(measure = "OR")`` computes it.

For k site tables (``a``/``b`` complied/did not among the treated, ``c``/``d`` among the controls,
raw counts: no zero-cell correction is needed):

* the Mantel-Haenszel common odds ratio R / S, R = sum a d / N, S = sum b c / N, with the
  Robins-Breslow-Greenland (RBG) standard error of its log;
* the Cochran-Mantel-Haenszel test of H0: common OR = 1 (H1: != 1), chi-square with 1 df, with the
  (N - 1) variance, both without and with the continuity correction (metafor ``correct = FALSE``
  / ``TRUE``; metafor's default is corrected);
* the Breslow-Day test of H0: the odds ratio is the same at every site (H1: it differs), and
  Tarone's adjustment of it, chi-square with k_pos - 1 df, where k_pos counts the tables that
  carry information about the odds ratio: a table in which nobody complied, or everybody did
  (a "double-zero" table), is left out of these two tests, as metafor leaves it out;
* every p value from the chi-square survival function (never 1 - cdf, which loses the far tail).

Examples
--------
>>> r = mantel_haenszel([12, 15], [12, 15], [6, 9], [18, 22])
>>> round(math.exp(r.log_or), 3), r.k_pos
(2.669, 2)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.format import format_number, format_p
from analysis.results import Result
from analysis.stats.effects import wald_ci

__all__ = ["MH_METHOD", "MHResult", "mantel_haenszel"]

MH_METHOD = ("Mantel-Haenszel pooled odds ratio, Robins-Breslow-Greenland (RBG) SE; Cochran-Mantel-Haenszel "
             "chi2(1) (variance with N - 1) without and with continuity correction; Breslow-Day test of equal "
             "odds ratios without and with Tarone's adjustment, leaving out tables where nobody or everybody "
             "complied (df = k_pos - 1), as metafor rma.mh; p values from the chi-square survival function")


@dataclass(frozen=True)
class MHResult(Result):
    """Mantel-Haenszel estimate and tests (see the module); NaN where undefined.

    On the one result base: ``estimate`` is the log odds ratio (CI ``ci_low``, ``ci_high``),
    ``statistic`` and ``pvalue`` the CMH test without continuity correction.
    """

    _aliases = {"estimate": "log_or", "statistic": "cmh", "pvalue": "cmh_p", "n": "k"}
    _measure = "log odds ratio (Mantel-Haenszel)"

    log_or: float
    se: float
    ci_low: float
    ci_high: float
    cmh: float
    cmh_p: float
    cmh_corrected: float
    cmh_corrected_p: float
    breslow_day: float
    breslow_day_p: float
    tarone: float
    tarone_p: float
    k: int
    k_pos: int
    level: float = 0.95

    def __str__(self) -> str:
        if not math.isfinite(self.log_or):
            return f"Mantel-Haenszel OR undefined (k = {self.k}: no site has a discordant pair of cells)"
        lo, hi = (math.exp(x) for x in (self.ci_low, self.ci_high))
        return (f"Mantel-Haenszel OR = {format_number(math.exp(self.log_or))}, {self.level:.0%} CI "
                f"[{format_number(lo)}, {format_number(hi)}]; CMH χ²(1) = {format_number(self.cmh)}, "
                f"{format_p(self.cmh_p)} (k = {self.k})")


def _cmh(a, n1, n2, xt, yt, nn, correct: bool) -> float:
    num = (abs(np.sum(a - n1 / nn * xt)) - (0.5 if correct else 0.0)) ** 2
    return float(num / np.sum(n1 / nn * (n2 / nn) * (xt * (yt / (nn - 1)))))


def _breslow_day(psi: float, a, n1, n2, xt, yt, nn) -> tuple[float, float, int]:
    """Breslow-Day and Tarone statistics at the common OR ``psi`` and the number of informative tables."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if psi == 1.0:
            e11 = n1 / nn * xt
        else:
            big_a = psi * (n1 + xt) + (n2 - xt)
            e11 = (big_a - np.sqrt(big_a ** 2 - 4 * n1 * xt * psi * (psi - 1))) / (2 * (psi - 1))
    pos = (e11 > 0) & (xt > 0) & (yt > 0)
    e11, a, n1, xt, nn = e11[pos], a[pos], n1[pos], xt[pos], nn[pos]
    e12, e21 = n1 - e11, xt - e11
    e22 = e11 - n1 - xt + nn
    var = 1 / (1 / e11 + 1 / e12 + 1 / e21 + 1 / e22)
    bd = max(0.0, float(np.sum((a - e11) ** 2 / var)))
    ta = max(0.0, bd - float(np.sum(a - e11)) ** 2 / float(np.sum(var)))
    return bd, ta, int(pos.sum())


def mantel_haenszel(a, b, c, d, level: float = 0.95) -> MHResult:
    """Mantel-Haenszel odds ratio (RBG SE), CMH tests and Breslow-Day/Tarone of k 2 x 2 tables.

    Parameters
    ----------
    a, b, c, d : sequence of int
        Per table: complied / did not among the treated (a, b), among the controls (c, d).
    level : float
        Confidence level of the interval of the log odds ratio.

    Returns
    -------
    MHResult
        Equal to metafor's ``rma.mh(ai, bi, ci, di, measure = "OR", correct = FALSE)`` (``b``,
        ``se``, ``MH``, ``BD``, ``TA``, ``k.pos``) and, for ``cmh_corrected``, ``correct = TRUE``.

    Examples
    --------
    >>> r = mantel_haenszel([0, 1, 0], [10, 9, 12], [3, 4, 0], [7, 6, 12])   # the third table is double-zero
    >>> r.k, r.k_pos
    (3, 2)
    >>> round(r.cmh, 4) > round(r.cmh_corrected, 4)
    True
    """
    a, b, c, d = (np.asarray(v, dtype=float) for v in (a, b, c, d))
    n1, n2 = a + b, c + d
    nn = n1 + n2
    xt, yt = a + c, b + d
    k = len(a)
    big_r, big_s = float(np.sum(a * d / nn)), float(np.sum(b * c / nn))
    nan = math.nan
    if big_r > 0 and big_s > 0:
        log_or = math.log(big_r / big_s)
        p, q = (a + d) / nn, (b + c) / nn
        r, s = a * d / nn, b * c / nn
        se = math.sqrt(0.5 * (np.sum(p * r) / big_r ** 2 + np.sum(p * s + q * r) / (big_r * big_s)
                              + np.sum(q * s) / big_s ** 2))
        lo, hi = wald_ci(log_or, se * se, level)   # the one Wald interval (analysis.stats.effects)
        bd, ta, k_pos = _breslow_day(big_r / big_s, a, n1, n2, xt, yt, nn)
    else:
        log_or = se = lo = hi = bd = ta = nan
        k_pos = 0
    if xt.sum() > 0 and yt.sum() > 0:
        cmh, cmh_c = _cmh(a, n1, n2, xt, yt, nn, False), _cmh(a, n1, n2, xt, yt, nn, True)
    else:
        cmh = cmh_c = nan

    def sf(x, df):
        return float(stats.chi2.sf(x, df)) if math.isfinite(x) and df >= 1 else nan

    bd_df = k_pos - 1
    if bd_df < 1:
        bd = ta = nan
    return MHResult(log_or, se, lo, hi, cmh, sf(cmh, 1), cmh_c, sf(cmh_c, 1), bd, sf(bd, bd_df), ta,
                    sf(ta, bd_df), k, k_pos, level)
