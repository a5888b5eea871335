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
:func:`analysis.load.status.participant_status` (withdrawal wins over exclusion).
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Mapping, Optional, Union

import numpy as np
import pandas as pd

import analysis.records.audit as audit
import analysis.load.validate as checks
import analysis.load.mail as mail
from analysis.errors import DataIntegrityWarning, DataValidationError
from analysis.load.status import ANALYSED, participant_status

__all__ = ["LoadedData", "load_sessions", "read_session_csv", "find_session_files"]

PathLike = Union[str, Path]

_UNREAD = object()  # read_session_csv: read the sidecar itself

#: File name pattern of session CSVs inside a folder.
SESSION_GLOB = "*_data.csv"
#: ... and of Parquet session or pooled files (``compliance export``), which the loader reads too.
PARQUET_GLOB = "*_data.parquet"

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
        """Rows that enter the tests: not excluded and not withdrawn (:func:`~analysis.load.status.participant_status`)."""
        return self.data[(participant_status(self.data) == ANALYSED).to_numpy()]

    def experiments(self) -> list[tuple[str, int]]:
        """The (study, experiment) pairs present, in first-seen order."""
        # the distinct pairs first (vectorised), then in Python: not a million pairs through zip
        d = self.data[["study", "experiment"]].drop_duplicates() if len(self.data) else self.data
        seen = dict.fromkeys(zip(d["study"], d["experiment"].astype(int)))
        seen.update(dict.fromkeys(zip(self.report["study"], self.report["experiment"].astype(int))))
        return list(seen)

    def files_of(self, study: str, experiment: int) -> tuple[str, ...]:
        d = self.data["source_file"][((self.data["study"] == study) & (self.data["experiment"] == experiment))
                                     .to_numpy(dtype=bool, na_value=False)]
        r = self.report[(self.report["study"] == study) & (self.report["experiment"] == experiment)]
        return tuple(dict.fromkeys(list(pd.unique(d)) + list(r["source_file"])))

    def origin_of(self, study: str, experiment: int) -> tuple[str, ...]:
        """How the sessions of one experiment were made (``real``, ``pilot``, ``simulated``,
        ``unrecorded``), sorted; ``simulated`` among them means the results are not evidence."""
        return tuple(sorted({self.origins.get(f, "unrecorded") for f in self.files_of(study, experiment)}))


def find_session_files(path: PathLike, parquet: bool = False) -> list[Path]:
    """A session file itself, or every ``*_data.csv`` under a folder (recursively, sorted).

    With ``parquet=True`` (as :func:`load_sessions` reads), ``*_data.parquet`` files
    are found too.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for p in ("s1/a_data.csv", "s2/b_data.csv", "s2/notes.csv", "pooled_data.parquet"):
    ...     (d / p).parent.mkdir(parents=True, exist_ok=True); _ = (d / p).write_text("x")
    >>> [str(p.relative_to(d)) for p in find_session_files(d)]
    ['s1/a_data.csv', 's2/b_data.csv']
    >>> len(find_session_files(d, parquet=True))
    3

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

    globs = (SESSION_GLOB, PARQUET_GLOB) if parquet else (SESSION_GLOB,)
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
            if any(fnmatch.fnmatchcase(name, g) for g in globs):
                f = Path(dirpath) / name
                if not f.is_file():
                    raise DataValidationError(f"{f}: cannot be read (a broken link, or not a regular file)")
                found.append(f)
    if not found:
        raise DataValidationError(f"{p}: no session files matching {' or '.join(globs)} in this folder")
    from paradigms.engine.store import session_sort_key

    return sorted(found, key=session_sort_key)  # session-2 before session-10 (issue 22.3)


def _where(file: str, line: int, row: int, column: str) -> str:
    return checks._where(file, line, row, column)


# --------------------------------------------------------------------------- #
# 1. One file -> its cells as strings (pyarrow's reader; Python's csv module only
#    where the file is irregular, to say exactly what is wrong and where).
# --------------------------------------------------------------------------- #
@dataclass
class _FileCells:
    """One session file's cells, as strings, before validation."""

    path: Path
    file: str
    header: list
    table: object                      # pyarrow.Table of strings (no nulls), one column per header field
    lines: Optional[np.ndarray]        # CSV line of each data row; None for Parquet (rows only)
    sidecar: Optional[dict]
    provenance: Optional[object] = None  # Parquet written by 'compliance export': the rows' original files
    meta: Optional[dict] = None          # ... and its 'compliance' metadata (origins, report)
    raw: Optional[bytes] = None          # the CSV's bytes until parsed (BOM removed)
    text: Optional[str] = None
    body_at: int = 0                     # where the data rows start in ``raw``
    regular: bool = False                # one record a line, LF or CRLF throughout, a last line end
    n_lf: int = 0                        # line feeds in ``raw``
    sha256: Optional[str] = None         # of the file's bytes as read

    n_rows: int = 0                      # rows, once ``table`` is let go (_Pool.release)

    @property
    def n(self) -> int:
        return self.table.num_rows if self.table is not None else self.n_rows


