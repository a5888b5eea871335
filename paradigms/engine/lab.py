"""Lab-session logic: the participant's and the experimenter's screens as logic, no PsychoPy.

A *lab* paradigm (Regan, 1971, is the first) runs one participant at a time
in a room with a confederate.  The computer shows the participant a cover
task (rating paintings), waits at the breaks for the experimenter while the
scripted events happen off screen (a phone call, a favor, a request), then
shows a questionnaire; the experimenter enters the outcome (tickets bought),
the confederate's report of how the scripts went, and any exclusion; the
participant reads the debriefing and says whether the data may be kept.

:class:`LabTrial` is that per-participant state machine, built from the
declared :class:`~paradigms.vocab.lab.LabDesign`.  It hands out
:class:`LabPrompt` objects and takes :class:`~paradigms.engine.prompts.Response`
objects, and it validates every value itself (a rating outside the scale, a
ticket count of ``"two"``), so the PsychoPy screen (the presentation side) and
the simulated participant go through the same checks.  The one session loop,
:func:`paradigms.engine.loop.run_participants`, drives it as it drives the
field trial.  :class:`LabScriptedParticipant` answers each screen as the
declared :class:`~paradigms.vocab.count.CountModel` draws the participant.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Optional

import numpy as np

from ..base import Condition, Experiment, Paradigm, Step
from ..errors import UsageError
from ..vocab.count import NO_EXCLUSION, CountModel, SimPerson
from ..vocab.lab import Break, LabDesign, RatingItem, TextItem
from .field import opening_record
from .prompts import END, Choice, Response, find_choice

__all__ = [
    "EXPERIMENTER_KEY", "LEFT_KEY", "NEXT", "AGREE", "DECLINE", "NO_EXCLUSION", "DEBRIEF_CODES",
    "LabPrompt", "LabTrial", "ready_prompt", "handover_prompt", "HANDOVER_TEXT", "parse_tickets", "parse_rating", "LabScriptedParticipant",
]

#: The key the experimenter presses to move the participant's screen on at a
#: break.  A function key: a participant resting a hand on the keyboard does not
#: press it by accident.
EXPERIMENTER_KEY = "f9"
#: Key the experimenter presses on the debriefing screen if the participant
#: left before the debriefing could be given.
LEFT_KEY = "f10"

NEXT = "next"
AGREE = "agree"
DECLINE = "decline"

#: debriefing codes -> (debriefed, data_consent)
DEBRIEF_CODES: Mapping[str, tuple] = MappingProxyType({
    "keep": (1, 1),
    "withdraw": (1, 0),
    "not_debriefed": (0, None),
})


# --------------------------------------------------------------------------- #
# Validation of typed and rated values (pure, tested without a screen).
# --------------------------------------------------------------------------- #
def parse_tickets(text, maximum: int = 20, name: str = "tickets") -> int:
    """The count the experimenter typed (tickets bought), as an int.

    Accepts a whole number from 0 to ``maximum`` written in digits, with
    surrounding blanks (a trailing newline from the Enter key) ignored.

    Raises
    ------
    ValueError
        one line naming the bad value: empty, not a whole number in digits,
        or outside 0..maximum.

    Examples
    --------
    >>> parse_tickets(" 7\\n")
    7
    >>> parse_tickets("21")
    Traceback (most recent call last):
    ...
    paradigms.errors.UsageError: tickets: 21 is outside 0..20
    """
    s = "" if text is None else str(text).strip()
    if not s:
        raise UsageError(f"{name}: nothing was entered; type a whole number from 0 to {maximum}")
    if not s.isascii() or not s.lstrip("+-").isdigit():
        raise UsageError(f"{name}: {s!r} is not a whole number in digits (0 to {maximum})")
    n = int(s)
    if not 0 <= n <= maximum:
        raise UsageError(f"{name}: {n} is outside 0..{maximum}")
    return n


def parse_rating(value, low: int, high: int, name: str) -> int:
    """A rating on a ``low``..``high`` scale, as an int; a one-line ValueError otherwise.

    A slider reports floats (``4.0``); a whole-number float is accepted.
    """
    if type(value) is int and low <= value <= high:  # a key's digit, a scripted answer: nothing to convert
        return value
    if value is None or isinstance(value, bool):
        raise UsageError(f"{name}: no rating was given")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(f) or f != int(f):
        raise UsageError(f"{name}: {value!r} is not a whole point of the scale")
    n = int(f)
    if not low <= n <= high:
        raise UsageError(f"{name}: {n} is outside {low}..{high}")
    return n


# --------------------------------------------------------------------------- #
# Prompts and responses.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class LabPrompt:
    """One screen.

    ``audience`` is ``"participant"`` or ``"experimenter"``; ``kind`` one of
    ``ready``, ``cue_card``, ``consent``, ``painting``, ``break``, ``rating``,
    ``text``, ``fidelity``, ``tickets``, ``tickets_confirm``, ``exclusion``,
    ``debrief``.  ``choices`` are buttons/keys (empty for ratings and text);
    ``item`` carries the :class:`RatingItem` or :class:`TextItem`; ``error``
    is the message of a refused entry, shown in red.
    """

    kind: str
    audience: str
    title: str
    text: str = ""
    note: str = ""
    choices: tuple[Choice, ...] = ()
    header: str = ""
    condition: Optional[str] = None
    participant_id: Optional[str] = None
    item: object = None
    step: Optional[Step] = None
    index: int = 0
    count: int = 0
    error: str = ""

    def __eq__(self, other):
        """Every field equal (as the dataclass's own comparison), compared as the fields' dict: one C
        comparison that stops at the first field that differs (the scripted I/O asks it every screen)."""
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self is other or self.__dict__ == other.__dict__

    @property
    def key(self) -> str:
        """Identifies the screen (for screenshots and the event journal)."""
        if self.kind in ("painting", "rating", "text"):
            return f"{self.kind}:{self.item.column}"
        if self.kind == "break":
            return f"break:{self.item.id}"
        if self.kind == "fidelity":
            return f"fidelity:{self.step.id}"
        return self.kind

    def choice(self, code: str) -> Choice:
        return find_choice(self.choices, code, self.kind)


READY_CHOICES = (Choice(NEXT, "Next participant [Space]", "space", "positive"),
                 Choice(END, "End session [Q]", "q", "neutral"))


def ready_prompt(paradigm: Paradigm, session: int, site: str, recorded: int) -> LabPrompt:
    """The experimenter's screen between participants."""
    return LabPrompt("ready", "experimenter", "READY",
                     text="Press Space before the next participant arrives: the cue card with this "
                          "session's scripts comes next, for the confederate to read before the "
                          "participant is seated.",
                     choices=READY_CHOICES,
                     header=f"Session {session}  |  site {site}  |  {recorded} recorded")


#: what the participant's screen shows while the experimenter takes over the computer
HANDOVER_TEXT = "Thank you. Please stay seated; the experimenter will be with you in a moment."


def handover_prompt(participant_id: Optional[str]) -> LabPrompt:
    """The screen between a participant's screen and an experimenter's: a neutral text the participant
    may read; only the experimenter's key (F9) moves on, to the experimenter's screen."""
    return LabPrompt("handover", "participant", "Thank you", text=HANDOVER_TEXT, note=_HANDOVER_NOTE,
                     choices=_HANDOVER_CHOICES, participant_id=participant_id)


_HANDOVER_NOTE = f"Experimenter: press {EXPERIMENTER_KEY.upper()} to continue."
#: frozen, so every hand-over screen shares them (two per participant)
_HANDOVER_CHOICES = (Choice(NEXT, "Continue (experimenter)", EXPERIMENTER_KEY, "neutral"),)


CONSENT_CHOICES = (Choice(AGREE, "I agree to take part [Y]", "y", "positive"),
                   Choice(DECLINE, "I do not agree [N]", "n", "neutral"))


def _fidelity_choices(step: Step, places: int) -> tuple[Choice, ...]:
    tones = {"as_scripted": "positive", "deviated": "negative"}
    return tuple(Choice(a.code, a.label, a.key, a.tone or tones.get(a.code, "neutral"),
                        None if not places else (a.position if a.position is not None else i, places))
                 for i, a in enumerate(step.answers))


class _Plan:
    """What every trial of one condition shares: the sequence of screens, the steps by id, and the
    screens' fields as they stand before a participant's own are filled in (made as first asked)."""

    __slots__ = ("owners", "queue", "steps", "screens", "columns")

    def __init__(self, trial: "LabTrial"):
        self.owners = (trial.paradigm, trial.experiment, trial.design, trial.condition)
        #: the codebook's columns (a record's row keeps these)
        self.columns = frozenset(trial.paradigm.columns(trial.experiment.number))
        self.steps = {s.id: s for s in trial.condition.steps}
        self.queue = trial._sequence()
        #: place -> the screen there as every trial of the condition shows it (made as first asked)
        self.screens: list[Optional[LabPrompt]] = [None] * len(self.queue)


_PLANS: dict[tuple, _Plan] = {}


def _plan_of(trial: "LabTrial") -> _Plan:
    """The :class:`_Plan` of ``trial``'s paradigm, experiment, design and condition (the very objects:
    a plan holds them, so their ids are not reused while it is kept)."""
    owners = (trial.paradigm, trial.experiment, trial.design, trial.condition)
    key = tuple(map(id, owners))
    plan = _PLANS.get(key)
    if plan is None or any(a is not b for a, b in zip(plan.owners, owners)):
        if len(_PLANS) >= 256:  # declarations made on the fly (tests): never an unbounded cache
            _PLANS.clear()
        plan = _PLANS[key] = _Plan(trial)
    return plan


class LabTrial:
    """One participant, screen by screen.

    Feed it responses with :meth:`respond` until :attr:`done`; :meth:`row`
    is the record, with the codebook's columns.  A refused value raises
    ``ValueError`` from :meth:`respond` *and* leaves the message on the next
    prompt (``prompt().error``) so the screen can show it.
    """

    def __init__(self, paradigm: Paradigm, experiment: Experiment, design: LabDesign, condition: Condition,
                 participant_id: str, slot: Optional[int], t_start: str):
        self.paradigm = paradigm
        self.experiment = experiment
        self.design = design
        self.condition = condition
        self.values = opening_record(condition, participant_id, slot, t_start)
        plan = self._plan = _plan_of(self)
        self._steps = plan.steps
        self._queue = plan.queue  # shared by every trial of the condition: never changed
        self._n = len(self._queue)
        self._screens = plan.screens
        self._header_text: Optional[str] = None
        self._i = 0
        self._error = ""
        self._shown: Optional[tuple] = None  # (screen index, error, prompt): the screen asked and answered
        self._first_tickets: Optional[int] = None

    # -- the order of screens ------------------------------------------------
    def _sequence(self) -> list[tuple]:
        d = self.design
        seq: list[tuple] = [("cue_card",), ("consent",), ("break", d.breaks[0])]
        n = d.paintings
        for i, col in enumerate(d.first_block):
            seq.append(("painting", col, i + 1, n))
        seq.append(("break", d.breaks[1]))
        for i, col in enumerate(d.second_block, start=len(d.first_block)):
            seq.append(("painting", col, i + 1, n))
        seq.append(("break", d.breaks[2]))
        for item in d.questionnaire:
            seq.append(("rating" if isinstance(item, RatingItem) else "text", item))
        for s in self.condition.steps:
            seq.append(("fidelity", s))
        seq += [("tickets",), ("tickets_confirm",), ("exclusion",), ("debrief",)]
        return seq

    @property
    def done(self) -> bool:
        return self._i >= self._n

    def _header(self) -> str:
        """Slot, pseudonym and the condition's factors the experimenter may know (never a blind one);
        made once per trial (slot, pseudonym and condition do not change within it)."""
        if self._header_text is None:
            self._header_text = self._make_header()
        return self._header_text

    def _make_header(self) -> str:
        v = self.values
        seen = "  |  ".join(f"{f}: {level.replace('_', ' ')}" for f, level in self.condition.factors.items()
                            if f not in self.design.blind_to)
        return f"Slot {v['slot']}  |  {v['participant_id']}" + (f"  |  {seen}" if seen else "")

    def _blind_step(self, step: Step) -> bool:
        """Whether ``step``'s script differs between levels of a factor the experimenter is blind to."""
        blind = self.design.blind_to
        versions = {(s.say, s.title) for c in self.experiment.conditions for s in c.steps if s.id == step.id
                    and any(c.factors.get(f) != self.condition.factors.get(f) for f in blind)}
        return bool(blind) and bool(versions - {(step.say, step.title)})

    def prompt(self) -> LabPrompt:
        """The current screen (made once per screen and message: it is shown, then answered)."""
        shown = self._shown
        if shown is not None and shown[0] == self._i and shown[1] == self._error:
            return shown[2]
        prompt = self._make_prompt()
        self._shown = (self._i, self._error, prompt)
        return prompt

    def screen(self) -> LabPrompt:
        """The current screen as the condition shares it: the prompt without what is the participant's
        (header, pseudonym) or the moment's (a refused entry's message).  The same object for every
        trial of the condition at this place; what a participant that sees no screen (a data-only
        simulation) is asked, and what an answer is checked against."""
        i = self._i
        try:
            screen = self._screens[i]
        except IndexError:
            raise RuntimeError("the participant's record is complete") from None
        if screen is None:
            screen = self._screens[i] = self._template(i)
        return screen

    def fill(self, screen: LabPrompt) -> LabPrompt:
        """``screen`` (one of this condition's shared screens) as this participant sees it: with the
        header, pseudonym and the message of a refused entry filled in."""
        prompt = object.__new__(LabPrompt)  # frozen: its fields are set as a whole, as __init__ would
        d = prompt.__dict__
        d.update(screen.__dict__)
        d["header"] = self._header_text or self._header()
        d["participant_id"], d["error"] = self.values["participant_id"], self._error
        return prompt

    def _make_prompt(self) -> LabPrompt:
        """The current screen: the condition's screen at this place (:meth:`screen`, made once per
        condition and place and shared by its trials) with this participant's header, pseudonym and
        message filled in."""
        return self.fill(self.screen())

    def _template(self, i: int) -> LabPrompt:
        """The screen at place ``i`` of the condition's sequence, without what is the participant's
        (header, pseudonym) or the moment's (a refused entry's message): those are left empty."""
        entry = self._queue[i]
        kind = entry[0]
        d = self.design
        common = dict(condition=self.condition.name)
        if kind == "cue_card":
            return LabPrompt("cue_card", "experimenter", "CUE CARD: this session's scripts",
                             text=self._cue_text(),
                             note="Show this to the confederate before the participant arrives. When the "
                                  "participant is seated, press Space: the participant's screen comes next.",
                             choices=(Choice(NEXT, "Participant is seated: start [Space]", "space", "positive"),),
                             **common)
        if kind == "consent":
            return LabPrompt("consent", "participant", "Consent to take part", text=d.welcome,
                             choices=CONSENT_CHOICES, **common)
        if kind == "break":
            brk: Break = entry[1]
            return LabPrompt("break", "participant", "Please wait", text=brk.participant_text,
                             note=f"Experimenter: press {EXPERIMENTER_KEY.upper()} to continue.",
                             choices=(Choice(NEXT, "Continue (experimenter)", EXPERIMENTER_KEY, "neutral"),),
                             item=brk, step=self._steps.get(brk.step), **common)
        if kind == "painting":
            _, col, i, n = entry
            item = RatingItem(col, d.painting_question, d.painting_low, d.painting_high)
            return LabPrompt("painting", "participant", f"Painting {i} of {n}", text=d.painting_question,
                             item=item, index=i, count=n, **common)
        if kind == "rating":
            item = entry[1]
            pos = sum(1 for e in self._queue[: i + 1] if e[0] in ("rating", "text"))
            total = len(d.questionnaire)
            return LabPrompt("rating", "participant", f"Questionnaire: question {pos} of {total}",
                             text=item.question, item=item, index=pos, count=total, **common)
        if kind == "text":
            item = entry[1]
            pos = sum(1 for e in self._queue[: i + 1] if e[0] in ("rating", "text"))
            total = len(d.questionnaire)
            return LabPrompt("text", "participant", f"Questionnaire: question {pos} of {total}",
                             text=item.question, note=item.note, item=item, index=pos, count=total, **common)
        if kind == "fidelity":
            step: Step = entry[1]
            if self._blind_step(step):  # the version would tell the experimenter the blind condition
                name, text, note = step.id.replace("_", " "), ("Ask the confederate whether this scripted "
                                                               "event went as the cue card said."), ""
            else:
                name, text, note = (step.title or step.id.replace("_", " ")).lower(), step.say, ""
            return LabPrompt("fidelity", "experimenter", f"Confederate's report: {name}",
                             text=text, note=note, choices=_fidelity_choices(step, self.experiment.answer_places), step=step,
                             **common)
        if kind == "tickets":
            return LabPrompt("tickets", "experimenter", d.count_title,
                             text=f"{d.count_question} Type a whole number "
                                  f"from 0 to {d.max_tickets}, then press Enter.",
                             note=d.count_note, **common)
        if kind == "tickets_confirm":
            return LabPrompt("tickets_confirm", "experimenter", f"{d.count_title}: type it again",
                             text=f"Type the number of {d.count_column.replace('_', ' ')} once more to confirm "
                                  "it, then press Enter.",
                             note="The two entries must match; if they differ you start again.", **common)
        if kind == "exclusion":
            reasons = tuple(Choice(code, f"{code.replace('_', ' ')} [{i}]", str(i), "negative")
                            for i, code in enumerate(self.paradigm.exclusion_reasons, start=1))
            return LabPrompt("exclusion", "experimenter", "Exclusion",
                             text="Was the participant suspicious of the request, or did he know the "
                                  "confederate? Use the probe answer and the funnel questions.",
                             note="; ".join(f"{c}: {m}" for c, m in self.paradigm.exclusion_reasons.items()),
                             choices=(Choice(NO_EXCLUSION, "No exclusion [0]", "0", "positive"),) + reasons,
                             **common)
        if kind == "debrief":
            return LabPrompt("debrief", "participant", "About this study", text=d.debriefing_participant,
                             note=d.data_question,
                             choices=(Choice("keep", "Yes, use my answers [Y]", "y", "positive"),
                                      Choice("withdraw", "No, withdraw my answers [N]", "n", "neutral"),
                                      Choice("not_debriefed", "Experimenter: left before debriefing",
                                             LEFT_KEY, "neutral")),
                             **common)
        raise RuntimeError(f"unknown screen {kind!r}")  # pragma: no cover

    def _cue_text(self) -> str:
        """The cue card in sections: this session's versions, then each scripted event, one a line."""
        lines = ["THIS SESSION"]
        lines += [f"- {f.capitalize()}: {level.replace('_', ' ')}" for f, level in self.condition.factors.items()]
        lines += ["", "WHAT HAPPENS"]
        for s in self.condition.steps:
            name = s.title or s.id.replace("_", " ").upper()
            lines.append(f"- {name}: {s.note.split('.')[0]}." if s.note else f"- {name}")
        return "\n".join(lines)

    # -- taking answers ------------------------------------------------------
    def respond(self, response: Response) -> None:
        """Record a response to the current prompt; ``ValueError`` if it is refused.  The answer is
        checked against the screen's shared fields (:meth:`screen`): the participant's own are not asked."""
        try:
            self._respond(self.screen(), response)
        except ValueError as exc:
            self._error = str(exc)
            raise
        self._error = ""

    def _finish(self) -> None:
        self._i = len(self._queue)

    def _respond(self, prompt: LabPrompt, r: Response) -> None:
        v = r.value
        kind = prompt.kind
        if kind in ("painting", "rating"):
            item: RatingItem = prompt.item
            self.values[item.column] = parse_rating(v, item.low, item.high, item.column)
            if item.column in self.design.composite[1]:
                self._update_composite()
        elif kind == "text":
            item: TextItem = prompt.item
            text = "" if v is None else str(v).strip()
            if len(text) > item.max_chars:
                raise UsageError(f"{item.column}: {len(text)} characters; at most {item.max_chars}")
            self.values[item.column] = text
        elif kind == "tickets":
            self._first_tickets = parse_tickets(v, self.design.max_tickets, self.design.count_column)
        elif kind == "tickets_confirm":
            column = self.design.count_column
            n = parse_tickets(v, self.design.max_tickets, column)
            if n != self._first_tickets:
                first, self._first_tickets = self._first_tickets, None
                self._i -= 1  # back to the first entry
                raise UsageError(f"{column}: the two entries differ ({first} then {n}); enter the number again")
            self.values[column] = n
        else:
            code = prompt.choice(str(v)).code
            if kind == "consent" and code == DECLINE:
                # not a participant: nothing but the slot is kept, and never analysed
                self.values.update(excluded=1, exclusion_reason="declined_consent", debriefed=0, data_consent=0,
                                   t_end=r.t)
                self._finish()
                return
            if kind == "fidelity":
                step = prompt.step
                answer = step.answer(code)
                self.values[step.answer_column] = answer.code
                self.values[step.time_column] = r.t
                self.values.update(answer.sets)
            elif kind == "exclusion" and code != NO_EXCLUSION:
                self.values["excluded"] = 1
                self.values["exclusion_reason"] = code
            elif kind == "debrief":
                debriefed, consent = DEBRIEF_CODES[code]
                self.values.update(debriefed=debriefed, data_consent=consent, t_end=r.t)
        self._i += 1  # on to the next screen

    def _update_composite(self) -> None:
        col, items = self.design.composite
        got = [self.values.get(c) for c in items]
        if all(isinstance(x, int) for x in got):
            self.values[col] = round(sum(got) / len(got), 4)

    def interrupt(self, t: str) -> None:
        """End the record early (the session was quit): kept, marked excluded."""
        if self.values.get("t_end") is None:
            self.values["excluded"] = 1
            self.values["exclusion_reason"] = "session_quit"
            self.values["t_end"] = t
        self._finish()

    def row(self) -> dict:
        cols = self._plan.columns
        return {k: v for k, v in self.values.items() if k in cols}


_THINK_TIMES = {"ready": (5, 30), "cue_card": (20, 60), "consent": (20, 60), "break": (60, 180),
                "handover": (5, 20), "painting": (4, 10), "rating": (3, 8), "text": (20, 60), "debrief": (60, 120)}
_RATED = frozenset(("painting", "rating", "text"))


class LabScriptedParticipant:
    """Answers every lab screen the way the :class:`CountModel` says.

    It plays the participant *and* the diligent experimenter: it agrees to
    take part, rates, answers the questionnaire, reports the scripts as done,
    types the ticket count twice, records the exclusion its draw implies and
    keeps (or withdraws) the data.  Each participant is drawn once, at the
    cue card, from a NumPy generator seeded from ``rng``; the draws do not
    depend on timing, so a visual run gives the data-only run's values.
    """

    def __init__(self, model: CountModel, design: LabDesign, rng: random.Random, participants: int):
        self.model = model
        self.design = design
        self.rng = rng
        self.np_rng = np.random.default_rng(rng.getrandbits(64))
        self.remaining = int(participants)
        self.person: Optional[SimPerson] = None

    #: simulated seconds before an answer, (low, high) by screen kind; (2, 6) for any other
    THINK_TIMES = MappingProxyType(_THINK_TIMES)

    def think_time(self, prompt: LabPrompt) -> float:
        """Simulated seconds before the answer: ``rng.uniform(low, high)``, written out as the documented
        ``a + (b - a) * random()`` (one call less a screen; the same draws, the same floats)."""
        lo, hi = _THINK_TIMES.get(prompt.kind, (2, 6))
        return lo + (hi - lo) * self.rng.random()

    def choose(self, prompt: LabPrompt, condition: Optional[str]):
        k = prompt.kind
        if k in _RATED:  # most screens: the drawn person's rating or text
            return self.person.values[prompt.item.column]
        if k == "ready":
            if self.remaining <= 0:
                return END
            self.remaining -= 1
            return NEXT
        if k == "cue_card":
            self.person = self.model.draw(condition, self.np_rng, self.design)
            return NEXT
        p = self.person
        if k == "consent":
            return AGREE
        if k in ("break", "handover"):
            return NEXT
        if k == "fidelity":
            return "as_scripted"
        if k in ("tickets", "tickets_confirm"):
            return str(p.tickets)
        if k == "exclusion":
            return p.exclusion
        if k == "debrief":
            return p.debrief
        raise ValueError(f"the scripted participant has no answer for a {k!r} screen")
