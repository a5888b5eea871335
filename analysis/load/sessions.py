"""Load session files: the orchestration of the load's rooms, and what it hands on.

``files`` finds the session files; ``read`` reads each into cells of text;
``validate`` checks the pooled cells (``cells``) against each experiment's codebook;
``cells`` types them; here the files are pooled, checked across files (unique
ids, slots, origins), the exclusions and withdrawals reported, and the result
returned as :class:`LoadedData`.

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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

import numpy as np
import pandas as pd

import analysis.load.mail as mail
import analysis.load.validate as checks
import analysis.records.audit as audit
from analysis.errors import DataIntegrityWarning, DataValidationError
from analysis.load.cells import Candidates, Pool, typed_frame
from analysis.load.files import PARQUET_GLOB, SESSION_GLOB, PathLike, file_sha256, find_session_files
from analysis.load.read import (PROVENANCE, FileCells, check_keywords_fast, first_keyword_problem, parse_all,
                                read_parquet_cells, scan, scan_csv)
from analysis.load.status import analysed_mask

__all__ = ["LoadedData", "load_sessions", "read_session_csv", "find_session_files", "origin_label",
           "REPORT_COLUMNS", "SESSION_GLOB", "PARQUET_GLOB", "PathLike"]

#: Columns of the exclusion/withdrawal report.
REPORT_COLUMNS = ("study", "experiment", "condition", "status", "reason", "participant_id",
                  "source_file", "source_line")


_UNREAD = object()  # read_session_csv: read the sidecar itself


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
        return self.data[analysed_mask(self.data)]

    def experiments(self) -> list[tuple[str, int]]:
        """The (study, experiment) pairs present, in first-seen order."""
        # the distinct pairs first (vectorised), then in Python: not a million pairs through zip
        d = self.data[["study", "experiment"]]
        study = getattr(d["study"].array, "_pa_array", None)
        if len(d) > 1 and study is not None and not study.null_count and _is_text(study.type) \
                and pd.api.types.is_integer_dtype(d["experiment"].dtype) and not d["experiment"].hasnans:
            import pyarrow.compute as pc   # rows come in runs of one experiment: only each run's first row
            e = d["experiment"].to_numpy(dtype=np.int64)
            changed = np.concatenate([[True], pc.not_equal(study.slice(1), study.slice(0, len(d) - 1))
                                      .to_numpy(zero_copy_only=False) | (e[1:] != e[:-1])])
            d = d.iloc[np.flatnonzero(changed)]
        d = d.drop_duplicates() if len(d) else d
        seen = dict.fromkeys(zip(d["study"], d["experiment"].astype(int)))
        seen.update(dict.fromkeys(zip(self.report["study"], self.report["experiment"].astype(int))))
        return list(seen)

    def files_of(self, study: str, experiment: int) -> tuple[str, ...]:
        mask = ((self.data["study"] == study) & (self.data["experiment"] == experiment)).to_numpy(dtype=bool,
                                                                                                 na_value=False)
        r = self.report[(self.report["study"] == study) & (self.report["experiment"] == experiment)]
        return tuple(dict.fromkeys(_first_seen(self.data["source_file"], mask) + list(r["source_file"])))

    def origin_of(self, study: str, experiment: int) -> tuple[str, ...]:
        """How the sessions of one experiment were made (``real``, ``pilot``, ``simulated``,
        ``unrecorded``), sorted; ``simulated`` among them means the results are not evidence."""
        return tuple(sorted({self.origins.get(f, "unrecorded") for f in self.files_of(study, experiment)}))


def _first_seen(column: pd.Series, mask: np.ndarray) -> list:
    """``list(pd.unique(column[mask]))`` without hashing every row: the rows come in runs
    of one file (the loader's order), so only the first row of each run is looked at."""
    arr = getattr(column.array, "_pa_array", None)   # the loader's text columns are pyarrow's
    if arr is None or arr.null_count or len(arr) < 2 or not _is_text(arr.type):
        return list(pd.unique(column[mask]))
    import pyarrow.compute as pc

    rows = np.flatnonzero(mask)
    if not rows.size:
        return []
    changed = np.concatenate([[True], pc.not_equal(arr.slice(1), arr.slice(0, len(arr) - 1))
                              .to_numpy(zero_copy_only=False)])
    run = np.cumsum(changed)[rows]     # each kept row's run of one value
    starts = rows[np.concatenate([[True], run[1:] != run[:-1]])]
    return list(pd.unique(column.iloc[starts]))


def _is_text(t) -> bool:
    import pyarrow as pa
    return pa.types.is_string(t) or pa.types.is_large_string(t)


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
    fc = read_parquet_cells(path, sidecar) if path.suffix == ".parquet" else scan_csv(path, sidecar)
    _, bad, err = parse_all([fc])
    if bad is not None:
        raise err
    if fc.n:
        check_keywords_fast(fc)
    if not fc.n:
        return [], fc.header
    pool = Pool([fc])
    cand = Candidates(pool)
    checks.validate_pool(pool, cand)
    cand.raise_first()
    frame = typed_frame(pool, np.ones(pool.n, bool), keep_empty_extras=True)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for r in rows:
        for k, v in r.items():
            if isinstance(v, pd.Timestamp):
                r[k] = v.isoformat()
    return rows, fc.header


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


def _read_and_validate(files: list[Path]) -> tuple[Pool, list]:
    """Read every file, pool the cells, validate column-wise; the first problem in file
    order is raised (a file that cannot be read stops the reading: the files before it
    are validated first, so that their problems are reported first, as ever)."""
    cells: list[FileCells] = []
    pieces: list = []
    pending: Optional[DataValidationError] = None
    batch: list[FileCells] = []
    held = 0
    scratch = [bytearray()]   # the batches' joined bytes, one buffer for them all

    def parse(batch) -> bool:
        nonlocal pending
        got, bad, err = parse_all(batch, scratch)
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
            fc = scan(f)
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
    del scratch[:]   # parsed: not held through the checks
    pool = Pool(cells, pieces)
    bad = first_keyword_problem(pool)   # on the pooled columns; the first file that fails says what
    if bad is not None:
        cells, pending = cells[:bad[0]], bad[1]
        pool = Pool(cells, pieces)
    cand = Candidates(pool)
    pairs = checks.validate_pool(pool, cand)
    cand.raise_first()
    if pending is not None:
        raise pending
    return pool, pairs


def _provenance(pool: Pool):
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


def _apply_provenance(pool: Pool, df: pd.DataFrame, keep: np.ndarray, prov) -> pd.DataFrame:
    """Rows read from a Parquet file that 'compliance export' wrote name the session
    file and line they came from, as the exported frame did."""
    if prov is None:
        return df
    for col, v in zip(PROVENANCE, prov):
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
    if not paths:
        raise DataValidationError("no data path given")
    files = _session_files(paths)
    pool, pairs = _read_and_validate(files)
    origins = _origins(pool)
    withdrawn, late, after = _withdrawn(pool, files)
    _check_across_files(pool, pairs, origins, include_simulated, include_pilot)
    prov = _provenance(pool)
    report = _report(pool, withdrawn, late, after, prov)
    keep = ~withdrawn  # withdrawn data are never analysed: not even kept in memory
    data = _frame(pool, keep, prov)
    data, report = mail.join_loaded(data, report, pool, keep)  # a card's two records, one row; pending apart
    return LoadedData(data, report, tuple(str(f) for f in files), origins)


def _session_files(paths) -> list:
    """Every session file under ``paths``, each once (a file reached twice, e.g. through a link, is read once)."""
    files: list[Path] = []
    seen: set = set()
    for p in paths:
        for f in find_session_files(p, parquet=True):
            r = f.resolve()
            if r not in seen:
                seen.add(r)
                files.append(f)
    return files


def _origins(pool: Pool) -> dict:
    """File -> how its session was made (its sidecar's word); warns of a changed file and of an empty one,
    and refuses when every file is empty."""
    import warnings

    origins: dict[str, str] = {}
    empty: list[str] = []
    for fc in pool.cells:
        origins[fc.file] = checks.origin_of(fc.sidecar)
        recorded = (fc.sidecar or {}).get("csv_sha256")
        if recorded and (fc.sha256 or file_sha256(fc.path)) != recorded:
            warnings.warn(DataIntegrityWarning(
                f"{fc.file}: the content no longer matches the SHA-256 its sidecar recorded when the session "
                f"closed ({checks.sidecar_path(fc.path).name}, csv_sha256); run 'compliance verify' on the folder"),
                stacklevel=3)
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
                      stacklevel=3)
    return origins