def _csv_records(file: str, text: str, header_len_hint=None):
    """The CSV's records with their lines (Python's csv module): the slow path, used only
    for files pyarrow's reader refuses or that are irregular (blank lines, line breaks
    inside quotes, mixed line ends, a missing last line end), so that the error names
    the same line and field as ever."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
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
    return records


def _check_header(file: str, header: list) -> None:
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataValidationError(f"{file}: line 1 (header), column {dup!r}: appears more than once")
    for needed in ("study", "experiment"):
        if needed not in header:
            raise DataValidationError(f"{file}: line 1 (header), column {needed!r}: missing")


def _scan_csv(path: Path, sidecar) -> _FileCells:
    """A CSV's bytes, its header and whether pyarrow's reader can take it as it is."""
    from paradigms.hashing import bytes_sha256

    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(f"{file}: cannot be read ({exc.strerror})") from None
    sha = bytes_sha256(raw) if (sidecar or {}).get("csv_sha256") else None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a byte-order mark (e.g. after a spreadsheet round trip) is tolerated
    ascii_only = raw.isascii()
    try:
        text = None if ascii_only else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataValidationError(f"{file}: line {line}: not valid UTF-8 (byte {exc.start})") from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise DataValidationError(f"{file}: line {line}: a NUL byte: this is not a text (CSV) file")
    if re.search(rb"\S", raw) is None:
        raise DataValidationError(f"{file}: line 1 (header): the file is empty, expected a header row")
    nl = raw.find(b"\n")
    first = (raw[: nl + 1] if nl >= 0 else raw).decode("utf-8")
    header = None
    if first.count('"') % 2 == 0:
        try:
            header = next(csv.reader(io.StringIO(first, newline="")))
        except (csv.Error, StopIteration):
            header = None
    if header is None:
        # a header with a line break inside quotes, or not CSV: the csv module says what
        try:
            header = next(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        except (csv.Error, StopIteration) as exc:
            raise DataValidationError(f"{file}: line 1 (header): not valid CSV ({exc})") from None
        nl = -2   # not regular
    _check_header(file, header)
    # counted with numpy (bytes.count is several times slower on a large file); a blank line
    # needs no search of its own: pyarrow's reader skips it, so the row count then differs
    # from the line count and the file goes to the csv module (see _parse_one)
    b = np.frombuffer(raw, np.uint8)
    is_lf = b == 10
    n_lf = int(np.count_nonzero(is_lf))
    n_cr = int(np.count_nonzero(b == 13)) if b"\r" in raw else 0
    regular = (nl >= 0 and raw.endswith(b"\n")
               and (n_cr == 0 or (n_cr == n_lf and bool((b[np.flatnonzero(is_lf) - 1] == 13).all())
                                  and b"\r\n\r\n" not in raw)))
    del b, is_lf
    return _FileCells(path, file, header, None, None, sidecar, raw=raw, text=text, body_at=nl + 1,
                      regular=regular, sha256=sha, n_lf=n_lf)


def _arrow_read(buf, header):
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        pa.py_buffer(buf),
        # one thread, 8 MB blocks: the fastest on a shared two-core machine (threads only contend)
        read_options=pacsv.ReadOptions(column_names=header, use_threads=False, block_size=1 << 23),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types={h: pa.string() for h in header},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False,
                                             check_utf8=False))


def _parse_one(fc: _FileCells) -> None:
    """One scanned CSV -> its string table (pyarrow; the csv module where irregular)."""
    import pyarrow as pa

    table = None
    if fc.regular:
        try:
            table = _arrow_read(memoryview(fc.raw)[fc.body_at:], fc.header)
        except (pa.ArrowInvalid, pa.ArrowException):
            table = None
        if table is not None and table.num_rows != fc.n_lf - 1:
            table = None  # a line break inside quotes: let the csv module count lines
    if table is not None:
        fc.lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    else:
        records = _csv_records(fc.file, fc.text if fc.text is not None else fc.raw.decode("utf-8"))
        cols = list(zip(*(c for _, _, c in records))) if records else [()] * len(fc.header)
        table = pa.table({h: pa.array(list(col), type=pa.string()) for h, col in zip(fc.header, cols)})
        fc.lines = np.array([r[0] for r in records], dtype=np.int64)
    fc.table = table
    fc.raw = fc.text = None


def _parse_all(cells: list[_FileCells]):
    """Parse every scanned file; consecutive regular CSVs with one header are parsed in one
    pass of pyarrow's reader over their joined data rows.  Returns (tables in file order,
    index of the first file that cannot be parsed or None, its error)."""
    import pyarrow as pa

    pieces = []
    i = 0
    while i < len(cells):
        fc = cells[i]
        if fc.table is not None:                 # Parquet: read already
            pieces.append(fc.table)
            i += 1
            continue
        j = i
        while j < len(cells) and cells[j].table is None and cells[j].regular and cells[j].header == fc.header:
            j += 1
        run = cells[i:j] if j > i + 1 else []
        table = None
        if run:
            expected = [c.n_lf - 1 for c in run]
            try:
                table = _arrow_read(b"".join(memoryview(c.raw)[c.body_at:] for c in run), fc.header)
            except (pa.ArrowInvalid, pa.ArrowException):
                table = None
            if table is not None and table.num_rows != sum(expected):
                table = None
        if table is not None:
            at = 0
            for c, n in zip(run, expected):
                c.table = table.slice(at, n)
                c.lines = np.arange(2, n + 2, dtype=np.int64)
                c.raw = c.text = None
                at += n
            pieces.append(table)
            i = j
            continue
        for k in range(i, max(j, i + 1)):        # one at a time: the file that fails says where
            try:
                _parse_one(cells[k])
            except DataValidationError as exc:
                return pieces, k, exc
            pieces.append(cells[k].table)
        i = max(j, i + 1)
    return pieces, None, None


#: Columns 'compliance export' adds to say where each row came from.
_PROVENANCE = ("source_file", "source_line", "source_row")


def _read_parquet_cells(path: Path, sidecar) -> _FileCells:
    """A Parquet session or pooled file (e.g. from ``compliance export``): its cells as the
    strings a CSV would hold, so that they are validated exactly as a CSV's."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    file = str(path)
    try:
        table = pq.read_table(path)
    except OSError as exc:
        raise DataValidationError(f"{file}: cannot be read as Parquet ({str(exc).splitlines()[0][:200]})") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid (a ValueError) and others for a damaged file
        raise DataValidationError(f"{file}: not a valid Parquet file ({type(exc).__name__})") from None
    meta = None
    raw_meta = (table.schema.metadata or {}).get(b"compliance")
    if raw_meta:
        try:
            meta = json.loads(raw_meta)
        except ValueError:
            raise DataValidationError(f"{file}: its 'compliance' metadata is not valid JSON") from None
    # a partitioned data set (site=S1/...): the partition's column comes back from the folder name
    for part in reversed(path.parent.parts):
        if "=" in part:
            k, v = part.split("=", 1)
            if k and k not in table.column_names:
                table = table.append_column(k, pa.array([v] * table.num_rows, pa.string()))
    order = (meta or {}).get("columns")
    if order:   # the exported frame's column order (a partition's column comes back last otherwise)
        names = [c for c in order if c in table.column_names]
        table = table.select(names + [c for c in table.column_names if c not in names])
    provenance = None
    if all(c in table.column_names for c in _PROVENANCE):
        provenance = table.select(list(_PROVENANCE))
        table = table.drop_columns(list(_PROVENANCE))
    header = table.column_names
    _check_header(file, header)
    cols = {}
    for name, col in zip(header, table.columns):
        t = col.type
        if pa.types.is_timestamp(t):
            us = col.cast(pa.timestamp("us", tz="UTC")) if t.tz else col.cast(pa.timestamp("us"))
            col = pc.strftime(us, format="%Y-%m-%dT%H:%M:%S" + ("+00:00" if t.tz else ""))
        elif pa.types.is_dictionary(t):
            col = col.cast(pa.string())
        elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            try:
                col = col.cast(pa.string())
            except pa.ArrowException:
                raise DataValidationError(f"{file}: column {name!r}: Parquet type {t} cannot be read as a "
                                          "session column") from None
        cols[name] = pc.fill_null(col.cast(pa.string()), "")
    table = pa.table(cols) if cols else pa.table({})
    return _FileCells(path, file, list(header), table, None, sidecar, provenance, meta)


