"""Power of a multi-site replication of a binary contrast, by simulation (issue 26.5).

The question a Many-Labs-style team asks before it starts: with K sites of n per condition,
and an effect that varies between sites with SD τ on the log-odds-ratio scale, how often does
the pooled random-effects estimate reject OR = 1, and how wide is the prediction interval for
the effect at a new site?

One replicate is one whole replication, drawn as ``compliance simulate --site-sd`` draws its
sites (:func:`paradigms.engine.sessions.site_shifted`):

1. each of the K sites draws u ~ N(0, τ), added to the log odds of the treatment arm
   (the control arm is not shifted), so the site's log OR is the original's plus u;
2. each arm's complied count is binomial: x1 ~ Bin(n1, expit(logit p1 + u)), x2 ~ Bin(n2, p2);
3. each site's log OR and Woolf variance come from :func:`analysis.stats.effects.log_odds_ratio`
   (its zero-cell rule: 0.5 added to every cell of a table with a zero cell);
4. the K effects are pooled by :func:`analysis.meta.random.random_effects` with
   ``method="REML"`` and the Wald z test (``test="z"``): the pooling's headline method, the
   same function ``compliance pool`` runs;
5. the replicate rejects when the pooled z test's p value is at most α: two-sided, or one-sided
   in the design's direction (p = P(Z >= z) for ``greater``, P(Z <= z) for ``less``).

Power = rejections / simulations, with the Monte-Carlo SE √(power (1 − power) / simulations).
Each replicate's τ² estimate and the width of its prediction interval (on the log-OR scale:
``pi_high − pi_low``) are summarised too.  The site draws of a replicate are vectorised (one
array of K per step); replicate *i* draws from its own generator, ``SeedSequence(seed).spawn``'s
*i*-th child, so the result is identical for any ``jobs`` and on a Dask cluster (``scheduler``,
joblib's Dask backend, as :mod:`analysis.power.simulated`).

The rates, allocation, α and sidedness of a declared contrast come from
:func:`analysis.power.design.design_of`: the original's treatment and control rates, ``n``
participants in every declared condition (a side pooling two conditions has 2n per site), the
plan's α per test (after its declared correction: planning a replication uses that level) and
the original's sidedness.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from analysis.errors import AnalysisError
from analysis.format import alpha_text, pct
from analysis.results import Result, format_number

__all__ = ["MultisitePower", "MultisiteSampleSize", "multisite_power", "multisite_power_rates",
           "multisite_sample_size", "multisite_tables", "pool_sites"]

#: What each replicate records, in column order (see :func:`pool_sites`).
COLUMNS = ("estimate", "se", "statistic", "pvalue", "tau2", "pi_low", "pi_high", "converged", "corrected")

_SIMULATED = "SIMULATED"
_ALTERNATIVES = ("two-sided", "greater", "less")
_TESTS = ("z", "knha")
_TEST_NAMES = {"z": "z test", "knha": "Hartung-Knapp-Sidik-Jonkman t test"}


@dataclass(frozen=True)
class MultisitePower(Result):
    """Simulated power of a multi-site replication pooled by random effects (REML, Wald z).

    Attributes
    ----------
    study, experiment, contrast : the declared contrast (``None`` for rates given directly).
    p_treatment, p_control : float
        The rates drawn from (the original's, or given).
    log_or : float
        The true log odds ratio at the average site, logit(p_treatment) − logit(p_control).
    sites, n_per_condition, n_treatment, n_control : int
        K sites; n per declared condition; participants per arm at each site.
    tau : float
        Between-site SD of the log odds ratio drawn from.
    simulations, seed, alpha, alternative : the run.
    rejections, power, mc_se : the pooled test's rejections of OR = 1 and the power with its MC SE.
    tau2_mean, tau2_median, tau2_zero : the REML τ² estimates: mean, median, share at 0.
    estimate_mean : float
        Mean pooled log OR over the replicates.
    pi_width_mean, pi_width_median : float
        The prediction interval's width on the log-OR scale (``level``, 95% by default).
    nonconverged : int
        Replicates whose REML iterations did not converge (kept; their last τ² is used).
    corrected_tables : int
        Site tables (over all replicates) that took the zero-cell rule.
    """

    _aliases = {"estimate": "power", "term": "contrast", "n": "simulations"}
    _measure = "simulated power of the pooled random-effects test (REML, Wald z)"

    study: Optional[str]
    experiment: Optional[int]
    contrast: str
    p_treatment: float
    p_control: float
    log_or: float
    sites: int
    n_per_condition: int
    n_treatment: int
    n_control: int
    tau: float
    simulations: int
    seed: int
    alpha: float
    alternative: str
    rejections: int
    power: float
    mc_se: float
    tau2_mean: float
    tau2_median: float
    tau2_zero: float
    estimate_mean: float
    pi_width_mean: float
    pi_width_median: float
    nonconverged: int
    corrected_tables: int
    method: str = "REML"
    test: str = "z"
    level: float = 0.95
    data: str = _SIMULATED
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.study} Experiment {self.experiment}, " if self.study else ""
        pct = f"{self.level:.0%}"
        return (f"{self.data}: {where}{self.contrast}: {self.sites} sites of n = {self.n_per_condition} per "
                f"condition ({self.n_treatment} treatment, {self.n_control} control per site), OR = "
                f"{format_number(math.exp(self.log_or))} (rates {format_number(self.p_treatment, 3, leading_zero=False)}"
                f" vs {format_number(self.p_control, 3, leading_zero=False)}), τ = {self.tau:g} on the log-OR "
                f"scale\n  power = {format_number(self.power, 3, leading_zero=False)} (Monte-Carlo SE "
                f"{format_number(self.mc_se, 3, leading_zero=False)}; {self.rejections}/{self.simulations} "
                f"replications rejected OR = 1; {self.method} random effects, "
                f"{_TEST_NAMES.get(self.test, self.test)}, {self.alternative}, α = {alpha_text(self.alpha)}; "
                f"seed {self.seed})\n"
                f"  τ² estimated: mean {format_number(self.tau2_mean, 3)}, median "
                f"{format_number(self.tau2_median, 3)}, 0 in {format_number(100 * self.tau2_zero, 1)}% of "
                f"replications; {pct} prediction interval width (log OR): mean "
                f"{format_number(self.pi_width_mean)}, median {format_number(self.pi_width_median)}")

    def to_dict(self) -> dict:
        from dataclasses import fields

        from analysis.results import jsonable

        d = {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}
        d["odds_ratio"] = math.exp(self.log_or)
        d["apa"] = str(self)
        return d


# --------------------------------------------------------------------------- #
# One replicate: K site tables drawn, pooled
# --------------------------------------------------------------------------- #
def multisite_tables(p1: float, p2: float, n1: int, n2: int, sites: int, tau: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The complied counts (treatment ``x1``, control ``x2``) of one replication's K sites.

    Per site u ~ N(0, ``tau``) is added to the treatment arm's log odds; the draws are, in
    this order, the K values of u, the K treatment counts, the K control counts.

    Examples
    --------
    >>> x1, x2 = multisite_tables(0.5, 0.2, 40, 40, 5, 0.3, np.random.default_rng(1))
    >>> x1.shape, x2.shape, bool((x1 <= 40).all())
    ((5,), (5,), True)
    """
    u = rng.normal(0.0, tau, sites)
    logit = math.log(p1 / (1 - p1))
    p1s = 1.0 / (1.0 + np.exp(-(logit + u)))
    return rng.binomial(n1, p1s), rng.binomial(n2, p2, sites)


def pool_sites(x1, n1, x2, n2, level: float = 0.95, test: str = "z") -> list[float]:
    """One replication's sites pooled: the values of :data:`COLUMNS`.

    Each site's log OR and Woolf variance by :func:`analysis.stats.effects.log_odds_ratio`
    (zero-cell rule), pooled by :func:`analysis.meta.random.random_effects` (REML; Wald z, or
    ``test="knha"``: Hartung-Knapp-Sidik-Jonkman, t with K − 1 df).

    Examples
    --------
    >>> row = pool_sites([25, 20, 30, 18], 40, [12, 15, 10, 17], 40)
    >>> dict(zip(COLUMNS, row))["tau2"] > 0, len(row) == len(COLUMNS)
    (True, True)
    """
    from analysis.meta.random import random_effects
    from analysis.stats.effects import log_odds_ratio

    x1 = np.asarray(x1)
    eff = log_odds_ratio(x1, np.full(x1.shape, n1), np.asarray(x2), np.full(x1.shape, n2))
    r = random_effects(eff.yi, eff.vi, method="REML", test=test, level=level)
    return [r.estimate, r.se, r.statistic, r.pvalue, r.tau2, r.pi_low, r.pi_high, float(r.converged),
            float(np.sum(eff.corrected))]


def _replicate_block(p1, p2, n1, n2, sites, tau, seeds, level, test="z") -> list[list[float]]:
    out = []
    for s in seeds:
        x1, x2 = multisite_tables(p1, p2, n1, n2, sites, tau, np.random.default_rng(s))
        out.append(pool_sites(x1, n1, x2, n2, level, test))
    return out


def _run(p1, p2, n1, n2, sites, tau, simulations, seed, jobs, scheduler, level, progress, test="z") -> np.ndarray:
    """Every replicate's :data:`COLUMNS` (rows in replicate order), locally or on a Dask cluster, by the
    simulations' one runner (:func:`analysis.power.simulated.run_replicates`: replicate *i* draws from
    ``SeedSequence(seed).spawn(simulations)[i]`` whichever block, job or machine runs it)."""
    from analysis.power.simulated import run_replicates

    return run_replicates(_replicate_block, simulations, seed, jobs, scheduler, progress, p1=p1, p2=p2, n1=n1,
                          n2=n2, sites=sites, tau=tau, level=level, test=test)


def _rejected(rows: np.ndarray, alpha: float, alternative: str, test: str = "z", sites: int = 2) -> np.ndarray:
    from scipy.stats import norm, t

    z = rows[:, COLUMNS.index("statistic")]
    ref = norm if test == "z" else t(sites - 1)     # knha: t with K - 1 df, as random_effects' own p value
    p = {"two-sided": rows[:, COLUMNS.index("pvalue")], "greater": ref.sf(z), "less": ref.cdf(z)}[alternative]
    return p <= alpha


# --------------------------------------------------------------------------- #
# The public functions
# --------------------------------------------------------------------------- #
def _check(p1, p2, sites, n1, n2, tau, simulations, alpha, alternative, jobs):
    from analysis.power.exact import _check_unit

    for name, p in (("the treatment rate", p1), ("the control rate", p2)):
        if not (isinstance(p, (int, float, np.floating)) and 0 < p < 1):
            raise AnalysisError(f"{name} {p!r}: must be strictly between 0 and 1 (a rate of 0 or 1 has no "
                                "log odds to shift)")
    for name, v, least in (("sites", sites, 2), ("n", n1, 1), ("n", n2, 1), ("simulations", simulations, 1)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < least:
            raise AnalysisError(f"{name} = {v!r} must be a whole number >= {least}"
                                + (" (a random-effects pooling needs two sites)" if name == "sites" else ""))
    if not (isinstance(tau, (int, float, np.floating)) and math.isfinite(tau) and tau >= 0):
        raise AnalysisError(f"tau = {tau!r}: the between-site SD must be a finite number >= 0")
    _check_unit("alpha", alpha)
    if alternative not in _ALTERNATIVES:
        raise AnalysisError(f"alternative {alternative!r}: expected one of {', '.join(_ALTERNATIVES)}")
    if not isinstance(jobs, (int, np.integer)) or jobs == 0:
        raise AnalysisError(f"jobs = {jobs!r} must be a non-zero whole number (-1: all cores)")


def _summarise(rows: np.ndarray, alpha: float, alternative: str, test: str = "z", sites: int = 2) -> dict:
    col = {c: rows[:, i] for i, c in enumerate(COLUMNS)}
    sims = rows.shape[0]
    rej = int(_rejected(rows, alpha, alternative, test, sites).sum())
    power = rej / sims
    width = col["pi_high"] - col["pi_low"]
    return dict(rejections=rej, power=power, mc_se=math.sqrt(power * (1 - power) / sims),
                tau2_mean=float(col["tau2"].mean()), tau2_median=float(np.median(col["tau2"])),
                tau2_zero=float((col["tau2"] == 0).mean()), estimate_mean=float(col["estimate"].mean()),
                pi_width_mean=float(width.mean()), pi_width_median=float(np.median(width)),
                nonconverged=int((col["converged"] == 0).sum()), corrected_tables=int(col["corrected"].sum()))


def multisite_power_rates(p1: float, p2: float, sites: int, n1: int, n2: Optional[int] = None, tau: float = 0.0,
                          simulations: int = 1000, seed: int = 1, alpha: float = 0.05,
                          alternative: str = "two-sided", jobs: int = 1, scheduler: Optional[str] = None,
                          progress: bool = False, level: float = 0.95, label: Optional[str] = None,
                          _design: Optional[dict] = None, test: str = "z") -> MultisitePower:
    """Simulated power of a K-site replication of two proportions (treatment ``p1``, control ``p2``).

    Parameters
    ----------
    p1, p2 : float
        Treatment and control rates at the average site (strictly between 0 and 1).
    sites : int
        K, the number of sites (at least 2).
    n1, n2 : int
        Participants per arm at each site (``n2`` defaults to ``n1``).
    tau : float
        Between-site SD of the log odds ratio (0: the same effect at every site).
    simulations, seed : int
        Replicate *i* draws from ``SeedSequence(seed).spawn(simulations)[i]``.
    alpha : float
        Level of the pooled z test.
    alternative : {"two-sided", "greater", "less"}
        ``greater``: H1 is OR > 1.
    jobs : int
        joblib ``n_jobs``; the result does not depend on it.
    scheduler : str, optional
        A Dask scheduler's address (default ``DASK_SCHEDULER_ADDRESS``, else this machine).
    progress : bool
        A progress bar on stderr when it is a terminal.
    level : float
        Level of the prediction interval.
    test : {"z", "knha"}
        The pooled test: Wald z (``compliance pool``'s headline), or Hartung-Knapp-Sidik-Jonkman
        (t with K − 1 df), which keeps nearer α with few heterogeneous sites.

    Returns
    -------
    MultisitePower

    Examples
    --------
    >>> r = multisite_power_rates(0.5, 0.25, sites=8, n1=40, tau=0.2, simulations=20, seed=3)
    >>> r.simulations, r.data, 0 <= r.power <= 1
    (20, 'SIMULATED', True)
    """
    n2 = n1 if n2 is None else n2
    _check(p1, p2, sites, n1, n2, tau, simulations, alpha, alternative, jobs)
    if test not in _TESTS:
        raise AnalysisError(f"test {test!r}: expected one of {', '.join(_TESTS)}")
    sites, n1, n2, simulations, seed = int(sites), int(n1), int(n2), int(simulations), int(seed)
    d = dict(study=None, experiment=None, n_per_condition=n1, notes=())
    d.update(_design or {})
    label = label or f"{pct(p1)} vs {pct(p2)}"
    rows = _run(p1, p2, n1, n2, sites, float(tau), simulations, seed, int(jobs), scheduler, level,
                f"simulating {sites} sites" if progress else None, test)
    notes = tuple(d["notes"]) + (
        "each site: u ~ N(0, τ) added to the treatment arm's log odds; binomial counts per arm; log OR and "
        "Woolf variance, 0.5 added to every cell of a table with a zero cell",
        "pooled by random effects (REML τ², Wald z test of OR = 1), as compliance pool's headline method"
        if test == "z" else "pooled by random effects (REML τ², Hartung-Knapp-Sidik-Jonkman t test of OR = 1, "
                            f"{sites - 1} df), as compliance pool --knha")
    return MultisitePower(d["study"], d["experiment"], label, float(p1), float(p2),
                          math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2)), sites, int(d["n_per_condition"]), n1,
                          n2, float(tau), simulations, seed, float(alpha), alternative,
                          **_summarise(rows, float(alpha), alternative, test, sites), test=test, level=level,
                          notes=notes)


