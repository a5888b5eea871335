"""The published reference figures (``data/published/published_results.csv``).

One figure per row; missing figures are ``NA`` rows with a note; conflicting
sources are separate rows.  See ``data/published/README.md`` for the columns.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Optional, Union

import pandas as pd

from analysis.errors import ReferenceDataError

__all__ = ["PUBLISHED_DIR", "PUBLISHED_FILE", "COLUMNS", "CONFIDENCE_LEVELS", "load_published",
           "published_rates", "split_conditions"]

#: Folder of the reference data: package data of ``analysis`` (installed with it, so an
#: analyst's install without the source tree has it); in the source tree
#: ``analysis/published_data`` links to ``data/published``.
PUBLISHED_DIR = Path(__file__).resolve().parents[1] / "published_data"
if not (PUBLISHED_DIR / "published_results.csv").is_file():  # a checkout without symlinks
    PUBLISHED_DIR = Path(__file__).resolve().parents[2] / "data" / "published"
PUBLISHED_FILE = PUBLISHED_DIR / "published_results.csv"

COLUMNS = ("study", "experiment", "condition", "control", "measure", "statistic", "value", "as_printed",
           "decimals", "tails", "source", "confidence", "note")

#: Confidence levels, best first.
CONFIDENCE_LEVELS = ("primary", "secondary", "weak")

_REQUIRED = ("study", "measure", "statistic", "source", "confidence")


def split_conditions(label) -> tuple[str, ...]:
    """``"a+b"`` -> ``("a", "b")``; empty -> ``()``.

    Examples
    --------
    >>> split_conditions('exposure_control+smaller_request_only')
    ('exposure_control', 'smaller_request_only')
    >>> split_conditions('')
    ()
    """
    if label is None or (isinstance(label, float) and math.isnan(label)) or label is pd.NA:
        return ()
    return tuple(p.strip() for p in str(label).split("+") if p.strip())


def load_published(path: Optional[Union[str, Path]] = None) -> pd.DataFrame:
    """Read and check the published reference figures.

    Parameters
    ----------
    path : str or Path, optional
        Defaults to :data:`PUBLISHED_FILE`.

    Returns
    -------
    DataFrame
        Columns :data:`COLUMNS`.  ``experiment``, ``decimals``, ``tails`` are ``Int64``
        (``<NA>`` when empty); ``value`` is ``Float64`` (``<NA>`` when not available);
        ``confidence`` is an ordered categorical (primary < secondary < weak); the
        other columns are strings (empty string when blank). A ``line`` column gives
        the CSV line of each row.

    Raises
    ------
    ReferenceDataError
        A one-line message naming file, line and column.

    Examples
    --------
    >>> pub = load_published()
    >>> e1 = pub[(pub.study == "cialdini1975") & (pub.experiment == 1) & (pub.statistic == "chi2")]
    >>> sorted(e1["as_printed"])
    ['chi2 = .50', 'chi2 = 6.42']
    """
    path = Path(path) if path is not None else PUBLISHED_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceDataError(f"{path}: cannot be read ({exc.strerror})") from None
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise ReferenceDataError(f"{path}: line 1 (header): the file is empty") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ReferenceDataError(f"{path}: line 1 (header), column {missing[0]!r}: missing")
    records = []
    for line, cells in enumerate(reader, start=2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise ReferenceDataError(f"{path}: line {line}: {len(cells)} fields, header has {len(header)}")
        rec = dict(zip(header, cells))

        def bad(col, msg):
            return ReferenceDataError(f"{path}: line {line}, column {col!r}: {msg}")

        for c in _REQUIRED:
            if not rec[c].strip():
                raise bad(c, "empty, but a value is required")
        if rec["confidence"] not in CONFIDENCE_LEVELS:
            raise bad("confidence", f"{rec['confidence']!r} is not one of {', '.join(CONFIDENCE_LEVELS)}")
        out = {c: rec[c] for c in COLUMNS}
        for c in ("experiment", "decimals", "tails"):
            v = rec[c].strip()
            try:
                out[c] = int(v) if v not in ("", "NA") else None
            except ValueError:
                raise bad(c, f"{v!r} is not an integer") from None
        v = rec["value"].strip()
        if v in ("", "NA"):
            out["value"] = None
        else:
            try:
                out["value"] = float(v)
            except ValueError:
                raise bad("value", f"{v!r} is not a number (write NA and put the text in as_printed)") from None
            if out["decimals"] is None:
                raise bad("decimals", "empty although value is given (needed to judge a match)")
        if out["statistic"] in ("rate", "p") and out["value"] is not None and not 0 <= out["value"] <= 1:
            raise bad("value", f"{out['value']} is a {out['statistic']} outside [0, 1] (write rates as proportions)")
        if out["tails"] not in (None, 1, 2):
            raise bad("tails", f"{out['tails']} is not 1 or 2")
        out["line"] = line
        records.append(out)
    df = pd.DataFrame(records, columns=list(COLUMNS) + ["line"])
    for c in ("experiment", "decimals", "tails"):
        df[c] = pd.array([None if pd.isna(v) else int(v) for v in df[c]], dtype="Int64")
    df["value"] = pd.array([None if pd.isna(v) else float(v) for v in df["value"]], dtype="Float64")
    df["confidence"] = pd.Categorical(df["confidence"], categories=CONFIDENCE_LEVELS, ordered=True)
    for c in ("study", "condition", "control", "measure", "statistic", "as_printed", "source", "note"):
        df[c] = df[c].fillna("").astype(str)
    return df


def published_rates(study: str, experiment: int, measure: str = "complied",
                    published: Optional[pd.DataFrame] = None) -> dict[str, float]:
    """Best published compliance rate per condition (highest confidence, then file order).

    Conditions whose rate is not available are left out.  Used by the plot.

    Examples
    --------
    >>> rates = published_rates('cialdini1975', 1)
    >>> sorted(rates)
    ['exposure_control', 'rejection_moderation', 'smaller_request_only']
    """
    pub = load_published() if published is None else published
    sel = pub[(pub["study"] == study) & (pub["experiment"] == experiment) & (pub["measure"] == measure)
              & (pub["statistic"] == "rate") & pub["value"].notna()]
    sel = sel.sort_values(["confidence", "line"], kind="stable")
    out: dict[str, float] = {}
    for _, r in sel.iterrows():
        out.setdefault(r["condition"], float(r["value"]))
    # a rate may also follow from published counts
    cnt = pub[(pub["study"] == study) & (pub["experiment"] == experiment) & (pub["measure"] == measure)]
    for cond in set(cnt["condition"]) - set(out):
        x = cnt[(cnt["condition"] == cond) & (cnt["statistic"] == "complied") & cnt["value"].notna()]
        n = cnt[(cnt["condition"] == cond) & (cnt["statistic"] == "n") & cnt["value"].notna()]
        if len(x) and len(n) and float(n["value"].iloc[0]) > 0:
            out[cond] = float(x["value"].iloc[0]) / float(n["value"].iloc[0])
    return out
