"""Power by simulation, for analysis plans with no closed form.

Whole data sets are drawn in numpy from the experiment's declared simulation model
(``Experiment.model``: a ``BinaryModel`` of compliance rates, or a count model of
tickets), each is analysed with the same function ``compliance analyze`` uses for the
plan, and the rejections at α are counted:

* ``FactorialLogitPlan`` (treatment × moderator logistic model):
  :func:`analysis.stats.factorial.technique_by_price`; the tests are the interaction
  (Wald z of the ratio of odds ratios, or its LR test under separation; H0: ratio = 1, two-sided)
  and the simple effect of the treatment at each moderator level (Wald z, or Firth's penalised
  LR where a cell is at 0 or 1; H0: OR = 1, two-sided).
* ``CountPlan`` (two-factor count design): :func:`analysis.stats.counts.analyze_count_plan`;
  the tests are the planned contrasts on levels of the first factor, each as the t test
  of unweighted marginal means (H0: equal mean counts) and as the negative-binomial rate
  ratio (H0: ratio = 1), and the threshold measure's Fisher test if the plan has one.

Power = rejections / simulations, with the Monte-Carlo standard error
√(power·(1 − power)/simulations).  A replicate whose test is undefined (a rate of 0 or
1 in a cell: separation) counts as not rejecting, and how many were undefined is
reported.  Replicate *i* draws from its own generator, ``SeedSequence(seed).spawn``'s
*i*-th child, so the result is identical for any number of ``jobs`` and on any machine; the
replicates run through joblib (``jobs``), or on a Dask cluster through joblib's Dask backend
(``scheduler``).

Each data set is analysed on its sufficient statistics (:mod:`analysis.power.cells`): the
logistic plan's binomial GLM on its cell counts, the count plan's tests on each cell's
frequency table of the counts; the row-level function above analyses only a data set those
cannot (a cell at rate 0 or 1, an empty cell), and every data set with ``fit_on="rows"``.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

import numpy as np

from analysis.errors import AnalysisError
from analysis.format import alpha_text
from analysis.results import Result

if TYPE_CHECKING:   # pandas is imported where a data set becomes a frame (the row-level fit)
    import pandas as pd

__all__ = ["SimulatedTest", "SimulationPower", "SimulationSampleSize", "simulate_dataset", "simulation_power",
           "simulation_sample_size"]


@dataclass(frozen=True)
class SimulatedTest(Result):
    """Simulated power of one test: rejections of H0 at α among the simulated data sets."""

    _aliases = {'estimate': 'power', 'term': 'name', 'n': 'simulations'}
    _measure = "simulated power"

    name: str
    rejections: int
    undefined: int
    simulations: int
    power: float
    mc_se: float

    def __str__(self) -> str:
        und = f"; undefined in {self.undefined}" if self.undefined else ""
        return (f"{self.name}: power = {self.power:.3f} (Monte-Carlo SE {self.mc_se:.3f}; "
                f"{self.rejections}/{self.simulations} rejected{und})")

    def to_dict(self) -> dict:
        return {"name": self.name, "rejections": self.rejections, "undefined": self.undefined,
                "simulations": self.simulations, "power": self.power, "mc_se": self.mc_se}


@dataclass(frozen=True)
class SimulationPower(Result):
    """Simulated power of every test of a plan, at ``n`` participants per condition."""

    study: str
    experiment: int
    plan: str
    n_per_condition: int
    simulations: int
    seed: int
    alpha: float
    tests: tuple[SimulatedTest, ...]
    analysis: str
    model: str
    notes: tuple[str, ...] = ()

    def test(self, name_start: str) -> SimulatedTest:
        for t in self.tests:
            if t.name.startswith(name_start):
                return t
        raise KeyError(name_start)

    def __str__(self) -> str:
        head = (f"{self.study} Experiment {self.experiment} ({self.plan}): simulated power with n = "
                f"{self.n_per_condition} per condition, {self.simulations} data sets (seed {self.seed}), "
                f"α = {alpha_text(self.alpha)}; analysed with {self.analysis}")
        lines = [head] + [f"  {t}" for t in self.tests] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"study": self.study, "experiment": self.experiment, "plan": self.plan,
                "n_per_condition": self.n_per_condition, "simulations": self.simulations, "seed": self.seed,
                "alpha": self.alpha, "tests": [t.to_dict() for t in self.tests], "analysis": self.analysis,
                "model": self.model, "notes": list(self.notes)}


# --------------------------------------------------------------------------- #
# Drawing whole data sets
# --------------------------------------------------------------------------- #
def _binary_draws(experiment, n: int, rng: np.random.Generator) -> list[dict]:
    """Per condition, the drawn arrays: ``complied`` and ``excluded`` (booleans, ``n`` each)."""
    model = experiment.model
    return [{"complied": rng.random(n) < model.rates[c.name].p, "excluded": rng.random(n) < model.exclusion_rate}
            for c in experiment.conditions]


def _binary_frame(experiment, draws: list[dict]) -> pd.DataFrame:
    import pandas as pd

    frames = []
    for c, dr in zip(experiment.conditions, draws):
        n = len(dr["complied"])
        d = {"condition": np.repeat(c.name, n), "complied": dr["complied"].astype(int),
             "excluded": dr["excluded"].astype(int), "data_consent": np.ones(n, dtype=int)}
        for f, level in c.factors.items():
            d[f] = np.repeat(str(level), n)
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


def _count_constants(experiment) -> list[tuple]:
    """Per condition, what its draws need and no replicate changes: (cell mean, liking slope b,
    b²/2, liking shift, NB size 1/α); made once per block of replicates (:func:`_replicate_block`)."""
    model = experiment.model
    cells = []
    for c in experiment.conditions:
        f = model.cell_factors.get(c.name, dict(c.factors))
        b = float(model.liking_slope.get(f.get(model.slope_factor, ""), 0.0))
        shift = float(model.liking_shift.get(f.get(model.shift_factor, ""), 0.0))
        cells.append((model.cell_means[c.name].mean, b, b * b / 2, shift, 1.0 / model.dispersion))
    return cells


def _count_draws(experiment, n: int, rng: np.random.Generator, n_items: int = 4,
                 constants: Optional[list] = None) -> list[dict]:
    """Per condition, the drawn arrays: ``tickets``, ``excluded``, ``withdrawn`` and what the
    ``score`` composite is made of (:func:`_score`: the liking z and the items' noise).

    tickets ~ NB2(mean μ_c·exp(b·z − b²/2), α) capped at ``max_tickets``; the liking
    composite is the mean of the questionnaire's liking items, each
    round(5 + 1.2·(shift + z) + noise·N(0, 1)) clipped to 1..9; exclusions and withdrawals
    with the model's probabilities.  The draws are made in this order whatever is analysed;
    the composite is computed only where a data set becomes a frame (the tests on the cells
    read the tickets).
    """
    model = experiment.model
    cap, p_knew, p_susp, p_wd = model.max_tickets, model.p_knew_confederate, model.p_suspicious, model.p_withdraw
    out = []
    for mean, b, half_b2, shift, r in constants if constants is not None else _count_constants(experiment):
        z = rng.standard_normal(n)
        mu = mean * np.exp(b * z - half_b2)
        tickets = np.where(mu > 0, rng.negative_binomial(r, r / (r + np.maximum(mu, 1e-300))), 0)
        tickets = np.minimum(tickets, cap)
        noise = rng.standard_normal((n, n_items))
        knew = rng.random(n) < p_knew
        suspicious = rng.random(n) < p_susp
        withdraw = rng.random(n) < p_wd
        out.append({"tickets": tickets.astype(int, copy=False), "z": z, "noise": noise, "shift": shift,
                    "excluded": knew | suspicious, "withdrawn": withdraw})
    return out


def _score(model, dr: dict) -> np.ndarray:
    """The liking composite of one condition's draws (:func:`_count_draws`)."""
    items = np.clip(np.round(5 + 1.2 * (dr["shift"] + dr["z"])[:, None] + model.item_noise * dr["noise"]), 1, 9)
    return items.mean(axis=1)


def _count_frame(experiment, draws: list[dict]) -> pd.DataFrame:
    import pandas as pd

    plan = experiment.plan
    frames = []
    for c, dr in zip(experiment.conditions, draws):
        n = len(dr["tickets"])
        d = {"condition": np.repeat(c.name, n), plan.outcome: dr["tickets"],
             "excluded": dr["excluded"].astype(int), "data_consent": (~dr["withdrawn"]).astype(int)}
        if plan.score:
            d[plan.score] = _score(experiment.model, dr)
        for fac, level in c.factors.items():
            d[fac] = np.repeat(str(level), n)
        frames.append(pd.DataFrame(d))
    return pd.concat(frames, ignore_index=True)


def _draw_binary(experiment, n: int, rng: np.random.Generator) -> pd.DataFrame:
    return _binary_frame(experiment, _binary_draws(experiment, n, rng))


def _draw_counts(experiment, n: int, rng: np.random.Generator, n_items: int = 4) -> pd.DataFrame:
    """A count data set drawn as the count model's ``draw`` draws one participant, vectorised
    (:func:`_count_draws`)."""
    return _count_frame(experiment, _count_draws(experiment, n, rng, n_items))


def _n_score_items(paradigm) -> int:
    """Number of items in the score composite, from the paradigm's lab design (default 4)."""
    design = getattr(getattr(paradigm, "session", None), "design", None)  # a LabSession's declared design
    comp = getattr(design, "composite", None)
    return len(comp[1]) if comp else 4


def simulate_dataset(experiment, n: int, rng: np.random.Generator, n_items: int = 4) -> pd.DataFrame:
    """One simulated data set, ``n`` participants per condition, from ``experiment.model``.

    Columns as the session CSVs give them to the analysis (condition, the outcome,
    ``excluded``, ``data_consent``, the factor columns and, for count plans, the score).

    Examples
    --------
    >>> import numpy as np, paradigms
    >>> exp = paradigms.get('pollock1998').experiment(1)
    >>> df = simulate_dataset(exp, 5, np.random.default_rng(1))
    >>> len(df) == 5 * len(exp.conditions), 'complied' in df
    (True, True)
    """
    from paradigms.base import BinaryModel

    if isinstance(experiment.model, BinaryModel):
        return _draw_binary(experiment, n, rng)
    if hasattr(experiment.model, "cell_means"):
        return _draw_counts(experiment, n, rng, n_items)
    raise AnalysisError(f"experiment {experiment.number}: no numpy simulation for a "
                        f"{type(experiment.model).__name__}")


# --------------------------------------------------------------------------- #
# Analysing one data set: p values of the plan's tests
# --------------------------------------------------------------------------- #
def _tests_of(experiment) -> tuple[list[str], Callable[[pd.DataFrame], list[float]], str]:
    from paradigms.base import CountPlan, FactorialLogitPlan

    plan = experiment.plan
    # the row-level functions are imported when a data set needs them (statsmodels takes a second
    # to import; the cell statistics analyse most data sets without it)
    if isinstance(plan, FactorialLogitPlan):
        levels = list(dict.fromkeys(str(c.factors[plan.moderator]) for c in experiment.conditions))

        def analyse(d):
            import warnings

            from analysis.stats.factorial import technique_by_price
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = technique_by_price(d, technique=plan.treatment_factor, price=plan.moderator,
                                       reason=plan.covariates[0] if plan.covariates else None,
                                       treatment=plan.treatment_level, control=plan.control_level)
            simple = {str(s.price): s.p for s in r.simple_effects}
            term = r.interaction  # under separation the ratio has no Wald test; its LR test is the one reported
            return [term.p if term.method == "wald" else term.lr_p] + [simple.get(lv, math.nan) for lv in levels]

        names = ([f"{plan.treatment_factor} × {plan.moderator} interaction (Wald z of the ratio of odds ratios; "
                  "its LR test where separation leaves no Wald estimate)"]
                 + [f"simple effect of {plan.treatment_level} vs {plan.control_level} at "
                    f"{plan.moderator} = {lv} (Wald z; Firth's penalised LR where a cell is at 0 or 1)"
                    for lv in levels])
        return names, analyse, "analysis.stats.factorial.technique_by_price"
    if isinstance(plan, CountPlan):
        a = plan.factors[0]
        ks = [k for k in plan.contrasts if k.factor == a]

        def analyse(d):
            import warnings

            from analysis.stats.counts import analyze_count_plan
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = analyze_count_plan(d, experiment)
            out = []
            by = {c.label: c for c in r.contrasts}
            for k in ks:
                c = by.get(k.label)
                out += [c.p if c else math.nan, c.rr_p if c else math.nan]
            if plan.threshold_contrast is not None:
                out.append(r.threshold.fisher_p if r.threshold is not None else math.nan)
            return out

        names = []
        for k in ks:
            tag = "" if k.confirmatory else " [exploratory]"
            names += [f"{k.label}: t test of marginal means{tag}", f"{k.label}: negative-binomial rate ratio{tag}"]
        if plan.threshold_contrast is not None:
            t, c = plan.threshold_contrast
            names.append(f"more than {plan.threshold} {plan.outcome}: {t} vs {' + '.join(c)} (Fisher)")
        return names, analyse, "analysis.stats.counts.analyze_count_plan"
    raise AnalysisError(f"experiment {experiment.number}: a {type(plan).__name__} has exact power "
                        "(power_two_proportions); simulation is for FactorialLogitPlan and CountPlan")


def _cell_analyser(experiment, binary: bool, want: Optional[int] = None):
    """The plan's tests from the cell statistics (:mod:`analysis.power.cells`), or None.

    ``want``: compute only that test (the others NaN) where skipping the rest saves time."""
    from analysis.power.cells import CountCells, FactorialCells

    if binary:
        return FactorialCells(experiment)
    plan = experiment.plan
    ks = [k for k in plan.contrasts if k.factor == plan.factors[0]]
    return CountCells(experiment, ks, int(experiment.model.max_tickets), want)


def _replicate_block(experiment, n: int, seeds, analyse, n_items: int, fit_on: str,
                     want: Optional[int] = None) -> list[list[float]]:
    """The p values of the data sets drawn from ``seeds`` (one generator each).

    Each data set is drawn as arrays; with ``fit_on="cells"`` its tests come from the cell
    statistics, and from the row-level analysis (the same data as a DataFrame) only where the
    cells leave the regular case (separation, an empty cell) or with ``fit_on="rows"``.
    With ``want``, test ``want``'s p value is the one that must be right (others may be NaN).
    """
    from paradigms.base import BinaryModel

    binary = isinstance(experiment.model, BinaryModel)
    cells = _cell_analyser(experiment, binary, want) if fit_on == "cells" else None
    if binary:
        draw = _binary_draws
    else:
        constants = _count_constants(experiment)
        draw = lambda e, n_, rng: _count_draws(e, n_, rng, n_items, constants)  # noqa: E731
    data = [draw(experiment, n, np.random.default_rng(s)) for s in seeds]
    # the cell statistics' p values (the logistic plan's data sets fitted together), None where they cannot
    ps = cells.many(data) if cells is not None else [None] * len(data)
    frame = _binary_frame if binary else _count_frame
    return [p if p is not None else analyse(frame(experiment, d)) for p, d in zip(ps, data)]


def _blocks(seq: list, size: int) -> list[list]:
    return [seq[i:i + size] for i in range(0, len(seq), size)]


_CONNECT_TIMEOUT = "20s"  # how long a Dask scheduler may take to answer


def _backend(scheduler: Optional[str]):
    """joblib's backend: local processes, or the Dask cluster at ``scheduler`` (a context manager)."""
    import contextlib
    import os

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    if not address:
        return contextlib.nullcontext()
    try:
        from distributed import Client
        from joblib import parallel_config
    except ImportError:
        raise AnalysisError(f"scheduler {address}: Dask is not installed; install the cluster extra: "
                            "pip install 'compliance-toolkit[cluster]'") from None
    stack = contextlib.ExitStack()
    try:
        client = stack.enter_context(Client(address, timeout=_CONNECT_TIMEOUT, set_as_default=False))
    except (OSError, TimeoutError, ValueError) as exc:
        raise AnalysisError(f"scheduler {address}: cannot connect to the Dask scheduler "
                            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'no answer'})") \
            from None
    stack.enter_context(parallel_config(backend="dask", client=client))
    return stack


