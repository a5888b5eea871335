"""The one session loop: participants one after another, for every kind of session.

For each participant the loop shows the screen between participants (the
driver's ready prompt), takes the next schedule slot, builds the trial of the
slot's condition and feeds it responses until the record is complete, then
appends the row.  The same loop runs a real session on the PsychoPy screen and
a simulated one with a scripted participant, field or lab alike.

The event journal (one JSON object a line) records, with one set of names:
``show`` (a screen was handed out), ``participant`` (a slot was taken for a
new participant), ``response`` (the value given; free text by its length only),
``refused`` (a value the trial did not accept, with the message; the same
screen is shown again), ``record_opened`` (a record that takes no slot: a
mailing log's outcome for a card sent earlier).  The row is on disk before the response that completed
it is journalled, so an answer in the journal always has its row.
"""
from __future__ import annotations

from typing import Callable, Iterator, Optional

from ..base import Paradigm
from .prompts import END, QUIT, SessionIO
from .store import journal_text, journal_value

__all__ = ["run_participants"]


def run_participants(paradigm: Paradigm, experiment: int, store, slots: Iterator, io: SessionIO,
                     new_id: Callable[[], str], driver=None) -> str:
    """Drive one session to its end; returns ``"completed"`` or ``"aborted"``.

    ``slots`` yields schedule slots (``.slot``, ``.condition``); taking one from
    it must be durable (the :class:`~paradigms.engine.schedule.SlotLedger` does
    this).  ``driver`` defaults to the one of the paradigm's session type
    (:func:`~paradigms.engine.drivers.driver_for`).  Whenever the driver puts a
    hand-over screen between two screens (:meth:`~paradigms.engine.drivers.SessionDriver.handover`:
    a participant's screen, then one of the experimenter's), it is shown and
    journalled as the ``handover`` screen, on every path: the end of a record,
    a record cut short, and a quit.
    """
    if driver is None:
        from .drivers import driver_for
        driver = driver_for(paradigm)
    exp = paradigm.experiment(experiment)
    screens = _Screens(store, io, driver)
    while True:
        r = screens.ask(driver.ready_prompt(paradigm, store), {"screen": "ready"})
        if r.value == QUIT:
            return screens.leave("aborted")
        if r.value == END:
            return "completed"
        # a driver may open a record that takes no slot (a mailing log: the outcome of a card sent earlier)
        try:
            trial = driver.open_record(paradigm, exp, r)
        except ValueError as exc:
            store.event("refused", screen="ready", message=str(exc), value=r.value)
            continue
        if trial is None:
            try:
                slot = next(slots)
            except StopIteration:
                return "completed"
            trial = driver.trial(paradigm, exp, exp.condition(slot.condition), new_id(), slot.slot, r.t)
            store.event("participant", slot=slot.slot, condition=slot.condition,
                        participant_id=trial.values["participant_id"])
        else:
            store.event("record_opened", participant_id=trial.values["participant_id"], value=r.value)
        if _run_trial(trial, store, screens) == QUIT:
            return screens.leave("aborted")


