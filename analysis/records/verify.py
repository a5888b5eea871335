"""Tamper evidence: check a data folder against what its sessions recorded when they closed.

Each session's sidecar records the SHA-256 of its CSV and its journal when the
session closes (``csv_sha256``, ``journal_sha256``).  :func:`verify` checks

* every session CSV and journal against those hashes;
* the journal against the CSV: every row the journal says was written is in the
  CSV, every CSV row was journalled as written, and every participant whose final
  answer (the debriefing) was journalled has a row;
* every audit log (``audit_log.jsonl``): its chain, that each withdrawn
  participant exists, and that its interim looks (``analyze --interim``) are the ones anchored in
  ``interim_looks.json`` beside it (an edit or a cut of a look line, the last one included);
* the record chain against the files (issue 22): every session the log says closed
  is there, with the CSV, journal and *sidecar* it recorded (so a sidecar relabelled
  from simulated to real, a changed seed or experimenter, or a CSV changed with its
  hash recomputed in the sidecar, is a discrepancy); every sidecar that names its
  entry (``audit_seq``) finds it (a log deleted or cut is one); every withdrawal is
  both in the log and marked in its session's sidecar.

Each discrepancy is one line naming the file (and line).  Sessions that never
closed (no hash recorded) cannot be checked against a hash: they are listed as
notes, not discrepancies; so are the rows a killed data-only simulation wrote in its
last block without their journal lines (said as such: not a forgery).

Without a manifest, an informed forger who rewrites a whole folder (files, hashes and
log alike) is not seen: :func:`seal` writes the hashes of every file of a folder to a
small manifest kept off the device, and ``verify(DATA, manifest=M)`` checks against it.
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from analysis.records.audit import AUDIT_LOG, LOOKS_ANCHOR, check_chain, check_look_anchors, read_audit_log, sidecar_withdrawals
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
    unrecorded : tuple of str
        The discrepancies that only say a file has no record at all (a CSV without sidecar, on no
        record chain): missing evidence, not failed evidence; ``analyze`` does not refuse these.
    manifest : str or None
        The manifest checked against, if any.
    """

    _aliases = {'term': 'folder', 'n': 'n_sessions'}

    folder: str
    n_sessions: int
    n_audit_logs: int
    discrepancies: tuple[str, ...]
    notes: tuple[str, ...]
    unrecorded: tuple[str, ...] = ()
    manifest: Optional[str] = None

    @property
    def failed(self) -> tuple[str, ...]:
        """The discrepancies where evidence exists and fails (what ``analyze`` refuses)."""
        return tuple(d for d in self.discrepancies if d not in set(self.unrecorded))

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def __str__(self) -> str:
        verdict = "all match" if self.ok else f"{len(self.discrepancies)} discrepanc{'y' if len(self.discrepancies) == 1 else 'ies'}"
        return (f"verify {self.folder}: {self.n_sessions} session(s), {self.n_audit_logs} audit log(s): {verdict}"
                + (f"; {len(self.notes)} note(s)" if self.notes else ""))

    def to_dict(self) -> dict:
        return {"folder": self.folder, "n_sessions": self.n_sessions, "n_audit_logs": self.n_audit_logs,
                "ok": self.ok, "discrepancies": list(self.discrepancies), "notes": list(self.notes),
                "manifest": self.manifest}


from paradigms.hashing import file_sha256 as _sha256  # the one file hash
from analysis.load.files import known_sha256  # the digest of a file this check read a moment ago


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


