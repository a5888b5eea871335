"""Which logic runs a paradigm's session: chosen by the declared session type, never by a study's name.

A *driver* knows, for one kind of session, the screen between participants,
the per-participant trial, the simulation model with ``--rate``-style
overrides, and the scripted participant of a simulation.  The one session
loop (:mod:`paradigms.engine.loop`) and the commands
(:mod:`paradigms.engine.sessions`) ask :func:`driver_for` for it; a new kind of
session registers its driver with :func:`register_driver`.  Nothing here knows
how a screen is drawn: the presentation side picks its screen class by the same
session type, in one place of its own.

>>> import paradigms
>>> type(driver_for(paradigms.get("regan1971"))).__name__
'LabDriver'
>>> driver_for(paradigms.get("burger1986")).session.speak_first
0.05
"""
from __future__ import annotations

from typing import Mapping, Optional, Protocol

from ..base import FieldSession, Paradigm, SessionType
from ..vocab.lab import LabSession
from ..vocab.mail import MailSession
from . import field, lab
from .mail import MailDriver
from .simulate import ScriptedParticipant

__all__ = ["SessionDriver", "FieldDriver", "LabDriver", "MailDriver", "driver_for", "register_driver"]


class SessionDriver(Protocol):
    """What the session loop and the commands ask of a kind of session; every driver has all of it."""

    def ready_prompt(self, paradigm: Paradigm, store):  # pragma: no cover - protocol
        """The screen between participants."""

    def open_record(self, paradigm: Paradigm, experiment, response):  # pragma: no cover - protocol
        """The trial a ready-screen response opens without taking a slot, or ``None`` (take a slot)."""

    def trial(self, paradigm, experiment, condition, participant_id, slot, t_start):  # pragma: no cover
        """The per-participant trial of a slot."""

    def handover(self, shown, coming):  # pragma: no cover - protocol
        """The hand-over screen due between the prompt ``shown`` and the prompt ``coming`` (``None``:
        the session ends), or ``None`` when the same person reads both."""

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]):  # pragma: no cover
        """The simulation model with ``--rate`` overrides."""

    def scripted_participant(self, paradigm, experiment, model, rng, participants):  # pragma: no cover
        """Who answers a simulation's screens."""

    def simulation_meta(self, paradigm: Paradigm) -> dict:  # pragma: no cover - protocol
        """What a simulation assumes beyond its model, for the sidecar."""


class FieldDriver:
    """One requester's tablet: the script step by step, one tap per answer."""

    def __init__(self, session: FieldSession):
        self.session = session

    def ready_prompt(self, paradigm: Paradigm, store):
        return field.ready_prompt(paradigm, store.session, store.site, store.own_rows())

    def open_record(self, paradigm, experiment, response):
        return None  # every record takes a slot

    def trial(self, paradigm, experiment, condition, participant_id, slot, t_start):
        return field.FieldTrial(paradigm, experiment, condition, participant_id, slot, t_start)

    def handover(self, shown, coming):
        return None  # one person reads every screen

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]):
        model = paradigm.experiment(experiment).model
        return model.with_rates(overrides) if overrides else model

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return ScriptedParticipant(model, rng, participants, self.session.speak_first)

    def simulation_meta(self, paradigm: Paradigm) -> dict:
        """What a simulation assumes beyond its model, for the sidecar."""
        if any(s.cue for e in paradigm.experiments for s in e.steps):
            return {"simulated_speak_first_p": self.session.speak_first}
        return {}


class LabDriver:
    """A lab session: participant and experimenter screens in the order the declared design gives."""

    def __init__(self, session: LabSession):
        self.session = session

    @property
    def design(self):
        return self.session.design

    def ready_prompt(self, paradigm: Paradigm, store):
        return lab.ready_prompt(paradigm, store.session, store.site, store.own_rows())

    def open_record(self, paradigm, experiment, response):
        return None  # every record takes a slot

    def trial(self, paradigm, experiment, condition, participant_id, slot, t_start):
        return lab.LabTrial(paradigm, experiment, self.design, condition, participant_id, slot, t_start)

    def handover(self, shown, coming) -> Optional["lab.LabPrompt"]:
        """The participant's screen is left for the experimenter's (or the session's end): the
        hand-over screen, which the participant may see and the experimenter's key moves on."""
        if shown is None or shown.audience != "participant" or shown.kind == "handover":
            return None
        if coming is not None and coming.audience != "experimenter":
            return None
        return lab.handover_prompt(shown.participant_id)

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]):
        model = paradigm.experiment(experiment).model
        return model.with_means(overrides) if overrides else model

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return lab.LabScriptedParticipant(model, self.design, rng, participants)

    def simulation_meta(self, paradigm: Paradigm) -> dict:
        return {}


_DRIVERS: dict[type, type] = {FieldSession: FieldDriver, LabSession: LabDriver, MailSession: MailDriver}


def register_driver(session_type: type, driver: type) -> None:
    """Run paradigms whose ``session`` is a ``session_type`` with ``driver`` (a class taking the session)."""
    if not (isinstance(session_type, type) and issubclass(session_type, SessionType)):
        raise TypeError(f"{session_type!r} is not a session type (a subclass of paradigms.base.SessionType)")
    _DRIVERS[session_type] = driver


def driver_for(paradigm: Paradigm):
    """The driver of ``paradigm``'s declared session type (the nearest registered base type)."""
    for cls in type(paradigm.session).__mro__:
        if cls in _DRIVERS:
            return _DRIVERS[cls](paradigm.session)
    raise TypeError(f"{paradigm.id}: no session driver for {type(paradigm.session).__name__}")
