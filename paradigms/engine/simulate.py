"""Simulated participants, as jsPsych's simulation mode and oTree's bots do it.

A :class:`ScriptedParticipant` answers each field screen the way the
paradigm's simulation model says a passer-by (and a diligent requester) would;
:class:`~paradigms.engine.lab.LabScriptedParticipant` does the same for a lab
session.  In *data-only* mode :class:`ScriptedIO` hands those answers straight
to the session logic with simulated times; in *visual* mode the PsychoPy screen
draws every screen and the same answers arrive as synthetic key presses.
Either way the data pass through the one session loop
(:func:`~paradigms.engine.loop.run_participants`) and the same store, so the
files have exactly the schema of a real session.

>>> clock = SimClock()
>>> clock.advance(4.5)
'2026-01-05T10:00:04.500+00:00'
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Optional

from ..base import BinaryModel, DeclarationError
from ..errors import UsageError
from .field import APPROACH, END, EXCLUDE, Prompt
from .prompts import Response, SessionScreen

__all__ = ["SimClock", "ScriptedParticipant", "ScriptedIO", "sim_id_factory", "SIM_EPOCH"]

#: Simulated sessions start at this instant, so fixed seeds give fixed files.
SIM_EPOCH = datetime(2026, 1, 5, 10, 0, 0, tzinfo=timezone.utc)


class SimClock:
    """A clock that advances only when told to (simulated seconds).

    ``t`` is the time (a datetime); the text is ``t.isoformat(timespec="milliseconds")``.  With a fixed
    UTC offset (or none) the clock keeps the microseconds since ``start``'s hour as a whole number
    (each advance the exact ``timedelta(seconds=...)`` of it) and makes the text's part up to the
    hour once an hour; minutes, seconds and milliseconds come from tables.
    """

    _US = timedelta(microseconds=1)

    def __init__(self, start: datetime = SIM_EPOCH):
        self._start = start
        self._t = start
        self._offset = (start.minute * 60 + start.second) * 1_000_000 + start.microsecond
        #: microseconds since start's hour; None: a zone whose offset may change (isoformat every time)
        self._us = self._offset if start.tzinfo is None or isinstance(start.tzinfo, timezone) else None
        self._hour = -1  # the hour (counted from start's) the text's head is for
        self._head = self._tail = ""

    @property
    def t(self) -> datetime:
        if self._us is not None:
            return self._start + (self._us - self._offset) * self._US
        return self._t

    def advance(self, seconds: float) -> str:
        us = self._us
        if us is None:
            self._t += timedelta(seconds=seconds)
            return self._t.isoformat(timespec="milliseconds")
        if type(seconds) is float and 0.0 <= seconds < 1e9:
            # timedelta(seconds=s) // 1 µs, as CPython's timedelta makes it: the whole seconds, then the
            # fraction (exact) times 1e6 rounded half to even (the whole part's parity is that of its
            # micro-seconds, 1e6 being even); test_simclock_whole_microseconds checks it on many floats
            whole = int(seconds)
            us += whole * 1_000_000 + round((seconds - whole) * 1e6)
        else:
            us += timedelta(seconds=seconds) // self._US
        self._us = us
        hour, us = divmod(us, 3_600_000_000)
        if hour != self._hour:
            return self.now()
        minute, us = divmod(us, 60_000_000)
        second, us = divmod(us, 1_000_000)
        return self._head + _MINUTES[minute] + _SECONDS[second] + _MILLISECONDS[us // 1000] + self._tail

    def now(self) -> str:
        if self._us is None:
            return self._t.isoformat(timespec="milliseconds")
        hour, us = divmod(self._us, 3_600_000_000)
        if hour != self._hour:
            text = self.t.isoformat(timespec="milliseconds")  # "2026-01-05T10:00:04.500+00:00"
            self._head, self._tail, self._hour = text[:14], text[23:], hour
        minute, us = divmod(us, 60_000_000)
        second, us = divmod(us, 1_000_000)
        return self._head + _MINUTES[minute] + _SECONDS[second] + _MILLISECONDS[us // 1000] + self._tail


_MINUTES = tuple(f"{m:02d}:" for m in range(60))
_SECONDS = tuple(f"{s:02d}" for s in range(60))
_MILLISECONDS = tuple(f".{ms:03d}" for ms in range(1000))


_HEX, _EIGHT = "0123456789abcdef", range(8)


def sim_id_factory(rng: random.Random):
    """Pseudonymous ids for simulated participants, reproducible from the seed."""
    choice = rng.choice

    def new_id() -> str:
        return "sim-" + "".join([choice(_HEX) for _ in _EIGHT])  # eight rng.choice draws, as ever
    return new_id


class ScriptedParticipant:
    """Chooses the answer on each field screen from the simulation model.

    At a target request the passer-by complies with the condition's rate; at a
    first request they agree with ``model.first_agree``; with
    ``model.exclusion_rate`` the requester excludes them at the first screen
    (reason ``knows_requester``).  Every passer-by is debriefed and consents.
    ``think_time`` returns the simulated seconds before each answer.

    At a step with a timed cue (the that's-not-all opening offer) the person
    speaks before the cue with probability ``speak_first``: the requester then
    records the answer that sets ``protocol_deviation``, and the simulated tap
    comes *before* the cue time; otherwise the requester acts in time, after
    the cue.  What follows the cue step follows the condition's rate whatever
    happened at the cue (no source says whether a late interruption changes
    buying).
    """

    def __init__(self, model: BinaryModel, rng: random.Random, participants: int, speak_first: float = 0.0):
        if not 0.0 <= float(speak_first) <= 1.0:
            raise UsageError(f"speak_first {speak_first!r} is outside [0, 1]")
        self.model = model
        self.rng = rng
        self.remaining = int(participants)
        self.speak_first = float(speak_first)
        self._exclude_next = False
        self._first_screen = False
        self._early: Optional[bool] = None  # chosen at a cue step, until its think time is drawn

    def think_time(self, prompt: Prompt) -> float:
        step = prompt.step
        if prompt.kind == "step" and step is not None and step.cue and self._early is not None:
            early, self._early = self._early, None
            if early:
                return self.rng.uniform(0.3, 0.9) * step.cue_after
            return step.cue_after + self.rng.uniform(0.3, 1.5)
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
        if step.cue:
            return self._at_cue(step)
        answers = step.answers
        if step.target:
            p = self.model.rates[condition].p
            want = 1 if self.rng.random() < p else 0
            matching = [a for a in answers if a.sets.get("complied") == want]
            if not matching:
                raise DeclarationError(f"step {step.id!r} has no answer that sets complied={want}")
            if want == 0:  # not complying means refusing, not volunteering for something else
                matching = [a for a in matching if not a.code.startswith("agree")] or matching
            return matching[0].code
        agree = self.rng.random() < self.model.first_agree
        for a in answers:
            if a.ends == agree:
                return a.code
        return answers[0].code

    def _at_cue(self, step) -> str:
        self._early = self.rng.random() < self.speak_first
        flagged = [a for a in step.answers if "protocol_deviation" in a.sets]
        in_time = [a for a in step.answers if "protocol_deviation" not in a.sets]
        if not flagged or not in_time:
            raise DeclarationError(f"step {step.id!r} needs an in-time answer and one that sets protocol_deviation")
        return (flagged if self._early else in_time)[0].code


class ScriptedIO(SessionScreen):
    """Data-only simulation: a scripted participant's answers go straight to the logic, no window.

    The same class serves every kind of session: ``participant`` has
    ``choose(prompt, condition)`` and ``think_time(prompt)``.  A participant
    that gives a refused answer sees the same screen again (with the message,
    where the screen has one), as a person would; one that gives refused
    answers :data:`MAX_REFUSED` times in a row on one screen is a bug in the
    script, and stops the simulation with the screen named.
    """

    #: refused answers in a row on one screen before a scripted participant is taken to be stuck
    MAX_REFUSED = 50
    #: it shows nothing: the session loop may hand :meth:`answer` a trial's shared screens (no header)
    unseen = True

    def __init__(self, participant, clock: SimClock):
        self.participant = participant
        self.clock = clock
        self._last = None
        self._repeats = 0

    def wait(self, prompt) -> Response:
        last = self._last
        self._last = prompt
        if prompt is last or (type(prompt) is type(last) and prompt == last):
            self._repeats += 1
            if self._repeats >= self.MAX_REFUSED:
                raise RuntimeError(f"the scripted participant answered the {prompt.kind} screen "
                                   f"{self.MAX_REFUSED} times without an answer it accepts")
        else:
            self._repeats = 0
        participant = self.participant  # answer()'s work, without the call (every screen of a field study)
        return Response(participant.choose(prompt, prompt.condition),
                        self.clock.advance(participant.think_time(prompt)))

    def answer(self, prompt) -> Response:
        """The answer to ``prompt`` and its time, the screen not counted as a repeat (:meth:`wait` counts
        it): the session loop's path for an IO that shows nothing asks this of a screen that is new."""
        participant = self.participant
        # the answer first, then its think time: the order of the draws
        return Response(participant.choose(prompt, prompt.condition),
                        self.clock.advance(participant.think_time(prompt)))
