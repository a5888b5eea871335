"""``compliance plan``: how many participants a replication of one experiment needs (issue 24).

One table: the confirmatory family and its declared correction (α per test), every
confirmatory contrast with its test and allocation (:func:`analysis.power.design.design_of`),
the n per condition each needs for the target power under three bases for the effect (the
original's estimate, safeguard power, small telescopes), the contrast that sets N, the total
N, and the power of every confirmatory contrast at that N.  Exact power by enumeration
(:mod:`analysis.power.exact`).  With ``--looks K`` the design is group-sequential
(:mod:`analysis.power.sequential`): boundaries, exact regions, maximum and expected N.
"""
from __future__ import annotations

import argparse
import json
import sys

_SPENDING = ("obrien-fleming", "pocock")


def add_sequential_flags(p) -> None:
    """``--looks`` and ``--spending`` (shared with ``compliance power``)."""
    p.add_argument("--looks", type=int, metavar="K",
                   help="a group-sequential design with K equally spaced looks (Lan-DeMets alpha spending)")
    p.add_argument("--spending", choices=_SPENDING, default="obrien-fleming",
                   help="the spending function's type with --looks (default obrien-fleming)")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plan", help="sample size of a replication: every confirmatory contrast, three bases for the effect",
        description="The N a replication needs: the confirmatory family and its declared correction, the "
                    "contrast that sets N, n per condition and total N under the declared allocation, the "
                    "power at that N of every confirmatory contrast, and three bases for the effect side by "
                    "side (the original's estimate; safeguard power, Perugini et al. 2014; small telescopes, "
                    "Simonsohn 2015).  Exact power by enumeration.")
    p.add_argument("study", help="a declared study (e.g. cialdini1975)")
    p.add_argument("--experiment", type=int, default=1, metavar="N", help="experiment number (default 1)")
    p.add_argument("--target", type=float, default=0.8, metavar="POWER", help="target power (default 0.8)")
    p.add_argument("--alpha", type=float, help="family α (default: the plan's, 0.05 unless declared)")
    p.add_argument("--basis", choices=("original", "safeguard", "telescopes"), default="original",
                   help="the effect that sets N (default: the original's estimate)")
    p.add_argument("--alternative", choices=("two-sided", "greater", "less"),
                   help="with --looks: sidedness of the boundaries (default: the contrasts' own)")
    add_sequential_flags(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of the table")
    p.set_defaults(handler=cmd_plan)


def _sequential(plan: dict, args) -> dict:
    """The group-sequential version of the plan: the contrast that sets N, with exact regions."""
    from analysis.errors import AnalysisError
    from analysis.power.sequential import exact_sequential, sequential_sample_size

    row = next(r for r in plan["rows"] if r.design.label == plan["sets_n"])
    d = row.design
    p1, p2 = row.rates[plan["basis"]]
    alt = args.alternative or d.alternative
    start = plan["n_per_condition"] * len(d.treatment)
    seq = sequential_sample_size(p1, p2, plan["target"], args.looks, d.alpha_per_test, args.spending, alt,
                                 d.ratio, n_start=start, n_max=max(4 * start, 2000))
    if seq is None:
        raise AnalysisError(f"--looks {args.looks}: the target power is not reached with up to "
                            f"{max(4 * start, 2000)} per group")
    n_pc = -(-seq.n1[-1] // len(d.treatment))
    others = {}
    for r in plan["rows"]:
        q1, q2 = r.rates[plan["basis"]]
        if q1 is None or r.design.label == d.label:
            continue
        others[r.design.label] = exact_sequential(n_pc * len(r.design.treatment), n_pc * len(r.design.control),
                                                  args.looks, r.design.alpha_per_test, args.spending,
                                                  args.alternative or r.design.alternative, q1, q2)
    total = n_pc * len(plan["conditions"])
    scale = total / seq.max_n          # every condition grows with the contrast's groups
    return {"sets_n": seq, "n_per_condition": n_pc, "total_n": total, "others": others,
            "expected_total_n_h0": seq.expected_n_h0 * scale, "expected_total_n_h1": seq.expected_n_h1 * scale}


def _text(plan: dict, seq, args) -> list[str]:
    from analysis.format import format_number, pct
    from analysis.power.design import BASES, CORRECTIONS, _alpha_text

    L = [f"{plan['study']} Experiment {plan['experiment']}: planning a replication (target power "
         f"{format_number(plan['target'], 2, leading_zero=False)}, exact power by enumeration)",
         f"Confirmatory family: {plan['family_size']} contrasts, {CORRECTIONS[plan['correction']]} "
         f"(declared in the plan); α = {_alpha_text(plan['alpha'])} for the family, "
         f"α per test = {_alpha_text(plan['alpha_per_test'])}"]
    head = f"  {'contrast':<58} {'original':>9} {'safeguard':>10} {'telescopes':>11} {'2.5x test':>10}"
    L += ["n per condition for the target power, by the effect planned for:", head]
    for r in plan["rows"]:
        ns = [r.n_per_condition[b] for b in BASES]
        cells = [f"{n:>9}" if n is not None else f"{'NA':>9}" for n in ns]
        tt = r.telescopes_test_n
        L.append(f"  {r.design.label[:58]:<58} {cells[0]} {cells[1]:>10} {cells[2]:>11} "
                 f"{tt if tt is not None else 'NA':>10}")
        L.append(f"    {r.design.describe()}; {r.design.test_source}")
        for b in BASES:
            p1, p2 = r.rates[b]
            eff = f"{pct(p1)} vs {pct(p2)}" if p1 is not None else "—"
            L.append(f"    {b}: {eff} ({r.notes[b]})")
    L.append("  (2.5x test: Simonsohn's small-telescopes n, 80% power to reject d33 when the true effect is 0)")
    if plan["sets_n"] is None:
        L.append(f"N: not computable under {args.basis} for any contrast")
        return L
    L.append(f"Sets N ({BASES[plan['basis']]}): {plan['sets_n']}")
    L.append(f"n per condition: {plan['n_per_condition']}; total N = {plan['total_n']} "
             f"({len(plan['conditions'])} conditions: {', '.join(plan['conditions'])})")
    L.append("Power at that N (exact):")
    for label, pw in plan["power"].items():
        L.append(f"  {label[:70]}: {format_number(pw.power, 3, leading_zero=False)} "
                 f"(n = {pw.n1} and {pw.n2})")
    if seq is not None:
        s = seq["sets_n"]
        L.append(f"Group-sequential: {s.design}")
        L.append(f"  exact critical |z| per look: {', '.join(format_number(c, 3) for c in s.critical_exact)}; "
                 f"exact α spent (cumulative, max over the common rate): "
                 f"{', '.join(format_number(a, 4, leading_zero=False) for a in s.alpha_exact)}")
        L.append(f"  n per condition at the last look: {seq['n_per_condition']}; maximum total N = "
                 f"{seq['total_n']}; power {format_number(s.power, 3, leading_zero=False)}; expected total N "
                 f"under H0 {format_number(seq['expected_total_n_h0'], 1)}, under H1 "
                 f"{format_number(seq['expected_total_n_h1'], 1)} (stopping on this contrast)")
    return L


def _json(plan: dict, seq) -> dict:
    from analysis.results import jsonable

    out = {k: v for k, v in plan.items() if k not in ("rows", "power")}
    out["contrasts"] = [r.to_dict() for r in plan["rows"]]     # ContrastPlanRow.to_dict: the same keys
    out["power"] = {k: v.to_dict() for k, v in plan["power"].items()}
    if seq is not None:
        out["sequential"] = {**seq["sets_n"].to_dict(), "contrast": plan["sets_n"],
                             "n_per_condition": seq["n_per_condition"], "total_n": seq["total_n"],
                             "expected_total_n_h0": seq["expected_total_n_h0"],
                             "expected_total_n_h1": seq["expected_total_n_h1"],
                             "others": {k: v.to_dict() for k, v in seq["others"].items()}}
    return jsonable(out)


def cmd_plan(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance plan``; returns the exit status (0)."""
    from analysis.errors import AnalysisError
    from analysis.power.design import plan_experiment
    from analysis.power.exact import _check_unit

    out = out or sys.stdout
    _check_unit("--target", args.target)
    if args.alpha is not None:
        _check_unit("--alpha", args.alpha)
    if args.looks is not None and not 1 <= args.looks <= 20:
        raise AnalysisError(f"--looks {args.looks}: give a whole number of looks from 1 to 20")
    import paradigms
    from paradigms.base import DeclarationError

    try:
        paradigms.get(args.study).experiment(args.experiment)
    except (KeyError, DeclarationError) as exc:
        raise AnalysisError(str(exc).strip("'\"")) from None
    plan = plan_experiment(args.study, args.experiment, args.target, args.alpha, args.basis)
    seq = _sequential(plan, args) if args.looks and plan["sets_n"] is not None else None
    if args.json:
        out.write(json.dumps(_json(plan, seq), indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(_text(plan, seq, args)) + "\n")
    return 0
