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
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Union

import pandas as pd

from . import audit, checks, mail
from .errors import DataIntegrityWarning, DataValidationError
from .status import ANALYSED, EXCLUDED, WITHDRAWN, participant_status

__all__ = ["LoadedData", "load_sessions", "read_session_csv", "find_session_files"]

PathLike = Union[str, Path]

_UNREAD = object()  # read_session_csv: read the sidecar itself

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
    origins : mapping
        File -> how its session was made, as its sidecar records it: ``real``,
        ``pilot``, ``simulated``, or ``unrecorded`` (no sidecar).
    """

    data: pd.DataFrame
    report: pd.DataFrame
    files: tuple[str, ...]
    origins: Mapping[str, str] = field(default_factory=dict)

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

    def origin_of(self, study: str, experiment: int) -> tuple[str, ...]:
        """How the sessions of one experiment were made (``real``, ``pilot``, ``simulated``,
        ``unrecorded``), sorted; ``simulated`` among them means the results are not evidence."""
        return tuple(sorted({self.origins.get(f, "unrecorded") for f in self.files_of(study, experiment)}))


def find_session_files(path: PathLike) -> list[Path]:
    """A CSV file itself, or every ``*_data.csv`` under a folder (recursively, sorted).

    Symbolic links to folders are followed (each real folder is read once, so a link
    back up the tree cannot loop); a folder that cannot be read, or a ``*_data.csv``
    that is not a readable file (a broken link), is refused rather than skipped.
    """
    import fnmatch
    import os

    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataValidationError(f"{p}: no such file or folder")

    def refuse(err: OSError):
        raise DataValidationError(f"{err.filename or p}: cannot be read ({err.strerror or err}); "
                                  "fix its permissions or leave it out") from None

    found: list[Path] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(p, onerror=refuse, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:            # reached again through a link: already read
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in filenames:
            if fnmatch.fnmatchcase(name, SESSION_GLOB):
                f = Path(dirpath) / name
                if not f.is_file():
                    raise DataValidationError(f"{f}: cannot be read (a broken link, or not a regular file)")
                found.append(f)
    if not found:
        raise DataValidationError(f"{p}: no session files matching {SESSION_GLOB} in this folder")
    return sorted(found)


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


def read_session_csv(path: PathLike, sidecar=_UNREAD) -> tuple[list[dict], list[str]]:
    """Read and validate one session CSV.

    Returns
    -------
    (rows, header)
        ``rows`` are dicts of typed values plus ``source_file``/``source_line``;
        ``[]`` for a file with a header and no participant.

    The session's sidecar (``X_data.json`` beside ``X_data.csv``) is read unless
    given (``sidecar=None`` for none): every row must match it and the file
    name's keywords.

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

    # 1. the CSV's records, as strings (the parser is the only loop over lines)
    records: list[tuple[int, int, list[str]]] = []
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
        records.append((line, row_no, cells))
    if records and not text.endswith(("\n", "\r")):
        line, row_no, _ = records[-1]
        raise DataValidationError(f"{_where(file, line, row_no, header[-1])}: the row has no line end: the file "
                                  "was cut while this row was being written")
    if not records:
        return [], header

    # 2. column-wise: every row belongs to this file (its name's keywords, its sidecar)
    raw = pd.DataFrame([c for _, _, c in records], columns=header, dtype=object)
    raw["source_file"] = file
    raw["source_line"] = [r[0] for r in records]
    raw["source_row"] = [r[1] for r in records]
    if sidecar is _UNREAD:
        sidecar = checks.read_sidecar(path)
    checks.check_keywords(raw, file, sidecar)

    # 3. each cell against its codebook entry
    rows: list[dict] = []
    checked_headers: set = set()
    for line, row_no, cells in records:
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

    # 4. column-wise: the columns, the factors, the times and the numbers
    _check_columns_of(rows, raw, header, file, path)
    return rows, header


