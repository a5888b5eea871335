"""Gather the result objects a report shows, section by section.

Each section is a :class:`Section`: a template name and the objects it renders.
A section is present when it applies (pooling only with several sites, the
reproduction only where published figures exist, and so on).
"""
from __future__ import annotations

import json
import platform
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import pandas as pd

from analysis.errors import AnalysisError
from analysis.format import format_number

__all__ = ["Section", "Report", "build_report", "build_study_report"]


@dataclass(frozen=True)
class Section:
    """One part of the report: ``template`` (under ``templates/sections``) renders ``context``."""

    id: str
    title: str
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """Everything one HTML report shows, in order."""

    title: str
    subtitle: str
    command: str
    sections: tuple[Section, ...]
    simulated: bool = False


# --------------------------------------------------------------------------- #
def _versions() -> dict[str, str]:
    import matplotlib
    import numpy
    import scipy
    import statsmodels

    import paradigms

    out = {"compliance-toolkit": paradigms.__version__, "python": platform.python_version(),
           "numpy": numpy.__version__, "pandas": pd.__version__, "scipy": scipy.__version__,
           "statsmodels": statsmodels.__version__, "matplotlib": matplotlib.__version__}
    try:
        import jinja2
        out["jinja2"] = jinja2.__version__
    except ImportError:  # pragma: no cover - jinja2 is a dependency
        pass
    return out


def _sha256(path: Path) -> str:
    from paradigms.hashing import file_sha256  # the one file hash (issue 22)

    return file_sha256(path)


def _sidecar(csv_path: Path) -> dict:
    side = csv_path.with_name(csv_path.name[: -len("_data.csv")] + "_data.json") \
        if csv_path.name.endswith("_data.csv") else csv_path.with_suffix(".json")
    try:
        return json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _figures(analyses) -> list[dict]:
    """PNG figures of the analyses (the same plots as ``analyze --plot``), as bytes with alt text."""
    from analysis.plots.rates import plot_analyses

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = plot_analyses(analyses, Path(tmp) / "figure.png")
        for p in paths:
            out.append({"png": Path(p).read_bytes(), "name": Path(p).name})
    return out


def _figure_alt(analysis) -> str:
    conds = getattr(analysis, "conditions", None)
    if conds:
        parts = [f"{c.condition} {c.complied}/{c.n}" for c in conds]
        return (f"Bar chart of compliance by condition with Wilson 95% confidence intervals, {analysis.paradigm} "
                f"Experiment {analysis.experiment}: " + "; ".join(parts)
                + ". Hollow diamonds mark the original study's published rates where known.")
    cells = getattr(analysis, "cells", ())
    parts = [f"{c.favor}/{c.liking} mean {format_number(c.mean)} (n = {c.n})" for c in cells]
    return (f"Mean {getattr(analysis, 'outcome', 'count')} per cell with 95% confidence intervals, "
            f"{analysis.paradigm} Experiment {analysis.experiment}: " + "; ".join(parts) + ".")


def _study_section(paradigm, experiment) -> Section:
    from analysis.replication.published import load_published

    pub = load_published()
    sel = pub[(pub["study"] == paradigm.id) & ((pub["experiment"] == experiment.number) | pub["experiment"].isna())]
    published = [{"condition": r.condition, "control": r.control, "measure": r.measure, "statistic": r.statistic,
                  "value": "NA (not available)" if pd.isna(r.value) else (r.as_printed or f"{r.value:g}"),
                  "source": r.source, "confidence": str(r.confidence), "note": r.note}
                 for r in sel.itertuples()]
    plan = experiment.plan
    return Section("study", "The study", "study.html.j2", {
        "paradigm": paradigm, "experiment": experiment, "plan_kind": type(plan).__name__,
        "contrasts": plan.contrasts, "published": published,
        "factorial": getattr(plan, "moderator", None) and plan})


def _codebook_section(paradigm, experiment_number: int, root: Optional[Path]) -> Section:
    desc = None
    if root is not None and (root / "dataset_description.json").is_file():
        desc = "dataset_description.json"
    return Section("codebook", "Codebook", "codebook.html.j2",
                   {"measures": paradigm.codebook(experiment_number), "description_file": desc})