def _run(experiment, n: int, simulations: int, seed: int, jobs: int, analyse, progress: Optional[str],
         n_items: int = 4, fit_on: str = "cells", scheduler: Optional[str] = None, want: Optional[int] = None):
    """p values of every replicate (rows) and test (columns) (:func:`run_replicates`)."""
    return run_replicates(_replicate_block, simulations, seed, jobs, scheduler, progress, experiment=experiment,
                          n=n, analyse=analyse, n_items=n_items, fit_on=fit_on, want=want)


def run_replicates(block, simulations: int, seed: int, jobs: int, scheduler: Optional[str], progress: Optional[str],
                   **kwargs) -> np.ndarray:
    """``block(seeds=..., **kwargs)``'s rows for every replicate, in replicate order: the one runner of the
    simulations (this module's and :mod:`analysis.power.multisite`'s).

    Replicate *i* draws from ``SeedSequence(seed).spawn(simulations)[i]`` whichever block, job or
    machine runs it, so the result depends on neither ``jobs`` nor ``scheduler``.  The replicates go
    to joblib in blocks (about 100 tasks), each block one task, locally or on a Dask cluster
    (:func:`_backend`); ``progress`` (a label) draws a bar on stderr when it is a terminal.
    """
    from joblib import Parallel, delayed

    children = np.random.SeedSequence(seed).spawn(simulations)
    blocks = _blocks(children, max(1, math.ceil(simulations / 100)))
    show = progress is not None and getattr(sys.stderr, "isatty", lambda: False)() and simulations >= 20
    out: list = []
    with _backend(scheduler):
        par = Parallel(n_jobs=jobs, return_as="generator", batch_size=1)
        for rows in par(delayed(block)(seeds=b, **kwargs) for b in blocks):
            out.extend(rows)
            i = len(out)
            if show:
                sys.stderr.write(f"\r{progress} [{'#' * (30 * i // simulations):<30}] {i}/{simulations}")
                if i == simulations:
                    sys.stderr.write("\n")
                sys.stderr.flush()
    return np.array(out, dtype=float)


