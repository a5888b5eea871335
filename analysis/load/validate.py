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

* :func:`check_consistency` -- cells that the session records together agree
  (:func:`check_answers`: a target answer and what it records, ``refuse`` with
  ``complied = 0``; :func:`check_composite`: a composite such as Regan's
  ``liking_score`` and the mean of its items; :func:`check_debriefing`: data kept
  (``data_consent = 1``) only from a participant who was debriefed).

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

import analysis.load.mail as mail
from analysis.declared import declaration, known_studies
from analysis.errors import DataValidationError

__all__ = ["file_keywords", "read_sidecar", "sidecar_path", "origin_of", "codebook_extras", "check_keywords",
           "check_columns", "check_factors", "check_times", "check_numbers", "check_slots", "check_unique_ids", "ORIGINS", "LocatedError",
           "EARLIEST_YEAR", "SIDECAR_KEYS", "check_answers", "check_composite", "check_debriefing", "check_consistency",
           "consistency_columns", "COMPOSITE_TOLERANCE"]
# Also used by the load's other rooms (read, cells, sessions), not part of the toolkit's API:
# where, full_time_shape, utc_micros (column shapes), first_true, withdrawn_mask, validate_pool (the pooled
# cells against the codebooks).

#: What a session's sidecar says about how its data were made.
ORIGINS = ("real", "pilot", "simulated", "unrecorded")

#: Session times before this year are impossible (the toolkit records new sessions).
EARLIEST_YEAR = 2000

#: How far a composite (e.g. ``liking_score``) may be from the mean of its items: the screen
#: writes the mean rounded to 4 decimals; a score rounded by hand to 2 decimals still agrees.
COMPOSITE_TOLERANCE = 0.005

#: What an answer records that the session may change later (an exclusion): not checked against it.
_LATER = frozenset({"excluded", "exclusion_reason"})

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
SIDECAR_KEYS = {"paradigm": "study", "experiment": "experiment", "site": "site", "session": "session",
                 "experimenter": "experimenter"}


class LocatedError(DataValidationError):
    """A :class:`DataValidationError` that also knows the row position (``position``, 0-based
    in the frame checked) it is about, so that the loader can compare problems found in
    different files."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


def where(file: str, line, row, column: str) -> str:
    """``file: line L (data row R), column 'c'``; a file without lines (Parquet: ``line``
    0) is located by its data row alone."""
    if not int(line):
        return f"{file}: data row {int(row)}, column {column!r}"
    return f"{file}: line {int(line)} (data row {int(row)}), column {column!r}"


def _refuse_first(mask, df: pd.DataFrame, column: str, message) -> None:
    """Raise for the first row where ``mask`` is true; ``message(i)`` describes row position i."""
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        i = int(np.argmax(mask))
        raise LocatedError(f"{where(df['source_file'].iat[i], df['source_line'].iat[i], df['source_row'].iat[i], column)}: "
                           f"{message(i)}", i)


def _text(series: pd.Series):
    """A column's cells as a pyarrow string array ('' for a missing cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(series, type=pa.string(), from_pandas=True)
    except (pa.ArrowException, TypeError):
        arr = pa.array([None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else
                        (v if isinstance(v, str) else str(v)) for v in series.astype(object)],
                       type=pa.string(), from_pandas=True)
    return pc.fill_null(arr, "") if arr.null_count else arr


def _np(arr) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


# --------------------------------------------------------------------------- #
# What the file's name and its sidecar say.
# --------------------------------------------------------------------------- #
def file_keywords(path) -> dict[str, str]:
    """Psych-DS keywords of a session file name: ``{column: value}``.

    Examples
    --------
    >>> file_keywords("study-cialdini1975_exp-1_site-S1_session-3_data.csv")
    {'study': 'cialdini1975', 'experiment': '1', 'site': 'S1', 'session': '3'}
    """
    return {_KEYWORDS[k]: v for k, v in _KEY_RE.findall(Path(path).name)}


def sidecar_path(csv_path) -> Path:
    """The sidecar of a session file: ``X_data.csv`` -> ``X_data.json``.

    Examples
    --------
    >>> sidecar_path("site1/study-cialdini1975_exp-1_site-S1_session-3_data.csv").name
    'study-cialdini1975_exp-1_site-S1_session-3_data.json'
    """
    return Path(csv_path).with_suffix(".json")


def read_sidecar(csv_path) -> Optional[dict]:
    """The session's JSON sidecar, None if there is none; refused if it cannot be read.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> read_sidecar(d / "a_data.csv") is None
    True
    >>> _ = (d / "a_data.json").write_text(json.dumps({"mode": "run", "site": "S1"}))
    >>> read_sidecar(d / "a_data.csv")["site"]
    'S1'
    """
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
    """``simulated``, ``pilot``, ``real`` (as the sidecar records it) or ``unrecorded`` (no sidecar).

    Examples
    --------
    >>> origin_of({"mode": "simulate:data-only"}), origin_of({"mode": "run", "pilot": True}), origin_of(None)
    ('simulated', 'pilot', 'unrecorded')
    """
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
    above the file) declares in ``variableMeasured``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "dataset_description.json").write_text(json.dumps({"variableMeasured": [{"name": "weather"}]}))
    >>> sorted(codebook_extras(d / "site1" / "a_data.csv"))
    ['weather']
    """
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

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"site": ["S1", "S2"], "source_file": "x", "source_line": [2, 3], "source_row": [1, 2]})
    >>> check_keywords(raw, "study-cialdini1975_exp-1_site-S1_session-3_data.csv", None)
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: x: line 3 (data row 2), column 'site': the file name says site 'S1' but column 'site' says 'S2': a row of another session in this file
    """
    expected: list[tuple[str, str, str]] = [(col, val, f"the file name says {col}")
                                            for col, val in file_keywords(file).items()]
    if sidecar:
        expected += [(col, str(sidecar[key]), f"the sidecar {sidecar_path(file).name}'s field {key!r} is")
                     for key, col in SIDECAR_KEYS.items() if sidecar.get(key) is not None]
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
    """No identifying column; no column outside the codebook unless the folder's codebook declares it.

    Examples
    --------
    >>> check_columns(["study", "weather"], {"study"}, "a_data.csv", allowed_extra={"weather"})
    >>> check_columns(["study", "participant_name"], {"study"}, "a_data.csv")
    Traceback (most recent call last):
    ...
    analysis.errors.DataValidationError: a_data.csv: line 1 (header), column 'participant_name': looks identifying (a name or contact detail); session data hold pseudonyms only, remove the column
    """
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
    """Factor columns agree with the factor levels the condition declares (cells as strings).

    Examples
    --------
    >>> import pandas as pd, paradigms
    >>> exp = paradigms.get("pollock1998").experiment(1)
    >>> df = pd.DataFrame({"condition": ["cheap_control_no_reason"] * 2, "price": ["1", "5"],
    ...                    "source_file": "p_data.csv", "source_line": [2, 3], "source_row": [1, 2]})
    >>> check_factors(df, exp)
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: p_data.csv: line 3 (data row 2), column 'price': '5' contradicts condition 'cheap_control_no_reason' (its price is '1')
    """
    import pyarrow.compute as pc

    cond = _text(df["condition"]) if "condition" in df.columns else None
    for f in experiment.factors:
        if f not in df.columns or cond is None:
            continue
        declared = {c.name: c.factors.get(f) for c in experiment.conditions}
        got = _text(df[f])
        bad = np.zeros(len(df), bool)
        for name, level in declared.items():
            if level is None:
                continue
            bad |= _np(pc.and_(pc.equal(cond, name), pc.not_equal(got, str(level))))
        _refuse_first(bad, df, f, lambda i: f"{got[i].as_py()!r} contradicts condition {cond[i].as_py()!r} "
                                            f"(its {f} is {declared[cond[i].as_py()]!r})")


