"""Tamper evidence: check a data folder against what its sessions recorded when they closed.

Each session's sidecar records the SHA-256 of its CSV and its journal when the
session closes (``csv_sha256``, ``journal_sha256``).  :func:`verify` checks

* every session CSV and journal against those hashes;
* the journal against the CSV: every row the journal says was written is in the
  CSV, every CSV row was journalled as written, and every participant whose final
  answer (the debriefing) was journalled has a row;
* every audit log (``audit_log.jsonl``): its chain, and that each withdrawn
  participant exists.

Each discrepancy is one line naming the file (and line).  Sessions that never
closed (no hash recorded) cannot be checked against a hash: they are listed as
notes, not discrepancies.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from analysis.records.audit import AUDIT_LOG, check_chain, read_audit_log
from analysis.load.validate import read_sidecar, sidecar_path
from analysis.errors import AnalysisError, DataValidationError
from analysis.results import Result

__all__ = ["VerifyResult", "verify"]


@dataclass(frozen=True)
class VerifyResult(Result):
    """What :func:`verify` found.

    Attributes
    ----------
    folder : str
    n_sessions : int
        Session CSVs checked.
    n_audit_logs : int
    discrepancies : tuple of str
        One line each; empty if everything matches.
    notes : tuple of str
        What could not be checked (e.g. a session that never closed has no hash).
    """

    _aliases = {'term': 'folder', 'n': 'n_sessions'}

    folder: str
    n_sessions: int
    n_audit_logs: int
    discrepancies: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def __str__(self) -> str:
        verdict = "all match" if self.ok else f"{len(self.discrepancies)} discrepanc{'y' if len(self.discrepancies) == 1 else 'ies'}"
        return (f"verify {self.folder}: {self.n_sessions} session(s), {self.n_audit_logs} audit log(s): {verdict}"
                + (f"; {len(self.notes)} note(s)" if self.notes else ""))

    def to_dict(self) -> dict:
        return {"folder": self.folder, "n_sessions": self.n_sessions, "n_audit_logs": self.n_audit_logs,
                "ok": self.ok, "discrepancies": list(self.discrepancies), "notes": list(self.notes)}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _csv_ids(path: Path) -> dict[str, int]:
    """participant_id -> CSV line, read leniently (verify must work on files that fail validation)."""
    out: dict[str, int] = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            pid = row.get("participant_id")
            if pid:
                out.setdefault(pid, reader.line_num)
    return out


def _journal(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    out = []
    with open(path, "rb") as fh:
        lines = fh.read().splitlines()
    for no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            problems.append(f"{path}: line {no}: not a JSON event")
            continue
        if isinstance(rec, dict):
            out.append((no, rec))
    return out


def _check_session(csv_path: Path, discrepancies: list[str], notes: list[str]) -> set[str]:
    """Check one session; returns its participant ids."""
    try:
        ids = _csv_ids(csv_path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        discrepancies.append(f"{csv_path}: cannot be read ({exc})")
        return set()
    try:
        meta = read_sidecar(csv_path)
    except DataValidationError as exc:
        discrepancies.append(str(exc))
        return set(ids)
    if meta is None:
        discrepancies.append(f"{csv_path}: no sidecar ({sidecar_path(csv_path).name}): nothing records what the "
                             "session wrote")
        return set(ids)
    side = sidecar_path(csv_path)
    recorded = meta.get("csv_sha256")
    if recorded:
        actual = _sha256(csv_path)
        if actual != recorded:
            discrepancies.append(f"{csv_path}: SHA-256 {actual[:12]}... differs from csv_sha256 {recorded[:12]}... "
                                 f"recorded in {side.name} when the session closed: changed since")
    else:
        notes.append(f"{csv_path}: no csv_sha256 in {side.name} (session status {meta.get('status')!r}): "
                     "its content cannot be checked against a hash")
    events = csv_path.with_name(meta.get("events_file") or csv_path.name.replace("_data.csv", "_events.jsonl"))
    if not events.is_file():
        discrepancies.append(f"{events}: the session's journal is missing")
        return set(ids)
    jrec = meta.get("journal_sha256")
    if jrec:
        actual = _sha256(events)
        if actual != jrec:
            discrepancies.append(f"{events}: SHA-256 {actual[:12]}... differs from journal_sha256 {jrec[:12]}... "
                                 f"recorded in {side.name} when the session closed: changed since")
    elif recorded:
        notes.append(f"{events}: no journal_sha256 in {side.name}")
    written: dict[str, int] = {}
    final: dict[str, int] = {}
    for no, ev in _journal(events, discrepancies):
        pid = ev.get("participant_id")
        if not pid:
            continue
        if ev.get("event") == "row_written":
            written.setdefault(str(pid), no)
        elif ev.get("event") in ("tap", "response") and ev.get("screen") == "debrief":
            final.setdefault(str(pid), no)
    for pid, no in written.items():
        if pid not in ids:
            discrepancies.append(f"{events}: line {no}: participant {pid!r} was written to the CSV, but "
                                 f"{csv_path.name} has no row for them")
    for pid, line in ids.items():
        if pid not in written:
            discrepancies.append(f"{csv_path}: line {line}: participant {pid!r} has a row the session never "
                                 f"journalled as written ({events.name})")
    for pid, no in final.items():
        if pid not in ids and pid not in written:
            discrepancies.append(f"{events}: line {no}: participant {pid!r} gave their final answer, but "
                                 f"{csv_path.name} has no row for them")
    return set(ids)


def verify(data_dir) -> VerifyResult:
    """Check every session file under ``data_dir`` and every audit log there.

    Parameters
    ----------
    data_dir : path
        A data folder (searched recursively, links followed).

    Returns
    -------
    VerifyResult
        ``discrepancies`` (one line each) and ``notes``.

    Examples
    --------
    >>> res = verify("data/sessions")        # doctest: +SKIP
    >>> print(res)                           # doctest: +SKIP
    verify data/sessions: 3 session(s), 1 audit log(s): all match
    """
    from analysis.load.sessions import find_session_files

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise AnalysisError(f"{data_dir}: not a data folder")
    discrepancies: list[str] = []
    notes: list[str] = []
    files = find_session_files(data_dir)
    ids_by_dir: dict[Path, set[str]] = {}
    for f in files:
        ids = _check_session(f, discrepancies, notes)
        for d in [f.parent, *f.parent.parents]:
            ids_by_dir.setdefault(d, set()).update(ids)
            if d == data_dir:
                break
    logs = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(data_dir, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:            # reached again through a link: no loop
            dirnames[:] = []
            continue
        seen.add(real)
        if AUDIT_LOG in filenames:
            logs.append(Path(dirpath) / AUDIT_LOG)
    for log in sorted(set(logs)):
        chain = check_chain(log)
        discrepancies.extend(chain)
        if chain and "not a JSON" in chain[0]:
            continue
        try:
            entries = read_audit_log(log)
        except DataValidationError:
            continue
        known = ids_by_dir.get(log.parent, set())
        for e in entries:
            if str(e["participant_id"]) not in known:
                discrepancies.append(f"{log}: line {e['line']}, field 'participant_id': {e['participant_id']!r} is "
                                     "in no session file under this folder")
    return VerifyResult(str(data_dir), len(files), len(logs), tuple(discrepancies), tuple(notes))