def _ids_from_bytes(raw: bytes):
    """``_csv_ids`` of a file already read, for a plain file (no quotes, no CR, no blank or overlong
    line, one UTF-8 line per record, ``participant_id`` once in the header): pyarrow's reader takes
    the column, each data row's line is its index + 2.  None for any other file (the csv module
    then reads it, as ever, and says what is wrong with it)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if (not raw.endswith(b"\n") or raw.startswith(b"\n") or b"\n\n" in raw or b'"' in raw or b"\r" in raw
            or b"\x00" in raw):
        return None
    nl = raw.index(b"\n")
    try:
        if not raw.isascii():
            raw.decode("utf-8")
        header = raw[:nl].decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    if header.count("participant_id") != 1 or nl + 1 == len(raw):
        return None
    body = memoryview(raw)[nl + 1:]
    names = [f"c{k}" for k in range(len(header))]
    try:
        table = pacsv.read_csv(pa.py_buffer(body), read_options=pacsv.ReadOptions(column_names=names),
                               parse_options=pacsv.ParseOptions(quote_char=False, newlines_in_values=False),
                               convert_options=pacsv.ConvertOptions(
                                   include_columns=[names[header.index("participant_id")]],
                                   column_types={n: pa.string() for n in names}, strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None   # a row with too few or too many fields, a field too long: the csv module reads it
    n = table.num_rows
    if n != raw.count(b"\n") - 1 or _longest_line(raw) > csv.field_size_limit():
        return None
    ids = table.column(0).to_pylist()
    out = dict(zip(reversed(ids), range(n + 1, 1, -1)))   # reversed: the first line of an id wins
    out.pop("", None)
    return out


def _longest_line(raw: bytes) -> int:
    import numpy as np

    at = np.flatnonzero(np.frombuffer(raw, np.uint8) == 10)
    return int(np.diff(at, prepend=-1).max()) if at.size else len(raw)


def _csv_ids_and_sha256(path: Path) -> tuple[dict[str, int], str]:
    """:func:`_csv_ids` and the file's SHA-256, from one read of its bytes (the digest is remembered
    for the loader that reads the file next: :func:`analysis.load.files.read_hashed`)."""
    from analysis.load.files import read_hashed

    raw, sha = read_hashed(path)
    ids = _ids_from_bytes(raw)
    return (_csv_ids(path) if ids is None else ids), sha


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


def _read_journal_ids(events: Path, discrepancies: list[str]) -> tuple[dict, dict]:
    """participant_id -> first journal line, of ``row_written`` events and of final answers."""
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
    return written, final


def _killed_batch(meta: dict, ids: dict, written: dict) -> bool:
    """Whether the rows without journal lines are the last block of a killed data-only simulation:
    written under the ``batched`` policy (CSV block before journal block), the session never closed,
    and the unjournalled rows are the CSV's last rows."""
    if meta.get("durability") != "batched" or meta.get("status") not in ("running", "interrupted"):
        return False
    order = sorted(ids, key=ids.get)
    missing = [pid for pid in order if pid not in written]
    return bool(missing) and order[-len(missing):] == missing


def _check_hashes(csv_path: Path, meta: dict, events: Path, discrepancies: list[str], notes: list[str],
                  csv_digest: Optional[str] = None) -> None:
    side = sidecar_path(csv_path)
    recorded = meta.get("csv_sha256")
    if recorded:
        actual = csv_digest or _sha256(csv_path)
        if actual != recorded:
            discrepancies.append(f"{csv_path}: SHA-256 {actual[:12]}... differs from csv_sha256 {recorded[:12]}... "
                                 f"recorded in {side.name} when the session closed: changed since")
    else:
        notes.append(f"{csv_path}: no csv_sha256 in {side.name} (session status {meta.get('status')!r}): "
                     "its content cannot be checked against a hash")
    jrec = meta.get("journal_sha256")
    if jrec and events.is_file():
        actual = _sha256(events)
        if actual != jrec:
            discrepancies.append(f"{events}: SHA-256 {actual[:12]}... differs from journal_sha256 {jrec[:12]}... "
                                 f"recorded in {side.name} when the session closed: changed since")
    elif recorded and events.is_file():
        notes.append(f"{events}: no journal_sha256 in {side.name}")


def _check_session(csv_path: Path, discrepancies: list[str], notes: list[str], unrecorded: list[str],
                   journals: bool = True, want_ids: bool = True) -> set[str]:
    """Check one session; returns its participant ids (none read without ``journals`` or ``want_ids``:
    the gate of ``analyze`` needs them only to find a withdrawn participant)."""
    try:
        if journals or want_ids:
            ids, digest = _csv_ids_and_sha256(csv_path)   # one read: the ids and the hash
        else:
            from analysis.load.files import read_hashed

            ids, digest = {}, read_hashed(csv_path)[1]    # the hash alone (remembered for the loader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        discrepancies.append(f"{csv_path}: cannot be read ({exc})")
        return set()
    try:
        meta = read_sidecar(csv_path)
    except DataValidationError as exc:
        discrepancies.append(str(exc))
        return set(ids)
    if meta is None:
        line = f"{csv_path}: no sidecar ({sidecar_path(csv_path).name}): nothing records what the session wrote"
        discrepancies.append(line)
        unrecorded.append(line)
        return set(ids)
    events = csv_path.with_name(meta.get("events_file") or csv_path.name.replace("_data.csv", "_events.jsonl"))
    if not events.is_file():
        discrepancies.append(f"{events}: the session's journal is missing")
    _check_hashes(csv_path, meta, events, discrepancies, notes, csv_digest=digest)
    if not journals or not events.is_file():
        return set(ids)
    written, final = _read_journal_ids(events, discrepancies)
    for pid, no in written.items():
        if pid not in ids:
            discrepancies.append(f"{events}: line {no}: participant {pid!r} was written to the CSV, but "
                                 f"{csv_path.name} has no row for them")
    killed = _killed_batch(meta, ids, written)
    for pid, line in ids.items():
        if pid in written:
            continue
        if killed:
            notes.append(f"{csv_path}: line {line}: participant {pid!r} has no journal line: the last block of a "
                         f"data-only simulation killed before it wrote its journal (durability 'batched', status "
                         f"{meta.get('status')!r}), not a forged row")
        else:
            discrepancies.append(f"{csv_path}: line {line}: participant {pid!r} has a row the session never "
                                 f"journalled as written ({events.name}): added by hand, not by a session")
    for pid, no in final.items():
        if pid not in ids and pid not in written:
            discrepancies.append(f"{events}: line {no}: participant {pid!r} gave their final answer, but "
                                 f"{csv_path.name} has no row for them")
    return set(ids)


