"""Participant-level rows rebuilt from cell counts, and a CSV writer for them.

Used by :mod:`analysis.replication.reproduce` (published counts -> participants -> the same
analysis as real data) and by tests and examples that need small session files.
Rows follow the paradigm's codebook, so they pass :func:`analysis.load.sessions.load_sessions`.
"""
from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Optional, Sequence, Union

import pandas as pd

from analysis.errors import AnalysisError

#: Synthetic sessions start here (fixed, so that the same counts give the same file).
_EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

__all__ = ["rows_from_counts", "frame_from_counts", "write_session_csv", "EXAMPLE_TICKETS", "frame_from_tickets"]

#: Made-up ticket counts of a 3 x 2 favor x liking design, 8 participants a cell, for the
#: examples of :mod:`analysis.stats.counts` and :mod:`analysis.plots.rates` (not Regan's data).
EXAMPLE_TICKETS = {
    ("confederate_favor", "pleasant"): (0, 3, 1, 2, 4, 3, 1, 8),
    ("confederate_favor", "unpleasant"): (1, 2, 3, 2, 0, 5, 1, 0),
    ("experimenter_favor", "pleasant"): (1, 1, 2, 1, 2, 3, 0, 0),
    ("experimenter_favor", "unpleasant"): (0, 0, 1, 1, 0, 0, 2, 1),
    ("no_favor", "pleasant"): (2, 0, 1, 0, 1, 5, 4, 0),
    ("no_favor", "unpleasant"): (0, 0, 0, 1, 2, 2, 0, 5),
}


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

    Examples
    --------
    >>> rows = rows_from_counts('cialdini1975', 1, {'rejection_moderation': (2, 3)})
    >>> len(rows), [r['complied'] for r in rows], rows[0]['participant_id']
    (3, ['1', '1', '0'], 'PUB-1-0001')
    """
    from analysis.declared import declaration

    paradigm = declaration(study)
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
    """``rows_from_counts`` as a DataFrame with integer ``complied`` and ``excluded``.

    Examples
    --------
    >>> df = frame_from_counts('cialdini1975', 1, {'rejection_moderation': (2, 3), 'exposure_control': (1, 3)})
    >>> df.groupby('condition')['complied'].sum().to_dict()
    {'exposure_control': 1, 'rejection_moderation': 2}
    """
    df = pd.DataFrame(rows_from_counts(study, experiment, counts))
    for c in ("complied", "excluded", "experiment"):
        if c in df:
            df[c] = df[c].astype(int)
    return df


def write_session_csv(path: Union[str, Path], rows: Sequence[Mapping[str, object]],
                      columns: Optional[Sequence[str]] = None) -> Path:
    """Write rows as a session CSV (UTF-8 without BOM, comma-separated, header first).

    Examples
    --------
    >>> import tempfile, pathlib; tmp = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_session_csv(tmp / 'x_data.csv', [{'a': 1, 'b': 'two'}])
    >>> print(p.read_text(), end="")
    a,b
    1,two
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(columns or (rows[0].keys() if rows else []))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in columns})
    return path


def frame_from_tickets(cells: Mapping[tuple[str, str], Sequence[int]] = None, *, outcome: str = "tickets",
                       factors: tuple[str, str] = ("favor", "liking"), score: str = "liking_score") -> pd.DataFrame:
    """Tidy count data from ``{(level_a, level_b): counts}``, one row per participant.

    Parameters
    ----------
    cells : mapping, optional
        (level of the first factor, level of the second) -> the counts of its
        participants; default :data:`EXAMPLE_TICKETS`.
    outcome, factors, score : str
        Column names of the count, the two factors and a 1-7 score (a made-up
        composite, ``1 + (i + count) % 7`` for the i-th participant of a cell).

    Returns
    -------
    DataFrame
        Columns ``factors``, ``outcome``, ``score``, ``excluded`` (0) and
        ``data_consent`` (1), as the count analysis reads a session CSV.

    Examples
    --------
    >>> df = frame_from_tickets()
    >>> len(df), list(df.columns)
    (48, ['favor', 'liking', 'tickets', 'liking_score', 'excluded', 'data_consent'])
    >>> frame_from_tickets({("a", "x"): [0, 2]})["tickets"].tolist()
    [0, 2]
    """
    cells = EXAMPLE_TICKETS if cells is None else cells
    a, b = factors
    return pd.DataFrame([{a: la, b: lb, outcome: int(y), score: 1 + (i + int(y)) % 7, "excluded": 0,
                          "data_consent": 1}
                         for (la, lb), ys in cells.items() for i, y in enumerate(ys)])
