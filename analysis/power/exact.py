"""Exact power, sample size and the small-telescopes effect of two independent proportions.

The design is two binomials: ``k1 ~ Bin(n1, p1)`` (treatment) and ``k2 ~ Bin(n2, p2)``
(control).  Exact power is the probability, under (p1, p2), of the tables the test
rejects::

    power = Σ over tables (k1, k2) with p-value(k1, k2) ≤ α of Bin(k1; n1, p1) · Bin(k2; n2, p2)

Each test's rejection region is computed once over all ``(n1 + 1)(n2 + 1)`` tables
(vectorised with numpy/scipy) and the binomial probabilities are summed over it.
The tests, with their hypotheses (``p1`` treatment, ``p2`` control):

* ``fisher``: Fisher's exact test, conditional on the number who complied.  H0: OR = 1.
  Two-sided p = the summed probability of every table (same margins) no more probable
  than the observed one (relative tolerance 1e-14, as ``scipy.stats.fisher_exact``);
  ``greater``: H1 OR > 1, p = P(K1 ≥ k1 | margins); ``less``: H1 OR < 1.
* ``chi2``: Pearson χ² without continuity correction.  H0: p1 = p2.  Two-sided:
  p = P(χ²₁ ≥ X²); one-sided: the signed root ``z`` of X² against the normal tail.
* ``yates``: the same with Yates' correction as ``scipy.stats.chi2_contingency``
  applies it (|O − E| reduced by 0.5, but not below 0).
* ``barnard``: Barnard's unconditional test with the pooled Wald statistic, as
  :func:`analysis.stats.binary.barnard_exact_p` (ties at a relative tolerance, unlike scipy,
  issue #18798).  H0: p1 = p2.  Its rejection region needs the maximum over the
  nuisance parameter of every tail, so it is computed only up to
  :data:`BARNARD_MAX_TABLES` tables; above that the power is NaN, "not computed".

Tables in which nobody (or everybody) complied have no χ² statistic: they are never
rejected by ``chi2``/``yates`` (``analysis.stats.binary`` reports NaN there) and have p = 1
for the exact tests.

The normal approximation beside each exact value is statsmodels'
``NormalIndPower().power`` with Cohen's h = 2·asin√p1 − 2·asin√p2.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Optional

import numpy as np
import scipy  # scipy.stats is imported on first use (half a second; a simulated plan needs none of it)

from analysis.errors import AnalysisError
from analysis.format import alpha_text, pct, prop
from analysis.results import Result
from analysis.stats.effects import cohens_h  # the one home of Cohen's h (issue 21.1)

__all__ = ["TESTS", "ALTERNATIVES", "BARNARD_MAX_TABLES", "PowerResult", "SampleSizeResult", "D33Result",
           "power_two_proportions", "rejection_region", "normal_power", "sample_size_two_proportions", "d33"]

#: Tests and what they are.
TESTS = {
    "fisher": "Fisher's exact test",
    "chi2": "Pearson's χ² test (no continuity correction)",
    "yates": "Pearson's χ² test with Yates' correction",
    "barnard": "Barnard's exact test (pooled Wald statistic)",
}
ALTERNATIVES = ("two-sided", "greater", "less")
#: Above this many tables ((n1 + 1)·(n2 + 1)) Barnard's power is not computed.
BARNARD_MAX_TABLES = 160_000
#: Grid of the nuisance parameter π used to locate Barnard's critical value.
_BARNARD_GRID = 200
_FISHER_GAMMA = 1 + 1e-14       # scipy.stats.fisher_exact's relative tolerance for "no more probable"
_SM_ALTERNATIVE = {"two-sided": "two-sided", "greater": "larger", "less": "smaller"}


# --------------------------------------------------------------------------- #
# Validation
# --------------------------------------------------------------------------- #
def _check_rate(name: str, p) -> float:
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise AnalysisError(f"{name} = {p!r} is not a number") from None
    if not 0.0 < p < 1.0:
        raise AnalysisError(f"{name} = {p:g} is outside (0, 1): a rate must be strictly between 0 and 1")
    return p


def _check_n(name: str, n) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise AnalysisError(f"{name} = {n!r} is not a whole number")
    if n < 2:
        raise AnalysisError(f"{name} = {n} is below 2: a group needs at least 2 participants")
    return int(n)


def _check_unit(name: str, x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        raise AnalysisError(f"{name} = {x!r} is not a number") from None
    if not 0.0 < x < 1.0:
        raise AnalysisError(f"{name} = {x:g} is outside (0, 1)")
    return x


def _check_test(test: str, alternative: str) -> None:
    if test not in TESTS:
        raise AnalysisError(f"test = {test!r} is not one of {', '.join(TESTS)}")
    if alternative not in ALTERNATIVES:
        raise AnalysisError(f"alternative = {alternative!r} is not one of {', '.join(ALTERNATIVES)}")


# --------------------------------------------------------------------------- #
# Rejection regions
# --------------------------------------------------------------------------- #
def _grids(n1: int, n2: int):
    k1 = np.arange(n1 + 1)[:, None]
    k2 = np.arange(n2 + 1)[None, :]
    return k1, k2


def _diagonals(n1: int, n2: int):
    """Tables laid out by m = k1 + k2 (rows) and k1 − lo(m) (columns), the layout of Fisher's test.

    Returns (lo, length, g, pmf): ``lo[m]`` the smallest k1 with k1 + k2 = m, ``length[m]`` the
    number of tables with that m; ``g[m, j]`` = log P(k1 = lo + j | m) − c(m) from one table of
    log-factorials (``scipy.special.gammaln``), −inf past the row's end; ``pmf`` the conditional
    (hypergeometric) probabilities exp(g + c(m)), 0 past the end.
    """
    from scipy.special import gammaln

    N = n1 + n2
    lf = gammaln(np.arange(N + 1) + 1.0)
    a1 = np.arange(n1 + 1)
    a2 = np.arange(n2 + 1)
    A = -(lf[a1] + lf[n1 - a1])
    B = -(lf[a2] + lf[n2 - a2])
    logc = lf[n1] + lf[n2] + lf + lf[::-1] - lf[N]            # indexed by m
    m = np.arange(N + 1)
    lo = np.maximum(0, m - n2)
    length = np.minimum(n1, m) - lo + 1
    width = min(n1, n2) + 1
    # row m, column j: A[lo + j] + B[m - lo - j]; both are windows of padded copies (rows copied
    # whole, no gather per table): A from lo on, B reversed from n2 - (m - lo) on
    from numpy.lib.stride_tricks import sliding_window_view

    pad = np.full(width, -np.inf)
    a_rows = sliding_window_view(np.concatenate([A, pad]), width)[lo]
    b_rows = sliding_window_view(np.concatenate([B[::-1], pad]), width)[n2 - (m - lo)]
    g = a_rows + b_rows
    with np.errstate(under="ignore"):
        pmf = np.exp(g + logc[:, None])
    return lo, length, g, pmf


def _first_true(test, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per row, the first index in [lo, hi) where the monotone (False … True) ``test(rows, idx)`` holds; hi if none."""
    rows = np.arange(lo.size)
    lo, hi = lo.copy(), hi.copy()
    while True:
        live = lo < hi
        if not live.any():
            return lo
        r = rows[live]
        mid = (lo[live] + hi[live]) // 2
        ok = test(r, mid)
        hi[r[ok]] = mid[ok]
        lo[r[~ok]] = mid[~ok] + 1