def check_times(df: pd.DataFrame, columns, now: Optional[datetime] = None, shapes: Optional[Mapping] = None) -> None:
    """Times are complete (UTC offset included), possible (2000 to now) and in order (cells as strings).

    ``shapes`` (the loader's) maps a column to what it already computed on it:
    (complete-time mask, UTC microseconds or None, year[, non-empty cells]), row for row as ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t_start": ["2026-01-05T10:00:00+00:00"], "t_end": ["2026-01-05T09:00:00+00:00"],
    ...                    "source_file": "a_data.csv", "source_line": [2], "source_row": [1]})
    >>> check_times(df, ["t_start", "t_end"])
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: a_data.csv: line 2 (data row 1), column 't_end': '2026-01-05T09:00:00+00:00' is before t_start '2026-01-05T10:00:00+00:00'
    """
    import pyarrow.compute as pc

    now = now or datetime.now(timezone.utc)
    latest = int((now + timedelta(days=1)).timestamp() * 1e6)
    nat = np.iinfo(np.int64).min
    parsed = {}
    for col in columns:
        if col not in df.columns:
            continue
        s = _text(df[col])
        full, micros, year, *given = (shapes or {}).get(col) or (None, None, None)
        present = given[0] if given else _np(pc.not_equal(s, ""))
        if full is None:
            full, year = full_time_shape(s, with_year=True)
        _refuse_first(present & ~full, df, col,
                      lambda i: f"{s[i].as_py()!r} is not a complete time with its UTC offset "
                                "(a row cut while being written, or a time edited by hand)")
        _refuse_first(present & (year < EARLIEST_YEAR), df, col,
                      lambda i: f"{s[i].as_py()!r} is impossible: year {int(year[i])} is before {EARLIEST_YEAR}")
        usable = present & full & (year >= EARLIEST_YEAR) & (year <= now.year + 1)
        if micros is None or not usable.all() and micros is not None and (micros[usable] == nat).any():
            micros = utc_micros(s, usable)
        if micros is None:   # an impossible date (month 13): pandas marks it NaT
            ts = pd.to_datetime(pd.Series(s.to_pylist()).where(usable), format="ISO8601", utc=True, errors="coerce")
            micros = np.where(ts.isna(), nat, ts.dt.tz_localize(None).to_numpy("datetime64[us]").astype(np.int64))
        micros = np.where(usable, micros, nat)
        future = present & ((year > now.year + 1) | ((micros != nat) & (micros > latest)))
        _refuse_first(future, df, col, lambda i: f"{s[i].as_py()!r} is impossible: it is in the future")
        parsed[col] = micros
    if "t_start" in parsed and "t_end" in parsed:
        a, b = parsed["t_start"], parsed["t_end"]
        bad = (a != nat) & (b != nat) & (b < a)
        _refuse_first(bad, df, "t_end", lambda i: f"{df['t_end'].iat[i]!r} is before t_start "
                                                  f"{df['t_start'].iat[i]!r}")


