"""Crash-safe session data: one CSV per session, a JSON sidecar, an event journal.

Every participant's row is appended, flushed and fsynced the moment the record
is complete; every tap is journalled (fsynced) the moment it happens, so an
answer given just before a crash is still on disk.  Files are opened with
``"x"`` (exclusive create): an existing file is never overwritten.

File names follow Psych-DS keywords::

    study-cialdini1975_exp-1_site-S1_session-3_data.csv    the data
    study-cialdini1975_exp-1_site-S1_session-3_data.json   sidecar (metadata)
    study-cialdini1975_exp-1_site-S1_session-3_events.jsonl  tap journal
    dataset_description.json                                 at the data root
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import platform
import re
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..base import Paradigm
from ..errors import ComplianceError, UsageError
from . import locks as _locks

__all__ = ["STORE_COLUMNS", "SessionStore", "SessionExistsError", "psychds_stem", "now_iso", "write_json_atomic",
           "update_dataset_description", "find_interrupted", "file_sha256",
           "read_dataset_description", "dataset_uid"]

#: Columns the store fills in for every row (the session's identity).
STORE_COLUMNS = ("study", "experiment", "site", "session", "experimenter")

_KEY_RE = re.compile(r"^[A-Za-z0-9]+$")


class SessionExistsError(ComplianceError, FileExistsError):
    """The data directory already holds this session."""


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds")


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


def write_json_atomic(path: Path, obj) -> None:
    """Write JSON through a temporary file and an atomic rename.

    The temporary file is created exclusively (:func:`tempfile.mkstemp` in the
    target folder, a fresh random name), so nothing planted beside the target --
    a symlink at ``NAME.tmp``, say -- can redirect the write.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
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


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    for p in sorted(Path(root).glob("*_data.json")):
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
    """

    def __init__(self, root, paradigm: Paradigm, experiment: int, site: str, experimenter: str,
                 session: Optional[int] = None, meta: Optional[Mapping] = None):
        self.root = Path(root)
        self.paradigm = paradigm
        self.experiment = int(paradigm.experiment(experiment).number)
        self.site = site
        self.experimenter = experimenter
        self.columns: tuple[str, ...] = paradigm.columns(self.experiment)
        # everything is checked before anything is written
        if not _KEY_RE.match(experimenter or ""):
            raise UsageError(f"experimenter {experimenter!r} must be a code of letters and digits")
        psychds_stem(paradigm.id, self.experiment, site, 1)  # checks the site code
        if session is not None and int(session) < 1:
            raise UsageError(f"session must be 1 or more, not {session}")
        read_dataset_description(self.root)  # a corrupt description is refused now, not half-way
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
        self._csv = None
        self._events = None
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
            self._csv = open(self.csv_path, "x", encoding="utf-8", newline="")
            self._created.append(self.csv_path)
            # held while the session runs: recovery sees a locked CSV as a live session
            _locks.try_lock(self._csv)
            self._events = open(self.events_path, "x", encoding="utf-8")
            self._created.append(self.events_path)
            self._write_line(self._csv, self._format_row(dict(zip(self.columns, self.columns))))
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
                **self.meta,
            }
            write_json_atomic(self.sidecar_path, self._sidecar)
            self._created.append(self.sidecar_path)
            _fsync_dir(self.root)
        except BaseException:
            self.discard()
            raise
        return self

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
        self._events.close()
        self._csv = self._events = None
        self._sidecar.update(end_time=now_iso(), status=status, n_rows=self.n_rows,
                             csv_sha256=file_sha256(self.csv_path), journal_sha256=file_sha256(self.events_path))
        if note:
            self._sidecar["note"] = note
        write_json_atomic(self.sidecar_path, self._sidecar)
        csv_fh.close()  # releases the lock only once the sidecar says the session closed

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

    def append(self, row: Mapping[str, object]) -> None:
        """Append one participant's row; on disk when this returns."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.csv_path}: row has columns not in the codebook: {', '.join(sorted(unknown))}")
        full = dict(row)
        full.update(study=self.paradigm.id, experiment=self.experiment, site=self.site,
                    session=self.session, experimenter=self.experimenter)
        self._write_line(self._csv, self._format_row(full))
        self.n_rows += 1
        self.event("row_written", participant_id=full.get("participant_id"), slot=full.get("slot"))

    def event(self, kind: str, **fields) -> None:
        """Journal one event (a tap, a slot claimed, a row written)."""
        rec = {"t": now_iso(), "event": kind, **fields}
        self._write_line(self._events, json.dumps(rec, ensure_ascii=False) + "\n")

    def rows_written(self) -> int:
        return self.n_rows

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