def _withdrawn(pool: Pool, files: list) -> tuple:
    """(withdrawn rows, rows withdrawn after the session, the audit log's withdrawals by id): the CSV is
    never rewritten, a withdrawal recorded later (``compliance withdraw``) is read from the log."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pool.col("participant_id") if "participant_id" in pool.table.column_names else None
    withdrawn = checks.withdrawn_mask(pool)
    after = audit.withdrawals_for(files)
    late = np.zeros(pool.n, bool)
    if after and ids is not None:
        late = pc.is_in(ids, value_set=pa.array(list(after), pa.string())).to_numpy(zero_copy_only=False)
        withdrawn = withdrawn | late
    return withdrawn, late, after


def _check_across_files(pool: Pool, pairs: list, origins: dict, include_simulated: bool,
                        include_pilot: bool) -> None:
    """Unique ids, schedule slots filled once, and no mixing of simulated, pilot and real sessions."""
    solo = ~mail.outcome_mask(pool)  # a mailed card's outcome record shares its dispatch's id and slot
    # on the pooled columns (a sort of the ids, integer codes of the slots' groups); only when one of
    # them finds a row twice are the columns made a frame, for the checks that word the error
    if not (_ids_once(pool, solo) and _slots_once(pool, solo)):
        _check_ids_and_slots(pool, solo)
    per_file = pd.DataFrame([{"study": s, "experiment": e, "source_file": fc.file}
                             for fc, ps in zip(pool.cells, pairs) for s, e in ps])
    if not per_file.empty:
        _check_origins(per_file, origins, include_simulated, include_pilot)


def _ids_once(pool: Pool, solo: np.ndarray) -> bool:
    """Every participant id of the rows in ``solo`` occurs once (what check_unique_ids finds, from a
    sort of the pooled column); False also when there is no id column (the check then says what)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if "participant_id" not in pool.table.column_names:
        return False
    arr = pool.col("participant_id")
    keys = _id_keys(arr)
    if keys is not None:   # one integer per id, equal for equal ids: no two equal, no id twice
        keys = np.sort(keys if solo.all() else keys[solo])
        if not bool((keys[1:] == keys[:-1]).any()):
            return True
    if not solo.all():
        arr = arr.filter(pa.array(solo))
    if len(arr) < 2:
        return True
    srt = arr.take(pc.sort_indices(arr))
    return not pc.any(pc.equal(srt.slice(1), srt.slice(0, len(srt) - 1))).as_py()