def check_numbers(df: pd.DataFrame, columns) -> None:
    """No ``nan`` or infinity in a numeric measure (cells as strings; empty is how a value is missing).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"amount_paid": ["5.0", "", "nan"], "source_file": "p_data.csv",
    ...                    "source_line": [2, 3, 4], "source_row": [1, 2, 3]})
    >>> check_numbers(df, ["amount_paid"])
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: p_data.csv: line 4 (data row 3), column 'amount_paid': 'nan' is not a finite number (leave the cell empty for a missing value)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for col in columns:
        if col not in df.columns:
            continue
        s = _text(df[col])
        present = _np(pc.not_equal(s, ""))
        t = pc.utf8_trim_whitespace(s)
        try:
            x = _np(pc.if_else(pa.array(present), t, "0").cast(pa.float64()))
        except pa.ArrowException:   # text among the numbers: what is not a number is not finite either
            x = pd.to_numeric(pd.Series(t.to_pylist()).where(present), errors="coerce").astype(float).to_numpy()
        _refuse_first(present & ~np.isfinite(x), df, col,
                      lambda i: f"{s[i].as_py()!r} is not a finite number (leave the cell empty for a missing value)")


def check_unique_ids(df: pd.DataFrame) -> None:
    """A participant id occurs once in everything loaded; the second occurrence is refused.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"participant_id": ["p1", "p2", "p1"], "source_file": ["a", "a", "b"],
    ...                    "source_line": [2, 3, 2], "source_row": [1, 2, 1]})
    >>> check_unique_ids(df)
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: b: line 2 (data row 1), column 'participant_id': 'p1' duplicates a line 2 (data row 1)
    """
    import pyarrow.compute as pc

    arr = _text(df["participant_id"].astype(str))
    if len(arr) < 2:
        return
    # every id once (the common case): sorted, no two neighbours equal (a sort is cheaper
    # than hashing a million strings); only a duplicate goes on to pandas, to say where
    srt = arr.take(pc.sort_indices(arr))
    if not pc.any(pc.equal(srt.slice(1), srt.slice(0, len(srt) - 1))).as_py():
        return
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

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"study": "cialdini1975", "experiment": "1", "site": "S1", "slot": ["1", "2", "1"],
    ...                    "source_file": ["a", "a", "b"], "source_line": [2, 3, 2], "source_row": [1, 2, 1]})
    >>> check_slots(df, pd.Series(["sha-x"] * 3))
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: b: line 2 (data row 1), column 'slot': slot 1 is filled twice in the same schedule: also by a line 2 (data row 1)
    """
    if "slot" not in df.columns or df.empty:
        return
    has_slot = df["slot"].notna().to_numpy(bool)
    # each cell of the group encoded apart (integer codes): no joined text, so no two groups can merge
    parts = [_text(df[c].astype(str)) if c in df.columns else _text(pd.Series([""] * len(df)))
             for c in ("study", "experiment", "site")]
    g = group_codes(parts + [_text(schedule_key.astype(str).reset_index(drop=True))])
    slot = _text(df["slot"])
    key = slot_keys(g, slot, has_slot, None)
    dup = np.zeros(len(df), bool)
    dup[has_slot] = pd.Series(key[has_slot]).duplicated(keep="first").to_numpy(bool)
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    same = (key == key[i]) & has_slot
    j = int(np.flatnonzero(same)[0])
    _refuse_first(dup, df, "slot",
                  lambda i: f"slot {df['slot'].iat[i]} is filled twice in the same schedule: also by "
                            f"{df['source_file'].iat[j]} line {int(df['source_line'].iat[j])} "
                            f"(data row {int(df['source_row'].iat[j])})")


def text_codes(arr, breaks: Optional[np.ndarray] = None) -> tuple[np.ndarray, int]:
    """(dense int64 code of each cell, how many codes) of a column of text: equal cells, equal
    codes.  The rows of one file come together, so the column is first cut into runs of one
    value (``breaks``: rows where a run must start anyway); only each run's first cell is
    hashed.

    Examples
    --------
    >>> import pyarrow as pa
    >>> codes, k = text_codes(pa.array(["a", "a", "b", "a", "b"]))
    >>> codes.tolist(), k
    ([0, 0, 1, 0, 1], 2)
    """
    codes, values = run_encode(arr, breaks)
    return codes, len(values)


def run_encode(arr, breaks: Optional[np.ndarray] = None):
    """(int64 code of each cell, the distinct values in first-seen order): what pyarrow's
    ``dictionary_encode`` gives, from each run's first cell (see :func:`text_codes`).

    Examples
    --------
    >>> import pyarrow as pa
    >>> codes, values = run_encode(pa.array(["b", "b", "a", "b"]))
    >>> codes.tolist(), values.to_pylist()
    ([0, 0, 1, 0], ['b', 'a'])
    """
    starts, run_code, values = runs_of(arr, breaks)
    return np.repeat(run_code, np.diff(np.append(starts, len(arr)))), values


