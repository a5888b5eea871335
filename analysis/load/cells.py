"""The pooled cells: every file's cells in one table, the problems found in them, and the frame
typed by the codebook (integer -> Int64, number -> Float64, datetime -> UTC, string -> string).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import numpy as np
import pandas as pd

import analysis.load.mail as mail
import analysis.load.validate as checks
from analysis.declared import declaration, known_studies
from analysis.errors import DataValidationError
from analysis.load.read import PROVENANCE, FileCells

__all__ = ["Pool", "Candidates"]
# Also used by analysis.load.sessions (not part of the toolkit's API): typed_frame.

_INT = r"^[+-]?\d+$"


_NUM = r"(?i)^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|nan|inf|infinity)$"


class Pool:
    """Every file's cells in one pyarrow table, in file order, with each row's file,
    line and data row, and column-wise helpers (cached) for the checks."""

    def __init__(self, cells: list[FileCells], pieces=None):
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

    def runs(self, name):
        """(first row of each run, its code, the distinct values in first-seen order) of a column,
        each run inside one file (:func:`analysis.load.validate.runs_of`): made once for the
        checks that read it, and small (as many as the runs) while they are held."""
        key = ("runs", name)
        if key not in self._cache:
            at_file = np.zeros(self.n, bool)
            at_file[self.start[:-1][self.start[:-1] < self.n]] = True
            starts, codes, values = checks.runs_of(self.col(name), at_file)
            self._cache[key] = (starts, codes, values.to_pylist())
        return self._cache[key]

    def encoded(self, name):
        """(int64 code of each cell, the distinct values in first-seen order) of a column:
        :func:`analysis.load.validate.run_encode`'s, from :meth:`runs` (the codes are not held)."""
        starts, codes, values = self.runs(name)
        return np.repeat(codes, np.diff(np.append(starts, self.n))), values

    def np(self, what, name, fn):
        key = (what, name)
        if key not in self._cache:
            out = fn(self.col(name))
            self._cache[key] = out.to_numpy(zero_copy_only=False) if hasattr(out, "to_numpy") else out
        return self._cache[key]

    def empty(self, name):
        """Cells that are '' (from the string offsets: a cell of length 0; pyarrow's compare
        where the column is not plain text)."""
        import pyarrow.compute as pc
        key = ("empty", name)
        if key not in self._cache:
            zero = _zero_length(self.col(name))
            self._cache[key] = zero if zero is not None else pc.equal(self.col(name), "").to_numpy(zero_copy_only=False)
        return self._cache[key]

    def trimmed(self, name):
        import pyarrow.compute as pc
        key = ("trim", name)
        if key not in self._cache:
            self._cache[key] = pc.utf8_trim_whitespace(self.col(name))
        return self._cache[key]

    def _cast_filled(self, name, typ, fill):
        """The column cast to ``typ``, ``fill`` where a cell is empty: what casting the column with
        its empty cells replaced by ``fill`` gives, but the empty cells are made null (a bitmap
        over the column's own buffers) instead of copying the text."""
        import pyarrow.compute as pc
        empty = self.empty(name)
        c = self.col(name)
        if not empty.any():
            return c.cast(typ).to_numpy()
        return pc.fill_null(checks._valid_where(c, ~empty).cast(typ), fill).to_numpy()

    def is_int(self, name):
        """(an integer, more than 18 digits) per cell: one cast for a clean column, a
        regular expression only where the cast fails."""
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("isint", name)
        if key not in self._cache:
            try:
                v = self._cast_filled(name, pa.int64(), 0)
                self._cache[("ints", name)] = v
                self._cache[("cast", name)] = True
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

    def cast_ints(self, name):
        """The column's integers if one cast took every cell (empty cells read as 0), else None."""
        self.is_int(name)
        return self._cache[("ints", name)] if ("cast", name) in self._cache else None

    def numbers(self, name):
        """The column as floats, NaN where a cell is empty, if the checks cast it already and one
        cast took every other cell (what :func:`analysis.load.validate._numbers` makes of it
        then), else None."""
        if ("cast", name) in self._cache:
            v = self._cache[("ints", name)].astype(float)
        elif ("castnum", name) in self._cache:
            v = self._cache[("floats", name)].copy()
        else:
            return None
        v[self.empty(name)] = np.nan
        return v

    def is_num(self, name):
        import pyarrow as pa
        import pyarrow.compute as pc
        key = ("isnum", name)
        if key not in self._cache:
            try:
                self._cache[("floats", name)] = self._cast_filled(name, pa.float64(), 0.0)
                self._cache[("castnum", name)] = True
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
        if key not in self._cache:   # one cast for the session store's own form, else shape then cast
            got = checks._times_by_cast(self.col(name), self.empty(name))
            if got is None:
                full, year = checks.full_time_shape(self.col(name), with_year=True)
                got = (full, checks.utc_micros(self.col(name), full), year)
            self._cache[key] = got
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
        _give_back()

    def where(self, i, column) -> str:
        i = int(i)
        return checks.where(self.files[self.file_idx[i]], self.line[i], self.row[i], column)