def _reproduce_section(paradigm, experiment_number: int) -> Optional[Section]:
    from analysis.replication.reproduce import reproduce

    try:
        reps = [r for r in reproduce(paradigm.id, experiment_number) if r.checks]
    except AnalysisError:
        return None
    if not reps:
        return None
    return Section("reproduction", "The published statistics, recomputed", "reproduce.html.j2",
                   {"reproductions": reps})


def _how_section(command: str) -> Section:
    return Section("how", "How to reproduce this page", "how.html.j2",
                   {"command": command, "versions": _versions()})


# --------------------------------------------------------------------------- #
def build_report(*sources, command: str = "", include_simulated: bool = True) -> Report:
    """The report of session data: study, data, who was analysed, compliance, tests, codebook.

    Parameters
    ----------
    *sources : path
        Session CSV files or folders, as for :func:`analysis.load_sessions`.
    command : str
        The command that made the page, shown in its last section.
    include_simulated : bool
        Passed to the loader where it supports it.

    Returns
    -------
    Report

    Raises
    ------
    AnalysisError
        No session files, or files the loader refuses (the message names file, row and field).

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> from analysis.load.synthetic import rows_from_counts, write_session_csv
    >>> _ = write_session_csv(tmp / "study-cialdini1975_exp-1_site-S1_session-1_data.csv", rows_from_counts("cialdini1975", 1, {"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)}, site="S1"))
    >>> r = build_report(tmp)
    >>> [s.id for s in r.sections][:3]
    ['study', 'data', 'who']
    """
    from analysis.api import analyze
    from analysis.load.sessions import load_sessions

    import paradigms

    loaded = load_sessions(*sources)
    if not len(loaded.data) and not len(loaded.report):
        raise AnalysisError(f"{', '.join(map(str, sources))}: no participants in these session files")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analyses = analyze(loaded)
    warned = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    files = [Path(f) for f in loaded.files]
    sidecars = {f: _sidecar(f) for f in files}
    simulated = any(str(s.get("mode", "")).startswith("simulate") for s in sidecars.values())
    roots = {f.parent for f in files}
    root = roots.pop() if len(roots) == 1 else None

    sections: list[Section] = []
    first = analyses[0]
    paradigm = paradigms.get(first.paradigm)
    experiment = paradigm.experiment(first.experiment)
    sections.append(_study_section(paradigm, experiment))

    rows = []
    for f in files:
        s = sidecars[f]
        rows.append({"file": f.name, "sha256": _sha256(f), "site": s.get("site", ""), "session": s.get("session", ""),
                     "experimenter": s.get("experimenter", ""), "start": s.get("start_time", ""),
                     "end": s.get("end_time", ""), "status": s.get("status", "no sidecar"),
                     "mode": s.get("mode", ""), "rows": s.get("n_rows", ""),
                     "schedule_sha256": s.get("schedule_sha256") or "",
                     "toolkit": s.get("toolkit_version", ""), "psychopy": s.get("psychopy_version") or ""})
    d = loaded.data
    sites = sorted(set(map(str, d["site"]))) if "site" in d else []
    sections.append(Section("data", "The data", "data.html.j2", {
        "files": rows, "sites": sites,
        "experimenters": sorted(set(map(str, d["experimenter"]))) if "experimenter" in d else [],
        "dates": _date_range(d), "simulated": simulated}))

    deviations = []
    if "protocol_deviation" in d.columns:
        dev = d[d["protocol_deviation"].notna() & (d["protocol_deviation"].astype(str) != "")]
        for (cond, what), g in dev.groupby(["condition", "protocol_deviation"], sort=False):
            deviations.append({"condition": cond, "deviation": what, "n": len(g)})
    sections.append(Section("who", "Who was analysed", "who.html.j2",
                            {"analyses": analyses, "deviations": deviations}))

    figures = _figures(analyses)
    sections.append(Section("compliance", "Compliance by condition", "compliance.html.j2", {
        "analyses": analyses, "figures": figures, "alts": [_figure_alt(a) for a in analyses]}))
    sections.append(Section("tests", "Confirmatory tests", "tests.html.j2",
                            {"analyses": analyses, "warnings": warned}))
    for extra in _optional_sections(_public_view(loaded, sources), analyses, sites):
        sections.append(extra)
    sections.append(_codebook_section(paradigm, experiment.number, root))
    from analysis.records.paths import public_argument

    command = command or "compliance report " + " ".join(public_argument(s) for s in sources)
    sections.append(_how_section(command))
    title = f"{paradigm.title}: {paradigm.id}, Experiment {experiment.number}"
    n = sum(getattr(a, "n_analysed", getattr(a, "n", 0)) for a in analyses)
    subtitle = f"{len(files)} session file{'s' if len(files) != 1 else ''}, {len(sites)} site" \
               f"{'s' if len(sites) != 1 else ''}, N = {n} analysed"
    if simulated:
        subtitle += " — SIMULATED DATA"
    return Report(title, subtitle, command, tuple(sections), simulated=simulated)


