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
    (:func:`~paradigms.engine.drivers.driver_for`).
    """
    if driver is None:
        from .drivers import driver_for
        driver = driver_for(paradigm)
    exp = paradigm.experiment(experiment)
    while True:
        store.event("show", screen="ready")
        r = io.wait(driver.ready_prompt(paradigm, store))
        store.event("response", screen="ready", value=r.value)
        if r.value == QUIT:
            return "aborted"
        if r.value == END:
            return "completed"
        # a driver may open a record that takes no slot (a mailing log: the outcome of a card sent earlier)
        opener = getattr(driver, "open_record", None)
        try:
            trial = opener(paradigm, exp, r) if opener is not None else None
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
        pid = trial.values["participant_id"]
        while not trial.done:
            prompt = trial.prompt()
            where = {"screen": prompt.key, "step": prompt.step.id if prompt.step is not None else None,
                     "participant_id": pid}
            store.event("show", **where)
            r = io.wait(prompt)
            if r.value == QUIT:
                store.event("response", value=QUIT, **where)
                trial.interrupt(r.t)
                _append(store, trial.row())
                return "aborted"
            # free text goes to the CSV once; the journal keeps its length only
            logged = {"chars": len(str(r.value))} if prompt.kind == "text" else {"value": r.value}
            try:
                trial.respond(r)
            except ValueError as exc:
                store.event("refused", message=str(exc), **where, **logged)
                continue
            if trial.done:
                _append(store, trial.row())
            store.event("response", **where, **logged)


def _append(store, row) -> None:
    """Append a finished trial's row; a trial that ended without a record (``None``: an outcome entry
    taken back before it was recorded) writes nothing."""
    if row is not None:
        store.append(row)
