"""Mailed cards: join each card's dispatch and outcome records into one row; pending cards apart.

A mail session (``paradigms.vocab.mail.MailSession``; Kunz & Woolcott, 1976,
is the first) writes two records per card, days or weeks apart and usually in
different session files: the **dispatch** record when the card is posted, the
**outcome** record when a reply came (with the date received), when none came by
the end of the reply window, or when the card was returned.  Files are never
rewritten; the loader (:func:`analysis.load.sessions.load_sessions`) calls
:func:`join_records` on everything it read, and gets one row per card back:

* a card with both records: the dispatch row with the outcome's columns
  (``reply``, ``reply_date``, ``reply_days``, ``complied``, ``debriefed``,
  ``t_end``, and an exclusion such as ``returned``), plus ``outcome_file`` and
  ``outcome_line`` saying where the outcome was read;
* a card not posted (``not_sent``, ``session_quit``): its dispatch row, excluded;
* a card posted and without an outcome: **pending** (the row's ``pending`` says
  why: its window is still open, or it closed and no outcome was recorded). A
  pending card is reported, with status ``pending``, and never analysed: it is
  not a refusal.  A :class:`PendingOutcomeWarning` states how many there are.

What cannot be (a one-line :class:`~analysis.errors.DataValidationError` naming
file, line and column; nothing is written): an outcome record for a card never
sent, a second dispatch or outcome record for a card, an outcome that
contradicts its dispatch (condition, slot, experiment), a reply dated before its
card was sent or in a form other than ``YYYY-MM-DD``, ``reply_days`` or
``complied`` that disagree with the dates and the window, *no reply* recorded
while the window was still open, and an outcome for a card that was not posted.
"""
from __future__ import annotations

import warnings
from datetime import date, datetime
from typing import Mapping, Optional

import numpy as np
import pandas as pd

from analysis.errors import DataValidationError

__all__ = ["TIMES", "PENDING", "PendingOutcomeWarning", "is_mail", "check_record", "join_records", "window_closes",
           "outcome_mask", "join_loaded"]

#: The report status of a card whose outcome is not yet recorded.
PENDING = "pending"
#: the columns of the report (as analysis.load.sessions.REPORT_COLUMNS)
_REPORT = ("study", "experiment", "condition", "status", "reason", "participant_id", "source_file", "source_line")
#: The times of a card's records (the loader keeps them for the join).
TIMES = ("t_card", "t_start", "t_end")
_JOINED = ("reply", "reply_date", "reply_days", "complied", "debriefed", "data_consent", "t_end")


class PendingOutcomeWarning(UserWarning):
    """Cards whose outcome is not recorded yet: reported as pending, never analysed as refusals."""


def _paradigm(study: str):
    from analysis.declared import declaration

    return declaration(study)


def is_mail(paradigm) -> bool:
    """Whether ``paradigm``'s session writes a dispatch and a later outcome record per participant.

    Examples
    --------
    >>> import paradigms
    >>> is_mail(paradigms.get("kunz1976")), is_mail(paradigms.get("cialdini1975"))
    (True, False)
    """
    return bool(getattr(paradigm.session, "deferred_outcome", False))


def _where(rec: Mapping, column: str) -> str:
    return (f"{rec['source_file']}: line {int(rec['source_line'])} (data row {int(rec['source_row'])}), "
            f"column {column!r}")


def _day(t) -> date:
    return datetime.fromisoformat(str(t)).date()


def window_closes(sent: date, window_days: int) -> date:
    """The last day of a card's reply window.

    Examples
    --------
    >>> window_closes(date(2026, 1, 5), 56)
    datetime.date(2026, 3, 2)
    """
    from paradigms.engine.mail import closes

    return closes(sent, window_days)  # one reply-window rule, the mailing log's


