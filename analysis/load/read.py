"""Reading: one session file -> its cells as text (pyarrow's reader; Python's csv module only
where the file is irregular, to say exactly what is wrong and where), Parquet alike.
"""
from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

import analysis.load.validate as checks
from analysis.errors import DataValidationError

__all__ = ["FileCells", "PROVENANCE"]
# Also used by analysis.load.sessions (not part of the toolkit's API): scan, scan_csv, read_parquet_cells,
# parse_all, check_keywords_fast, first_keyword_problem.

@dataclass
class FileCells:
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

    n_rows: int = 0                      # rows, once ``table`` is let go (Pool.release)

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
            raise DataValidationError(f"{checks.where(file, line, row_no, col)}: row has {len(cells)} fields, "
                                      f"header has {len(header)}")
        records.append((line, row_no, cells))
    if records and not text.endswith(("\n", "\r")):
        line, row_no, _ = records[-1]
        raise DataValidationError(f"{checks.where(file, line, row_no, header[-1])}: the row has no line end: the file "
                                  "was cut while this row was being written")
    return records


def _check_header(file: str, header: list) -> None:
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataValidationError(f"{file}: line 1 (header), column {dup!r}: appears more than once")
    for needed in ("study", "experiment"):
        if needed not in header:
            raise DataValidationError(f"{file}: line 1 (header), column {needed!r}: missing")


def scan_csv(path: Path, sidecar) -> FileCells:
    """A CSV's bytes, its header and whether pyarrow's reader can take it as it is."""
    from analysis.load.files import read_with_known_sha256
    from paradigms.hashing import bytes_sha256

    file = str(path)
    try:
        raw, sha = read_with_known_sha256(path)  # the gate's digest of this very file state, if it hashed it
    except OSError as exc:
        raise DataValidationError(f"{file}: cannot be read ({exc.strerror})") from None
    if sha is None and (sidecar or {}).get("csv_sha256"):
        sha = bytes_sha256(raw)
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
    return FileCells(path, file, header, None, None, sidecar, raw=raw, text=text, body_at=nl + 1,
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


def _parse_one(fc: FileCells) -> None:
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


def parse_all(cells: list[FileCells], scratch: Optional[list] = None):
    """Parse every scanned file; consecutive regular CSVs with one header are parsed in one
    pass of pyarrow's reader over their joined data rows (joined into ``scratch[0]``, a
    bytearray reused from batch to batch, when given).  Returns (tables in file order,
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
                table = _arrow_read(_joined([memoryview(c.raw)[c.body_at:] for c in run], scratch), fc.header)
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


def _joined(views: list, scratch: Optional[list]):
    """The bytes of ``views`` one after another: in ``scratch[0]`` (grown when too small), so that the
    batches of one load reuse one buffer instead of each faulting in fresh memory; pyarrow's reader
    copies what it parses, so the buffer can be written again once the batch is parsed."""
    if scratch is None:
        return b"".join(views)
    n = sum(len(v) for v in views)
    if len(scratch[0]) < n:
        scratch[0] = bytearray(n + (n >> 3))
    out = memoryview(scratch[0])
    at = 0
    for v in views:
        out[at: at + len(v)] = v
        at += len(v)
    return out[:n]


#: Columns 'compliance export' adds to say where each row came from.
PROVENANCE = ("source_file", "source_line", "source_row")


def read_parquet_cells(path: Path, sidecar) -> FileCells:
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
    if all(c in table.column_names for c in PROVENANCE):
        provenance = table.select(list(PROVENANCE))
        table = table.drop_columns(list(PROVENANCE))
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
    return FileCells(path, file, list(header), table, None, sidecar, provenance, meta)


def scan(path: Path) -> FileCells:
    sidecar = checks.read_sidecar(path)
    if path.suffix == ".parquet":
        return read_parquet_cells(path, sidecar)
    return scan_csv(path, sidecar)


def _expected_keywords(fc: FileCells) -> dict:
    """Column -> the value the file name's keywords and the sidecar give it (None: they disagree)."""
    expected = dict(checks.file_keywords(fc.file))
    for key, col in checks.SIDECAR_KEYS.items():
        if fc.sidecar and fc.sidecar.get(key) is not None:
            expected.setdefault(col, str(fc.sidecar[key]))
            if expected[col] != str(fc.sidecar[key]):
                expected[col] = None   # two expectations: let the full check word it
    return expected


def check_keywords_fast(fc: FileCells) -> None:
    """Every row matches the file name's keywords and the sidecar (equality on whole
    columns; the pandas check only runs, to word the error, when a cell differs)."""
    import pyarrow.compute as pc

    expected = _expected_keywords(fc)
    for col, val in expected.items():
        if col not in fc.header:
            continue
        if val is None or not pc.all(pc.equal(fc.table.column(col), val)).as_py():
            checks.check_keywords(_located_frame(fc, [c for c in expected if c in fc.header]), fc.file, fc.sidecar)
            return


def first_keyword_problem(pool) -> Optional[tuple]:
    """(index, error) of the first file with rows whose cells do not all match its name's keywords
    and its sidecar, None if every file's do: what :func:`check_keywords_fast` on each file in
    turn finds, from the pooled columns' runs of one value (``pool.runs``: a file passes a column
    when each of its runs holds the expected value); only a file that may not pass is checked
    alone, to word the error."""
    expected = [{c: v for c, v in _expected_keywords(fc).items() if c in fc.header} if fc.n else {}
                for fc in pool.cells]
    suspects = np.zeros(len(pool.cells), bool)
    for col in dict.fromkeys(c for e in expected for c in e):
        starts, codes, values = pool.runs(col)    # runs inside one file each
        code_of = {v: i for i, v in enumerate(values)}
        # per file: the expected value's code; -1 for a value no cell holds (or two expectations),
        # -2 where the file has no such column (nothing to check)
        want = np.array([code_of.get(e[col], -1) if col in e else -2 for e in expected], dtype=np.int64)
        w = want[pool.file_idx[starts]]
        suspects[pool.file_idx[starts][(w != -2) & (codes != w)]] = True
    for k in np.flatnonzero(suspects).tolist():
        try:
            check_keywords_fast(pool.cells[k])
        except DataValidationError as exc:
            return k, exc
    return None


def _located_frame(fc: FileCells, columns) -> pd.DataFrame:
    df = pd.DataFrame({c: fc.table.column(c).to_pandas() for c in columns})
    df["source_file"] = fc.file
    df["source_line"] = fc.lines if fc.lines is not None else 0
    df["source_row"] = np.arange(1, fc.n + 1)
    return df