def _fisher_region(n1: int, n2: int, alpha: float, alternative: str) -> np.ndarray:
    """Boolean (n1+1, n2+1): Fisher's test rejects the table (k1, k2).

    The tables with the same number who complied, m = k1 + k2, form one row of
    :func:`_diagonals`, with their conditional (hypergeometric) probabilities.  One-sided p
    values are the row's cumulative sums (``less``: from k1 = lo up; ``greater``: from the top
    down).  Two-sided, p(table) = the sum over the row's tables no more probable than it
    (log probability at most its own + 1e-10: a relative tolerance of 1e-10, where scipy
    uses 1e-14 on its own pmf; the log-factorial route is accurate to ~1e-12, and mirror
    tables (n1 = n2) get bit-identical values).  A row's probabilities rise to the mode and
    fall after it (the hypergeometric is log-concave), so the tables no more probable than
    a level are the row's two ends: p is a left cumulative sum plus a right one, each end
    found by bisection, and the rejected tables are the ends where p <= α, found by
    bisection too (p rises towards the mode).  No sort: O(tables) work plus O(rows · log²).
    p <= α is decided with a relative tolerance of 1e-12, so that a p equal to α (p values
    are rational numbers) is not lost to the rounding of the sums.
    """
    alpha = alpha * (1 + 1e-12)
    lo, length, g, pmf = _diagonals(n1, n2)
    left_cum = np.cumsum(pmf, axis=1)                           # P(K1 <= lo + j | m)
    right_cum = np.cumsum(pmf[:, ::-1], axis=1)[:, ::-1]       # P(K1 >= lo + j | m) (0 past the end)
    zero = np.zeros(lo.size, dtype=int)
    if alternative == "less":
        cut_lo = (left_cum <= alpha).sum(axis=1) - 1            # reject j <= cut_lo
        cut_hi = length                                         # and nothing at the top
    elif alternative == "greater":
        cut_lo = zero - 1
        cut_hi = length - ((right_cum <= alpha) & (np.arange(g.shape[1]) < length[:, None])).sum(axis=1)
    else:
        mode = np.argmax(g, axis=1)
        width = g.shape[1]

        def p_at(r, j):
            # the probability of the tables of rows r no more probable than table j (+ tolerance)
            thr = g[r, j] + 1e-10
            # left end: tables lo..a with g <= thr (g rises to the mode); right end: b..end
            a = _first_true(lambda rr, i: g[r[rr], i] > thr[rr], zero[r], mode[r] + 1) - 1
            b = _first_true(lambda rr, i: g[r[rr], i] <= thr[rr], mode[r] + 1, length[r])
            return (np.where(a >= 0, left_cum[r, np.maximum(a, 0)], 0.0)
                    + np.where(b < length[r], right_cum[r, np.minimum(b, width - 1)], 0.0))

        cut_lo = _first_true(lambda r, j: p_at(r, j) > alpha, zero, mode + 1) - 1
        cut_hi = _first_true(lambda r, j: p_at(r, j) <= alpha, mode + 1, length)
    k1 = np.arange(n1 + 1)[:, None]
    m = k1 + np.arange(n2 + 1)[None, :]
    j = k1 - lo[m]
    reject = (j <= cut_lo[m]) | (j >= cut_hi[m])
    reject[0, 0] = reject[n1, n2] = False                      # nobody / everybody complied: p = 1
    return reject


