"""Adherence to a pre-registration (issue 24.5): every deviation of a data set from what was registered.

The registration is the facts block of ``compliance preregister`` (read with
:func:`analysis.commands.preregister.read_preregistration`).  Checked, each with its own line:

* **N reached vs planned**: the analysed N against the registered total N; under a sequential
  plan, the look the data are at (:func:`analysis.power.sequential.interim_look`): stopping
  before the last look without crossing that look's boundary, or going beyond the maximum N,
  is a deviation;
* **exclusions not declared**: an exclusion code in the data that the registration does not list;
* **the test**: a confirmatory contrast tested with another test than the registered one;
* **the schedule**: sessions that record another schedule SHA-256 than the registered one;
* **the looks on record** (under a sequential plan, with data): each interim look ``analyze --interim``
  recorded on the data folder's audit log under this registration, against the planned ones: an
  unplanned look (more looks than planned, or two at one planned look), a look after a recorded stop, a
  look before its planned n, and a planned interim look the data passed with no look on record.

A run without deviation says so.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Optional

from analysis.errors import AnalysisError
from analysis.results import Result

__all__ = ["Adherence", "check_adherence", "adherence_for", "adherence_of_replication", "adherence_section",
           "look_deviations"]


@dataclass(frozen=True)
class Adherence(Result):
    """The deviations from a pre-registration (none: ``deviations`` is empty) and what was checked.

    A :class:`~analysis.results.Result` without a test (``statistic``, ``pvalue``, ``ci_low``,
    ``ci_high`` are None); its frame row counts the deviations (``estimate``).
    """

    _aliases = {"term": "preregistration", "estimate": "n_deviations"}
    _measure = "deviations from the pre-registration"

    preregistration: str
    deviations: tuple[str, ...]
    checked: tuple[str, ...]

    @property
    def n_deviations(self) -> int:
        """How many deviations there are."""
        return len(self.deviations)

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """Text lines: one per deviation, or one saying there is none.

        Examples
        --------
        >>> Adherence("p.md", (), ("N",)).lines()
        ['Adherence to p.md: no deviation (checked: N).']
        """
        if not self.deviations:
            return [f"Adherence to {self.preregistration}: no deviation (checked: {', '.join(self.checked)})."]
        return [f"Adherence to {self.preregistration}: {len(self.deviations)} deviation(s):"] + \
            [f"  - {d}" for d in self.deviations]

    def to_dict(self) -> dict:
        return {"preregistration": self.preregistration, "deviations": list(self.deviations),
                "checked": list(self.checked), "deviation_free": not self.deviations}


def _n_deviations(facts: dict, counts: Mapping[str, tuple[int, int]], contrast_counts) -> list[str]:
    from analysis.power.sequential import exact_sequential, interim_look

    n = sum(m for _, m in counts.values())
    planned = facts.get("total_n")
    s = facts.get("sequential")
    if planned is None:
        return []
    if not s:
        return [] if n == planned else [f"N reached {n}, planned {planned} ({'fewer' if n < planned else 'more'})"]
    if n > planned:
        return [f"N reached {n}, beyond the planned maximum {planned}"]
    if contrast_counts is None:
        return [f"the registered contrast {s['contrast']!r} cannot be counted in these data"]
    plan = exact_sequential(s["n1"][-1], s["n2"][-1], s["looks"], s["alpha"], s["spending"], s["alternative"])
    x1, n1, x2, n2 = contrast_counts
    try:
        look = interim_look(plan, x1, n1, x2, n2)
    except AnalysisError:
        return [f"N reached {n}: before the first planned look ({plan.n1[0]} and {plan.n2[0]})"]
    out = [f"look {look.look} of {look.looks}: {d}" for d in look.notes]
    if look.decision == "continue":
        out.append(f"stopped at look {look.look} of {look.looks} (N = {n} of a planned maximum {planned}) "
                   "without crossing its boundary")
    return out


def check_adherence(facts: dict, name: str, counts: Mapping[str, tuple[int, int]], *,
                    exclusions: Optional[Mapping[str, int]] = None, tests: Optional[Mapping[str, str]] = None,
                    schedule_hashes=(), contrast_counts=None) -> Adherence:
    """Deviations of one data set from a registration's ``facts``.

    Parameters
    ----------
    facts : dict
        The registration's facts block.
    name : str
        The registration's file name (for the lines).
    counts : mapping
        Condition -> (complied, analysed n).
    exclusions : mapping, optional
        Exclusion code -> participants excluded with it.
    tests : mapping, optional
        Contrast label -> the test used.
    schedule_hashes : iterable of str
        Schedule SHA-256 values the sessions record.
    contrast_counts : (x1, n1, x2, n2), optional
        The sequential plan's contrast in the data.

    Examples
    --------
    >>> facts = {"total_n": 60, "exclusions": {"not_alone": "..."}, "contrasts": [{"label": "a", "test": "chi2"}]}
    >>> check_adherence(facts, "p.md", {"x": (10, 30), "y": (5, 30)}, tests={"a": "chi2"}).deviations
    ()
    >>> check_adherence(facts, "p.md", {"x": (10, 25)}, exclusions={"rain": 2}, tests={"a": "fisher"}).deviations[1]
    "exclusion code 'rain' (2 participants) is not declared in the pre-registration"
    """
    dev = _n_deviations(facts, counts, contrast_counts)
    declared = set(facts.get("exclusions") or {})
    for code, k in sorted((exclusions or {}).items()):
        if code not in declared:
            dev.append(f"exclusion code {code!r} ({k} participant{'s' if k != 1 else ''}) is not declared in the "
                       "pre-registration")
    registered = {c["label"]: c.get("test") for c in facts.get("contrasts", [])}
    for label, test in (tests or {}).items():
        if label in registered and registered[label] != test:
            dev.append(f"{label}: tested with {test}, registered {registered[label]}")
    sch = (facts.get("schedule") or {}).get("sha256")
    other = sorted(set(schedule_hashes) - {sch}) if sch else []
    if other:
        dev.append(f"sessions ran from another schedule (SHA-256 {', '.join(h[:12] + '…' for h in other)}) than the "
                   f"registered {sch[:12]}…")
    checked = ("N reached vs planned" + (" and the looks" if facts.get("sequential") else ""),
               "exclusions", "tests", "schedule")
    return Adherence(name, tuple(dev), checked)


def adherence_for(path, loaded, study: str, experiment: int, tests: Mapping[str, str]) -> Adherence:
    """:func:`check_adherence` of session data (a LoadedData) against the registration at ``path``.

    Examples
    --------
    >>> adherence_for("no-such.md", None, "s", 1, {})
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --preregistration no-such.md: no such file
    """
    from analysis.declared import declaration

    from analysis.commands.preregister import read_preregistration
    from analysis.power.interim import schedule_hashes

    if not Path(path).is_file():
        raise AnalysisError(f"--preregistration {path}: no such file")
    facts = read_preregistration(path)
    if (facts.get("study"), facts.get("experiment")) != (study, experiment):
        raise AnalysisError(f"--preregistration {path}: registers {facts.get('study')} Experiment "
                            f"{facts.get('experiment')}, not {study} Experiment {experiment}")
    d = loaded.analysable()
    d = d[(d["study"] == study) & (d["experiment"].astype(int) == experiment) & d["complied"].notna()]
    exp = declaration(study).experiment(experiment)
    counts = {c: (int(d[d["condition"] == c]["complied"].sum()), int((d["condition"] == c).sum()))
              for c in exp.condition_names}
    r = loaded.report
    r = r[(r["study"] == study) & (r["experiment"].astype(int) == experiment) & (r["status"] == "excluded")]
    exclusions = r["reason"].fillna("").astype(str).value_counts().to_dict()
    cc = _contrast_counts(facts, exp, counts)
    adh = check_adherence(facts, Path(path).name, counts, exclusions=exclusions, tests=tests,
                          schedule_hashes=schedule_hashes(loaded.files_of(study, experiment)), contrast_counts=cc)
    more = look_deviations(facts, path, loaded.files_of(study, experiment),
                           "simulated" in loaded.origin_of(study, experiment), cc)
    return replace(adh, deviations=adh.deviations + tuple(more)) if more else adh


def look_deviations(facts: dict, path, files, simulated: bool, contrast_counts) -> list[str]:
    """The interim looks on record under the registration at ``path`` (``analyze --interim``) against the
    planned ones, one line per difference (none without a sequential plan): each flag of
    :func:`analysis.power.interim.look_flags` on the looks in the order taken, and each planned interim
    look the data passed with no look on record.

    Examples
    --------
    >>> look_deviations({"total_n": 40}, "p.md", [], False, None)
    []
    """
    from analysis.power.interim import look_flags, recorded_looks
    from paradigms.hashing import file_sha256

    s = facts.get("sequential")
    if not s:
        return []
    looks = recorded_looks(files, file_sha256(path), simulated)
    out = []
    for m, e in enumerate(looks, start=1):
        for f in look_flags(e, looks[:m - 1], s["n1"], s["n2"])["flags"]:
            out.append(f"interim look {m} on record ({e['t']}, n = {e['n1']}/{e['n2']}, {e['decision']}): {f}: "
                       "α spent beyond the registered plan")
    n1, n2 = (contrast_counts[1], contrast_counts[3]) if contrast_counts else (0, 0)
    taken = {e["look"] for e in looks}
    for j in range(1, len(s["n1"])):            # planned look j is passed once the data reach look j + 1's n
        if n1 >= s["n1"][j] and n2 >= s["n2"][j] and j not in taken:
            out.append(f"planned look {j} of {s['looks']} (n = {s['n1'][j - 1]}/{s['n2'][j - 1]}): no look on "
                       "record (skipped, or taken without being recorded)")
    return out


def _contrast_counts(facts: dict, exp, counts):
    """(x1, n1, x2, n2) of the sequential plan's contrast in ``counts`` (None without a sequential plan)."""
    s = facts.get("sequential")
    k = next((k for k in exp.plan.contrasts if k.label == s["contrast"]), None) if s else None
    if k is None:
        return None
    t, c = exp.members(k.treatment, k.factor), exp.members(k.control, k.factor)
    get = lambda x: counts.get(x, (0, 0))  # noqa: E731
    return (sum(get(x)[0] for x in t), sum(get(x)[1] for x in t), sum(get(x)[0] for x in c), sum(get(x)[1] for x in c))