def check_record(rec: Mapping, paradigm, file: str, line: int, row: int) -> None:
    """The rules of one dispatch or outcome record that need no other record.

    Called by the loader for each row of a mail paradigm (in place of the check
    that an analysed participant has ``complied``: a dispatch record has none
    yet).

    Raises
    ------
    DataValidationError
        Naming the file, line, data row and column.

    Examples
    --------
    >>> import paradigms
    >>> rec = {"record": "outcome", "reply": "received", "reply_date": "20.1.2026", "excluded": 0, "complied": 1}
    >>> check_record(rec, paradigms.get("kunz1976"), "f.csv", 3, 2)
    Traceback (most recent call last):
    ...
    analysis.errors.DataValidationError: f.csv: line 3 (data row 2), column 'reply_date': '20.1.2026' is not a date (YYYY-MM-DD)
    """
    where = lambda col: f"{file}: line {line} (data row {row}), column {col!r}"  # noqa: E731
    kind = rec.get("record")
    if rec.get("excluded") == 1 and not rec.get("exclusion_reason"):
        raise DataValidationError(f"{where('exclusion_reason')}: empty although excluded = 1")
    if rec.get("excluded") == 0 and rec.get("exclusion_reason"):
        raise DataValidationError(f"{where('exclusion_reason')}: {rec['exclusion_reason']!r} given although "
                                  "excluded = 0")
    if kind == "dispatch":
        for col in ("reply", "reply_date", "reply_days", "complied"):
            if rec.get(col) is not None:
                raise DataValidationError(f"{where(col)}: {rec[col]!r} on a dispatch record (the card's outcome "
                                          "belongs on its outcome record)")
        return
    reply = rec.get("reply")
    if reply is None:
        raise DataValidationError(f"{where('reply')}: empty on an outcome record")
    if reply == "received":
        if rec.get("reply_date") is None:
            raise DataValidationError(f"{where('reply_date')}: empty although reply = received")
        try:
            if len(str(rec["reply_date"])) != 10:
                raise ValueError
            date.fromisoformat(str(rec["reply_date"]))
        except ValueError:
            raise DataValidationError(f"{where('reply_date')}: {rec['reply_date']!r} is not a date (YYYY-MM-DD)") \
                from None
    elif rec.get("reply_date") is not None:
        raise DataValidationError(f"{where('reply_date')}: {rec['reply_date']!r} although reply = {reply}")
    if reply == "returned":
        if rec.get("excluded") != 1:
            raise DataValidationError(f"{where('excluded')}: a returned card must be excluded (returned)")
    elif rec.get("excluded") == 0 and rec.get("complied") is None:
        raise DataValidationError(f"{where('complied')}: empty on an outcome record of a card not excluded")