def _check_chain_against_files(log: Path, entries: list[dict], discrepancies: list[str]) -> None:
    """The record chain of one folder against its files: every closed session is there as recorded,
    every sidecar is the one the chain last recorded, every withdrawal is marked in its sidecar."""
    folder = log.parent
    last_sidecar: dict[str, tuple[int, str]] = {}
    for e in entries:
        name = str(e.get("session_file", ""))
        csv_path = folder / name
        if e["action"] == "close":
            side = sidecar_path(csv_path)
            gone = [p.name for p in (csv_path, side) if not p.is_file()]
            if gone:
                discrepancies.append(f"{log}: line {e['line']}: session {name} closed on {e['t']}, but "
                                     f"{' and '.join(gone)} {'is' if len(gone) == 1 else 'are'} gone: deleted since")
                continue
            if (known_sha256(csv_path) or _sha256(csv_path)) != e["csv_sha256"]:
                discrepancies.append(f"{csv_path}: SHA-256 differs from csv_sha256 the record chain holds ({log.name} "
                                     f"line {e['line']}): changed since the session closed, even if its sidecar "
                                     "was made to agree")
        if e.get("sidecar_sha256"):
            last_sidecar[name] = (e["line"], e["sidecar_sha256"])
        if e["action"] == "withdraw":
            marks = {m["participant_id"]: m for m in sidecar_withdrawals(csv_path)}
            if sidecar_path(csv_path).is_file() and e.get("sidecar_sha256") and e["participant_id"] not in marks:
                discrepancies.append(f"{sidecar_path(csv_path)}: field 'withdrawals': no mark of the withdrawal of "
                                     f"{e['participant_id']!r} ({log.name} line {e['line']}): the sidecar was edited")
    for name, (line, sha) in last_sidecar.items():
        side = sidecar_path(folder / name)
        if side.is_file() and _sha256(side) != sha:
            discrepancies.append(f"{side}: SHA-256 differs from sidecar_sha256 the record chain holds ({log.name} "
                                 f"line {line}): the sidecar was changed since (a relabelled origin, mode, seed "
                                 "or experimenter)")


def _check_anchors(files: list[Path], discrepancies: list[str]) -> None:
    """Each sidecar that names its close entry, and each withdrawal a sidecar marks, finds its line in the
    log beside it: a log deleted, cut, or rewritten without them is seen."""
    cache: dict[Path, Optional[dict]] = {}
    for f in files:
        try:
            meta = read_sidecar(f)
        except DataValidationError:
            continue
        if not meta:
            continue
        log = f.parent / AUDIT_LOG
        if log not in cache:
            try:
                cache[log] = {e["seq"]: e for e in read_audit_log(log)} if log.is_file() else None
            except DataValidationError:
                cache[log] = {}
        by_seq = cache[log]
        wants = []
        if isinstance(meta.get("audit_seq"), int):
            wants.append((meta["audit_seq"], "close", None, "audit_seq"))
        for m in sidecar_withdrawals(f):
            wants.append((m["seq"], "withdraw", m["participant_id"], "withdrawals"))
        for seq, action, pid, field in wants:
            if by_seq is None:
                discrepancies.append(f"{log}: missing, but {sidecar_path(f).name} (field {field!r}) names its entry "
                                     f"{seq}: the audit log was deleted")
                break
            e = by_seq.get(seq)
            if e is None or e["action"] != action or (pid and str(e.get("participant_id")) != pid) \
                    or e.get("session_file") != f.name:
                what = f"the withdrawal of {pid!r}" if pid else "the session closing"
                discrepancies.append(f"{log}: no entry {seq} for {what}, which {sidecar_path(f).name} (field "
                                     f"{field!r}) records: the log was cut or rewritten")


