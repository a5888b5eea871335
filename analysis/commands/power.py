"""``compliance power``: power and sample size for a declared study or any two proportions.

Binary contrasts get exact power (:mod:`analysis.power.exact`); a FactorialLogitPlan or a
CountPlan gets simulated power (:mod:`analysis.power.simulated`).  For a declared study the
effect is the original's published rates of each confirmatory contrast
(:func:`analysis.replication.original.original_effect`), with the source; where they are not
published the contrast is "not computable", never a guess.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from paradigms import limits

_TESTS = ("fisher", "chi2", "yates", "barnard")
_ALTS = ("two-sided", "greater", "less")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "power", help="power and sample size: exact for two proportions, simulated for other plans",
        description="Exact power of two independent proportions (Fisher, Pearson chi2 with or without Yates, "
                    "Barnard), beside the normal approximation (Cohen's h); sample size for a target power "
                    "(the first n reaching it and the n from which it stays); d33, the effect the original "
                    "design had 33%% power to detect; simulated power of a factorial logistic or count plan.")
    p.add_argument("study", nargs="?", help="a declared study (e.g. cialdini1975); omit it with --rates")
    p.add_argument("--experiment", type=int, default=1, metavar="N", help="experiment number (default 1)")
    p.add_argument("--rates", nargs=2, type=float, metavar=("P1", "P2"),
                   help="any two proportions (treatment, control) instead of a study's published rates")
    p.add_argument("--n", nargs="+", type=int, metavar="N",
                   help="n per group (per condition for simulated plans); several give several points (exact: "
                        f"{limits.EXACT_N} per group at equal allocation, {limits.EXACT_TABLES:,} tables in all; "
                        f"simulated: {limits.SIMULATED_N} per condition)")
    p.add_argument("--target", type=float, metavar="POWER", help="target power: report the n per group needed")
    p.add_argument("--alpha", type=float, default=None,
                   help="significance level (default: the plan's alpha, 0.05 unless declared)")
    p.add_argument("--test", choices=_TESTS,
                   help="the test (default: the original's test for the contrast, see analysis.power.design; "
                        "fisher with --rates)")
    p.add_argument("--alternative", choices=_ALTS, default=None,
                   help="two-sided, or one-sided: greater (treatment > control) or less (default: the original's "
                        "sidedness, two-sided unless published one-tailed)")
    p.add_argument("--d33", action="store_true",
                   help="the effect the original design (or each --n) had 33%% power to detect (small telescopes)")
    p.add_argument("--simulations", type=int, default=1000, metavar="S",
                   help=limits.SIMULATIONS.help("simulated data sets for plans without exact power (default 1000)"))
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="parallel jobs for the simulation (joblib; -1 = all cores; results do not depend on it; "
                        f"at most the {limits.jobs_limit()} cores of this machine without --scheduler)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the simulation on a Dask cluster (default: $DASK_SCHEDULER_ADDRESS, else this "
                        "machine); the result is the same; needs pip install 'compliance-toolkit[cluster]'")
    p.add_argument("--seed", type=int, default=1, help="seed of the simulation (default 1)")
    p.add_argument("--n-max", type=int, default=2000, metavar="N",
                   help=f"largest n per group tried for --target (default 2000; exact: {limits.EXACT_N}, and the "
                        f"scan up to it {limits.SCAN_TABLES} tables; simulated: {limits.SIMULATED_N})")
    p.add_argument("--plot", metavar="OUT.png", help="save power against n per group as a PNG")
    p.add_argument("--force", action="store_true", help="with --plot: replace an earlier plot (only an image)")
    from analysis.commands.plan import add_sequential_flags

    add_sequential_flags(p)
    m = p.add_argument_group("multi-site replication (simulated; analysis.power.multisite)")
    m.add_argument("--sites", type=int, metavar="K",
                   help="power of a replication at K sites of --n per condition, pooled by random effects "
                        "(REML, z test of OR = 1), and with --target the n per condition per site that reaches "
                        f"it (2 to {limits.MULTISITE_SITES.value:,}; --simulations x "
                        f"--sites {limits.MULTISITE_TABLES})")
    m.add_argument("--site-sd", type=float, metavar="TAU",
                   help="with --sites: between-site SD of the log odds ratio (0: the same effect everywhere; "
                        f"{limits.SITE_SD})")
    m.add_argument("--knha", action="store_true",
                   help="with --sites: pool by the Hartung-Knapp-Sidik-Jonkman t test (K - 1 df), as pool --knha, "
                        "instead of the Wald z test (nearer its alpha with few heterogeneous sites)")
    m.add_argument("--contrast", type=int, metavar="I",
                   help="with --sites: only the contrast at index I of the plan (0 = the first declared; "
                        "default: every confirmatory contrast)")
    p.add_argument("--json", action="store_true", help="print JSON instead of the text")
    p.set_defaults(handler=cmd_power)


# --------------------------------------------------------------------------- #
def _binary_rows(args, exp, study):
    """One row per confirmatory contrast, its design (test, allocation, α, sidedness) from
    :func:`analysis.power.design.design_of`, the one home of those decisions."""
    from analysis.power.design import design_of

    rows = []
    for k in exp.plan.confirmatory:
        d = design_of(study, exp.number, k)
        eff = d.original
        row = {"label": k.label, "original": eff, "p1": eff.treatment.rate, "p2": eff.control.rate,
               "n1": eff.treatment.n, "n2": eff.control.n, "test": args.test or d.test,
               "test_source": "--test" if args.test else d.test_source, "source": eff.source,
               "confidence": eff.confidence,
               "reason": "" if eff.rates_known else f"not computable: {eff.reason}", "notes": list(eff.notes),
               "design": d, "ratio": d.ratio, "allocation": d.allocation,
               "alternative": args.alternative or d.alternative,
               "alpha": args.alpha if args.alpha is not None else d.alpha}
        rows.append(row)
    return rows


def _ratio(row) -> float:
    """The allocation n2 / n1: the declared one (design_of), else the given groups', else 1."""
    if row.get("ratio"):
        return row["ratio"]
    return row["n2"] / row["n1"] if row.get("n1") and row.get("n2") else 1.0


