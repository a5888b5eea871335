"""The data folder's audit log: withdrawals after the session, on the record.

``compliance withdraw DATA_DIR PARTICIPANT_ID --reason TEXT --by CODE`` appends one
line to ``DATA_DIR/audit_log.jsonl``; nothing else is ever written, and the session
CSV is never rewritten.  Each line is a JSON object::

    {"seq": 1, "t": "2026-11-23T21:00:00.000+00:00", "action": "withdraw",
     "participant_id": "p-3f2a...", "session_file": "site-S1/study-..._data.csv",
     "reason": "asked by e-mail", "by": "E1", "prev_sha256": "000...0"}

``prev_sha256`` is the SHA-256 of the previous line's bytes (64 zeros for the
first), so that a line edited or removed inside the log breaks the chain that
``compliance verify`` checks.  Lines are appended under an exclusive lock, then
flushed and fsynced.

The loader applies every audit log in a session file's folder or above it: a
withdrawn participant is counted as withdrawn and never analysed
(:func:`analysis.load.status.participant_status`).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

from analysis.errors import AnalysisError, DataValidationError

__all__ = ["AUDIT_LOG", "ACTIONS", "append_withdrawal", "read_audit_log", "audit_logs_for", "withdrawals_for",
           "check_chain", "GENESIS"]

#: File name of the audit log in a data folder.
AUDIT_LOG = "audit_log.jsonl"
#: The actions an audit log records.
ACTIONS = ("withdraw",)
#: ``prev_sha256`` of the first line.
GENESIS = "0" * 64
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_FIELDS = ("seq", "t", "action", "participant_id", "session_file", "reason", "by", "prev_sha256")


def _sha(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def read_audit_log(path) -> list[dict]:
    """Every entry of an audit log, each with its ``line`` number; refused if a line is not
    a JSON object with the audit fields (naming the line and the field).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = write_session_csv(d / "s_data.csv", [{"participant_id": "p-1", "data_consent": 1}])
    >>> _ = append_withdrawal(d, "p-1", "asked by e-mail", "E1", now="2026-03-01T10:00:00.000+00:00")
    >>> [(e["line"], e["action"], e["participant_id"], e["by"]) for e in read_audit_log(d / AUDIT_LOG)]
    [(1, 'withdraw', 'p-1', 'E1')]
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataValidationError(f"{path}: cannot be read ({exc.strerror})") from None
    out = []
    for no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataValidationError(f"{path}: line {no}: not a JSON object ({exc})") from None
        if not isinstance(rec, dict):
            raise DataValidationError(f"{path}: line {no}: not a JSON object")
        for f in _FIELDS:
            if f not in rec:
                raise DataValidationError(f"{path}: line {no}, field {f!r}: missing")
        if rec["action"] not in ACTIONS:
            raise DataValidationError(f"{path}: line {no}, field 'action': {rec['action']!r} is not one of "
                                      f"{', '.join(ACTIONS)}")
        out.append({**rec, "line": no, "sha256": _sha(line)})
    return out


def check_chain(path) -> list[str]:
    """Discrepancies of one audit log's chain (one line each): numbering and ``prev_sha256``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = write_session_csv(d / "s_data.csv", [{"participant_id": "p-1", "data_consent": 1}])
    >>> _ = append_withdrawal(d, "p-1", "asked by e-mail", "E1", now="2026-03-01T10:00:00.000+00:00")
    >>> check_chain(d / AUDIT_LOG)
    []
    """
    problems = []
    try:
        entries = read_audit_log(path)
    except DataValidationError as exc:
        return [str(exc)]
    prev, seq = GENESIS, 0
    for e in entries:
        seq += 1
        if e["seq"] != seq:
            problems.append(f"{path}: line {e['line']}, field 'seq': {e['seq']!r} where {seq} was expected "
                            "(an entry was removed or inserted)")
            seq = e["seq"] if isinstance(e["seq"], int) else seq
        if e["prev_sha256"] != prev:
            problems.append(f"{path}: line {e['line']}, field 'prev_sha256': does not match the line before it "
                            "(an earlier entry was edited or removed)")
        prev = e["sha256"]
    return problems