def _check_rates_published(d, study: str, experiment: int) -> None:
    """A one-line error when the design ``d`` has no original rates to draw from."""
    if d.p1 is None:
        why = f" ({d.original.reason})" if d.original is not None and d.original.reason else ""
        raise AnalysisError(f"{study} experiment {experiment}, {d.label}: not computable: the original's rates "
                            f"are not published{why}")


def multisite_power(study: str, experiment: int, contrast, sites: int, n: int, tau: float,
                    simulations: int = 1000, seed: int = 1, alpha: Optional[float] = None, jobs: int = 1,
                    scheduler: Optional[str] = None, progress: bool = False, test: str = "z") -> MultisitePower:
    """Simulated power of a K-site replication of a declared binary contrast.

    The original's rates, the allocation, α and the sidedness come from
    :func:`analysis.power.design.design_of`; ``n`` participants in every declared condition at
    every site (a side pooling two conditions has 2n).  See the module docstring for one
    replicate.

    Parameters
    ----------
    study : str
    experiment : int
    contrast : Contrast, str or int
        A contrast of the plan, its label, or its index in ``plan.contrasts``.
    sites : int
        K, the number of sites.
    n : int
        Participants per condition at each site.
    tau : float
        Between-site SD of the log odds ratio.
    simulations, seed : int
    alpha : float, optional
        Level of the pooled test (default: the plan's α per test, after its declared correction).
    jobs : int
    scheduler : str, optional
        A Dask scheduler's address (``tcp://HOST:PORT``); the result is the same.
    progress : bool
    test : {"z", "knha"}
        The pooled test (see :func:`multisite_power_rates`).

    Returns
    -------
    MultisitePower

    Examples
    --------
    >>> r = multisite_power("cialdini1975", 1, 0, sites=5, n=20, tau=0.3, simulations=10, seed=2)
    >>> r.study, r.sites, r.n_treatment, r.n_control      # one treatment condition vs two pooled controls
    ('cialdini1975', 5, 20, 40)
    """
    from analysis.power.design import design_of

    d = design_of(study, experiment, contrast)
    _check_rates_published(d, study, experiment)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise AnalysisError(f"n = {n!r} must be a whole number >= 1")
    level = d.alpha_per_test if alpha is None else alpha
    notes = (f"design ({d.label}): {d.describe()}; test source: {d.test_source}; the pooled test is the random-"
             f"effects z test, not the original's {d.test}", f"rates: the original's ({d.original.source})")
    return multisite_power_rates(d.p1, d.p2, sites, int(n) * len(d.treatment), int(n) * len(d.control), tau,
                                 simulations, seed, level, d.alternative, jobs, scheduler, progress, label=d.label,
                                 _design=dict(study=d.study, experiment=d.experiment, n_per_condition=int(n),
                                              notes=notes), test=test)