def _scan(path: Path) -> _FileCells:
    sidecar = checks.read_sidecar(path)
    if path.suffix == ".parquet":
        return _read_parquet_cells(path, sidecar)
    return _scan_csv(path, sidecar)


def _check_keywords_fast(fc: _FileCells) -> None:
    """Every row matches the file name's keywords and the sidecar (equality on whole
    columns; the pandas check only runs, to word the error, when a cell differs)."""
    import pyarrow.compute as pc

    expected = dict(checks.file_keywords(fc.file))
    for key, col in checks._SIDECAR_KEYS.items():
        if fc.sidecar and fc.sidecar.get(key) is not None:
            expected.setdefault(col, str(fc.sidecar[key]))
            if expected[col] != str(fc.sidecar[key]):
                expected[col] = None   # two expectations: let the full check word it
    for col, val in expected.items():
        if col not in fc.header:
            continue
        if val is None or not pc.all(pc.equal(fc.table.column(col), val)).as_py():
            checks.check_keywords(_located_frame(fc, [c for c in expected if c in fc.header]), fc.file, fc.sidecar)
            return


def _located_frame(fc: _FileCells, columns) -> pd.DataFrame:
    df = pd.DataFrame({c: fc.table.column(c).to_pandas() for c in columns})
    df["source_file"] = fc.file
    df["source_line"] = fc.lines if fc.lines is not None else 0
    df["source_row"] = np.arange(1, fc.n + 1)
    return df


# --------------------------------------------------------------------------- #
# 2. The pooled cells, validated column by column.
# --------------------------------------------------------------------------- #
_INT = r"^[+-]?\d+$"
_NUM = r"(?i)^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)$"


class _Pool:
    """Every file's cells in one pyarrow table, in file order, with each row's file,
    line and data row, and column-wise helpers (cached) for the checks."""

    def __init__(self, cells: list[_FileCells], pieces=None):
        import pyarrow as pa

        self.cells = cells
        self.files = [c.file for c in cells]
        sizes = np.array([c.n for c in cells], dtype=np.int64)
        self.start = np.concatenate([[0], np.cumsum(sizes)])
        self.n = int(self.start[-1])
        pieces = [c.table for c in cells] if pieces is None else pieces
        self.table = pa.concat_tables(pieces, promote_options="default") if pieces else None
        if self.table is not None and self.table.num_rows > self.n:
            self.table = self.table.slice(0, self.n)      # a file after these could not be read
        self.file_idx = np.repeat(np.arange(len(cells), dtype=np.int64), sizes)
        self.line = np.concatenate([c.lines if c.lines is not None else np.zeros(c.n, np.int64) for c in cells]
                                   or [np.zeros(0, np.int64)])
        self.row = np.concatenate([np.arange(1, c.n + 1, dtype=np.int64) for c in cells] or [np.zeros(0, np.int64)])
        self._cache: dict = {}

    def col(self, name):
        """A column's cells as strings ('' where the file has no such column)."""
        import pyarrow.compute as pc

        key = ("col", name)
        if key not in self._cache:
            c = self.table.column(name)
            self._cache[key] = pc.fill_null(c, "") if c.null_count else c
        return self._cache[key]

    def np(self, what, name, fn):
        key = (what, name)
        if key not in self._cache:
            out = fn(self.col(name))
            self._cache[key] = out.to_numpy(zero_copy_only=False) if hasattr(out, "to_numpy") else out
        return self._cache[key]

    def empty(self, name):
        import pyarrow.compute as pc
        return self.np("empty", name, lambda c: pc.equal(c, ""))

    def trimmed(self, name):
        import pyarrow.compute as pc
        key = ("trim", name)
        if key not in self._cache:
            self._cache[key] = pc.utf8_trim_whitespace(self.col(name))
        return self._cache[key]

    def _filled(self, name, fill):
        """The column with empty cells replaced by ``fill`` (for a cast)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        return pc.if_else(pa.array(self.empty(name)), fill, self.col(name))

    def is_int(self, name):
        """(an integer, more than 18 digits) per cell: one cast for a clean column, a
        regular expression only where the cast fails."""
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("isint", name)
        if key not in self._cache:
            try:
                v = self._filled(name, "0").cast(pa.int64()).to_numpy()
                self._cache[("ints", name)] = v
                self._cache[key] = (np.ones(self.n, bool), np.zeros(self.n, bool))
            except pa.ArrowException:
                t = self.trimmed(name)
                ok = pc.match_substring_regex(t, _INT).to_numpy(zero_copy_only=False)
                digits = (pc.utf8_length(t).to_numpy(zero_copy_only=False)
                          - pc.starts_with(t, "-").to_numpy(zero_copy_only=False)
                          - pc.starts_with(t, "+").to_numpy(zero_copy_only=False))
                self._cache[key] = (ok, ok & (digits > 18))
        return self._cache[key]

    def ints(self, name):
        """Integer value of each cell that is an integer of at most 18 digits (0 elsewhere)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("ints", name)
        if key not in self._cache:
            ok, big = self.is_int(name)
            if key not in self._cache:
                t = pc.if_else(pa.array(ok & ~big), pc.utf8_ltrim(self.trimmed(name), "+"), "0")
                self._cache[key] = t.cast(pa.int64()).to_numpy()
        return self._cache[key]

    def is_num(self, name):
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("isnum", name)
        if key not in self._cache:
            try:
                self._cache[("floats", name)] = self._filled(name, "0").cast(pa.float64()).to_numpy()
                self._cache[key] = np.ones(self.n, bool)
            except pa.ArrowException:
                self._cache[key] = pc.match_substring_regex(self.trimmed(name), _NUM).to_numpy(
                    zero_copy_only=False)
        return self._cache[key]

    def floats(self, name):
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("floats", name)
        self.is_num(name)
        if key not in self._cache:
            t = pc.if_else(pa.array(self.is_num(name)), pc.utf8_ltrim(self.trimmed(name), "+"), "0")
            self._cache[key] = t.cast(pa.float64()).to_numpy()
        return self._cache[key]

    def full_time(self, name):
        """(complete-time mask, UTC microseconds or None) of a time column."""
        key = ("fulltime", name)
        if key not in self._cache:
            full, year = checks._full_time_shape(self.col(name), with_year=True)
            self._cache[key] = (full, checks._utc_micros(self.col(name), full), year)
        return self._cache[key]

    def is_iso(self, name):
        """Cells ``datetime.fromisoformat`` accepts (vectorised for the session store's
        own format; Python only for the few distinct values of any other form)."""
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("isiso", name)
        if key in self._cache:
            return self._cache[key]
        c = self.col(name)
        full, micros, _ = self.full_time(name)
        ok = full.copy()
        if micros is None:
            ok[:] = False   # a date like month 13 among them: decide each distinct value in Python
        rest = ~ok & ~self.empty(name)
        if rest.any():
            vals = pc.unique(pc.filter(c, pa.array(rest))).to_pylist()
            good = []
            for v in vals:
                try:
                    datetime.fromisoformat(v)
                    good.append(v)
                except ValueError:
                    pass
            if good:
                ok |= rest & pc.is_in(c, value_set=pa.array(good, pa.string())).to_numpy(zero_copy_only=False)
        self._cache[key] = ok
        return ok

    def value(self, name, i) -> str:
        return self.col(name)[int(i)].as_py()

    def release(self, name) -> None:
        """Let go of a column's cells and everything derived from it (after the checks:
        the frame is being made); the files' own tables are let go with the first."""
        for fc in self.cells:
            if fc.table is not None:
                fc.n_rows, fc.table = fc.table.num_rows, None
        for key in [k for k in self._cache if k[1] == name]:
            del self._cache[key]
        if name in self.table.column_names:
            self.table = self.table.drop_columns([name])

    def where(self, i, column) -> str:
        i = int(i)
        return _where(self.files[self.file_idx[i]], self.line[i], self.row[i], column)