def _date_range(d: pd.DataFrame) -> str:
    if "t_start" not in d or not len(d):
        return ""
    t = pd.to_datetime(d["t_start"], utc=True, errors="coerce").dropna()
    if not len(t):
        return ""
    a, b = t.min().date().isoformat(), t.max().date().isoformat()
    return a if a == b else f"{a} to {b}"


def _public_view(loaded, sources):
    """``loaded`` with every file named relative to the data folder it was found in (issue 22.8: a
    page is shared, and a path as typed may carry a user name)."""
    import dataclasses

    from analysis.records.paths import public_paths

    names = public_paths(loaded.files, sources)

    def frame(df):
        if "source_file" not in df.columns:
            return df
        df = df.copy()
        df["source_file"] = [names.get(str(f), str(f)) for f in df["source_file"]]
        return df

    return dataclasses.replace(loaded, files=type(loaded.files)(names[str(f)] for f in loaded.files),
                               origins={names.get(k, k): v for k, v in loaded.origins.items()},
                               data=frame(loaded.data), report=frame(loaded.report))


def _optional_sections(loaded, analyses, sites: Sequence[str]) -> list[Section]:
    """Sections of the replication layer, present when the data allow them."""
    out = []
    power = _power_section(analyses)
    if power is not None:
        out.append(power)
    verdicts = _verdict_section(loaded, analyses)
    if verdicts is not None:
        out.append(verdicts)
    pooled = _pool_section(loaded, analyses, sites)
    if pooled is not None:
        out.append(pooled)
    return out


