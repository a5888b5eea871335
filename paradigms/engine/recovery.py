"""What an earlier crash left in a data folder, found and put on the record.

Every command that writes into a data folder calls :func:`recover_data_dir`
first, whatever wrote the folder (a real session, a simulation, an older
toolkit):

* a session whose sidecar still says ``running`` and whose process is gone
  (its CSV is no longer locked, :mod:`paradigms.engine.locks`) is marked
  ``interrupted``, with its row count read from the CSV and the SHA-256 of its
  CSV and journal;
* a session CSV with no sidecar at all (the process was killed in its first
  milliseconds) is given one, marked ``interrupted`` the same way;
* for a real schedule, every slot that a crashed session took from the ledger
  and never wrote a row for is *lost*: :func:`crash_row` is its record
  (``excluded = 1``, ``exclusion_reason = session_crash``), which the next
  session of that schedule writes into its own file, so every slot of a
  pre-registered schedule is accounted for.

:class:`Recovery` says what was found, for the terminal and the screen.
"""
from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import locks as _locks
from .store import STORE_COLUMNS, file_sha256, now_iso, session_sort_key, write_json_atomic

__all__ = ["LostSlot", "Recovery", "recover_data_dir", "count_csv_rows", "crash_row", "SESSION_CRASH"]

#: The exclusion reason of a slot whose session crashed with its participant in progress.
SESSION_CRASH = "session_crash"

_DATA_RE = re.compile(r"^study-(?P<study>[A-Za-z0-9]+)_exp-(?P<exp>\d+)_site-(?P<site>[A-Za-z0-9]+)"
                      r"_session-(?P<session>\d+)_data\.csv$")


