"""The data folder's audit log: sessions closing and withdrawals after the session, on the record.

Every folder that holds sessions has its own ``audit_log.jsonl`` beside them (so a copy of the
folder carries it): the session store appends a ``close`` entry when a session closes (the SHA-256
of its CSV, journal and sidecar; the sidecar names the entry as ``audit_seq``), and
``compliance withdraw DATA_DIR PARTICIPANT_ID --reason TEXT --by CODE`` appends a ``withdraw``
entry to the log beside the participant's session file and marks the withdrawal in that session's
sidecar (``withdrawals``).  The session CSV is never rewritten.  Each line is a JSON object::

    {"seq": 4, "t": "2026-11-23T21:00:00.000+00:00", "action": "withdraw",
     "participant_id": "p-3f2a...", "session_file": "study-..._data.csv",
     "reason": "asked by e-mail", "by": "E1", "sidecar_sha256": "9c1e...", "prev_sha256": "77ab..."}

``compliance analyze --interim`` appends a ``look`` entry (:func:`append_look`): when, the
pre-registration's file name and SHA-256, the contrast, the look number, n1/n2, z, the exact
boundary, the decision, whether the data are simulated, and ``data_sha256`` (the SHA-256 of the
analysed sessions' close hashes and withdrawals), so that every interim look is on the same chain;
each look's line is also anchored in ``interim_looks.json`` beside the log (its ``seq`` and the
SHA-256 of its line), so that editing or cutting the log's last line is seen as well.

A withdrawal is thus on record twice: deleting the log, or cutting its last line, does not bring
the participant back (the loader honours the sidecar's mark), and ``compliance verify`` says
which of the two was tampered with.

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

__all__ = ["AUDIT_LOG", "ACTIONS", "check_reason", "append_withdrawal", "read_audit_log", "audit_logs_for", "withdrawals_for",
           "check_chain", "GENESIS", "LOOK_FIELDS", "LOOKS_ANCHOR", "append_look", "looks_in", "check_look_anchors"]

from paradigms.engine.store import AUDIT_LOG, GENESIS, RecordChain  # noqa: E402  (one format, the store's)

#: The actions an audit log records.
ACTIONS = ("withdraw", "close", "look")
_CODE = re.compile(r"^[A-Za-z0-9]+$")
_FIELDS = {"withdraw": ("seq", "t", "action", "participant_id", "session_file", "reason", "by", "prev_sha256"),
           "close": ("seq", "t", "action", "session_file", "csv_sha256", "journal_sha256", "sidecar_sha256",
                     "prev_sha256")}
#: What an interim look records (``compliance analyze --interim``), besides ``seq``, ``t``, ``action``
#: and ``prev_sha256``.
LOOK_FIELDS = ("preregistration", "preregistration_sha256", "study", "experiment", "contrast", "look", "looks",
               "n1", "n2", "planned_n1", "planned_n2", "z", "critical", "critical_normal", "decision", "simulated",
               "data_sha256")
_FIELDS["look"] = ("seq", "t", "action", *LOOK_FIELDS, "prev_sha256")
#: Beside the log: the seq and line SHA-256 of every look entry, so that an edit or a cut of the log's last
#: line (which no later ``prev_sha256`` covers) is seen too.
LOOKS_ANCHOR = "interim_looks.json"
#: capitalised words that are no one's name: calendar words, and the bodies and roles a withdrawal
#: names ("Ethics Board request", "Data Protection Officer"); two capitalised words in a row are
#: taken for a name unless one of them is here
_NOT_NAMES = frozenset("""
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
ethics board committee review institutional research data protection officer university department
faculty school office lab laboratory principal investigator study participant request requested
withdrawal withdrawn consent debriefing session experimenter technician supervisor chair panel
council human subjects privacy legal team site coordinator
""".split())


def _looks_like_a_name(pair: re.Match) -> bool:
    """Two capitalised words in a row, neither of them a word that is no one's name (:data:`_NOT_NAMES`)."""
    return not any(w.lower() in _NOT_NAMES for w in pair.group(1).split())