def runs_of(arr, breaks: Optional[np.ndarray] = None):
    """(first row of each run of one value, its code, the distinct values in first-seen order):
    :func:`run_encode` before its codes are spread over the rows (a few arrays as long as the
    runs, not the rows).

    Examples
    --------
    >>> import pyarrow as pa
    >>> starts, codes, values = runs_of(pa.array(["b", "b", "a", "b"]))
    >>> starts.tolist(), codes.tolist(), values.to_pylist()
    ([0, 2, 3], [0, 1, 0], ['b', 'a'])
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), pa.array([], arr.type)
    start = np.ones(n, bool)
    if n > 1:
        start[1:] = _np(pc.not_equal(arr.slice(1), arr.slice(0, n - 1)))
    if breaks is not None:
        start |= breaks
    starts = np.flatnonzero(start)
    first = arr.take(pa.array(starts))
    enc = (first.combine_chunks() if hasattr(first, "combine_chunks") else first).dictionary_encode()
    return starts, _np(enc.indices).astype(np.int64), enc.dictionary


def group_codes(parts: list) -> np.ndarray:
    """An int64 code for each row's tuple of text cells (``parts``: columns of one length):
    equal tuples, equal codes; other tuples, other codes (whatever characters the cells hold).

    Examples
    --------
    >>> import pyarrow as pa
    >>> g = group_codes([pa.array(["a", "a\\x1fb", "a"]), pa.array(["b\\x1fc", "c", "b\\x1fc"])])
    >>> bool(g[0] == g[2]), bool(g[0] == g[1])
    (True, False)
    """
    g, k = text_codes(parts[0])
    for p in parts[1:]:
        c, m = text_codes(p)
        g, k = combine_codes(g, k, c, m)
    return g


def combine_codes(g: np.ndarray, k: int, c: np.ndarray, m: int) -> tuple[np.ndarray, int]:
    """Codes of the pairs (g, c), of k and m values: dense again when the product would grow too large.

    Examples
    --------
    >>> import numpy as np
    >>> combine_codes(np.array([0, 1, 0]), 2, np.array([1, 1, 1]), 2)
    (array([1, 3, 1]), 4)
    """
    if k * max(m, 1) >= 1 << 62:
        g, k = _dense(g)
        c, m = _dense(c)
        if k * max(m, 1) >= 1 << 62:   # cannot happen below 2**31 rows
            raise OverflowError("too many groups")
    return g * max(m, 1) + c, k * max(m, 1)


def _dense(codes: np.ndarray) -> tuple[np.ndarray, int]:
    u, inv = np.unique(codes, return_inverse=True)
    return inv.astype(np.int64).reshape(-1), len(u)


def slot_keys(g: np.ndarray, slot, has_slot: np.ndarray, values: Optional[np.ndarray]) -> np.ndarray:
    """One int64 key per row for (group, slot): slots compared as integers when every slot is
    one (``values``: the slots' integers, if known, 0 where there is none), as text otherwise.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> slot_keys(np.array([0, 0, 1]), pa.array(["2", "2", "2"]), np.ones(3, bool), None).tolist()
    [2, 2, 5]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if values is None:
        try:   # slots are integers: one int64 key per row
            values = _np(pc.if_else(pa.array(has_slot), slot, "0").cast(pa.int64()))
        except pa.ArrowException:
            values = None
    k = int(g.max()) + 1 if len(g) else 1
    if values is not None and (values >= 0).all():
        top = int(values.max()) + 1 if len(values) else 1
        if k * top < 1 << 62:
            return g * top + values
    c, m = text_codes(slot)
    return combine_codes(g, k, c, m)[0]


# --------------------------------------------------------------------------- #
# Fast column shapes (numpy on pyarrow's buffers; used by the loader and check_times).
# --------------------------------------------------------------------------- #
def _chunks(arr):
    return arr.chunks if hasattr(arr, "chunks") else [arr]


def _shape_ok(at, back, ln, pos19):
    """The ``_FULL_TIME`` test on bytes: ``at(p)`` the byte at position p of each cell,
    ``back(k)`` the k-th from its end, ``ln`` the lengths, ``pos19(k)`` the byte at 19 + k
    (where it exists)."""
    digit = lambda b: (b >= 48) & (b <= 57)  # noqa: E731
    ok = ln >= 20
    for p, ch in ((4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")):
        ok &= at(p) == ord(ch)
    for p in (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18):
        ok &= digit(at(p))
    z = back(1) == ord("Z")
    off = ((back(6) == ord("+")) | (back(6) == ord("-"))) & (back(3) == ord(":")) & digit(back(5)) \
        & digit(back(4)) & digit(back(2)) & digit(back(1))
    ok &= z | off
    frac = ln - 19 - np.where(z, 1, 6)
    ok &= (frac == 0) | ((frac >= 2) & (frac <= 7) & (pos19(0, ok) == ord(".")))
    for k in range(1, 7):
        need = ok & (frac > k)
        if need.any():
            ok &= ~need | digit(pos19(k, need))
    return ok


def full_time_shape(arr, with_year: bool = False):
    """Cells of the form ``_FULL_TIME`` (``2026-01-05T10:00:28.695+00:00``), on whole
    columns: the byte at each fixed position, found through the string offsets.  When
    every non-empty cell has one length (as the session store writes them), the bytes
    are viewed as a matrix, one row per cell: no gather at all."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out, years = [], []
    for a in _chunks(arr):
        if a.null_count:
            a = pc.fill_null(a, "")
        if a.type != pa.string():
            a = a.cast(pa.string())
        n = len(a)
        if n == 0:
            out.append(np.zeros(0, bool))
            years.append(np.zeros(0, np.int16))
            continue
        bufs = a.buffers()
        offs = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + n + 1]
        data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
        ln32 = np.diff(offs)
        filled = ln32 > 0
        k = int(np.count_nonzero(filled))
        width = int(ln32[filled][0]) if k else 0
        if k and width >= 20 and bool((ln32[filled] == width).all()):
            # one width for every non-empty cell (the store's own format): a (k, width) view
            v = data[int(offs[0]): int(offs[-1])].reshape(k, width)
            lnk = np.full(k, width, np.int64)
            okk = _shape_ok(lambda p: v[:, p], lambda q: v[:, width - q], lnk,
                            lambda q, _m: v[:, 19 + q] if 19 + q < width else np.zeros(k, np.uint8))
            ok = np.zeros(n, bool)
            ok[filled] = okk
            out.append(ok)
            if with_year:
                y = np.zeros(n, np.int16)   # a year has 4 digits: int16 (a quarter of int64's memory)
                y[filled] = np.where(okk, sum((v[:, p].astype(np.int16) - 48) * m
                                              for p, m in ((0, 1000), (1, 100), (2, 10), (3, 1))), 0)
                years.append(y)
            continue
        offs = offs.astype(np.int64)
        if len(data) < 64:   # rows too short to be a time index position 0: keep every index inside
            data = np.concatenate([data, np.zeros(64, np.uint8)])
        start, ln = offs[:-1], ln32.astype(np.int64)
        long = ln >= 20
        base = np.where(long, start, 0)
        end = np.where(long, start + ln, 8)
        ok = _shape_ok(lambda p: data[base + p], lambda q: data[end - q], ln,
                       lambda q, m: data[np.where(m, base + 19 + q, 0)])
        out.append(ok)
        if with_year:
            y = sum((data[base + p].astype(np.int64) - 48) * m for p, m in ((0, 1000), (1, 100), (2, 10), (3, 1)))
            years.append(np.where(ok, y, 0).astype(np.int16))
    full = np.concatenate(out) if out else np.zeros(0, bool)
    if with_year:
        return full, (np.concatenate(years) if years else np.zeros(0, np.int16))
    return full


def _times_by_cast(arr, empty: np.ndarray):
    """(complete-time mask, UTC microseconds, year) of a time column, as :func:`full_time_shape`
    and :func:`utc_micros` give them, in one pass for the session store's own form: every
    non-empty cell one width of 28-32 bytes (``2024-09-08T09:00:02.611+00:00``: 1-6 digits of
    the second, an offset).  pyarrow's cast of the non-empty cells to UTC timestamps checks
    every digit and the date's and time's separators; what it allows beyond ``_FULL_TIME``
    (a space for the 'T', a zone without its minutes or its colon, no fraction) the bytes at
    10, 19 and the offset's sign and colon then rule out.  None (the two checks apart) when
    the cells are not of that form or the cast refuses one of them (a hypothesis test
    compares both ways on mutated times)."""
    import pyarrow as pa

    n = len(arr)
    filled = ~empty
    k = int(np.count_nonzero(filled))
    if not k or n == 0:
        return None
    chunks, width = [], None
    for a in _chunks(arr):
        if a.null_count or a.type != pa.string():
            return None
        bufs = a.buffers()
        offs = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + len(a) + 1]
        ln = np.diff(offs)
        w = ln[ln > 0]
        if w.size:
            width = int(w[0]) if width is None else width
            if not (28 <= width <= 32) or not bool((w == width).all()):
                return None
        chunks.append((bufs[2], int(offs[0]), int(w.size)))
    try:
        ts = _valid_where(arr, filled).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    except pa.ArrowException:
        return None
    okk, yk = [], []
    for buf, start, m in chunks:
        if not m:
            continue
        v = np.frombuffer(buf, dtype=np.uint8)[start: start + m * width].reshape(m, width)
        sign = v[:, width - 6]
        ok = (v[:, 10] == 84) & (v[:, 19] == 46) & ((sign == 43) | (sign == 45)) & (v[:, width - 3] == 58)
        # the year's four digits, one byte each (the first the lowest): pairs, then the pairs
        d = np.ndarray((m,), "<u4", buffer=buf, offset=start, strides=(width,)) - np.uint32(0x30303030)
        pairs = (d * np.uint32(10) + (d >> np.uint32(8))) & np.uint32(0x00FF00FF)
        okk.append(ok)
        yk.append(((pairs & np.uint32(0xFF)) * np.uint32(100) + (pairs >> np.uint32(16))).astype(np.int16) * ok)
    full, year = np.concatenate(okk), np.concatenate(yk)
    if k < n:
        full, year = _spread(full, filled, False), _spread(year, filled, 0)
    if bool(full.all()):
        return full, _np(ts).astype(np.int64, copy=False), year
    return full, np.where(full, _np(ts.fill_null(0)), np.iinfo(np.int64).min), year


def _spread(values: np.ndarray, where: np.ndarray, fill) -> np.ndarray:
    out = np.full(len(where), fill, values.dtype)
    out[where] = values
    return out


def _valid_where(arr, mask: np.ndarray):
    """``arr`` (string cells, no nulls) with a null wherever ``mask`` is false, sharing its
    buffers (only a validity bitmap is made): what ``if_else(mask, arr, None)`` gives, without
    copying the text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out, at = [], 0
    chunked = hasattr(arr, "chunks")
    for a in _chunks(arr):
        n = len(a)
        m = mask[at: at + n]
        at += n
        if a.null_count or a.type not in (pa.string(), pa.large_string()):
            out.append(pc.if_else(pa.array(m), a, None))
            continue
        bits = np.concatenate([np.zeros(a.offset, bool), m]) if a.offset else m
        bitmap = pa.py_buffer(np.packbits(bits, bitorder="little"))
        bufs = a.buffers()
        out.append(pa.Array.from_buffers(a.type, n, [bitmap, bufs[1], bufs[2]], offset=a.offset))
    return pa.chunked_array(out, type=arr.type) if chunked else out[0]


def utc_micros(arr, mask: np.ndarray) -> Optional[np.ndarray]:
    """Microseconds since the epoch (UTC) of the cells in ``mask`` (int64 min elsewhere);
    None when pyarrow cannot parse one of them (an impossible date such as month 13)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not mask.any():
        return np.full(len(mask), np.iinfo(np.int64).min, np.int64)
    try:
        ts = _valid_where(arr, mask).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    except pa.ArrowException:
        return None
    return _np(pc.fill_null(ts, np.iinfo(np.int64).min)).astype(np.int64)


# --------------------------------------------------------------------------- #
# The pooled cells against the codebooks of their experiments.  ``pool`` is an
# analysis.load.cells.Pool, ``cand`` its Candidates (the problems found, the first reported).
# --------------------------------------------------------------------------- #
def first_true(mask) -> Optional[int]:
    if mask is None or not mask.any():
        return None
    return int(np.argmax(mask))


def withdrawn_mask(pool) -> np.ndarray:
    """``data_consent`` == 0 (as :func:`analysis.load.status.participant_status` decides)."""
    if "data_consent" not in pool.table.column_names:
        return np.zeros(pool.n, bool)
    ok, big = pool.is_int("data_consent")
    given = ~pool.empty("data_consent")  # an empty cell (could not be asked) reads as 0 in a clean cast
    zero = ok & ~big & (pool.ints("data_consent") == 0)
    if ok.all():   # every cell an integer (the usual case): no other number to read
        return given & zero
    fl = pool.is_num("data_consent")
    return given & (zero | (fl & ~ok & (pool.floats("data_consent") == 0)))


def _pairs_of(pool, cand):
    """Each row's (study, experiment): rows of an unknown study or experiment are
    problems; returns (codes per row, {code: (study, experiment)} of the valid ones)."""
    from paradigms.base import DeclarationError

    # dictionary_encode's codes, from each run's first cell (rows come in runs of one file)
    s_codes, s_vals = pool.encoded("study")
    e_codes, e_vals = pool.encoded("experiment")
    codes = s_codes * len(e_vals) + e_codes
    used = np.flatnonzero(np.bincount(codes))
    keys = [(int(c), s_vals[c // len(e_vals)] + "\x1f" + e_vals[c % len(e_vals)]) for c in used]
    known = known_studies()
    valid: dict[int, tuple[str, int]] = {}
    bad_study, bad_exp = [], {}
    for code, k in keys:
        study, exp = k.split("\x1f", 1)
        if study not in known:
            bad_study.append(code)
            continue
        try:
            exp_no = int(exp)
            declaration(study).experiment(exp_no)
        except ValueError as exc:
            bad_exp[code] = str(exc) if isinstance(exc, DeclarationError) else f"{exp!r} is not an integer"
            continue
        valid[code] = (study, exp_no)
    if bad_study:
        i = first_true(np.isin(codes, bad_study))
        cand.add(i, 3, (i, 0), lambda: f"{pool.where(i, 'study')}: unknown study {pool.value('study', i)!r}; "
                                       f"known: {', '.join(known)}")
    for code, msg in bad_exp.items():
        i = first_true(codes == code)
        cand.add(i, 3, (i, 1), lambda i=i, msg=msg: f"{pool.where(i, 'experiment')}: {msg}")
    return codes, valid


def _file_pairs(pool, codes: np.ndarray, valid: dict) -> list[list[tuple[int, int]]]:
    """Per file: its valid pairs as (code, first row index), in first-seen order."""
    out = []
    for k in range(len(pool.cells)):
        a, b = pool.start[k], pool.start[k + 1]
        sl = codes[a:b]
        if b == a:
            out.append([])
        elif (sl == sl[0]).all():
            out.append([(int(sl[0]), int(a))] if int(sl[0]) in valid else [])
        else:
            u, first = np.unique(sl, return_index=True)
            out.append([(int(c), int(a + f)) for f, c in sorted(zip(first, u)) if int(c) in valid])
    return out


def _check_cells(pool, cand, paradigm, exp_no: int, rows: np.ndarray) -> None:
    """Each cell of the rows of one experiment against its codebook entry (stage 3)."""
    for j, m in enumerate(paradigm.codebook(exp_no)):
        if m.name not in pool.table.column_names:
            continue  # the header check of this experiment speaks first
        order = 10 + j
        col = m.name
        empty = pool.empty(col)
        present = rows & ~empty

        def add(mask, text, col=col, order=order):
            i = first_true(mask)
            cand.add(i, 3, (i, order), lambda: f"{pool.where(i, col)}: {text(i)}")

        if not m.missing_ok:
            add(rows & empty, lambda i: "empty, but a value is required")
        values = None
        if m.dtype == "integer":
            ok, big = pool.is_int(col)
            add(present & ~ok, lambda i, col=col: f"{pool.value(col, i)!r} is not an integer")
            add(present & ok & big, lambda i, col=col: f"{pool.value(col, i)!r} is too large for an integer "
                                                         "(at most 18 digits)")
            values, checked = pool.ints(col), present & ok & ~big
        elif m.dtype == "number":
            ok = pool.is_num(col)
            add(present & ~ok, lambda i, col=col: f"{pool.value(col, i)!r} is not a number")
            values, checked = pool.floats(col), present & ok
        elif m.dtype == "datetime":
            add(present & ~pool.is_iso(col), lambda i, col=col: f"{pool.value(col, i)!r} is not an ISO 8601 "
                                                                 "date-time")
            checked = present & pool.is_iso(col)
        else:
            checked = present
        if m.allowed is not None:
            import pyarrow as pa
            import pyarrow.compute as pc
            if values is not None:
                inside = np.zeros(len(values), bool)
                for a in m.allowed:
                    inside |= values == a
            else:
                inside = pool.np(("allowed", m.allowed), col,
                                 lambda c: pc.is_in(c, value_set=pa.array([str(a) for a in m.allowed])))
            allowed = ", ".join(str(a) for a in m.allowed)
            add(checked & ~inside, lambda i, col=col, allowed=allowed:
                f"{pool.value(col, i)!r} is not allowed; allowed: {allowed}")
        if values is not None and m.minimum is not None:
            add(checked & (values < m.minimum), lambda i, col=col, m=m:
                f"{pool.value(col, i)} is below the minimum {m.minimum:g}")
        if values is not None and m.maximum is not None:
            add(checked & (values > m.maximum), lambda i, col=col, m=m:
                f"{pool.value(col, i)} is above the maximum {m.maximum:g}")

    # rules across cells (withdrawn rows are never analysed: nothing more to check)
    names = pool.table.column_names
    excl = pool.ints("excluded") if "excluded" in names else np.zeros(pool.n, np.int64)
    has_excl = ~pool.empty("excluded") if "excluded" in names else np.zeros(pool.n, bool)
    withdrawn = withdrawn_mask(pool)
    live = rows & ~withdrawn & has_excl
    reason_empty = pool.empty("exclusion_reason") if "exclusion_reason" in names else np.ones(pool.n, bool)
    i = first_true(live & (excl == 1) & reason_empty)
    cand.add(i, 3, (i, 1000), lambda: f"{pool.where(i, 'exclusion_reason')}: empty although excluded = 1")
    i2 = first_true(live & (excl == 0) & ~reason_empty)
    cand.add(i2, 3, (i2, 1001), lambda: f"{pool.where(i2, 'exclusion_reason')}: "
                                        f"{pool.value('exclusion_reason', i2)!r} given although excluded = 0")
    if paradigm.outcome == "binary" and "complied" in names and not mail.is_mail(paradigm):  # (a card: see mail.py)
        i3 = first_true(live & (excl == 0) & pool.empty("complied"))
        cand.add(i3, 3, (i3, 1002), lambda: f"{pool.where(i3, 'complied')}: empty for a participant who is "
                                            "neither excluded nor withdrawn")


def _first_in_files(check, frame: pd.DataFrame, file_idx: np.ndarray, starts: dict):
    """Run a column check (which raises for the first offending row) on ever shorter
    prefixes of ``frame`` (rows in file order) until it passes: the problem it finds in
    the earliest file, as (row position, error); (None, None) if there is none."""
    found = (None, None)
    n = len(frame)
    while n:
        try:
            check(frame.iloc[:n] if n < len(frame) else frame)
            return found
        except LocatedError as exc:
            k = int(file_idx[exc.position])
            found = (exc.position, exc)
            n = starts[k]
    return found


# --------------------------------------------------------------------------- #
# Cells the session records together (issue 22.5).
# --------------------------------------------------------------------------- #
def _numbers(df: pd.DataFrame, col: str, numbers: Optional[Mapping] = None) -> np.ndarray:
    """A column's cells as floats; NaN where a cell is empty or not a number (``numbers``: the
    loader's, where it has them already, row for row as ``df``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if numbers is not None and numbers.get(col) is not None:
        return numbers[col]

    t = pc.utf8_trim_whitespace(_text(df[col]))
    try:   # empty cells made null before the cast (a cast of '' fails: every column with one took the slow path)
        return _np(pc.fill_null(pc.if_else(pc.equal(t, ""), pa.scalar(None, pa.string()), t).cast(pa.float64()),
                                np.nan)).astype(float)
    except pa.ArrowException:
        return pd.to_numeric(pd.Series(t.to_pylist()), errors="coerce").astype(float).to_numpy()


def _kept(df: pd.DataFrame, numbers: Optional[Mapping] = None) -> np.ndarray:
    """Rows not withdrawn (``data_consent`` is not 0): withdrawn rows are never analysed."""
    if "data_consent" not in df.columns:
        return np.ones(len(df), bool)
    return ~(_numbers(df, "data_consent", numbers) == 0)


def _recorded(cells: pd.Series, values: np.ndarray, want) -> np.ndarray:
    """Cells that hold a value other than ``want`` (a number compared as a number); empty cells agree."""
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return ~np.isnan(values) & ~np.isclose(values, float(want), rtol=0.0, atol=1e-9)
    import pyarrow.compute as pc

    text = _text(cells)
    return _np(pc.and_(pc.not_equal(text, ""), pc.not_equal(text, str(want))))


def check_answers(df: pd.DataFrame, experiment, numbers: Optional[Mapping] = None) -> None:
    """A target request's answer agrees with what that answer records (cells as strings).

    The screen records ``complied`` (and, for a sale, ``amount_paid``) from the answer
    tapped; a row whose answer says ``refuse`` and whose ``complied`` says 1 was edited
    after the session.  An empty cell agrees (an excluded participant's ``complied`` is
    left empty); withdrawn rows are never analysed and not checked.

    Examples
    --------
    >>> import pandas as pd, paradigms
    >>> exp = paradigms.get("cialdini1975").experiment(1)
    >>> df = pd.DataFrame({"condition": ["exposure_control"] * 2, "target_request_answer": ["agree", "refuse"],
    ...                    "complied": ["1", "1"], "source_file": "c_data.csv", "source_line": [2, 3],
    ...                    "source_row": [1, 2]})
    >>> check_answers(df, exp)
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: c_data.csv: line 3 (data row 2), column 'complied': '1' contradicts target_request_answer 'refuse', which records complied = 0
    """
    import pyarrow.compute as pc

    if "condition" not in df.columns:
        return
    cond = _text(df["condition"])
    kept = _kept(df, numbers)
    memo: dict = {}

    def once(key, make):   # each column read once, each comparison made once, whatever the conditions share
        if key not in memo:
            memo[key] = make()
        return memo[key]
    for c in experiment.conditions:
        in_cond = _np(pc.equal(cond, c.name)) & kept
        if not in_cond.any():
            continue
        for step in (s for s in c.steps if s.target and s.answer_column in df.columns):
            answer = once(step.answer_column, lambda: _text(df[step.answer_column]))
            for a in step.answers:
                for col, want in a.sets.items():
                    if col in _LATER or col not in df.columns:
                        continue
                    values = once(("num", col), lambda: _numbers(df, col, numbers))
                    given = once(("answer", step.answer_column, a.code), lambda: _np(pc.equal(answer, a.code)))
                    other = once(("other", col, want), lambda: _recorded(df[col], values, want))
                    says = f"{step.answer_column} {a.code!r}, which records {col} = " + \
                        (f"{want:g}" if isinstance(want, float) else str(want))
                    _refuse_first(in_cond & given & other, df, col, lambda i, col=col, says=says:
                                  f"{df[col].iat[i]!r} contradicts {says}")


def _composite_of(paradigm) -> Optional[tuple[str, tuple[str, ...]]]:
    design = getattr(getattr(paradigm, "session", None), "design", None)  # a LabSession's declared design
    comp = getattr(design, "composite", None)
    return (comp[0], tuple(comp[1])) if comp else None


def check_composite(df: pd.DataFrame, paradigm, numbers: Optional[Mapping] = None) -> None:
    """A composite score (Regan's ``liking_score``) is the mean of its items (cells as strings).

    The screen writes the mean of the items rounded to 4 decimals; a score further than
    :data:`COMPOSITE_TOLERANCE` from the mean of the row's items, or a score beside an
    empty item, contradicts them.  Withdrawn rows are not checked.

    Examples
    --------
    >>> import pandas as pd, paradigms
    >>> df = pd.DataFrame({"like_01": ["5", "5"], "like_02": ["6", "6"], "like_03": ["7", "7"],
    ...                    "like_04": ["8", "8"], "liking_score": ["6.5", "8.0"], "source_file": "r_data.csv",
    ...                    "source_line": [2, 3], "source_row": [1, 2]})
    >>> check_composite(df, paradigms.get("regan1971"))
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: r_data.csv: line 3 (data row 2), column 'liking_score': '8.0' is not the mean of like_01, like_02, like_03, like_04 (6.5): the score contradicts its items
    """
    comp = _composite_of(paradigm)
    if comp is None or comp[0] not in df.columns or not all(c in df.columns for c in comp[1]):
        return
    col, items = comp
    score = _numbers(df, col, numbers)
    values = np.column_stack([_numbers(df, c, numbers) for c in items])
    given = ~np.isnan(score) & _kept(df, numbers)
    gap = np.isnan(values).any(axis=1)
    named = ", ".join(items)
    first_gap = np.argmax(np.isnan(values), axis=1)
    _refuse_first(given & gap, df, col, lambda i: f"{df[col].iat[i]!r} is given, but its item "
                                                  f"{items[int(first_gap[i])]} is empty: the score is the mean "
                                                  f"of {named}")
    with np.errstate(invalid="ignore"):
        mean = values.mean(axis=1)
    off = given & ~gap & ~(np.abs(score - mean) <= COMPOSITE_TOLERANCE + 1e-9)
    _refuse_first(off, df, col, lambda i: f"{df[col].iat[i]!r} is not the mean of {named} ({mean[i]:.4g}): "
                                          "the score contradicts its items")


def check_debriefing(df: pd.DataFrame, numbers: Optional[Mapping] = None) -> None:
    """Data are kept (``data_consent = 1``) only from a participant who was debriefed.

    Consent to keep the data is asked at the debriefing; a participant who could not be
    debriefed could not be asked (``data_consent`` empty), or declined (0).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"debriefed": ["1", "0"], "data_consent": ["1", "1"], "source_file": "c_data.csv",
    ...                    "source_line": [2, 3], "source_row": [1, 2]})
    >>> check_debriefing(df)
    Traceback (most recent call last):
    ...
    analysis.load.validate.LocatedError: c_data.csv: line 3 (data row 2), column 'data_consent': '1' (data kept) although debriefed = 0: consent to keep the data is asked at the debriefing; leave it empty (could not be asked) or 0
    """
    if "debriefed" not in df.columns or "data_consent" not in df.columns:
        return
    bad = (_numbers(df, "data_consent", numbers) == 1) & (_numbers(df, "debriefed", numbers) == 0)
    _refuse_first(bad, df, "data_consent", lambda i: f"{df['data_consent'].iat[i]!r} (data kept) although "
                                                     "debriefed = 0: consent to keep the data is asked at the "
                                                     "debriefing; leave it empty (could not be asked) or 0")


def consistency_columns(paradigm, number: int) -> tuple[str, ...]:
    """The columns :func:`check_consistency` reads for one experiment of a paradigm.

    Examples
    --------
    >>> import paradigms
    >>> consistency_columns(paradigms.get("regan1971"), 1)[-5:]
    ('liking_score', 'like_01', 'like_02', 'like_03', 'like_04')
    """
    exp = paradigm.experiment(number)
    cols = ["condition", "debriefed", "data_consent"]
    for s in exp.steps:
        if s.target:
            cols += [s.answer_column] + [k for a in s.answers for k in a.sets if k not in _LATER]
    comp = _composite_of(paradigm)
    if comp:
        cols += [comp[0], *comp[1]]
    return tuple(dict.fromkeys(cols))


def check_consistency(df: pd.DataFrame, paradigm, number: int, numbers: Optional[Mapping] = None) -> None:
    """:func:`check_debriefing`, :func:`check_answers` and :func:`check_composite` on one experiment's rows.

    ``numbers`` (the loader's) maps a column to its cells as floats (NaN where empty or not a
    number), row for row as ``df``, where it has them already.

    Examples
    --------
    >>> import pandas as pd, paradigms
    >>> df = pd.DataFrame({"condition": ["exposure_control"], "target_request_answer": ["refuse"],
    ...                    "complied": ["0"], "debriefed": ["1"], "data_consent": ["1"],
    ...                    "source_file": "c_data.csv", "source_line": [2], "source_row": [1]})
    >>> check_consistency(df, paradigms.get("cialdini1975"), 1)
    """
    check_debriefing(df, numbers)
    check_answers(df, paradigm.experiment(number), numbers)
    check_composite(df, paradigm, numbers)


def _check_pair_columns(pool, cand, paradigm, exp_no: int, rows: np.ndarray) -> None:
    """Factors, times and numbers of one experiment's rows (stage 5)."""
    codebook = paradigm.codebook(exp_no)
    experiment = paradigm.experiment(exp_no)
    times = [m.name for m in codebook if m.dtype == "datetime" and m.name in pool.table.column_names]
    numbers = [m.name for m in codebook if m.dtype == "number" and m.name in pool.table.column_names]
    factors = [f for f in experiment.factors if f in pool.table.column_names]
    idx = np.flatnonzero(rows)
    if not idx.size:
        return
    whole = idx.size == pool.n
    names = set(pool.table.column_names)   # a missing column was refused at the header (issue 22.6)
    cols = dict.fromkeys(c for c in ["condition"] + factors + times + numbers
                         + list(consistency_columns(paradigm, exp_no)) if c in names)
    import pyarrow as pa
    take = None if whole else pa.array(idx)
    # the cells as pyarrow holds them (ArrowDtype: no copy of the offsets into pandas' large strings)
    df = pd.DataFrame({c: pd.arrays.ArrowExtensionArray(pool.col(c) if whole else pool.col(c).take(take))
                       for c in cols}, copy=False)
    fidx = pool.file_idx[idx]
    df["source_file"] = pd.Categorical.from_codes(fidx, categories=pd.Index(pool.files, dtype=object)) \
        if len(set(pool.files)) == len(pool.files) else np.asarray(pool.files, dtype=object)[fidx]
    df["source_line"] = pool.line[idx]
    df["source_row"] = pool.row[idx]
    starts = {}
    for k in np.unique(fidx):
        starts[int(k)] = int(np.searchsorted(fidx, k))
    sub_file = fidx

    def shapes_for(n):
        out = {}
        for c in times:
            full, micros, year = pool.full_time(c)
            present = ~pool.empty(c)
            full, year, present = (full, year, present) if whole else (full[idx], year[idx], present[idx])
            micros = None if micros is None else (micros if whole else micros[idx])
            out[c] = (full[:n], None if micros is None else micros[:n], year[:n], present[:n])
        return out
    known = {}   # the consistency checks' numbers, from the casts the cell checks made
    for c in consistency_columns(paradigm, exp_no):
        if c in names:
            v = pool.numbers(c)
            if v is not None:
                known[c] = v if whole else v[idx]
    for order, check in enumerate((lambda d: check_factors(d, experiment),
                                   lambda d: check_times(d, times, shapes=shapes_for(len(d))),
                                   lambda d: check_numbers(d, numbers),
                                   lambda d: check_consistency(d, paradigm, exp_no,
                                                               {c: v[:len(d)] for c, v in known.items()}))):
        pos, exc = _first_in_files(check, df, sub_file, starts)
        if pos is not None:
            cand.add(int(idx[pos]), 5, (order, pos), lambda exc=exc: str(exc))


def validate_pool(pool, cand) -> list:
    """Stages 3-5 over the pooled cells; returns each file's valid (study, experiment) pairs."""

    if pool.n == 0:
        return [[] for _ in pool.cells]
    codes, valid = _pairs_of(pool, cand)
    per_file = _file_pairs(pool, codes, valid)
    # the header must hold every column of each experiment found in the file
    for k, pairs in enumerate(per_file):
        header = pool.cells[k].header
        for code, first in pairs:
            study, exp_no = valid[code]
            missing = [m for m in declaration(study).columns(exp_no) if m not in header]
            if missing:
                cand.add(first, 3, (first, 2), lambda f=pool.files[k], s=study, e=exp_no, missing=missing:
                         f"{f}: line 1 (header), column {missing[0]!r}: missing (needed by {s} experiment {e}"
                         + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else "") + ")")
    for code, (study, exp_no) in valid.items():
        rows = codes == code
        _check_cells(pool, cand, declaration(study), exp_no, rows)
    # no column outside the codebooks of the experiments in the file
    for k, pairs in enumerate(per_file):
        if not pairs:
            continue
        fc = pool.cells[k]
        got = [valid[c] for c, _ in pairs]
        names: set[str] = set()
        for study, exp in got:
            names.update(declaration(study).columns(exp))
        extras = [h for h in fc.header if h not in names]
        what = ", ".join(f"{s} experiment {e}" for s, e in got)
        try:
            check_columns(fc.header, names, fc.file,
                                 codebook_extras(fc.path) if extras else frozenset(), what)
        except DataValidationError as exc:
            cand.add_error(k, 4, (0,), exc)
    for code, (study, exp_no) in valid.items():
        _check_pair_columns(pool, cand, declaration(study), exp_no, codes == code)
    return [[valid[c] for c, _ in pairs] for pairs in per_file]