def _summarise(names, pvals: np.ndarray, alpha: float) -> tuple[SimulatedTest, ...]:
    sims = pvals.shape[0]
    tests = []
    for j, name in enumerate(names):
        col = pvals[:, j]
        undefined = int(np.isnan(col).sum())
        rej = int((np.nan_to_num(col, nan=1.0) <= alpha).sum())
        pw = rej / sims
        tests.append(SimulatedTest(name, rej, undefined, sims, pw, math.sqrt(pw * (1 - pw) / sims)))
    return tuple(tests)


def _describe_model(model) -> str:
    rates = getattr(model, "rates", None)
    if rates is not None:
        return "BinaryModel: " + "; ".join(f"{k} = {r.p:g}" for k, r in rates.items())
    means = getattr(model, "cell_means", None)
    if means is not None:
        return (f"{type(model).__name__}: negative binomial, α = {model.dispersion:g}; cell means "
                + "; ".join(f"{k} = {c.mean:g}" for k, c in means.items()))
    return type(model).__name__


def _check_sim(n, simulations, alpha, jobs):
    from analysis.power.exact import _check_n, _check_unit

    n = _check_n("n", n)
    alpha = _check_unit("alpha", alpha)
    if not isinstance(simulations, (int, np.integer)) or simulations < 1:
        raise AnalysisError(f"simulations = {simulations!r} must be a whole number >= 1")
    if not isinstance(jobs, (int, np.integer)) or jobs == 0:
        raise AnalysisError(f"jobs = {jobs!r} must be a non-zero whole number (-1: all cores)")
    return n, alpha