def _first(mask) -> Optional[int]:
    if mask is None or not mask.any():
        return None
    return int(np.argmax(mask))


class _Candidates:
    """The problems found, each with its order; the one reported is the first in file
    order, and within a file: rows (their cells left to right, then the rules across
    cells), the columns, then the column checks."""

    def __init__(self, pool: _Pool):
        self.pool, self.best = pool, None

    def add(self, i: Optional[int], stage: int, order, message) -> None:
        if i is None:
            return
        key = (int(self.pool.file_idx[i]), stage, order)
        if self.best is None or key < self.best[0]:
            self.best = (key, message)

    def add_error(self, file_no: int, stage: int, order, exc: DataValidationError) -> None:
        key = (file_no, stage, order)
        if self.best is None or key < self.best[0]:
            self.best = (key, lambda: str(exc))

    def raise_first(self) -> None:
        if self.best is not None:
            raise DataValidationError(self.best[1]())


def _pairs_of(pool: _Pool, cand: _Candidates):
    """Each row's (study, experiment): rows of an unknown study or experiment are
    problems; returns (codes per row, {code: (study, experiment)} of the valid ones)."""
    import pyarrow.compute as pc
    import paradigms
    from paradigms.base import DeclarationError

    def encode(name):
        c = pool.col(name)
        d = (c.combine_chunks() if hasattr(c, "combine_chunks") else c).dictionary_encode()
        return d.indices.to_numpy(zero_copy_only=False).astype(np.int64), d.dictionary.to_pylist()

    s_codes, s_vals = encode("study")
    e_codes, e_vals = encode("experiment")
    codes = s_codes * len(e_vals) + e_codes
    used = np.flatnonzero(np.bincount(codes))
    keys = [(int(c), s_vals[c // len(e_vals)] + "\x1f" + e_vals[c % len(e_vals)]) for c in used]
    known = paradigms.names()
    valid: dict[int, tuple[str, int]] = {}
    bad_study, bad_exp = [], {}
    for code, k in keys:
        study, exp = k.split("\x1f", 1)
        if study not in known:
            bad_study.append(code)
            continue
        try:
            exp_no = int(exp)
            paradigms.get(study).experiment(exp_no)
        except ValueError as exc:
            bad_exp[code] = str(exc) if isinstance(exc, DeclarationError) else f"{exp!r} is not an integer"
            continue
        valid[code] = (study, exp_no)
    if bad_study:
        i = _first(np.isin(codes, bad_study))
        cand.add(i, 3, (i, 0), lambda: f"{pool.where(i, 'study')}: unknown study {pool.value('study', i)!r}; "
                                       f"known: {', '.join(known)}")
    for code, msg in bad_exp.items():
        i = _first(codes == code)
        cand.add(i, 3, (i, 1), lambda i=i, msg=msg: f"{pool.where(i, 'experiment')}: {msg}")
    return codes, valid


def _file_pairs(pool: _Pool, codes: np.ndarray, valid: dict) -> list[list[tuple[int, int]]]:
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


def _check_cells(pool: _Pool, cand: _Candidates, paradigm, exp_no: int, rows: np.ndarray) -> None:
    """Each cell of the rows of one experiment against its codebook entry (stage 3)."""
    for j, m in enumerate(paradigm.codebook(exp_no)):
        if m.name not in pool.table.column_names:
            continue  # the header check of this experiment speaks first
        order = 10 + j
        col = m.name
        empty = pool.empty(col)
        present = rows & ~empty

        def add(mask, text, col=col, order=order):
            i = _first(mask)
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
    withdrawn = _withdrawn_mask(pool)
    live = rows & ~withdrawn & has_excl
    reason_empty = pool.empty("exclusion_reason") if "exclusion_reason" in names else np.ones(pool.n, bool)
    i = _first(live & (excl == 1) & reason_empty)
    cand.add(i, 3, (i, 1000), lambda: f"{pool.where(i, 'exclusion_reason')}: empty although excluded = 1")
    i2 = _first(live & (excl == 0) & ~reason_empty)
    cand.add(i2, 3, (i2, 1001), lambda: f"{pool.where(i2, 'exclusion_reason')}: "
                                        f"{pool.value('exclusion_reason', i2)!r} given although excluded = 0")
    if paradigm.outcome == "binary" and "complied" in names and not mail.is_mail(paradigm):  # (a card: see mail.py)
        i3 = _first(live & (excl == 0) & pool.empty("complied"))
        cand.add(i3, 3, (i3, 1002), lambda: f"{pool.where(i3, 'complied')}: empty for a participant who is "
                                            "neither excluded nor withdrawn")


def _withdrawn_mask(pool: _Pool) -> np.ndarray:
    """``data_consent`` == 0 (as :func:`analysis.load.status.participant_status` decides)."""
    if "data_consent" not in pool.table.column_names:
        return np.zeros(pool.n, bool)
    ok, big = pool.is_int("data_consent")
    fl = pool.is_num("data_consent")
    given = ~pool.empty("data_consent")  # an empty cell (could not be asked) reads as 0 in a clean cast
    return given & ((ok & ~big & (pool.ints("data_consent") == 0)) | (fl & ~ok & (pool.floats("data_consent") == 0)))


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
        except checks.LocatedError as exc:
            k = int(file_idx[exc.position])
            found = (exc.position, exc)
            n = starts[k]
    return found


def _check_pair_columns(pool: _Pool, cand: _Candidates, paradigm, exp_no: int, rows: np.ndarray) -> None:
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
    cols = dict.fromkeys(["condition"] + factors + times + numbers)
    import pyarrow as pa
    take = None if whole else pa.array(idx)
    df = pd.DataFrame({c: (pool.col(c) if whole else pool.col(c).take(take)).to_pandas() for c in cols}, copy=False)
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
            full, year = (full, year) if whole else (full[idx], year[idx])
            micros = None if micros is None else (micros if whole else micros[idx])
            out[c] = (full[:n], None if micros is None else micros[:n], year[:n])
        return out
    for order, check in enumerate((lambda d: checks.check_factors(d, experiment),
                                   lambda d: checks.check_times(d, times, shapes=shapes_for(len(d))),
                                   lambda d: checks.check_numbers(d, numbers))):
        pos, exc = _first_in_files(check, df, sub_file, starts)
        if pos is not None:
            cand.add(int(idx[pos]), 5, (order, pos), lambda exc=exc: str(exc))


def _validate(pool: _Pool, cand: _Candidates) -> list:
    """Stages 3-5 over the pooled cells; returns each file's valid (study, experiment) pairs."""
    import paradigms

    if pool.n == 0:
        return [[] for _ in pool.cells]
    codes, valid = _pairs_of(pool, cand)
    per_file = _file_pairs(pool, codes, valid)
    # the header must hold every column of each experiment found in the file
    for k, pairs in enumerate(per_file):
        header = pool.cells[k].header
        for code, first in pairs:
            study, exp_no = valid[code]
            missing = [m for m in paradigms.get(study).columns(exp_no) if m not in header]
            if missing:
                cand.add(first, 3, (first, 2), lambda f=pool.files[k], s=study, e=exp_no, missing=missing:
                         f"{f}: line 1 (header), column {missing[0]!r}: missing (needed by {s} experiment {e}"
                         + (f"; also missing: {', '.join(missing[1:])}" if missing[1:] else "") + ")")
    for code, (study, exp_no) in valid.items():
        rows = codes == code
        _check_cells(pool, cand, paradigms.get(study), exp_no, rows)
    # no column outside the codebooks of the experiments in the file
    for k, pairs in enumerate(per_file):
        if not pairs:
            continue
        fc = pool.cells[k]
        got = [valid[c] for c, _ in pairs]
        names: set[str] = set()
        for study, exp in got:
            names.update(paradigms.get(study).columns(exp))
        extras = [h for h in fc.header if h not in names]
        what = ", ".join(f"{s} experiment {e}" for s, e in got)
        try:
            checks.check_columns(fc.header, names, fc.file,
                                 checks.codebook_extras(fc.path) if extras else frozenset(), what)
        except DataValidationError as exc:
            cand.add_error(k, 4, (0,), exc)
    for code, (study, exp_no) in valid.items():
        _check_pair_columns(pool, cand, paradigms.get(study), exp_no, codes == code)
    return [[valid[c] for c, _ in pairs] for pairs in per_file]


def read_session_csv(path: PathLike, sidecar=_UNREAD) -> tuple[list[dict], list[str]]:
    """Read and validate one session CSV (or ``*_data.parquet`` file).

    Parameters
    ----------
    path : str or Path
        The session file.
    sidecar : dict or None, optional
        The session's sidecar (``X_data.json`` beside ``X_data.csv``), read unless
        given (``None`` for none): every row must match it and the file name's
        keywords.

    Returns
    -------
    (rows, header)
        ``rows`` are dicts of typed values plus ``source_file``/``source_line``/
        ``source_row``; ``[]`` for a file with a header and no participant.

    Raises
    ------
    DataValidationError
        Naming the file, the line and data row, and the column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis import rows_from_counts, write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> rows = rows_from_counts("cialdini1975", 1, {"rejection_moderation": (1, 2)})
    >>> p = write_session_csv(d / "a_data.csv", rows, rows[0].keys())
    >>> typed, header = read_session_csv(p)
    >>> typed[0]["complied"], typed[0]["source_line"]
    (1, 2)
    """
    path = Path(path)
    sidecar = checks.read_sidecar(path) if sidecar is _UNREAD else sidecar
    fc = _read_parquet_cells(path, sidecar) if path.suffix == ".parquet" else _scan_csv(path, sidecar)
    _, bad, err = _parse_all([fc])
    if bad is not None:
        raise err
    if fc.n:
        _check_keywords_fast(fc)
    if not fc.n:
        return [], fc.header
    pool = _Pool([fc])
    cand = _Candidates(pool)
    _validate(pool, cand)
    cand.raise_first()
    frame = _typed(pool, np.ones(pool.n, bool), keep_empty_extras=True)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for r in rows:
        for k, v in r.items():
            if isinstance(v, pd.Timestamp):
                r[k] = v.isoformat()
    return rows, fc.header


def _typed(pool: _Pool, keep: np.ndarray, keep_empty_extras: bool = False, release: bool = False) -> pd.DataFrame:
    """The kept rows, typed per codebook (integer -> Int64, number -> Float64, datetime ->
    UTC datetime64, string -> string; columns outside the codebooks stay text), with
    ``source_file``, ``source_line`` and ``source_row``.  With ``release``, each column's
    cells and derived arrays are let go as soon as it is converted (the peak of memory is
    then the frame and one column, not the frame and every cell as read); the times a
    mailed card's join reads again (:func:`analysis.load.mail.join_loaded`) are kept."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import paradigms

    studies = pc.unique(pool.col("study")).to_pylist()
    dtypes: dict[str, str] = {}
    for study in studies:
        if study in paradigms.names():
            for m in paradigms.get(study).codebook():
                dtypes.setdefault(m.name, m.dtype)
    every = keep.all()
    sel = None if every else pa.array(np.flatnonzero(keep))
    names = pool.table.column_names
    # column order: the first file's header, then any other file's new columns
    ordered = list(dict.fromkeys(c for fc in pool.cells for c in fc.header))
    codebook_first = [c for c in ordered if c in dtypes] + [c for c in ordered if c not in dtypes]
    out: dict[str, object] = {}
    hold = set(mail._TIMES) | {"study"} if "record" in names else set()
    for col in codebook_first:
        if col not in names:
            continue
        dt = dtypes.get(col)
        raw = pool.table.column(col)
        absent = raw.null_count > 0
        s = pool.col(col)
        empty = pool.empty(col)
        if dt == "integer":
            ok = pool.is_int(col)[0]
            na = empty if ok.all() else empty | (pool.is_num(col) & ~ok)
            ints = pool.ints(col)
            v = pd.arrays.IntegerArray(ints if every else ints[keep], na.copy() if every else na[keep])
        elif dt == "number":
            fl = pool.floats(col)
            v = pd.arrays.FloatingArray(fl.copy() if every else fl[keep], empty.copy() if every else empty[keep])
        elif dt == "datetime" and pool.full_time(col)[1] is not None and bool((pool.full_time(col)[0] | empty).all()):
            micros = np.where(empty, np.iinfo(np.int64).min, pool.full_time(col)[1])
            v = pd.Series(micros.view("datetime64[us]")).dt.tz_localize("UTC").array
            v = v if every else v[keep]
        elif dt == "datetime":
            arr = pc.if_else(pa.array(empty), None, s)
            try:
                ts = arr.cast(pa.timestamp("us", tz="UTC"))
                v = pd.Series(ts.to_pandas() if hasattr(ts, "to_pandas") else ts).array
            except pa.ArrowException:
                v = pd.to_datetime(pd.Series(arr.to_pandas()), format="ISO8601", utc=True, errors="coerce").array
            v = v if every else v[keep]
        else:
            arr = pc.if_else(pa.array(empty), None, s) if empty.any() else s
            if not every:
                arr = arr.take(sel)
            if dt:
                v = arr.to_pandas(types_mapper={pa.string(): pd.StringDtype()}.get).array
            else:   # a column outside the codebooks: text as read, None where empty
                v = pd.Series(arr.to_pylist(), dtype=object).array
        out[col] = v
        if release and col not in hold:
            pool.release(col)
    fidx = pool.file_idx if every else pool.file_idx[keep]
    out["source_file"] = _file_names(pool.files, fidx)
    out["source_line"] = pool.line if every else pool.line[keep]
    out["source_row"] = pool.row if every else pool.row[keep]
    # as the rows' dicts made it: the first file's columns, where each row came from, then the others'
    first = pool.cells[int(fidx[0])].header if len(fidx) else []
    head = [c for c in codebook_first if c in first and c in out]
    order = head + list(_PROVENANCE) + [c for c in out if c not in head and c not in _PROVENANCE]
    return pd.DataFrame({c: out[c] for c in order}, copy=False)


def _file_names(files, fidx: np.ndarray):
    """Each row's file name as a column of text (built once per file, not per row)."""
    import pyarrow as pa

    names = [str(f).encode("utf-8") for f in files]
    lens = np.array([len(b) for b in names], dtype=np.int64)
    if len(fidx) and (np.diff(fidx) >= 0).all():   # in file order (always, from the loader): runs of one name
        counts = np.bincount(fidx, minlength=len(names))
        data = b"".join(nm * int(k) for nm, k in zip(names, counts))
    else:
        data = b"".join(names[int(k)] for k in fidx)
    offsets = np.concatenate([[0], np.cumsum(lens[fidx])])
    typ, off = (pa.string(), offsets.astype(np.int32)) if len(data) < (1 << 31) - 1 else (pa.large_string(), offsets)
    arr = pa.Array.from_buffers(typ, len(fidx), [None, pa.py_buffer(off), pa.py_buffer(data)])
    return arr.to_pandas().array


def _file_sha256(path: Path) -> str:
    from paradigms.hashing import file_sha256

    return file_sha256(path)
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
    """The line that heads every output made from simulated or pilot data ('' for real data).

    Examples
    --------
    >>> origin_label(["real"])
    ''
    >>> origin_label(["pilot", "real"])
    'PILOT DATA: includes pilot sessions pooled with real sessions'
    """
    origins = set(origins)
    if "simulated" in origins:
        return ("SIMULATED DATA: sessions made by 'compliance simulate', not by participants"
                + (f" (pooled with {', '.join(sorted(origins - {'simulated'}))} sessions)" if len(origins) > 1 else "")
                + "; not evidence about people")
    if "pilot" in origins:
        return "PILOT DATA: includes pilot sessions" + (" pooled with real sessions" if len(origins) > 1 else "")
    return ""


#: How many bytes of CSV text are read before they are parsed (and released).
_BATCH_BYTES = 32 << 20


def _read_and_validate(files: list[Path]) -> tuple[_Pool, list]:
    """Read every file, pool the cells, validate column-wise; the first problem in file
    order is raised (a file that cannot be read stops the reading: the files before it
    are validated first, so that their problems are reported first, as ever)."""
    cells: list[_FileCells] = []
    pieces: list = []
    pending: Optional[DataValidationError] = None
    batch: list[_FileCells] = []
    held = 0

    def parse(batch) -> bool:
        nonlocal pending
        got, bad, err = _parse_all(batch)
        pieces.extend(got)
        if bad is not None:
            cells.extend(batch[:bad])
            pending = err
            return False
        cells.extend(batch)
        return True

    # scanned and parsed a batch (<= _BATCH_BYTES of text) at a time: the bytes are not all held at once
    for f in files:
        try:
            fc = _scan(f)
        except DataValidationError as exc:
            if parse(batch):
                pending = exc
            batch = []
            break
        batch.append(fc)
        held += len(fc.raw or b"")
        if held >= _BATCH_BYTES:
            ok = parse(batch)
            batch, held = [], 0
            if not ok:
                break
    else:
        if batch:
            parse(batch)
    for k, fc in enumerate(cells):
        if fc.n:
            try:
                _check_keywords_fast(fc)
            except DataValidationError as exc:
                cells, pending = cells[:k], exc
                break
    pool = _Pool(cells, pieces)
    cand = _Candidates(pool)
    pairs = _validate(pool, cand)
    cand.raise_first()
    if pending is not None:
        raise pending
    return pool, pairs


def _provenance(pool: _Pool):
    """Each row's (session file, line, data row): as read, or as 'compliance export'
    recorded it for rows read back from its Parquet file; None if every row is as read."""
    import pyarrow as pa

    if not any(c.provenance is not None for c in pool.cells):
        return None
    files, lines, rows = [], [], []
    for k, c in enumerate(pool.cells):
        if c.provenance is not None:
            p = c.provenance
            files.append(p.column("source_file").cast(pa.string()).to_numpy(zero_copy_only=False).astype(object))
            lines.append(p.column("source_line").cast(pa.int64()).to_numpy())
            rows.append(p.column("source_row").cast(pa.int64()).to_numpy())
        else:
            a, b = pool.start[k], pool.start[k + 1]
            files.append(np.full(c.n, c.file, dtype=object))
            lines.append(pool.line[a:b])
            rows.append(pool.row[a:b])
    return np.concatenate(files), np.concatenate(lines), np.concatenate(rows)


def _apply_provenance(pool: _Pool, df: pd.DataFrame, keep: np.ndarray, prov) -> pd.DataFrame:
    """Rows read from a Parquet file that 'compliance export' wrote name the session
    file and line they came from, as the exported frame did."""
    if prov is None:
        return df
    for col, v in zip(_PROVENANCE, prov):
        v = v if keep.all() else v[keep]
        df[col] = pd.array(v, dtype="str") if col == "source_file" else v
    return df


def load_sessions(*paths: PathLike, include_simulated: bool = False,
                  include_pilot: bool = False) -> LoadedData:
    """Load and validate session files: CSVs, Parquet files, folders (recursive
    ``*_data.csv`` and ``*_data.parquet``), or several site folders.

    Every file is read with pyarrow's CSV reader (all cells as text), the files are
    pooled, and each check runs once over whole columns; the problem reported is the
    first in file order, as if each file were checked alone, in turn.

    Parameters
    ----------
    *paths : str or Path
        Any mix of session files and folders.
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
    >>> import tempfile, pathlib
    >>> from analysis import rows_from_counts, write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> counts = {"rejection_moderation": (3, 5), "exposure_control": (1, 4)}
    >>> rows = rows_from_counts("cialdini1975", 1, counts)
    >>> rows[0]["data_consent"] = "0"                    # withdrew after the debriefing
    >>> _ = write_session_csv(d / "s1" / "a_data.csv", rows, rows[0].keys())
    >>> loaded = load_sessions(d)
    >>> len(loaded.data), list(loaded.report["status"])
    (8, ['withdrawn'])
    >>> loaded.analysable().groupby("condition")["complied"].sum().to_dict()
    {'exposure_control': 1, 'rejection_moderation': 2}
    """
    import warnings

    import pyarrow.compute as pc

    if not paths:
        raise DataValidationError("no data path given")
    files: list[Path] = []
    seen: set = set()
    for p in paths:
        for f in find_session_files(p, parquet=True):
            r = f.resolve()
            if r not in seen:
                seen.add(r)
                files.append(f)
    pool, pairs = _read_and_validate(files)

    origins: dict[str, str] = {}
    empty: list[str] = []
    for fc in pool.cells:
        origins[fc.file] = checks.origin_of(fc.sidecar)
        recorded = (fc.sidecar or {}).get("csv_sha256")
        if recorded and (fc.sha256 or _file_sha256(fc.path)) != recorded:
            warnings.warn(DataIntegrityWarning(
                f"{fc.file}: the content no longer matches the SHA-256 its sidecar recorded when the session "
                f"closed ({checks.sidecar_path(fc.path).name}, csv_sha256); run 'compliance verify' on the folder"),
                stacklevel=2)
        if not fc.n:
            empty.append(fc.file)
        if fc.meta:   # an export: its rows keep their sessions' origins; the file is the least real of them
            kinds = dict(fc.meta.get("origins") or {})
            origins.update(kinds)
            for kind in ("simulated", "pilot", "real"):
                if kind in kinds.values():
                    origins[fc.file] = kind
                    break
    if not pool.n:
        raise DataValidationError(f"{empty[0]}: no participants: the file has a header and no data row"
                                  + (f" (nor have the {len(empty) - 1} other files)" if len(empty) > 1 else ""))
    for e in empty:
        warnings.warn(DataIntegrityWarning(f"{e}: no participants (a header and no data row); left out"),
                      stacklevel=2)

    # withdrawals recorded after the session (compliance withdraw): the CSV is never rewritten
    ids = pool.col("participant_id") if "participant_id" in pool.table.column_names else None
    withdrawn = _withdrawn_mask(pool)
    after = audit.withdrawals_for(files)
    late = np.zeros(pool.n, bool)
    if after and ids is not None:
        import pyarrow as pa
        late = pc.is_in(ids, value_set=pa.array(list(after), pa.string())).to_numpy(zero_copy_only=False)
        withdrawn = withdrawn | late

    # across files: unique ids, slots, origins
    frame = pd.DataFrame({c: pool.col(c).to_pandas() for c in ("participant_id", "study", "experiment", "site",
                                                              "session", "slot")
                          if c in pool.table.column_names})
    frame["source_file"] = pd.Categorical.from_codes(pool.file_idx, categories=pd.Index(pool.files, dtype=object))
    frame["source_line"] = pool.line
    frame["source_row"] = pool.row
    solo = ~mail.outcome_mask(pool)  # a mailed card's outcome record shares its dispatch's id and slot
    every_solo = bool(solo.all())
    checks.check_unique_ids(frame if every_solo else frame[solo])
    schedule_of = np.asarray([((fc.sidecar or {}).get("schedule_sha256") or "") for fc in pool.cells], dtype=object)
    sched = pd.Series(schedule_of[pool.file_idx], index=frame.index)
    # without a recorded schedule hash, a session is its own schedule (simulations make theirs in memory)
    if "slot" in frame.columns:
        no_hash = (sched == "").to_numpy(bool)
        if no_hash.any():
            sched = sched.where(~no_hash, "session:" + frame["session"].astype(str))
        frame["slot"] = frame["slot"].where(frame["slot"] != "", None)
        checks.check_slots(frame if every_solo else frame[solo], sched if every_solo else sched[solo])
    del frame, sched   # the across-file checks are done: their columns are not held while the frame is made
    per_file = pd.DataFrame([{"study": s, "experiment": e, "source_file": fc.file}
                             for fc, ps in zip(pool.cells, pairs) for s, e in ps])
    if not per_file.empty:
        _check_origins(per_file, origins, include_simulated, include_pilot)

    # the report: excluded and withdrawn participants, in file order
    excl = (pool.ints("excluded") == 1) & pool.is_int("excluded")[0] if "excluded" in pool.table.column_names \
        else np.zeros(pool.n, bool)
    excluded = excl & ~withdrawn
    in_report = np.flatnonzero(excluded | withdrawn)
    reasons = []
    late_reason = {}
    for pid, e in after.items():
        late_reason[pid] = (f"withdrawn after the session: {e['reason']} (recorded by {e['by']} on {e['t']}; "
                            f"{Path(e['log']).name} line {e['line']})")
    prov = _provenance(pool)
    if in_report.size:
        import pyarrow as pa
        take = pa.array(in_report)
        rep_cols = {c: pool.col(c).take(take).to_pylist() if c in pool.table.column_names else [""] * in_report.size
                    for c in ("study", "experiment", "condition", "participant_id", "exclusion_reason")}
        for j, i in enumerate(in_report):
            if withdrawn[i]:
                reasons.append(late_reason.get(rep_cols["participant_id"][j]) if late[i] else "data_consent = 0")
            else:
                reasons.append(rep_cols["exclusion_reason"][j] or "")
        report = pd.DataFrame({"study": rep_cols["study"], "experiment": rep_cols["experiment"],
                               "condition": rep_cols["condition"],
                               "status": np.where(withdrawn[in_report], "withdrawn", "excluded"),
                               "reason": reasons, "participant_id": rep_cols["participant_id"],
                               "source_file": (np.asarray(pool.files, dtype=object)[pool.file_idx[in_report]]
                                               if prov is None else prov[0][in_report]),
                               "source_line": pool.line[in_report] if prov is None else prov[1][in_report]},
                              columns=list(REPORT_COLUMNS))
    else:
        report = pd.DataFrame(columns=list(REPORT_COLUMNS))
    extra_reports = [pd.DataFrame(fc.meta["report"], columns=list(REPORT_COLUMNS))
                     for fc in pool.cells if fc.meta and fc.meta.get("report")]
    if extra_reports:
        report = pd.concat([report, *extra_reports], ignore_index=True)
        report = report.drop_duplicates(["participant_id", "status"], keep="first")
        report = report.sort_values(["source_file", "source_line"], kind="stable").reset_index(drop=True)
    report["experiment"] = pd.to_numeric(report["experiment"]).astype(int)
    report["source_line"] = pd.to_numeric(report["source_line"]).astype(int)

    keep = ~withdrawn  # withdrawn data are never analysed: not even kept in memory
    if keep.any():
        data = _typed(pool, keep, release=True)
        data = _apply_provenance(pool, data, keep, prov)
        for fc in pool.cells:   # the column order of the frame 'compliance export' wrote
            order = (fc.meta or {}).get("frame_columns")
            if order and set(order) == set(data.columns):
                data = data[order]
                break
    else:
        data = pd.DataFrame(columns=["study", "experiment", "condition", "excluded", "complied",
                                     "source_file", "source_line"])
    data, report = mail.join_loaded(data, report, pool, keep)  # a card's two records, one row; pending apart
    return LoadedData(data, report, tuple(str(f) for f in files), origins)
