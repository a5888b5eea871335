"""The replication criteria, one small function each, all returning a :class:`Criterion`.

Every function takes counts (or, for the ``*_w`` variants, Cohen's w and N) and
returns the same frozen shape, so that a verdict table is a list of them:

========================  ==========================================================
criterion                 succeeded / failed / inconclusive
========================  ==========================================================
``significance``          the replication's test (the original's test) is
                          significant two-sided, in the original's direction /
                          not significant, or significant the other way
``consistency_ci``        the original's estimate (log OR) lies inside the
                          replication's 95% CI / outside
``prediction_interval``   the replication's log OR lies inside the original's 95%
                          prediction interval (Patil, Peng & Leek, 2016) / outside
``small_telescopes``      the replication's h is significantly above 0 and not
                          significantly below d33 ("detectable") / significantly
                          below d33 ("too small to have been detected by the
                          original") / neither (Simonsohn, 2015)
``equivalence``           significant and not equivalent to zero within ±SESOI
                          (TOST, Lakens, 2017) / equivalent to zero / neither
``bayes_factor``          BF_r0 > 3 / BF_r0 < 1/3 / between (Ly et al., 2019)
``bayes_factor_directional`` the same with the one-sided H+ in the original's direction
``fixed_effect``          the combined (inverse-variance, log OR) 95% CI excludes
                          OR = 1 in the original's direction / it does not
``mantel_haenszel``       the same with the Mantel-Haenszel OR (statsmodels
                          ``StratifiedTable``)
========================  ==========================================================

A decision is always about the *replication*: "succeeded" means the criterion
says the original effect held.  An equivalence test that establishes equivalence
to zero therefore gives ``failed`` (the effect is smaller than the smallest effect
of interest), with ``equivalent`` in the reason.

Scales (pinned): log odds ratios with Woolf's variance (1/a + 1/b + 1/c + 1/d;
0.5 added to every cell only when a cell is zero); Cohen's h = 2 asin √p1 −
2 asin √p2 with variance 1/n1 + 1/n2; risk differences with the unpooled Wald
variance p1q1/n1 + p2q2/n2 (for the TOST on the RD scale); Cohen's w with the
noncentral χ²(1) distribution (noncentrality N w²).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import stats
from scipy.special import betaln

from analysis.errors import AnalysisError
from analysis.results import Result, format_number, format_p

__all__ = [
    "DECISIONS", "SUCCEEDED", "FAILED", "INCONCLUSIVE", "NOT_COMPUTABLE", "BF_THRESHOLD", "CRITERIA",
    "Criterion", "not_computable", "log_odds_ratio", "cohens_h_var", "two_sample_p_values",
    "significance", "consistency_ci", "prediction_interval", "small_telescopes", "equivalence",
    "bf10_two_proportions", "bf_plus0_two_proportions", "prob_p1_greater", "replication_bayes_factor",
    "fixed_effect", "mantel_haenszel",
    "significance_w", "consistency_w", "prediction_interval_w", "small_telescopes_w", "equivalence_w",
    "fixed_effect_w", "w33",
]

SUCCEEDED, FAILED, INCONCLUSIVE, NOT_COMPUTABLE = "succeeded", "failed", "inconclusive", "not computable"
DECISIONS = (SUCCEEDED, FAILED, INCONCLUSIVE, NOT_COMPUTABLE)
#: A replication Bayes factor above this (or below its inverse) is taken as evidence (Jeffreys).
BF_THRESHOLD = 3.0

#: Criterion ids, in the order of the verdict table, with their row labels.
CRITERIA = {
    "significance": "significance (original's test, original's direction)",
    "consistency_ci": "original inside the replication's 95% CI",
    "prediction_interval": "replication inside the original's 95% prediction interval",
    "small_telescopes": "small telescopes (vs d33)",
    "equivalence": "equivalence (TOST) vs the SESOI",
    "bayes_factor": "replication Bayes factor BF_r0",
    "bayes_factor_directional": "replication Bayes factor BF_r+ (directional)",
    "fixed_effect": "fixed-effect combination (inverse variance, log OR)",
    "mantel_haenszel": "fixed-effect combination (Mantel-Haenszel OR)",
}

_Z = float(stats.norm.ppf(0.975))


# --------------------------------------------------------------------------- #
# The one result shape
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Criterion(Result):
    """One replication criterion for one contrast.

    Attributes
    ----------
    criterion : str
        Its id (a key of :data:`CRITERIA`).
    decision : str
        One of :data:`DECISIONS`.
    estimate : float
        The replication's estimate on ``scale`` (the combined estimate for the
        fixed-effect rows, the Bayes factor for the Bayes-factor rows).
    low, high : float
        The interval the decision reads (CI, prediction interval, TOST bounds).
    bound : float
        The benchmark (the original's estimate, d33, the SESOI, the threshold 3).
    statistic : float
        The test statistic (z, χ², log BF); NaN where there is none.
    p : float
        The p value the decision reads; NaN where there is none.
    scale : str
        ``log OR``, ``h``, ``RD``, ``w``, ``Fisher z``, ``BF``.
    reason : str
        Why not computable, or what the decision means, in words.
    sentence : str
        The APA sentence (``__str__``).
    derived : bool
        True when the original's counts were derived from a published rate and n.
    """

    _aliases = {'statistic': 'statistic', 'pvalue': 'p', 'ci_low': 'low', 'ci_high': 'high', 'estimate': 'estimate', 'term': 'criterion', 'measure': 'scale'}

    criterion: str
    decision: str
    estimate: float = math.nan
    low: float = math.nan
    high: float = math.nan
    bound: float = math.nan
    statistic: float = math.nan
    p: float = math.nan
    scale: str = ""
    reason: str = ""
    sentence: str = ""
    derived: bool = False

    def __post_init__(self):
        if self.decision not in DECISIONS:
            raise AnalysisError(f"criterion {self.criterion!r}: decision {self.decision!r} is not one of "
                                + ", ".join(DECISIONS))
        if self.criterion not in CRITERIA:
            raise AnalysisError(f"unknown criterion {self.criterion!r}")

    @property
    def label(self) -> str:
        return CRITERIA[self.criterion]

    @property
    def cell(self) -> str:
        """The verdict table's cell: the decision, with the reason when not computable."""
        text = self.decision
        if self.decision == NOT_COMPUTABLE and self.reason:
            text += f": {self.reason}"
        return text + (" (derived counts)" if self.derived else "")

    def __str__(self) -> str:
        return self.sentence or f"{self.label}: {self.cell}"

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["label"] = self.label
        d["apa"] = str(self)
        return d


def not_computable(criterion: str, reason: str) -> Criterion:
    """A :class:`Criterion` that could not be computed, and why.

    Examples
    --------
    >>> c = not_computable('small_telescopes', 'original n unknown')
    >>> c.decision, c.reason
    ('not computable', 'original n unknown')
    """
    return Criterion(criterion, NOT_COMPUTABLE, reason=reason,
                     sentence=f"{CRITERIA[criterion]}: not computable ({reason}).")


def _f(x: float, digits: int = 2) -> str:
    return format_number(x, digits)


def _check_counts(x1: int, n1: int, x2: int, n2: int, who: str = "") -> None:
    for name, x, n in (("treatment", x1, n1), ("control", x2, n2)):
        if n <= 0:
            raise AnalysisError(f"{who + ': ' if who else ''}{name} side has no participants (n = {n})")
        if not 0 <= x <= n:
            raise AnalysisError(f"{who + ': ' if who else ''}{name} side: k = {x} is not between 0 and n = {n}")


# --------------------------------------------------------------------------- #
# Effect sizes and their variances
# --------------------------------------------------------------------------- #
def log_odds_ratio(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, bool]:
    """Log odds ratio (treatment vs control) and Woolf's variance.

    0.5 is added to every cell (Haldane-Anscombe) only when a cell is zero; the
    third value says whether it was.

    Examples
    --------
    >>> lor, var, corrected = log_odds_ratio(12, 24, 10, 48)
    >>> round(math.exp(lor), 3), round(var, 4), corrected
    (3.8, 0.293, False)
    """
    _check_counts(x1, n1, x2, n2)
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    corrected = 0 in (a, b, c, d)
    if corrected:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, corrected


def cohens_h_var(n1: int, n2: int) -> float:
    """Large-sample variance of Cohen's h: 1/n1 + 1/n2 (the arcsine is variance-stabilising).

    Examples
    --------
    >>> cohens_h_var(40, 40)
    0.05
    """
    return 1 / n1 + 1 / n2


def _h(x1, n1, x2, n2) -> float:
    return 2 * math.asin(math.sqrt(x1 / n1)) - 2 * math.asin(math.sqrt(x2 / n2))


def _direction(sign: float) -> str:
    return "higher" if sign > 0 else "lower"


# --------------------------------------------------------------------------- #
# 2. Significance in the original's direction
# --------------------------------------------------------------------------- #
def two_sample_p_values(x1: int, n1: int, x2: int, n2: int, test: str = "chi2",
                  direction: int = 1) -> tuple[float, float, float]:
    """Two-sided and one-sided p of ``test`` for treatment vs control.

    H0: p1 = p2 (Fisher: OR = 1 given the margins).  H1 two-sided: p1 ≠ p2;
    one-sided: p1 > p2 (``direction = 1``) or p1 < p2 (``direction = -1``).

    ``chi2`` (Pearson, no correction) and ``yates``: the one-sided p is the normal
    tail of the signed root of χ²; ``fisher``: ``scipy.stats.fisher_exact``;
    ``barnard``: two-sided as :func:`analysis.stats.binary.barnard_exact_p`, one-sided
    ``scipy.stats.barnard_exact`` (one sample per column).

    Returns
    -------
    (statistic, p_two_sided, p_one_sided)
        The statistic is χ² for ``chi2``/``yates``, the odds ratio for ``fisher``,
        NaN for ``barnard``.

    Examples
    --------
    >>> [round(p, 5) for p in two_sample_p_values(25, 40, 12, 40, test='fisher')]
    [3.88889, 0.00675, 0.00337]
    """
    from analysis.stats.binary import barnard_exact_p, pearson_chi2

    _check_counts(x1, n1, x2, n2)
    sign = 1 if (x1 / n1 - x2 / n2) >= 0 else -1
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    if test in ("chi2", "yates"):
        res = pearson_chi2(table, correction=(test == "yates"), warn=False)
        if math.isnan(res.statistic):
            return math.nan, 1.0, 0.5 if x1 / n1 == x2 / n2 else math.nan
        z = sign * math.sqrt(res.statistic)
        return res.statistic, res.pvalue, float(stats.norm.sf(direction * z))
    if test == "fisher":
        two = stats.fisher_exact(table, alternative="two-sided")
        one = stats.fisher_exact(table, alternative="greater" if direction > 0 else "less")
        return float(two.statistic), float(two.pvalue), float(one.pvalue)
    if test == "barnard":
        from analysis.stats.binary import exact_test_size_note
        too_big = exact_test_size_note(n1, n2)
        if too_big:  # scipy would try to allocate every table
            raise AnalysisError(too_big.split("; ")[0] + "; use test='chi2' or 'fisher'")
        one = stats.barnard_exact([[x1, x2], [n1 - x1, n2 - x2]], pooled=True,
                                  alternative="greater" if direction > 0 else "less")
        return math.nan, barnard_exact_p(x1, n1, x2, n2), float(one.pvalue)
    raise AnalysisError(f"test {test!r} is not one of chi2, yates, fisher, barnard")


_TEST_NAMES = {"chi2": "Pearson's χ²", "yates": "Pearson's χ² with Yates' correction",
               "fisher": "Fisher's exact test", "barnard": "Barnard's exact test"}


def significance(x1: int, n1: int, x2: int, n2: int, direction: int, test: str = "chi2",
                 alpha: float = 0.05) -> Criterion:
    """Is the replication significant, two-sided, in the original's direction?

    H0: p1 = p2.  H1: p1 ≠ p2 (two-sided p decides); the one-sided p (H1 in the
    original's ``direction``, +1 treatment higher, −1 lower) is reported beside it.
    Succeeded: two-sided p < α and the estimate in the original's direction.

    Examples
    --------
    >>> c = significance(60, 100, 40, 100, direction=1)
    >>> c.decision, round(c.p, 4)
    ('succeeded', 0.0047)
    """
    stat, p2, p1 = two_sample_p_values(x1, n1, x2, n2, test, direction)
    rd = x1 / n1 - x2 / n2
    same = rd * direction > 0
    if p2 < alpha and same:
        decision, why = SUCCEEDED, f"significant in the original's direction (treatment {_direction(direction)})"
    elif p2 < alpha:
        decision, why = FAILED, "significant, but opposite to the original's direction"
    else:
        decision, why = FAILED, "not significant"
    n = n1 + n2
    if test in ("chi2", "yates"):
        head = f"χ²(1, N = {n}) = {_f(stat)}"
    elif test == "fisher":
        head = f"Fisher's exact test, OR = {_f(stat)}, N = {n}"
    else:
        head = f"Barnard's exact test, N = {n}"
    sentence = (f"Significance: the replication ({x1}/{n1} vs {x2}/{n2}), {head}, {format_p(p2)} two-sided, "
                f"one-sided {format_p(p1)} in the original's direction; {why} ({_TEST_NAMES[test]}, α = {alpha}).")
    return Criterion("significance", decision, estimate=rd, statistic=stat, p=p2, bound=alpha, scale="RD",
                     reason=f"{why}; one-sided p = {p1:.4g}", sentence=sentence)


# --------------------------------------------------------------------------- #
# 3. Consistency
# --------------------------------------------------------------------------- #
def consistency_ci(original_log_or: float, x1: int, n1: int, x2: int, n2: int,
                   confidence: float = 0.95) -> Criterion:
    """Is the original's log OR inside the replication's Woolf CI?

    Needs only the original's estimate (rates suffice), not its n.

    Examples
    --------
    >>> import math
    >>> print(consistency_ci(math.log(3.0), 25, 40, 12, 40))
    Consistency: the original OR = 3.00 is inside the replication's 95% CI [1.53, 9.87] (replication OR = 3.89).
    """
    lor, var, _ = log_odds_ratio(x1, n1, x2, n2)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    lo, hi = lor - z * math.sqrt(var), lor + z * math.sqrt(var)
    inside = lo <= original_log_or <= hi
    sentence = (f"Consistency: the original OR = {_f(math.exp(original_log_or))} is "
                f"{'inside' if inside else 'outside'} the replication's {confidence:.0%} CI "
                f"[{_f(math.exp(lo))}, {_f(math.exp(hi))}] (replication OR = {_f(math.exp(lor))}).")
    return Criterion("consistency_ci", SUCCEEDED if inside else FAILED, estimate=lor, low=lo, high=hi,
                     bound=original_log_or, scale="log OR",
                     reason="the original's estimate is " + ("inside" if inside else "outside") + " the CI",
                     sentence=sentence)


def prediction_interval(ox1: int, on1: int, ox2: int, on2: int, x1: int, n1: int, x2: int, n2: int,
                        level: float = 0.95) -> Criterion:
    """Is the replication's log OR inside the original's prediction interval?

    Patil, Peng & Leek (2016): PI = θ_orig ± z·√(v_orig + v_rep), both sampling
    variances (Woolf), on the log odds ratio scale.

    Examples
    --------
    >>> print(prediction_interval(25, 40, 12, 40, 20, 60, 15, 60))
    Prediction interval: the replication OR = 1.50 is inside the original's 95% prediction interval [1.14, 13.22] (Patil, Peng & Leek, 2016; log OR, both variances).
    """
    olor, ovar, _ = log_odds_ratio(ox1, on1, ox2, on2)
    lor, var, _ = log_odds_ratio(x1, n1, x2, n2)
    z = float(stats.norm.ppf(0.5 + level / 2))
    half = z * math.sqrt(ovar + var)
    lo, hi = olor - half, olor + half
    inside = lo <= lor <= hi
    sentence = (f"Prediction interval: the replication OR = {_f(math.exp(lor))} is "
                f"{'inside' if inside else 'outside'} the original's {level:.0%} prediction interval "
                f"[{_f(math.exp(lo))}, {_f(math.exp(hi))}] (Patil, Peng & Leek, 2016; log OR, both variances).")
    return Criterion("prediction_interval", SUCCEEDED if inside else FAILED, estimate=lor, low=lo, high=hi,
                     bound=olor, scale="log OR",
                     reason="the replication's estimate is " + ("inside" if inside else "outside") + " the PI",
                     sentence=sentence)


# --------------------------------------------------------------------------- #
# 4. Small telescopes
# --------------------------------------------------------------------------- #
def small_telescopes(x1: int, n1: int, x2: int, n2: int, h33: float, direction: int,
                     alpha: float = 0.05) -> Criterion:
    """Simonsohn's (2015) small-telescopes test on Cohen's h.

    ``h33`` is the effect the original's design had 33% power to detect (positive,
    in the original's direction).  With h the replication's effect signed so that
    the original's direction is positive, and SE = √(1/n1 + 1/n2):

    * H0: h = h33, H1: h < h33 (one-sided), z = (h − h33)/SE, p = Φ(z).  p < α:
      failed, "too small to have been detected by the original study".
    * Otherwise, if h is significantly above 0 (one-sided, p = 1 − Φ(h/SE) < α):
      succeeded, "detectable"; else inconclusive.

    Examples
    --------
    >>> c = small_telescopes(20, 60, 15, 60, h33=0.35, direction=1)
    >>> c.decision, round(c.p, 4)
    ('inconclusive', 0.1813)
    """
    if not (h33 > 0):
        return not_computable("small_telescopes", "d33 not available")
    h = direction * _h(x1, n1, x2, n2)
    se = math.sqrt(cohens_h_var(n1, n2))
    z = (h - h33) / se
    p_small = float(stats.norm.cdf(z))
    p_zero = float(stats.norm.sf(h / se))
    lo, hi = h - float(stats.norm.ppf(1 - alpha)) * se, h + float(stats.norm.ppf(1 - alpha)) * se
    if p_small < alpha:
        decision = FAILED
        words = ("the effect is too small to have been detected by the original study: "
                 f"significantly smaller than d33 ({format_p(p_small)})")
    elif p_zero < alpha:
        decision = SUCCEEDED
        words = (f"detectable: significantly above zero ({format_p(p_zero)}, one-sided) and not significantly "
                 f"smaller than d33 ({format_p(p_small)})")
    else:
        decision = INCONCLUSIVE
        words = (f"neither significantly above zero ({format_p(p_zero)}) nor significantly smaller than d33 "
                 f"({format_p(p_small)})")
    sentence = (f"Small telescopes (Simonsohn, 2015): replication h = {_f(h)}, {1 - 2 * alpha:.0%} CI "
                f"[{_f(lo)}, {_f(hi)}], against d33 = {_f(h33)}: z = {_f(z)}; {words}.")
    return Criterion("small_telescopes", decision, estimate=h, low=lo, high=hi, bound=h33, statistic=z,
                     p=p_small, scale="h", reason=words, sentence=sentence)


# --------------------------------------------------------------------------- #
# 5. Equivalence
# --------------------------------------------------------------------------- #
def _tost(est: float, se: float, bound: float) -> tuple[float, float, float]:
    """Two one-sided z tests of H0: |θ| ≥ bound.  Returns (p_lower, p_upper, p_tost)."""
    p_lower = float(stats.norm.sf((est + bound) / se))   # H0: θ ≤ −bound
    p_upper = float(stats.norm.cdf((est - bound) / se))  # H0: θ ≥ +bound
    return p_lower, p_upper, max(p_lower, p_upper)


def equivalence(x1: int, n1: int, x2: int, n2: int, direction: int, sesoi: float, scale: str = "h",
                alpha: float = 0.05, source: str = "") -> Criterion:
    """TOST equivalence test against ±``sesoi`` (Lakens, 2017), read as a replication verdict.

    H0: |θ| ≥ SESOI (the effect is at least as large as the smallest effect of
    interest); H1: −SESOI < θ < SESOI.  Two one-sided z tests; p_TOST = the larger p.
    ``scale`` is ``h`` (Cohen's h, SE √(1/n1 + 1/n2)) or ``RD`` (risk difference,
    unpooled Wald SE).  Alongside: the two-sided z test of θ = 0 on the same scale.

    Verdict (Lakens, Scheel & Isager, 2018): equivalent (p_TOST < α) → failed (the
    effect is smaller than the SESOI, whatever its sign); significant in the
    original's direction and not equivalent → succeeded; otherwise inconclusive.

    Examples
    --------
    >>> c = equivalence(20, 60, 19, 60, direction=1, sesoi=0.2)
    >>> c.decision, round(c.p, 4)
    ('inconclusive', 0.1839)
    """
    if not (sesoi > 0):
        return not_computable("equivalence", "no smallest effect of interest (d33 not available)")
    p1, p2 = x1 / n1, x2 / n2
    if scale == "h":
        est, se = _h(x1, n1, x2, n2), math.sqrt(cohens_h_var(n1, n2))
    elif scale == "RD":
        est = p1 - p2
        se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        if se == 0:
            return not_computable("equivalence", "risk-difference SE is zero (all or none complied)")
    else:
        raise AnalysisError(f"equivalence: scale {scale!r} is not h or RD")
    est *= direction
    pl, pu, p = _tost(est, se, sesoi)
    p_zero = float(2 * stats.norm.sf(abs(est) / se))
    zc = float(stats.norm.ppf(1 - alpha))
    lo, hi = est - zc * se, est + zc * se
    if p < alpha:
        decision, words = FAILED, (f"equivalent to zero: the effect is smaller than the smallest effect of "
                                   f"interest (TOST {format_p(p)})")
    elif p_zero < alpha and est > 0:
        decision, words = SUCCEEDED, (f"not equivalent (TOST {format_p(p)}) and significantly different from "
                                      f"zero in the original's direction ({format_p(p_zero)})")
    else:
        decision, words = INCONCLUSIVE, (f"neither equivalent (TOST {format_p(p)}) nor significant in the "
                                         f"original's direction ({format_p(p_zero)})")
    what = f"±{_f(sesoi)} on {scale}" + (f" ({source})" if source else "")
    sentence = (f"Equivalence (TOST, Lakens, 2017) within {what}: replication {scale} = {_f(est)}, "
                f"{1 - 2 * alpha:.0%} CI [{_f(lo)}, {_f(hi)}]; lower test {format_p(pl)}, upper test "
                f"{format_p(pu)}; {words}.")
    return Criterion("equivalence", decision, estimate=est, low=lo, high=hi, bound=sesoi,
                     statistic=(est - math.copysign(sesoi, est)) / se, p=p, scale=scale, reason=words,
                     sentence=sentence)


# --------------------------------------------------------------------------- #
# 6. Replication Bayes factor
# --------------------------------------------------------------------------- #
def bf10_two_proportions(x1: int, n1: int, x2: int, n2: int, log: bool = False) -> float:
    """Bayes factor of H1 (p1, p2 independent uniform) against H0 (p1 = p2 = p, p uniform).

    Closed form (the binomial coefficients cancel)::

        BF10 = B(x1 + 1, n1 − x1 + 1) · B(x2 + 1, n2 − x2 + 1) / B(x1 + x2 + 1, n1 + n2 − x1 − x2 + 1)

    Examples
    --------
    >>> round(bf10_two_proportions(5, 10, 5, 10), 4)
    0.5049
    """
    lb = (betaln(x1 + 1, n1 - x1 + 1) + betaln(x2 + 1, n2 - x2 + 1)
          - betaln(x1 + x2 + 1, n1 + n2 - x1 - x2 + 1))
    return float(lb) if log else _exp(float(lb))


def prob_p1_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(θ1 > θ2) for independent θ1 ~ Beta(a1, b1), θ2 ~ Beta(a2, b2), exactly.

    For integer ``a1`` (Cook, 2005; the sum is over i = 0 .. a1 − 1)::

        P(θ1 > θ2) = Σ_i B(a2 + i, b1 + b2) / ((b1 + i) B(1 + i, b1) B(a2, b2))

    Falls back to one-dimensional quadrature when ``a1`` is not an integer.

    Examples
    --------
    >>> round(prob_p1_greater(26, 16, 13, 29), 6)
    0.998142
    >>> prob_p1_greater(1, 1, 1, 1)
    0.5
    """
    if float(a1).is_integer():
        i = np.arange(int(a1))
        terms = (betaln(a2 + i, b1 + b2) - np.log(b1 + i) - betaln(1 + i, b1) - betaln(a2, b2))
        return float(np.clip(np.exp(terms).sum(), 0.0, 1.0))
    from scipy import integrate

    val, _ = integrate.quad(lambda t: stats.beta.pdf(t, a2, b2) * stats.beta.sf(t, a1, b1), 0, 1)
    return float(val)


def bf_plus0_two_proportions(x1: int, n1: int, x2: int, n2: int, direction: int = 1, log: bool = False) -> float:
    """Directional Bayes factor of H+ (p1 > p2, or p1 < p2 for ``direction = -1``) against H0.

    H+ is H1's uniform prior truncated to the half-square (density 2), so
    BF+0 = BF10 · P(H+ | data, H1) / P(H+ | H1) = 2 · BF10 · P(p1 > p2 | data, H1),
    the posterior probability computed exactly by :func:`prob_p1_greater`.

    Examples
    --------
    >>> round(bf_plus0_two_proportions(25, 40, 12, 40), 3)
    36.84
    """
    a1, b1, a2, b2 = x1 + 1, n1 - x1 + 1, x2 + 1, n2 - x2 + 1
    post = prob_p1_greater(a1, b1, a2, b2) if direction > 0 else prob_p1_greater(a2, b2, a1, b1)
    lb = math.log(2) + (math.log(post) if post > 0 else -math.inf) + bf10_two_proportions(x1, n1, x2, n2, log=True)
    return lb if log else _exp(lb)


def _exp(x: float) -> float:
    return math.inf if x > 709 else math.exp(x)


def _bf_words(bf: float) -> tuple[str, str]:
    if bf > BF_THRESHOLD:
        return SUCCEEDED, f"evidence for the original effect (BF > {BF_THRESHOLD:g})"
    if bf < 1 / BF_THRESHOLD:
        return FAILED, f"evidence for the null (BF < 1/{BF_THRESHOLD:g})"
    return INCONCLUSIVE, f"inconclusive (1/{BF_THRESHOLD:g} ≤ BF ≤ {BF_THRESHOLD:g})"


def replication_bayes_factor(ox1: int, on1: int, ox2: int, on2: int, x1: int, n1: int, x2: int, n2: int,
                             directional: bool = False, direction: int = 1) -> Criterion:
    """Replication Bayes factor by evidence updating (Ly, Etz, Marsman & Wagenmakers, 2019).

    BF_r0 = BF10(original and replication together) / BF10(original): the evidence
    the replication adds to the original, i.e. the Bayes factor of the replication
    data with the original's posterior as H1's prior.  "Together" pools the counts
    (the same p1 and p2 in both studies under H1, the same p under H0).  Priors:
    p1, p2 independent uniform under H1; one common uniform p under H0.  With
    ``directional`` the same with H+ (the original's ``direction``) for H1.
    Computed on the log scale (betaln).

    Examples
    --------
    >>> c = replication_bayes_factor(12, 24, 10, 48, 60, 120, 50, 240)
    >>> c.decision, c.estimate > 3
    ('succeeded', True)
    """
    for who, cnt in (("original", (ox1, on1, ox2, on2)), ("replication", (x1, n1, x2, n2))):
        _check_counts(*cnt, who=who)
    if directional:
        def lbf(a, b, c, d):
            return bf_plus0_two_proportions(a, b, c, d, direction=direction, log=True)
    else:
        def lbf(a, b, c, d):
            return bf10_two_proportions(a, b, c, d, log=True)
    lboth = lbf(ox1 + x1, on1 + n1, ox2 + x2, on2 + n2)
    lorig = lbf(ox1, on1, ox2, on2)
    lr = lboth - lorig if math.isfinite(lorig) else math.nan
    r = _exp(lr) if not math.isnan(lr) else math.nan
    if math.isnan(r):
        return not_computable("bayes_factor_directional" if directional else "bayes_factor",
                              "the original's Bayes factor is zero")
    decision, words = _bf_words(r)
    name = "bayes_factor_directional" if directional else "bayes_factor"
    sym = "BF_r+" if directional else "BF_r0"
    sentence = (f"Replication Bayes factor (evidence updating, Ly et al., 2019{', directional' if directional else ''}): "
                f"{sym} = {_fmt_bf(r)} (BF = {_fmt_bf(_exp(lboth))} for original and replication together / "
                f"{_fmt_bf(_exp(lorig))} for the original alone); {words}.")
    return Criterion(name, decision, estimate=r, bound=BF_THRESHOLD, statistic=lr, scale="BF",
                     reason=words, sentence=sentence)


def _fmt_bf(bf: float) -> str:
    if not math.isfinite(bf):
        return "NA"
    if bf >= 1000 or bf < 0.001:
        return f"{bf:.2e}"
    return f"{bf:.2f}"


# --------------------------------------------------------------------------- #
# 7. Fixed-effect combination
# --------------------------------------------------------------------------- #
def fixed_effect(ox1: int, on1: int, ox2: int, on2: int, x1: int, n1: int, x2: int, n2: int,
                 direction: int, alpha: float = 0.05) -> Criterion:
    """Inverse-variance fixed-effect combination of two log odds ratios.

    θ = Σ wᵢ θᵢ / Σ wᵢ with wᵢ = 1/vᵢ (Woolf), SE = 1/√Σwᵢ; H0: θ = 0 (OR = 1),
    H1: θ ≠ 0, z test.  Succeeded when the CI excludes OR = 1 in the original's direction.

    Examples
    --------
    >>> c = fixed_effect(25, 40, 12, 40, 20, 60, 15, 60, direction=1)
    >>> c.decision, round(c.estimate, 4)
    ('succeeded', 0.8062)
    """
    ests = [log_odds_ratio(ox1, on1, ox2, on2), log_odds_ratio(x1, n1, x2, n2)]
    w = np.array([1 / v for _, v, _ in ests])
    th = np.array([e for e, _, _ in ests])
    est = float((w * th).sum() / w.sum())
    se = float(1 / math.sqrt(w.sum()))
    return _combined("fixed_effect", est, se, direction, alpha, "inverse variance on log OR (Woolf)")


def mantel_haenszel(ox1: int, on1: int, ox2: int, on2: int, x1: int, n1: int, x2: int, n2: int,
                    direction: int, alpha: float = 0.05) -> Criterion:
    """Mantel-Haenszel pooled odds ratio of original and replication (two strata).

    ``statsmodels.stats.contingency_tables.StratifiedTable``: ``oddsratio_pooled``,
    ``logodds_pooled_se`` (Robins-Breslow-Greenland) and ``test_null_odds``
    (Cochran-Mantel-Haenszel χ², no continuity correction; H0: common OR = 1).

    Examples
    --------
    >>> c = mantel_haenszel(25, 40, 12, 40, 20, 60, 15, 60, direction=1)
    >>> c.decision, round(c.estimate, 4)
    ('succeeded', 0.8071)
    """
    from statsmodels.stats.contingency_tables import StratifiedTable

    tables = [np.array([[ox1, on1 - ox1], [ox2, on2 - ox2]], dtype=float),
              np.array([[x1, n1 - x1], [x2, n2 - x2]], dtype=float)]
    st = StratifiedTable(tables)
    lor = float(st.logodds_pooled)
    se = float(st.logodds_pooled_se)
    test = st.test_null_odds(correction=False)
    if not math.isfinite(lor) or not math.isfinite(se):
        return not_computable("mantel_haenszel", "the Mantel-Haenszel OR is undefined (zero cells)")
    return _combined("mantel_haenszel", lor, se, direction, alpha, "Mantel-Haenszel (RGB SE)",
                     chi2=float(test.statistic), chi2_p=float(test.pvalue))


def _combined(name: str, est: float, se: float, direction: int, alpha: float, method: str,
              chi2: Optional[float] = None, chi2_p: Optional[float] = None) -> Criterion:
    z = float(stats.norm.ppf(1 - alpha / 2))
    lo, hi = est - z * se, est + z * se
    zstat = est / se
    p = float(2 * stats.norm.sf(abs(zstat)))
    excl = lo > 0 if direction > 0 else hi < 0
    decision = SUCCEEDED if excl else FAILED
    words = ("the combined CI excludes OR = 1 in the original's direction" if excl else
             "the combined CI does not exclude OR = 1 in the original's direction")
    test = (f"CMH χ²(1) = {_f(chi2)}, {format_p(chi2_p)}" if chi2 is not None else f"z = {_f(zstat)}, {format_p(p)}")
    sentence = (f"Fixed-effect combination of original and replication ({method}): OR = {_f(math.exp(est))}, "
                f"{1 - alpha:.0%} CI [{_f(math.exp(lo))}, {_f(math.exp(hi))}], {test}; {words}.")
    return Criterion(name, decision, estimate=est, low=lo, high=hi, bound=0.0,
                     statistic=chi2 if chi2 is not None else zstat, p=chi2_p if chi2_p is not None else p,
                     scale="log OR", reason=words, sentence=sentence)


# --------------------------------------------------------------------------- #
# The same from Cohen's w and N (a published replication that reports only these)
# --------------------------------------------------------------------------- #
# Without cell counts the sign of an effect is not in w; the *_w criteria compare
# magnitudes, on the assumption (stated in every reason) that both studies found the
# effect in the same direction.
_SAME_SIGN = "assumes both effects in the same direction (w has no sign)"


def significance_w(w: float, n: int, alpha: float = 0.05, p_published: Optional[float] = None) -> Criterion:
    """χ²(1) = N w², two-sided p; H0: no association.  One-sided p not computable (w has no sign).

    Examples
    --------
    >>> c = significance_w(0.3, 80)
    >>> c.decision, round(c.statistic, 2), round(c.p, 5)
    ('succeeded', 7.2, 0.00729)
    """
    chi2 = n * w * w
    p = float(stats.chi2.sf(chi2, 1))
    decision = SUCCEEDED if p < alpha else FAILED
    words = ("significant" if p < alpha else "not significant") + "; " + _SAME_SIGN
    pub = f" (published {format_p(p_published)})" if p_published is not None else ""
    sentence = (f"Significance: χ²(1, N = {n}) = {_f(chi2)} from w = {_f(w)}, {format_p(p)}{pub} two-sided; "
                f"the one-sided p in the original's direction is not computable from w; {words}.")
    return Criterion("significance", decision, estimate=w, statistic=chi2, p=p, bound=alpha, scale="w",
                     reason=words, sentence=sentence)


def _ncp_ci(chi2: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """CI of w from the noncentral χ²(1): the noncentralities λ whose χ² quantiles bound the observed χ²."""
    from scipy.optimize import brentq

    hi_q, lo_q = 0.5 + confidence / 2, 0.5 - confidence / 2

    def lam_at(q: float) -> float:
        f = lambda lam: stats.ncx2.cdf(chi2, 1, lam) - q if lam > 0 else stats.chi2.cdf(chi2, 1) - q
        if f(0) < 0:
            return 0.0
        upper = max(10.0, 4 * chi2 + 50)
        return brentq(f, 0, upper, xtol=1e-10)

    return math.sqrt(lam_at(hi_q) / n), math.sqrt(lam_at(lo_q) / n)


def consistency_w(w_original: float, w: float, n: int, confidence: float = 0.95) -> Criterion:
    """Is the original's w inside the replication's CI of w (noncentral χ²(1) inversion)?

    Examples
    --------
    >>> c = consistency_w(0.33, 0.2, 120)
    >>> c.decision, round(c.low, 4), round(c.high, 4)
    ('succeeded', 0.0, 0.3789)
    """
    lo, hi = _ncp_ci(n * w * w, n, confidence)
    inside = lo <= w_original <= hi
    words = ("the original's w is " + ("inside" if inside else "outside") + " the CI; " + _SAME_SIGN)
    sentence = (f"Consistency: the original w = {_f(w_original)} is {'inside' if inside else 'outside'} the "
                f"replication's {confidence:.0%} CI [{_f(lo)}, {_f(hi)}] (w = {_f(w)}, N = {n}; noncentral χ²).")
    return Criterion("consistency_ci", SUCCEEDED if inside else FAILED, estimate=w, low=lo, high=hi,
                     bound=w_original, scale="w", reason=words, sentence=sentence)


def prediction_interval_w(w_original: float, n_original: int, w: float, n: int, level: float = 0.95) -> Criterion:
    """Patil et al.'s prediction interval on the Fisher-z scale of φ (= w for a 2×2 table).

    PI = z(φ_orig) ± z_{.975}·√(1/(N_orig − 3) + 1/(N_rep − 3)); the replication's
    z(φ) inside it → succeeded.

    Examples
    --------
    >>> c = prediction_interval_w(0.33, 80, 0.2, 120)
    >>> c.decision, round(c.low, 4), round(c.high, 4)
    ('succeeded', 0.0552, 0.6304)
    """
    zo, zr = math.atanh(w_original), math.atanh(w)
    half = float(stats.norm.ppf(0.5 + level / 2)) * math.sqrt(1 / (n_original - 3) + 1 / (n - 3))
    lo, hi = zo - half, zo + half
    inside = lo <= zr <= hi
    words = "the replication is " + ("inside" if inside else "outside") + " the PI; " + _SAME_SIGN
    sentence = (f"Prediction interval: the replication φ = {_f(w)} is {'inside' if inside else 'outside'} the "
                f"original's {level:.0%} prediction interval [{_f(math.tanh(lo))}, {_f(math.tanh(hi))}] "
                f"(Patil, Peng & Leek, 2016, on Fisher's z of φ = w; N = {n_original} and {n}).")
    return Criterion("prediction_interval", SUCCEEDED if inside else FAILED, estimate=zr, low=lo, high=hi,
                     bound=zo, scale="Fisher z", reason=words, sentence=sentence)


def w33(n_original: int, alpha: float = 0.05, power: float = 1 / 3) -> float:
    """The w a χ²(1) test with N = ``n_original`` detects with 33% power (noncentral χ²).

    This is the small-telescopes benchmark for a study known only by its χ² and N
    (no cell counts, so no exact power): power(λ) = P(χ²₁(λ) > χ²_{1, 1−α}),
    λ = N w².  The same as R's ``pwr::pwr.chisq.test(N = n, df = 1, power = 1/3)``.

    Examples
    --------
    >>> round(w33(80), 4)
    0.1709
    """
    from scipy.optimize import brentq

    crit = float(stats.chi2.isf(alpha, 1))
    lam = brentq(lambda lam: stats.ncx2.sf(crit, 1, lam) - power, 1e-9, 1000, xtol=1e-12)
    return math.sqrt(lam / n_original)


def small_telescopes_w(w: float, n: int, w_33: float, alpha: float = 0.05) -> Criterion:
    """Small telescopes on w: H0 w = w33, H1 w < w33, p = P(χ²₁(N w33²) ≤ N w²).

    Examples
    --------
    >>> c = small_telescopes_w(0.1, 120, w_33=0.2)
    >>> c.decision, round(c.p, 4)
    ('inconclusive', 0.1362)
    """
    chi2 = n * w * w
    p_small = float(stats.ncx2.cdf(chi2, 1, n * w_33 * w_33))
    p_zero = float(stats.chi2.sf(chi2, 1))
    if p_small < alpha:
        decision, words = FAILED, ("the effect is too small to have been detected by the original study: "
                                   f"significantly smaller than w33 ({format_p(p_small)})")
    elif p_zero < alpha:
        decision, words = SUCCEEDED, (f"detectable: significant ({format_p(p_zero)}) and not significantly "
                                      f"smaller than w33 ({format_p(p_small)})")
    else:
        decision, words = INCONCLUSIVE, (f"neither significant ({format_p(p_zero)}) nor significantly smaller "
                                         f"than w33 ({format_p(p_small)})")
    sentence = (f"Small telescopes (Simonsohn, 2015): replication w = {_f(w)} (N = {n}) against w33 = {_f(w_33)} "
                f"(the w the original's N had 33% power to detect, noncentral χ²); {words}.")
    return Criterion("small_telescopes", decision, estimate=w, bound=w_33, statistic=chi2, p=p_small, scale="w",
                     reason=words + "; " + _SAME_SIGN, sentence=sentence)


def equivalence_w(w: float, n: int, sesoi_w: float, alpha: float = 0.05, source: str = "") -> Criterion:
    """Equivalence on w: H0 w ≥ SESOI, H1 w < SESOI; p = P(χ²₁(N·SESOI²) ≤ N w²).

    (w ≥ 0, so one test suffices: the χ² equivalence test of Wellek, 2010, §9.)

    Examples
    --------
    >>> c = equivalence_w(0.05, 400, sesoi_w=0.2)
    >>> c.decision, round(c.p, 6)
    ('failed', 0.00135)
    """
    chi2 = n * w * w
    p = float(stats.ncx2.cdf(chi2, 1, n * sesoi_w * sesoi_w))
    p_zero = float(stats.chi2.sf(chi2, 1))
    if p < alpha:
        decision, words = FAILED, f"equivalent to zero within w < {_f(sesoi_w)} ({format_p(p)})"
    elif p_zero < alpha:
        decision, words = SUCCEEDED, f"not equivalent ({format_p(p)}) and significant ({format_p(p_zero)})"
    else:
        decision, words = INCONCLUSIVE, f"neither equivalent ({format_p(p)}) nor significant ({format_p(p_zero)})"
    what = f"w < {_f(sesoi_w)}" + (f" ({source})" if source else "")
    sentence = f"Equivalence (noncentral χ², w = {_f(w)}, N = {n}) within {what}: {words}."
    return Criterion("equivalence", decision, estimate=w, bound=sesoi_w, statistic=chi2, p=p, scale="w",
                     reason=words, sentence=sentence)


def fixed_effect_w(w_original: float, n_original: int, w: float, n: int, alpha: float = 0.05) -> Criterion:
    """Inverse-variance combination of φ = w on Fisher's z (variance 1/(N − 3)); H0: φ = 0.

    Examples
    --------
    >>> c = fixed_effect_w(0.33, 80, 0.2, 120)
    >>> c.decision, round(c.estimate, 4)
    ('succeeded', 0.2583)
    """
    z = np.array([math.atanh(w_original), math.atanh(w)])
    wt = np.array([n_original - 3, n - 3], dtype=float)
    est = float((wt * z).sum() / wt.sum())
    se = float(1 / math.sqrt(wt.sum()))
    zc = float(stats.norm.ppf(1 - alpha / 2))
    lo, hi = est - zc * se, est + zc * se
    p = float(2 * stats.norm.sf(abs(est / se)))
    excl = lo > 0
    words = ("the combined CI excludes φ = 0" if excl else "the combined CI includes φ = 0") + "; " + _SAME_SIGN
    sentence = (f"Fixed-effect combination (inverse variance on Fisher's z of φ = w): φ = {_f(math.tanh(est))}, "
                f"{1 - alpha:.0%} CI [{_f(math.tanh(lo))}, {_f(math.tanh(hi))}], z = {_f(est / se)}, {format_p(p)}.")
    return Criterion("fixed_effect", SUCCEEDED if excl else FAILED, estimate=est, low=lo, high=hi, bound=0.0,
                     statistic=est / se, p=p, scale="Fisher z", reason=words, sentence=sentence)
