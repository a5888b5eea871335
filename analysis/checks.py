"""Column-wise integrity checks of session data, beyond what one cell's codebook entry says.

Each check works on whole columns (boolean masks over a DataFrame) and raises
:class:`~analysis.errors.DataValidationError` for the first offending row, with
one line naming the file, the CSV line and data row, and the column::

    s_data.csv: line 5 (data row 4), column 'price': '5' contradicts condition
    'cheap_control_no_reason' (its price is '1')

The checks:

* :func:`check_keywords` -- a row belongs to its file: study, experiment, site and
  session match the file name's Psych-DS keywords, and those plus the experimenter
  match the session's sidecar.
* :func:`check_columns` -- no column outside the codebook (unless the data folder's
  ``dataset_description.json`` declares it), never an identifying one.
* :func:`check_factors` -- factor columns (``price``, ``technique`` ...) agree with
  the condition's declared levels.
* :func:`check_times` -- complete ISO 8601 times with a UTC offset, from 2000 to now,
  ``t_end`` not before ``t_start``.
* :func:`check_numbers` -- no ``nan`` or infinity in numeric measures.
* :func:`check_slots` -- no schedule slot filled twice within a site's schedule.

Rows are located through the ``source_file``, ``source_line`` and ``source_row``
columns the loader adds.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from .errors import DataValidationError

__all__ = ["file_keywords", "read_sidecar", "sidecar_path", "origin_of", "codebook_extras", "check_keywords",
           "check_columns", "check_factors", "check_times", "check_numbers", "check_slots", "check_unique_ids", "ORIGINS",
           "EARLIEST_YEAR"]

#: What a session's sidecar says about how its data were made.
ORIGINS = ("real", "pilot", "simulated", "unrecorded")

#: Session times before this year are impossible (the toolkit records new sessions).
EARLIEST_YEAR = 2000

#: A complete time as the session store writes it: date, time to the second (fraction
#: optional) and a UTC offset.  A row cut while being written loses the offset first.
_FULL_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}:\d{2}|Z)$"

#: Column names that would identify a person (a name or contact detail).
_IDENTIFYING = re.compile(r"(?:^|_)(?:name|firstname|lastname|surname|email|e_mail|mail|phone|telephone|mobile|"
                          r"address|street|birth|birthday|dob|ssn|passport)(?:$|_)", re.IGNORECASE)

#: Psych-DS keyword of the file name -> column of the data.
_KEYWORDS = {"study": "study", "exp": "experiment", "site": "site", "session": "session"}
_KEY_RE = re.compile(r"(?:^|_)(study|exp|site|session)-([A-Za-z0-9]+)(?=_)")

#: Sidecar key -> column of the data.
_SIDECAR_KEYS = {"paradigm": "study", "experiment": "experiment", "site": "site", "session": "session",
                 "experimenter": "experimenter"}


def _where(file: str, line, row, column: str) -> str:
    return f"{file}: line {int(line)} (data row {int(row)}), column {column!r}"


def _refuse_first(mask, df: pd.DataFrame, column: str, message) -> None:
    """Raise for the first row where ``mask`` is true; ``message(i)`` describes row position i."""
    hits = np.flatnonzero(np.asarray(mask, dtype=bool))
    if hits.size:
        i = int(hits[0])
        raise DataValidationError(f"{_where(df['source_file'].iat[i], df['source_line'].iat[i], df['source_row'].iat[i], column)}: "
                                  f"{message(i)}")


# --------------------------------------------------------------------------- #
# What the file's name and its sidecar say.
# --------------------------------------------------------------------------- #
def file_keywords(path) -> dict[str, str]:
    """Psych-DS keywords of a session file name: ``{column: value}``.

    >>> file_keywords("study-cialdini1975_exp-1_site-S1_session-3_data.csv")
    {'study': 'cialdini1975', 'experiment': '1', 'site': 'S1', 'session': '3'}
    """
    return {_KEYWORDS[k]: v for k, v in _KEY_RE.findall(Path(path).name)}


def sidecar_path(csv_path) -> Path:
    """``X_data.csv`` -> ``X_data.json``."""
    return Path(csv_path).with_suffix(".json")


def read_sidecar(csv_path) -> Optional[dict]:
    """The session's JSON sidecar, None if there is none; refused if it cannot be read."""
    p = sidecar_path(csv_path)
    if not p.exists():
        return None
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataValidationError(f"{p}: cannot be read ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataValidationError(f"{p}: the session's sidecar is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise DataValidationError(f"{p}: the session's sidecar is not a JSON object")
    return meta


def origin_of(sidecar: Optional[Mapping]) -> str:
    """``simulated``, ``pilot``, ``real`` (as the sidecar records it) or ``unrecorded`` (no sidecar)."""
    if sidecar is None:
        return "unrecorded"
    mode = str(sidecar.get("mode") or "")
    if mode.startswith("simulate"):
        return "simulated"
    if mode == "pilot" or sidecar.get("pilot") is True:
        return "pilot"
    return "real"


def codebook_extras(csv_path) -> frozenset:
    """Column names the data folder's codebook (the nearest ``dataset_description.json``
    above the file) declares in ``variableMeasured``."""
    for d in Path(csv_path).absolute().parents:
        p = d / "dataset_description.json"
        if p.is_file():
            try:
                desc = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise DataValidationError(f"{p}: the data folder's codebook cannot be read ({exc})") from None
            return frozenset(v.get("name") for v in desc.get("variableMeasured", []) if isinstance(v, dict))
    return frozenset()


# --------------------------------------------------------------------------- #
# Checks on raw (string) columns.
# --------------------------------------------------------------------------- #
def check_keywords(raw: pd.DataFrame, file: str, sidecar: Optional[Mapping]) -> None:
    """Every row's identity columns match the file name's keywords and the sidecar.

    ``raw`` holds the cells as strings plus ``source_file``/``source_line``/``source_row``.
    """
    expected: list[tuple[str, str, str]] = [(col, val, f"the file name says {col}")
                                            for col, val in file_keywords(file).items()]
    if sidecar:
        expected += [(col, str(sidecar[key]), f"the sidecar {sidecar_path(file).name}'s field {key!r} is")
                     for key, col in _SIDECAR_KEYS.items() if sidecar.get(key) is not None]
    for col, val, says in expected:
        if col not in raw.columns:
            continue
        got = raw[col].fillna("").astype(str)
        if col in ("experiment", "session") and val.isdigit():
            bad = ~(pd.to_numeric(got, errors="coerce") == float(val))
        else:
            bad = got != val
        _refuse_first(bad, raw, col, lambda i: (f"empty, but {says} {val!r}" if got.iat[i] == "" else
                                                f"{says} {val!r} but column {col!r} says {got.iat[i]!r}")
                      + ": a row of another session in this file")


def check_columns(header, codebook_names, file: str, allowed_extra=frozenset(), what: str = "") -> None:
    """No identifying column; no column outside the codebook unless the folder's codebook declares it."""
    known = set(codebook_names)
    for col in header:
        if col in known:
            continue
        if _IDENTIFYING.search(col):
            raise DataValidationError(f"{file}: line 1 (header), column {col!r}: looks identifying (a name or "
                                      "contact detail); session data hold pseudonyms only, remove the column")
        if col not in allowed_extra:
            raise DataValidationError(f"{file}: line 1 (header), column {col!r}: not in the codebook of {what}; "
                                      "declare it in the data folder's dataset_description.json "
                                      "(variableMeasured) to keep it")


# --------------------------------------------------------------------------- #
# Checks on typed columns.
# --------------------------------------------------------------------------- #
def check_factors(df: pd.DataFrame, experiment) -> None:
    """Factor columns agree with the factor levels the condition declares (cells as strings)."""
    for f in experiment.factors:
        if f not in df.columns:
            continue
        declared = {c.name: c.factors.get(f) for c in experiment.conditions}
        expected = df["condition"].map(declared)
        got = df[f].fillna("").astype(str)
        bad = (expected.notna() & (got != expected.fillna(""))).to_numpy(bool)
        _refuse_first(bad, df, f, lambda i: f"{got.iat[i]!r} contradicts condition {df['condition'].iat[i]!r} "
                                            f"(its {f} is {expected.iat[i]!r})")


def check_times(df: pd.DataFrame, columns, now: Optional[datetime] = None) -> None:
    """Times are complete (UTC offset included), possible (2000 to now) and in order (cells as strings)."""
    now = now or datetime.now(timezone.utc)
    latest = pd.Timestamp(now + timedelta(days=1))
    parsed = {}
    for col in columns:
        if col not in df.columns:
            continue
        s = df[col].fillna("").astype(str)
        present = (s != "").to_numpy(bool)
        full = s.str.match(_FULL_TIME).to_numpy(bool)
        _refuse_first(present & ~full, df, col,
                      lambda i: f"{s.iat[i]!r} is not a complete time with its UTC offset "
                                "(a row cut while being written, or a time edited by hand)")
        year = pd.to_numeric(s.str.slice(0, 4), errors="coerce").to_numpy(float)
        _refuse_first(present & (year < EARLIEST_YEAR), df, col,
                      lambda i: f"{s.iat[i]!r} is impossible: year {int(year[i])} is before {EARLIEST_YEAR}")
        ts = pd.to_datetime(s.where(present & (year >= EARLIEST_YEAR) & (year <= now.year + 1)), format="ISO8601",
                            utc=True, errors="coerce")
        future = present & ((year > now.year + 1) | (ts > latest).fillna(False).to_numpy(bool))
        _refuse_first(future, df, col, lambda i: f"{s.iat[i]!r} is impossible: it is in the future")
        parsed[col] = ts
    if "t_start" in parsed and "t_end" in parsed:
        bad = (parsed["t_end"] < parsed["t_start"]).fillna(False).to_numpy(bool)
        _refuse_first(bad, df, "t_end", lambda i: f"{df['t_end'].iat[i]!r} is before t_start "
                                                  f"{df['t_start'].iat[i]!r}")


def check_numbers(df: pd.DataFrame, columns) -> None:
    """No ``nan`` or infinity in a numeric measure (cells as strings; empty is how a value is missing)."""
    for col in columns:
        if col not in df.columns:
            continue
        s = df[col].fillna("").astype(str)
        x = pd.to_numeric(s.where(s != ""), errors="coerce").astype(float).to_numpy()
        _refuse_first((s != "").to_numpy(bool) & ~np.isfinite(x), df, col,
                      lambda i: f"{s.iat[i]!r} is not a finite number (leave the cell empty for a missing value)")


def check_unique_ids(df: pd.DataFrame) -> None:
    """A participant id occurs once in everything loaded; the second occurrence is refused."""
    ids = df["participant_id"].astype(str)
    dup = ids.duplicated(keep="first").to_numpy(bool)
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        j = int(np.flatnonzero((ids == ids.iat[i]).to_numpy(bool))[0])
        _refuse_first(dup, df, "participant_id",
                      lambda i: f"{ids.iat[i]!r} duplicates {df['source_file'].iat[j]} line "
                                f"{int(df['source_line'].iat[j])} (data row {int(df['source_row'].iat[j])})")


def check_slots(df: pd.DataFrame, schedule_key: pd.Series) -> None:
    """No schedule slot filled twice: within a study, experiment, site and schedule.

    ``schedule_key`` names each row's schedule (its SHA-256 as the sidecar records
    it; without one, the session itself).  The second use of a slot is refused,
    naming the first.
    """
    if "slot" not in df.columns or df.empty:
        return
    key = pd.DataFrame({"study": df["study"].astype(str), "experiment": df["experiment"].astype(str),
                        "site": df["site"].astype(str), "schedule": schedule_key.astype(str).to_numpy(),
                        "slot": df["slot"].astype(object).to_numpy()})
    has_slot = df["slot"].notna().to_numpy(bool)
    dup = key.duplicated(keep="first").to_numpy(bool) & has_slot
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    same = (key == key.iloc[i]).all(axis=1).to_numpy(bool) & has_slot
    j = int(np.flatnonzero(same)[0])
    _refuse_first(dup, df, "slot",
                  lambda i: f"slot {df['slot'].iat[i]} is filled twice in the same schedule: also by "
                            f"{df['source_file'].iat[j]} line {int(df['source_line'].iat[j])} "
                            f"(data row {int(df['source_row'].iat[j])})")