#: What a reason must never hold (the help says: never a name or a contact detail): a pattern, what a
#: match is, and which matches count (None: every one).
_PERSONAL = (
    (re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}"), "an e-mail address", None),
    (re.compile(r"(?:\+?\d[\s().-]*){7,}"), "a telephone number", None),
    (re.compile(r"https?://|www\.", re.I), "a web address", None),
    # every pair, overlapping ("Board Jane Doe" holds "Jane Doe")
    (re.compile(r"\b(?=([A-Z][a-z]+\s+[A-Z][a-z]+)\b)"), "what looks like a name (two capitalised words)",
     _looks_like_a_name),
)


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
        if rec.get("action") not in ACTIONS:
            raise DataValidationError(f"{path}: line {no}, field 'action': {rec.get('action')!r} is not one of "
                                      f"{', '.join(ACTIONS)}")
        for f in _FIELDS[rec["action"]]:
            if f not in rec:
                raise DataValidationError(f"{path}: line {no}, field {f!r}: missing")
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


def sidecar_withdrawals(csv_path) -> list[dict]:
    """The withdrawals a session's sidecar marks (``withdrawals``), each as the audit entry it stands
    for; ``[]`` for a session without sidecar or marks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> sidecar_withdrawals(write_session_csv(pathlib.Path(tempfile.mkdtemp()) / "s_data.csv", [{"participant_id": "p-1"}]))
    []
    """
    side = Path(csv_path).with_name(Path(csv_path).name[: -len("_data.csv")] + "_data.json") \
        if str(csv_path).endswith("_data.csv") else None
    if side is None or not side.is_file():
        return []
    try:
        marks = json.loads(side.read_text(encoding="utf-8")).get("withdrawals") or []
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return []
    out = []
    for m in marks if isinstance(marks, list) else []:
        if isinstance(m, dict) and m.get("participant_id"):
            out.append({"action": "withdraw", "participant_id": str(m["participant_id"]), "seq": m.get("seq"),
                        "t": m.get("t", ""), "by": m.get("by", ""), "reason": m.get("reason", ""),
                        "session_file": Path(csv_path).name, "log": str(side), "line": "'withdrawals'"})
    return out


