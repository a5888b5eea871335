"""Mail-session logic: the mailing log, its records and its scripted technician; no PsychoPy.

A mail session (:class:`~paradigms.vocab.mail.MailSession`) has no live
participant.  The technician's *mailing log* screen lists the cards that are
out (sent, outcome not yet recorded) and offers:

* **Send the next card** -- the session loop takes the next schedule slot, and
  :class:`DispatchTrial` shows the card to write (the condition's card text) and
  the recipient's pseudonymous id, to be noted beside the address on the lab's
  own list (addresses never enter the toolkit).  *Sent* appends the card's
  **dispatch record**.
* **Reply received / No reply / Returned** for the card picked on the log --
  :meth:`MailDriver.open_record` opens an :class:`OutcomeTrial` for it, which
  asks the date a reply was received and whether the debriefing letter was
  posted, and appends the card's **outcome record**.

Both records are rows of the session files, appended and fsynced by the store
like any other row, and never rewritten; the outcome comes days or weeks after
the dispatch, in a later session.  The :class:`MailLog` is read from the data
folder's session files when a session starts and kept up to date as records
are written.  What the log refuses (a one-line message on the log screen, the
journal's ``refused`` event, nothing written): an outcome for a card never sent,
a second outcome for a card, *No reply* while the card's reply window is still
open, a reply dated before its card was sent or after today.

>>> closes(date(2026, 1, 5), 56)
datetime.date(2026, 3, 2)
"""
from __future__ import annotations

import csv
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Mapping, Optional

from ..base import Condition, DeclarationError, Experiment, Paradigm
from ..errors import UsageError
from ..vocab.mail import DISPATCH, OUTCOME, MailSession
from .field import APPROACH, opening_record
from .prompts import END, Choice, Response, find_choice
from .store import STORE_COLUMNS, session_sort_key

__all__ = ["MailPrompt", "CardLine", "Card", "MailLog", "DispatchTrial", "OutcomeTrial", "MailDriver",
           "MailScriptedTechnician", "closes", "in_window", "parse_day", "REPLY", "NO_REPLY", "RETURNED", "CARD_STEP"]

#: The id of the one step every condition of a mail paradigm has: the card.
CARD_STEP = "card"
#: Actions on a card picked on the mailing log (the log's response is ``"<action>:<participant_id>"``).
REPLY, NO_REPLY, RETURNED = "received", "none", "returned"
_ACTIONS = {REPLY: "reply received", NO_REPLY: "no reply", RETURNED: "returned undelivered"}
BACK = "back"
POSTED, NOT_POSTED = "posted", "not_posted"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def closes(sent: date, window_days: int) -> date:
    """The last day of a card's reply window (the day sent plus ``window_days``): the one reply-window
    rule, used by the mailing log and by the analysis (:mod:`analysis.load.mail`)."""
    return sent + timedelta(days=int(window_days))


def in_window(sent: date, day: date, window_days: int) -> bool:
    """Whether a reply received on ``day`` came within the window of a card sent on ``sent``
    (``complied`` = 1): on or before :func:`closes`.

    >>> in_window(date(2026, 1, 5), date(2026, 3, 2), 56), in_window(date(2026, 1, 5), date(2026, 3, 3), 56)
    (True, False)
    """
    return day <= closes(sent, window_days)


def parse_day(text: str) -> date:
    """A date typed as ``YYYY-MM-DD``; a one-line :class:`UsageError` otherwise.

    >>> parse_day("2026-01-20")
    datetime.date(2026, 1, 20)
    >>> parse_day("20.1.2026")
    Traceback (most recent call last):
    ...
    paradigms.errors.UsageError: '20.1.2026' is not a date: type it as YYYY-MM-DD, e.g. 2026-01-20
    """
    text = str(text).strip()
    try:
        if not _DAY.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date: type it as YYYY-MM-DD, e.g. 2026-01-20") from None