def _check_columns_of(rows: list[dict], raw: pd.DataFrame, header, file: str, path) -> None:
    """Column-wise checks of one file: its columns; per experiment in it, on the cells as
    written (``raw``, row for row the same as ``rows``), its factors, times and numbers."""
    import paradigms

    df = pd.DataFrame({"study": [r["study"] for r in rows], "experiment": [r["experiment"] for r in rows]})
    pairs = list(dict.fromkeys(zip(df["study"], df["experiment"])))
    names: set[str] = set()
    for study, exp in pairs:
        names.update(paradigms.get(study).columns(exp))
    extras = [h for h in header if h not in names]
    what = ", ".join(f"{s} experiment {e}" for s, e in pairs)
    checks.check_columns(header, names, file, checks.codebook_extras(path) if extras else frozenset(), what)
    for study, exp in pairs:
        paradigm = paradigms.get(study)
        mask = ((df["study"] == study) & (df["experiment"] == exp)).to_numpy(bool)
        sub = raw[mask] if len(pairs) > 1 else raw
        codebook = paradigm.codebook(exp)
        checks.check_factors(sub, paradigm.experiment(exp))
        checks.check_times(sub, [m.name for m in codebook if m.dtype == "datetime"])
        checks.check_numbers(sub, [m.name for m in codebook if m.dtype == "number"])


def _check_consistency(rec: dict, paradigm, file: str, line: int, row: int) -> None:
    """Cross-column rules the codebook cannot express."""
    if participant_status(rec) == WITHDRAWN:
        return  # withdrawn: never analysed, nothing more to check
    if mail.is_mail(paradigm):  # a dispatch record has no outcome yet: the card's rules (analysis/mail.py)
        return mail.check_record(rec, paradigm, file, line, row)
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


def _file_sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_files(files: list[Path], include_simulated: bool, include_pilot: bool) -> tuple[list[dict], dict]:
    """Read every file with its sidecar; check slots across files and the sessions' origins."""
    import warnings

    rows: list[dict] = []
    origins: dict[str, str] = {}
    schedule_of: dict[str, str] = {}
    empty: list[str] = []
    for f in files:
        sidecar = checks.read_sidecar(f)
        file_rows, _ = read_session_csv(f, sidecar=sidecar)
        origins[str(f)] = checks.origin_of(sidecar)
        recorded = (sidecar or {}).get("csv_sha256")
        if recorded and _file_sha256(f) != recorded:
            warnings.warn(DataIntegrityWarning(
                f"{f}: the content no longer matches the SHA-256 its sidecar recorded when the session closed "
                f"({checks.sidecar_path(f).name}, csv_sha256); run 'compliance verify' on the folder"), stacklevel=3)
        if not file_rows:
            empty.append(str(f))
            continue
        schedule_of[str(f)] = (sidecar or {}).get("schedule_sha256") or ""
        rows.extend(file_rows)
    if not rows:
        raise DataValidationError(f"{empty[0]}: no participants: the file has a header and no data row"
                                  + (f" (nor have the {len(empty) - 1} other files)" if len(empty) > 1 else ""))
    for e in empty:
        warnings.warn(DataIntegrityWarning(f"{e}: no participants (a header and no data row); left out"),
                      stacklevel=3)
    withdrawn = audit.withdrawals_for(files)
    if withdrawn:  # withdrawals recorded after the session (compliance withdraw): the CSV is never rewritten
        for r in rows:
            e = withdrawn.get(str(r["participant_id"]))
            if e is not None:
                r["data_consent"] = 0
                r["withdrawal"] = (f"withdrawn after the session: {e['reason']} (recorded by {e['by']} on {e['t']}; "
                                   f"{Path(e['log']).name} line {e['line']})")
    rows = mail.join_records(rows)  # mailed cards: dispatch and outcome records, one row per card
    frame = pd.DataFrame({k: [r.get(k) for r in rows] for k in
                          ("participant_id", "study", "experiment", "site", "session", "slot", "source_file",
                           "source_line", "source_row")})
    checks.check_unique_ids(frame)
    sched = frame["source_file"].map(schedule_of)
    # without a recorded schedule hash, a session is its own schedule (simulations make theirs in memory)
    sched = sched.where(sched != "", "session:" + frame["session"].astype(str))
    checks.check_slots(frame, sched)
    _check_origins(frame, origins, include_simulated, include_pilot)
    return rows, origins