def _z_statistic(n1: int, n2: int, yates: bool) -> np.ndarray:
    """Signed root of Pearson's X² (p̂1 − p̂2 > 0 positive); NaN where undefined."""
    k1, k2 = _grids(n1, n2)
    N = n1 + n2
    m = k1 + k2
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = np.abs(k1 * (n2 - k2) - k2 * (n1 - k1)) / N        # |O − E|, the same in every cell
        if yates:
            dev = np.maximum(dev - 0.5, 0.0)
        inv_e = N ** 3 / (n1 * n2 * m * (N - m))                  # Σ 1/E over the four cells
        x2 = dev ** 2 * inv_e
        sign = np.sign(k1 / n1 - k2 / n2)
        z = sign * np.sqrt(x2)
    z[(m == 0) | (m == N)] = np.nan
    return z


def _chi2_p(z: np.ndarray, alternative: str) -> np.ndarray:
    """The p value of each signed z (NaN: 1): χ²₁ tail of z² two-sided, a normal tail one-sided."""
    with np.errstate(invalid="ignore"):
        if alternative == "two-sided":
            p = scipy.stats.chi2.sf(z ** 2, 1)
        elif alternative == "greater":
            p = scipy.stats.norm.sf(z)
        else:
            p = scipy.stats.norm.cdf(z)
    return np.nan_to_num(p, nan=1.0)


def _chi2_region(n1: int, n2: int, alpha: float, alternative: str, yates: bool) -> np.ndarray:
    """Tables with p <= α.  The p value falls as the statistic ``s`` (|z|, z or -z) rises, so the tables
    are decided by ``s`` against the critical value ``c`` (the p value is computed only for the few
    tables within a relative 1e-8 of ``c``, where rounding could decide): the same tables as
    p <= α on every table, at a fraction of the special-function calls (issue 26.2)."""
    z = _z_statistic(n1, n2, yates)
    if alternative == "two-sided":
        s, c = np.abs(z), float(np.sqrt(scipy.stats.chi2.isf(alpha, 1)))
    else:
        s, c = (z if alternative == "greater" else -z), float(scipy.stats.norm.isf(alpha))
    s = np.nan_to_num(s, nan=-np.inf)
    band = 1e-8 * max(abs(c), 1.0)
    reject = s > c + band
    near = np.abs(s - c) <= band
    if near.any():
        reject[near] = _chi2_p(z[near], alternative) <= alpha
    return reject