def _day_of(t: str) -> date:
    """The lab's calendar day of an ISO time (the date as written, in its own UTC offset)."""
    return datetime.fromisoformat(str(t)).date()


# --------------------------------------------------------------------------- #
# Prompts
# --------------------------------------------------------------------------- #
class OpenCards(Sequence):
    """The cards that are out, as the log screen lists them (:meth:`MailLog.open_cards`), made when
    first read: a data-only simulation never reads them, so its log screen costs nothing per card.
    The listing is the log as it was when the view was made, even if read later.  ``is_open(pid)``
    asks the log itself (now).  Two views of one log at one version are equal unread."""

    def __init__(self, log: "MailLog", today: Optional[date]):
        self._log, self._today, self._version = log, today, log.version
        self._n = log.n_open()
        self._lines: Optional[tuple] = None

    def _read(self) -> tuple:
        if self._lines is None:
            self._lines = self._log.open_cards(self._today, self._version)
        return self._lines

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        return self._read()[i]

    def __iter__(self):
        return iter(self._read())

    def is_open(self, pid: str) -> bool:
        return self._log.is_open(pid)

    def __eq__(self, other) -> bool:
        if isinstance(other, OpenCards) and other._log is self._log and other._version == self._version \
                and other._today == self._today:
            return True
        return tuple(self) == tuple(other) if isinstance(other, (OpenCards, tuple)) else NotImplemented

    def __hash__(self) -> int:
        return hash((id(self._log), self._version, self._today))

    def __repr__(self) -> str:
        return f"OpenCards({self._n} cards out)"


@dataclass(frozen=True)
class CardLine:
    """One card that is out, as the mailing log lists it."""

    participant_id: str
    slot: Optional[int]
    condition: str
    sent: str  # YYYY-MM-DD
    window_closes: str  # YYYY-MM-DD
    window_open: bool

    def __str__(self) -> str:
        state = f"window open until {self.window_closes}" if self.window_open else \
            f"window closed {self.window_closes}"
        return f"card {self.slot}  {self.participant_id}  {self.condition}  sent {self.sent}  {state}"


@dataclass(frozen=True)
class MailPrompt:
    """One screen of the mailing log: ``ready`` (the log), ``card`` (write and post the card),
    ``date`` (the date a reply was received, typed), ``letter`` (the debriefing letter),
    ``confirm`` (a returned card)."""

    kind: str
    title: str
    text: str
    note: str
    choices: tuple[Choice, ...]
    header: str = ""
    step: object = None
    condition: Optional[str] = None
    #: the log screen: the cards that are out, by slot
    cards: tuple[CardLine, ...] = ()
    #: why the last entry on this screen was refused ('' for none)
    error: str = ""
    #: the card this screen is about (a dispatch or an outcome)
    participant_id: Optional[str] = None

    @property
    def key(self) -> str:
        return self.kind

    def choice(self, code: str) -> Choice:
        return find_choice(self.choices, code, self.kind)


READY_CHOICES = (
    Choice(APPROACH, "Send the next card [S]", "s", "positive"),
    Choice(REPLY, "Reply received [R]", "r", "positive"),
    Choice(NO_REPLY, "No reply [N]", "n", "negative"),
    Choice(RETURNED, "Returned [U]", "u", "neutral"),
    Choice(END, "End session [Q]", "q", "neutral"),
)
LETTER_CHOICES = (
    Choice(POSTED, "Letter posted [D]", "d", "positive"),
    Choice(NOT_POSTED, "Not posted [P]", "p", "neutral"),
    Choice(BACK, "Back, record nothing [B]", "b", "neutral"),
)
CONFIRM_CHOICES = (
    Choice("confirm", "Record it [C]", "c", "positive"),
    Choice(BACK, "Back, record nothing [B]", "b", "neutral"),
)