def withdrawals_for(csv_paths) -> dict[str, dict]:
    """Participant id -> its withdrawal entry (with ``log``), from every log applying to the files and
    from the files' sidecars (a withdrawal stays applied when its log is deleted or cut).

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
    csv_paths = list(csv_paths)
    logs = dict.fromkeys(log for f in csv_paths for log in audit_logs_for(f))
    out: dict[str, dict] = {}
    for log in logs:
        for e in read_audit_log(log):
            if e["action"] == "withdraw":
                out.setdefault(str(e["participant_id"]), {**e, "log": str(log)})
    for f in csv_paths:
        for e in sidecar_withdrawals(f):
            out.setdefault(e["participant_id"], e)
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def check_reason(reason: str) -> str:
    """The reason of a withdrawal, stripped; a one-line :class:`AnalysisError` if it is empty, spans
    lines, or holds a name or a contact detail (an e-mail address, a telephone number, a web address,
    two capitalised words in a row).

    Examples
    --------
    >>> check_reason(" asked by e-mail on 3 May ")
    'asked by e-mail on 3 May'
    >>> check_reason("Ethics Board request of 3 May")
    'Ethics Board request of 3 May'
    >>> check_reason("Jane Doe jane@example.com 555-1234")
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: --reason: holds an e-mail address; say why without a name or a contact detail (e.g. 'asked by e-mail on 3 May'); nothing written
    """
    reason = (reason or "").strip()
    if not reason or any(ord(c) < 32 for c in reason):
        raise AnalysisError("--reason: one line of text saying why (no line breaks; never a name)")
    undated = re.sub(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}[:.]\d{2}\b", " ", reason)  # a date is no phone number
    for pattern, what, keep in _PERSONAL:
        if any(keep is None or keep(m) for m in pattern.finditer(undated)):
            raise AnalysisError(f"--reason: holds {what}; say why without a name or a contact detail "
                                "(e.g. 'asked by e-mail on 3 May'); nothing written")
    return reason


def _find_participant(data_dir: Path, participant_id: str) -> tuple[Path, dict]:
    """The session file and row holding ``participant_id`` under ``data_dir`` (read lightly:
    a withdrawal must be possible even where a file would not pass validation); refused if the id
    is in no file, or in more than one (which participant is meant is then not known)."""
    import csv

    from analysis.load.files import find_session_files

    files = find_session_files(data_dir)
    found = []
    for f in files:
        with open(f, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                if row.get("participant_id") == participant_id:
                    if row.get("record") == "outcome":   # a mailed card's second record: the card is its dispatch
                        continue
                    found.append((f, reader.line_num, row))
    if not found:
        raise AnalysisError(f"{data_dir}: no participant {participant_id!r} in the {len(files)} session file(s) "
                            "under this folder; nothing written")
    if len(found) > 1:
        where = "; ".join(f"{f} line {line}" for f, line, _ in found[:3])
        raise AnalysisError(f"{data_dir}: participant id {participant_id!r} is in {len(found)} rows ({where}): "
                            "which participant withdrew is not known; nothing written")
    return found[0][0], found[0][2]


def append_withdrawal(data_dir, participant_id: str, reason: str, by: str, now: Optional[str] = None) -> dict:
    """Record that ``participant_id`` withdrew their data: one fsynced line in the audit log beside
    the participant's session file, and a mark in that session's sidecar.

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
        The entry written, with ``log`` (the audit log's path).

    Raises
    ------
    AnalysisError
        An unknown participant, one in two files, one already withdrawn, a bad reason, a bad code.

    Examples
    --------
    >>> append_withdrawal("data/sessions", "p-3f2a9c1e", "asked by e-mail", "E1")  # doctest: +SKIP
    """
    from paradigms.engine.store import file_sha256, write_json_atomic

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise AnalysisError(f"{data_dir}: not a data folder")
    if not _CODE.match(by or ""):
        raise AnalysisError(f"--by {by!r}: a code of letters and digits (who records the withdrawal), not a name")
    reason = check_reason(reason)
    csv_path, row = _find_participant(data_dir, participant_id)
    if row.get("data_consent") == "0":
        raise AnalysisError(f"{csv_path}: participant {participant_id!r} already withdrew in the session "
                            "(data_consent = 0); nothing written")
    side = csv_path.with_name(csv_path.name[: -len("_data.csv")] + "_data.json")
    with RecordChain(csv_path.parent) as chain:
        before = withdrawals_for([csv_path])
        if participant_id in before:
            e = before[participant_id]
            raise AnalysisError(f"{e['log']}: line {e['line']}: participant {participant_id!r} was already withdrawn "
                                f"on {e['t']} by {e['by']}; nothing written")
        t = now or _now()
        fields = {"t": t, "action": "withdraw", "participant_id": participant_id,
                  "session_file": csv_path.name, "reason": reason, "by": by}
        if side.is_file():
            # the sidecar first: a crash between the two writes leaves the withdrawal applied (and verify
            # saying the log lacks it), never a log entry the data do not honour
            meta = json.loads(side.read_text(encoding="utf-8"))
            meta.setdefault("withdrawals", []).append({"participant_id": participant_id, "seq": chain.seq, "t": t,
                                                       "by": by, "reason": reason})
            write_json_atomic(side, meta)
            fields["sidecar_sha256"] = file_sha256(side)
        entry = chain.append(fields)
    return {**entry, "log": str(chain.path)}


def looks_in(path) -> list[dict]:
    """The ``look`` entries of one audit log (each with ``line`` and ``log``); ``[]`` if there is no log.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> looks_in(pathlib.Path(tempfile.mkdtemp()) / AUDIT_LOG)
    []
    """
    path = Path(path)
    if not path.is_file():
        return []
    return [{**e, "log": str(path)} for e in read_audit_log(path) if e["action"] == "look"]


def _same_data(a: dict, b: dict) -> bool:
    keys = ("preregistration_sha256", "contrast", "simulated", "n1", "n2", "data_sha256")
    return all(a.get(k) == b.get(k) for k in keys)


def append_look(folder, look: dict, now: Optional[str] = None) -> tuple[dict, bool]:
    """Put an interim look on the folder's record chain: one fsynced ``look`` line in its audit log, unless
    the last look there under the same pre-registration was at the same data (same n1/n2 and
    ``data_sha256``): a repeat, not a new look, and nothing is written.

    Parameters
    ----------
    folder : path
        The data folder whose ``audit_log.jsonl`` takes the entry (created if there is none).
    look : dict
        The fields of :data:`LOOK_FIELDS` (non-finite numbers must already be None).
    now : str, optional
        The time (UTC, ISO 8601); now by default.

    Returns
    -------
    (dict, bool)
        The entry written, with ``log`` (or the earlier entry, for a repeat), and whether it is a repeat.

    Raises
    ------
    AnalysisError
        The folder is missing or not writable (one line; nothing written), or a field is missing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> look = dict.fromkeys(LOOK_FIELDS, 1)
    >>> e, repeat = append_look(d, look, now="2026-03-01T10:00:00.000+00:00")
    >>> e["seq"], e["action"], repeat, check_chain(d / AUDIT_LOG)
    (1, 'look', False, [])
    >>> append_look(d, look)[1]
    True
    """
    folder = Path(folder)
    missing = [f for f in LOOK_FIELDS if f not in look]
    if missing:
        raise AnalysisError(f"look entry: field {missing[0]!r} missing; nothing written")
    if not folder.is_dir():
        raise AnalysisError(f"{folder}: not a data folder; the interim look cannot be recorded, so it is not taken")
    log = folder / AUDIT_LOG
    if not os.access(folder, os.W_OK) or (log.exists() and not os.access(log, os.W_OK)):
        raise AnalysisError(f"{log}: not writable: the interim look cannot be put on record, so it is not taken "
                            "(nothing written)")
    try:
        with RecordChain(folder) as chain:
            earlier = [e for e in looks_in(log) if e.get("preregistration_sha256") == look["preregistration_sha256"]
                       and e.get("simulated") == look["simulated"]]
            if earlier and _same_data(earlier[-1], look):
                return earlier[-1], True
            entry = chain.append({"t": now or _now(), "action": "look", **{f: look[f] for f in LOOK_FIELDS}})
            _anchor_look(folder, entry, chain.prev)
    except OSError as exc:
        raise AnalysisError(f"{log}: cannot be written ({exc.strerror}): the interim look cannot be put on record, "
                            "so it is not taken (nothing written)") from None
    return {**entry, "log": str(log)}, False


def _read_anchor(folder: Path) -> Optional[list]:
    """The anchored looks (None without an anchor file); a one-line error if it is not one."""
    path = Path(folder) / LOOKS_ANCHOR
    if not path.is_file():
        return None
    try:
        looks = json.loads(path.read_text(encoding="utf-8")).get("looks")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        looks = None
    if not isinstance(looks, list) or not all(isinstance(x, dict) for x in looks):
        raise DataValidationError(f"{path}: field 'looks': not a list of anchored looks")
    return looks


def _anchor_look(folder: Path, entry: dict, line_sha256: str) -> None:
    """Anchor one look line (its seq and SHA-256) in ``interim_looks.json`` (written atomically)."""
    from paradigms.engine.store import write_json_atomic

    try:
        looks = _read_anchor(folder) or []
    except DataValidationError:
        looks = []        # verify says what happened to it; the new look is anchored all the same
    looks.append({"seq": entry["seq"], "t": entry["t"], "sha256": line_sha256})
    write_json_atomic(Path(folder) / LOOKS_ANCHOR, {"looks": looks})


def check_look_anchors(log) -> list[str]:
    """Discrepancies between an audit log's look entries and ``interim_looks.json`` beside it: an anchored
    look missing from the log or with other bytes (the log was cut or edited, its last line included), or a
    look entry not anchored (the anchor file was deleted or edited, or the entry added by hand).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = append_look(d, dict.fromkeys(LOOK_FIELDS, 1), now="2026-03-01T10:00:00.000+00:00")
    >>> check_look_anchors(d / AUDIT_LOG)
    []
    >>> (d / AUDIT_LOG).write_text("")
    0
    >>> check_look_anchors(d / AUDIT_LOG)[0].endswith("the log was cut or rewritten")
    True
    """
    log = Path(log)
    anchor = log.parent / LOOKS_ANCHOR
    try:
        anchored = _read_anchor(log.parent)
        entries = {e["seq"]: e for e in read_audit_log(log)} if log.is_file() else {}
    except DataValidationError as exc:
        return [str(exc)]
    problems = []
    for a in anchored or ():
        e = entries.get(a.get("seq"))
        if e is None or e["action"] != "look":
            problems.append(f"{log}: no look entry {a.get('seq')}, which {anchor.name} anchors (taken on "
                            f"{a.get('t')}): the log was cut or rewritten")
        elif e["sha256"] != a.get("sha256"):
            problems.append(f"{log}: line {e['line']}: the look entry {e['seq']} differs from the one {anchor.name} "
                            "anchors: edited since it was recorded")
    seqs = {a.get("seq") for a in anchored or ()}
    for e in entries.values():
        if e["action"] == "look" and e["seq"] not in seqs:
            problems.append(f"{log}: line {e['line']}: look entry {e['seq']} is not anchored in {anchor.name}"
                            f"{' (missing)' if anchored is None else ''}: the anchor file was deleted or edited, or "
                            "the entry added by hand")
    return problems