def verify(data_dir, manifest=None, journals: bool = True) -> VerifyResult:
    """Check every session file under ``data_dir`` and every audit log there.

    Parameters
    ----------
    data_dir : path
        A data folder (searched recursively, links followed), or one session file.
    manifest : path, optional
        A manifest written by :func:`analysis.records.seal.seal`: every file of the folder is also
        checked against the hashes it holds (files added, removed or changed).
    journals : bool
        Check each journal against its CSV (``analyze`` skips this: the hashes and the chain suffice
        to refuse data whose evidence fails).

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
    if not data_dir.exists():
        raise AnalysisError(f"{data_dir}: not a data folder")
    discrepancies: list[str] = []
    notes: list[str] = []
    unrecorded: list[str] = []
    files = find_session_files(data_dir) if data_dir.is_dir() else [data_dir]
    files = [f for f in files if f.name.endswith("_data.csv")]
    root = data_dir if data_dir.is_dir() else data_dir.parent
    logs = _find_logs(root) if data_dir.is_dir() else [p for p in [root / AUDIT_LOG] if p.is_file()]
    want_ids = journals or any(_withdraws(log) for log in logs)   # the ids only find withdrawn participants
    ids_by_dir: dict[Path, set[str]] = {}
    for f in files:
        ids = _check_session(f, discrepancies, notes, unrecorded, journals=journals, want_ids=want_ids)
        for d in [f.parent, *f.parent.parents]:
            ids_by_dir.setdefault(d, set()).update(ids)
            if d == root:
                break
    for log in logs:
        _check_log(log, ids_by_dir.get(log.parent, set()), discrepancies)
    _check_anchors(files, discrepancies)
    if manifest is not None:
        from analysis.records.seal import check_manifest

        discrepancies.extend(check_manifest(root, manifest))
    n_logs = sum(1 for log in logs if log.is_file())
    return VerifyResult(str(data_dir), len(files), n_logs, tuple(dict.fromkeys(discrepancies)), tuple(notes),
                        tuple(unrecorded), None if manifest is None else str(manifest))


def _withdraws(log: Path) -> bool:
    """Whether ``log`` records a withdrawal (or cannot be read: then the full check says what is wrong)."""
    if not log.is_file():
        return False
    try:
        return any(e["action"] == "withdraw" for e in read_audit_log(log))
    except (DataValidationError, KeyError, TypeError):
        return True


def _find_logs(root: Path) -> list[Path]:
    logs = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:            # reached again through a link: no loop
            dirnames[:] = []
            continue
        seen.add(real)
        if AUDIT_LOG in filenames or LOOKS_ANCHOR in filenames:   # anchored looks whose log is gone: seen
            logs.append(Path(dirpath) / AUDIT_LOG)
    return sorted(set(logs))


def _check_log(log: Path, known: set[str], discrepancies: list[str]) -> None:
    if not log.is_file():
        discrepancies.extend(check_look_anchors(log))
        return
    chain = check_chain(log)
    discrepancies.extend(chain)
    if chain and "not a JSON" in chain[0]:
        return
    try:
        entries = read_audit_log(log)
    except DataValidationError:
        return
    for e in entries:
        if e["action"] == "withdraw" and str(e["participant_id"]) not in known:
            discrepancies.append(f"{log}: line {e['line']}, field 'participant_id': {e['participant_id']!r} is "
                                 "in no session file under this folder")
    _check_chain_against_files(log, entries, discrepancies)
    discrepancies.extend(check_look_anchors(log))


def check_evidence(paths, accept_unverified: bool = False) -> tuple[str, ...]:
    """The gate before an analysis: refuse (one line, naming the file) data whose evidence fails
    :func:`verify` (hashes, the record chain, withdrawals); with ``accept_unverified``, return the
    failures instead, for the caller to print on every output.  Files with no record at all (no sidecar,
    on no chain: hand-made or external CSVs) are not refused: nothing claims they are anything.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.load.synthetic import write_session_csv
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_session_csv(d / "s_data.csv", [{"participant_id": "p-1"}])
    >>> check_evidence([d])
    ()
    """
    failed: list[str] = []
    for p in paths:
        p = Path(p)
        if not p.exists() or (p.is_file() and not p.name.endswith("_data.csv")):
            continue   # the loader says what is wrong with it
        failed.extend(verify(p, journals=False).failed)
    failed = list(dict.fromkeys(failed))
    if failed and not accept_unverified:
        more = f" (and {len(failed) - 1} more; run 'compliance verify')" if len(failed) > 1 else ""
        raise AnalysisError(f"{failed[0]}{more}; nothing analysed (--accept-unverified analyses it anyway, "
                            "labelled UNVERIFIED)")
    return tuple(failed)