# --------------------------------------------------------------------------- #
# The mailing log
# --------------------------------------------------------------------------- #
@dataclass
class Card:
    """A card whose dispatch record is on disk, and its outcome record once there is one."""

    participant_id: str
    slot: Optional[int]
    condition: str
    factors: dict
    sent: date
    sent_at: str
    posted: bool
    where: str
    outcome: Optional[dict] = None
    outcome_where: str = ""


class MailLog:
    """Every card of one paradigm and experiment in a data folder: sent, and what came of it."""

    def __init__(self, paradigm: Paradigm, experiment: int, window_days: int):
        self.paradigm = paradigm
        self.experiment = int(experiment)
        self.window_days = int(window_days)
        self.cards: dict[str, Card] = {}
        # kept as records arrive, so the log screen costs nothing per card (100,000 cards of a
        # data-only simulation): the cards out, the reply-window ends of those, the counts
        self._open: dict[str, Card] = {}
        self._ends: dict[date, int] = {}
        self.n_posted = 0
        self.n_done = 0
        self.version = 0
        # the version at which each card went out and came back, so a listing made for an earlier
        # version (a screen read late) shows the cards out at that version
        self._out_at: dict[str, int] = {}
        self._back_at: dict[str, int] = {}

    @classmethod
    def load(cls, root, paradigm: Paradigm, experiment: int, window_days: int) -> "MailLog":
        """The log as the folder's session files have it (a one-line error for a record that cannot be)."""
        log = cls(paradigm, experiment, window_days)
        pattern = f"study-{paradigm.id}_exp-{int(experiment)}_*_data.csv"
        for path in sorted(Path(root).glob(pattern), key=session_sort_key):
            with open(path, encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                for row in reader:
                    log.add(row, f"{path.name} line {reader.line_num}")
        return log

    def add(self, row: Mapping, where: str) -> None:
        """Take one record (a row as written, or as the CSV gives it back)."""
        pid = str(row.get("participant_id") or "")
        kind = row.get("record")
        if kind == DISPATCH:
            if pid in self.cards:
                raise UsageError(f"{where}: card {pid!r} has a second dispatch record (the first is in "
                                 f"{self.cards[pid].where})")
            t = str(row.get(f"t_{CARD_STEP}") or row.get("t_end") or row.get("t_start"))
            slot = row.get("slot")
            self.cards[pid] = Card(
                pid, int(slot) if slot not in (None, "") else None, str(row.get("condition")),
                {f: row.get(f) for f in self.paradigm.experiment(self.experiment).factors},
                _day_of(t), t, row.get(f"{CARD_STEP}_answer") == "sent" and str(row.get("excluded")) != "1", where)
            card = self.cards[pid]
            self.version += 1
            if card.posted:
                self.n_posted += 1
                self._open[pid] = card
                self._out_at[pid] = self.version
                end = closes(card.sent, self.window_days)
                self._ends[end] = self._ends.get(end, 0) + 1
        elif kind == OUTCOME:
            card = self.cards.get(pid)
            if card is None:
                raise UsageError(f"{where}: an outcome record for card {pid!r}, which has no dispatch record "
                                 "(in this folder, before it)")
            if card.outcome is not None:
                raise UsageError(f"{where}: a second outcome record for card {pid!r} (the first is in "
                                 f"{card.outcome_where})")
            card.outcome, card.outcome_where = dict(row), where
            self.n_done += 1
            self.version += 1
            if self._open.pop(pid, None) is not None:
                self._back_at[pid] = self.version
                end = closes(card.sent, self.window_days)
                self._ends[end] -= 1
                if not self._ends[end]:
                    del self._ends[end]

    def open_cards(self, today: Optional[date] = None, version: Optional[int] = None) -> tuple[CardLine, ...]:
        """Cards posted and still without an outcome record, by slot (as they were at ``version``
        of the log, if given: a screen's listing read after the log moved on)."""
        out = []
        if version is None or version == self.version:
            cards = self._open.values()
        else:
            cards = [c for pid, c in self.cards.items() if self._out_at.get(pid, version + 1) <= version
                     and self._back_at.get(pid, version + 1) > version]
        for c in cards:
            if c.posted:
                end = closes(c.sent, self.window_days)
                out.append(CardLine(c.participant_id, c.slot, c.condition, c.sent.isoformat(), end.isoformat(),
                                    today is None or today <= end))
        return tuple(sorted(out, key=lambda c: (c.slot is None, c.slot or 0, c.participant_id)))

    def n_open(self) -> int:
        """How many cards are out (posted, no outcome yet)."""
        return len(self._open)

    def is_open(self, pid: str) -> bool:
        return pid in self._open

    def n_closed(self, today: Optional[date]) -> int:
        """How many cards out have their reply window closed on ``today`` (none when today is unknown)."""
        if today is None:
            return 0
        return sum(k for end, k in self._ends.items() if today > end)

    def card_for_outcome(self, pid: str, action: str, today: date) -> Card:
        """The card an outcome is about; a one-line :class:`UsageError` if it cannot have one now."""
        card = self.cards.get(pid)
        what = _ACTIONS.get(action, action)
        if card is None:
            raise UsageError(f"{what}: card {pid!r} was never sent (no dispatch record in this data folder); "
                             "an outcome is recorded only for a card sent")
        name = f"card {card.slot} ({pid})"
        if not card.posted:
            raise UsageError(f"{what}: {name} was not posted (its dispatch record says so); it has no outcome")
        if card.outcome is not None:
            o = card.outcome
            raise UsageError(f"{what}: {name} has its outcome already ({o.get('reply')}"
                             + (f", received {o.get('reply_date')}" if o.get("reply_date") else "")
                             + f"; {card.outcome_where}): a second outcome is refused, nothing written")
        end = closes(card.sent, self.window_days)
        if action == NO_REPLY and today <= end:
            raise UsageError(f"no reply: the reply window of {name} is open until {end.isoformat()} "
                             f"(sent {card.sent.isoformat()}, {self.window_days} days): record 'no reply' after "
                             "that day")
        return card


# --------------------------------------------------------------------------- #
# The two records of a card
# --------------------------------------------------------------------------- #
def _card_step(condition: Condition):
    if len(condition.steps) != 1 or condition.steps[0].id != CARD_STEP:
        raise DeclarationError(f"condition {condition.name!r}: a mail condition has one step, the card "
                               f"(Step id {CARD_STEP!r})")
    step = condition.steps[0]
    if "sent" not in {a.code for a in step.answers}:
        raise DeclarationError(f"condition {condition.name!r}: the card step needs an answer 'sent'")
    return step


def _row(paradigm: Paradigm, experiment: Experiment, values: Mapping) -> dict:
    return {c: values.get(c) for c in paradigm.columns(experiment.number) if c not in STORE_COLUMNS}


class DispatchTrial:
    """Card k of the schedule: write it, note its id on the lab's address list, post it."""

    def __init__(self, paradigm: Paradigm, experiment: Experiment, condition: Condition, participant_id: str,
                 slot: Optional[int], t_start: str, log: MailLog):
        self.paradigm, self.experiment, self.condition, self.log = paradigm, experiment, condition, log
        self.step = _card_step(condition)
        self.values = opening_record(condition, participant_id, slot, t_start)
        self.values["record"] = DISPATCH
        self.done = False

    def prompt(self) -> MailPrompt:
        pid, slot = self.values["participant_id"], self.values["slot"]
        choices = tuple(Choice(a.code, a.label, a.key, a.tone or ("positive" if a.code == "sent" else "neutral"))
                        for a in self.step.answers)
        note = (f"Write the card exactly as above. Note the id {pid} beside the recipient's address on the lab's "
                "own list (never in the toolkit), post the card, then record it." + (
                    f" {self.step.note}" if self.step.note else ""))
        return MailPrompt("card", f"Card {slot}: write it and post it", self.step.say, note, choices,
                          f"Card {slot}  |  {pid}  |  {self.condition.name.replace('_', ' ')}", self.step,
                          self.condition.name, participant_id=pid)

    def respond(self, response: Response) -> None:
        code = self.prompt().choice(response.value).code
        answer = self.step.answer(code)
        self.values[self.step.answer_column] = answer.code
        self.values[self.step.time_column] = response.t
        self.values.update(answer.sets)
        self.values["t_end"] = response.t
        self.done = True
        self.log.add(self.row(), "this session")

    def interrupt(self, t: str) -> None:
        """The session was quit before the card was recorded: kept, excluded, and never open."""
        self.values.update(excluded=1, exclusion_reason="session_quit", t_end=t)
        self.done = True
        self.log.add(self.row(), "this session")

    def row(self) -> dict:
        return _row(self.paradigm, self.experiment, self.values)


class OutcomeTrial:
    """What came of a card sent earlier: the reply's date, or none, or returned; then the letter.

    Back on its first screen (or an empty date) records nothing: :meth:`row` is
    then ``None`` and the loop writes no row.
    """

    def __init__(self, paradigm: Paradigm, experiment: Experiment, card: Card, action: str, t_start: str,
                 log: MailLog, window_days: int):
        self.paradigm, self.experiment, self.card, self.action, self.log = paradigm, experiment, card, action, log
        self.window_days = int(window_days)
        self.values: dict = {"participant_id": card.participant_id, "slot": card.slot, "condition": card.condition,
                             **card.factors, "record": OUTCOME, "reply": action, "excluded": 0,
                             "exclusion_reason": None, "debriefed": 0, "data_consent": None, "t_start": t_start}
        self._state = {REPLY: "date", NO_REPLY: "letter", RETURNED: "confirm"}[action]
        self._error = ""
        self._cancelled = False
        if action == NO_REPLY:
            self.values["complied"] = 0

    @property
    def done(self) -> bool:
        return self._state == "done"

    def _name(self) -> str:
        c = self.card
        return f"card {c.slot} ({c.participant_id}, {c.condition.replace('_', ' ')}, sent {c.sent.isoformat()})"

    def prompt(self) -> MailPrompt:
        c = self.card
        header = f"Card {c.slot}  |  {c.participant_id}  |  {_ACTIONS[self.action]}"
        common = dict(header=header, condition=c.condition, error=self._error, participant_id=c.participant_id)
        if self._state == "date":
            return MailPrompt("date", "Reply received: on which day?",
                              f"The date the reply to {self._name()} arrived at the lab, as YYYY-MM-DD.",
                              f"The reply window closes {closes(c.sent, self.window_days).isoformat()}; a later "
                              "reply is recorded and coded late. Enter an empty line to go back without recording.",
                              (), **common)
        if self._state == "letter":
            what = (f"reply received {self.values['reply_date']}" if self.action == REPLY else
                    f"no reply within the window (closed {closes(c.sent, self.window_days).isoformat()})")
            return MailPrompt("letter", "Debriefing letter", f"{self._name()}: {what}.",
                              "Post the debriefing letter (the protocol's text) to the address on the lab's list, "
                              "then record it.", LETTER_CHOICES, **common)
        if self._state == "confirm":
            return MailPrompt("confirm", "Returned undelivered",
                              f"{self._name()} came back from the post office, undelivered.",
                              "The card is recorded as excluded (returned); no letter can be posted.",
                              CONFIRM_CHOICES, **common)
        raise RuntimeError("the card's outcome is recorded")

    def respond(self, response: Response) -> None:
        today = _day_of(response.t)
        if self._state == "date":
            text = str(response.value).strip()
            if not text:
                self._cancel(response.t)
                return
            try:
                day = parse_day(text)
                if day < self.card.sent:
                    raise UsageError(f"the reply is dated {day.isoformat()}, before {self._name()} was sent")
                if day > today:
                    raise UsageError(f"{day.isoformat()} is after today ({today.isoformat()}): type the day the "
                                     "reply arrived")
            except UsageError as exc:
                self._error = str(exc)
                raise
            days = (day - self.card.sent).days
            self.values.update(reply_date=day.isoformat(), reply_days=days,
                               complied=int(in_window(self.card.sent, day, self.window_days)))
            self._error = ""
            self._state = "letter"
            return
        code = self.prompt().choice(response.value).code
        if code == BACK:
            self._cancel(response.t)
            return
        if self._state == "letter":
            self.values["debriefed"] = int(code == POSTED)
        else:  # confirm: returned undelivered
            self.values.update(excluded=1, exclusion_reason="returned", complied=None)
        self.values["t_end"] = response.t
        self._state = "done"
        self.log.add(self.row(), "this session")

    def _cancel(self, t: str) -> None:
        self._cancelled = True
        self.values["t_end"] = t
        self._state = "done"

    def interrupt(self, t: str) -> None:
        """The session was quit before the outcome was recorded: nothing is written."""
        self._cancel(t)

    def row(self) -> Optional[dict]:
        if self._cancelled:
            return None
        return _row(self.paradigm, self.experiment, self.values)


# --------------------------------------------------------------------------- #
# The driver
# --------------------------------------------------------------------------- #
class MailDriver:
    """The mailing log: a dispatch record per card sent, an outcome record per card later."""

    def __init__(self, session: MailSession):
        self.session = session
        self.log: Optional[MailLog] = None
        self._error = ""
        self._today: Optional[date] = None

    def _log(self, paradigm: Paradigm, store) -> MailLog:
        if self.log is None:
            self.log = MailLog.load(store.root, paradigm, store.experiment, self.session.window_days)
        return self.log

    def ready_prompt(self, paradigm: Paradigm, store) -> MailPrompt:
        log = self._log(paradigm, store)
        cards = OpenCards(log, self._today)   # listed when the screen draws them (never in a data-only run)
        sent, done, closed = log.n_posted, log.n_done, log.n_closed(self._today)
        text = (f"{sent} cards posted, {done} with their outcome recorded, {len(cards)} out"
                + (f" ({closed} with the reply window closed: record 'no reply' for those without one)"
                   if closed else "") + ".")
        note = ("Pick a card with the arrow keys, then Reply received, No reply or Returned; or send the next "
                "card of the schedule.")
        return MailPrompt("ready", "MAILING LOG", text, note, READY_CHOICES,
                          f"Session {store.session}  |  site {store.site}  |  {store.rows_written()} records",
                          cards=cards, error=self._error)

    def trial(self, paradigm, experiment, condition, participant_id, slot, t_start):
        self._error = ""
        return DispatchTrial(paradigm, experiment, condition, participant_id, slot, t_start, self.log)

    def open_record(self, paradigm: Paradigm, experiment: Experiment, response: Response):
        """The outcome trial a log response opens (``"received:<id>"`` ...); ``None`` for *send the
        next card* (the loop takes a slot); a :class:`UsageError` the log screen shows otherwise."""
        value = str(response.value)
        self._today = _day_of(response.t)
        if value == APPROACH:
            return None
        action, sep, pid = value.partition(":")
        try:
            if action not in _ACTIONS:
                raise UsageError(f"{value!r} is not an action of the mailing log")
            if not (sep and pid):
                raise UsageError(f"{_ACTIONS[action]}: pick the card first (arrow keys on the log)")
            card = self.log.card_for_outcome(pid, action, self._today)
        except UsageError as exc:
            self._error = str(exc)
            raise
        self._error = ""
        return OutcomeTrial(paradigm, experiment, card, action, response.t, self.log, self.session.window_days)

    def handover(self, shown, coming):
        return None  # the technician reads every screen

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]):
        model = paradigm.experiment(experiment).model
        return model.with_rates(overrides) if overrides else model

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return MailScriptedTechnician(model, self.session, rng, participants)

    def simulation_meta(self, paradigm: Paradigm) -> dict:
        return {"simulated_reply_days": list(self.session.reply_days),
                "reply_window_days": self.session.window_days}


