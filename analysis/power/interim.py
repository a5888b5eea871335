"""``compliance analyze --interim``: an interim look at data collected under a pre-registered sequential plan.

The plan is the facts block of a pre-registration (``compliance preregister``): given as
``--interim PREREG.md``, or found beside the data: every ``*.md`` in the data's folders and their
parents whose registered schedule SHA-256 is the one the sessions' sidecars record
(``schedule_sha256``).  The look, its boundary and the decision come from
:func:`analysis.power.sequential.interim_lines`.

Every look is put on record (issue 24, "no per-look log"): :func:`take_look` appends a ``look`` entry to
the record chain (``audit_log.jsonl``) of the folder holding the experiment's sessions, through
:func:`analysis.records.audit.append_look`, so ``compliance verify`` sees an edit or a cut.  A look at the
same data as the last one on record (same n1/n2, same ``data_sha256``: the sessions' close hashes and
withdrawals) is a repeat: nothing is appended.  A look that cannot be recorded (the folder is not
writable) is not taken: one line, exit 2, nothing printed.  Looks at simulated data are recorded too,
marked ``simulated`` (a rehearsal shows what the real study will record and flag) and counted apart from
the real looks.  The looks on record are said beside the current one, and every way they leave the
registered plan is flagged (:func:`look_flags`): more looks than planned or two at one planned look, a
look after a recorded stop, a look before its planned n: α spent beyond the registered plan.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from analysis.errors import AnalysisError

__all__ = ["schedule_hashes", "find_preregistration", "interim_text", "interim_json", "data_sha256", "look_flags",
           "take_look", "LookRecord", "recorded_looks"]


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


def data_sha256(files) -> str:
    """SHA-256 of the data an interim look saw: each session file's name and the ``csv_sha256`` its folder's
    record chain holds (the last ``close`` entry; the file's own hash where the chain has none), and the
    participants withdrawn after their session.

    Examples
    --------
    >>> data_sha256([]) == hashlib.sha256(b"").hexdigest()
    True
    """
    from analysis.records.audit import AUDIT_LOG, read_audit_log, withdrawals_for
    from paradigms.hashing import file_sha256

    closes: dict[Path, dict] = {}
    lines = []
    for f in sorted((Path(x) for x in files), key=lambda p: p.name):
        log = f.parent / AUDIT_LOG
        if log not in closes:
            closes[log] = {e["session_file"]: e["csv_sha256"] for e in read_audit_log(log)
                           if e["action"] == "close"} if log.is_file() else {}
        lines.append(f"{f.name} {closes[log].get(f.name) or file_sha256(f)}")
    lines += sorted(f"withdrawn {pid}" for pid in withdrawals_for(files))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _finite(x) -> Optional[float]:
    return float(x) if x is not None and math.isfinite(x) else None


def _record_folder(files) -> Path:
    """The folder whose audit log takes the look: the deepest one holding every session file of the experiment."""
    return Path(os.path.commonpath([str(Path(f).absolute().parent) for f in files]))


def recorded_looks(files, preregistration_sha256: str, simulated: bool) -> list[dict]:
    """The looks on record under one pre-registration (by its SHA-256), at simulated data or at real data,
    oldest first: from the audit logs of the folder holding the sessions, the folders above it and the
    sessions' folders (each entry with ``log``).

    Examples
    --------
    >>> recorded_looks([], "0" * 64, False)
    []
    """
    from analysis.records.audit import AUDIT_LOG, audit_logs_for, looks_in

    if not files:
        return []
    folder = _record_folder(files)
    logs = dict.fromkeys([folder / AUDIT_LOG, *(log for f in files for log in audit_logs_for(f))])
    found = {(e["log"], e["seq"]): e for log in logs for e in looks_in(log)
             if e.get("preregistration_sha256") == preregistration_sha256
             and bool(e.get("simulated")) == bool(simulated)}
    return sorted(found.values(), key=lambda e: (str(e["t"]), e["seq"]))


def _n(e) -> str:
    return f"n = {e['n1']}/{e['n2']}"


def look_flags(entry: dict, earlier: list, planned_n1, planned_n2) -> dict:
    """How a look leaves the registered plan, given the looks on record before it.

    ``unplanned_look``: more looks on record than planned, or a second look at one planned look;
    ``look_after_stop``: a look after a recorded stop; ``look_before_planned_n``: the m-th look on record
    taken before the planned n of look m.  ``flags`` says each in one line.

    Examples
    --------
    >>> first = {"look": 1, "looks": 2, "n1": 20, "n2": 20, "decision": "continue", "t": "2026-01-05"}
    >>> look_flags(first, [], [20, 40], [20, 40])["flags"]
    []
    >>> again = {**first, "n1": 25, "n2": 25}
    >>> f = look_flags(again, [first], [20, 40], [20, 40])
    >>> f["unplanned_look"], f["look_after_stop"], f["look_before_planned_n"]
    (True, False, True)
    """
    m, looks = len(earlier) + 1, entry["looks"]
    flags, kinds = [], set()
    if m > looks:
        kinds.add("unplanned_look")
        flags.append(f"look {m} on record, but the plan has {looks} looks: an unplanned look")
    for e in earlier:
        if e["look"] == entry["look"]:
            kinds.add("unplanned_look")
            flags.append(f"a second look at planned look {entry['look']} (the first on {e['t']}, {_n(e)}): "
                         "an unplanned look")
            break
    stops = [e for e in earlier if str(e.get("decision", "")).startswith("stop")]
    if stops:
        kinds.add("look_after_stop")
        flags.append(f"a look after the stop on record (look {stops[0]['look']} on {stops[0]['t']}, {_n(stops[0])}, "
                     f"{stops[0]['decision']}): data collected after a stop")
    if m <= looks and (entry["n1"] < planned_n1[m - 1] or entry["n2"] < planned_n2[m - 1]):
        kinds.add("look_before_planned_n")
        flags.append(f"look {m} on record taken at {_n(entry)}, before look {m}'s planned n = "
                     f"{planned_n1[m - 1]}/{planned_n2[m - 1]}")
    return {"flags": flags, **{k: k in kinds for k in ("unplanned_look", "look_after_stop", "look_before_planned_n")}}


def _shown(log) -> str:
    """A log's path as outputs print it: relative to the working folder when it is below it (an absolute
    path would carry the user's home folder into a shared output), else as it is."""
    rel = os.path.relpath(str(log))
    return str(log) if rel.startswith("..") else rel


@dataclass(frozen=True)
class LookRecord:
    """An interim look as put on record: the entry (``log``, ``seq``, ``t``), whether it is a repeat of the
    last look at the same data (nothing appended), the looks on record before it, and its flags."""

    entry: dict
    repeat: bool
    earlier: tuple
    flags: dict

    def lines(self) -> list[str]:
        """The text beside the look (one line, plus the flags and what they mean)."""
        e = self.entry
        where = f"entry {e['seq']} of {_shown(e['log'])}"
        sim = " (simulated data: on record as simulated, counted apart from real looks)" if e.get("simulated") else ""
        before = "; ".join(f"look {x['look']} on {x['t']}, {_n(x)}, {x['decision']}" for x in self.earlier)
        before = f"(earlier: {before})" if before else "(no earlier look on record)"
        if self.repeat:
            head = (f"  repeat: the same data as look {e['look']} of {e['looks']} on record ({e['t']}, {where}; "
                    f"{_n(e)}, data SHA-256 {e['data_sha256'][:12]}...): not a new look, nothing appended {before}")
        else:
            head = f"  on record: look {e['look']} of {e['looks']}, {e['t']}, {where} {before}"
        out = [head + sim]
        out += [f"  UNPLANNED: {f}" for f in self.flags["flags"]]
        if self.flags["flags"]:
            out.append("  meaning: α spent beyond the registered plan: the type I error rate is above the registered "
                       "α, by an amount these boundaries do not give (they are the registered ones, not recomputed "
                       "for the looks taken); report it as a deviation")
        return out

    def to_dict(self) -> dict:
        """The new keys of ``analyze --interim --json`` (besides the look's own)."""
        keep = ("seq", "t", "log", "look", "n1", "n2", "z", "decision", "data_sha256")
        shown = lambda x, ks: {k: _shown(x[k]) if k == "log" else x.get(k) for k in ks}  # noqa: E731
        return {"recorded": not self.repeat, "repeat": self.repeat,
                "record": shown(self.entry, ("log", "seq", "t", "data_sha256")),
                "looks_on_record": len(self.earlier) + 1,
                "earlier_looks": [shown(x, keep) for x in self.earlier],
                "look_flags": list(self.flags["flags"]), "alpha_beyond_plan": bool(self.flags["flags"]),
                **{k: self.flags[k] for k in ("unplanned_look", "look_after_stop", "look_before_planned_n")}}


def take_look(spec: str, loaded, analyses, now: Optional[str] = None):
    """Take an interim look and put it on record: (path, facts, analysis, the registered plan
    (:class:`~analysis.power.sequential.ExactSequential`, computed once for the look, its flags and the
    JSON's boundaries), :class:`InterimLook`, :class:`LookRecord`); the last three None under a fixed-N
    registration (no look to take).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> take_look("", NS(files=()), [])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --interim: no pre-registration found beside the data (none records the sessions' schedule SHA-256); give --interim PREREG.md
    """
    from analysis.power.sequential import registered_look
    from analysis.records.audit import append_look
    from paradigms.hashing import file_sha256

    path, facts, a = _registered(spec, loaded, analyses)
    plan, look = registered_look(facts, a, path.name)
    if look is None:
        return path, facts, a, None, None, None
    files = loaded.files_of(a.paradigm, a.experiment)
    entry = {"preregistration": path.name, "preregistration_sha256": file_sha256(path), "study": a.paradigm,
             "experiment": int(a.experiment), "contrast": look.contrast, "look": look.look, "looks": look.looks,
             "n1": int(look.n1), "n2": int(look.n2), "planned_n1": int(look.planned_n1),
             "planned_n2": int(look.planned_n2), "z": _finite(look.z), "critical": _finite(look.critical),
             "critical_normal": _finite(look.critical_normal), "decision": look.decision,
             "simulated": _simulated(loaded, a), "data_sha256": data_sha256(files)}
    folder = _record_folder(files)
    earlier = recorded_looks(files, entry["preregistration_sha256"], entry["simulated"])
    written, repeat = append_look(folder, entry, now)
    if repeat:
        earlier = [e for e in earlier if (e["log"], e["seq"]) != (written["log"], written["seq"])]
    flags = look_flags(entry, earlier, plan.n1, plan.n2)
    return path, facts, a, plan, look, LookRecord(written, repeat, tuple(earlier), flags)


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
    from analysis.power.sequential import look_lines

    path, facts, a, _, look, record = take_look(spec, loaded, analyses)
    lines = look_lines(look, path.name)
    if _simulated(loaded, a):
        lines[0] = "SIMULATED data: " + lines[0]
    if record is not None:
        lines += record.lines()
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
    ``alpha_spent``, ``alpha_exact``); and the look's record (:class:`LookRecord`): ``recorded`` (appended
    now), ``repeat`` (the same data as the last look on record: nothing appended), ``record`` (``log``,
    ``seq``, ``t``, ``data_sha256``), ``looks_on_record`` (this one included), ``earlier_looks``,
    ``look_flags`` (one line each), ``unplanned_look``, ``look_after_stop``, ``look_before_planned_n`` and
    ``alpha_beyond_plan`` (any flag).

    Examples
    --------
    >>> from types import SimpleNamespace as NS
    >>> interim_json("", NS(files=()), [])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --interim: no pre-registration found beside the data (none records the sessions' schedule SHA-256); give --interim PREREG.md
    """
    path, facts, a, plan, look, record = take_look(spec, loaded, analyses)
    out = {"preregistration": path.name, "sequential": bool(facts.get("sequential")),
           "simulated": _simulated(loaded, a)}
    if look is None:
        out.update(decision=None, note=f"{path.name} registers no sequential plan (fixed N): no interim decision "
                                       "to make")
        return (a.paradigm, a.experiment), out
    s = facts["sequential"]
    out.update(look.to_dict())
    out.update(stopped=look.decision.startswith("stop"), pvalue_stagewise=look.pvalue,
               repeated_ci=None if look.ci_low is None else [look.ci_low, look.ci_high],
               boundaries={"spending": s["spending"], "alpha": s["alpha"], "alternative": s["alternative"],
                           "n1": list(plan.n1), "n2": list(plan.n2), "critical_z_exact": list(plan.critical_exact),
                           "critical_z": list(plan.design.critical), "alpha_spent": list(plan.design.alpha_spent),
                           "alpha_exact": list(plan.alpha_exact)})
    out.update(record.to_dict())
    from analysis.results import jsonable

    return (a.paradigm, a.experiment), jsonable(out)     # an infinite boundary (no region) becomes None
