"""Group-sequential designs: Lan-DeMets alpha spending, z boundaries, and exact regions for two binomials.

**Spending functions** (Lan & DeMets, 1983), cumulative type I error spent at information
fraction ``t`` in (0, 1], for a one-sided level ``a``:

* ``obrien-fleming``: ``a(t) = 2 (1 - Φ(z_{1-a/2} / √t))``;
* ``pocock``: ``a(t) = a · ln(1 + (e - 1) t)``.

A two-sided design at level α spends α/2 on each side with the one-sided function at
``a = α/2`` and symmetric boundaries, as rpact's ``getDesignGroupSequential(sided = 2,
typeOfDesign = "asOF" / "asP")``.  Looks are equally spaced (``t_k = k / K``).

**Boundaries on the z scale** are found by recursive numerical integration (Armitage,
McPherson & Rowe, 1969; Jennison & Turnbull, 2000, ch. 19): the sub-density of ``Z_k`` on the
paths that have not stopped is carried from look to look on a grid (composite Simpson's rule,
:data:`GRID` points over the continuation interval) with the independent-increments kernel
``Z_k √t_k = Z_{k-1} √t_{k-1} + N(0, t_k - t_{k-1})``; the boundary ``c_k`` solves
"probability of first crossing at look k = the alpha to spend at look k" (``brentq``).  The
values agree with rpact to 1e-6 (tests).

**Exact regions for two binomials** (:func:`exact_sequential`): at look ``k`` the groups hold
``n1_k = round(k n1 / K)`` and ``n2_k = round(k n2 / K)`` participants; the statistic is the
signed root of Pearson's χ² (no correction; ``analysis.power.exact._z_statistic``), and the
rejection region at look ``k`` is ``{|z| ≥ c*_k}`` (one-sided: ``z ≥ c*_k`` or ``z ≤ -c*_k``)
with the smallest ``c*_k`` such that the exact probability under H0 of rejecting at or before
look ``k`` is at most the spending function ``α(t_k)`` for **every** common rate π on a grid of
:data:`NUISANCE_GRID` rates in [.005, .995] (the nuisance parameter, as Barnard's test
maximises over it).  Probabilities are carried by enumeration: the counts at look ``k`` are
those at look ``k - 1`` plus independent binomial increments.  ``alpha_exact`` is the maximum
over the grid of that cumulative probability: never above the spending function.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from scipy import optimize, stats

from analysis.errors import AnalysisError
from analysis.format import alpha_text
from analysis.results import Result, frame_of

__all__ = ["SPENDING", "GRID", "NUISANCE_GRID", "spent", "GroupSequentialDesign", "boundaries",
           "ExactSequential", "exact_sequential", "sequential_sample_size", "InterimLook", "interim_look",
           "stagewise_p", "repeated_ci", "interim_result", "registered_look", "interim_lines", "look_lines"]

#: Spending functions and what they are.
SPENDING = {"obrien-fleming": "Lan-DeMets spending of O'Brien-Fleming type",
            "pocock": "Lan-DeMets spending of Pocock type"}
#: Grid points (odd: Simpson's rule) over the continuation interval of each look.
GRID = 2001
#: Common rates over which the exact alpha is maximised.
NUISANCE_GRID = 199
#: The columns a sequential design's frame has after :data:`analysis.results.FRAME_COLUMNS`.
_SEQ_EXTRA = ("information", "alpha_spent", "nominal_p")
_LOWER = -10.0          # one-sided: the continuation interval's lower end on the z scale


def _check(looks: int, alpha: float, spending: str, alternative: str) -> None:
    if isinstance(looks, bool) or not isinstance(looks, (int, np.integer)) or not 1 <= looks <= 20:
        raise AnalysisError(f"--looks {looks!r}: give a whole number of looks from 1 to 20")
    if not 0 < alpha < 1:
        raise AnalysisError(f"--alpha {alpha!r}: must be between 0 and 1")
    if spending not in SPENDING:
        raise AnalysisError(f"--spending {spending!r}: not one of {', '.join(SPENDING)}")
    if alternative not in ("two-sided", "greater", "less"):
        raise AnalysisError(f"--alternative {alternative!r}: not one of two-sided, greater, less")


def spent(t, alpha: float = 0.05, spending: str = "obrien-fleming", alternative: str = "two-sided"):
    """Cumulative alpha spent at information fraction(s) ``t`` (both sides together when two-sided).

    Examples
    --------
    >>> round(float(spent(0.5, 0.05, "obrien-fleming")), 7)    # rpact asOF, kMax = 2, sided = 2
    0.0030506
    >>> round(float(spent(1.0, 0.05, "pocock")), 6)
    0.05
    """
    t = np.asarray(t, dtype=float)
    a = alpha / 2 if alternative == "two-sided" else alpha
    if spending == "obrien-fleming":
        with np.errstate(divide="ignore"):
            one = 2 * stats.norm.sf(stats.norm.isf(a / 2) / np.sqrt(t))
    elif spending == "pocock":
        one = a * np.log1p((math.e - 1) * t)
    else:
        raise AnalysisError(f"spending {spending!r} is not one of {', '.join(SPENDING)}")
    return one * (2 if alternative == "two-sided" else 1)


def _simpson(a: float, b: float, m: int = GRID) -> tuple[np.ndarray, np.ndarray]:
    z = np.linspace(a, b, m)
    h = (b - a) / (m - 1)
    w = np.full(m, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    return z, w * h / 3


@dataclass(frozen=True)
class GroupSequentialDesign(Result):
    """Boundaries of a group-sequential design on the z scale (upper; two-sided designs are symmetric).

    ``critical`` holds ``c_k``: stop at look k and reject H0 when ``|Z_k| ≥ c_k`` (two-sided),
    ``Z_k ≥ c_k`` (``greater``) or ``Z_k ≤ -c_k`` (``less``).  ``alpha_spent`` is cumulative
    (both sides), ``alpha_look`` per look; ``nominal_p`` the p value each boundary corresponds to.

    A :class:`~analysis.results.Result` without a test of data (``statistic``, ``pvalue``,
    ``ci_low``, ``ci_high`` are None); ``to_frame()`` has one row per look (``estimate``: the
    boundary ``c_k``), with the columns ``information``, ``alpha_spent`` and ``nominal_p`` after
    the common ones.
    """

    _measure = "critical z (boundary)"

    looks: int
    alpha: float
    spending: str
    alternative: str
    information: tuple[float, ...]
    critical: tuple[float, ...]
    alpha_spent: tuple[float, ...]
    alpha_look: tuple[float, ...]
    nominal_p: tuple[float, ...]
    method: str = ("Lan-DeMets alpha spending; boundaries by recursive numerical integration (Armitage, "
                   "McPherson & Rowe, 1969), Simpson's rule on a grid of 2001 points per look")

    def _frame_rows(self, part: str = "") -> list:
        """One row per look: the boundary (``estimate``), information, cumulative alpha, nominal p."""
        return [{"part": part, "result": type(self).__name__, "term": f"look {k + 1}", "measure": self._measure,
                 "estimate": c, "ci_low": None, "ci_high": None, "statistic": None, "pvalue": None, "n": None,
                 "information": t, "alpha_spent": a, "nominal_p": p}
                for k, (c, t, a, p) in enumerate(zip(self.critical, self.information, self.alpha_spent,
                                                      self.nominal_p))]

    def to_frame(self) -> "pd.DataFrame":
        """One row per look (see the class docstring).

        Examples
        --------
        >>> boundaries(3, 0.05).to_frame()[["term", "estimate"]].round(4)   # rpact asOF, as boundaries()
             term  estimate
        0  look 1    3.7103
        1  look 2    2.5114
        2  look 3    1.9930
        """
        return frame_of(self._frame_rows(), _SEQ_EXTRA)

    def to_dict(self) -> dict:
        return {"looks": self.looks, "alpha": self.alpha, "spending": self.spending,
                "spending_function": SPENDING[self.spending], "alternative": self.alternative,
                "information": list(self.information), "critical_z": list(self.critical),
                "alpha_spent": list(self.alpha_spent), "alpha_look": list(self.alpha_look),
                "nominal_p": list(self.nominal_p), "method": self.method}

    def __str__(self) -> str:
        from analysis.format import format_number

        cz = ", ".join(format_number(c, 3) for c in self.critical)
        return (f"{SPENDING[self.spending]}, {self.looks} equally spaced looks, {self.alternative}, "
                f"α = {alpha_text(self.alpha)}: z boundaries {cz}")


def boundaries(looks: int, alpha: float = 0.05, spending: str = "obrien-fleming",
               alternative: str = "two-sided") -> GroupSequentialDesign:
    """z boundaries of a Lan-DeMets group-sequential design with equally spaced looks.

    Parameters
    ----------
    looks : int
        Number of looks K (the last at full information).
    alpha : float
        Overall type I error (both sides together when two-sided).
    spending : {"obrien-fleming", "pocock"}
    alternative : {"two-sided", "greater", "less"}

    Examples
    --------
    >>> d = boundaries(3, 0.05, "obrien-fleming")     # rpact: 3.7103029, 2.5114275, 1.9930475
    >>> [round(c, 5) for c in d.critical]
    [3.7103, 2.51143, 1.99305]
    """
    _check(looks, alpha, spending, alternative)
    t = np.arange(1, looks + 1) / looks
    cum = spent(t, alpha, spending, alternative)
    per = np.diff(np.r_[0.0, cum])
    two = alternative == "two-sided"
    side = per / 2 if two else per
    crit = []
    f = w = z = None
    for k in range(looks):
        if k == 0:
            c = float(stats.norm.isf(side[0]))
        else:
            s = math.sqrt(t[k])
            sp = math.sqrt(t[k - 1])
            sd = math.sqrt(t[k] - t[k - 1])
            fw = f * w

            def exit_up(c):
                return float(fw @ stats.norm.sf((c * s - z * sp) / sd)) - side[k]

            c = float(optimize.brentq(exit_up, 0.0, 40.0, xtol=1e-12))
        crit.append(c)
        if k == looks - 1:
            break
        lo = -c if two else _LOWER
        znew, wnew = _simpson(lo, c)
        if k == 0:
            fnew = stats.norm.pdf(znew)
        else:
            kern = stats.norm.pdf((znew[:, None] * s - z[None, :] * sp) / sd) * (s / sd)
            fnew = kern @ (f * w)
        f, w, z = fnew, wnew, znew
    crit_t = tuple(crit)
    nominal = tuple(float((2 if two else 1) * stats.norm.sf(c)) for c in crit_t)
    return GroupSequentialDesign(looks, alpha, spending, alternative, tuple(float(x) for x in t), crit_t,
                                 tuple(float(x) for x in cum), tuple(float(x) for x in per), nominal)


# --------------------------------------------------------------------------- #
# Exact regions for two binomials
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ExactSequential(Result):
    """Exact rejection regions of a group-sequential comparison of two binomials (see the module docstring).

    A :class:`~analysis.results.Result` without a test of data (``statistic``, ``pvalue``,
    ``ci_low``, ``ci_high`` are None); ``to_frame()`` has one row per look (``estimate``: the
    exact critical |z|, ``n``: both groups at the look; ``alpha_spent`` the exact cumulative
    alpha), then the z-scale design's rows (part ``design``).
    """

    _measure = "exact critical z"

    design: GroupSequentialDesign
    n1: tuple[int, ...]
    n2: tuple[int, ...]
    critical_exact: tuple[float, ...]
    alpha_exact: tuple[float, ...]
    regions: tuple[tuple[dict, ...], ...] = field(repr=False, default=())
    p1: Optional[float] = None
    p2: Optional[float] = None
    power: Optional[float] = None
    stop_h0: tuple[float, ...] = ()
    stop_h1: tuple[float, ...] = ()
    expected_n_h0: Optional[float] = None
    expected_n_h1: Optional[float] = None

    @property
    def max_n(self) -> int:
        """The total N at the last look."""
        return self.n1[-1] + self.n2[-1]

    @property
    def alpha_exact_look(self) -> tuple[float, ...]:
        """The increments of :attr:`alpha_exact` (per look)."""
        return tuple(float(x) for x in np.diff(np.r_[0.0, self.alpha_exact]))

    def _frame_rows(self, part: str = "") -> list:
        """One row per look (exact boundary, N at the look, exact cumulative alpha), then the design's."""
        stop = self.stop_h1 or (None,) * len(self.n1)
        rows = [{"part": part, "result": type(self).__name__, "term": f"look {k + 1}", "measure": self._measure,
                 "estimate": c, "ci_low": None, "ci_high": None, "statistic": None, "pvalue": None, "n": a + b,
                 "information": self.design.information[k], "alpha_spent": al, "stop_probability_h1": st}
                for k, (c, a, b, al, st) in enumerate(zip(self.critical_exact, self.n1, self.n2, self.alpha_exact,
                                                          stop))]
        return rows + self.design._frame_rows(f"{part}.design" if part else "design")

    def to_frame(self) -> "pd.DataFrame":
        """One row per look, then the design's (see the class docstring).

        Examples
        --------
        >>> f = exact_sequential(20, 20, 2).to_frame()
        >>> list(f["part"]), list(f["n"])[:2] == [20, 40]
        (['', '', 'design', 'design'], True)
        """
        return frame_of(self._frame_rows(), _SEQ_EXTRA + ("stop_probability_h1",))

    def to_dict(self) -> dict:
        return {"boundaries": self.design.to_dict(), "n1": list(self.n1), "n2": list(self.n2),
                "n_total": [a + b for a, b in zip(self.n1, self.n2)], "critical_z_exact": list(self.critical_exact),
                "alpha_exact": list(self.alpha_exact), "alpha_exact_look": list(self.alpha_exact_look),
                "rejection_regions": [list(r) for r in self.regions], "p1": self.p1, "p2": self.p2,
                "power": self.power, "stop_probability_h0": list(self.stop_h0),
                "stop_probability_h1": list(self.stop_h1), "max_n": self.max_n,
                "expected_n_h0": self.expected_n_h0, "expected_n_h1": self.expected_n_h1,
                "method": ("exact: Pearson z (signed root of χ², no correction) at each look; region "
                           "{|z| ≥ c*} with the smallest c* keeping the exact cumulative alpha at or below the "
                           f"spending function for every common rate on a grid of {NUISANCE_GRID} in [.005, .995]")}