def _compute_binary(row, args) -> None:
    from analysis.power.exact import _n2, d33, power_two_proportions, sample_size_two_proportions

    if row["reason"]:
        return
    p1, p2, test = row["p1"], row["p2"], row["test"]
    if not (0 < p1 < 1 and 0 < p2 < 1):
        row["reason"] = f"not computable: a published rate is {p1 if not 0 < p1 < 1 else p2:g} (0 or 1)"
        return
    # --n is per condition: a pooled control of several conditions keeps the original allocation
    designs = ([(n, _n2(n, _ratio(row))) for n in args.n] if args.n
               else ([(row["n1"], row["n2"])] if row.get("n1") else []))
    row["power"] = [power_two_proportions(p1, p2, n1, n2, row["alpha"], test, row["alternative"]) for n1, n2 in designs]
    if not designs and args.target is None and not args.d33:
        row["notes"].append("original n unknown: give --n or --target for power")
    if args.target is not None:
        row["sample_size"] = sample_size_two_proportions(p1, p2, args.target, row["alpha"], test, row["alternative"],
                                                         ratio=_ratio(row), n_max=args.n_max)
    if getattr(args, "looks", None):
        _sequential(row, designs, args)
    if args.d33:
        if designs:
            row["d33"] = [d33(n1, n2, p2, row["alpha"], test, row["alternative"],
                              direction="decrease" if p1 < p2 and row["alternative"] == "two-sided" else None)
                          for n1, n2 in designs]
        else:
            row["notes"].append("d33: original n unknown; give --n")


