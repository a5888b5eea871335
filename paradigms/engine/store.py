"""Crash-safe session data: one CSV per session, a JSON sidecar, an event journal.

Every participant's row is appended, flushed and fsynced the moment the record
is complete; every tap is journalled (fsynced) the moment it happens, so an
answer given just before a crash is still on disk.  Files are opened with
``"x"`` (exclusive create): an existing file is never overwritten.

That is the ``per_event`` durability policy, the default and what every real
session uses.  A data-only simulation has no participant to lose and uses
``batched`` instead: rows and journal events are collected in memory and
written in large blocks of whole lines (the CSV's block before the journal's,
so the journal never holds an answer whose row is not in the CSV), with one
fsync of CSV, journal and sidecar at close.  A batched session killed midway
leaves what a killed per-event session leaves, minus its last block: a CSV
of complete rows and a sidecar still ``running``, which recovery marks
``interrupted``.  The sidecar says which policy wrote the files
(``"durability"``); the bytes written are the same under both.

File names follow Psych-DS keywords::

    study-cialdini1975_exp-1_site-S1_session-3_data.csv    the data
    study-cialdini1975_exp-1_site-S1_session-3_data.json   sidecar (metadata)
    study-cialdini1975_exp-1_site-S1_session-3_events.jsonl  tap journal
    dataset_description.json                                 at the data root
"""
from __future__ import annotations

import csv
import hashlib  # noqa: F401
import io
import json
import os
import platform
import re
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..base import Paradigm
from ..errors import ComplianceError, UsageError
from ..hashing import file_sha256  # noqa: F401  (the one file hash; re-exported here)
from . import locks as _locks

__all__ = ["STORE_COLUMNS", "DURABILITY", "SessionStore", "journal_text", "journal_value", "SessionExistsError", "psychds_stem", "now_iso", "write_json_atomic", "write_text_atomic",
           "update_dataset_description", "find_interrupted", "file_sha256", "session_sort_key",
           "AUDIT_LOG", "GENESIS", "RecordChain",
           "read_dataset_description", "dataset_uid"]

#: Columns the store fills in for every row (the session's identity).
STORE_COLUMNS = ("study", "experiment", "site", "session", "experimenter")

#: The durability policies of :class:`SessionStore` (the first is the default).
DURABILITY = ("per_event", "batched")

_KEY_RE = re.compile(r"^[A-Za-z0-9]+$")


def _journal_encoder():
    """``json.dumps(obj, ensure_ascii=False)`` for a journal line, as a list or tuple of pieces to join,
    without building an encoder per call: json's C encoder, made once (checked against
    ``json.dumps`` on a probe; the pure Python encoder where that C encoder is missing or differs)."""
    enc = json.JSONEncoder(ensure_ascii=False)
    try:
        from json.encoder import c_make_encoder, encode_basestring
        make = c_make_encoder(None, enc.default, encode_basestring, None, enc.key_separator,
                              enc.item_separator, False, False, True)
        probe = {"t": "x", "n": [1, -2.5, None, True, False], "s": 'é "q"\n\\', "d": {"k": 1e300}}
        chunks = make(probe, 0)
        if not isinstance(chunks, (list, tuple)) or "".join(chunks) != json.dumps(probe, ensure_ascii=False):
            raise ValueError("differs")
    except Exception:
        return lambda obj: [enc.encode(obj)]
    return lambda obj: make(obj, 0)  # a list (Python 3.11), a 1-tuple (3.12)


_journal_chunks = _journal_encoder()

try:  # the string encoder json.dumps(..., ensure_ascii=False) uses (and _journal_encoder gives its C encoder)
    from json.encoder import encode_basestring as _json_str
except ImportError:  # pragma: no cover
    def _json_str(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)


#: event kind -> the journal text between an event's time and its fields
_EVENT_HEADS: dict[str, str] = {}