# --------------------------------------------------------------------------- #
# n per condition per site for a target power
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class MultisiteSampleSize(Result):
    """The smallest n per condition per site at which a K-site replication's simulated power (pooled
    random effects, as :class:`MultisitePower`) reaches the target.

    ``start`` is the normal-theory n (the pooled estimate's variance (v(n) + τ²)/K, v(n) the Woolf
    variance of one site's log OR at n); ``ceiling`` the normal-theory power as n grows without
    bound, which τ > 0 keeps below 1 with K sites: Φ(|θ|√K/τ − z).  ``n`` is None when the
    simulated power stays below the target up to ``n_max`` (then more sites are needed, not more
    participants per site, when the ceiling is below the target).
    """

    _aliases = {"estimate": "n", "term": "contrast"}
    _measure = "n per condition per site reaching the target power (simulated, pooled random effects)"

    study: Optional[str]
    experiment: Optional[int]
    contrast: str
    sites: int
    tau: float
    target: float
    n: Optional[int]
    power: float
    mc_se: float
    ceiling: float
    start: int
    evaluated: tuple[tuple[int, float], ...]
    n_max: int
    simulations: int
    seed: int
    alpha: float
    alternative: str
    data: str = _SIMULATED
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.study} Experiment {self.experiment}, " if self.study else ""
        head = f"{self.data}: {where}{self.contrast}: {self.sites} sites, τ = {self.tau:g}: "
        f3 = lambda x: format_number(x, 3, leading_zero=False)  # noqa: E731
        tgt = format_number(self.target, 2, leading_zero=False)
        ceiling = f"; as n grows the power tends to about {f3(self.ceiling)} (normal theory)" if self.ceiling < 1 else ""
        if self.ceiling < self.target:
            ceiling += (f": with {self.sites} sites and τ = {self.tau:g} more sites, not more participants per "
                        "site, are what raise it")
        if self.n is None:
            return (head + f"the simulated power stays below {tgt} up to n = {self.n_max:,} per "
                    f"condition per site{ceiling}")
        below = dict(self.evaluated).get(self.n - 1)
        below = f"; n = {self.n - 1}: {f3(below)}" if below is not None else ""
        return (head + f"the simulated power reaches {tgt} at n = {self.n} per condition per site "
                f"(power {f3(self.power)}, Monte-Carlo SE {f3(self.mc_se)}{below}; {self.simulations} "
                f"replications a point, seed {self.seed}, α = {alpha_text(self.alpha)}, {self.alternative}){ceiling}")

    def to_dict(self) -> dict:
        from dataclasses import fields

        from analysis.results import jsonable

        d = {f.name: jsonable(getattr(self, f.name)) for f in fields(self)}
        d["evaluated"] = [{"n": n, "power": p} for n, p in self.evaluated]
        d["apa"] = str(self)
        return d