def adherence_of_replication(path, result, sources, is_study: bool, counts=None) -> Optional[Adherence]:
    """``replicate --preregistration``: the deviations of a replication's data (or ``--counts``) from the
    registration; with data and no path, the registration found beside the data (None when there is none).

    Examples
    --------
    >>> adherence_of_replication(None, None, ["cialdini1975"], True) is None
    True
    """
    from analysis.commands.preregister import read_preregistration

    if path is None and is_study:
        return None
    tests = {k.label: k.test for k in result.contrasts}
    if is_study:
        if not Path(path).is_file():
            raise AnalysisError(f"--preregistration {path}: no such file")
        facts = read_preregistration(path)
        if (facts.get("study"), facts.get("experiment")) != (result.study, result.experiment):
            raise AnalysisError(f"--preregistration {path}: registers {facts.get('study')} Experiment "
                                f"{facts.get('experiment')}, not {result.study} Experiment {result.experiment}")
        from analysis.declared import declaration

        exp = declaration(result.study).experiment(result.experiment)
        return check_adherence(facts, Path(path).name, counts or {}, tests=tests,
                               contrast_counts=_contrast_counts(facts, exp, counts or {}))
    from analysis.load.sessions import load_sessions
    from analysis.power.interim import find_preregistration

    loaded = load_sessions(*sources)
    if path is None:
        path = find_preregistration(loaded.files)
        if path is None:
            return None
    return adherence_for(path, loaded, result.study, result.experiment, tests)