def join_records(rows: list, today: Optional[date] = None) -> list:
    """One row per card for the rows of mail paradigms; other rows are returned as they are.

    Parameters
    ----------
    rows : list of dict
        Typed rows as :func:`analysis.load.sessions.read_session_csv` returns them (with
        ``source_file``, ``source_line``, ``source_row``), from every file loaded.
    today : date, optional
        The day of the analysis (default: today), for the pending cards.

    Returns
    -------
    list of dict
        The other rows, then one row per card in the order of the dispatch
        records; a pending card's row has ``pending`` set to the reason.

    Warns
    -----
    PendingOutcomeWarning
        When cards are pending: how many, and until when the last window is open.

    Examples
    --------
    >>> base = dict(study="kunz1976", experiment=1, site="S1", session=1, experimenter="E1", condition="high_status",
    ...             excluded=0, exclusion_reason=None, debriefed=0, data_consent=None, source_file="f.csv")
    >>> sent = dict(base, participant_id="P1", slot=1, record="dispatch", reply=None, reply_date=None,
    ...             reply_days=None, complied=None, card_answer="sent", t_card="2026-01-05T10:00:00+00:00",
    ...             t_start="2026-01-05T10:00:00+00:00", t_end="2026-01-05T10:00:00+00:00", source_line=2,
    ...             source_row=1)
    >>> back = dict(sent, record="outcome", reply="received", reply_date="2026-01-20", reply_days=15, complied=1,
    ...             debriefed=1, card_answer=None, t_card=None, t_start="2026-01-21T09:00:00+00:00",
    ...             t_end="2026-01-21T09:00:00+00:00", source_line=3, source_row=2)
    >>> [(r["participant_id"], r["complied"], r["outcome_line"]) for r in join_records([sent, back])]
    [('P1', 1, 3)]
    """
    today = today or date.today()
    others, cards, order = [], {}, []
    mail: dict[str, object] = {}
    for r in rows:
        study = str(r["study"])
        if study not in mail:
            mail[study] = _paradigm(study) if is_mail(_paradigm(study)) else None
        if mail[study] is None:
            others.append(r)
            continue
        pid = str(r["participant_id"])
        if r.get("record") == "dispatch":
            if pid in cards:
                first = cards[pid]["dispatch"]
                raise DataValidationError(f"{_where(r, 'participant_id')}: a second dispatch record for card "
                                          f"{pid!r} (the first: {first['source_file']} line {first['source_line']})")
            cards[pid] = {"dispatch": r, "outcome": None}
            order.append(pid)
    for r in rows:
        if mail.get(str(r["study"])) is None or r.get("record") != "outcome":
            continue
        pid = str(r["participant_id"])
        card = cards.get(pid)
        if card is None:
            raise DataValidationError(f"{_where(r, 'participant_id')}: an outcome record for card {pid!r}, which "
                                      "was never sent (no dispatch record in the data loaded)")
        if card["outcome"] is not None:
            first = card["outcome"]
            raise DataValidationError(f"{_where(r, 'reply')}: a second outcome record for card {pid!r} (the first: "
                                      f"{first['source_file']} line {first['source_line']}, reply = "
                                      f"{first.get('reply')})")
        card["outcome"] = r
    joined, pending = [], []
    for pid in order:
        d, o = cards[pid]["dispatch"], cards[pid]["outcome"]
        paradigm = mail[str(d["study"])]
        window = int(paradigm.session.window_days)
        sent = _day(d.get("t_card") or d["t_end"])
        posted = d.get("card_answer") == "sent" and d.get("excluded") != 1
        row = dict(d)
        if o is None:
            if posted:
                end = window_closes(sent, window)
                row["pending"] = (f"reply window open until {end.isoformat()}" if today <= end else
                                  f"reply window closed {end.isoformat()}, no outcome recorded yet")
                pending.append(end)
            joined.append(row)
            continue
        if not posted:
            raise DataValidationError(f"{_where(o, 'reply')}: an outcome record for card {pid!r}, which was not "
                                      f"posted ({d['source_file']} line {d['source_line']}: "
                                      f"{d.get('exclusion_reason') or d.get('card_answer')})")
        _check_outcome(o, d, sent, window)
        row.update({k: o.get(k) for k in _JOINED})
        if o.get("data_consent") is None and d.get("data_consent") == 0:
            row["data_consent"] = 0
        if o.get("excluded") == 1:
            row["excluded"], row["exclusion_reason"] = 1, o.get("exclusion_reason")
        row["record"] = "outcome"
        row["outcome_file"], row["outcome_line"] = o["source_file"], int(o["source_line"])
        if o.get("withdrawal"):
            row["withdrawal"] = o["withdrawal"]
        joined.append(row)
    if pending:
        open_ = [e for e in pending if today <= e]
        warnings.warn(PendingOutcomeWarning(
            f"{len(pending)} card(s) have no outcome recorded yet: reported as pending, not analysed (never "
            "counted as refusals)" + (f"; {len(open_)} with the reply window still open, the last until "
                                      f"{max(open_).isoformat()}" if open_ else "")
            + (f"; {len(pending) - len(open_)} whose window has closed: record 'no reply' for them"
               if len(open_) < len(pending) else "")), stacklevel=3)
    return others + joined


def _check_outcome(o: Mapping, d: Mapping, sent: date, window: int) -> None:
    """An outcome record agrees with its dispatch record, its dates and the window."""
    for col in ("experiment", "condition", "slot"):
        if o.get(col) != d.get(col):
            raise DataValidationError(f"{_where(o, col)}: {o.get(col)!r} contradicts the card's dispatch record "
                                      f"({d['source_file']} line {d['source_line']}: {d.get(col)!r})")
    recorded = _day(o["t_start"])
    if recorded < sent:
        raise DataValidationError(f"{_where(o, 't_start')}: the outcome is recorded before the card was sent "
                                  f"({sent.isoformat()})")
    if o.get("reply") == "received":
        got = date.fromisoformat(str(o["reply_date"]))
        if got < sent:
            raise DataValidationError(f"{_where(o, 'reply_date')}: {got.isoformat()} is before the card was sent "
                                      f"({sent.isoformat()}, {d['source_file']} line {d['source_line']})")
        days = (got - sent).days
        if o.get("reply_days") != days:
            raise DataValidationError(f"{_where(o, 'reply_days')}: {o.get('reply_days')!r}, but the card was sent "
                                      f"{sent.isoformat()} and the reply received {got.isoformat()} ({days} days)")
        from paradigms.engine.mail import in_window

        if o.get("complied") != int(in_window(sent, got, window)):
            raise DataValidationError(f"{_where(o, 'complied')}: {o.get('complied')!r}, but the reply came after "
                                      f"{days} days and the window is {window} days")
    elif o.get("reply") == "none":
        end = window_closes(sent, window)
        if recorded <= end:
            raise DataValidationError(f"{_where(o, 'reply')}: no reply recorded on {recorded.isoformat()}, while "
                                      f"the card's reply window was open (until {end.isoformat()})")
        if o.get("complied") not in (0, None):
            raise DataValidationError(f"{_where(o, 'complied')}: {o.get('complied')!r} although reply = none")