def _pooled_wald(n1: int, n2: int) -> np.ndarray:
    """The pooled Wald statistic of every table, as in analysis.stats.binary.barnard_exact_p (0 where undefined)."""
    k1, k2 = _grids(n1, n2)
    p = (k1 + k2) / (n1 + n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (k1 / n1 - k2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return np.nan_to_num(t, nan=0.0)


def _barnard_region(n1: int, n2: int, alpha: float, alternative: str) -> np.ndarray:
    """Barnard's rejection region: every table at least as extreme as the critical level.

    p(level) = max_π P_π(T ≥ level) falls as the level rises, so the region is
    {T ≥ t*} (|T| for two-sided).  t* is located with the tails of every level on a
    π grid (a lower bound of each p) and then confirmed level by level with the full
    maximisation (two-sided: :func:`analysis.stats.binary.barnard_exact_p` itself).
    """
    from analysis.stats.binary import barnard_exact_p, barnard_max_tail

    t = _pooled_wald(n1, n2)
    stat = np.abs(t) if alternative == "two-sided" else (t if alternative == "greater" else -t)
    flat = stat.ravel()
    order = np.argsort(-flat, kind="stable")
    s = flat[order]
    # tie groups at a relative tolerance of 1e-9, as barnard_exact_p
    new_group = np.ones(s.size, dtype=bool)
    new_group[1:] = s[1:] < s[:-1] - 1e-9 * np.abs(s[:-1])
    group_end = np.r_[np.nonzero(new_group)[0][1:], s.size] - 1      # last index of each group
    pis = np.linspace(0, 1, _BARNARD_GRID + 1)[1:-1]
    k1 = np.arange(n1 + 1)
    k2 = np.arange(n2 + 1)
    best = np.zeros(group_end.size)
    chunk = max(1, 4_000_000 // s.size)
    for i in range(0, pis.size, chunk):
        pi = pis[i:i + chunk]
        b1 = scipy.stats.binom.pmf(k1[None, :], n1, pi[:, None])
        b2 = scipy.stats.binom.pmf(k2[None, :], n2, pi[:, None])
        prob = (b1[:, :, None] * b2[:, None, :]).reshape(pi.size, -1)[:, order]
        best = np.maximum(best, np.cumsum(prob, axis=1)[:, group_end].max(axis=0))
    level = s[group_end]
    # candidate: the lowest level whose grid p is <= alpha (grid p underestimates p)
    ok = np.nonzero((best <= alpha) & (level > 0))[0]
    reject = np.zeros(flat.size, dtype=bool)
    if ok.size == 0:
        return reject.reshape(stat.shape)
    g = int(ok[-1])
    while g >= 0:
        if alternative == "two-sided":
            j = order[group_end[g]]
            p = barnard_exact_p(int(j // (n2 + 1)), n1, int(j % (n2 + 1)), n2)
        else:
            p = barnard_max_tail(n1, n2, stat >= level[g] * (1 - 1e-9))
        if p <= alpha:
            break
        g -= 1
    if g >= 0:
        reject = flat >= level[g] * (1 - 1e-9)
    return reject.reshape(stat.shape)


def rejection_region(n1: int, n2: int, alpha: float = 0.05, test: str = "fisher",
                     alternative: str = "two-sided") -> np.ndarray:
    """Boolean array ``R[k1, k2]``: the test rejects H0 at level α for that table.

    ``k1`` of ``n1`` complied in the treatment group, ``k2`` of ``n2`` in the control group.

    Examples
    --------
    >>> R = rejection_region(24, 24, test="fisher")
    >>> bool(R[12, 4]), bool(R[12, 6])
    (True, False)
    """
    n1, n2 = _check_n("n1", n1), _check_n("n2", n2)
    alpha = _check_unit("alpha", alpha)
    _check_test(test, alternative)
    if test == "fisher":
        return _fisher_region(n1, n2, alpha, alternative)
    if test in ("chi2", "yates"):
        return _chi2_region(n1, n2, alpha, alternative, yates=test == "yates")
    return _barnard_region(n1, n2, alpha, alternative)


def normal_power(p1: float, p2: float, n1: int, n2: int, alpha: float = 0.05,
                 alternative: str = "two-sided") -> float:
    """statsmodels ``NormalIndPower().power`` with Cohen's h (effect = 2·asin√p1 − 2·asin√p2).

    Examples
    --------
    >>> round(normal_power(0.5, 0.3, 40, 40), 4)
    0.4525
    """
    from statsmodels.stats.power import NormalIndPower

    h = cohens_h(p1, p2)
    return float(NormalIndPower().power(effect_size=h, nobs1=n1, alpha=alpha, ratio=n2 / n1,
                                        alternative=_SM_ALTERNATIVE[alternative]))


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
def _fmt(x: float, digits: int = 2) -> str:
    """A power or proportion APA-style (no leading zero), through the one formatter (half-up)."""
    return prop(x, digits)


def _alt_words(alternative: str) -> str:
    return {"two-sided": "two-sided", "greater": "one-sided, H1: p1 > p2", "less": "one-sided, H1: p1 < p2"}[
        alternative]


@dataclass(frozen=True)
class PowerResult(Result):
    """Exact power of one test of two independent proportions, with the normal approximation.

    H0: p1 = p2 (Fisher: OR = 1 given the margins); H1 per ``alternative``
    (``two-sided`` p1 ≠ p2, ``greater`` p1 > p2, ``less`` p1 < p2).  ``power`` is NaN,
    with a note, when it was not computed (Barnard above :data:`BARNARD_MAX_TABLES`).
    """

    _aliases = {'estimate': 'power', 'term': 'test'}
    _measure = "power (exact)"

    p1: float
    p2: float
    n1: int
    n2: int
    alpha: float
    test: str
    alternative: str
    power: float
    power_normal: float
    cohens_h: float
    risk_difference: float
    notes: tuple[str, ...] = ()

    @property
    def computed(self) -> bool:
        return not math.isnan(self.power)

    def __str__(self) -> str:
        return (f"Power of {TESTS[self.test]} ({_alt_words(self.alternative)}, α = {alpha_text(self.alpha)}) "
                f"for {pct(self.p1)} vs {pct(self.p2)} with {self.line()[len('power with '):]}")

    def line(self) -> str:
        """The sentence without the test, sidedness, α and rates (for a listing that names them once).

        Examples
        --------
        >>> power_two_proportions(0.5, 0.2, 30).line()
        "power with n = 30 and 30: exact .60; normal approximation .70 (Cohen's h = 0.64)"
        """
        exact = _fmt(self.power) if self.computed else "not computed"
        return (f"power with n = {self.n1} and {self.n2}: exact {exact}; normal approximation "
                f"{_fmt(self.power_normal)} (Cohen's h = {self.cohens_h:.2f})")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def _power_from_region(reject: np.ndarray, p1: float, p2: float) -> float:
    n1, n2 = reject.shape[0] - 1, reject.shape[1] - 1
    b1 = scipy.stats.binom.pmf(np.arange(n1 + 1), n1, p1)
    b2 = scipy.stats.binom.pmf(np.arange(n2 + 1), n2, p2)
    return float(min(1.0, b1 @ (reject.astype(float) @ b2)))


def _design_defaults(design, alpha, test, alternative):
    """α, test and sidedness: as given, else the design's (analysis.power.design), else .05, Fisher, two-sided
    (the defaults of ``compliance power --rates``)."""
    if design is not None:
        return (design.alpha if alpha is None else alpha, design.test if test is None else test,
                design.alternative if alternative is None else alternative)
    return (0.05 if alpha is None else alpha, "fisher" if test is None else test,
            "two-sided" if alternative is None else alternative)


def _design_rates(design, p1, p2, what: str):
    if design is not None:
        p1 = design.p1 if p1 is None else p1
        p2 = design.p2 if p2 is None else p2
    if p1 is None or p2 is None:
        raise AnalysisError(f"{what}: give p1 and p2, or a design whose original rates are published")
    return p1, p2


def power_two_proportions(p1: Optional[float] = None, p2: Optional[float] = None, n1: Optional[int] = None,
                          n2: Optional[int] = None, alpha: Optional[float] = None, test: Optional[str] = None,
                          alternative: Optional[str] = None, *, design=None) -> PowerResult:
    """Exact power to detect p1 vs p2 with n1 and n2 per group, and the normal approximation.

    Parameters
    ----------
    p1, p2 : float
        Compliance rates under the alternative, treatment and control, in (0, 1).
    n1, n2 : int
        Group sizes (n2 defaults to n1), each at least 2.
    alpha : float
        Significance level, in (0, 1).
    test : {"fisher", "chi2", "yates", "barnard"}
    alternative : {"two-sided", "greater", "less"}
        ``greater``: H1 p1 > p2.
    design : ContrastDesign, optional
        A declared contrast's design (:func:`analysis.power.design.design_of`): whatever is not
        given (rates, n, α, test, sidedness) is the design's (n: the original's; n2 from n1 by
        the declared allocation).  Without it: α = .05, Fisher's test, two-sided.

    Returns
    -------
    PowerResult

    Raises
    ------
    AnalysisError
        A one-line message naming the bad value.

    Examples
    --------
    Cialdini et al. (1975), Experiment 1: 50% vs 16.7% with 24 per condition.

    >>> r = power_two_proportions(0.50, 4 / 24, 24)
    >>> print(f"{r.power:.3f} {r.power_normal:.3f}")
    0.609 0.715
    >>> from analysis.power.design import design_of
    >>> r = power_two_proportions(design=design_of("cialdini1975", 1, 0))   # the paper's χ², 24 vs 48
    >>> print(r.test, r.n1, r.n2, f"{r.power:.2f}")
    chi2 24 48 0.73
    """
    alpha, test, alternative = _design_defaults(design, alpha, test, alternative)
    p1, p2 = _design_rates(design, p1, p2, "power")
    if design is not None and n1 is None:
        n1, n2 = design.n1, design.n2
    elif design is not None and n2 is None and n1 is not None:
        n2 = _n2(_check_n("n1", n1), design.ratio)
    if n1 is None:
        raise AnalysisError("power: give n1 (the original's n is not published)")
    p1, p2 = _check_rate("p1", p1), _check_rate("p2", p2)
    n1 = _check_n("n1", n1)
    n2 = n1 if n2 is None else _check_n("n2", n2)
    alpha = _check_unit("alpha", alpha)
    _check_test(test, alternative)
    h = cohens_h(p1, p2)
    approx = normal_power(p1, p2, n1, n2, alpha, alternative)
    notes: list[str] = []
    if test == "barnard" and (n1 + 1) * (n2 + 1) > BARNARD_MAX_TABLES:
        power = math.nan
        notes.append(f"not computed: Barnard's test over {(n1 + 1) * (n2 + 1)} tables exceeds the limit of "
                     f"{BARNARD_MAX_TABLES}; use fisher")
    else:
        power = _power_from_region(rejection_region(n1, n2, alpha, test, alternative), p1, p2)
    return PowerResult(p1, p2, n1, n2, alpha, test, alternative, power, approx, h, p1 - p2, tuple(notes))


# --------------------------------------------------------------------------- #
# Sample size
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class SampleSizeResult(Result):
    """n per group (treatment n1; control n2 = ceil(ratio · n1)) reaching a target power.

    Exact power is not monotone in n (it saw-tooths), so two answers are given:

    * ``n_first``: the first n1 whose exact power reaches the target;
    * ``n_stable``: the smallest n1 from which every larger n1 up to ``n_bound``
      keeps the power at or above the target.

    ``n_normal`` is the normal-approximation answer (the smallest n1 with
    approximate power ≥ target).  An n is None when not reached by ``n_bound``.
    """

    _aliases = {'estimate': 'n_first', 'term': 'test'}
    _measure = "n per group (treatment) first reaching the target power"

    p1: float
    p2: float
    target: float
    alpha: float
    test: str
    alternative: str
    ratio: float
    n_first: Optional[int]
    power_first: float
    n_stable: Optional[int]
    n_bound: int
    n_normal: Optional[int]
    curve: tuple[tuple[int, float], ...] = field(repr=False, default=())
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        what = f"{TESTS[self.test]} ({_alt_words(self.alternative)}, α = {alpha_text(self.alpha)})"
        return f"{pct(self.p1)} vs {pct(self.p2)}, {what}, {self.line()}"

    def line(self) -> str:
        """The sentence without the rates, test, sidedness and α (for a listing that names them once).

        Examples
        --------
        >>> sample_size_two_proportions(0.5, 0.2, 0.8).line()
        'target power .80: first reached at n = 44 per group (exact power .802); stays at or above it from n = 44 on (checked up to n = 64); normal approximation n = 38'
        """
        head = f"target power {_fmt(self.target)}"
        if self.n_first is None:
            return f"{head}: not reached with up to n = {self.n_bound} per group"
        stable = (f"stays at or above it from n = {self.n_stable} on (checked up to n = {self.n_bound})"
                  if self.n_stable is not None else f"does not stay above it up to n = {self.n_bound}")
        return (f"{head}: first reached at n = {self.n_first} per group (exact power {_fmt(self.power_first, 3)}); "
                f"{stable}; normal approximation n = {self.n_normal}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["curve"] = [{"n": n, "power": p} for n, p in self.curve]
        d["notes"] = list(self.notes)
        return d


def _n2(n1: int, ratio: float) -> int:
    return max(2, int(math.ceil(ratio * n1 - 1e-9)))


#: How far below a crossing the search looks for an earlier one: this many n in a row below the target
#: (at least; a tenth of n when larger) end the step down (see :func:`sample_size_two_proportions`).
HORIZON = 10


def _horizon(n: int) -> int:
    return max(HORIZON, -(-n // 10))


def _sample_size_args(p1, p2, target, alpha, test, alternative, ratio, n_max, design):
    alpha, test, alternative = _design_defaults(design, alpha, test, alternative)
    p1, p2 = _design_rates(design, p1, p2, "sample size")
    if ratio is None:
        ratio = design.ratio if design is not None else 1.0
    p1, p2 = _check_rate("p1", p1), _check_rate("p2", p2)
    target = _check_unit("target", target)
    alpha = _check_unit("alpha", alpha)
    _check_test(test, alternative)
    if not ratio > 0:
        raise AnalysisError(f"ratio = {ratio!r} must be positive")
    return p1, p2, target, alpha, test, alternative, ratio, _check_n("n_max", n_max)


def _normal_n(p1, p2, target, alpha, alternative, ratio) -> Optional[int]:
    from statsmodels.stats.power import NormalIndPower

    try:
        nn = NormalIndPower().solve_power(effect_size=cohens_h(p1, p2), nobs1=None, alpha=alpha, power=target,
                                          ratio=ratio, alternative=_SM_ALTERNATIVE[alternative])
        return int(math.ceil(float(np.atleast_1d(nn)[0]))) if np.isfinite(nn) else None
    except Exception:  # statsmodels' root finder fails when the direction cannot reach the target
        return None


def normal_approximation_n1(effect: float, alpha: float, target: float, two_sided: bool = True,
                            ratio: float = 1.0) -> float:
    """n1 for ``target`` power by the normal approximation on Cohen's h, in closed form.

    n1 = (z_alpha + z_power)^2 (1 + 1/ratio) / h^2 for an effect ``h > 0`` in the direction tested
    (z_alpha of alpha/2 when two-sided); the quantiles come from the survival function, exact in the
    far tail (alpha = 1e-300).  The size checks of ``power`` and ``plan`` use it to refuse a search
    the exact enumeration cannot finish; :func:`_normal_n` (statsmodels' root finder) is the figure
    printed beside the exact answer.

    Examples
    --------
    >>> round(normal_approximation_n1(0.5, 0.05, 0.8), 2)
    62.79
    """
    z = scipy.stats.norm.isf(alpha / 2 if two_sided else alpha) + scipy.stats.norm.isf(1 - target)
    return float(z ** 2 * (1 + 1 / ratio) / effect ** 2)


def _barnard_cap(test: str, ratio: float, n_max: int) -> int:
    """The largest n1 whose tables Barnard's power is computed for (n_max for the other tests)."""
    if test != "barnard":
        return n_max
    n = 2
    while n <= n_max and (n + 1) * (_n2(n, ratio) + 1) <= BARNARD_MAX_TABLES:
        n += 1
    return n - 1


def _first_reaching(power, target: float, top: int, start: Optional[int] = None) -> Optional[int]:
    """The smallest n in [2, top] with ``power(n) >= target`` (None if none), as a linear scan finds it.

    Bisection on the monotone envelope: from ``start`` (the normal approximation's n; else 2), halving
    or doubling n brackets a crossing of the target (``power(lo) < target <= power(hi)``), bisection
    narrows it to ``hi = lo + 1``.  Exact power is not monotone in n, so the crossing found is then
    confirmed downwards: from ``hi`` the search steps down until :func:`_horizon` successive n in a
    row are below the target (or n = 2), and keeps the smallest n it met at or above it.  Without
    any crossing up to ``top`` the same step down runs from ``top``.
    """
    hi = min(max(int(start or 2), 2), top)
    lo = 1
    if power(hi) >= target:
        lo = hi // 2
        while lo >= 2 and power(lo) >= target:
            hi, lo = lo, lo // 2
        lo = max(lo, 1)
    else:
        while hi < top and power(hi) < target:
            lo, hi = hi, min(2 * hi, top)
    if power(hi) >= target:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if power(mid) >= target:
                hi = mid
            else:
                lo = mid
        first = hi
    else:
        first = None
    n, below = (hi - 1 if first is not None else top), 0
    while n >= 2 and below < _horizon(n):
        if power(n) >= target:
            first, below = n, 0
        else:
            below += 1
        n -= 1
    return first


def sample_size_two_proportions(p1: Optional[float] = None, p2: Optional[float] = None, target: float = 0.80,
                                alpha: Optional[float] = None, test: Optional[str] = None,
                                alternative: Optional[str] = None, ratio: Optional[float] = None,
                                n_max: int = 2000, margin: Optional[int] = None, *,
                                design=None) -> SampleSizeResult:
    """Sample size per group for a target exact power (first n, and n from which it stays).

    ``n_first`` is the first n1 = 2, 3, ... whose exact power reaches the target; ``n_stable``
    the smallest n from which the power stays at or above the target up to ``n_bound = n_first +
    margin`` (default margin: max(20, n_first // 4)).  Both are those of a linear scan over every
    n (the definition), found without evaluating every n (issue 26.2): bisection brackets the
    first crossing and a step down of at least :data:`HORIZON` n below the target in a row (a
    tenth of n when larger) confirms no earlier n reaches it (:func:`_first_reaching`); the
    stable n is found stepping down from ``n_bound`` to the first n below the target.  ``curve``
    holds the (n, exact power) points evaluated, in order of n.

    Parameters
    ----------
    p1, p2 : float
        Rates under the alternative (treatment, control), in (0, 1).
    target : float
        Target power, in (0, 1).
    ratio : float
        n2 / n1 (n2 is rounded up); default the design's allocation, else 1.
    n_max : int
        Largest n1 tried.
    design : ContrastDesign, optional
        A declared contrast's design (:func:`analysis.power.design.design_of`): rates, α, test,
        sidedness and allocation not given are the design's.  Without it: α = .05, Fisher's
        test, two-sided, 1:1 (as ``compliance power --rates``).

    Examples
    --------
    >>> r = sample_size_two_proportions(0.50, 4 / 24, target=0.80)
    >>> r.n_first <= r.n_stable
    True
    >>> from analysis.power.design import design_of
    >>> r = sample_size_two_proportions(design=design_of("cialdini1975", 1, 0))   # χ², 1:2, as the CLI
    >>> r.test, r.ratio, r.n_first
    ('chi2', 2.0, 29)
    """
    p1, p2, target, alpha, test, alternative, ratio, n_max = _sample_size_args(
        p1, p2, target, alpha, test, alternative, ratio, n_max, design)
    n_normal = _normal_n(p1, p2, target, alpha, alternative, ratio)
    cache: dict[int, float] = {}

    def power(n: int) -> float:
        if n not in cache:
            cache[n] = _power_from_region(rejection_region(n, _n2(n, ratio), alpha, test, alternative), p1, p2)
        return cache[n]

    notes: list[str] = []
    cap = _barnard_cap(test, ratio, n_max)
    n_first = _first_reaching(power, target, cap, n_normal) if cap >= 2 else None
    bound = n_max if n_first is None else min(n_max, n_first + (margin if margin is not None else max(20, n_first // 4)))
    if cap < bound:
        notes.append(f"Barnard's power not computed beyond n = {cap} (table limit {BARNARD_MAX_TABLES})")
        bound = cap
    if n_first is None:
        return SampleSizeResult(p1, p2, target, alpha, test, alternative, ratio, None, math.nan, None,
                                bound, n_normal, tuple(sorted(cache.items())), tuple(notes))
    n_stable = None
    n = bound
    while n >= n_first and power(n) >= target:
        n_stable, n = n, n - 1
    return SampleSizeResult(p1, p2, target, alpha, test, alternative, ratio, n_first, cache[n_first], n_stable,
                            bound, n_normal, tuple(sorted(cache.items())), tuple(notes))


# --------------------------------------------------------------------------- #
# The small-telescopes effect
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class D33Result(Result):
    """The effect a design (n1, n2) had 33% power to detect (Simonsohn, 2015).

    Expressed as the treatment rate ``p_treatment`` (with the control at ``p_control``),
    Cohen's h and the risk difference.  Found on exact power: a grid of 200 treatment
    rates between the control rate and 0 or 1, the first grid point whose power reaches
    1/3, then bisection between it and the grid point before (exact power is a
    polynomial in p1 for a fixed design, smooth in p1; the saw-tooth is in n).
    NaN, with a note, when even a rate next to 0 or 1 does not reach 1/3.
    """

    _aliases = {'estimate': 'p_treatment', 'term': 'test'}
    _measure = "treatment rate the design had 33% power to detect"

    n1: int
    n2: int
    p_control: float
    alpha: float
    test: str
    alternative: str
    direction: str
    p_treatment: float
    cohens_h: float
    risk_difference: float
    power: float
    power_normal: float
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if math.isnan(self.p_treatment):
            return (f"d33 with n = {self.n1} and {self.n2} against {pct(self.p_control)}: not computable "
                    f"({'; '.join(self.notes)})")
        return (f"The design with n = {self.n1} and {self.n2} had 33% power ({TESTS[self.test]}, "
                f"{_alt_words(self.alternative)}, α = {alpha_text(self.alpha)}) to detect "
                f"{pct(self.p_treatment)} vs {pct(self.p_control)} "
                f"(Cohen's h = {self.cohens_h:.2f}, risk difference = {self.risk_difference:.3f})")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def d33(n1: Optional[int] = None, n2: Optional[int] = None, p_control: Optional[float] = None,
        alpha: Optional[float] = None, test: Optional[str] = None, alternative: Optional[str] = None,
        direction: Optional[str] = None, target: float = 1 / 3, *, design=None) -> D33Result:
    """The treatment rate the design (n1, n2) had 33% exact power to detect against ``p_control``.

    Simonsohn (2015), "Small telescopes": a replication whose effect is significantly
    smaller than d33 says the original study could not have detected it.

    Parameters
    ----------
    n1, n2 : int
        The original's group sizes (treatment, control); n2 defaults to n1.
    p_control : float
        The control rate, in (0, 1), held fixed.
    direction : {"increase", "decrease"}, optional
        Whether the treatment raises or lowers the rate; default ``decrease`` for
        ``alternative="less"``, else ``increase``.
    target : float
        The power (1/3).
    design : ContrastDesign, optional
        A declared contrast's design (:func:`analysis.power.design.design_of`): the original's
        n and control rate, its test, sidedness and α where not given (direction: the
        original's).  Without it: α = .05, Fisher's test, two-sided.

    Root: the smallest treatment-rate distance from the control (on a grid of 200
    rates) at which exact power first reaches the target, refined by 50 bisection steps.

    Examples
    --------
    >>> r = d33(24, 24, 4 / 24)
    >>> 0.3 < r.p_treatment < 0.5 and abs(r.power - 1 / 3) < 1e-6
    True
    >>> from analysis.power.design import design_of
    >>> round(d33(design=design_of("cialdini1975", 1, 1)).cohens_h, 3)   # the paper's χ², as replicate
    0.438
    """
    alpha, test, alternative = _design_defaults(design, alpha, test, alternative)
    if design is not None:
        n1 = design.n1 if n1 is None else n1
        n2 = design.n2 if n2 is None and n1 == design.n1 else n2
        p_control = design.p2 if p_control is None else p_control
        if direction is None and alternative == "two-sided" and design.p1 is not None and design.p1 < design.p2:
            direction = "decrease"
    if n1 is None or p_control is None:
        raise AnalysisError("d33: give n1 and p_control, or a design whose original counts are published")
    n1 = _check_n("n1", n1)
    n2 = n1 if n2 is None else _check_n("n2", n2)
    p0 = _check_rate("p_control", p_control)
    alpha = _check_unit("alpha", alpha)
    target = _check_unit("target", target)
    _check_test(test, alternative)
    direction = direction or ("decrease" if alternative == "less" else "increase")
    if direction not in ("increase", "decrease"):
        raise AnalysisError(f"direction = {direction!r} is not increase or decrease")
    if (direction, alternative) in (("increase", "less"), ("decrease", "greater")):
        raise AnalysisError(f"direction = {direction} cannot be detected with alternative = {alternative}")
    nan = D33Result(n1, n2, p0, alpha, test, alternative, direction, math.nan, math.nan, math.nan, math.nan,
                    math.nan, ())
    if test == "barnard" and (n1 + 1) * (n2 + 1) > BARNARD_MAX_TABLES:
        return D33Result(**{**asdict(nan), "notes": (
            f"not computed: Barnard's test over {(n1 + 1) * (n2 + 1)} tables exceeds {BARNARD_MAX_TABLES}",)})
    reject = rejection_region(n1, n2, alpha, test, alternative).astype(float)
    b2 = scipy.stats.binom.pmf(np.arange(n2 + 1), n2, p0)
    side = reject @ b2                                # P(reject | k1) under the control rate
    k1 = np.arange(n1 + 1)

    def power(p1: float) -> float:
        return float(scipy.stats.binom.pmf(k1, n1, p1) @ side)

    end = 1.0 - 1e-9 if direction == "increase" else 1e-9
    grid = p0 + (end - p0) * np.linspace(0, 1, 201)[1:]
    pw = np.array([power(p) for p in grid])
    hit = np.nonzero(pw >= target)[0]
    if hit.size == 0:
        return D33Result(**{**asdict(nan), "notes": (
            f"exact power stays below {target:.3f} for every treatment rate ({_fmt(float(pw.max()), 3)} at most)",)})
    i = int(hit[0])
    lo = p0 if i == 0 else grid[i - 1]
    hi = grid[i]
    for _ in range(50):
        mid = (lo + hi) / 2
        if power(mid) >= target:
            hi = mid
        else:
            lo = mid
    p1 = float(hi)
    h = cohens_h(p1, p0)
    return D33Result(n1, n2, p0, alpha, test, alternative, direction, p1, h, p1 - p0, power(p1),
                     normal_power(p1, p0, n1, n2, alpha, alternative),
                     ("root: first of 200 grid rates reaching the target power, refined by bisection",))


# --------------------------------------------------------------------------- #
# Power curves and their plot
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class PowerCurve(Result):
    """Exact and normal-approximation power over n per group (n2 = ceil(ratio · n1))."""

    label: str
    p1: float
    p2: float
    alpha: float
    test: str
    alternative: str
    ns: tuple[int, ...]
    exact: tuple[float, ...]
    normal: tuple[float, ...]
    target: Optional[float] = None
    original_n: Optional[int] = None
    ratio: float = 1.0

    _measure = "power (exact)"

    def _frame_rows(self, part: str = "") -> list:
        """One row per n: the exact power (``estimate``) at n per group (``n``, the treatment group's)."""
        return [{"part": part, "result": type(self).__name__, "term": self.label, "measure": self._measure,
                 "estimate": e, "ci_low": None, "ci_high": None, "statistic": None, "pvalue": None, "n": n}
                for n, e in zip(self.ns, self.exact)]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ns"], d["exact"], d["normal"] = list(self.ns), list(self.exact), list(self.normal)
        return d


def power_curve(p1: float, p2: float, ns, alpha: float = 0.05, test: str = "fisher",
                alternative: str = "two-sided", ratio: float = 1.0, label: str = "",
                target: Optional[float] = None, original_n: Optional[int] = None) -> PowerCurve:
    """Exact and normal-approximation power at every n in ``ns`` (NaN where not computed)."""
    ns = tuple(int(n) for n in ns)
    exact, normal = [], []
    for n in ns:
        r = power_two_proportions(p1, p2, n, _n2(n, ratio), alpha, test, alternative)
        exact.append(r.power)
        normal.append(r.power_normal)
    return PowerCurve(label or f"{pct(p1)} vs {pct(p2)}", p1, p2, alpha, test, alternative, ns,
                      tuple(exact), tuple(normal), target, original_n, ratio)


def plot_power_curves(curves, path, title: str = ""):
    """Power against n per group: exact (solid) and normal approximation (dashed) per curve,
    the target power (horizontal line) and the original n (dotted vertical line).  Saves a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = list(curves)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    marked: set = set()
    for i, c in enumerate(curves):
        col = colors[i % len(colors)]
        ax.plot(c.ns, c.exact, color=col, lw=1.6, label=f"{c.label}: exact ({TESTS[c.test].split(' (')[0]})")
        ax.plot(c.ns, c.normal, color=col, lw=1.2, ls="--", label=f"{c.label}: normal approximation (Cohen's h)")
        if c.original_n and c.original_n not in marked:
            marked.add(c.original_n)
            ax.axvline(c.original_n, color="0.4", ls=":", lw=1.2)
            ax.annotate(f"original n = {c.original_n}", (c.original_n, 0.02 + 0.06 * len(marked)), color="0.3",
                        xytext=(4, 0), textcoords="offset points", fontsize=8)
    target = next((c.target for c in curves if c.target is not None), None)
    if target is not None:
        ax.axhline(target, color="0.3", lw=1, ls="-.", label=f"target power {target:g}")
    ax.set_xlabel("n per group" + (" (treatment; pooled controls keep the original allocation)"
                                    if any(c.ratio != 1 for c in curves) else ""))
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    if curves:
        c0 = curves[0]
        ax.set_title(title or f"Power, α = {alpha_text(c0.alpha)}, {c0.alternative}")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
