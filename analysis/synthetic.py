"""Participant-level rows rebuilt from cell counts, and a CSV writer for them.

Used by :mod:`analysis.reproduce` (published counts -> participants -> the same
analysis as real data) and by tests and examples that need small session files.
Rows follow the paradigm's codebook, so they pass :func:`analysis.load.load_sessions`.
"""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import pandas as pd

from .errors import AnalysisError

#: Synthetic sessions start here (fixed, so that the same counts give the same file).
_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

__all__ = ["rows_from_counts", "frame_from_counts", "write_session_csv"]


def rows_from_counts(study: str, experiment: int, counts: Mapping[str, tuple[int, int]], *,
                     site: str = "PUB", session: int = 1, experimenter: str = "E1",
                     id_prefix: Optional[str] = None) -> list[dict]:
    """One codebook-complete row per participant, from ``{condition: (complied, n)}``.

    Parameters
    ----------
    study, experiment
        A declared paradigm id and experiment number (for the column set).
    counts : mapping
        Condition name -> (number who complied, number analysed).

    Returns
    -------
    list of dict
        Keys = ``paradigm.columns(experiment)``; values as strings ready for CSV.
        Answer columns and step times are left empty except ``complied`` and the
        target-request answer, which agree with each other.
    """
    import paradigms

    paradigm = paradigms.get(study)
    columns = paradigm.columns(experiment)
    prefix = id_prefix or f"{site}-{session}-"
    rows = []
    i = 0
    for cond, (x, n) in counts.items():
        paradigm.experiment(experiment).condition(cond)  # one-line error if unknown
        if not 0 <= x <= n:
            raise AnalysisError(f"{cond}: complied = {x} is not between 0 and n = {n}")
        for j in range(n):
            i += 1
            row = {c: "" for c in columns}
            row.update(participant_id=f"{prefix}{i:04d}", study=study, experiment=str(experiment),
                       site=site, session=str(session), experimenter=experimenter, slot=str(i),
                       condition=cond, excluded="0", exclusion_reason="", debriefed="1", data_consent="1",
                       t_start=_time(2 * i), t_end=_time(2 * i + 1))
            if "complied" in row:
                row["complied"] = "1" if j < x else "0"
            if "target_request_answer" in row:
                row["target_request_answer"] = "agree" if j < x else "refuse"
            rows.append(row)
    return rows


def _time(minutes: int) -> str:
    """A complete session time (UTC offset included), ``minutes`` after a fixed epoch."""
    return (_EPOCH + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def frame_from_counts(study: str, experiment: int, counts: Mapping[str, tuple[int, int]]) -> pd.DataFrame:
    """``rows_from_counts`` as a DataFrame with integer ``complied`` and ``excluded``."""
    df = pd.DataFrame(rows_from_counts(study, experiment, counts))
    for c in ("complied", "excluded", "experiment"):
        if c in df:
            df[c] = df[c].astype(int)
    return df


def write_session_csv(path: Union[str, Path], rows: Sequence[Mapping[str, object]],
                      columns: Optional[Sequence[str]] = None) -> Path:
    """Write rows as a session CSV (UTF-8 without BOM, comma-separated, header first)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(columns or (rows[0].keys() if rows else []))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path