def _zero_length(arr) -> Optional[np.ndarray]:
    """Cells of length 0 of a string column without nulls, from its offsets (what
    ``pc.equal(arr, "")`` gives, without comparing the text); None for any other column."""
    import pyarrow as pa

    parts = []
    for a in getattr(arr, "chunks", [arr]):
        if a.null_count or a.type != pa.string():
            return None
        if len(a):
            o = np.frombuffer(a.buffers()[1], np.int32)[a.offset: a.offset + len(a) + 1]
            parts.append(o[1:] == o[:-1])
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def _give_back() -> None:
    """Return the memory Arrow's pool holds unused to the system (mimalloc keeps what was freed
    for reuse: the cells let go would otherwise still count in the process's peak)."""
    import pyarrow as pa
    pa.default_memory_pool().release_unused()


class Candidates:
    """The problems found, each with its order; the one reported is the first in file
    order, and within a file: rows (their cells left to right, then the rules across
    cells), the columns, then the column checks."""

    def __init__(self, pool: Pool):
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


def typed_frame(pool: Pool, keep: np.ndarray, keep_empty_extras: bool = False, release: bool = False) -> pd.DataFrame:
    """The kept rows, typed per codebook (integer -> Int64, number -> Float64, datetime ->
    UTC datetime64, string -> string; columns outside the codebooks stay text), with
    ``source_file``, ``source_line`` and ``source_row``.  With ``release``, each column's
    cells and derived arrays are let go as soon as it is converted (the peak of memory is
    then the frame and one column, not the frame and every cell as read); the times a
    mailed card's join reads again (:func:`analysis.load.mail.join_loaded`) are kept."""
    import pyarrow as pa
    import pyarrow.compute as pc
    studies = pc.unique(pool.col("study")).to_pylist()
    dtypes: dict[str, str] = {}
    known = known_studies()
    for study in studies:
        if study in known:
            for m in declaration(study).codebook():
                dtypes.setdefault(m.name, m.dtype)
    every = keep.all()
    sel = None if every else pa.array(keep)   # a boolean filter: faster than a take of the indices
    names = pool.table.column_names
    # column order: the first file's header, then any other file's new columns
    ordered = list(dict.fromkeys(c for fc in pool.cells for c in fc.header))
    codebook_first = [c for c in ordered if c in dtypes] + [c for c in ordered if c not in dtypes]
    out: dict[str, object] = {}
    hold = set(mail.TIMES) | {"study"} if "record" in names else set()
    for col in codebook_first:
        if col not in names:
            continue
        dt = dtypes.get(col)
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
            arr = checks._valid_where(s, ~empty) if empty.any() else s   # nulls by a bitmap: no copy of the text
            if not every:
                arr = arr.filter(sel)
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
    order = head + list(PROVENANCE) + [c for c in out if c not in head and c not in PROVENANCE]
    return pd.DataFrame({c: out[c] for c in order}, copy=False)


def _file_names(files, fidx: np.ndarray):
    """Each row's file name as a column of text (large_string, as pandas holds it: no cast after).
    Rows in file order (always, from the loader) come in runs of one name: each run written by
    numpy's broadcast of the name into its rows' bytes; in any other order, pyarrow's take."""
    import pyarrow as pa

    names = [str(f).encode("utf-8") for f in files]
    if not len(fidx) or not bool((np.diff(fidx) >= 0).all()):
        return pa.array(names, pa.large_string()).take(pa.array(fidx, pa.int64())).to_pandas().array
    lens = np.array([len(b) for b in names], dtype=np.int64)
    counts = np.bincount(fidx, minlength=len(names))
    data = np.empty(int((lens * counts).sum()), np.uint8)
    at = 0
    for nm, k in zip(names, counts):
        if k:
            data[at: at + len(nm) * int(k)].reshape(int(k), len(nm))[:] = np.frombuffer(nm, np.uint8)
            at += len(nm) * int(k)
    offsets = np.zeros(len(fidx) + 1, np.int64)
    np.cumsum(lens[fidx], out=offsets[1:])
    arr = pa.Array.from_buffers(pa.large_string(), len(fidx), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    return arr.to_pandas().array