def _id_keys(arr) -> Optional[np.ndarray]:
    """Each cell's last eight bytes as one uint64 when every cell has one width of at least 8 bytes
    (the store's ids: ``sim-8c0ff355``): equal cells have equal keys, so that cells whose keys
    all differ all differ (cells with equal keys may differ too).  None otherwise."""
    import pyarrow as pa

    keys, width = [], None
    for a in getattr(arr, "chunks", [arr]):
        if not len(a):
            continue
        if a.null_count or a.type != pa.string():
            return None
        bufs = a.buffers()
        offs = np.frombuffer(bufs[1], dtype=np.int32)[a.offset: a.offset + len(a) + 1]
        width = int(offs[1] - offs[0]) if width is None else width
        if width < 8 or int(offs[-1] - offs[0]) != width * len(a) or not bool((np.diff(offs) == width).all()):
            return None
        at = int(offs[0])
        keys.append(np.ndarray((len(a),), "<u8", buffer=bufs[2], offset=at + width - 8, strides=(width,)))
    return np.concatenate(keys) if keys else None


def _slots_once(pool: Pool, solo: np.ndarray) -> bool:
    """No slot of the rows in ``solo`` filled twice in one schedule (what check_slots finds), from
    integer codes of each row's study, experiment, site and schedule; False when a slot is filled
    twice, or when a column the check reads is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = pool.table.column_names
    if "slot" not in names or not solo.any():
        return True
    schedule_of = [((fc.sidecar or {}).get("schedule_sha256") or "") for fc in pool.cells]
    no_hash = not all(schedule_of)
    if no_hash and "session" not in names:
        return False
    parts = [(lambda c, v: (c, len(v)))(*pool.encoded(c)) if c in names else (np.zeros(pool.n, np.int64), 1)
             for c in ("study", "experiment", "site")]
    # the schedule: the sidecar's hash, or (without one) 'session:' and the session; it changes only
    # where the file or the session does, so each run's first row says it
    breaks = np.zeros(pool.n, bool)
    breaks[pool.start[:-1][pool.start[:-1] < pool.n]] = True
    if no_hash:
        sess = pool.col("session")
        breaks[1:] |= pc.not_equal(sess.slice(1), sess.slice(0, pool.n - 1)).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(breaks)
    hashes = pa.array(np.asarray(schedule_of, dtype=object)[pool.file_idx[starts]], pa.string())
    sched = hashes
    if no_hash:
        own = pc.binary_join_element_wise("session:", pool.col("session").take(pa.array(starts)), "")
        sched = pc.if_else(pc.equal(hashes, ""), own, hashes)
    run, k = checks.text_codes(sched)
    parts.append((np.repeat(run, np.diff(np.append(starts, pool.n))), k))
    g, k = parts[0]
    for c, m in parts[1:]:
        g, k = checks.combine_codes(g, k, c, m)
    slot = pool.col("slot")
    values = pool.cast_ints("slot")
    has_slot = ~pool.empty("slot")
    if not solo.all():
        g, slot, has_slot = g[solo], slot.filter(pa.array(solo)), has_slot[solo]
        values = None if values is None else values[solo]
    key = checks.slot_keys(g, slot, has_slot, values)[has_slot]
    if len(key) and int(key.max()) < 8 * len(key):   # keys in a small range (as a schedule's slots are): counted
        return not (np.bincount(key) > 1).any()
    return not pd.Series(key).duplicated().any()


def _check_ids_and_slots(pool: Pool, solo: np.ndarray) -> None:
    """check_unique_ids and check_slots on a frame of the pooled columns (to word the error)."""
    frame = pd.DataFrame({c: pool.col(c).to_pandas() for c in ("participant_id", "study", "experiment", "site",
                                                              "session", "slot")
                          if c in pool.table.column_names})
    frame["source_file"] = pd.Categorical.from_codes(pool.file_idx, categories=pd.Index(pool.files, dtype=object))
    frame["source_line"] = pool.line
    frame["source_row"] = pool.row
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


def _report(pool: Pool, withdrawn: np.ndarray, late: np.ndarray, after: dict, prov) -> pd.DataFrame:
    """The excluded and withdrawn participants, in file order (and those an export's metadata lists)."""
    excl = (pool.ints("excluded") == 1) & pool.is_int("excluded")[0] if "excluded" in pool.table.column_names \
        else np.zeros(pool.n, bool)
    excluded = excl & ~withdrawn
    in_report = np.flatnonzero(excluded | withdrawn)
    late_reason = {}
    for pid, e in after.items():
        late_reason[pid] = (f"withdrawn after the session: {e['reason']} (recorded by {e['by']} on {e['t']}; "
                            f"{Path(e['log']).name} line {e['line']})")
    if in_report.size:
        import pyarrow as pa
        take = pa.array(in_report)
        # each column's cells as text (pandas' str, from pyarrow: no Python string per cell)
        rep_cols = {c: (pool.col(c).take(take) if c in pool.table.column_names
                        else pa.array([""] * in_report.size, pa.string())).to_pandas().array
                    for c in ("study", "experiment", "condition", "participant_id", "exclusion_reason")}
        w = withdrawn[in_report]
        reasons = np.where(w, "data_consent = 0", rep_cols["exclusion_reason"].to_numpy(object)).astype(object)
        for j in np.flatnonzero(w & late[in_report]).tolist():   # withdrawn after the session: the log says why
            reasons[j] = late_reason.get(rep_cols["participant_id"][j])
        report = pd.DataFrame({"study": rep_cols["study"], "experiment": rep_cols["experiment"],
                               "condition": rep_cols["condition"],
                               "status": np.where(w, "withdrawn", "excluded"),
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
    return report


def _frame(pool: Pool, keep: np.ndarray, prov) -> pd.DataFrame:
    """The kept rows, typed, with where each came from, in the column order an export wrote."""
    if not keep.any():
        return pd.DataFrame(columns=["study", "experiment", "condition", "excluded", "complied",
                                     "source_file", "source_line"])
    data = typed_frame(pool, keep, release=True)
    data = _apply_provenance(pool, data, keep, prov)
    for fc in pool.cells:   # the column order of the frame 'compliance export' wrote
        order = (fc.meta or {}).get("frame_columns")
        if order and set(order) == set(data.columns):
            return data[order]
    return data