def adherence_section(report, path, sources):
    """The report with an "Adherence to the pre-registration" section added (unchanged when no
    registration is given or found beside the data, or the data hold several experiments).

    The tests checked are the designs' (:func:`analysis.power.design.design_of`), as the report uses them.

    Examples
    --------
    >>> adherence_section("a report", None, []) == "a report"
    True
    """
    from dataclasses import replace

    from analysis.load.sessions import load_sessions
    from analysis.power.interim import find_preregistration

    if not sources:
        return report
    loaded = load_sessions(*sources)
    if path is None:
        path = find_preregistration(loaded.files)
        if path is None:
            return report
    found = loaded.experiments()
    if len(found) != 1:
        raise AnalysisError(f"--preregistration {path}: the data hold {len(found)} experiments; give one")
    study, experiment = found[0]
    from analysis.declared import declaration

    from analysis.power.design import design_of

    exp = declaration(study).experiment(experiment)
    tests = {k.label: design_of(study, experiment, k).test for k in getattr(exp.plan, "confirmatory", ())}
    adh = adherence_for(path, loaded, study, experiment, tests)
    from analysis.report.build import Section

    sec = Section("adherence", "Adherence to the pre-registration", "adherence.html.j2", {"adherence": adh})
    return replace(report, sections=tuple(report.sections) + (sec,))