def _run_trial(trial, store, screens: "_Screens"):
    """Feed ``trial`` responses until its record is complete (or the session is quit: ``QUIT``).

    Each screen's ``show`` and ``response`` lines share their place (screen, step, participant): it is
    encoded once per screen (the screen and step part once per session) and written with
    :meth:`~paradigms.engine.store.SessionStore.event_text`, the very line ``store.event`` writes.
    A batched store (lines kept in memory until a block is full) gets the ``show`` line, made with its
    time when the screen is shown, together with the ``response`` line; anything journalled between
    them (the row's ``row_written``, a ``refused`` entry, a quit) has the ``show`` line put first."""
    held = "" if getattr(store, "batched", False) else None  # None: each line written as it comes
    if held is not None and screens.unseen and hasattr(trial, "screen"):
        done = _run_unseen(trial, store, screens)
        if done is not False:
            return done
    pid = trial.values["participant_id"]
    pid_text = journal_text(participant_id=pid)
    places = screens.places
    while not trial.done:
        prompt = trial.prompt()
        step = prompt.step
        step = step.id if step is not None else None
        key = prompt.key
        place = places.get((key, step))
        if place is None:
            place = places[(key, step)] = journal_text(screen=key, step=step)
        text = f"{place}, {pid_text}"
        # free text goes to the CSV once; the journal keeps its length only
        r = screens.ask(prompt, None, journal_response=False, text=text, hold=held is not None)
        if held is not None:
            held, r = r
        if r.value == QUIT:
            _put(store, held)
            if not screens.quit_on_handover:
                store.event("response", value=QUIT, screen=key, step=step, participant_id=pid)
            trial.interrupt(r.t)
            _append(store, trial.row())
            return QUIT
        is_text = prompt.kind == "text"
        try:
            trial.respond(r)
        except ValueError as exc:
            _put(store, held)
            logged = {"chars": len(str(r.value))} if is_text else {"value": r.value}
            store.event("refused", message=str(exc), screen=key, step=step, participant_id=pid, **logged)
            continue
        logged_text = f'"chars": {len(str(r.value))}' if is_text else f'"value": {journal_value(r.value)}'
        if trial.done:
            _put(store, held)
            _append(store, trial.row())
            store.event_text("response", f"{text}, {logged_text}")
        elif held is None:
            store.event_text("response", f"{text}, {logged_text}")
        else:
            store.event_text_after(held, "response", f"{text}, {logged_text}")
    return None


def _run_unseen(trial, store, screens: "_Screens"):
    """:func:`_run_trial` for an IO that shows nothing (a data-only simulation) and a batched store: the
    trial's shared screens (:meth:`~paradigms.engine.lab.LabTrial.screen`: no header, pseudonym or
    message, made once per condition) go to the IO's ``answer``, and each one's journal place is kept
    with it.  The lines, row and hand-over screens of :func:`_run_trial`, a screen's ``show`` and
    ``response`` lines made together with one wall-clock time (:meth:`~paradigms.engine.store.SessionStore.screen_lines`:
    a screen nobody sees is answered as it is shown).  ``None`` when the record is complete,
    ``QUIT``, or ``False`` at a refused answer (journalled here; the trial goes on in
    :func:`_run_trial`, which shows the screen again with its message)."""
    pid = trial.values["participant_id"]
    pid_text = journal_text(participant_id=pid)
    answer, due, known = screens.io.answer, screens._due, screens.unseen_places
    last, shared = screens.last, False  # the last screen shown; whether it is a shared one (of this trial)
    try:
        while not trial.done:
            screen = trial.screen()
            if due(last, screen) is not None:  # the hand-over screen is made from the participant's prompt
                screens.last, shared = (trial.fill(last) if shared else last), False
                r = screens._handover(screen)
                last = screens.last
                if r.value == QUIT:
                    return _quit(trial, store, r.t)
            hit = known.get(id(screen))
            if hit is None or hit[0] is not screen:
                hit = known[id(screen)] = (screen, journal_text(screen=screen.key, step=_step_id(screen)),
                                           screen.kind == "text")
            text = f"{hit[1]}, {pid_text}"
            last, shared = screen, True
            try:
                r = answer(screen)
            except BaseException:
                store.event_text("show", text)
                raise
            value = r.value
            if value == QUIT:
                store.event_text("show", text)
                store.event("response", value=QUIT, screen=screen.key, step=_step_id(screen),
                            participant_id=pid)
                return _quit(trial, store, r.t)
            try:
                trial.respond(r)
            except ValueError as exc:
                store.event_text("show", text)
                logged = {"chars": len(str(value))} if hit[2] else {"value": value}
                store.event("refused", message=str(exc), screen=screen.key, step=_step_id(screen),
                            participant_id=pid, **logged)
                return False
            logged = f'"chars": {len(str(value))}' if hit[2] else f'"value": {journal_value(value)}'
            if trial.done:
                store.event_text("show", text)
                _append(store, trial.row())
                store.event_text("response", f"{text}, {logged}")
            else:
                store.screen_lines(text, logged)
    finally:
        screens.last = trial.fill(last) if shared else last
    return None


