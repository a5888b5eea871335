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

__all__ = ["schedule_hashes", "find_preregistration", "interim_text"]


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
    from analysis.commands.preregister import read_preregistration
    from analysis.power.sequential import interim_lines

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
    lines = interim_lines(facts, mine[0], path.name)
    origin = loaded.origin_of(mine[0].paradigm, mine[0].experiment) if hasattr(loaded, "origin_of") else ()
    if "simulated" in origin:
        lines[0] = "SIMULATED data: " + lines[0]
    return "\n".join(lines)