def _check_origins(frame: pd.DataFrame, origins: dict, include_simulated: bool, include_pilot: bool) -> None:
    """Refuse to pool simulated, pilot and real sessions of one experiment unless asked."""
    per_file = frame.drop_duplicates(["study", "experiment", "source_file"])
    for (study, exp), g in per_file.groupby(["study", "experiment"], sort=False):
        kinds = {f: origins[f] for f in g["source_file"]}
        found = set(kinds.values())
        first = {k: next(f for f, v in kinds.items() if v == k) for k in found}
        others = lambda *skip: sorted(k for k in found if k not in skip)  # noqa: E731
        if "simulated" in found and len(found) > 1 and not include_simulated:
            o = others("simulated")[0]
            raise DataValidationError(
                f"{first['simulated']}: simulated sessions of {study} experiment {exp} would be pooled with "
                f"{o} sessions ({first[o]}); analyse them apart, or pass --include-simulated "
                "(include_simulated=True) to pool them, labelled simulated")
        real = others("simulated", "pilot")
        if "pilot" in found and real and not include_pilot:
            raise DataValidationError(
                f"{first['pilot']}: pilot sessions of {study} experiment {exp} would be pooled with "
                f"{real[0]} sessions ({first[real[0]]}); analyse them apart, or pass --include-pilot "
                "(include_pilot=True) to pool them")


def origin_label(origins) -> str:
    """The line that heads every output made from simulated or pilot data ('' for real data)."""
    origins = set(origins)
    if "simulated" in origins:
        return ("SIMULATED DATA: sessions made by 'compliance simulate', not by participants"
                + (f" (pooled with {', '.join(sorted(origins - {'simulated'}))} sessions)" if len(origins) > 1 else "")
                + "; not evidence about people")
    if "pilot" in origins:
        return "PILOT DATA: includes pilot sessions" + (" pooled with real sessions" if len(origins) > 1 else "")
    return ""


def load_sessions(*paths: PathLike, include_simulated: bool = False,
                  include_pilot: bool = False) -> LoadedData:
    """Load and validate session CSVs: files, folders (recursive ``*_data.csv``), or several site folders.

    Parameters
    ----------
    *paths : str or Path
        Any mix of CSV files and folders.
    include_simulated, include_pilot : bool
        Sessions are real, pilot or simulated, as each sidecar records it.  An
        experiment whose sessions mix simulated with pilot or real ones, or pilot
        with real ones, is refused unless the less real kind is included
        explicitly (``--include-simulated``, ``--include-pilot``).

    Returns
    -------
    LoadedData
        ``data`` (usable rows, typed), ``report`` (excluded and withdrawn rows), ``files``.

    Raises
    ------
    DataValidationError
        For the first problem found, naming file, line/row and column; also when a
        participant id occurs twice anywhere in what is loaded, when a schedule
        slot is filled twice, when every file is empty, and when sessions of
        different origins would be mixed.

    Warns
    -----
    DataIntegrityWarning
        For a file with no participants beside files with data, and for a file
        whose content no longer matches the SHA-256 its sidecar recorded.

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
    rows, origins = _read_files(files, include_simulated=include_simulated, include_pilot=include_pilot)

    report_rows = []
    kept = []
    for r in rows:
        status = participant_status(r)
        if r.get("pending") and status != WITHDRAWN:  # a card whose outcome is not in: reported, never analysed
            report_rows.append({"study": r["study"], "experiment": r["experiment"], "condition": r["condition"],
                                "status": mail.PENDING, "reason": r["pending"], "participant_id": r["participant_id"],
                                "source_file": r["source_file"], "source_line": r["source_line"]})
            continue
        if status == WITHDRAWN:
            report_rows.append({"study": r["study"], "experiment": r["experiment"], "condition": r["condition"],
                                "status": "withdrawn", "reason": r.get("withdrawal") or "data_consent = 0",
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
    return LoadedData(data, report, tuple(str(f) for f in files), origins)

