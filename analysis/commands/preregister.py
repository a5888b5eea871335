"""``compliance preregister``: a pre-registration filled from the declaration (issue 24.4).

The structure is AsPredicted's questions in the order of OSF's "AsPredicted Preregistration"
template: data collection, hypothesis, dependent variable, conditions, analyses, outliers and
exclusions, sample size, other.  Every answer is read from the study's declaration (its
confirmatory contrasts and their designs, :func:`analysis.power.design.design_of`; the outcome's
codebook entry; the declared conditions and exclusion codes), the plan (:func:`analysis.power.design.
plan_experiment`, and with ``--looks`` the group-sequential design) and the schedule (its SHA-256,
checked as ``compliance run`` checks it).  The file ends with the same facts as JSON (the block
after ``<!-- compliance-preregistration``), which ``analyze --interim``, ``report`` and
``replicate`` read back.  It refuses to overwrite and prints its own SHA-256.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

#: The marker of the machine-readable block at the end of a pre-registration.
MARKER = "<!-- compliance-preregistration"


def register(subparsers) -> None:
    from analysis.commands.plan import add_sequential_flags

    p = subparsers.add_parser(
        "preregister", help="write a pre-registration (AsPredicted's questions, OSF's order) from the declaration",
        description="A pre-registration filled from the study's declaration: hypotheses with direction for "
                    "each confirmatory contrast, the outcome and its coding, the conditions, the analysis with "
                    "its pinned methods, the declared exclusions, the sample size with its rationale and "
                    "stopping rule, and the schedule's SHA-256.  Refuses to overwrite; prints its SHA-256.")
    p.add_argument("study", help="a declared study (e.g. cialdini1975)")
    p.add_argument("--experiment", type=int, default=1, metavar="N", help="experiment number (default 1)")
    p.add_argument("--schedule", metavar="S", help="the schedule CSV (its SHA-256 is registered)")
    p.add_argument("--target", type=float, default=0.8, metavar="POWER", help="target power (default 0.8)")
    p.add_argument("--basis", choices=("original", "safeguard", "telescopes"), default="original",
                   help="the effect that sets N (default: the original's estimate)")
    add_sequential_flags(p)
    p.add_argument("--out", required=True, metavar="PREREG.md", help="the file to write (never overwritten)")
    p.set_defaults(handler=cmd_preregister)


def _direction(d) -> str:
    if d.p1 is None:
        return "differs from"
    return "is higher than" if d.p1 > d.p2 else "is lower than"


def _facts(args, paradigm, exp, plan, seq, schedule) -> dict:
    from analysis.stats.binary import METHODS

    facts = {"study": paradigm.id, "experiment": exp.number, "schedule": schedule,
             "contrasts": [{"label": r.design.label, **r.design.to_dict()} for r in plan["rows"]],
             "methods": dict(METHODS), "n_per_condition": plan["n_per_condition"], "total_n": plan["total_n"],
             "conditions": list(exp.condition_names), "basis": plan["basis"], "target": plan["target"],
             "exclusions": _exclusions(paradigm, exp), "sequential": None}
    if seq is not None:
        s = seq["sets_n"]
        facts["sequential"] = {"looks": s.design.looks, "spending": s.design.spending,
                               "alternative": s.design.alternative, "alpha": s.design.alpha,
                               "critical_z": list(s.design.critical), "critical_z_exact": list(s.critical_exact),
                               "contrast": plan["sets_n"], "n1": list(s.n1), "n2": list(s.n2),
                               "n_per_condition": seq["n_per_condition"], "total_n": seq["total_n"]}
        facts["n_per_condition"], facts["total_n"] = seq["n_per_condition"], seq["total_n"]
    return facts


def _exclusions(paradigm, exp) -> dict:
    """Exclusion codes the declaration can record: those its scripts set, and the field/engine codes."""
    from paradigms.base import ENGINE_EXCLUSION_REASONS, EXCLUSION_REASONS

    out = {}
    for step in exp.steps:
        for a in step.answers:
            if a.sets.get("excluded") == 1 and a.sets.get("exclusion_reason"):
                code = a.sets["exclusion_reason"]
                out[code] = EXCLUSION_REASONS.get(code, f"set by the script at step {step.id!r}")
    if paradigm.setting == "field":
        out.update({k: v for k, v in EXCLUSION_REASONS.items() if k not in out})
    out.update({k: v for k, v in ENGINE_EXCLUSION_REASONS.items() if k not in out})
    return out


def _schedule(path) -> dict:
    from paradigms.engine.schedule import load_schedule

    from analysis.errors import AnalysisError

    p = Path(path)
    if not p.is_file():
        raise AnalysisError(f"--schedule {path}: no such file")
    meta_path = p.with_name(p.name + ".meta.json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AnalysisError(f"--schedule {path}: its sidecar {meta_path.name} is missing or unreadable") from None
    import paradigms

    sched = load_schedule(p, paradigms.get(meta.get("paradigm", "")), int(meta.get("experiment", 0)))
    log = p.with_name(p.name + ".slots.log")
    used = len([ln for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip()]) if log.is_file() else 0
    return {"file": p.name, "sha256": sched.sha256, "slots": len(sched.slots), "seed": sched.seed,
            "paradigm": sched.paradigm, "experiment": sched.experiment, "slots_used": used}


def _markdown(paradigm, exp, plan, seq, facts) -> str:
    from analysis.format import format_number, pct
    from analysis.power.design import BASES, CORRECTIONS

    sch = facts["schedule"]
    L = [f"# Pre-registration: replication of {paradigm.id}, Experiment {exp.number}", "",
         f"{paradigm.citation}", "", f"*{exp.title}.* Written by `compliance preregister` from the study's "
         "declaration; AsPredicted's questions in the order of OSF's AsPredicted template.", "",
         "## 1. Data collection", ""]
    if sch is None:
        L.append("No data have been collected for this study yet (no schedule given).")
    elif sch["slots_used"]:
        L.append(f"**Data collection has started:** {sch['slots_used']} of the schedule's {sch['slots']} slots "
                 "are recorded as used.")
    else:
        L.append(f"No data have been collected yet: none of the schedule's {sch['slots']} slots is used.")
    L += ["", "## 2. Hypotheses", ""]
    for i, r in enumerate(plan["rows"], 1):
        d = r.design
        L.append(f"H{i} ({d.label}): the compliance rate in {' + '.join(d.treatment)} {_direction(d)} the rate "
                 f"in {' + '.join(d.control)}" + (f" (original: {pct(d.p1)} vs {pct(d.p2)})." if d.p1 is not None
                                                 else " (the original's rates are not published)."))
    L += ["", "## 3. Dependent variable", ""]
    outcome = next((m for m in paradigm.codebook(exp.number) if m.name == "complied"), None)
    if outcome is not None:
        L.append(f"`{outcome.name}` ({outcome.dtype}): {outcome.description}.")
    L += ["", "Coding rules:", "", paradigm.coding_rules.strip(), "", "## 4. Conditions", "",
          f"{len(exp.conditions)} between-subjects conditions, assigned by the schedule (block-randomised):", ""]
    L += [f"- `{c.name}` ({c.role}): {c.summary}" for c in exp.conditions]
    L += ["", "## 5. Analyses", "",
          f"Confirmatory family: {len(plan['rows'])} contrasts, {CORRECTIONS[plan['correction']]}, family "
          f"α = {format_number(plan['alpha'], 2, leading_zero=False)}.", ""]
    for i, r in enumerate(plan["rows"], 1):
        L.append(f"- H{i}: {r.design.describe()}. ({r.design.test_source}.)")
    L += ["", "Pinned methods: " + "; ".join(f"{k}: {v}" for k, v in facts["methods"].items()) + ".",
          "", "## 6. Outliers and exclusions", "",
          "A participant is excluded from the confirmatory tests only with one of these declared codes "
          "(`excluded = 1`, `exclusion_reason`):", ""]
    L += [f"- `{k}`: {v}" for k, v in facts["exclusions"].items()]
    L += ["", "Participants who withdraw their data are never analysed.", "", "## 7. Sample size", ""]
    L += _sample_size_lines(plan, seq, facts, BASES)
    L += ["", "## 8. Other", "", "Secondary: the contrasts the plan declares as not confirmatory; every "
          "replication criterion of `compliance replicate`.", ""]
    if sch is not None:
        L += [f"Schedule: `{sch['file']}`, {sch['slots']} slots, seed {sch['seed']}, SHA-256 `{sch['sha256']}`.", ""]
    L += [MARKER, json.dumps(facts, indent=2, ensure_ascii=False), "-->", ""]
    return "\n".join(L)


def _sample_size_lines(plan, seq, facts, bases) -> list[str]:
    if plan["total_n"] is None:
        return ["Not computable from the declaration (the original's rates are not published)."]
    L = [f"{facts['n_per_condition']} participants per condition, N = {facts['total_n']} in total. Rationale: the "
         f"first n at which every confirmatory contrast has exact power of at least {plan['target']:g} to detect "
         f"{bases[plan['basis']]}; the contrast that sets N is \"{plan['sets_n']}\" (`compliance plan`)."]
    if seq is None:
        L.append("Stopping rule: data collection stops when the schedule's slots up to N are filled; no interim "
                 "analysis of the outcome.")
    else:
        s = facts["sequential"]
        looks = ", ".join(f"{a} + {b}" for a, b in zip(s["n1"], s["n2"]))
        L.append(f"Stopping rule: group-sequential, {s['looks']} equally spaced looks ({looks} in the contrast "
                 f"that sets N), {s['spending']} alpha spending (Lan-DeMets), {s['alternative']}; stop and reject "
                 f"H0 at look k when |z| reaches {', '.join(f'{c:.3f}' for c in s['critical_z_exact'])} (exact "
                 f"regions; normal boundaries {', '.join(f'{c:.3f}' for c in s['critical_z'])}); else continue "
                 "to the last look.")
    return L


def read_preregistration(path) -> dict:
    """The facts block of a pre-registration written by ``compliance preregister``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.md"
    >>> _ = p.write_text("# x\\n" + MARKER + '\\n{"study": "s"}\\n-->\\n', encoding="utf-8")
    >>> read_preregistration(p)["study"]
    's'
    """
    from analysis.errors import AnalysisError

    text = Path(path).read_text(encoding="utf-8")
    if MARKER not in text:
        raise AnalysisError(f"{path}: not a pre-registration written by compliance preregister (no {MARKER!r})")
    block = text.split(MARKER, 1)[1].rsplit("-->", 1)[0]
    try:
        return json.loads(block)
    except ValueError as exc:
        raise AnalysisError(f"{path}: its facts block is not valid JSON ({exc})") from None


def cmd_preregister(args: argparse.Namespace, out=None) -> int:
    """Handler of ``compliance preregister``; returns the exit status (0)."""
    import paradigms
    from paradigms.base import DeclarationError

    from analysis.commands.plan import _sequential
    from analysis.errors import AnalysisError
    from analysis.power.design import plan_experiment

    out = out or sys.stdout
    target = Path(args.out)
    if target.exists():
        raise AnalysisError(f"--out {args.out}: the file exists; a pre-registration is never overwritten")
    if not (target.parent if str(target.parent) else Path(".")).is_dir():
        raise AnalysisError(f"--out {args.out}: the folder {target.parent} does not exist")
    try:
        par = paradigms.get(args.study)
        exp = par.experiment(args.experiment)
    except (KeyError, DeclarationError) as exc:
        raise AnalysisError(str(exc).strip("'\"")) from None
    schedule = _schedule(args.schedule) if args.schedule else None
    if schedule is not None and (schedule["paradigm"], schedule["experiment"]) != (par.id, exp.number):
        raise AnalysisError(f"--schedule {args.schedule}: a schedule of {schedule['paradigm']} Experiment "
                            f"{schedule['experiment']}, not of {par.id} Experiment {exp.number}")
    plan = plan_experiment(par.id, exp.number, args.target, None, args.basis)
    args.alternative = None
    seq = _sequential(plan, args) if args.looks and plan["sets_n"] is not None else None
    facts = _facts(args, par, exp, plan, seq, schedule)
    data = _markdown(par, exp, plan, seq, facts).encode("utf-8")
    with open(target, "xb") as fh:
        fh.write(data)
    out.write(f"wrote {target}\nSHA-256 {hashlib.sha256(data).hexdigest()}  (register this file and its hash)\n")
    return 0