def _sequential(row, designs, args) -> None:
    """--looks K: boundaries, exact regions, power and expected N at each design (and the n for --target)."""
    from analysis.power.sequential import exact_sequential, sequential_sample_size

    p1, p2 = row["p1"], row["p2"]
    if row["test"] != "chi2":
        row["notes"].append(f"sequential: the statistic at each look is Pearson's z (χ² without correction), "
                            f"not the {row['test']} test of the fixed design")
    row["sequential"] = [exact_sequential(n1, n2, args.looks, row["alpha"], args.spending, row["alternative"],
                                          p1, p2) for n1, n2 in designs]
    if args.target is not None and row.get("sample_size") is not None and row["sample_size"].n_first:
        row["sequential_sample_size"] = sequential_sample_size(
            p1, p2, args.target, args.looks, row["alpha"], args.spending, row["alternative"], _ratio(row),
            n_start=row["sample_size"].n_first, n_max=args.n_max)


def _sequential_text(r) -> list[str]:
    from analysis.format import format_number

    return [f"  sequential: {r.design}",
            f"    n = {r.n1[-1]} and {r.n2[-1]} over the looks {', '.join(f'{a}+{b}' for a, b in zip(r.n1, r.n2))}: "
            f"exact critical |z| {', '.join(format_number(c, 3) for c in r.critical_exact)}; exact α spent "
            f"{', '.join(format_number(a, 4, leading_zero=False) for a in r.alpha_exact)}; power "
            f"{format_number(r.power, 3, leading_zero=False)}; expected N under H0 "
            f"{format_number(r.expected_n_h0, 1)}, under H1 {format_number(r.expected_n_h1, 1)} (maximum {r.max_n})"]


def _row_text(row, args) -> list[str]:
    from analysis.format import alpha_text
    from analysis.power.exact import TESTS, _alt_words

    L = [f"{row['label']}"]
    if row.get("original") is not None:
        eff = row["original"]
        L.append(f"  original: treatment {eff.treatment}")
        L.append(f"            control {eff.control}")
    else:
        L.append(f"  rates: {row['p1']:g} vs {row['p2']:g} ({row['source']})")
    if row["reason"]:
        L.append(f"  {row['reason']}")
        return L
    alloc = f"; allocation {row['allocation']} (treatment:control, declared)" if row.get("allocation") else ""
    # the test, sidedness and α are said once, here; the power and sample-size lines below leave them out
    L.append(f"  test: {TESTS[row['test']]} [{row['test']}] ({row['test_source']}); α = {alpha_text(row['alpha'])}, "
             f"{_alt_words(row['alternative'])}{alloc}")
    for r in row.get("power", []):
        L.append(f"  {r.line()}")
        L += [f"    note: {n}" for n in r.notes]
    if "sample_size" in row:
        L.append(f"  {row['sample_size'].line()}")
        if row["sample_size"].ratio != 1:
            L.append(f"    (n2 = {row['sample_size'].ratio:.3g} × n1, the original allocation)")
    for r in row.get("sequential", []):
        L += _sequential_text(r)
    if row.get("sequential_sample_size") is not None:
        L.append(f"  sequential n for the target: {row['sequential_sample_size'].n1[-1]} per group")
        L += _sequential_text(row["sequential_sample_size"])
    for r in row.get("d33", []):
        L.append(f"  d33: {r}")
    L += [f"  note: {n}" for n in row["notes"]]
    return L


def _row_json(row) -> dict:
    from analysis.results import jsonable

    out = {k: v for k, v in row.items() if k not in ("original", "power", "sample_size", "d33", "design",
                                                      "sequential", "sequential_sample_size")}
    if "sequential" in row:
        out["sequential"] = [r.to_dict() for r in row["sequential"]]
        ss = row.get("sequential_sample_size")
        out["sequential_sample_size"] = ss.to_dict() if ss is not None else None
    out["design"] = row["design"].to_dict() if row.get("design") is not None else None
    out["original"] = row["original"].to_dict() if row.get("original") is not None else None
    out["power"] = [r.to_dict() for r in row.get("power", [])]
    out["sample_size"] = row["sample_size"].to_dict() if "sample_size" in row else None
    out["d33"] = [r.to_dict() for r in row.get("d33", [])]
    return jsonable(out)