def audit_logs_for(csv_path) -> tuple[Path, ...]:
    """The audit logs that apply to a session file: in its folder and every folder above.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = write_session_csv(d / "s_data.csv", [{"participant_id": "p-1", "data_consent": 1}])
    >>> _ = append_withdrawal(d, "p-1", "asked by e-mail", "E1", now="2026-03-01T10:00:00.000+00:00")
    >>> audit_logs_for(f) == (d / AUDIT_LOG,)
    True
    """
    return tuple(d / AUDIT_LOG for d in Path(csv_path).absolute().parents if (d / AUDIT_LOG).is_file())


def withdrawals_for(csv_paths) -> dict[str, dict]:
    """Participant id -> its withdrawal entry (with ``log``), from every log applying to the files.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> f = write_session_csv(d / "s_data.csv", [{"participant_id": "p-1", "data_consent": 1}])
    >>> _ = append_withdrawal(d, "p-1", "asked by e-mail", "E1", now="2026-03-01T10:00:00.000+00:00")
    >>> {k: v["reason"] for k, v in withdrawals_for([f]).items()}
    {'p-1': 'asked by e-mail'}
    """
    logs = dict.fromkeys(log for f in csv_paths for log in audit_logs_for(f))
    out: dict[str, dict] = {}
    for log in logs:
        for e in read_audit_log(log):
            if e["action"] == "withdraw":
                out.setdefault(str(e["participant_id"]), {**e, "log": str(log)})
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _find_participant(data_dir: Path, participant_id: str) -> tuple[Path, dict]:
    """The session file and row holding ``participant_id`` under ``data_dir`` (read lightly:
    a withdrawal must be possible even where a file would not pass validation)."""
    import csv

    from analysis.load.sessions import find_session_files

    files = find_session_files(data_dir)
    for f in files:
        with open(f, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("participant_id") == participant_id:
                    return f, row
    raise AnalysisError(f"{data_dir}: no participant {participant_id!r} in the {len(files)} session file(s) "
                        "under this folder; nothing written")


def append_withdrawal(data_dir, participant_id: str, reason: str, by: str, now: Optional[str] = None) -> dict:
    """Record that ``participant_id`` withdrew their data: one fsynced line in the audit log.

    Parameters
    ----------
    data_dir : path
        The data folder (its session files are searched recursively).
    participant_id : str
        The pseudonym of the participant, as in the session CSV.
    reason : str
        Why (one line; never a name or a contact detail).
    by : str
        The code of the person recording it (letters and digits).

    Returns
    -------
    dict
        The entry written.

    Raises
    ------
    AnalysisError
        An unknown participant, one already withdrawn, an empty reason, a bad code.

    Examples
    --------
    >>> append_withdrawal("data/sessions", "p-3f2a9c1e", "asked by e-mail", "E1")  # doctest: +SKIP
    """
    import fcntl

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise AnalysisError(f"{data_dir}: not a data folder")
    if not _CODE.match(by or ""):
        raise AnalysisError(f"--by {by!r}: a code of letters and digits (who records the withdrawal), not a name")
    reason = (reason or "").strip()
    if not reason or any(ord(c) < 32 for c in reason):
        raise AnalysisError("--reason: one line of text saying why (no line breaks; never a name)")
    csv_path, row = _find_participant(data_dir, participant_id)
    if row.get("data_consent") == "0":
        raise AnalysisError(f"{csv_path}: participant {participant_id!r} already withdrew in the session "
                            "(data_consent = 0); nothing written")
    log = data_dir / AUDIT_LOG
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one writer at a time: the chain stays linear
        before = withdrawals_for([csv_path])
        if participant_id in before:
            e = before[participant_id]
            raise AnalysisError(f"{e['log']}: line {e['line']}: participant {participant_id!r} was already withdrawn "
                                f"on {e['t']} by {e['by']}; nothing written")
        entries = read_audit_log(log)
        entry = {"seq": len(entries) + 1, "t": now or _now(), "action": "withdraw",
                 "participant_id": participant_id, "session_file": str(csv_path.relative_to(data_dir)),
                 "reason": reason, "by": by, "prev_sha256": entries[-1]["sha256"] if entries else GENESIS}
        line = json.dumps(entry, ensure_ascii=False).encode("utf-8")
        tail = b""
        if log.stat().st_size and not log.read_bytes().endswith(b"\n"):
            tail = b"\n"  # never glue onto a torn line
        os.write(fd, tail + line + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
    return entry
