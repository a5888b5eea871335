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

from typing import Callable, Iterator

from ..base import Paradigm
from .prompts import END, QUIT, SessionIO

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
    """Feed ``trial`` responses until its record is complete (or the session is quit: ``QUIT``)."""
    pid = trial.values["participant_id"]
    while not trial.done:
        prompt = trial.prompt()
        where = {"screen": prompt.key, "step": prompt.step.id if prompt.step is not None else None,
                 "participant_id": pid}
        # free text goes to the CSV once; the journal keeps its length only
        r = screens.ask(prompt, where, journal_response=False)
        if r.value == QUIT:
            if not screens.quit_on_handover:
                store.event("response", value=QUIT, **where)
            trial.interrupt(r.t)
            _append(store, trial.row())
            return QUIT
        logged = {"chars": len(str(r.value))} if prompt.kind == "text" else {"value": r.value}
        try:
            trial.respond(r)
        except ValueError as exc:
            store.event("refused", message=str(exc), **where, **logged)
            continue
        if trial.done:
            _append(store, trial.row())
        store.event("response", **where, **logged)
    return None


class _Screens:
    """Shows prompts through ``io`` and journals them, putting the driver's hand-over screen between a
    participant's screen and an experimenter's wherever the driver says one is due."""

    def __init__(self, store, io: SessionIO, driver):
        self.store, self.io, self.driver = store, io, driver
        self.last = None  # the prompt shown last
        #: the session was quit on a hand-over screen (its response is journalled there)
        self.quit_on_handover = False

    def _handover(self, coming):
        """Show the hand-over screen if one is due before ``coming`` (``None``: the session's end);
        its response, or ``None`` when none was due."""
        prompt = self.driver.handover(self.last, coming)
        if prompt is None:
            return None
        pid = prompt.participant_id
        self.store.event("show", screen="handover", participant_id=pid)
        self.last = prompt
        r = self.io.wait(prompt)
        self.store.event("response", screen="handover", participant_id=pid, value=r.value)
        self.quit_on_handover = r.value == QUIT
        return r

    def ask(self, prompt, where: dict, journal_response: bool = True):
        """``prompt``'s response (after a hand-over screen, if one is due); ``QUIT`` if the session was
        quit on either."""
        r = self._handover(prompt)
        if r is not None and r.value == QUIT:
            return r
        self.store.event("show", **where)
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