def _look_sizes(n1: int, n2: int, looks: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    a = tuple(max(1, int(round(k * n1 / looks))) for k in range(1, looks + 1))
    b = tuple(max(1, int(round(k * n2 / looks))) for k in range(1, looks + 1))
    return a, b


def _transition(n_from: int, n_to: int, rates: np.ndarray) -> np.ndarray:
    """B[g, i, j] = P(count j at n_to | count i at n_from) under rate g (binomial increment)."""
    d = n_to - n_from
    inc = stats.binom.pmf(np.arange(d + 1)[None, :], d, rates[:, None])          # (G, d+1)
    out = np.zeros((rates.size, n_from + 1, n_to + 1))
    for i in range(n_from + 1):
        out[:, i, i:i + d + 1] = inc
    return out


def _advance(P, k: int, n1s, n2s, r1, r2):
    """The joint distribution of the two arms' counts at look ``k`` (one per rate pair of the grid),
    from look ``k - 1``'s (``P``, still undecided paths) or, at the first look, from the start."""
    a, b = n1s[k], n2s[k]
    if k == 0:
        return _start(a, r1)[:, :, None] * _start(b, r2)[:, None, :]
    P = np.einsum("gia,gij->gaj", _transition(n1s[k - 1], a, r1), P)
    return np.einsum("gaj,gjb->gab", P, _transition(n2s[k - 1], b, r2))


def _start(n: int, rates: np.ndarray) -> np.ndarray:
    return stats.binom.pmf(np.arange(n + 1)[None, :], n, rates[:, None])


def _signed(z: np.ndarray, alternative: str) -> np.ndarray:
    s = np.abs(z) if alternative == "two-sided" else (z if alternative == "greater" else -z)
    return np.nan_to_num(s, nan=-np.inf)


def _region_rows(reject: np.ndarray) -> tuple[dict, ...]:
    rows = []
    for k2 in range(reject.shape[1]):
        hit = np.nonzero(reject[:, k2])[0]
        if hit.size:
            rows.append({"k2": int(k2), "k1": [int(x) for x in hit]} if hit.size != hit[-1] - hit[0] + 1
                        else {"k2": int(k2), "k1_from": int(hit[0]), "k1_to": int(hit[-1])})
    return tuple(rows)


def _choose(stat: np.ndarray, mass: np.ndarray, prev: np.ndarray, budget: float) -> float:
    """Smallest critical value whose rejection mass keeps prev + mass ≤ budget for every rate."""
    flat = stat.ravel()
    order = np.argsort(-flat, kind="stable")
    s = flat[order]
    ok = np.isfinite(s)
    order, s = order[ok], s[ok]
    if s.size == 0:
        return math.inf
    new = np.ones(s.size, dtype=bool)
    new[1:] = s[1:] < s[:-1] - 1e-9 * np.abs(s[:-1])
    ends = np.r_[np.nonzero(new)[0][1:], s.size] - 1
    cum = np.cumsum(mass.reshape(mass.shape[0], -1)[:, order], axis=1)[:, ends]     # (G, groups)
    allowed = np.all(prev[:, None] + cum <= budget * (1 + 1e-12), axis=0)
    bad = np.nonzero(~allowed)[0]
    last = (bad[0] - 1) if bad.size else ends.size - 1
    return float(s[ends[last]]) if last >= 0 else math.inf


def _propagate(n1s, n2s, r1: np.ndarray, r2: np.ndarray, stats_, crit):
    """Run the looks under rates (r1, r2) (arrays over G): probability of stopping at each look (G, K);
    ``stats_`` are the looks' statistics, computed by the caller."""
    G = r1.size
    stop = np.zeros((G, len(n1s)))
    P = None
    for k, (a, b) in enumerate(zip(n1s, n2s)):
        P = _advance(P, k, n1s, n2s, r1, r2)
        rej = stats_[k] >= crit[k] - 1e-12 if np.isfinite(crit[k]) else np.zeros(stats_[k].shape, bool)
        stop[:, k] = (P * rej[None]).sum(axis=(1, 2))
        P = P * (~rej)[None]
    return stop


def exact_sequential(n1: int, n2: int, looks: int, alpha: float = 0.05, spending: str = "obrien-fleming",
                     alternative: str = "two-sided", p1: Optional[float] = None,
                     p2: Optional[float] = None) -> ExactSequential:
    """Exact rejection regions, alpha spent, power and expected N of a group-sequential two-binomial design.

    Parameters
    ----------
    n1, n2 : int
        Participants per group at the last look (treatment, control).
    looks : int
        Equally spaced looks.
    p1, p2 : float, optional
        Rates under H1 (power, expected N under H1); H0's expected N is at the common rate p2.

    Examples
    --------
    >>> r = exact_sequential(20, 20, 2, p1=0.5, p2=0.2)
    >>> all(a <= s + 1e-12 for a, s in zip(r.alpha_exact, r.design.alpha_spent))
    True
    """
    from analysis.power.exact import _z_statistic

    d = boundaries(looks, alpha, spending, alternative)
    n1s, n2s = _look_sizes(int(n1), int(n2), looks)
    if min(n1s[0], n2s[0]) < 1 or any(b <= a for a, b in zip(n1s, n1s[1:])) or any(
            b <= a for a, b in zip(n2s, n2s[1:])):
        raise AnalysisError(f"n = {n1} and {n2} over {looks} looks: every look needs new participants in each group")
    grid = np.linspace(0.005, 0.995, NUISANCE_GRID)
    stat = [_signed(_z_statistic(a, b, False), alternative) for a, b in zip(n1s, n2s)]
    crit: list[float] = []
    prev = np.zeros(grid.size)
    P = None
    regions = []
    for k, (a, b) in enumerate(zip(n1s, n2s)):
        P = _advance(P, k, n1s, n2s, grid, grid)
        c = _choose(stat[k], P, prev, d.alpha_spent[k])
        crit.append(c)
        rej = stat[k] >= c - 1e-12 if np.isfinite(c) else np.zeros(stat[k].shape, bool)
        regions.append(_region_rows(rej))
        prev = prev + (P * rej[None]).sum(axis=(1, 2))
        P = P * (~rej)[None]
    alpha_exact = tuple(float(x) for x in np.maximum.accumulate(
        _cumulative_max(n1s, n2s, grid, stat, crit)))
    out = dict(design=d, n1=n1s, n2=n2s, critical_exact=tuple(crit), alpha_exact=alpha_exact,
               regions=tuple(regions))
    if p1 is not None and p2 is not None:
        ns = np.array([a + b for a, b in zip(n1s, n2s)], dtype=float)
        h0 = _propagate(n1s, n2s, np.array([p2]), np.array([p2]), stat, crit)[0]
        h1 = _propagate(n1s, n2s, np.array([p1]), np.array([p2]), stat, crit)[0]
        out.update(p1=p1, p2=p2, power=float(h1.sum()), stop_h0=tuple(float(x) for x in h0),
                   stop_h1=tuple(float(x) for x in h1), expected_n_h0=_expected_n(h0, ns),
                   expected_n_h1=_expected_n(h1, ns))
    return ExactSequential(**out)


def _cumulative_max(n1s, n2s, grid, stat, crit) -> np.ndarray:
    """max over the rate grid of the exact probability of rejecting at or before each look."""
    stop = _propagate(n1s, n2s, grid, grid, stat, crit)
    return np.cumsum(stop, axis=1).max(axis=0)


def _expected_n(stop: np.ndarray, ns: np.ndarray) -> float:
    """E[N]: each look's N times the probability of stopping there; the last look takes the rest."""
    p = stop.copy()
    p[-1] = 1 - p[:-1].sum()
    return float(p @ ns)


def sequential_sample_size(p1: float, p2: float, target: float = 0.8, looks: int = 3, alpha: float = 0.05,
                           spending: str = "obrien-fleming", alternative: str = "two-sided", ratio: float = 1.0,
                           n_start: int = 2, n_max: int = 1000) -> Optional[ExactSequential]:
    """The first n per treatment group (control ``ceil(ratio · n)``) at the last look whose exact
    power reaches ``target``, scanning upward from ``n_start``; None if not reached by ``n_max``.

    Examples
    --------
    >>> r = sequential_sample_size(0.6, 0.2, 0.8, looks=2, n_start=20)
    >>> r.power >= 0.8 and r.n1[-1] >= 20
    True
    """
    from analysis.power.exact import _n2

    n = max(int(n_start), looks)
    while n <= n_max:
        try:
            r = exact_sequential(n, _n2(n, ratio), looks, alpha, spending, alternative, p1, p2)
        except AnalysisError:
            n += 1
            continue
        if r.power >= target:
            return r
        n += 1
    return None


# --------------------------------------------------------------------------- #
# An interim look at data collected under a sequential plan
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class InterimLook(Result):
    """Which look the data are, the boundary there, and the decision (stop or continue).

    ``z`` (the common ``statistic``) is the signed Pearson z of the registered contrast;
    ``critical`` the look's exact boundary, ``critical_normal`` the z-scale one.  At a stop,
    :func:`interim_result` fills ``pvalue`` (adjusted for the looks by stage-wise ordering,
    :func:`stagewise_p`) and ``ci_low``/``ci_high`` (the repeated confidence interval of the
    risk difference, :func:`repeated_ci`); they are None while the study continues.
    """

    _aliases = {"statistic": "z", "estimate": "risk_difference", "term": "contrast"}
    _measure = "risk difference"

    look: int
    looks: int
    n1: int
    n2: int
    planned_n1: int
    planned_n2: int
    z: float
    critical: float
    critical_normal: float
    decision: str
    notes: tuple[str, ...] = ()
    contrast: str = ""
    risk_difference: Optional[float] = None
    pvalue: Optional[float] = None
    ci_low: Optional[float] = None
    ci_high: Optional[float] = None

    def __str__(self) -> str:
        from analysis.format import format_number

        return (f"look {self.look} of {self.looks} (n = {self.n1} and {self.n2}; planned {self.planned_n1} and "
                f"{self.planned_n2}): z = {format_number(self.z, 3)}, exact boundary |z| ≥ "
                f"{format_number(self.critical, 3)} (normal {format_number(self.critical_normal, 3)}): {self.decision}")

    def to_dict(self) -> dict:
        from dataclasses import asdict

        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


def interim_look(plan: ExactSequential, x1: int, n1: int, x2: int, n2: int) -> InterimLook:
    """The look the data (``x1`` of ``n1`` treated complied, ``x2`` of ``n2`` controls) are under ``plan``.

    The look is the last planned look whose group sizes the data have reached; the statistic
    is the signed Pearson z of the data (as the plan's exact regions); the decision is
    ``stop: reject H0`` when it is in the look's exact rejection region, ``stop: final look, H0
    not rejected`` at the last look, else ``continue``.

    Examples
    --------
    >>> plan = exact_sequential(20, 20, 2)
    >>> interim_look(plan, 9, 10, 1, 10).decision
    'stop: reject H0'
    >>> interim_look(plan, 5, 10, 4, 10).decision
    'continue'
    """
    from analysis.power.exact import _z_statistic

    reached = [k for k, (a, b) in enumerate(zip(plan.n1, plan.n2)) if n1 >= a and n2 >= b]
    if not reached:
        raise AnalysisError(f"n = {n1} and {n2}: the first look is planned at {plan.n1[0]} and {plan.n2[0]}")
    k = reached[-1]
    notes = []
    if (n1, n2) != (plan.n1[k], plan.n2[k]):
        notes.append(f"the data ({n1} and {n2}) are not the planned look's n ({plan.n1[k]} and {plan.n2[k]})")
    z = float(_z_statistic(n1, n2, False)[x1, x2])
    alt = plan.design.alternative
    s = abs(z) if alt == "two-sided" else (z if alt == "greater" else -z)
    crit = plan.critical_exact[k]
    if not math.isnan(s) and s >= crit - 1e-12:
        decision = "stop: reject H0"
    elif k == plan.design.looks - 1:
        decision = "stop: final look, H0 not rejected"
    else:
        decision = "continue"
    return InterimLook(k + 1, plan.design.looks, n1, n2, plan.n1[k], plan.n2[k], z, crit, plan.design.critical[k],
                       decision, tuple(notes), risk_difference=x1 / n1 - x2 / n2)


def _exit_probabilities(t, crit, two: bool) -> list[float]:
    """P(first crossing at look k) under H0 (both sides when ``two``), by the recursion of :func:`boundaries`."""
    out = []
    f = w = z = None
    for k, c in enumerate(crit):
        if k == 0:
            up = float(stats.norm.sf(c))
        else:
            s, sp, sd = math.sqrt(t[k]), math.sqrt(t[k - 1]), math.sqrt(t[k] - t[k - 1])
            up = float((f * w) @ stats.norm.sf((c * s - z * sp) / sd))
        out.append(2 * up if two else up)
        if k == len(crit) - 1:
            break
        znew, wnew = _simpson(-c if two else _LOWER, c)
        if k == 0:
            fnew = stats.norm.pdf(znew)
        else:
            fnew = (stats.norm.pdf((znew[:, None] * s - z[None, :] * sp) / sd) * (s / sd)) @ (f * w)
        f, w, z = fnew, wnew, znew
    return out


def stagewise_p(design: GroupSequentialDesign, look: int, z: float) -> float:
    """The p value adjusted for the looks, by stage-wise ordering (Armitage; Fairbanks & Madsen, 1982;
    Tsiatis, Rosner & Mehta, 1984): the H0 probability of stopping earlier, or at ``look`` with a
    statistic at least as extreme as ``z``.  Equals the nominal p value when ``look`` is 1.

    Examples
    --------
    >>> d = boundaries(3, 0.05, "obrien-fleming")
    >>> round(stagewise_p(d, 1, 3.8), 6) == round(2 * float(stats.norm.sf(3.8)), 6)
    True
    >>> stagewise_p(d, 3, d.critical[2]) <= 0.05 + 1e-9
    True
    """
    two = design.alternative == "two-sided"
    s = abs(z) if two else (z if design.alternative == "greater" else -z)
    crit = list(design.critical[:look - 1]) + [s]
    return float(min(1.0, sum(_exit_probabilities(design.information, crit, two))))


def repeated_ci(design: GroupSequentialDesign, look: int, x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Repeated confidence interval of the risk difference at ``look`` (Jennison & Turnbull, 1989):
    ``p̂1 - p̂2 ± c_k · SE`` with the look's two-sided boundary ``c_k`` and the unpooled Wald SE
    (:func:`analysis.stats.effects.risk_difference`, raw proportions).

    Examples
    --------
    >>> d = boundaries(2, 0.05, "pocock")
    >>> lo, hi = repeated_ci(d, 2, 30, 50, 15, 50)
    >>> round(lo, 3), round(hi, 3)
    (0.091, 0.509)
    """
    from analysis.stats.effects import risk_difference

    e = risk_difference(x1, n1, x2, n2, corrected_cells=False)
    c = design.critical[look - 1] if design.alternative == "two-sided" else boundaries(
        design.looks, 2 * design.alpha, design.spending, "two-sided").critical[look - 1]
    half = c * math.sqrt(e.vi)
    return e.yi - half, e.yi + half


def _registered(facts: dict, analysis, source: str):
    """The registered sequential plan (exact regions) and the registered contrast of ``analysis``."""
    s = facts["sequential"]
    plan = exact_sequential(s["n1"][-1], s["n2"][-1], s["looks"], s["alpha"], s["spending"], s["alternative"])
    k = next((c for c in analysis.contrasts if c.label == s["contrast"]), None)
    if k is None:
        raise AnalysisError(f"{source}: the registered contrast {s['contrast']!r} is not in the data's analysis")
    return plan, k


def interim_result(facts: dict, analysis, source: str) -> Optional[InterimLook]:
    """``analyze --interim`` as a result: the look, its boundary and the decision; at a stop, the p value
    adjusted for the looks (stage-wise ordering, :func:`stagewise_p`) and the repeated CI of the risk
    difference (:func:`repeated_ci`).  None when the registration has no sequential plan.

    ``facts`` is a pre-registration's facts block (``compliance preregister``) and ``analysis`` the
    experiment's :class:`~analysis.results.ExperimentAnalysis`.

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> facts = {"sequential": {"looks": 2, "spending": "pocock", "alternative": "two-sided", "alpha": 0.05,
    ...          "n1": [10, 20], "n2": [10, 20], "contrast": "a vs b"}}
    >>> k = NS(label="a vs b", complied_treatment=9, n_treatment=10, complied_control=1, n_control=10)
    >>> r = interim_result(facts, NS(contrasts=(k,)), "prereg.md")
    >>> r.decision, r.contrast, round(r.risk_difference, 2), r.pvalue < 0.05, r.ci_low > 0
    ('stop: reject H0', 'a vs b', 0.8, True, True)
    """
    return registered_look(facts, analysis, source)[1]


def registered_look(facts: dict, analysis, source: str):
    """(the registered plan with its exact regions, the look of :func:`interim_result`); (None, None)
    without a sequential plan.  The plan is computed once here (at a few hundred per group it takes
    seconds): a caller that needs it too takes it from here.

    Examples
    --------
    >>> registered_look({}, None, "prereg.md")
    (None, None)
    """
    from dataclasses import replace

    if not facts.get("sequential"):
        return None, None
    plan, k = _registered(facts, analysis, source)
    look = interim_look(plan, k.complied_treatment, k.n_treatment, k.complied_control, k.n_control)
    look = replace(look, contrast=k.label)
    if not look.decision.startswith("stop"):
        return plan, look
    lo, hi = repeated_ci(plan.design, look.look, k.complied_treatment, k.n_treatment, k.complied_control,
                         k.n_control)
    return plan, replace(look, pvalue=stagewise_p(plan.design, look.look, look.z), ci_low=lo, ci_high=hi)


def interim_lines(facts: dict, analysis, source: str) -> list[str]:
    """``analyze --interim``: which look the data are, the boundary, stop or continue, in one line; at the
    end (a stop), the p value (stage-wise ordering) and the repeated CI adjusted for the looks
    (the text of :func:`interim_result`).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> facts = {"sequential": {"looks": 2, "spending": "pocock", "alternative": "two-sided", "alpha": 0.05,
    ...          "n1": [10, 20], "n2": [10, 20], "contrast": "a vs b"}}
    >>> k = NS(label="a vs b", complied_treatment=9, n_treatment=10, complied_control=1, n_control=10)
    >>> interim_lines(facts, NS(contrasts=(k,)), "prereg.md")[0].endswith("stop: reject H0")
    True
    """
    return look_lines(interim_result(facts, analysis, source), source)


def look_lines(look: Optional[InterimLook], source: str) -> list[str]:
    """The lines of :func:`interim_lines` for a look already taken (None: a fixed-N registration).

    Examples
    --------
    >>> look_lines(None, "prereg.md")
    ['interim: prereg.md registers no sequential plan (fixed N): no interim decision to make']
    """
    from analysis.format import format_number, format_p

    if look is None:
        return [f"interim: {source} registers no sequential plan (fixed N): no interim decision to make"]
    lines = [f"interim ({source}; {look.contrast}): {look}"] + [f"  note: {n}" for n in look.notes]
    if look.pvalue is not None:
        lines.append(f"  adjusted for {look.look} of {look.looks} looks: {format_p(look.pvalue)} (stage-wise "
                     f"ordering); risk difference {format_number(look.risk_difference)} "
                     f"[{format_number(look.ci_low)}, {format_number(look.ci_high)}] (repeated confidence interval)")
    return lines