def simulation_power(paradigm, experiment: int, n: int, simulations: int = 1000, alpha: float = 0.05,
                     seed: int = 1, jobs: int = 1, progress: bool = False, fit_on: str = "cells",
                     scheduler: Optional[str] = None) -> SimulationPower:
    """Simulated power of every test of a FactorialLogitPlan or CountPlan.

    Parameters
    ----------
    paradigm : Paradigm or str
    experiment : int
    n : int
        Participants per condition (cell).
    simulations : int
        Number of simulated data sets.
    seed : int
        Replicate *i* uses ``SeedSequence(seed).spawn(simulations)[i]``.
    jobs : int
        joblib ``n_jobs``; the result does not depend on it.
    progress : bool
        Show a progress bar on stderr when it is a terminal.
    fit_on : {"cells", "rows"}
        ``"cells"`` (default): each data set's tests from its cell statistics
        (:mod:`analysis.power.cells`: the same estimates and tests as the row-level analysis,
        which still analyses a data set with a cell at rate 0 or 1 or an empty cell);
        ``"rows"``: every data set through the row-level analysis (slow; for checking).
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://HOST:PORT``; default the environment's
        ``DASK_SCHEDULER_ADDRESS``, else none): the replicates run on that cluster through
        joblib's Dask backend, with the same result as a local run.  Needs the ``cluster``
        extra.

    Examples
    --------
    >>> r = simulation_power("pollock1998", 1, n=10, simulations=4, seed=3)
    >>> r.tests[0].simulations
    4
    """
    from analysis.declared import declaration

    p = declaration(paradigm)  # an id given for convenience becomes its declaration there, not here
    return _simulate(p, p.experiment(int(experiment)), n, simulations, alpha, seed, jobs, progress, fit_on,
                     scheduler)


