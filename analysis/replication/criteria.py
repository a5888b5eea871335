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
from typing import NamedTuple, Optional, Union

import numpy as np
from scipy import stats
from scipy.special import betaln

from analysis.errors import AnalysisError
from analysis.format import alpha_text, format_number, format_p, pct
from analysis.results import Result
from analysis.stats import effects
from analysis.stats.effects import cohens_h_var  # re-exported: the one home of each effect

__all__ = [
    "DECISIONS", "SUCCEEDED", "FAILED", "INCONCLUSIVE", "NOT_COMPUTABLE", "BF_THRESHOLD", "CRITERIA",
    "Criterion", "not_computable", "log_odds_ratio", "cohens_h_var", "two_sample_p_values",
    "significance", "consistency_ci", "prediction_interval", "small_telescopes", "equivalence",
    "bf10_two_proportions", "bf_plus0_two_proportions", "prob_p1_greater", "replication_bayes_factor",
    "fixed_effect", "mantel_haenszel",
    "significance_w", "consistency_w", "prediction_interval_w", "small_telescopes_w", "equivalence_w",
    "fixed_effect_w", "w33", "Counts", "WN", "study_data",
]

SUCCEEDED, FAILED, INCONCLUSIVE, NOT_COMPUTABLE = "succeeded", "failed", "inconclusive", "not computable"
DECISIONS = (SUCCEEDED, FAILED, INCONCLUSIVE, NOT_COMPUTABLE)
#: A replication Bayes factor above this (or below its inverse) is taken as evidence (Jeffreys).
BF_THRESHOLD = 3.0

from analysis.replication import CRITERIA  # noqa: E402  the one list of criteria (light, for --help)

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
    finding : str
        What the test found, in words, apart from what that means for the replication
        (e.g. ``equivalent within ±0.44``, ``not significant (p = .42)``).
    replication_succeeded : bool or None
        What the finding means for the replication: True (``succeeded``), False
        (``failed``), None (``inconclusive`` or ``not computable``).
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
    finding: str = ""

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
    def replication_succeeded(self) -> Optional[bool]:
        """True when the criterion counts the replication as a success, False when not, None when it
        cannot say (inconclusive, not computable)."""
        return {SUCCEEDED: True, FAILED: False}.get(self.decision)

    @property
    def succeeded_text(self) -> str:
        """The verdict table's "replication succeeded?" cell: yes, no, inconclusive, not computable."""
        return {SUCCEEDED: "yes", FAILED: "no"}.get(self.decision, self.decision) + \
            (" (derived counts)" if self.derived and self.decision != NOT_COMPUTABLE else "")

    @property
    def finding_text(self) -> str:
        """The verdict table's "finding" cell: what the test found, or why it could not be computed."""
        if self.decision == NOT_COMPUTABLE:
            return f"not computable: {self.reason}" if self.reason else NOT_COMPUTABLE
        return self.finding or self.reason

    @property
    def cell(self) -> str:
        """The decision, with the reason when not computable (the verdict table's cell before
        it showed the finding and the verdict apart)."""
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
        d["finding"] = self.finding_text
        d["replication_succeeded"] = self.replication_succeeded
        return d