def _plot(rows, args, path) -> None:
    from analysis.power.exact import plot_power_curves, power_curve

    curves = []
    for row in rows:
        if row["reason"] or not (0 < row["p1"] < 1 and 0 < row["p2"] < 1):
            continue
        hi = max([row.get("n1") or 0] + list(args.n or []) + [30])
        ss = row.get("sample_size")
        if ss is not None and ss.n_first:
            hi = max(hi, ss.n_stable or ss.n_first)
        hi = min(int(hi * 1.5) + 5, 600)
        ns = range(2, hi + 1) if hi <= 300 else sorted(set(range(2, hi + 1, max(1, hi // 300))) | {hi})
        curves.append(power_curve(row["p1"], row["p2"], ns, row["alpha"], row["test"], row["alternative"],
                                  ratio=_ratio(row), label=row["label"][:60], target=args.target,
                                  original_n=row.get("n1")))
    if not curves:
        from analysis.errors import AnalysisError
        raise AnalysisError("--plot: no contrast has rates to plot")
    plot_power_curves(curves, path)


# --------------------------------------------------------------------------- #
# Sizes, checked before any work starts (issue 22.7; the limits: paradigms.limits)
# --------------------------------------------------------------------------- #
def _check_sizes(args) -> None:
    """The sizes every plan shares: simulations and jobs."""
    limits.check("--simulations", args.simulations, limits.SIMULATIONS)
    cores = limits.jobs_limit()
    cluster = getattr(args, "scheduler", None) or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if abs(args.jobs) > cores and args.jobs != -1 and not cluster:   # a Dask cluster has its own workers
        raise limits.LimitError(f"--jobs {args.jobs}: at most {cores}, the cores of this machine (or -1 for all "
                                "of them): more processes only queue for the cores, and each one is started "
                                "and holds memory")


def _normal_n(p1: float, p2: float, alpha: float, target: float, alternative: str, ratio: float):
    """n1 for ``target`` power by the normal approximation on Cohen's h (None if the direction
    tested cannot reach it): :func:`analysis.power.exact.normal_approximation_n1`."""
    from analysis.power.exact import normal_approximation_n1

    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    effect = {"two-sided": abs(h), "greater": h, "less": -h}[alternative]
    if effect <= 0:
        return None
    return int(math.ceil(normal_approximation_n1(effect, alpha, target, alternative == "two-sided", ratio)))


def _scan_tables(end: int, ratio: float, test: str) -> int:
    """Tables the exact sample-size scan enumerates from n = 2 to ``end`` (Barnard stops at its own limit)."""
    from analysis.power.exact import BARNARD_MAX_TABLES, _n2

    total = 0
    for n in range(2, end + 1):
        t = (n + 1) * (_n2(n, ratio) + 1)
        if test == "barnard" and t > BARNARD_MAX_TABLES:
            break
        total += t
    return total


def _check_exact_work(rows, args) -> None:
    """Each exact computation within :data:`paradigms.limits.EXACT_TABLES`, each sample-size scan
    within :data:`paradigms.limits.SCAN_TABLES`; equal rates with --target are said at once."""
    from analysis.errors import AnalysisError

    for row in rows:
        if row["reason"] or not (0 < row["p1"] < 1 and 0 < row["p2"] < 1):
            continue
        ratio, most = _ratio(row), limits.exact_n_limit(_ratio(row))
        for n in args.n or []:
            if n > most:
                alloc = "" if ratio == 1 else f" with n2 = {ratio:.3g} x n1 (the original allocation)"
                raise limits.LimitError(f"--n {n}: at most {most:,} per group{alloc}, {limits.EXACT_TABLES:,} "
                                        f"tables: {limits.EXACT_N.why}")
        if args.target is None:
            continue
        limits.check("--n-max", args.n_max, limits.EXACT_N, " per group")
        if row["p1"] == row["p2"]:
            raise AnalysisError(f"--target {args.target:g}: {row['label']}: the two rates are equal, so the power "
                                f"is the test's size (at most about alpha = {row['alpha']:g}) at every n: no n "
                                "reaches the target")
        nn = _normal_n(row["p1"], row["p2"], row["alpha"], args.target, row["alternative"], ratio)
        end = args.n_max if nn is None else min(args.n_max, math.ceil(1.15 * nn) + max(20, math.ceil(1.15 * nn) // 4))
        cost = _scan_tables(end, ratio, row["test"])
        if cost > limits.SCAN_TABLES.value:
            need = ("the direction tested cannot reach it" if nn is None else
                    f"the normal approximation needs about {nn:,} per group"
                    + (f", beyond --n-max {args.n_max:,}" if nn > args.n_max else ""))
            raise limits.LimitError(f"--target {args.target:g}: {row['label']}: {need}; the exact scan up to n = "
                                    f"{end:,} would enumerate {cost:,} tables: {limits.SCAN_TABLES}: "
                                    f"{limits.SCAN_TABLES.why}")


def _check_multisite(args) -> None:
    """--sites, --site-sd and --contrast, checked before any work (the sizes: paradigms.limits)."""
    from analysis.errors import AnalysisError

    if args.sites is None:
        for flag, v in (("--site-sd", args.site_sd), ("--contrast", args.contrast), ("--knha", args.knha or None)):
            if v is not None:
                raise AnalysisError(f"{flag} goes with --sites K (the power of a K-site replication)")
        return
    if args.sites < 2:
        raise AnalysisError(f"--sites {args.sites}: give at least 2 (a random-effects pooling needs two sites)")
    limits.check("--sites", args.sites, limits.MULTISITE_SITES)
    limits.check("--simulations x --sites", args.simulations * args.sites, limits.MULTISITE_TABLES, " site tables")
    if args.site_sd is None:
        raise AnalysisError("--sites: give --site-sd TAU, the between-site SD of the log odds ratio (0 for the "
                            "same effect at every site)")
    if not (math.isfinite(args.site_sd) and args.site_sd >= 0):
        raise AnalysisError(f"--site-sd {args.site_sd}: a standard deviation must be a finite number >= 0")
    limits.check("--site-sd", args.site_sd, limits.SITE_SD)
    if not args.n and args.target is None:
        raise AnalysisError("--sites: give --n N, the participants per condition at each site, or --target POWER "
                            "for the n per condition per site that reaches it")
    for n in args.n or []:
        limits.check("--n", n, limits.SIMULATED_N, " per condition")
    if args.target is not None:
        limits.check("--n-max", args.n_max, limits.SIMULATED_N, " per condition")
    if args.contrast is not None and args.rates:
        raise AnalysisError("--contrast names a declared contrast; with --rates there is only the one")


def _multisite(args, exp, study, alpha):
    """(the multi-site power of each contrast asked for (analysis.power.multisite) at each --n, with
    --target the n per condition per site that reaches it); None without --sites."""
    from analysis.errors import AnalysisError
    from analysis.power.multisite import (multisite_power, multisite_power_rates, multisite_sample_size,
                                          multisite_sample_size_rates)

    if args.sites is None:
        return None
    opts = dict(simulations=args.simulations, seed=args.seed, jobs=args.jobs, scheduler=args.scheduler,
                progress=True, test="knha" if args.knha else "z")
    if exp is None:
        alt = args.alternative or "two-sided"
        powers = [multisite_power_rates(args.rates[0], args.rates[1], args.sites, n, n, args.site_sd, alpha=alpha,
                                        alternative=alt, **opts) for n in args.n or []]
        sizes = [] if args.target is None else [
            multisite_sample_size_rates(args.rates[0], args.rates[1], args.sites, args.site_sd, args.target,
                                        alpha=alpha, alternative=alt, n_max=args.n_max, **opts)]
        return powers, sizes
    from paradigms.base import ContrastPlan, CountPlan, FactorialLogitPlan

    plan = exp.plan
    if not isinstance(plan, ContrastPlan) or isinstance(plan, (FactorialLogitPlan, CountPlan)):
        raise AnalysisError(f"--sites: {study} experiment {exp.number} declares a {type(plan).__name__}; the "
                            "multi-site power is for binary contrasts (a ContrastPlan)")
    if args.contrast is not None and not 0 <= args.contrast < len(plan.contrasts):
        raise AnalysisError(f"--contrast {args.contrast}: {study} experiment {exp.number} has "
                            f"{len(plan.contrasts)} contrasts (0 to {len(plan.contrasts) - 1})")
    chosen = [args.contrast] if args.contrast is not None else \
        [i for i, k in enumerate(plan.contrasts) if k.confirmatory]
    powers = [multisite_power(study, exp.number, i, args.sites, n, args.site_sd, alpha=args.alpha, **opts)
              for i in chosen for n in args.n or []]
    sizes = [multisite_sample_size(study, exp.number, i, args.sites, args.site_sd, args.target, alpha=args.alpha,
                                   n_max=args.n_max, **opts) for i in (chosen if args.target is not None else [])]
    return powers, sizes


def _multisite_text(results) -> list[str]:
    if results is None:
        return []
    lines = ["Multi-site replication (SIMULATED; pooled by random effects):"]
    for r in results[0] + results[1]:
        lines += ["  " + line for line in str(r).splitlines()]
    return lines


def _check_simulated_sizes(args) -> None:
    for n in args.n or []:
        limits.check("--n", n, limits.SIMULATED_N, " per condition")
    if args.target is not None:
        limits.check("--n-max", args.n_max, limits.SIMULATED_N, " per condition")


# --------------------------------------------------------------------------- #
def cmd_power(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance power``; returns the exit status (0)."""
    out = out or sys.stdout
    alpha = _check_power_args(args)
    result: dict = {"alpha": alpha, "alternative": args.alternative or "two-sided", "target": args.target}
    text: list[str] = []
    simulation = par = exp = None
    if args.rates:
        rows = _rates_rows(args, alpha)
        result.update(study=None, experiment=None)
    else:
        par, exp = _declared(args)
        result.update(study=par.id, experiment=exp.number, plan=type(exp.plan).__name__)
        text.append(f"{par.id} Experiment {exp.number}: {exp.title}")
        rows, simulation = _study_rows(args, par, exp, alpha)
    _check_exact_work(rows, args)
    multisite = _multisite(args, exp, None if par is None else par.id, alpha)
    for row in rows:
        _compute_binary(row, args)
    if rows:
        result["alpha"], result["alternative"] = rows[0]["alpha"], rows[0]["alternative"]
    if args.plot and rows:
        _plot(rows, args, args.plot)
    if args.json:
        _write_json(out, result, rows, simulation, multisite, args)
    else:
        out.write("\n".join(text + _power_text(rows, simulation, multisite, args)) + "\n")
    return 0


def _check_power_args(args: argparse.Namespace) -> float:
    """Every flag of ``power`` checked before any work starts; returns alpha."""
    from analysis.errors import AnalysisError
    from analysis.power.exact import _check_n, _check_unit

    if args.alpha is not None:
        _check_unit("--alpha", args.alpha)
    if args.target is not None:
        _check_unit("--target", args.target)
    for n in args.n or []:
        _check_n("--n", n)
    if args.simulations < 1:
        raise AnalysisError(f"--simulations {args.simulations}: give at least 1")
    if args.jobs == 0:
        raise AnalysisError("--jobs 0: give a positive number, or -1 for all cores")
    _check_n("--n-max", args.n_max)
    _check_sizes(args)
    _check_multisite(args)
    if args.looks is not None and not 1 <= args.looks <= 20:
        raise AnalysisError(f"--looks {args.looks}: give a whole number of looks from 1 to 20")
    if args.rates and args.study:
        raise AnalysisError(f"give a study or --rates, not both (study {args.study!r})")
    if not args.rates and not args.study:
        raise AnalysisError("give a study (e.g. cialdini1975) or --rates P1 P2")
    if args.plot:
        from analysis.commands.pool import _check_plot_target

        folder = Path(args.plot).parent
        if not (folder if str(folder) else Path(".")).is_dir():
            raise AnalysisError(f"--plot {args.plot}: the folder {folder} does not exist")
        _check_plot_target(Path(args.plot), args.force)
    return 0.05 if args.alpha is None else args.alpha


def _rates_rows(args: argparse.Namespace, alpha: float) -> list[dict]:
    """The one row of ``--rates P1 P2``."""
    from analysis.errors import AnalysisError
    from analysis.format import pct
    from analysis.power.exact import _check_rate

    p1, p2 = _check_rate("--rates P1", args.rates[0]), _check_rate("--rates P2", args.rates[1])
    if not (args.n or args.target is not None):
        raise AnalysisError("--rates: give --n N (power) or --target POWER (sample size)")
    return [{"label": f"{pct(p1)} vs {pct(p2)}", "original": None, "p1": p1, "p2": p2,
             "n1": None, "n2": None, "test": args.test or "fisher",
             "test_source": "--test" if args.test else "the default with --rates",
             "source": "given with --rates", "confidence": "", "reason": "", "notes": [],
             "alpha": alpha, "alternative": args.alternative or "two-sided"}]


def _declared(args: argparse.Namespace):
    """The declared paradigm and experiment of ``power STUDY [--experiment N]``."""
    from analysis.errors import AnalysisError
    import paradigms
    from paradigms.base import DeclarationError

    try:
        par = paradigms.get(args.study)
        return par, par.experiment(args.experiment)
    except (KeyError, DeclarationError) as exc:
        raise AnalysisError(str(exc).strip("'\"")) from None


def _study_rows(args: argparse.Namespace, par, exp, alpha: float):
    """A declared study's rows (exact power of its binary contrasts) and, for plans with no closed
    form, its simulated power; returns (rows, simulation or None)."""
    from analysis.errors import AnalysisError
    from paradigms.base import ContrastPlan, CountPlan, FactorialLogitPlan

    plan = exp.plan
    rows = _binary_rows(args, exp, par.id) if isinstance(plan, ContrastPlan) else []
    simulated = isinstance(plan, (FactorialLogitPlan, CountPlan))
    if not simulated and rows and all(r["reason"] for r in rows):
        raise AnalysisError(f"{par.id} experiment {exp.number}: the original rates of its confirmatory "
                            f"contrasts are not published ({rows[0]['reason']}); give --rates P1 P2")
    if not simulated:
        return rows, None
    if not args.n and args.target is None:
        raise AnalysisError(f"{par.id} experiment {exp.number}: the original cell sizes are not published; "
                            "give --n N (per condition) or --target POWER")
    _check_simulated_sizes(args)
    from analysis.power.simulated import simulation_power, simulation_sample_size

    sims = [simulation_power(par, exp.number, n, args.simulations, alpha, args.seed, args.jobs, progress=True,
                             scheduler=args.scheduler) for n in args.n or []]
    ss = None
    if args.target is not None:
        ss = simulation_sample_size(par, exp.number, args.target, args.simulations, alpha, args.seed,
                                    args.jobs, n_max=args.n_max, progress=True, scheduler=args.scheduler)
    return rows, {"power": sims, "sample_size": ss}


def _write_json(out, result: dict, rows, simulation, multisite, args: argparse.Namespace) -> None:
    from analysis.results import jsonable

    result["contrasts"] = [_row_json(r) for r in rows]
    if simulation is not None:
        result["simulation"] = {"power": [s.to_dict() for s in simulation["power"]],
                                "sample_size": simulation["sample_size"].to_dict()
                                if simulation["sample_size"] else None}
    result["plot"] = args.plot
    result["multisite"] = [r.to_dict() for r in multisite[0]] if multisite is not None else None
    if multisite is not None and args.target is not None:   # added key: the n per condition per site
        result["multisite_sample_size"] = [r.to_dict() for r in multisite[1]]
    out.write(json.dumps(jsonable(result), indent=2, ensure_ascii=False) + "\n")


def _power_text(rows, simulation, multisite, args: argparse.Namespace) -> list[str]:
    text: list[str] = []
    if rows:
        text.append("Confirmatory contrasts (exact power):" if args.study else "Two proportions (exact power):")
        for row in rows:
            text += _row_text(row, args)
    if simulation is not None:
        text.append("Simulated power of the plan's tests:")
        for s in simulation["power"]:
            text += ["  " + line for line in str(s).splitlines()]
        if simulation["sample_size"] is not None:
            text.append("  " + str(simulation["sample_size"]))
    text += _multisite_text(multisite)
    if args.plot:
        text.append(f"plot: {args.plot}")
    return text