def _simulate(p, exp, n: int, simulations: int, alpha: float, seed: int, jobs: int, progress: bool, fit_on: str,
              scheduler: Optional[str], want: Optional[int] = None) -> SimulationPower:
    """:func:`simulation_power` of a declaration's experiment; with ``want``, only test ``want``'s
    power is computed (the other tests' p values may be NaN: a sample-size search reads one)."""
    n, alpha = _check_sim(n, simulations, alpha, jobs)
    if fit_on not in ("cells", "rows"):
        raise AnalysisError(f"fit_on = {fit_on!r}: expected 'cells' or 'rows'")
    names, analyse, how = _tests_of(exp)
    pv = _run(exp, n, int(simulations), int(seed), int(jobs), analyse,
              f"simulating {p.id} n={n}" if progress else None, _n_score_items(p), fit_on, scheduler, want)
    notes = ["a test undefined in a data set (separation, an empty cell) counts as not rejecting"]
    if fit_on == "cells":
        notes.append("each data set is analysed on its cell statistics (the same estimates and tests as "
                     f"{how} on its rows); a data set with a cell at rate 0 or 1 or an empty cell by {how} itself")
    return SimulationPower(p.id, exp.number, type(exp.plan).__name__, n, int(simulations), int(seed), alpha,
                           _summarise(names, pv, alpha), how, _describe_model(exp.model), tuple(notes))


