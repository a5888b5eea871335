"""Field-mode session logic: the requester's screens as data, no PsychoPy.

A field session is a loop over passers-by.  For each one the requester sees a
*ready* screen, taps *Approach* (the next schedule slot is taken), reads the
condition's script step by step and taps each answer, then gives the
debriefing and records it.  :class:`FieldTrial` is that per-participant state
machine; the one session loop (:func:`paradigms.engine.loop.run_participants`)
drives it with any :class:`~paradigms.engine.prompts.SessionIO` -- the PsychoPy
screen in the field, or a scripted participant in simulation -- so both go
through the same code.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Optional

from ..base import Condition, Experiment, Paradigm, Step
from .prompts import END, QUIT, Choice, Response, SessionIO, find_choice
from .store import STORE_COLUMNS

__all__ = ["Choice", "Prompt", "Response", "FieldTrial", "SessionIO", "ready_prompt", "opening_record",
           "QUIT", "APPROACH", "END", "EXCLUDE", "BACK", "DEBRIEF_CHOICES", "READY_CHOICES"]

APPROACH = "approach"
EXCLUDE = "exclude"
BACK = "back"


@dataclass(frozen=True)
class Prompt:
    """One screen: a title, what to say, a stage direction, and the choices."""

    kind: str  # "ready", "step", "exclude", "debrief"
    title: str
    say: str
    note: str
    choices: tuple[Choice, ...]
    header: str = ""
    step: Optional[Step] = None
    condition: Optional[str] = None

    @property
    def key(self) -> str:
        """Identifies the screen in the event journal (the step is journalled beside it)."""
        return self.kind

    def choice(self, code: str) -> Choice:
        return find_choice(self.choices, code, self.kind)


DEBRIEF_CHOICES = (
    Choice("debriefed", "Debriefed, data kept [D]", "d", "positive"),
    Choice("withdrew", "Debriefed, withdrew data [W]", "w", "negative"),
    Choice("not_debriefed", "Could not debrief [N]", "n", "neutral"),
)
_DEBRIEF_SETS: Mapping[str, dict] = {
    "debriefed": {"debriefed": 1, "data_consent": 1},
    "withdrew": {"debriefed": 1, "data_consent": 0},
    "not_debriefed": {"debriefed": 0, "data_consent": None},
}
_TONES = {"agree": "positive", "refuse": "negative"}


def _by_identity(make):
    """``make(obj)`` computed once per object (declarations are frozen; kept alive by the cache)."""
    cache: dict = {}

    def cached(obj, *args):
        key = (id(obj), *args)
        hit = cache.get(key)
        if hit is None or hit[0] is not obj:
            hit = cache[key] = (obj, make(obj, *args))
        return hit[1]
    return cached


@_by_identity
def _record_columns(paradigm: Paradigm, number: int) -> tuple[str, ...]:
    """The columns of a participant's record: the codebook's, less those the store fills in."""
    return tuple(c for c in paradigm.columns(number) if c not in STORE_COLUMNS)


@_by_identity
def _step_choices(step: Step, places: int) -> tuple[Choice, ...]:
    """The step's answers, each in its declared place of ``places`` (then Exclude, in the last place
    of every step screen of the study)."""
    def place(i):
        return None if not places else (i, places + 1)
    return tuple(Choice(a.code, a.label, a.key, a.tone or _TONES.get(a.code, "neutral"),
                        place(a.position if a.position is not None else i))
                 for i, a in enumerate(step.answers)) + (
        Choice(EXCLUDE, "Exclude... [X]", "x", "neutral", place(places)),)


def _reasons_for(paradigm: Paradigm, experiment: Experiment, condition: Condition) -> tuple[str, ...]:
    """The exclusion reasons the Exclude menu offers in ``condition``: the paradigm's, less those an
    answer of a step records that this condition does not have (no "agreed first request" where
    there is no first request)."""
    answered = {a.sets["exclusion_reason"] for c in experiment.conditions for s in c.steps for a in s.answers
                if "exclusion_reason" in a.sets}
    here = {a.sets["exclusion_reason"] for s in condition.steps for a in s.answers if "exclusion_reason" in a.sets}
    return tuple(r for r in paradigm.exclusion_reasons if r not in answered or r in here)


def opening_record(condition: Condition, participant_id: str, slot: Optional[int], t_start: str) -> dict:
    """A participant's record as it stands at approach: who, which slot and condition (with its
    factor levels), not excluded, not yet debriefed."""
    values: dict[str, object] = {
        "participant_id": participant_id, "slot": slot, "condition": condition.name,
        "excluded": 0, "exclusion_reason": None, "debriefed": 0, "data_consent": None,
        "t_start": t_start,
    }
    values.update(condition.factors)
    return values


class FieldTrial:
    """One passer-by: the script of their condition, answer by answer.

    Feed it responses with :meth:`respond` until :attr:`done`; then
    :meth:`row` is the participant's record, with the codebook's columns.
    """

    def __init__(self, paradigm: Paradigm, experiment: Experiment, condition: Condition,
                 participant_id: str, slot: Optional[int], t_start: str):
        self.paradigm = paradigm
        self.experiment = experiment
        self.condition = condition
        self.values = opening_record(condition, participant_id, slot, t_start)
        self._step = 0
        self._state = "step"  # "step", "exclude", "debrief", "done"
        self.n_steps = len(condition.steps)
        #: time of the tap that put up the current screen: a step's cue is due
        #: ``cue_after`` seconds after it (the screen times its banner the same way)
        self._shown_t = t_start

    @property
    def done(self) -> bool:
        return self._state == "done"

    def prompt(self) -> Prompt:
        key = (self._state, self._step)
        if getattr(self, "_prompt_key", None) != key:  # the same screen is asked for twice (shown, answered)
            self._prompt, self._prompt_key = self._make_prompt(), key
        return self._prompt

    def _make_prompt(self) -> Prompt:
        pid, slot = self.values["participant_id"], self.values["slot"]
        header = f"Slot {slot}  |  {pid}  |  {self.condition.name.replace('_', ' ')}"
        if self._state == "step":
            step = self.condition.steps[self._step]
            return Prompt("step", f"Step {self._step + 1} of {self.n_steps}: {step.display_title}", step.say,
                          step.note,
                          _step_choices(step, self.experiment.answer_places), header, step, self.condition.name)
        if self._state == "exclude":
            reasons = tuple(Choice(code, f"{code.replace('_', ' ')} [{i + 1}]", str(i + 1))
                            for i, code in enumerate(_reasons_for(self.paradigm, self.experiment, self.condition)))
            return Prompt("exclude", "Exclude this passer-by: why?", "",
                          "Tap the reason, or Back to return to the script.",
                          reasons + (Choice(BACK, "Back [B]", "b"),), header)
        if self._state == "debrief":
            return Prompt("debrief", "DEBRIEFING", self.paradigm.debriefing,
                          "Give the debriefing, then record what happened.", DEBRIEF_CHOICES, header)
        raise RuntimeError("the participant's record is complete")

    def respond(self, response: Response) -> None:
        """Record the answer to the current screen; ``ValueError`` if it is not a choice there."""
        prompt = self.prompt()
        code = prompt.choice(response.value).code  # refuses a value that is not a choice on this screen
        shown_t, self._shown_t = self._shown_t, response.t
        if self._state == "step":
            if code == EXCLUDE:
                self._state = "exclude"
                return
            step = self.condition.steps[self._step]
            answer = step.answer(code)
            self.values[step.answer_column] = answer.code
            self.values[step.time_column] = response.t
            if step.before_cue and _seconds_between(shown_t, response.t) < step.cue_after:
                # answered before the cue was due: a protocol deviation, unless the answer
                # records its own (the customer spoke first)
                self.values.update({k: v for k, v in step.before_cue.items() if k not in answer.sets})
            self.values.update(answer.sets)
            self._step += 1
            if answer.ends or self._step == self.n_steps:
                self._state = "debrief"
        elif self._state == "exclude":
            if code == BACK:
                self._state = "step"
                return
            self.values["excluded"] = 1
            self.values["exclusion_reason"] = code
            self._state = "debrief"
        elif self._state == "debrief":
            self.values.update(_DEBRIEF_SETS[code])
            self.values["t_end"] = response.t
            self._state = "done"

    def interrupt(self, t: str) -> None:
        """End the record early (the session was quit): kept, marked excluded."""
        if self._state in ("step", "exclude"):
            self.values["excluded"] = 1
            self.values["exclusion_reason"] = "session_quit"
        self.values["t_end"] = t
        self._state = "done"

    def row(self) -> dict:
        get = self.values.get
        out = {c: get(c) for c in _record_columns(self.paradigm, self.experiment.number)}
        if self.values.get("excluded") and "complied" in out:
            # an excluded participant's target answer, if any, stays in *_answer;
            # complied is left empty so no analysis counts it by accident
            out["complied"] = None
        return out


def _seconds_between(t0: str, t1: str) -> float:
    """Seconds from ISO time ``t0`` to ``t1``; infinite when either cannot be read."""
    try:
        return (datetime.fromisoformat(t1) - datetime.fromisoformat(t0)).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


READY_CHOICES = (Choice(APPROACH, "Approach [Space]", "space", "positive"),
                 Choice(END, "End session [Q]", "q", "neutral"))


def ready_prompt(paradigm: Paradigm, session: int, site: str, recorded: int) -> Prompt:
    """The screen between passers-by: what to wait for, Approach, End session."""
    return Prompt("ready", "READY", paradigm.ready_say, paradigm.ready_note, READY_CHOICES,
                  f"Session {session}  |  site {site}  |  {recorded} recorded")