def _step_id(prompt):
    """The id of ``prompt``'s step (``None`` for a screen of no step), as the journal names it."""
    step = prompt.step
    return step.id if step is not None else None


def _quit(trial, store, t: str):
    """The session was quit at ``t`` on a trial's screen or its hand-over screen: the record is kept,
    cut short; ``QUIT``."""
    trial.interrupt(t)
    _append(store, trial.row())
    return QUIT


def _put(store, held) -> None:
    """A held ``show`` line into the journal (nothing when lines are written as they come)."""
    if held:
        store.put_line(held)


class _Screens:
    """Shows prompts through ``io`` and journals them, putting the driver's hand-over screen between a
    participant's screen and an experimenter's wherever the driver says one is due."""

    def __init__(self, store, io: SessionIO, driver):
        self.store, self.io, self.driver = store, io, driver
        self._due = driver.handover  # (shown, coming) -> the hand-over screen due between them, or None
        self.last = None  # the prompt shown last
        #: (screen key, step id) -> their journal text (:func:`~paradigms.engine.store.journal_text`)
        self.places: dict = {}
        #: the session was quit on a hand-over screen (its response is journalled there)
        self.quit_on_handover = False
        #: ``io`` shows nothing (``io.unseen``): it may be handed a trial's shared screens
        self.unseen = bool(getattr(io, "unseen", False))
        #: id of a shared screen -> (the screen, its journal place, whether it takes free text)
        self.unseen_places: dict = {}

    def _handover(self, coming):
        """Show the hand-over screen if one is due before ``coming`` (``None``: the session's end);
        its response, or ``None`` when none was due."""
        prompt = self._due(self.last, coming)
        if prompt is None:
            return None
        return self._show_handover(prompt)

    def _show_handover(self, prompt):
        """Show the hand-over screen ``prompt``; its response."""
        pid = prompt.participant_id
        self.store.event("show", screen="handover", participant_id=pid)
        self.last = prompt
        r = self.io.wait(prompt)
        self.store.event("response", screen="handover", participant_id=pid, value=r.value)
        self.quit_on_handover = r.value == QUIT
        return r

    def ask(self, prompt, where: Optional[dict], journal_response: bool = True, text: Optional[str] = None,
            hold: bool = False):
        """``prompt``'s response (after a hand-over screen, if one is due); ``QUIT`` if the session was
        quit on either.  ``text``: ``where`` already encoded for the journal (the ``show`` line is written
        from it).  ``hold`` (a batched store, with ``text``): the ``show`` line is made but not written,
        and ``(line, response)`` returned (``""`` for the line when quit on the hand-over screen); should
        the screen raise, the line is written first."""
        due = self._due(self.last, prompt)
        if due is not None:
            r = self._show_handover(due)
            if r.value == QUIT:
                return ("", r) if hold else r
        if hold:
            line = self.store.line("show", text)
            self.last = prompt
            try:
                return line, self.io.wait(prompt)
            except BaseException:
                self.store.put_line(line)
                raise
        if text is None:
            self.store.event("show", **where)
        else:
            self.store.event_text("show", text)
        self.last = prompt
        r = self.io.wait(prompt)
        if journal_response:
            self.store.event("response", value=r.value, **where)
        return r

    def leave(self, status: str) -> str:
        """The session ends: the hand-over screen first if a participant's screen was the last one."""
        self._handover(None)
        return status


def _append(store, row) -> None:
    """Append a finished trial's row; a trial that ended without a record (``None``: an outcome entry
    taken back before it was recorded) writes nothing."""
    if row is not None:
        store.append(row)