@dataclass(frozen=True)
class SimulationSampleSize(Result):
    """n per condition at which the first (confirmatory) test's simulated power reaches the target.

    Search (:func:`simulation_sample_size`): from a start (the normal-theory n implied by one
    large pilot data set, or ``n_start``), steps of 1, 2, 4, ... up or down until the target
    is bracketed, then bisection between the last n below and the first n at or above it.
    Every n uses the same seeds (common random numbers), which keeps the simulated curve
    nearly monotone; each point still has Monte-Carlo error (``mc_se``), so ``n`` is uncertain
    by about that much.
    """

    _aliases = {'estimate': 'n', 'term': 'test'}
    _measure = "n per condition reaching the target power"

    study: str
    experiment: int
    test: str
    target: float
    n: Optional[int]
    power: float
    mc_se: float
    evaluated: tuple[tuple[int, float], ...] = field(default=())
    n_max: int = 0
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.n is None:
            return (f"{self.study} Experiment {self.experiment}, {self.test}: simulated power stays below "
                    f"{self.target:g} up to n = {self.n_max} per condition")
        return (f"{self.study} Experiment {self.experiment}, {self.test}: simulated power reaches {self.target:g} "
                f"at n = {self.n} per condition (power {self.power:.3f}, Monte-Carlo SE {self.mc_se:.3f})")

    def to_dict(self) -> dict:
        return {"study": self.study, "experiment": self.experiment, "test": self.test, "target": self.target,
                "n": self.n, "power": self.power, "mc_se": self.mc_se,
                "evaluated": [{"n": n, "power": p} for n, p in self.evaluated], "n_max": self.n_max,
                "notes": list(self.notes)}