# --------------------------------------------------------------------------- #
# The loader's hooks (the loader works on a pool of every file's cells, analysis.load.cells.Pool)
# --------------------------------------------------------------------------- #
def _mail_studies(studies) -> list:
    from analysis.declared import declaration, known_studies

    known = known_studies()
    return [s for s in studies if s in known and is_mail(declaration(s))]


def outcome_mask(pool) -> np.ndarray:
    """The pooled rows that are a mailed card's outcome record (they share the id and slot of the
    card's dispatch record, so the loader's unique-id and slot checks leave them to the join).

    Examples
    --------
    >>> class Pool:  # the loader's pool of cells, as far as this function reads it
    ...     import pyarrow as pa
    ...     table = pa.table({"study": ["kunz1976", "kunz1976", "cialdini1975"],
    ...                       "record": ["dispatch", "outcome", ""]})
    ...     n = 3
    ...     def col(self, name):
    ...         return self.table.column(name)
    >>> outcome_mask(Pool()).tolist()
    [False, True, False]
    """
    import pyarrow.compute as pc

    names = pool.table.column_names if getattr(pool, "table", None) is not None else []
    if "record" not in names or "study" not in names:
        return np.zeros(pool.n, bool)
    studies = _mail_studies(pc.unique(pool.col("study")).to_pylist())
    if not studies:
        return np.zeros(pool.n, bool)
    import pyarrow as pa
    is_outcome = pc.equal(pool.col("record"), "outcome").to_numpy(zero_copy_only=False)
    in_mail = pc.is_in(pool.col("study"), value_set=pa.array(studies, pa.string())).to_numpy(zero_copy_only=False)
    return np.asarray(is_outcome, bool) & np.asarray(in_mail, bool)


def join_loaded(data: pd.DataFrame, report: pd.DataFrame, pool, keep: np.ndarray, today: Optional[date] = None):
    """The loaded frame with each mailed card's records joined into one row; pending cards moved to the report.

    ``data`` is the typed frame of the rows kept (``keep`` over the pool's rows, in
    order); the cards' times are read as written (the lab's own day, not UTC) from
    the pool.  Rows of other paradigms are returned unchanged.

    Examples
    --------
    >>> d = pd.DataFrame({"study": ["cialdini1975"], "complied": [1]})
    >>> join_loaded(d, pd.DataFrame(columns=list(_REPORT)), None, np.ones(1, bool))[0].equals(d)
    True
    """
    if "record" not in data.columns or "study" not in data.columns or data.empty:
        return data, report
    studies = _mail_studies([str(s) for s in data["study"].dropna().unique()])
    if not studies:
        return data, report
    rows = data["study"].isin(studies).to_numpy(bool)
    sub = data[rows]
    records = sub.astype(object).where(sub.notna(), None).to_dict("records")
    kept = np.flatnonzero(keep)[rows]
    for col in TIMES:
        if col in pool.table.column_names:
            raw = np.asarray(pool.col(col).to_pylist(), dtype=object)[kept]
            for r, v in zip(records, raw):
                r[col] = v or None
    for r in records:
        check_record(r, _paradigm(str(r["study"])), r["source_file"], int(r["source_line"]), int(r["source_row"]))
    joined = join_records(records, today=today)
    done = [r for r in joined if not r.get("pending")]
    pending = [r for r in joined if r.get("pending")]
    out = pd.DataFrame(done, columns=list(data.columns) + ["outcome_file", "outcome_line"])
    for col in data.columns:
        if col in TIMES or str(data[col].dtype).startswith("datetime64"):
            out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601")
        else:
            try:
                out[col] = out[col].astype(data[col].dtype)
            except (TypeError, ValueError):
                pass
    out["outcome_line"] = pd.array([None if v is None or pd.isna(v) else int(v) for v in out["outcome_line"]],
                                   dtype="Int64")
    data = pd.concat([data[~rows], out], ignore_index=True)
    if pending:
        extra = pd.DataFrame([{"study": r["study"], "experiment": int(r["experiment"]), "condition": r["condition"],
                               "status": PENDING, "reason": r["pending"], "participant_id": r["participant_id"],
                               "source_file": r["source_file"], "source_line": int(r["source_line"])}
                              for r in pending], columns=list(_REPORT))
        report = pd.concat([report, extra], ignore_index=True) if len(report) else extra
        report["experiment"] = pd.to_numeric(report["experiment"]).astype(int)
        report["source_line"] = pd.to_numeric(report["source_line"]).astype(int)
    return data, report
