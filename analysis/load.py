"""Read and validate session CSVs against their paradigm's codebook.

A session CSV is UTF-8, comma-separated, with a header row equal to
``paradigm.columns(experiment)``.  Each row says which paradigm (``study``) and
experiment it belongs to; the codebook of that experiment decides which columns
must be there, their types, allowed values and bounds, and which conditions are
known.  Any problem raises :class:`DataValidationError` with a one-line message::

    data/s1_data.csv: line 5 (data row 4), column 'complied': 'yes' is not an integer

Lines are CSV lines (the header is line 1); data rows count from 1 after the header.

Rows whose ``data_consent`` is 0 were withdrawn by the participant: they are never
analysed, and are only counted in the report.  Rows with ``excluded`` = 1 are
reported and left out of the tests.  Who is which is decided by
:func:`analysis.status.participant_status` (withdrawal wins over exclusion).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Union

import pandas as pd

from .errors import DataValidationError
from .status import ANALYSED, EXCLUDED, WITHDRAWN, participant_status

__all__ = ["LoadedData", "load_sessions", "read_session_csv", "find_session_files"]

PathLike = Union[str, Path]

#: File name pattern of session CSVs inside a folder.
SESSION_GLOB = "*_data.csv"

#: Columns of the exclusion/withdrawal report.
REPORT_COLUMNS = ("study", "experiment", "condition", "status", "reason", "participant_id",
                  "source_file", "source_line")


@dataclass(frozen=True)
class LoadedData:
    """Validated session data.

    Attributes
    ----------
    data : DataFrame
        One row per participant whose data may be used (withdrawn rows removed),
        typed per codebook, with ``source_file`` and ``source_line`` columns.
        Includes excluded rows (``excluded == 1``); see :meth:`analysable`.
    report : DataFrame
        One row per excluded or withdrawn participant: columns ``study, experiment,
        condition, status ('excluded'|'withdrawn'), reason, participant_id,
        source_file, source_line``.  Withdrawn rows carry no outcome data.
    files : tuple of str
        The files read, in order.
    """

    data: pd.DataFrame
    report: pd.DataFrame
    files: tuple[str, ...]

    def analysable(self) -> pd.DataFrame:
        """Rows that enter the tests: not excluded and not withdrawn (:func:`~analysis.status.participant_status`)."""
        return self.data[(participant_status(self.data) == ANALYSED).to_numpy()]

    def experiments(self) -> list[tuple[str, int]]:
        """The (study, experiment) pairs present, in first-seen order."""
        seen = dict.fromkeys(zip(self.data["study"], self.data["experiment"].astype(int)))
        seen.update(dict.fromkeys(zip(self.report["study"], self.report["experiment"].astype(int))))
        return list(seen)

    def files_of(self, study: str, experiment: int) -> tuple[str, ...]:
        d = self.data[(self.data["study"] == study) & (self.data["experiment"] == experiment)]
        r = self.report[(self.report["study"] == study) & (self.report["experiment"] == experiment)]
        return tuple(dict.fromkeys(list(d["source_file"]) + list(r["source_file"])))


def find_session_files(path: PathLike) -> list[Path]:
    """A CSV file itself, or every ``*_data.csv`` under a folder (recursively, sorted)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        found = sorted(f for f in p.rglob(SESSION_GLOB) if f.is_file())
        if not found:
            raise DataValidationError(f"{p}: no session files matching {SESSION_GLOB} in this folder")
        return found
    raise DataValidationError(f"{p}: no such file or folder")


def _where(file: str, line: int, row: int, column: str) -> str:
    return f"{file}: line {line} (data row {row}), column {column!r}"


def _parse(value: str, measure, where: str):
    """Typed value of one cell (None when empty), or DataValidationError."""
    if value == "":
        if not measure.missing_ok:
            raise DataValidationError(f"{where}: empty, but a value is required")
        return None
    if measure.dtype == "integer":
        try:
            v = int(value)
        except ValueError:
            raise DataValidationError(f"{where}: {value!r} is not an integer") from None
    elif measure.dtype == "number":
        try:
            v = float(value)
        except ValueError:
            raise DataValidationError(f"{where}: {value!r} is not a number") from None
    elif measure.dtype == "datetime":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise DataValidationError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
        v = value
    else:
        v = value
    if measure.allowed is not None and v not in measure.allowed:
        allowed = ", ".join(str(a) for a in measure.allowed)
        raise DataValidationError(f"{where}: {value!r} is not allowed; allowed: {allowed}")
    if measure.minimum is not None and v < measure.minimum:
        raise DataValidationError(f"{where}: {value} is below the minimum {measure.minimum:g}")
    if measure.maximum is not None and v > measure.maximum:
        raise DataValidationError(f"{where}: {value} is above the maximum {measure.maximum:g}")
    return v


