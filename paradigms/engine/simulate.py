"""Simulated participants, as jsPsych's simulation mode and oTree's bots do it.

A :class:`ScriptedParticipant` answers each screen the way the paradigm's
simulation model says a passer-by (and a diligent requester) would.  In
*data-only* mode :class:`ScriptedIO` hands those answers straight to the
session logic with simulated times; in *visual* mode the PsychoPy screen
draws every screen and the same answers arrive as synthetic key presses
(``paradigms.screens.field``).  Either way the data pass through
:func:`~paradigms.engine.field.run_field_session` and the same store, so the
files have exactly the schema of a real session.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Optional

from ..base import BinaryModel, Paradigm
from .field import APPROACH, END, EXCLUDE, Prompt, Response

__all__ = ["SimClock", "ScriptedParticipant", "ScriptedIO", "sim_id_factory", "SIM_EPOCH"]

#: Simulated sessions start at this instant, so fixed seeds give fixed files.
SIM_EPOCH = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)


class SimClock:
    """A clock that advances only when told to (simulated seconds)."""

    def __init__(self, start: datetime = SIM_EPOCH):
        self.t = start

    def advance(self, seconds: float) -> str:
        self.t += timedelta(seconds=seconds)
        return self.now()

    def now(self) -> str:
        return self.t.isoformat(timespec="milliseconds")


def sim_id_factory(rng: random.Random):
    """Pseudonymous ids for simulated participants, reproducible from the seed."""
    def new_id() -> str:
        return "sim-" + "".join(rng.choice("0123456789abcdef") for _ in range(8))
    return new_id


class ScriptedParticipant:
    """Chooses the answer on each screen from the simulation model.

    At a target request the passer-by complies with the condition's rate; at a
    first request they agree with ``model.first_agree``; with
    ``model.exclusion_rate`` the requester excludes them at the first screen
    (reason ``knows_requester``).  Every passer-by is debriefed and consents.
    ``think_time`` returns the simulated seconds before each answer.
    """

    def __init__(self, model: BinaryModel, rng: random.Random, participants: int):
        self.model = model
        self.rng = rng
        self.remaining = int(participants)
        self._exclude_next = False

    def think_time(self, prompt: Prompt) -> float:
        if prompt.kind == "step":
            return self.rng.uniform(4.0, 12.0)
        if prompt.kind == "ready":
            return self.rng.uniform(5.0, 30.0)
        return self.rng.uniform(1.0, 5.0)

    def choose(self, prompt: Prompt, condition: Optional[str]) -> str:
        if prompt.kind == "ready":
            if self.remaining <= 0:
                return END
            self.remaining -= 1
            self._exclude_next = self.rng.random() < self.model.exclusion_rate
            self._first_screen = True
            return APPROACH
        if prompt.kind == "exclude":
            return "knows_requester"
        if prompt.kind == "debrief":
            return "debriefed"
        step = prompt.step
        if self._exclude_next and self._first_screen:
            self._exclude_next = False
            return EXCLUDE
        self._first_screen = False
        answers = step.answers
        if step.target:
            p = self.model.rates[condition].p
            want = 1 if self.rng.random() < p else 0
            matching = [a for a in answers if a.sets.get("complied") == want]
            if not matching:
                raise ValueError(f"step {step.id!r} has no answer that sets complied={want}")
            if want == 0:  # not complying means refusing, not volunteering for something else
                matching = [a for a in matching if not a.code.startswith("agree")] or matching
            return matching[0].code
        agree = self.rng.random() < self.model.first_agree
        for a in answers:
            if a.ends == agree:
                return a.code
        return answers[0].code


class ScriptedIO:
    """Data-only simulation: answers go straight to the logic, no window."""

    def __init__(self, participant: ScriptedParticipant, clock: SimClock):
        self.participant = participant
        self.clock = clock

    def wait(self, prompt: Prompt) -> Response:
        code = self.participant.choose(prompt, prompt.condition)
        return Response(code, self.clock.advance(self.participant.think_time(prompt)))


def check_paradigm(paradigm: Paradigm) -> None:
    """Simulation needs a rate for every condition of every experiment."""
    for e in paradigm.experiments:
        missing = [c for c in e.condition_names if c not in e.model.rates]
        if missing:
            raise ValueError(f"{paradigm.id} experiment {e.number}: no simulation rate for {', '.join(missing)}")