def _normal_theory(p1, p2, per_t, per_c, sites, tau, alpha, alternative, target) -> tuple[Optional[float], float]:
    """(the n per condition at which the pooled z test reaches ``target`` by normal theory, or None if
    no n does; the power as n grows without bound)."""
    from scipy.special import ndtr, ndtri

    theta = math.log(p1 / (1 - p1)) - math.log(p2 / (1 - p2))
    signed = {"two-sided": abs(theta), "greater": theta, "less": -theta}[alternative]
    z_a = float(ndtri(1 - (alpha / 2 if alternative == "two-sided" else alpha)))
    if tau > 0:
        ceiling = float(ndtr(signed * math.sqrt(sites) / tau - z_a))
    else:
        ceiling = 1.0 if signed > 0 else float(alpha)
    if signed <= 0:
        return None, ceiling
    unit = 1 / (per_t * p1 * (1 - p1)) + 1 / (per_c * p2 * (1 - p2))   # n x one site's Woolf variance
    room = sites * signed ** 2 / (z_a + float(ndtri(target))) ** 2 - tau ** 2
    return (unit / room if room > 0 else None), ceiling


def _sample_size(power_at, p1, p2, per_t, per_c, sites, tau, target, alpha, alternative, n_max, simulations,
                 seed, label, study=None, experiment=None, notes=()) -> MultisiteSampleSize:
    from analysis.power.exact import _check_unit
    from analysis.power.search import first_n_reaching

    target = _check_unit("target", target)
    guess, ceiling = _normal_theory(p1, p2, per_t, per_c, sites, tau, alpha, alternative, target)
    start = n_max if guess is None else min(n_max, max(1, math.ceil(guess)))
    cache: dict[int, MultisitePower] = {}

    def ok(n: int) -> bool:
        if n not in cache:
            cache[n] = power_at(n)
        return cache[n].power >= target

    n = first_n_reaching(ok, start, n_max, n_min=1)
    r = cache[n] if n is not None else None
    return MultisiteSampleSize(study, experiment, label, sites, float(tau), target, n,
                               r.power if r else math.nan, r.mc_se if r else math.nan, ceiling, start,
                               tuple(sorted((k, v.power) for k, v in cache.items())), n_max, simulations, seed,
                               float(alpha), alternative,
                               notes=tuple(notes) + (f"n by stepping from the normal-theory n = {start} to a "
                                                     "bracket, then bisection (analysis.power.search), each point "
                                                     "simulated with the same seeds",))