def _paradigm_of(study: str, where: str):
    import paradigms

    if study not in paradigms.names():
        raise DataValidationError(f"{where}: unknown study {study!r}; known: {', '.join(paradigms.names())}")
    return paradigms.get(study)


def read_session_csv(path: PathLike) -> tuple[list[dict], list[str]]:
    """Read and validate one session CSV.

    Returns
    -------
    (rows, header)
        ``rows`` are dicts of typed values plus ``source_file``/``source_line``.

    Raises
    ------
    DataValidationError
        Naming the file, the line and data row, and the column.
    """
    from paradigms.base import DeclarationError

    file = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataValidationError(f"{file}: cannot be read ({exc.strerror})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark (e.g. after a spreadsheet round trip) is tolerated
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataValidationError(f"{file}: line {line}: not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise DataValidationError(f"{file}: line 1 (header): the file is empty, expected a header row")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DataValidationError(f"{file}: line 1 (header): not valid CSV ({exc})") from None
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataValidationError(f"{file}: line 1 (header), column {dup!r}: appears more than once")
    for needed in ("study", "experiment"):
        if needed not in header:
            raise DataValidationError(f"{file}: line 1 (header), column {needed!r}: missing")

    rows: list[dict] = []
    checked_headers: set = set()
    row_no = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DataValidationError(f"{file}: line {reader.line_num} (data row {row_no + 1}): "
                                      f"not valid CSV ({exc})") from None
        line = reader.line_num
        if not cells or cells == [""]:
            continue  # a blank line (e.g. a trailing newline) is not a row
        row_no += 1
        if len(cells) != len(header):
            col = header[len(cells)] if len(cells) < len(header) else f"(extra field {len(cells)})"
            raise DataValidationError(f"{_where(file, line, row_no, col)}: row has {len(cells)} fields, "
                                      f"header has {len(header)}")
        rec = dict(zip(header, cells))
        study = rec["study"]
        paradigm = _paradigm_of(study, _where(file, line, row_no, "study"))
        where_exp = _where(file, line, row_no, "experiment")
        try:
            exp_no = int(rec["experiment"])
            paradigm.experiment(exp_no)
        except ValueError as exc:
            msg = str(exc) if isinstance(exc, DeclarationError) else f"{rec['experiment']!r} is not an integer"
            raise DataValidationError(f"{where_exp}: {msg}") from None
        codebook = paradigm.codebook(exp_no)
        if (study, exp_no) not in checked_headers:
            missing = [m.name for m in codebook if m.name not in header]
            if missing:
                raise DataValidationError(
                    f"{file}: line 1 (header), column {missing[0]!r}: missing (needed by {study} "
                    f"experiment {exp_no}" + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else "")
                    + ")")
            checked_headers.add((study, exp_no))
        out: dict = {}
        for m in codebook:
            out[m.name] = _parse(rec[m.name], m, _where(file, line, row_no, m.name))
        for extra in header:
            if extra not in out:
                out[extra] = rec[extra] if rec[extra] != "" else None
        _check_consistency(out, paradigm, file, line, row_no)
        out["source_file"] = file
        out["source_line"] = line
        out["source_row"] = row_no
        rows.append(out)
    return rows, header


def _check_consistency(rec: dict, paradigm, file: str, line: int, row: int) -> None:
    """Cross-column rules the codebook cannot express."""
    if participant_status(rec) == WITHDRAWN:
        return  # withdrawn: never analysed, nothing more to check
    if rec["excluded"] == 1 and not rec.get("exclusion_reason"):
        raise DataValidationError(f"{_where(file, line, row, 'exclusion_reason')}: empty although excluded = 1")
    if rec["excluded"] == 0 and rec.get("exclusion_reason"):
        raise DataValidationError(f"{_where(file, line, row, 'exclusion_reason')}: "
                                  f"{rec['exclusion_reason']!r} given although excluded = 0")
    if paradigm.outcome == "binary" and rec["excluded"] == 0 and rec.get("complied") is None:
        raise DataValidationError(f"{_where(file, line, row, 'complied')}: empty for a participant who is "
                                  "neither excluded nor withdrawn")


def _typed_frame(rows: list[dict]) -> pd.DataFrame:
    import paradigms

    df = pd.DataFrame(rows)
    if df.empty:
        return df
    # dtypes from the codebooks of the paradigms present
    dtypes: dict[str, str] = {}
    for study in df["study"].unique():
        for m in paradigms.get(study).codebook():
            dtypes.setdefault(m.name, m.dtype)
    for col, dt in dtypes.items():
        if col not in df.columns:
            continue
        if dt == "integer":
            df[col] = pd.array([None if pd.isna(v) else int(v) for v in df[col]], dtype="Int64")
        elif dt == "number":
            df[col] = pd.array([None if pd.isna(v) else float(v) for v in df[col]], dtype="Float64")
        elif dt == "datetime":
            df[col] = pd.to_datetime(df[col], format="ISO8601", utc=True)
        else:
            df[col] = df[col].astype("string")
    df["source_line"] = df["source_line"].astype(int)
    df["source_row"] = df["source_row"].astype(int)
    return df


def load_sessions(*paths: PathLike) -> LoadedData:
    """Load and validate session CSVs: files, folders (recursive ``*_data.csv``), or several site folders.

    Parameters
    ----------
    *paths : str or Path
        Any mix of CSV files and folders.

    Returns
    -------
    LoadedData
        ``data`` (usable rows, typed), ``report`` (excluded and withdrawn rows), ``files``.

    Raises
    ------
    DataValidationError
        For the first problem found, naming file, line/row and column; also when a
        participant id occurs twice anywhere in what is loaded.

    Examples
    --------
    >>> loaded = load_sessions("data/sessions/sim")            # doctest: +SKIP
    >>> loaded.analysable().groupby("condition")["complied"].mean()  # doctest: +SKIP
    """
    if not paths:
        raise DataValidationError("no data path given")
    files: list[Path] = []
    for p in paths:
        for f in find_session_files(p):
            if f.resolve() not in {g.resolve() for g in files}:
                files.append(f)
    rows: list[dict] = []
    seen_ids: dict[str, tuple[str, int]] = {}
    for f in files:
        file_rows, _ = read_session_csv(f)
        for r in file_rows:
            pid = r["participant_id"]
            if pid in seen_ids:
                f0, l0, r0 = seen_ids[pid]
                raise DataValidationError(
                    f"{_where(r['source_file'], r['source_line'], r['source_row'], 'participant_id')}: "
                    f"{pid!r} duplicates {f0} line {l0} (data row {r0})")
            seen_ids[pid] = (r["source_file"], r["source_line"], r["source_row"])
        rows.extend(file_rows)

    report_rows = []
    kept = []
    for r in rows:
        status = participant_status(r)
        if status == WITHDRAWN:
            report_rows.append({"study": r["study"], "experiment": r["experiment"], "condition": r["condition"],
                                "status": "withdrawn", "reason": "data_consent = 0",
                                "participant_id": r["participant_id"], "source_file": r["source_file"],
                                "source_line": r["source_line"]})
            continue  # withdrawn data are never analysed: not even kept in memory
        kept.append(r)
        if status == EXCLUDED:
            report_rows.append({"study": r["study"], "experiment": r["experiment"], "condition": r["condition"],
                                "status": "excluded", "reason": r.get("exclusion_reason") or "",
                                "participant_id": r["participant_id"], "source_file": r["source_file"],
                                "source_line": r["source_line"]})
    data = _typed_frame(kept)
    if data.empty:
        data = pd.DataFrame(columns=["study", "experiment", "condition", "excluded", "complied",
                                     "source_file", "source_line"])
    report = pd.DataFrame(report_rows, columns=list(REPORT_COLUMNS))
    report["experiment"] = report["experiment"].astype(int)
    return LoadedData(data, report, tuple(str(f) for f in files))