@dataclass(frozen=True)
class LostSlot:
    """A slot taken by a session that crashed before the participant's row was written."""

    slot: int
    condition: str
    session_file: str
    participant_id: Optional[str] = None
    t_start: Optional[str] = None
    t_last: Optional[str] = None

    def to_dict(self) -> dict:
        return {"slot": self.slot, "condition": self.condition, "session_file": self.session_file,
                "participant_id": self.participant_id, "t_start": self.t_start, "t_last": self.t_last}


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover_data_dir` found: sessions marked interrupted, and lost slots."""

    #: sidecar file names of the sessions marked interrupted (running, process gone)
    sessions: tuple[str, ...] = ()
    #: CSV file names that had no sidecar and were given one
    orphans: tuple[str, ...] = ()
    #: rows found in each recovered session's CSV (file name -> count)
    rows: tuple[tuple[str, int], ...] = ()
    #: slots taken by a crashed session and never given a row
    lost_slots: tuple[LostSlot, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.sessions or self.orphans or self.lost_slots)

    def lines(self) -> list[str]:
        """One sentence per fact, for the terminal and the screen."""
        out = []
        counts = dict(self.rows)
        for name in (*self.sessions, *self.orphans):
            stem = name.replace("_data.json", "").replace("_data.csv", "")
            n = counts.get(name, 0)
            out.append(f"recovered from an interrupted session: {stem} ({n} participant{'' if n == 1 else 's'} "
                       "on record; marked interrupted).")
        for s in self.lost_slots:
            out.append(f"slot {s.slot} was in progress in {Path(s.session_file).name.replace('_data.csv', '')} "
                       f"when it crashed and is recorded as lost (excluded, {SESSION_CRASH}).")
        return out

    def notice(self) -> list[str]:
        """The same facts for the person at the screen, in plain sentences: what happened, which slot,
        what was saved, what to do.  No file names: the session's number and site say which.

        >>> r = Recovery(sessions=("study-x_exp-1_site-S1_session-3_data.json",),
        ...              rows=(("study-x_exp-1_site-S1_session-3_data.json", 1),),
        ...              lost_slots=(LostSlot(7, "c", "study-x_exp-1_site-S1_session-3_data.csv"),))
        >>> for line in r.notice(): print(line)
        Session 3 at site S1 ended without closing properly (a crash, or the computer was switched off).
        The 1 participant it recorded is saved; that session is now marked as interrupted.
        Slot 7 was in progress in session 3 at site S1 when it ended. That person's record was not complete, so the slot is kept as excluded (session crash); it will not be used again.
        What to do: nothing more. Carry on with the next participant. If this happens again, tell whoever runs the study.
        """
        counts = dict(self.rows)
        out = []
        for name in (*self.sessions, *self.orphans):
            n = counts.get(name, 0)
            which = _which(name)
            out.append(f"{which[:1].upper()}{which[1:]} ended without closing properly (a crash, or the computer "
                       "was switched off).")
            out.append(f"{_participants(n, 'it recorded')}; that session is now marked as interrupted.")
        for s in self.lost_slots:
            out.append(f"Slot {s.slot} was in progress in {_which(s.session_file)} when it ended. That person's "
                       f"record was not complete, so the slot is kept as excluded (session crash); it will not be "
                       "used again.")
        if out:
            out.append("What to do: nothing more. Carry on with the next participant. If this happens again, tell "
                       "whoever runs the study.")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def to_dict(self) -> dict:
        return {"sessions": list(self.sessions), "orphans": list(self.orphans), "rows": dict(self.rows),
                "lost_slots": [s.to_dict() for s in self.lost_slots]}


def _which(file_name: str) -> str:
    """``"session 3 at site S1"`` from a session file's name (the name itself if it is not one)."""
    m = re.match(r"^study-[A-Za-z0-9]+_exp-\d+_site-(?P<site>[A-Za-z0-9]+)_session-(?P<session>\d+)_data\.",
                 Path(file_name).name)
    return f"session {int(m['session'])} at site {m['site']}" if m else Path(file_name).name


def _participants(n: int, what: str) -> str:
    if n == 0:
        return "It had recorded no participant yet, so nothing of it was lost"
    if n == 1:
        return f"The 1 participant {what} is saved"
    return f"The {n} participants {what} are saved"


def count_csv_rows(path: Path) -> int:
    """Complete records in a session CSV (quoted line breaks allowed; a torn last line not counted)."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    if not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]  # the last record was cut by the crash
    rows = [r for r in csv.reader(text.splitlines(keepends=True)) if r]
    return max(len(rows) - 1, 0)


def _slots_in(path: Path) -> set[int]:
    out = set()
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                try:
                    out.add(int(r.get("slot") or ""))
                except ValueError:
                    continue
    except (OSError, csv.Error, UnicodeDecodeError):
        pass
    return out


def _read_json(path: Path) -> Optional[dict]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _is_live(csv_path: Path) -> bool:
    """A session whose process still runs holds a lock on its CSV."""
    return _locks.is_locked(csv_path)


def _hashes(csv_path: Path, events_path: Optional[Path]) -> dict:
    out = {}
    if csv_path.is_file():
        out["csv_sha256"] = file_sha256(csv_path)
    if events_path is not None and events_path.is_file():
        out["journal_sha256"] = file_sha256(events_path)
    return out


_NOTE = ("the session process ended without closing (crash or kill); rows up to the crash are intact; "
         "see the events journal for any answer given after the last row")


def _mark_interrupted(sidecar: Path, meta: dict) -> int:
    csv_path = sidecar.with_name(meta.get("data_file") or sidecar.name.replace("_data.json", "_data.csv"))
    events = sidecar.with_name(meta.get("events_file") or sidecar.name.replace("_data.json", "_events.jsonl"))
    n = count_csv_rows(csv_path) if csv_path.is_file() else 0
    meta.update(status="interrupted", n_rows=n, recovered_at=now_iso(), note=_NOTE, **_hashes(csv_path, events))
    write_json_atomic(sidecar, meta)
    return n


def _sidecar_for_orphan(csv_path: Path, m: re.Match) -> int:
    events = csv_path.with_name(csv_path.name.replace("_data.csv", "_events.jsonl"))
    n = count_csv_rows(csv_path)
    try:
        with open(csv_path, encoding="utf-8", newline="") as fh:
            columns = next(csv.reader(fh), [])
    except (OSError, csv.Error, UnicodeDecodeError):
        columns = []
    meta = {"paradigm": m["study"], "experiment": int(m["exp"]), "site": m["site"], "session": int(m["session"]),
            "start_time": None, "end_time": None, "status": "interrupted", "n_rows": n,
            "data_file": csv_path.name, "events_file": events.name if events.exists() else None,
            "columns": columns, "recovered_at": now_iso(),
            "note": "the session was killed before its sidecar was written; this sidecar was made by recovery "
                    "from the file name and the CSV", **_hashes(csv_path, events)}
    write_json_atomic(csv_path.with_name(csv_path.name.replace("_data.csv", "_data.json")), meta)
    return n


def _journal_facts(events_path: Path, slot: int) -> tuple[Optional[str], Optional[str], Optional[str]]:
    """participant_id, time taken and last journalled time of the participant in ``slot``."""
    pid = t_start = t_last = None
    try:
        lines = events_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None, None, None
    for line in lines:
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        if ev.get("slot") == slot and ev.get("participant_id") and pid is None:
            pid, t_start = ev["participant_id"], ev.get("t")
        elif pid is not None and ev.get("participant_id") == pid:
            t_last = ev.get("t")
    return pid, t_start, t_last or t_start


def recover_data_dir(root, ledger=None) -> Recovery:
    """Put on record what earlier crashes left in ``root`` (see the module docstring).

    ``ledger`` (a :class:`~paradigms.engine.schedule.SlotLedger`), if given, is
    searched for slots that sessions of this folder took and never wrote a row
    for; they are returned as :attr:`Recovery.lost_slots` (nothing is written
    for them here: the caller's new session writes their rows).
    """
    root = Path(root)
    if not root.is_dir():
        return Recovery()
    sessions, orphans, rows = [], [], []
    for sidecar in sorted(root.glob("*_data.json"), key=session_sort_key):
        meta = _read_json(sidecar)
        if meta is None or meta.get("status") != "running":
            continue
        csv_path = sidecar.with_name(meta.get("data_file") or sidecar.name.replace("_data.json", "_data.csv"))
        if _is_live(csv_path):
            continue
        rows.append((sidecar.name, _mark_interrupted(sidecar, meta)))
        sessions.append(sidecar.name)
    for csv_path in sorted(root.glob("*_data.csv"), key=session_sort_key):
        m = _DATA_RE.match(csv_path.name)
        if m is None or csv_path.with_name(csv_path.name.replace("_data.csv", "_data.json")).exists():
            continue
        if _is_live(csv_path):
            continue
        rows.append((csv_path.name, _sidecar_for_orphan(csv_path, m)))
        orphans.append(csv_path.name)
    lost = _lost_slots(root, ledger) if ledger is not None else ()
    return Recovery(tuple(sessions), tuple(orphans), tuple(rows), tuple(lost))


def _lost_slots(root: Path, ledger) -> list[LostSlot]:
    sha = ledger.schedule.sha256
    written: set[int] = set()
    for sidecar in root.glob("*_data.json"):
        meta = _read_json(sidecar) or {}
        if meta.get("schedule_sha256") == sha and not meta.get("pilot"):
            written |= _slots_in(sidecar.with_name(meta.get("data_file") or ""))
    lost = []
    for claim in ledger.claims():
        rel = claim.get("session_file")
        if not rel or claim.get("pilot") or claim["slot"] in written:
            continue
        csv_path = root / rel
        if not csv_path.is_file() or _is_live(csv_path):
            continue  # a session of another folder (older logs), or one still running
        meta = _read_json(csv_path.with_name(csv_path.name.replace("_data.csv", "_data.json"))) or {}
        if claim.get("session_uid") and meta.get("session_uid") not in (None, claim["session_uid"]):
            continue  # the claim names another session that had this file name
        pid, t_start, t_last = _journal_facts(
            csv_path.with_name(csv_path.name.replace("_data.csv", "_events.jsonl")), claim["slot"])
        lost.append(LostSlot(claim["slot"], claim.get("condition", ""), rel, pid, t_start or claim.get("claimed"),
                             t_last or claim.get("claimed")))
    return sorted(lost, key=lambda s: s.slot)


def crash_row(paradigm, experiment: int, lost: LostSlot, new_id) -> dict:
    """The record of a lost slot: who (as far as the journal knows), which slot and condition,
    excluded with reason ``session_crash``."""
    from .field import opening_record
    exp = paradigm.experiment(experiment)
    values = opening_record(exp.condition(lost.condition), lost.participant_id or new_id(), lost.slot,
                            lost.t_start or now_iso())
    values.update(excluded=1, exclusion_reason=SESSION_CRASH, t_end=lost.t_last or lost.t_start or now_iso())
    return {c: values.get(c) for c in paradigm.columns(exp.number) if c not in STORE_COLUMNS}