def not_computable(criterion: str, reason: str) -> Criterion:
    """A :class:`Criterion` that could not be computed, and why.

    Examples
    --------
    >>> c = not_computable('small_telescopes', 'original n unknown')
    >>> c.decision, c.reason
    ('not computable', 'original n unknown')
    """
    return Criterion(criterion, NOT_COMPUTABLE, reason=reason, finding=NOT_COMPUTABLE,
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
# What a criterion reads of a study: its counts, or its w and N (the input says the scale)
# --------------------------------------------------------------------------- #
class Counts(NamedTuple):
    """One study's cell counts: ``x1`` complied of ``n1`` treated, ``x2`` of ``n2`` controls."""

    x1: int
    n1: int
    x2: int
    n2: int


class WN(NamedTuple):
    """One study known only by Cohen's w (which has no sign) and its total N."""

    w: float
    n: int


def study_data(*values) -> Union[Counts, WN]:
    """What a criterion reads of one study: a :class:`Counts` or a :class:`WN`.

    Four numbers are counts (x1, n1, x2, n2), two are w and N; a ``Counts`` or ``WN``
    is taken as it is.

    Examples
    --------
    >>> study_data(25, 40, 12, 40)
    Counts(x1=25, n1=40, x2=12, n2=40)
    >>> study_data(0.3, 80)
    WN(w=0.3, n=80)
    """
    if len(values) == 1 and isinstance(values[0], (Counts, WN)):
        return values[0]
    if len(values) == 4:
        return Counts(*values)
    if len(values) == 2:
        return WN(*values)
    raise AnalysisError(f"a study is its counts (x1, n1, x2, n2) or its w and N, not {values!r}")


def _two_studies(values) -> tuple[Union[Counts, WN], Union[Counts, WN]]:
    """Original and replication: two Counts/WN, eight counts, or four numbers (w, N, w, N)."""
    if len(values) == 2 and all(isinstance(v, (Counts, WN)) for v in values):
        o, r = values
    elif len(values) == 8:
        o, r = Counts(*values[:4]), Counts(*values[4:])
    elif len(values) == 4:
        o, r = WN(*values[:2]), WN(*values[2:])
    else:
        raise AnalysisError(f"original and replication: give both as counts, or both as w and N, not {values!r}")
    if type(o) is not type(r):
        raise AnalysisError("original and replication must be on one scale: both counts, or both w and N")
    return o, r


# --------------------------------------------------------------------------- #
# Effect sizes and their variances (analysis.stats.effects is their one home)
# --------------------------------------------------------------------------- #
def log_odds_ratio(x1: int, n1: int, x2: int, n2: int) -> effects.Effect:
    """Log odds ratio (treatment vs control) and Woolf's variance, after checking the counts.

    :func:`analysis.stats.effects.log_odds_ratio` (its zero-cell rule, ``ZERO_CELL_RULE``:
    0.5 added to every cell only when a cell is zero; the third value says whether it was).

    Examples
    --------
    >>> lor, var, corrected = log_odds_ratio(12, 24, 10, 48)
    >>> round(math.exp(lor), 3), round(var, 4), corrected
    (3.8, 0.293, False)
    """
    _check_counts(x1, n1, x2, n2)
    return effects.log_odds_ratio(x1, n1, x2, n2)


def _h(x1, n1, x2, n2) -> float:
    return effects.cohens_h(x1 / n1, x2 / n2)


def _direction(sign: float) -> str:
    return "higher" if sign > 0 else "lower"


def _level(level: float) -> str:
    """A confidence level as the one formatter prints it: ``95%``."""
    return pct(level, 0)


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

# Without cell counts the sign of an effect is not in w; on w and N the criteria compare
# magnitudes, on the assumption (stated in every reason) that both studies found the
# effect in the same direction.
_SAME_SIGN = "assumes both effects in the same direction (w has no sign)"


def significance(*data, direction: int = 1, test: str = "chi2", alpha: float = 0.05,
                 p_published: Optional[float] = None) -> Criterion:
    """Is the replication significant, two-sided, in the original's direction?

    ``data`` is the replication: its counts (x1, n1, x2, n2), or its w and N (:class:`WN`).
    H0: p1 = p2.  H1: p1 ≠ p2 (two-sided p decides); from counts, the one-sided p (H1
    in the original's ``direction``, +1 treatment higher, −1 lower) is reported beside it.
    From w and N: χ²(1) = N w², two-sided, the direction assumed (w has no sign).
    Succeeded: two-sided p < α and the estimate in the original's direction.

    Examples
    --------
    >>> c = significance(60, 100, 40, 100, direction=1)
    >>> c.decision, round(c.p, 4), c.finding
    ('succeeded', 0.0047, 'significant (p = .005), treatment higher')
    >>> c = significance(WN(0.3, 80))
    >>> c.decision, round(c.statistic, 2), round(c.p, 5)
    ('succeeded', 7.2, 0.00729)
    """
    d = study_data(*data)
    if isinstance(d, WN):
        stat = d.n * d.w * d.w
        p2, p1, est, same, n = float(stats.chi2.sf(stat, 1)), math.nan, d.w, True, d.n
    else:
        stat, p2, p1 = two_sample_p_values(*d, test, direction)
        est, n = d.x1 / d.n1 - d.x2 / d.n2, d.n1 + d.n2
        same = est * direction > 0
    if p2 < alpha and same:
        decision, why = SUCCEEDED, "significant" + (f" in the original's direction (treatment {_direction(direction)})"
                                                    if isinstance(d, Counts) else "")
        finding = f"significant ({format_p(p2)})" + (f", treatment {_direction(est)}" if isinstance(d, Counts) else "")
    elif p2 < alpha:
        decision, why = FAILED, "significant, but opposite to the original's direction"
        finding = f"significant ({format_p(p2)}), opposite direction"
    else:
        decision, why, finding = FAILED, "not significant", f"not significant ({format_p(p2)})"
    if isinstance(d, WN):
        pub = f" (published {format_p(p_published)})" if p_published is not None else ""
        words = why + "; " + _SAME_SIGN
        sentence = (f"Significance: χ²(1, N = {n}) = {_f(stat)} from w = {_f(d.w)}, {format_p(p2)}{pub} two-sided; "
                    f"the one-sided p in the original's direction is not computable from w; {words}.")
        return Criterion("significance", decision, estimate=est, statistic=stat, p=p2, bound=alpha, scale="w",
                         reason=words, sentence=sentence, finding=finding)
    if test in ("chi2", "yates"):
        head = f"χ²(1, N = {n}) = {_f(stat)}"
    elif test == "fisher":
        head = f"Fisher's exact test, OR = {_f(stat)}, N = {n}"
    else:
        head = f"Barnard's exact test, N = {n}"
    sentence = (f"Significance: the replication ({d.x1}/{d.n1} vs {d.x2}/{d.n2}), {head}, {format_p(p2)} two-sided, "
                f"one-sided {format_p(p1)} in the original's direction; {why} ({_TEST_NAMES[test]}, α = {alpha_text(alpha)}).")
    return Criterion("significance", decision, estimate=est, statistic=stat, p=p2, bound=alpha, scale="RD",
                     reason=f"{why}; one-sided {format_p(p1)}", sentence=sentence, finding=finding)


# --------------------------------------------------------------------------- #
# 3. Consistency
# --------------------------------------------------------------------------- #
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


def consistency_ci(original: float, *data, confidence: float = 0.95) -> Criterion:
    """Is the original's estimate inside the replication's CI?

    ``data`` is the replication: counts (the original's estimate is then its log OR, and the
    CI Woolf's) or w and N (the original's w, and the CI of w by inverting the noncentral
    χ²(1)).  Needs only the original's estimate (rates suffice), not its n.

    Examples
    --------
    >>> import math
    >>> print(consistency_ci(math.log(3.0), 25, 40, 12, 40))
    Consistency: the original OR = 3.00 is inside the replication's 95% CI [1.53, 9.87] (replication OR = 3.89).
    >>> c = consistency_ci(0.33, WN(0.2, 120))
    >>> c.decision, round(c.low, 4), round(c.high, 4)
    ('succeeded', 0.0, 0.3789)
    """
    d = study_data(*data)
    if isinstance(d, WN):
        est, (lo, hi), scale = d.w, _ncp_ci(d.n * d.w * d.w, d.n, confidence), "w"
    else:
        est, var, _ = log_odds_ratio(*d)
        lo, hi = effects.wald_ci(est, var, confidence)
        scale = "log OR"
    inside = lo <= original <= hi
    where = "inside" if inside else "outside"
    if isinstance(d, WN):
        reason = f"the original's w is {where} the CI; " + _SAME_SIGN
        sentence = (f"Consistency: the original w = {_f(original)} is {where} the replication's {_level(confidence)} "
                    f"CI [{_f(lo)}, {_f(hi)}] (w = {_f(d.w)}, N = {d.n}; noncentral χ²).")
    else:
        reason = f"the original's estimate is {where} the CI"
        sentence = (f"Consistency: the original OR = {_f(math.exp(original))} is {where} the replication's "
                    f"{_level(confidence)} CI [{_f(math.exp(lo))}, {_f(math.exp(hi))}] (replication OR = "
                    f"{_f(math.exp(est))}).")
    return Criterion("consistency_ci", SUCCEEDED if inside else FAILED, estimate=est, low=lo, high=hi,
                     bound=original, scale=scale, reason=reason, sentence=sentence,
                     finding=f"original {where} the {_level(confidence)} CI")


def prediction_interval(*studies, level: float = 0.95) -> Criterion:
    """Is the replication inside the original's prediction interval (Patil, Peng & Leek, 2016)?

    ``studies`` are original and replication: both counts (eight numbers: PI =
    θ_orig ± z·√(v_orig + v_rep) on the log odds ratio, Woolf variances), or both w and
    N (four numbers, or two :class:`WN`: on Fisher's z of φ = w, variances 1/(N − 3)).

    Examples
    --------
    >>> print(prediction_interval(25, 40, 12, 40, 20, 60, 15, 60))
    Prediction interval: the replication OR = 1.50 is inside the original's 95% prediction interval [1.14, 13.22] (Patil, Peng & Leek, 2016; log OR, both variances).
    >>> c = prediction_interval(WN(0.33, 80), WN(0.2, 120))
    >>> c.decision, round(c.low, 4), round(c.high, 4)
    ('succeeded', 0.0552, 0.6304)
    """
    o, r = _two_studies(studies)
    if isinstance(o, WN):
        (oest, ovar), (est, var) = (math.atanh(o.w), 1 / (o.n - 3)), (math.atanh(r.w), 1 / (r.n - 3))
        back, name, scale = math.tanh, "φ", "Fisher z"
    else:
        (oest, ovar, _), (est, var, _) = log_odds_ratio(*o), log_odds_ratio(*r)
        back, name, scale = math.exp, "OR", "log OR"
    half = effects.z_critical(level) * math.sqrt(ovar + var)
    lo, hi = oest - half, oest + half
    inside = lo <= est <= hi
    where = "inside" if inside else "outside"
    how = (f"on Fisher's z of φ = w; N = {o.n} and {r.n}" if isinstance(o, WN) else "log OR, both variances")
    sentence = (f"Prediction interval: the replication {name} = {_f(back(est))} is {where} the original's "
                f"{_level(level)} prediction interval [{_f(back(lo))}, {_f(back(hi))}] (Patil, Peng & Leek, 2016; "
                f"{how}).")
    if isinstance(o, WN):
        reason = f"the replication is {where} the PI; {_SAME_SIGN}"
    else:
        reason = f"the replication's estimate is {where} the PI"
    return Criterion("prediction_interval", SUCCEEDED if inside else FAILED, estimate=est, low=lo, high=hi,
                     bound=oest, scale=scale, reason=reason, sentence=sentence,
                     finding=f"replication {where} the {_level(level)} PI")


# --------------------------------------------------------------------------- #
# 4. Small telescopes
# --------------------------------------------------------------------------- #
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


def _telescope_tests(d: Union[Counts, WN], d33: float, direction: int, alpha: float) -> dict:
    """The replication's effect against d33 and against zero, on the scale its data allow."""
    if isinstance(d, WN):
        chi2 = d.n * d.w * d.w
        return dict(est=d.w, stat=chi2, low=math.nan, high=math.nan, scale="w", name="w33",
                    p_small=float(stats.ncx2.cdf(chi2, 1, d.n * d33 * d33)), p_zero=float(stats.chi2.sf(chi2, 1)))
    h = direction * _h(*d)
    se = math.sqrt(effects.cohens_h_var(d.n1, d.n2))
    half = effects.z_critical(1 - 2 * alpha) * se
    return dict(est=h, stat=(h - d33) / se, low=h - half, high=h + half, scale="h", name="d33",
                p_small=float(stats.norm.cdf((h - d33) / se)), p_zero=float(stats.norm.sf(h / se)))


def small_telescopes(*data, d33: Optional[float] = None, direction: int = 1, alpha: float = 0.05,
                     h33: Optional[float] = None, w_33: Optional[float] = None) -> Criterion:
    """Simonsohn's (2015) small-telescopes test.

    ``d33`` (alias ``h33`` for counts, ``w_33`` for w) is the effect the original's
    design had 33% power to detect (positive, in the original's direction).  ``data``
    is the replication:

    * counts: on Cohen's h signed so that the original's direction is positive, SE =
      √(1/n1 + 1/n2); H0 h = d33, H1 h < d33, z = (h − d33)/SE, p = Φ(z);
    * w and N: H0 w = w33, H1 w < w33, p = P(χ²₁(N w33²) ≤ N w²) (noncentral χ²).

    p < α: failed, "too small to have been detected by the original study".
    Otherwise, if the effect is significantly above 0 (one-sided): succeeded,
    "detectable"; else inconclusive.

    Examples
    --------
    >>> c = small_telescopes(20, 60, 15, 60, h33=0.35, direction=1)
    >>> c.decision, round(c.p, 4)
    ('inconclusive', 0.1813)
    >>> c = small_telescopes(WN(0.1, 120), w_33=0.2)
    >>> c.decision, round(c.p, 4)
    ('inconclusive', 0.1362)
    """
    bench = next((v for v in (d33, h33, w_33) if v is not None), math.nan)
    if not (bench > 0):
        return not_computable("small_telescopes", "d33 not available")
    d = study_data(*data)
    t = _telescope_tests(d, bench, direction, alpha)
    name, ps, pz = t["name"], format_p(t["p_small"]), format_p(t["p_zero"])
    if t["p_small"] < alpha:
        decision, finding = FAILED, f"significantly smaller than {name}"
        words = f"the effect is too small to have been detected by the original study: {finding} ({ps})"
    elif t["p_zero"] < alpha:
        decision, finding = SUCCEEDED, "detectable"
        words = (f"detectable: significant ({pz}) and not significantly smaller than {name} ({ps})"
                 if isinstance(d, WN) else
                 f"detectable: significantly above zero ({pz}, one-sided) and not significantly smaller than "
                 f"{name} ({ps})")
    else:
        decision, finding = INCONCLUSIVE, f"neither above zero nor below {name}"
        words = (f"neither significant ({pz}) nor significantly smaller than {name} ({ps})" if isinstance(d, WN)
                 else f"neither significantly above zero ({pz}) nor significantly smaller than {name} ({ps})")
    if isinstance(d, WN):
        sentence = (f"Small telescopes (Simonsohn, 2015): replication w = {_f(d.w)} (N = {d.n}) against w33 = "
                    f"{_f(bench)} (the w the original's N had 33% power to detect, noncentral χ²); {words}.")
        reason = words + "; " + _SAME_SIGN
    else:
        sentence = (f"Small telescopes (Simonsohn, 2015): replication h = {_f(t['est'])}, {_level(1 - 2 * alpha)} CI "
                    f"[{_f(t['low'])}, {_f(t['high'])}], against d33 = {_f(bench)}: z = {_f(t['stat'])}; {words}.")
        reason = words
    return Criterion("small_telescopes", decision, estimate=t["est"], low=t["low"], high=t["high"], bound=bench,
                     statistic=t["stat"], p=t["p_small"], scale=t["scale"], reason=reason, sentence=sentence,
                     finding=finding)


# --------------------------------------------------------------------------- #
# 5. Equivalence
# --------------------------------------------------------------------------- #
def _tost(est: float, se: float, bound: float) -> tuple[float, float, float]:
    """Two one-sided z tests of H0: |θ| ≥ bound.  Returns (p_lower, p_upper, p_tost)."""
    p_lower = float(stats.norm.sf((est + bound) / se))   # H0: θ ≤ −bound
    p_upper = float(stats.norm.cdf((est - bound) / se))  # H0: θ ≥ +bound
    return p_lower, p_upper, max(p_lower, p_upper)


def _equivalence_w(d: WN, sesoi: float, alpha: float) -> dict:
    chi2 = d.n * d.w * d.w
    return dict(est=d.w, stat=chi2, low=math.nan, high=math.nan, p=float(stats.ncx2.cdf(chi2, 1, d.n * sesoi * sesoi)),
                p_zero=float(stats.chi2.sf(chi2, 1)), same=True, head=f"noncentral χ², w = {_f(d.w)}, N = {d.n}",
                tests="")


def _equivalence_counts(d: Counts, sesoi: float, scale: str, direction: int, alpha: float) -> Union[dict, Criterion]:
    if scale == "h":
        e = effects.cohens_h_counts(*d)
    elif scale == "RD":
        e = effects.risk_difference(*d, corrected_cells=False)
        if e.vi == 0:
            return not_computable("equivalence", "risk-difference SE is zero (all or none complied)")
    else:
        raise AnalysisError(f"equivalence: scale {scale!r} is not h or RD")
    est, se = direction * e.yi, math.sqrt(e.vi)
    pl, pu, p = _tost(est, se, sesoi)
    half = effects.z_critical(1 - 2 * alpha) * se
    return dict(est=est, stat=(est - math.copysign(sesoi, est)) / se, low=est - half, high=est + half, p=p,
                p_zero=float(2 * stats.norm.sf(abs(est) / se)), same=est > 0,
                head="TOST, Lakens, 2017", tests=f"; lower test {format_p(pl)}, upper test {format_p(pu)}")


def equivalence(*data, sesoi: Optional[float] = None, direction: int = 1, scale: str = "h", alpha: float = 0.05,
                source: str = "", sesoi_w: Optional[float] = None) -> Criterion:
    """An equivalence test against the smallest effect of interest, read as a replication verdict.

    ``data`` is the replication.  From counts: TOST (Lakens, 2017), H0 |θ| ≥ SESOI, H1
    −SESOI < θ < SESOI, two one-sided z tests, p_TOST the larger p; ``scale`` ``h``
    (Cohen's h, SE √(1/n1 + 1/n2)) or ``RD`` (unpooled Wald SE).  From w and N (``sesoi``
    on w, alias ``sesoi_w``): H0 w ≥ SESOI, H1 w < SESOI, p = P(χ²₁(N·SESOI²) ≤ N w²)
    (w ≥ 0, so one test suffices: Wellek, 2010, §9).  Alongside: the test of θ = 0.

    What the test finds (``finding``): equivalent within ±SESOI, or not.  What that means
    for the replication (``decision``; Lakens, Scheel & Isager, 2018): equivalent → the
    effect is smaller than the SESOI, the replication did not succeed; significant in the
    original's direction and not equivalent → succeeded; otherwise inconclusive.

    Examples
    --------
    >>> c = equivalence(20, 60, 19, 60, direction=1, sesoi=0.2)
    >>> c.decision, round(c.p, 4), c.finding
    ('inconclusive', 0.1839, 'not equivalent within ±0.20')
    >>> c = equivalence(WN(0.05, 400), sesoi=0.2)
    >>> c.decision, round(c.p, 6), c.finding, c.replication_succeeded
    ('failed', 0.00135, 'equivalent within w < 0.20', False)
    """
    sesoi = sesoi if sesoi is not None else sesoi_w
    if sesoi is None or not (sesoi > 0):
        return not_computable("equivalence", "no smallest effect of interest (d33 not available)")
    d = study_data(*data)
    t = _equivalence_w(d, sesoi, alpha) if isinstance(d, WN) else \
        _equivalence_counts(d, sesoi, scale, direction, alpha)
    if isinstance(t, Criterion):
        return t
    scale = "w" if isinstance(d, WN) else scale
    within = f"w < {_f(sesoi)}" if isinstance(d, WN) else f"±{_f(sesoi)}"
    p, pz = format_p(t["p"]), format_p(t["p_zero"])
    if t["p"] < alpha:
        decision, finding = FAILED, f"equivalent within {within}"
        words = (f"equivalent to zero within {within} ({p})" if isinstance(d, WN) else
                 f"equivalent to zero: the effect is smaller than the smallest effect of interest (TOST {p})")
    elif t["p_zero"] < alpha and t["same"]:
        decision, finding = SUCCEEDED, f"not equivalent within {within}"
        words = (f"not equivalent ({p}) and significant ({pz})" if isinstance(d, WN) else
                 f"not equivalent (TOST {p}) and significantly different from zero in the original's direction ({pz})")
    else:
        decision, finding = INCONCLUSIVE, f"not equivalent within {within}"
        words = (f"neither equivalent ({p}) nor significant ({pz})" if isinstance(d, WN) else
                 f"neither equivalent (TOST {p}) nor significant in the original's direction ({pz})")
    if isinstance(d, WN):
        sentence = f"Equivalence ({t['head']}) within {within}{f' ({source})' if source else ''}: {words}."
    else:
        what = f"±{_f(sesoi)} on {scale}" + (f" ({source})" if source else "")
        sentence = (f"Equivalence ({t['head']}) within {what}: replication {scale} = {_f(t['est'])}, "
                    f"{_level(1 - 2 * alpha)} CI [{_f(t['low'])}, {_f(t['high'])}]{t['tests']}; {words}.")
    return Criterion("equivalence", decision, estimate=t["est"], low=t["low"], high=t["high"], bound=sesoi,
                     statistic=t["stat"], p=t["p"], scale=scale, reason=words, sentence=sentence, finding=finding)


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
    finding = f"{sym} = {_fmt_bf(r)}: " + {SUCCEEDED: "evidence for the effect", FAILED: "evidence for the null",
                                           INCONCLUSIVE: "no clear evidence"}[decision]
    return Criterion(name, decision, estimate=r, bound=BF_THRESHOLD, statistic=lr, scale="BF",
                     reason=words, sentence=sentence, finding=finding)


def _fmt_bf(bf: float) -> str:
    if not math.isfinite(bf):
        return "NA"
    if bf >= 1000 or bf < 0.001:
        return f"{bf:.2e}"
    return format_number(bf, 2)


# --------------------------------------------------------------------------- #
# 7. Fixed-effect combination
# --------------------------------------------------------------------------- #
def fixed_effect(*studies, direction: int = 1, alpha: float = 0.05) -> Criterion:
    """Inverse-variance fixed-effect combination of original and replication.

    θ = Σ wᵢ θᵢ / Σ wᵢ with wᵢ = 1/vᵢ, SE = 1/√Σwᵢ; H0: θ = 0, H1: θ ≠ 0, z test.
    ``studies``: both counts (eight numbers: log odds ratios, Woolf variances) or both
    w and N (four numbers or two :class:`WN`: Fisher's z of φ = w, variance 1/(N − 3)).
    Succeeded when the CI excludes no effect in the original's direction.

    Examples
    --------
    >>> c = fixed_effect(25, 40, 12, 40, 20, 60, 15, 60, direction=1)
    >>> c.decision, round(c.estimate, 4)
    ('succeeded', 0.8062)
    >>> c = fixed_effect(WN(0.33, 80), WN(0.2, 120))
    >>> c.decision, round(c.estimate, 4)
    ('succeeded', 0.2583)
    """
    o, r = _two_studies(studies)
    if isinstance(o, WN):
        th = np.array([math.atanh(o.w), math.atanh(r.w)])
        w = np.array([o.n - 3, r.n - 3], dtype=float)
    else:
        ests = [log_odds_ratio(*o), log_odds_ratio(*r)]
        w = np.array([1 / e.vi for e in ests])
        th = np.array([e.yi for e in ests])
    est = float((w * th).sum() / w.sum())
    se = float(1 / math.sqrt(w.sum()))
    if isinstance(o, WN):
        return _combined("fixed_effect", est, se, 1, alpha, "inverse variance on Fisher's z of φ = w", on_w=True)
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
    # p from the survival function (statsmodels computes 1 - cdf, which loses the far tail)
    return _combined("mantel_haenszel", lor, se, direction, alpha,
                     "Mantel-Haenszel (RBG SE), CMH without continuity correction",
                     chi2=float(test.statistic), chi2_p=float(stats.chi2.sf(test.statistic, 1)))


def _combined(name: str, est: float, se: float, direction: int, alpha: float, method: str,
              chi2: Optional[float] = None, chi2_p: Optional[float] = None, on_w: bool = False) -> Criterion:
    lo, hi = effects.wald_ci(est, se * se, 1 - alpha)
    zstat = est / se
    p = float(2 * stats.norm.sf(abs(zstat)))
    excl = lo > 0 if direction > 0 else hi < 0
    decision = SUCCEEDED if excl else FAILED
    null = "φ = 0" if on_w else "OR = 1"
    finding = f"combined CI {'excludes' if excl else 'includes'} {null}"
    if on_w:
        words = f"the combined CI {'excludes' if excl else 'includes'} φ = 0; {_SAME_SIGN}"
        sentence = (f"Fixed-effect combination ({method}): φ = {_f(math.tanh(est))}, {_level(1 - alpha)} CI "
                    f"[{_f(math.tanh(lo))}, {_f(math.tanh(hi))}], z = {_f(zstat)}, {format_p(p)}.")
        return Criterion(name, decision, estimate=est, low=lo, high=hi, bound=0.0, statistic=zstat, p=p,
                         scale="Fisher z", reason=words, sentence=sentence, finding=finding)
    words = ("the combined CI excludes OR = 1 in the original's direction" if excl else
             "the combined CI does not exclude OR = 1 in the original's direction")
    test = (f"CMH χ²(1) = {_f(chi2)}, {format_p(chi2_p)}" if chi2 is not None else f"z = {_f(zstat)}, {format_p(p)}")
    sentence = (f"Fixed-effect combination of original and replication ({method}): OR = {_f(math.exp(est))}, "
                f"{_level(1 - alpha)} CI [{_f(math.exp(lo))}, {_f(math.exp(hi))}], {test}; {words}.")
    return Criterion(name, decision, estimate=est, low=lo, high=hi, bound=0.0,
                     statistic=chi2 if chi2 is not None else zstat, p=chi2_p if chi2_p is not None else p,
                     scale="log OR", reason=words, sentence=sentence, finding=finding)


# --------------------------------------------------------------------------- #
# The former names of the w-and-N criteria: the criterion above, on w and N
# --------------------------------------------------------------------------- #
def significance_w(w: float, n: int, alpha: float = 0.05, p_published: Optional[float] = None) -> Criterion:
    """:func:`significance` on w and N (kept for the API).

    Examples
    --------
    >>> significance_w(0.3, 80) == significance(WN(0.3, 80))
    True
    """
    return significance(WN(w, n), alpha=alpha, p_published=p_published)


def consistency_w(w_original: float, w: float, n: int, confidence: float = 0.95) -> Criterion:
    """:func:`consistency_ci` on w and N (kept for the API).

    Examples
    --------
    >>> consistency_w(0.33, 0.2, 120).decision
    'succeeded'
    """
    return consistency_ci(w_original, WN(w, n), confidence=confidence)


def prediction_interval_w(w_original: float, n_original: int, w: float, n: int, level: float = 0.95) -> Criterion:
    """:func:`prediction_interval` on w and N (kept for the API).

    Examples
    --------
    >>> prediction_interval_w(0.33, 80, 0.2, 120).decision
    'succeeded'
    """
    return prediction_interval(WN(w_original, n_original), WN(w, n), level=level)


def small_telescopes_w(w: float, n: int, w_33: float, alpha: float = 0.05) -> Criterion:
    """:func:`small_telescopes` on w and N (kept for the API).

    Examples
    --------
    >>> small_telescopes_w(0.1, 120, w_33=0.2).decision
    'inconclusive'
    """
    return small_telescopes(WN(w, n), d33=w_33, alpha=alpha)


def equivalence_w(w: float, n: int, sesoi_w: float, alpha: float = 0.05, source: str = "") -> Criterion:
    """:func:`equivalence` on w and N (kept for the API).

    Examples
    --------
    >>> equivalence_w(0.05, 400, sesoi_w=0.2).decision
    'failed'
    """
    return equivalence(WN(w, n), sesoi=sesoi_w, alpha=alpha, source=source)


def fixed_effect_w(w_original: float, n_original: int, w: float, n: int, alpha: float = 0.05) -> Criterion:
    """:func:`fixed_effect` on w and N (kept for the API).

    Examples
    --------
    >>> fixed_effect_w(0.33, 80, 0.2, 120).decision
    'succeeded'
    """
    return fixed_effect(WN(w_original, n_original), WN(w, n), alpha=alpha)
