"""The simulated plans' tests on sufficient statistics, for simulated power.

:mod:`analysis.power.simulated` analyses thousands of simulated data sets.  The row-level
analyses (:func:`analysis.stats.factorial.technique_by_price`,
:func:`analysis.stats.counts.analyze_count_plan`) build a DataFrame and fit statsmodels
models on every participant; the tests the simulation counts depend on the data only
through a few cell statistics, and are computed here from them, with the same estimators:

* **Factorial logistic plan** (``complied ~ treatment * moderator + covariate``): the
  binomial GLM on the cells' counts (complied k of m analysed, one row per treatment ×
  moderator × covariate cell) has the same likelihood as the Bernoulli model on the rows
  (up to a constant), so the same ML estimates, Wald covariance and z tests.  Fitted by
  Newton-Raphson (the method the row-level fit pins), to a step below 1e-12.
* **Count plan**: the t test of unweighted marginal means needs each cell's n, sum and
  within-cell sum of squares; the negative-binomial (NB2) rate ratio of the cell-means model
  has ML cell means equal to the cell averages for every dispersion α, so α's profile score
  and the Wald covariance ``(1 + α μ_c) / (n_c μ_c)`` need only each cell's frequency table of
  the counts (the counts are capped, so the table is short); α is found exactly as
  :func:`analysis.stats.counts._nb2_profile` finds it (Dean-Lawless boundary test, then Brent
  on log α in [1e-4, 1e6], else the bounded maximum of the profile likelihood); the threshold
  measure is Fisher's exact test on its 2 × 2 table.

Where a data set leaves the regular case (a cell at rate 0 or 1: separation, Firth; an empty
cell; a cell without counts), an analyser returns ``None`` and the simulation analyses that
data set with the row-level function, so every data set gets the test the analysis of real
data would give it.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import scipy
from scipy import special

__all__: list[str] = []


def _wald_p(est: float, se: float) -> float:
    """Two-sided normal p of est / se (as ``2 * stats.norm.sf(abs(z))``)."""
    return float(2 * special.ndtr(-abs(est / se)))


class FactorialCells:
    """Wald tests of ``technique_by_price`` from the cell counts of one simulated data set.

    Built once per experiment: the cells (treatment × moderator × first covariate, as the
    row-level call passes them), the design on the cells, and the contrasts.  ``ok`` is
    False when the declaration is not the regular case (then the rows are always analysed).
    """

    def __init__(self, experiment):
        plan = experiment.plan
        facs = [plan.treatment_factor, plan.moderator] + list(plan.covariates[:1])
        keys = [tuple(str(c.factors.get(f, "")) for f in facs) for c in experiment.conditions]
        self.cells = list(dict.fromkeys(keys))
        self.index = np.array([self.cells.index(k) for k in keys])
        prices = sorted({k[1] for k in self.cells}, key=_num_or_str)
        techs = {k[0] for k in self.cells}
        self.ok = len(prices) == 2 and techs == {plan.treatment_level, plan.control_level}
        self.levels = list(dict.fromkeys(k[1] for k in keys))  # the simple effects, in declaration order
        if not self.ok:
            return
        ref, other = prices
        t = np.array([k[0] == plan.treatment_level for k in self.cells], dtype=float)
        p = np.array([k[1] == other for k in self.cells], dtype=float)
        cols = [np.ones(len(self.cells)), t, p, t * p]
        if len(facs) == 3:
            reasons = sorted({k[2] for k in self.cells})
            cols += [np.array([k[2] == r for k in self.cells], dtype=float) for r in reasons[1:]]
        self.X = np.column_stack(cols)
        self.ok = np.linalg.matrix_rank(self.X) == self.X.shape[1]
        # the margins technique_by_price checks for a rate of 0 or 1 before it tries the fit
        self.margins = [np.array([sorted({c[:2] for c in self.cells}).index(c[:2]) for c in self.cells])]
        if len(facs) == 3:
            self.margins.append(np.array([reasons.index(c[2]) for c in self.cells]))
        self.simple = {ref: np.eye(self.X.shape[1])[1], other: np.eye(self.X.shape[1])[1] + np.eye(self.X.shape[1])[3]}

    def counts(self, draws: list[dict]) -> tuple[np.ndarray, np.ndarray]:
        """(complied, analysed) per cell, from the drawn arrays of each condition."""
        k = np.zeros(len(self.cells))
        m = np.zeros(len(self.cells))
        for i, dr in zip(self.index, draws):
            keep = ~dr["excluded"]
            k[i] += np.count_nonzero(dr["complied"] & keep)
            m[i] += np.count_nonzero(keep)
        return k, m

    def _separated(self, k: np.ndarray, m: np.ndarray) -> bool:
        """Whether the ML estimate may not exist, decided as technique_by_price decides it: a
        technique × price cell or a covariate level at rate 0 or 1, or a direction the linear
        programme finds (:func:`analysis.stats.factorial._separated_rows`) on the cells."""
        from analysis.stats.factorial import _separated_rows

        for g in self.margins:
            kk, mm = np.bincount(g, weights=k), np.bincount(g, weights=m)
            if np.any((kk == 0) | (kk == mm)):
                return True
        return bool(_separated_rows(self.X, k, m).any())

    def __call__(self, draws: list[dict]) -> Optional[list[float]]:
        """[interaction p, simple-effect p at each moderator level], or None outside the regular case."""
        if not self.ok:
            return None
        k, m = self.counts(draws)
        if np.any(m == 0) or ((k == 0) | (k == m)).any() and self._separated(k, m):
            return None  # separation (or an empty cell): the rows, with the ML limit, Firth and LR tests
        return self._pvalues(k[None], m[None])[0]


    def many(self, draws_list: list) -> list:
        """``[self(d) for d in draws_list]``, the regular data sets fitted together
        (:func:`_logit_cells_many`: the same Newton-Raphson on every data set at once)."""
        if not self.ok or not draws_list:
            return [self(d) for d in draws_list]
        km = [self.counts(d) for d in draws_list]
        K, M = np.array([k for k, _ in km]), np.array([m for _, m in km])
        out = [None] * len(draws_list)
        regular = (M > 0).all(axis=1) & ~((K == 0) | (K == M)).any(axis=1)
        idx = np.flatnonzero(regular)
        if len(idx):
            for i, p in zip(idx, self._pvalues(K[idx], M[idx])):
                out[i] = p
        return [out[i] if regular[i] else self(d) for i, d in enumerate(draws_list)]

    def _pvalues(self, K: np.ndarray, M: np.ndarray) -> list:
        """Per row of K and M (data sets × cells): [interaction p, simple-effect p at each moderator
        level] from the binomial GLM on the cells (:func:`_logit_cells_many`), None where it fails."""
        beta, cov, fine = _logit_cells_many(self.X, K, M)
        with np.errstate(invalid="ignore"):      # a failed fit's covariance: its row is None below
            cols = [np.abs(beta[:, 3] / np.sqrt(cov[:, 3, 3]))]
            for lv in self.levels:
                L = self.simple[lv]
                cols.append(np.abs(beta @ L / np.sqrt(np.einsum("i,rij,j->r", L, cov, L))))
        p = 2 * special.ndtr(-np.column_stack(cols))
        return [[float(x) for x in p[j]] if fine[j] else None for j in range(len(K))]


def _logit_cells_many(X: np.ndarray, K: np.ndarray, M: np.ndarray, maxiter: int = 100):
    """Binomial-logit ML on cell counts by Newton-Raphson (the method the row-level fit pins), on the
    rows of K and M (data sets × cells) at once: (beta, covariance, converged and finite).

    Each starts from its cells' empirical logits (½ added to a cell at 0 or 1) projected on the
    design (weighted by the cells' information), within a few steps of the ML, and steps until its
    own step is below 1e-12; it is then left as it is."""
    w = (K + 0.5) * (M - K + 0.5) / (M + 1)
    emp = np.log((K + 0.5) / (M - K + 0.5))
    beta = np.linalg.solve(np.einsum("rc,ci,cj->rij", w, X, X), np.einsum("rc,ci->ri", w * emp, X)[..., None])[..., 0]
    active = np.ones(len(K), dtype=bool)
    for _ in range(maxiter):
        b, k, m = beta[active], K[active], M[active]
        pi = special.expit(b @ X.T)
        info = np.einsum("rc,ci,cj->rij", m * pi * (1 - pi), X, X)
        step = np.linalg.solve(info, ((k - m * pi) @ X)[..., None])[..., 0]
        beta[active] = b + step
        still = np.flatnonzero(active)[np.max(np.abs(step), axis=1) >= 1e-12]
        active[:] = False
        active[still] = True
        if not active.any():
            break
    pi = special.expit(beta @ X.T)
    cov = np.linalg.inv(np.einsum("rc,ci,cj->rij", M * pi * (1 - pi), X, X))
    return beta, cov, ~active & np.isfinite(cov).all(axis=(1, 2))


def _num_or_str(v: str):
    try:
        return (0, float(v), "")
    except ValueError:
        return (1, 0.0, v)


class CountCells:
    """The count plan's simulated tests from each cell's frequency table of the counts.

    The cells are the two plan factors' level pairs; the tests, in the order
    :mod:`analysis.power.simulated` names them: per contrast on the first factor, the t test of
    unweighted marginal means and the NB2 rate ratio; then the threshold measure's Fisher test.
    """

    def __init__(self, experiment, contrasts, max_count: int, want: Optional[int] = None):
        plan = experiment.plan
        a, b = plan.factors
        keys = [(str(c.factors[a]), str(c.factors[b])) for c in experiment.conditions]
        self.cells = list(dict.fromkeys(keys))
        self.index = np.array([self.cells.index(k) for k in keys])
        self.values = np.arange(max_count + 1, dtype=float)
        self.weights = []
        for k in contrasts:
            t = [i for i, c in enumerate(self.cells) if c[0] == k.treatment]
            ctl = [i for i, c in enumerate(self.cells) if c[0] in k.control]
            w = np.zeros(len(self.cells))
            w[t], w[ctl] = 1 / max(len(t), 1), -1 / max(len(ctl), 1)
            self.weights.append((w, bool(t) and bool(ctl)))
        self.threshold = None
        if plan.threshold is not None and plan.threshold_contrast is not None:
            t0, ctrl = plan.threshold_contrast
            self.threshold = (int(plan.threshold), np.array([c[0] == t0 for c in self.cells]),
                              np.array([c[0] in tuple(ctrl) for c in self.cells]))
        self.has_threshold = plan.threshold_contrast is not None
        # which tests to compute (the others are NaN): all, or only test ``want`` (a sample-size
        # search needs one; the rate ratio's dispersion and Fisher's test cost the most)
        n_tests = 2 * len(self.weights) + self.has_threshold
        self.need = [want is None or want == j for j in range(n_tests)]

    def table(self, draws: list[dict]) -> np.ndarray:
        """Cells × counts 0..max: how many analysed participants had each count."""
        h = np.zeros((len(self.cells), len(self.values)))
        for i, dr in zip(self.index, draws):
            keep = ~(dr["excluded"] | dr["withdrawn"])
            h[i] += np.bincount(dr["tickets"][keep], minlength=len(self.values))
        return h

    def __call__(self, draws: list[dict]) -> Optional[list[float]]:
        h = self.table(draws)
        n = h.sum(axis=1)
        s = h @ self.values
        if np.any(n < 1) or np.any(s <= 0) or not all(ok for _, ok in self.weights):
            return None
        mean = s / n
        ss = float(np.sum(h * (self.values[None, :] - mean[:, None]) ** 2))
        yy = float(np.sum(h @ self.values ** 2))
        dfe = float(n.sum() - len(self.cells))
        if dfe <= 0 or ss <= 1e-10 * max(1.0, yy):
            return None
        need = self.need
        var_log = None
        if any(need[1:2 * len(self.weights):2]):
            alpha = _nb2_alpha_cells(h, self.values, mean)
            var_log = (1 + alpha * mean) / (n * mean)
        mse = ss / dfe
        out = []
        for i, (w, _) in enumerate(self.weights):
            p_t = p_rr = math.nan
            if need[2 * i]:
                se = math.sqrt(mse * float(np.sum(w ** 2 / n)))
                t = float(w @ mean) / se
                p_t = float(2 * special.stdtr(dfe, -abs(t)))
            if need[2 * i + 1]:
                e, s_rr = float(w @ np.log(mean)), math.sqrt(float(np.sum(w ** 2 * var_log)))
                p_rr = _wald_p(e, s_rr) if s_rr > 0 else math.nan
            out += [p_t, p_rr]
        if self.has_threshold:
            out.append(self._fisher(h, n) if self.threshold is not None and need[-1] else math.nan)
        return out

    def many(self, draws_list: list) -> list:
        """``[self(d) for d in draws_list]`` (each data set's tables are its own; as
        :meth:`FactorialCells.many` for the simulation's one call)."""
        return [self(d) for d in draws_list]

    def _fisher(self, h: np.ndarray, n: np.ndarray) -> float:
        thr, t, c = self.threshold
        above = h[:, self.values > thr].sum(axis=1)
        k1, n1, k2, n2 = int(above[t].sum()), int(n[t].sum()), int(above[c].sum()), int(n[c].sum())
        return float(scipy.stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)


def _nb2_alpha_cells(h: np.ndarray, values: np.ndarray, mean: np.ndarray) -> float:
    """NB2 dispersion of the cell-means model by profile likelihood, from the frequency tables.

    The same search as :func:`analysis.stats.counts._nb2_profile` (``ci=False``); 0 where
    the model is the Poisson model (no overdispersion: the boundary).
    """
    from scipy.optimize import brentq, minimize_scalar

    from analysis.stats.counts import _ALPHA_HI, _ALPHA_LO

    ci, vi = np.nonzero(h)
    w, y, mu = h[ci, vi], values[vi], mean[ci]

    def score(log_alpha):
        al = math.exp(log_alpha)
        th = 1.0 / al
        d = np.sum(w * (special.digamma(th + y) - special.digamma(th) + math.log(th) + 1 - np.log(th + mu)
                        - (y + th) / (mu + th)))
        return float(-d / al ** 2)

    def llf(al):
        return float(np.sum(w * (y * np.log(al * mu / (1 + al * mu)) - np.log1p(al * mu) / al
                                 + special.gammaln(y + 1 / al) - special.gammaln(1 / al) - special.gammaln(y + 1))))

    if 0.5 * float(np.sum(w * ((y - mu) ** 2 - y))) <= 0:   # Dean-Lawless: no overdispersion
        return 0.0
    lo_bracket = 1e-4
    if score(math.log(_ALPHA_HI)) > 0:
        alpha = _ALPHA_HI
    elif score(math.log(lo_bracket)) > 0:
        alpha = math.exp(brentq(score, math.log(lo_bracket), math.log(_ALPHA_HI), xtol=1e-13, rtol=1e-13,
                                maxiter=200))
    else:
        r = minimize_scalar(lambda la: -llf(math.exp(la)), method="bounded",
                            bounds=(math.log(_ALPHA_LO), math.log(lo_bracket)), options={"xatol": 1e-10})
        alpha = math.exp(float(r.x))
    poisson = float(np.sum(w * (y * np.log(mu) - mu - special.gammaln(y + 1))))
    return 0.0 if llf(alpha) < poisson else alpha