def multisite_sample_size(study: str, experiment: int, contrast, sites: int, tau: float, target: float = 0.80,
                          simulations: int = 1000, seed: int = 1, alpha: Optional[float] = None, jobs: int = 1,
                          scheduler: Optional[str] = None, progress: bool = False,
                          n_max: int = 2000, test: str = "z") -> MultisiteSampleSize:
    """The n per condition per site at which a K-site replication of a declared binary contrast
    reaches ``target`` power (each point :func:`multisite_power` with the same seed).

    Examples
    --------
    >>> r = multisite_sample_size("cialdini1975", 1, 0, sites=4, tau=0.2, target=0.8, simulations=50, seed=2)
    >>> r.n is not None and r.power >= 0.8, r.ceiling > 0.8
    (True, True)
    """
    from analysis.power.design import design_of

    d = design_of(study, experiment, contrast)
    _check_rates_published(d, study, experiment)
    level = d.alpha_per_test if alpha is None else alpha

    def at(n: int) -> MultisitePower:
        return multisite_power(study, experiment, contrast, sites, n, tau, simulations, seed, alpha, jobs,
                               scheduler, progress, test)

    return _sample_size(at, d.p1, d.p2, len(d.treatment), len(d.control), sites, tau, target, level, d.alternative,
                        n_max, simulations, seed, d.label, d.study, d.experiment,
                        (f"design ({d.label}): {d.describe()}",))


def multisite_sample_size_rates(p1: float, p2: float, sites: int, tau: float, target: float = 0.80,
                                simulations: int = 1000, seed: int = 1, alpha: float = 0.05,
                                alternative: str = "two-sided", jobs: int = 1, scheduler: Optional[str] = None,
                                progress: bool = False, n_max: int = 2000, test: str = "z") -> MultisiteSampleSize:
    """:func:`multisite_sample_size` for two rates given directly (n per arm per site).

    Examples
    --------
    >>> r = multisite_sample_size_rates(0.5, 0.3, sites=3, tau=0.6, target=0.9, simulations=40, n_max=400)
    >>> round(r.ceiling, 2) < 0.9, r.n is None or r.power >= 0.9
    (True, True)
    """
    def at(n: int) -> MultisitePower:
        return multisite_power_rates(p1, p2, sites, n, n, tau, simulations, seed, alpha, alternative, jobs,
                                     scheduler, progress, test=test)

    return _sample_size(at, p1, p2, 1, 1, sites, tau, target, alpha, alternative, n_max, simulations, seed,
                        f"{pct(p1)} vs {pct(p2)}")