def _png(draw) -> bytes:
    """The PNG bytes of a plotting function that saves to a path."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figure.png"
        draw(path)
        return path.read_bytes()


def _verdict_section(loaded, analyses) -> Optional[Section]:
    """Replication verdicts of the data against the original study (a binary plan, one experiment)."""
    from paradigms.base import ContrastPlan

    import paradigms

    if len(analyses) != 1 or not hasattr(analyses[0], "omnibus"):
        return None
    a = analyses[0]
    if not isinstance(paradigms.get(a.paradigm).experiment(a.experiment).plan, ContrastPlan):
        return None
    from analysis.replication.verdict import replicate
    from analysis.plots.replication import plot_replication

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = replicate(loaded)
    except AnalysisError as exc:  # e.g. a contrast with an empty condition: say so instead of a table
        return Section("verdicts", "Did it replicate?", "verdicts.html.j2",
                       {"result": None, "reason": str(exc), "table": None, "figure": None, "alt": ""})
    table = result.table()
    figure = _png(lambda path: plot_replication(result, path))
    alt = ("Original and replication estimates with 95% confidence intervals for each confirmatory contrast, "
           "with the original's 95% prediction interval as a band and the small-telescopes effect d33 and the "
           "equivalence bounds marked.")
    return Section("verdicts", "Did it replicate? The verdicts side by side", "verdicts.html.j2", {
        "result": result, "reason": "", "columns": list(table.columns), "index": list(table.index),
        "contrasts": list(dict.fromkeys(label for label, _ in table.columns)),
        "cells": table.to_dict("index"), "figure": figure, "alt": alt})


def _pool_section(loaded, analyses, sites: Sequence[str]) -> Optional[Section]:
    """Random-effects pooling over sites and the forest plot (several sites of a binary plan)."""
    from paradigms.base import ContrastPlan

    import paradigms

    if len(sites) < 2 or len(analyses) != 1:
        return None
    a = analyses[0]
    if not isinstance(paradigms.get(a.paradigm).experiment(a.experiment).plan, ContrastPlan):
        return None
    from analysis.plots.forest import plot_forest
    from analysis.meta.pooling import pool

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pool(loaded)
    frame = result.to_frame()
    tables = []
    for c in result.contrasts:
        rows = frame[(frame["contrast"] == c.label) & (frame["measure"] == "log_or")]
        tables.append({"contrast": c, "rows": rows.to_dict("records")})
    figure = _png(lambda path: plot_forest(result, path))
    alt = (f"Forest plot of the log odds ratio of each confirmatory contrast at each of {result.n_sites} sites, "
           f"with 95% confidence intervals, marker size by weight, the pooled random-effects estimate as a "
           f"diamond for each estimator, the 95% prediction interval for a new site and the line of no effect.")
    return Section("pooled", "Sites pooled (random-effects meta-analysis)", "pooled.html.j2", {
        "result": result, "tables": tables, "figure": figure, "alt": alt,
        "warnings": list(dict.fromkeys(str(w.message) for w in caught))})


def build_study_report(study: str, experiment: Optional[int] = None, command: str = "") -> Report:
    """The report of a published study without data: the study, its published statistics recomputed,
    and its codebook.

    Examples
    --------
    >>> r = build_study_report("cialdini1975", 1)
    >>> [s.id for s in r.sections]
    ['study', 'reproduction', 'power', 'codebook', 'how']
    """
    import paradigms

    paradigm = paradigms.get(study)
    exp = paradigm.experiment(experiment) if experiment is not None else paradigm.experiments[0]
    sections = [_study_section(paradigm, exp)]
    rep = _reproduce_section(paradigm, exp.number)
    if rep is not None:
        sections.append(rep)
    sections += _study_optional_sections(paradigm, exp)
    sections.append(_codebook_section(paradigm, exp.number, None))
    sections.append(_how_section(command or f"compliance report {study} --experiment {exp.number}"))
    return Report(f"{paradigm.title}: {paradigm.id}, Experiment {exp.number}",
                  "The published study, reproduced from its published numbers (no session data)",
                  command, tuple(sections))


def _study_optional_sections(paradigm, experiment) -> list[Section]:
    power = _power_rows(paradigm, experiment, None)
    if not power:
        return []
    return [Section("power", "The power the original design had", "power.html.j2",
                    {"rows": power, "data": False})]


def _power_rows(paradigm, experiment, analysed: Optional[Mapping[str, tuple[int, int]]]) -> list[dict]:
    """Exact power of each confirmatory contrast to detect the original's published effect, with the
    contrast's design (test, sidedness, α, allocation) from :func:`analysis.power.design.design_of`:
    at the original's n, and at this data set's n when given."""
    from paradigms.base import ContrastPlan

    from analysis.power.design import design_of
    from analysis.power.exact import power_two_proportions

    if not isinstance(experiment.plan, ContrastPlan):
        return []
    rows = []
    for k in experiment.plan.confirmatory:
        d = design_of(paradigm.id, experiment.number, k)
        orig = d.original
        row = {"label": k.label, "original": orig, "at_original": None, "at_data": None, "reason": "",
               "design": d.describe()}
        if not orig.rates_known:
            row["reason"] = "not computable: " + (orig.reason or "the original's rates are not published")
        else:
            p1, p2 = orig.treatment.rate, orig.control.rate
            if orig.counts_known and orig.treatment.n >= 2 and orig.control.n >= 2:
                row["at_original"] = d.power_of_original()
            if analysed is not None:
                n1, n2 = analysed.get(k.label, (0, 0))
                if n1 >= 2 and n2 >= 2:
                    row["at_data"] = power_two_proportions(p1, p2, n1, n2, d.alpha, d.test, d.alternative)
        rows.append(row)
    return rows


def _power_section(analyses) -> Optional[Section]:
    import paradigms

    if len(analyses) != 1 or not hasattr(analyses[0], "contrasts") or not hasattr(analyses[0], "omnibus"):
        return None
    a = analyses[0]
    paradigm = paradigms.get(a.paradigm)
    analysed = {k.label: (k.n_treatment, k.n_control) for k in a.contrasts}
    rows = _power_rows(paradigm, paradigm.experiment(a.experiment), analysed)
    if not rows:
        return None
    return Section("power", "The power the design had", "power.html.j2", {"rows": rows, "data": True})
