"""``compliance analyze --interim``: an interim look at data collected under a pre-registered sequential plan.

The plan is the facts block of a pre-registration (``compliance preregister``): given as
``--interim PREREG.md``, or found beside the data: every ``*.md`` in the data's folders and their
parents whose registered schedule SHA-256 is the one the sessions' sidecars record
(``schedule_sha256``).  The look, its boundary and the decision come from
:func:`analysis.power.sequential.interim_lines`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from analysis.errors import AnalysisError

__all__ = ["schedule_hashes", "find_preregistration", "interim_text", "interim_json"]


def schedule_hashes(files) -> set[str]:
    """The schedule SHA-256 values the sessions' sidecars (``*_data.json``) record.

    Examples
    --------
    >>> schedule_hashes([])
    set()
    """
    out = set()
    for f in files:
        side = Path(str(f).replace("_data.csv", "_data.json"))
        try:
            sha = json.loads(side.read_text(encoding="utf-8")).get("schedule_sha256")
        except (OSError, ValueError):
            continue
        if sha:
            out.add(sha)
    return out


def find_preregistration(files) -> Optional[Path]:
    """The pre-registration beside the data whose schedule SHA-256 the sessions record (None if none).

    Examples
    --------
    >>> find_preregistration([]) is None
    True
    """
    from analysis.commands.preregister import MARKER, read_preregistration

    hashes = schedule_hashes(files)
    if not hashes:
        return None
    folders: list[Path] = []
    for f in files:
        for d in (Path(f).parent, Path(f).parent.parent):
            if d not in folders:
                folders.append(d)
    for d in folders:
        for md in sorted(d.glob("*.md")):
            try:
                if MARKER not in md.read_text(encoding="utf-8"):
                    continue
                facts = read_preregistration(md)
            except (OSError, UnicodeDecodeError, AnalysisError):
                continue
            if (facts.get("schedule") or {}).get("sha256") in hashes:
                return md
    return None


def _registered(spec: str, loaded, analyses):
    """(path, facts, the registered experiment's analysis) for ``--interim [PREREG.md]``."""
    from analysis.commands.preregister import read_preregistration

    path = Path(spec) if spec else find_preregistration(loaded.files)
    if path is None:
        raise AnalysisError("--interim: no pre-registration found beside the data (none records the sessions' "
                            "schedule SHA-256); give --interim PREREG.md")
    if not path.is_file():
        raise AnalysisError(f"--interim {spec}: no such file")
    facts = read_preregistration(path)
    mine = [a for a in analyses if (a.paradigm, a.experiment) == (facts.get("study"), facts.get("experiment"))]
    if not mine:
        raise AnalysisError(f"--interim {path}: registers {facts.get('study')} Experiment {facts.get('experiment')}, "
                            "which is not in the data")
    return path, facts, mine[0]


def _simulated(loaded, a) -> bool:
    return "simulated" in (loaded.origin_of(a.paradigm, a.experiment) if hasattr(loaded, "origin_of") else ())


def interim_text(spec: str, loaded, analyses) -> str:
    """The interim lines for ``analyze --interim [PREREG.md]`` (``spec`` "" = find it beside the data).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> interim_text("", NS(files=()), [])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --interim: no pre-registration found beside the data (none records the sessions' schedule SHA-256); give --interim PREREG.md
    """
    from analysis.power.sequential import interim_lines

    path, facts, a = _registered(spec, loaded, analyses)
    lines = interim_lines(facts, a, path.name)
    if _simulated(loaded, a):
        lines[0] = "SIMULATED data: " + lines[0]
    return "\n".join(lines)


def interim_json(spec: str, loaded, analyses) -> tuple[tuple[str, int], dict]:
    """``analyze --interim --json``: ((study, experiment), the interim object) for the registered experiment.

    The object (keys documented in the README's interim paragraph): ``preregistration`` (file name),
    ``sequential`` (whether it registers a sequential plan), ``simulated``, then, under a sequential plan,
    every key of :class:`analysis.power.sequential.InterimLook` (``look``, ``looks``, ``n1``, ``n2``,
    ``planned_n1``, ``planned_n2``, ``z``, ``critical``, ``critical_normal``, ``decision``, ``notes``,
    ``contrast``, ``risk_difference``, ``pvalue`` and ``ci_low``/``ci_high``: the stage-wise p and the
    repeated CI at a stop, None otherwise; ``statistic`` = ``z``), ``stopped``, ``pvalue_stagewise``,
    ``repeated_ci`` ([low, high] or None) and ``boundaries`` (the registered plan: ``spending``,
    ``alpha``, ``alternative``, ``n1``/``n2`` per look, ``critical_z_exact``, ``critical_z``,
    ``alpha_spent``, ``alpha_exact``).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> interim_json("", NS(files=()), [])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --interim: no pre-registration found beside the data (none records the sessions' schedule SHA-256); give --interim PREREG.md
    """
    from analysis.power.sequential import exact_sequential, interim_result

    path, facts, a = _registered(spec, loaded, analyses)
    out = {"preregistration": path.name, "sequential": bool(facts.get("sequential")),
           "simulated": _simulated(loaded, a)}
    look = interim_result(facts, a, path.name)
    if look is None:
        out.update(decision=None, note=f"{path.name} registers no sequential plan (fixed N): no interim decision "
                                       "to make")
        return (a.paradigm, a.experiment), out
    s = facts["sequential"]
    plan = exact_sequential(s["n1"][-1], s["n2"][-1], s["looks"], s["alpha"], s["spending"], s["alternative"])
    out.update(look.to_dict())
    out.update(stopped=look.decision.startswith("stop"), pvalue_stagewise=look.pvalue,
               repeated_ci=None if look.ci_low is None else [look.ci_low, look.ci_high],
               boundaries={"spending": s["spending"], "alpha": s["alpha"], "alternative": s["alternative"],
                           "n1": list(plan.n1), "n2": list(plan.n2), "critical_z_exact": list(plan.critical_exact),
                           "critical_z": list(plan.design.critical), "alpha_spent": list(plan.design.alpha_spent),
                           "alpha_exact": list(plan.alpha_exact)})
    from analysis.results import jsonable

    return (a.paradigm, a.experiment), jsonable(out)     # an infinite boundary (no region) becomes None
