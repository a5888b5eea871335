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

from analysis.errors import DataValidationError

__all__ = ["file_keywords", "read_sidecar", "sidecar_path", "origin_of", "codebook_extras", "check_keywords",
           "check_columns", "check_factors", "check_times", "check_numbers", "check_slots", "check_unique_ids", "ORIGINS", "LocatedError",
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


class LocatedError(DataValidationError):
    """A :class:`DataValidationError` that also knows the row position (``position``, 0-based
    in the frame checked) it is about, so that the loader can compare problems found in
    different files."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


def _where(file: str, line, row, column: str) -> str:
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
        raise LocatedError(f"{_where(df['source_file'].iat[i], df['source_line'].iat[i], df['source_row'].iat[i], column)}: "
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
    (complete-time mask, UTC microseconds or None, year), row for row as ``df``.

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
    import pyarrow as pa
    import pyarrow.compute as pc

    now = now or datetime.now(timezone.utc)
    latest = int((now + timedelta(days=1)).timestamp() * 1e6)
    nat = np.iinfo(np.int64).min
    parsed = {}
    for col in columns:
        if col not in df.columns:
            continue
        s = _text(df[col])
        present = _np(pc.not_equal(s, ""))
        full, micros, year = (shapes or {}).get(col) or (None, None, None)
        if full is None:
            full, year = _full_time_shape(s, with_year=True)
        _refuse_first(present & ~full, df, col,
                      lambda i: f"{s[i].as_py()!r} is not a complete time with its UTC offset "
                                "(a row cut while being written, or a time edited by hand)")
        _refuse_first(present & (year < EARLIEST_YEAR), df, col,
                      lambda i: f"{s[i].as_py()!r} is impossible: year {int(year[i])} is before {EARLIEST_YEAR}")
        usable = present & full & (year >= EARLIEST_YEAR) & (year <= now.year + 1)
        if micros is None or not usable.all() and micros is not None and (micros[usable] == nat).any():
            micros = _utc_micros(s, usable)
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
    import pyarrow as pa
    import pyarrow.compute as pc

    has_slot = df["slot"].notna().to_numpy(bool)
    parts = [_text(df[c].astype(str)) if c in df.columns else _text(pd.Series([""] * len(df)))
             for c in ("study", "experiment", "site")]
    group = pc.binary_join_element_wise(*parts, _text(schedule_key.astype(str).reset_index(drop=True)), "\x1f")
    group = (group.combine_chunks() if hasattr(group, "combine_chunks") else group).dictionary_encode()
    g = _np(group.indices).astype(np.int64)
    slot = _text(df["slot"])
    try:   # slots are integers: one int64 key per row
        v = _np(pc.if_else(pa.array(has_slot), slot, "0").cast(pa.int64()))
        key = pd.Series(g * (int(v.max()) + 1 if len(v) else 1) + v) if (v >= 0).all() else None
    except pa.ArrowException:
        key = None
    if key is None:
        key = pd.Series(pc.binary_join_element_wise(_text(pd.Series(g.astype(str))), slot, "\x1f"))
    dup = key.duplicated(keep="first").to_numpy(bool) & has_slot
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    same = (key == key.iat[i]).to_numpy(bool) & has_slot
    j = int(np.flatnonzero(same)[0])
    _refuse_first(dup, df, "slot",
                  lambda i: f"slot {df['slot'].iat[i]} is filled twice in the same schedule: also by "
                            f"{df['source_file'].iat[j]} line {int(df['source_line'].iat[j])} "
                            f"(data row {int(df['source_row'].iat[j])})")


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


def _full_time_shape(arr, with_year: bool = False):
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
            years.append(np.zeros(0, np.int64))
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
                y = np.zeros(n, np.int64)
                y[filled] = np.where(okk, sum((v[:, p].astype(np.int64) - 48) * m
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
            years.append(np.where(ok, y, 0))
    full = np.concatenate(out) if out else np.zeros(0, bool)
    if with_year:
        return full, (np.concatenate(years) if years else np.zeros(0, np.int64))
    return full


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


def _utc_micros(arr, mask: np.ndarray) -> Optional[np.ndarray]:
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