# --------------------------------------------------------------------------- #
# The scripted technician of a simulation
# --------------------------------------------------------------------------- #
@dataclass
class _Fate:
    due: datetime
    action: str
    day: Optional[date] = None


class MailScriptedTechnician:
    """Sends every card of the simulation, then records each outcome when it is due.

    A card's fate is drawn when it is sent: a reply with the condition's rate
    (arriving uniformly ``session.reply_days`` days later), the card returned
    with ``model.exclusion_rate``, otherwise no reply (recorded the day after the
    window closes).  Between outcomes the technician waits (simulated time) until
    the next is due; every debriefing letter is posted.  The clock of a data-only
    simulation starts at :data:`~paradigms.engine.simulate.SIM_EPOCH` and moves
    only by the waits returned here, so the technician keeps its own time.
    """

    def __init__(self, model, session: MailSession, rng, participants: int, start: Optional[datetime] = None):
        from .simulate import SIM_EPOCH
        self.model, self.session, self.rng = model, session, rng
        self.remaining = int(participants)
        self.now = start or SIM_EPOCH
        self.fates: dict[str, _Fate] = {}
        self._due: list = []   # heap of (due, participant_id): the next outcome to record is on top
        self._wait = 0.0
        self._date: Optional[str] = None

    def choose(self, prompt: MailPrompt, condition: Optional[str]) -> str:
        self._wait = self.rng.uniform(2.0, 8.0)
        if prompt.kind == "ready":
            if self.remaining > 0:
                self.remaining -= 1
                self._wait = self.rng.uniform(20.0, 90.0)
                return APPROACH
            # the card out with the earliest due outcome (then the smallest id): the top of the heap,
            # once the cards whose outcome is recorded (and fates drawn again) are dropped from it
            is_open = getattr(prompt.cards, "is_open", None)
            if is_open is None:
                is_open = {c.participant_id for c in prompt.cards}.__contains__
            while self._due and (not is_open(self._due[0][1]) or self.fates[self._due[0][1]].due != self._due[0][0]):
                heapq.heappop(self._due)
            if not self._due:
                return END
            pid = self._due[0][1]
            fate = self.fates[pid]
            self._wait = max((fate.due - self.now).total_seconds(), 0.0) + self.rng.uniform(5.0, 60.0)
            self._date = fate.day.isoformat() if fate.day else None
            return f"{fate.action}:{pid}"
        if prompt.kind == "card":
            self._draw(prompt)
            return "sent"
        if prompt.kind == "date":
            return self._date
        if prompt.kind == "letter":
            return POSTED
        return "confirm"

    def _draw(self, prompt: MailPrompt) -> None:
        sent = self.now + timedelta(seconds=self._wait)
        sent_day = sent.date()
        if self.rng.random() < self.model.exclusion_rate:
            day = sent_day + timedelta(days=self.rng.randint(3, 10))
            fate = _Fate(_morning(day), RETURNED)
        elif self.rng.random() < self.model.rates[prompt.condition].p:
            lo, hi = self.session.reply_days
            day = sent_day + timedelta(days=self.rng.randint(lo, hi))
            fate = _Fate(_morning(day), REPLY, day)
        else:
            fate = _Fate(_morning(closes(sent_day, self.session.window_days) + timedelta(days=1)), NO_REPLY)
        self.fates[prompt.participant_id] = fate
        heapq.heappush(self._due, (fate.due, prompt.participant_id))

    def think_time(self, prompt: MailPrompt) -> float:
        wait, self._wait = self._wait, 0.0
        self.now += timedelta(seconds=wait)
        return wait


def _morning(day: date) -> datetime:
    from .simulate import SIM_EPOCH
    return datetime.combine(day, SIM_EPOCH.timetz())