def simulation_sample_size(paradigm, experiment: int, target: float = 0.80, simulations: int = 1000,
                           alpha: float = 0.05, seed: int = 1, jobs: int = 1, n_start: Optional[int] = None,
                           n_max: int = 2000, test: int = 0, progress: bool = False, fit_on: str = "cells",
                           scheduler: Optional[str] = None) -> SimulationSampleSize:
    """Smallest n per condition whose simulated power of test ``test`` (default the first:
    the interaction, or the first planned contrast) reaches ``target``.

    The search starts at ``n_start`` or, by default, at the n the normal approximation gives
    from one large pilot data set (:func:`_pilot_start`: its test's z, scaled by √n); from
    there it steps 1, 2, 4, ... towards the target until it is bracketed and bisects.  Only
    test ``test`` is computed at each n.  Where the simulated curve is monotone (common seeds
    make it nearly so) the answer does not depend on the start; it is the first n at or above
    the target with the n below it under the target.

    Examples
    --------
    >>> import paradigms
    >>> r = simulation_sample_size(paradigms.get('pollock1998'), 1, simulations=4, n_start=10, n_max=10, seed=1)
    >>> r.target, r.n_max, [n for n, _ in r.evaluated]
    (0.8, 10, [10])
    """
    from analysis.declared import declaration
    from analysis.power.exact import _check_unit
    from analysis.power.search import first_n_reaching

    target = _check_unit("target", target)
    p = declaration(paradigm)
    exp = p.experiment(int(experiment))
    cache: dict[int, SimulatedTest] = {}

    def at(n: int) -> SimulatedTest:
        if n not in cache:
            cache[n] = _simulate(p, exp, n, simulations, alpha, seed, jobs, progress, fit_on, scheduler,
                                 want=test).tests[test]
        return cache[n]

    def ok(n: int) -> bool:
        return at(n).power >= target

    start = _pilot_start(p, exp, target, alpha, seed, test) if n_start is None else int(n_start)
    hi = first_n_reaching(ok, start, int(n_max))
    evaluated = lambda: tuple(sorted((k, v.power) for k, v in cache.items()))  # noqa: E731
    if hi is None:
        return SimulationSampleSize(p.id, exp.number, at(int(n_max)).name, target, None, math.nan, math.nan,
                                    evaluated(), n_max)
    t = at(hi)
    how = f"from n_start = {start}" if n_start is not None else f"from the pilot's normal-theory n = {start}"
    return SimulationSampleSize(p.id, exp.number, t.name, target, hi, t.power, t.mc_se, evaluated(), n_max,
                                (f"n by stepping {how} to a bracket, then bisection, on simulated power with "
                                 "common seeds",))


_PILOT_N = 2000      # participants per condition in the pilot data set that gives the search its start


def _pilot_start(p, exp, target: float, alpha: float, seed: int, test: int) -> int:
    """Where the sample-size search starts: n = N·((z₁₋α/₂ + z_target) / z_N)², with z_N the
    two-sided normal score of test ``test``'s p value in one pilot data set of N per condition
    (its own seed).  A start only: the search itself decides n.  10 where the pilot says
    nothing usable (an undefined test, or no effect to speak of)."""
    from scipy import special

    n_pilot, analyse = _PILOT_N, _tests_of(exp)[1]
    for _ in range(6):
        pv = _replicate_block(exp, n_pilot, [np.random.SeedSequence([int(seed), 0x91107])], analyse,
                              _n_score_items(p), "cells", test)
        pval = float(pv[0][test])
        if not pval > 0:   # 0: the effect is so large at this n that the score underflows; a smaller pilot
            if pval == 0 and n_pilot > 50:
                n_pilot //= 8
                continue
            return 10
        z = -float(special.ndtri(pval / 2))   # the upper tail without 1 - p (which rounds to 1)
        if z < 3:          # too little effect to scale from
            return 10
        need = (float(special.ndtri(1 - alpha / 2)) + float(special.ndtri(target))) / z
        return max(2, int(math.ceil(n_pilot * need * need)))
    return 10