def journal_text(**fields) -> str:
    """``fields`` as they stand inside a journal line, ``"k": v, ...`` in the order given: the very text
    :meth:`SessionStore.event` writes for them (its encoder), to be put in lines by
    :meth:`SessionStore.event_text`.

    Examples
    --------
    >>> journal_text(screen="ready", step=None, n=3)
    '"screen": "ready", "step": null, "n": 3'
    """
    return "".join(_journal_chunks(fields))[1:-1]


def journal_value(value) -> str:
    """``value`` as JSON, as :meth:`SessionStore.event` writes it (a string, a whole number and ``None``
    without a call of the encoder).

    Examples
    --------
    >>> journal_value('café'), journal_value(7), journal_value(None), journal_value(4.0)
    ('"café"', '7', 'null', '4.0')
    """
    kind = type(value)
    if kind is str:
        return _json_str(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    return "".join(_journal_chunks(value))


class SessionExistsError(ComplianceError, FileExistsError):
    """The data directory already holds this session."""


def now_iso() -> str:
    """The time now, local, to the millisecond: ``2026-01-05T11:00:00.123+01:00``."""
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


class _IsoClock:
    """:func:`now_iso` for a loop that asks many times a millisecond: the text is made once per
    millisecond, and its part up to the second (date, time, UTC offset) once per second."""

    __slots__ = ("_ms", "_text", "_second", "_head", "_tail")

    def __init__(self):
        self._ms = self._second = None

    def __call__(self) -> str:
        ms = int(time.time() * 1000)
        if ms != self._ms:
            second, frac = divmod(ms, 1000)
            if second != self._second:
                text = datetime.fromtimestamp(second, timezone.utc).astimezone().isoformat(timespec="milliseconds")
                # "2026-01-05T10:00:00.000+01:00": split around the milliseconds
                self._head, self._tail, self._second = text[:19], text[23:], second
            self._ms, self._text = ms, f"{self._head}.{frac:03d}{self._tail}"
        return self._text


def psychds_stem(study: str, experiment: int, site: str, session: int) -> str:
    for name, value in (("study", study), ("site", site)):
        if not _KEY_RE.match(value):
            raise UsageError(f"{name} {value!r} must be letters and digits only (it becomes a file-name keyword)")
    return f"study-{study}_exp-{int(experiment)}_site-{site}_session-{int(session)}"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` through a temporary file, an fsync and an atomic rename (then fsync the folder).

    The temporary file is created exclusively (:func:`tempfile.mkstemp` in the
    target folder, a fresh random name), so nothing planted beside the target --
    a symlink at ``NAME.tmp``, say -- can redirect the write.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(path.parent)


def write_json_atomic(path: Path, obj) -> None:
    """Write JSON (indented, UTF-8) with :func:`write_text_atomic`."""
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


_RUN = re.compile(r"(\d+)")


def session_sort_key(path) -> tuple:
    """The order of session files: by folder, then by name with every number compared as a number,
    so that ``session-2`` comes before ``session-10`` (a name sort puts 10 first, and a mail study
    would then meet a card's outcome record before its dispatch record).

    Examples
    --------
    >>> names = ["x_session-10_data.csv", "x_session-2_data.csv", "x_session-1_data.csv"]
    >>> sorted(names, key=session_sort_key)
    ['x_session-1_data.csv', 'x_session-2_data.csv', 'x_session-10_data.csv']
    """
    p = Path(path)
    return tuple(tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in _RUN.split(part) if t)
                 for part in p.parts)


#: The folder's hash-chained record (issue 22): beside the sessions it concerns, so a copy of the
#: folder carries it.  One JSON line per event: a session closing (``close``: the SHA-256 of its CSV,
#: journal and sidecar) and a participant withdrawing afterwards (``withdraw``); each line holds
#: ``prev_sha256``, the SHA-256 of the line before it (64 zeros for the first).
AUDIT_LOG = "audit_log.jsonl"
GENESIS = "0" * 64


class RecordChain:
    """The folder's audit log, held under an exclusive lock (one writer at a time: the chain stays
    linear).  ``seq`` is the number the next entry gets; :meth:`append` writes it, fsynced.

    Examples
    --------
    >>> import tempfile, pathlib, json
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with RecordChain(d) as chain:
    ...     first = chain.append({"t": "2026-01-05T10:00:00.000+00:00", "action": "close"})
    >>> first["seq"], first["prev_sha256"] == GENESIS
    (1, True)
    >>> with RecordChain(d) as chain:
    ...     chain.seq
    2
    """

    def __init__(self, folder):
        self.path = Path(folder) / AUDIT_LOG
        self._fd: Optional[int] = None

    def __enter__(self) -> "RecordChain":
        import fcntl

        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            raw = self.path.read_bytes()
        except BaseException:
            os.close(self._fd)
            raise
        lines = [ln for ln in raw.splitlines() if ln.strip()]
        self.seq = len(lines) + 1
        self.prev = hashlib.sha256(lines[-1]).hexdigest() if lines else GENESIS
        self._torn = bool(raw) and not raw.endswith(b"\n")
        return self

    def append(self, fields: Mapping) -> dict:
        """Write one entry (``seq`` and ``prev_sha256`` filled in); returns it."""
        entry = {"seq": self.seq, **fields, "prev_sha256": self.prev}
        line = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        os.write(self._fd, (b"\n" if self._torn else b"") + line + b"\n")  # never glue onto a torn line
        os.fsync(self._fd)
        self._torn = False
        self.seq, self.prev = self.seq + 1, hashlib.sha256(line).hexdigest()
        return entry

    def __exit__(self, *exc) -> None:
        os.close(self._fd)
        _fsync_dir(self.path.parent)


def _psychopy_version() -> Optional[str]:
    import sys
    mod = sys.modules.get("psychopy")
    if mod is not None:
        return getattr(mod, "__version__", None)
    try:
        from importlib.metadata import version
        return version("psychopy")
    except Exception:
        return None


def read_dataset_description(root: Path) -> Optional[dict]:
    """The folder's ``dataset_description.json`` (``None`` if there is none); a one-line
    ``ValueError`` naming the file if it is not a JSON object."""
    path = Path(root) / "dataset_description.json"
    if not path.exists():
        return None
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not readable JSON ({str(exc).splitlines()[0]}); repair or move it away "
                         "before writing sessions here") from None
    if not isinstance(desc, dict) or not isinstance(desc.get("variableMeasured", []), list):
        raise UsageError(f"{path}: not a Psych-DS dataset description (expected a JSON object "
                         "with a variableMeasured list)")
    return desc


def dataset_uid(root: Path) -> Optional[str]:
    """The identifier of the data folder (``identifier`` in its dataset description), if it has one."""
    desc = read_dataset_description(root)
    return None if desc is None else desc.get("identifier")


def update_dataset_description(root: Path, paradigm: Paradigm) -> Path:
    """Create or extend ``dataset_description.json`` with the paradigm's codebook.

    The description carries an ``identifier`` (``urn:uuid:...``), made once: a
    schedule's slot log names the data folder its slots went to by it.
    """
    from .. import __version__
    root = Path(root)
    path = root / "dataset_description.json"
    root.mkdir(parents=True, exist_ok=True)
    with _locks.locked_dir(root):
        desc = read_dataset_description(root)
        if desc is None:
            desc = {
                "@context": "https://schema.org/",
                "@type": "Dataset",
                "name": "Compliance replication sessions",
                "description": "Session data written by the compliance-replication toolkit "
                               "(one CSV per session, one row per participant).",
                "schemaVersion": "Psych-DS 0.1.0",
                "creator": [{"@type": "SoftwareApplication", "name": "compliance-toolkit",
                             "softwareVersion": __version__}],
                "variableMeasured": [],
                "studies": {},
            }
        desc.setdefault("identifier", f"urn:uuid:{uuid.uuid4()}")
        known = {v.get("name") for v in desc.get("variableMeasured", []) if isinstance(v, dict)}
        for m in paradigm.codebook():
            if m.name not in known:
                entry = {"@type": "PropertyValue", "name": m.name, "description": m.description,
                         "unitText": m.dtype}
                if m.allowed is not None:
                    entry["levels"] = list(m.allowed)
                if m.minimum is not None:
                    entry["minValue"] = m.minimum
                if m.maximum is not None:
                    entry["maxValue"] = m.maximum
                desc.setdefault("variableMeasured", []).append(entry)
                known.add(m.name)
        if not isinstance(desc.get("studies"), dict):
            desc["studies"] = {}
        desc["studies"][paradigm.id] = {
            "citation": paradigm.citation,
            "codebook": [m.to_dict() for m in paradigm.codebook()],
        }
        write_json_atomic(path, desc)
    return path


def find_interrupted(root: Path) -> list[Path]:
    """Sidecars whose session never closed (status still ``running``)."""
    out = []
    for p in sorted(Path(root).glob("*_data.json"), key=session_sort_key):
        try:
            if json.loads(p.read_text(encoding="utf-8")).get("status") == "running":
                out.append(p)
        except (OSError, json.JSONDecodeError):
            continue
    return out


class SessionStore:
    """The files of one session.  Use as a context manager.

    Parameters
    ----------
    root : path
        The data directory (created if needed).
    paradigm, experiment : the declared paradigm and experiment number.
    site, experimenter : codes (pseudonymous).
    session : int, optional
        Session number; the next free number at this site if not given.  A
        session that already exists is refused with :class:`SessionExistsError`.
    meta : mapping
        Extra sidecar fields (schedule hash, seed, mode, ...).
    durability : {"per_event", "batched"}
        ``per_event`` (the default; real sessions): every row and journal event is
        flushed and fsynced before :meth:`append` or :meth:`event` returns.
        ``batched`` (data-only simulations): rows and events are written in blocks
        of ``block_lines`` whole lines, CSV before journal, without fsync;
        :meth:`close` writes the rest and fsyncs CSV, journal and sidecar once.
        The sidecar records the policy as ``"durability"``.
    block_lines : int
        ``batched`` only: how many lines (rows and events) are collected before they are written.
    """

    def __init__(self, root, paradigm: Paradigm, experiment: int, site: str, experimenter: str,
                 session: Optional[int] = None, meta: Optional[Mapping] = None,
                 durability: str = "per_event", block_lines: int = 8192):
        if durability not in DURABILITY:
            raise UsageError(f"durability must be {' or '.join(DURABILITY)}, not {durability!r}")
        self.durability = durability
        self._batched = durability == "batched"
        self.block_lines = max(int(block_lines), 1)
        self.root = Path(root)
        self.paradigm = paradigm
        self.experiment = int(paradigm.experiment(experiment).number)
        self.site = site
        self.experimenter = experimenter
        self.columns: tuple[str, ...] = paradigm.columns(self.experiment)
        self._column_set = frozenset(self.columns)
        # everything is checked before anything is written
        if not _KEY_RE.match(experimenter or ""):
            raise UsageError(f"experimenter {experimenter!r} must be a code of letters and digits")
        psychds_stem(paradigm.id, self.experiment, site, 1)  # checks the site code
        if session is not None and int(session) < 1:
            raise UsageError(f"session must be 1 or more, not {session}")
        read_dataset_description(self.root)  # a corrupt description is refused now, not half-way
        #: the number was chosen here (the next free one), not given: said when another session takes it
        self._auto_session = session is None
        if session is None:
            session = self._next_session_number()
        self.session = int(session)
        stem = psychds_stem(paradigm.id, self.experiment, site, self.session)
        self.csv_path = self.root / f"{stem}_data.csv"
        self.sidecar_path = self.root / f"{stem}_data.json"
        self.events_path = self.root / f"{stem}_events.jsonl"
        for p in (self.csv_path, self.sidecar_path, self.events_path):
            if p.exists():
                raise SessionExistsError(f"{p}: session {self.session} of site {site} already exists; "
                                         "choose another --session or data directory")
        self.meta = dict(meta or {})
        #: names this session unambiguously (session numbers repeat across data folders)
        self.session_uid = uuid.uuid4().hex
        self.n_rows = 0
        #: rows this session wrote for slots lost in an earlier session's crash (not its own participants)
        self.n_recovered = 0
        self._csv = None
        self._events = None
        # batched: the text not yet written (CSV rows through one csv.writer; journal lines)
        self._csv_buf = io.StringIO()
        self._csv_writer = csv.writer(self._csv_buf, lineterminator="\n")
        self._event_chunks: list[str] = []  # pieces of whole journal lines
        self._pending = 0  # lines collected since the last write
        self._now = now_iso
        #: how the session ended, set by the session loop; written at close
        self.status: Optional[str] = None

    # -- lifecycle ---------------------------------------------------------
    def _next_session_number(self) -> int:
        pat = re.compile(rf"^study-{re.escape(self.paradigm.id)}_exp-{self.experiment}_site-"
                         rf"{re.escape(self.site)}_session-(\d+)_")
        if not self.root.is_dir():
            return 1
        nums = [int(m.group(1)) for p in self.root.iterdir() if (m := pat.match(p.name))]
        return max(nums, default=0) + 1

    def open(self) -> "SessionStore":
        from .. import __version__
        self._created: list[Path] = []
        self._created_root = not self.root.exists()
        self._created_description = not (self.root / "dataset_description.json").exists()
        try:
            update_dataset_description(self.root, self.paradigm)
            # exclusive create: a race with another process cannot overwrite either
            self._csv = self._create_exclusive(self.csv_path, newline="")
            self._created.append(self.csv_path)
            # held while the session runs: recovery sees a locked CSV as a live session
            _locks.try_lock(self._csv)
            self._events = self._create_exclusive(self.events_path)
            self._created.append(self.events_path)
            # the header is on disk at open under either policy: a killed session's CSV always parses
            self._write_line(self._csv, self._format_row(dict(zip(self.columns, self.columns))))
            if self.durability == "batched":
                self._now = _IsoClock()
            self._sidecar = {
                "paradigm": self.paradigm.id,
                "title": self.paradigm.title,
                "citation": self.paradigm.citation,
                "experiment": self.experiment,
                "site": self.site,
                "session": self.session,
                "session_uid": self.session_uid,
                "experimenter": self.experimenter,
                "toolkit_version": __version__,
                "psychopy_version": _psychopy_version(),
                "python_version": platform.python_version(),
                "start_time": now_iso(),
                "end_time": None,
                "status": "running",
                "n_rows": 0,
                "data_file": self.csv_path.name,
                "events_file": self.events_path.name,
                "columns": list(self.columns),
                "durability": self.durability,
                **self.meta,
            }
            write_json_atomic(self.sidecar_path, self._sidecar)
            self._created.append(self.sidecar_path)
            _fsync_dir(self.root)
        except BaseException:
            self.discard()
            raise
        return self

    def _create_exclusive(self, path: Path, newline=None):
        """``open(path, "x")``; a session of this site that took the number between the check in
        ``__init__`` and now (two sessions started at once) is one line saying so (issue 22.9)."""
        try:
            return open(path, "x", encoding="utf-8", newline=newline)
        except FileExistsError:
            todo = ("start this one again: it takes the next free number" if self._auto_session else
                    "choose another --session")
            raise SessionExistsError(f"{path}: another session on site {self.site} took session number "
                                     f"{self.session} as this one started; nothing was recorded here; "
                                     f"{todo}") from None

    def discard(self) -> None:
        """Remove this session's files (only those it created) and, if this session created them,
        the dataset description and the folder: for a command that failed before it recorded anything
        worth keeping (a simulation that failed, a session that could not start)."""
        for fh in (self._csv, self._events):
            if fh is not None:
                try:
                    fh.close()
                except OSError:
                    pass
        self._csv = self._events = None
        self._drop_pending()
        for p in getattr(self, "_created", ()):
            try:
                p.unlink()
            except OSError:
                pass
        self._created = []
        others = [p for p in self.root.glob("*_data.*")] if self.root.is_dir() else []
        if getattr(self, "_created_description", False) and not others:
            try:
                (self.root / "dataset_description.json").unlink()
            except OSError:
                pass
        if getattr(self, "_created_root", False):
            try:
                self.root.rmdir()  # only if empty
            except OSError:
                pass

    def close(self, status: str = "completed", note: str = "") -> None:
        if self._csv is None:
            return
        csv_fh = self._csv
        if self.durability == "batched":
            self._write_blocks()
            for fh in (csv_fh, self._events):
                fh.flush()
                os.fsync(fh.fileno())
        self._events.close()
        self._csv = self._events = None
        self._sidecar.update(end_time=now_iso(), status=status, n_rows=self.n_rows,
                             csv_sha256=file_sha256(self.csv_path), journal_sha256=file_sha256(self.events_path))
        if note:
            self._sidecar["note"] = note
        try:
            self._close_on_record()
        finally:
            csv_fh.close()  # releases the lock only once the sidecar says the session closed

    def _close_on_record(self) -> None:
        """Write the closed sidecar and put the session on the folder's record chain: the sidecar names
        the entry (``audit_seq``) and the entry holds the SHA-256 of CSV, journal and sidecar, so a
        sidecar relabelled afterwards, a CSV changed with its hash recomputed, a session deleted whole
        or a log deleted or cut are all seen by ``compliance verify``."""
        with RecordChain(self.root) as chain:
            self._sidecar["audit_seq"] = chain.seq
            write_json_atomic(self.sidecar_path, self._sidecar)
            chain.append({"t": now_iso(), "action": "close", "session_file": self.csv_path.name,
                          "status": self._sidecar["status"], "csv_sha256": self._sidecar["csv_sha256"],
                          "journal_sha256": self._sidecar["journal_sha256"],
                          "sidecar_sha256": file_sha256(self.sidecar_path)})

    def __enter__(self):
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close(self.status or "completed")
        else:
            self.close("aborted", note=f"{exc_type.__name__}: {exc}")
        return False

    # -- writing -----------------------------------------------------------
    @staticmethod
    def _write_line(fh, text: str) -> None:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())

    def _format_row(self, row: Mapping[str, object]) -> str:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            ["" if row.get(c) is None else row.get(c) for c in self.columns])
        return buf.getvalue()

    def _drop_pending(self) -> None:
        self._csv_buf.seek(0)
        self._csv_buf.truncate()
        self._event_chunks.clear()
        self._pending = 0

    def _write_blocks(self) -> None:
        """Batched: write what was collected, CSV first (whole rows, then whole journal lines)."""
        rows = self._csv_buf.getvalue()
        if rows:
            self._csv.write(rows)
            self._csv.flush()
        if self._event_chunks:
            self._events.write("".join(self._event_chunks))
            self._events.flush()
        self._drop_pending()

    def append(self, row: Mapping[str, object]) -> None:
        """Append one participant's row; on disk when this returns (``per_event``), or in the
        next block (``batched``)."""
        if not self._column_set.issuperset(row):
            unknown = set(row) - self._column_set
            raise ValueError(f"{self.csv_path}: row has columns not in the codebook: {', '.join(sorted(unknown))}")
        full = {**row, "study": self.paradigm.id, "experiment": self.experiment, "site": self.site,
                "session": self.session, "experimenter": self.experimenter}
        get = full.get
        values = ["" if (v := get(c)) is None else v for c in self.columns]
        if self.durability == "batched":
            self._csv_writer.writerow(values)
            self._pending += 1
        else:
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(values)
            self._write_line(self._csv, buf.getvalue())
        self.n_rows += 1
        self.event("row_written", participant_id=full.get("participant_id"), slot=full.get("slot"))

    def event(self, kind: str, **fields) -> None:
        """Journal one event (a tap, a slot claimed, a row written)."""
        chunks = _journal_chunks({"t": self._now(), "event": kind, **fields})
        if self.durability == "batched":
            pending = self._event_chunks
            pending += chunks
            pending.append("\n")
            self._pending += 1
            if self._pending >= self.block_lines:
                self._write_blocks()
        else:
            self._write_line(self._events, "".join(chunks) + "\n")

    def event_text(self, kind: str, text: str) -> None:
        """Journal one event whose fields are already encoded (:func:`journal_text`, :func:`journal_value`):
        the line :meth:`event` writes for ``kind`` and those fields, made without encoding them again (the
        session loop encodes a screen's place once for its ``show`` and ``response`` lines)."""
        head = _EVENT_HEADS.get(kind)
        if head is None:
            head = _EVENT_HEADS[kind] = f'", "event": {_json_str(kind)}'
        # the time needs no escaping: now_iso and _IsoClock write digits, "-", ":", ".", "+" and "T"
        line = f'{{"t": "{self._now()}{head}, {text}}}\n' if text else f'{{"t": "{self._now()}{head}}}\n'
        if self._batched:
            self._event_chunks.append(line)
            self._pending += 1
            if self._pending >= self.block_lines:
                self._write_blocks()
        else:
            self._write_line(self._events, line)

    @property
    def batched(self) -> bool:
        """Journal lines are collected in memory and written in blocks (``durability="batched"``)."""
        return self._batched

    def line(self, kind: str, text: str) -> str:
        """The journal line :meth:`event_text` would write now for ``kind`` and ``text`` (its time taken
        now), not written: a caller that holds a screen's ``show`` line writes it with the screen's
        ``response`` (:meth:`event_text_after`), as one piece of the block."""
        head = _EVENT_HEADS.get(kind)
        if head is None:
            head = _EVENT_HEADS[kind] = f'", "event": {_json_str(kind)}'
        return f'{{"t": "{self._now()}{head}, {text}}}\n' if text else f'{{"t": "{self._now()}{head}}}\n'

    def event_text_after(self, before: str, kind: str, text: str) -> None:
        """Batched only: the line held (``before``, one line made by :meth:`line`), then the line of
        ``kind`` and ``text`` now; the very lines ``event_text`` twice would write."""
        head = _EVENT_HEADS.get(kind)
        if head is None:
            head = _EVENT_HEADS[kind] = f'", "event": {_json_str(kind)}'
        self._event_chunks.append(f'{before}{{"t": "{self._now()}{head}, {text}}}\n')
        self._pending += 2
        if self._pending >= self.block_lines:
            self._write_blocks()

    def screen_lines(self, text: str, logged: str) -> None:
        """Batched only: a screen's ``show`` line and its ``response`` line (``text``: the screen's place,
        :func:`journal_text`; ``logged``: the response's encoded fields) with one time, now: the lines
        :meth:`event_text` writes for them, for a screen that nobody sees (a data-only simulation's), which
        is answered the moment it is shown."""
        t = self._now()
        self._event_chunks.append(f'{{"t": "{t}", "event": "show", {text}}}\n'
                                  f'{{"t": "{t}", "event": "response", {text}, {logged}}}\n')
        self._pending += 2
        if self._pending >= self.block_lines:
            self._write_blocks()

    def put_line(self, line: str) -> None:
        """Batched only: a held line (made by :meth:`line`) into the block, as :meth:`event_text` puts it."""
        self._event_chunks.append(line)
        self._pending += 1
        if self._pending >= self.block_lines:
            self._write_blocks()

    def rows_written(self) -> int:
        return self.n_rows

    def own_rows(self) -> int:
        """Rows of this session's own participants: the rows written, less those recorded for slots
        an earlier session lost in a crash."""
        return self.n_rows - self.n_recovered

    def set_meta(self, **fields) -> None:
        self._sidecar.update(fields)
        write_json_atomic(self.sidecar_path, self._sidecar)


def read_rows(path: Path) -> list[dict]:
    """Read back a session CSV (for tests and recovery reports)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def columns_of(paths: Sequence[Path]) -> list[tuple[str, ...]]:
    out = []
    for p in paths:
        with open(p, encoding="utf-8", newline="") as fh:
            out.append(tuple(next(csv.reader(fh))))
    return out
