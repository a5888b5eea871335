"""Lab-session logic: the participant's and the experimenter's screens as data, no PsychoPy.

A *lab* paradigm (Regan, 1971, is the first) runs one participant at a time
in a room with a confederate.  The computer shows the participant a cover
task (rating paintings), waits at the breaks for the experimenter while the
scripted events happen off screen (a phone call, a favor, a request), then
shows a questionnaire; the experimenter enters the outcome (tickets bought),
the confederate's report of how the scripts went, and any exclusion; the
participant reads the debriefing and says whether the data may be kept.

:class:`LabTrial` is that per-participant state machine.  It hands out
:class:`LabPrompt` objects and takes :class:`LabResponse` objects, and it
validates every value itself (a rating outside the scale, a ticket count of
``"two"``), so the PsychoPy screen (``paradigms.screens.lab``) and the
simulated participant go through the same checks.  :func:`run_lab_session`
drives trials with any IO that has ``wait(prompt) -> LabResponse``;
:class:`LabDriver` is the driver interface of
:mod:`paradigms.engine.sessions`.

The simulation model of a count outcome, :class:`CountModel`, lives here too:
a negative binomial number of tickets per cell whose person-level rate rises
with how much the participant likes the confederate, by a slope that can
differ between favor conditions.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Callable, Iterator, Mapping, Optional

import numpy as np

from ..base import Condition, DeclarationError, Experiment, Paradigm, Step
from .field import END, QUIT, Choice, find_choice, opening_record
from .simulate import SimClock

__all__ = [
    "EXPERIMENTER_KEY", "NEXT", "AGREE", "DECLINE", "NO_EXCLUSION", "DEBRIEF_CODES",
    "RatingItem", "TextItem", "LabDesign", "LabPrompt", "LabResponse", "LabTrial",
    "parse_tickets", "parse_rating", "run_lab_session",
    "CellMean", "CountModel", "SimPerson", "LabScriptedParticipant", "LabScriptedIO", "LabDriver",
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
NO_EXCLUSION = "none"

#: debriefing codes -> (debriefed, data_consent)
DEBRIEF_CODES: Mapping[str, tuple] = MappingProxyType({
    "keep": (1, 1),
    "withdraw": (1, 0),
    "not_debriefed": (0, None),
})


# --------------------------------------------------------------------------- #
# Validation of typed and rated values (pure, tested without a screen).
# --------------------------------------------------------------------------- #
def parse_tickets(text, maximum: int = 20) -> int:
    """The number of tickets bought, from what the experimenter typed.

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
    ValueError: tickets: 21 is outside 0..20
    """
    s = "" if text is None else str(text).strip()
    if not s:
        raise ValueError("tickets: nothing was entered; type a whole number from 0 to %d" % maximum)
    if not s.isascii() or not s.lstrip("+-").isdigit():
        raise ValueError(f"tickets: {s!r} is not a whole number in digits (0 to {maximum})")
    n = int(s)
    if not 0 <= n <= maximum:
        raise ValueError(f"tickets: {n} is outside 0..{maximum}")
    return n


def parse_rating(value, low: int, high: int, name: str) -> int:
    """A rating on a ``low``..``high`` scale, as an int; a one-line ValueError otherwise.

    A slider reports floats (``4.0``); a whole-number float is accepted.
    """
    if value is None or isinstance(value, bool):
        raise ValueError(f"{name}: no rating was given")
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number") from None
    if not math.isfinite(f) or f != int(f):
        raise ValueError(f"{name}: {value!r} is not a whole point of the scale")
    n = int(f)
    if not low <= n <= high:
        raise ValueError(f"{name}: {n} is outside {low}..{high}")
    return n


# --------------------------------------------------------------------------- #
# The design of a lab session, declared by the paradigm module.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class RatingItem:
    """One rating on a slider: the column it fills, the question and the anchors."""

    column: str
    question: str
    low_label: str
    high_label: str
    low: int = 1
    high: int = 9


@dataclass(frozen=True)
class TextItem:
    """A free-text answer (stored verbatim; the CSV writer quotes it)."""

    column: str
    question: str
    note: str = ""
    max_chars: int = 1000


@dataclass(frozen=True)
class Break:
    """A participant screen that waits for the experimenter's key.

    ``participant_text`` is what the participant sees; ``experimenter_note``
    names the scripted event that happens meanwhile (the step id).
    """

    id: str
    participant_text: str
    step: str


@dataclass(frozen=True)
class LabDesign:
    """What the computer shows in one lab session, in order.

    Parameters
    ----------
    welcome : str
        Participant-facing consent text (the cover story, not the hypothesis).
    painting_question, painting_low, painting_high : str
        The rating question under each painting and its scale anchors.
    paintings : int
        Number of paintings; ``painting_01`` .. columns.
    blocks : tuple of Break
        ``blocks[0]`` is shown before the first painting block, ``blocks[1]``
        between the blocks, ``blocks[2]`` after the last painting.
    questionnaire : tuple of RatingItem and TextItem
        The post-session questionnaire, in order.
    composite : (column, tuple of item columns)
        The mean of these items is written to ``column``.
    debriefing_participant : str
        The debriefing as the participant reads it.
    """

    welcome: str
    painting_question: str
    painting_low: str
    painting_high: str
    paintings: int
    breaks: tuple[Break, Break, Break]
    questionnaire: tuple
    composite: tuple[str, tuple[str, ...]]
    debriefing_participant: str
    data_question: str
    max_tickets: int = 20
    confederate_name: str = "your partner"

    @property
    def painting_columns(self) -> tuple[str, ...]:
        return tuple(f"painting_{i:02d}" for i in range(1, self.paintings + 1))

    @property
    def first_block(self) -> tuple[str, ...]:
        half = (self.paintings + 1) // 2
        return self.painting_columns[:half]

    @property
    def second_block(self) -> tuple[str, ...]:
        return self.painting_columns[len(self.first_block):]


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


@dataclass(frozen=True)
class LabResponse:
    """What came back from a screen: a choice code, a rating or a text, and its time."""

    value: object
    t: str


READY_CHOICES = (Choice(NEXT, "Next participant [Space]", "space", "positive"),
                 Choice(END, "End session [Q]", "q", "neutral"))
CONSENT_CHOICES = (Choice(AGREE, "I agree to take part [Y]", "y", "positive"),
                   Choice(DECLINE, "I do not agree [N]", "n", "neutral"))


def _fidelity_choices(step: Step) -> tuple[Choice, ...]:
    tones = {"as_scripted": "positive", "deviated": "negative"}
    return tuple(Choice(a.code, a.label, a.key, getattr(a, "tone", None) or tones.get(a.code, "neutral"))
                 for a in step.answers)


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
        self._steps = {s.id: s for s in condition.steps}
        self._queue = self._sequence()
        self._i = 0
        self._error = ""
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
        return self._i >= len(self._queue)

    def _header(self) -> str:
        v = self.values
        return f"Slot {v['slot']}  |  {v['participant_id']}  |  {self.condition.name.replace('_', ' ')}"

    def prompt(self) -> LabPrompt:
        if self.done:
            raise RuntimeError("the participant's record is complete")
        entry = self._queue[self._i]
        kind = entry[0]
        d = self.design
        common = dict(header=self._header(), condition=self.condition.name,
                      participant_id=self.values["participant_id"], error=self._error)
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
            pos = sum(1 for e in self._queue[: self._i + 1] if e[0] in ("rating", "text"))
            total = len(d.questionnaire)
            return LabPrompt("rating", "participant", f"Questionnaire: question {pos} of {total}",
                             text=item.question, item=item, index=pos, count=total, **common)
        if kind == "text":
            item = entry[1]
            pos = sum(1 for e in self._queue[: self._i + 1] if e[0] in ("rating", "text"))
            total = len(d.questionnaire)
            return LabPrompt("text", "participant", f"Questionnaire: question {pos} of {total}",
                             text=item.question, note=item.note, item=item, index=pos, count=total, **common)
        if kind == "fidelity":
            step: Step = entry[1]
            name = (getattr(step, "title", "") or step.id.replace("_", " ")).lower()
            return LabPrompt("fidelity", "experimenter", f"Confederate's report: {name}",
                             text=step.say, note=step.note, choices=_fidelity_choices(step), step=step,
                             **common)
        if kind == "tickets":
            return LabPrompt("tickets", "experimenter", "Tickets bought",
                             text=f"How many raffle tickets did the participant buy? Type a whole number "
                                  f"from 0 to {d.max_tickets}, then press Enter.",
                             note="Take the number from the confederate's sealed slip, out of the "
                                  "participant's sight.", **common)
        if kind == "tickets_confirm":
            return LabPrompt("tickets_confirm", "experimenter", "Tickets bought: type it again",
                             text="Type the number of tickets once more to confirm it, then press Enter.",
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
        lines = []
        for f, level in self.condition.factors.items():
            lines.append(f"{f.upper()}: {level.replace('_', ' ').upper()}")
        lines.append("")
        for s in self.condition.steps:
            name = getattr(s, "title", "") or s.id.replace("_", " ").upper()
            lines.append(f"{name}: {s.note.split('.')[0]}." if s.note else name)
        return "\n".join(lines)

    # -- taking answers ------------------------------------------------------
    def respond(self, response: LabResponse) -> None:
        """Record a response to the current prompt; ``ValueError`` if it is refused."""
        prompt = self.prompt()
        try:
            self._respond(prompt, response)
        except ValueError as exc:
            self._error = str(exc)
            raise
        self._error = ""

    def _advance(self) -> None:
        self._i += 1

    def _finish(self) -> None:
        self._i = len(self._queue)

    def _respond(self, prompt: LabPrompt, r: LabResponse) -> None:
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
                raise ValueError(f"{item.column}: {len(text)} characters; at most {item.max_chars}")
            self.values[item.column] = text
        elif kind == "tickets":
            self._first_tickets = parse_tickets(v, self.design.max_tickets)
        elif kind == "tickets_confirm":
            n = parse_tickets(v, self.design.max_tickets)
            if n != self._first_tickets:
                first, self._first_tickets = self._first_tickets, None
                self._i -= 1  # back to the first entry
                raise ValueError(f"tickets: the two entries differ ({first} then {n}); enter the number again")
            self.values["tickets"] = n
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
        self._advance()

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
        cols = set(self.paradigm.columns(self.experiment.number))
        return {k: v for k, v in self.values.items() if k in cols}


def run_lab_session(paradigm: Paradigm, experiment: int, design: LabDesign, store, slots: Iterator, io,
                    new_id: Callable[[], str]) -> str:
    """Drive one lab session to its end; ``"completed"`` or ``"aborted"``.

    Every response is journalled in the store (values of free-text answers
    are journalled by length only: the text itself goes to the CSV once);
    every finished participant is appended at once.  A refused entry is
    journalled as ``refused`` and the same screen is shown again with the
    message.
    """
    exp = paradigm.experiment(experiment)
    while True:
        ready = LabPrompt("ready", "experimenter", "READY",
                          text="Press Space before the next participant arrives: the cue card with this "
                               "session's scripts comes next, for the confederate to read before the "
                               "participant is seated.",
                          choices=READY_CHOICES,
                          header=f"Session {store.session}  |  site {store.site}  |  "
                                 f"{store.rows_written()} recorded")
        store.event("show", screen="ready")
        r = io.wait(ready)
        store.event("response", screen="ready", value=r.value)
        if r.value == QUIT:
            return "aborted"
        if r.value == END:
            return "completed"
        try:
            slot = next(slots)
        except StopIteration:
            return "completed"
        trial = LabTrial(paradigm, exp, design, exp.condition(slot.condition), new_id(), slot.slot, r.t)
        pid = trial.values["participant_id"]
        store.event("participant", slot=slot.slot, condition=slot.condition, participant_id=pid)
        while not trial.done:
            prompt = trial.prompt()
            store.event("show", screen=prompt.key, participant_id=pid)
            r = io.wait(prompt)
            logged = ({"chars": len(str(r.value))} if prompt.kind == "text" and r.value != QUIT
                      else {"value": r.value})
            if r.value == QUIT:
                store.event("response", screen=prompt.key, participant_id=pid, value=QUIT)
                trial.interrupt(r.t)
                store.append(trial.row())
                return "aborted"
            try:
                trial.respond(r)
            except ValueError as exc:
                store.event("refused", screen=prompt.key, participant_id=pid, message=str(exc), **logged)
                continue
            if trial.done:
                # the row is on disk before the answer that completed it is journalled (see field.py)
                store.append(trial.row())
            store.event("response", screen=prompt.key, participant_id=pid, **logged)


# --------------------------------------------------------------------------- #
# The simulation model of a count outcome.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class CellMean:
    """Mean number of tickets in one cell, and where it comes from."""

    mean: float
    source: str

    def __post_init__(self):
        if not (math.isfinite(self.mean) and self.mean >= 0):
            raise DeclarationError(f"cell mean {self.mean!r} must be a number >= 0")


class _Description(dict):
    """A JSON-safe dict whose ``str`` is a Markdown table (the printed protocol shows it)."""

    def __str__(self) -> str:
        lines = [f"Count model: {self['distribution']}.", "",
                 "| condition | mean tickets | source |", "|---|---|---|"]
        for name, c in self["cell_means"].items():
            lines.append(f"| `{name}` | {c['mean']:.2f} | {c['source']} |")
        lines += ["", f"- dispersion alpha = {self['dispersion']['alpha']:g} ({self['dispersion']['source']})",
                  f"- liking slope (log rate per SD of liking), by favor: "
                  + ", ".join(f"{k} = {v:g}" for k, v in self["liking_slope"]["by_level"].items())
                  + f" ({self['liking_slope']['source']})",
                  f"- liking manipulation shift (SD of liking), by liking: "
                  + ", ".join(f"{k} = {v:g}" for k, v in self["liking_shift"]["by_level"].items())
                  + f" ({self['liking_shift']['source']})",
                  f"- counts above {self['max_tickets']} are recorded as {self['max_tickets']} "
                  "(the most the entry screen accepts)",
                  f"- P(suspicious) = {self['p_suspicious']:g}, P(knew the confederate) = "
                  f"{self['p_knew_confederate']:g}, P(withdraws data) = {self['p_withdraw']:g}",
                  f"- `--rate NAME=MEAN` sets a cell mean (NAME a condition, or a {self['slope_factor']} "
                  "level for all its cells)"]
        return "\n".join(lines)


@dataclass(frozen=True)
class CountModel:
    """How simulated participants of a count paradigm behave.

    Tickets of participant *i* in cell *c*: negative binomial (NB2, variance
    ``mu + alpha * mu**2``) with mean ``mu_c * exp(b * z_i - b**2 / 2)``,
    where ``z_i`` ~ N(0, 1) is how much more (or less) than his cell the
    participant likes the confederate and ``b`` the liking slope of the
    cell's favor level (the ``-b**2/2`` keeps the cell mean at ``mu_c``).
    Liking ratings are ``round(5 + 1.2 * (shift + z_i) + N(0, item_noise))``
    clipped to 1..9, with ``shift`` set by the cell's liking level, so the
    liking items correlate with tickets where ``b`` is not zero.
    """

    cell_means: Mapping[str, CellMean]
    dispersion: float
    dispersion_source: str
    slope_factor: str
    liking_slope: Mapping[str, float]
    liking_slope_source: str
    shift_factor: str
    liking_shift: Mapping[str, float]
    liking_shift_source: str
    cell_factors: Mapping[str, Mapping[str, str]]
    item_noise: float = 1.0
    max_tickets: int = 20
    p_suspicious: float = 0.0
    p_knew_confederate: float = 0.0
    p_withdraw: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "cell_means", MappingProxyType(dict(self.cell_means)))
        object.__setattr__(self, "liking_slope", MappingProxyType(dict(self.liking_slope)))
        object.__setattr__(self, "liking_shift", MappingProxyType(dict(self.liking_shift)))
        object.__setattr__(self, "cell_factors",
                           MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.cell_factors.items()}))
        if not self.dispersion > 0:
            raise DeclarationError(f"dispersion alpha must be > 0, not {self.dispersion!r}")
        for name in ("p_suspicious", "p_knew_confederate", "p_withdraw"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise DeclarationError(f"{name} {p!r} is outside [0, 1]")

    # -- overrides ---------------------------------------------------------
    def with_means(self, overrides: Mapping[str, float]) -> "CountModel":
        """Cell means set on the command line (``--rate NAME=MEAN``).

        ``NAME`` is a condition, or a level of the slope factor (``no_favor``)
        meaning every cell at that level.
        """
        means = dict(self.cell_means)
        levels = {lv for f in self.cell_factors.values() for k, lv in f.items() if k == self.slope_factor}
        for name, value in overrides.items():
            if name in means:
                targets = [name]
            elif name in levels:
                targets = [c for c, f in self.cell_factors.items() if f.get(self.slope_factor) == name]
            else:
                raise DeclarationError(f"--rate: unknown condition {name!r}; known: {', '.join(means)} "
                                       f"(or a {self.slope_factor} level: {', '.join(sorted(levels))})")
            for c in targets:
                means[c] = CellMean(float(value), "set on the command line")
        return replace(self, cell_means=means)

    def describe(self) -> dict:
        """JSON-safe description (written to the session sidecar and the protocol)."""
        return _Description({
            "kind": "count",
            "distribution": "negative binomial (NB2: variance = mu + alpha * mu^2) per person, "
                            "person rate shifted by liking",
            "cell_means": {k: {"mean": c.mean, "source": c.source} for k, c in self.cell_means.items()},
            "dispersion": {"alpha": self.dispersion, "source": self.dispersion_source},
            "slope_factor": self.slope_factor,
            "liking_slope": {"by_level": dict(self.liking_slope), "source": self.liking_slope_source},
            "liking_shift": {"factor": self.shift_factor, "by_level": dict(self.liking_shift),
                             "source": self.liking_shift_source},
            "item_noise_sd": self.item_noise,
            "max_tickets": self.max_tickets,
            "p_suspicious": self.p_suspicious,
            "p_knew_confederate": self.p_knew_confederate,
            "p_withdraw": self.p_withdraw,
        })

    # -- drawing one participant ------------------------------------------------
    def draw(self, condition: str, rng: np.random.Generator, design: LabDesign) -> "SimPerson":
        if condition not in self.cell_means:
            raise DeclarationError(f"no simulated cell mean for condition {condition!r}")
        f = self.cell_factors.get(condition, {})
        b = float(self.liking_slope.get(f.get(self.slope_factor, ""), 0.0))
        shift = float(self.liking_shift.get(f.get(self.shift_factor, ""), 0.0))
        z = float(rng.standard_normal())
        mu = self.cell_means[condition].mean * math.exp(b * z - b * b / 2)
        if mu <= 0:
            tickets = 0
        else:
            r = 1.0 / self.dispersion
            tickets = int(rng.negative_binomial(r, r / (r + mu)))
        tickets = min(tickets, self.max_tickets)
        values: dict[str, object] = {}
        for col in design.painting_columns:
            values[col] = int(np.clip(round(5.5 + 1.8 * rng.standard_normal()), 1, 9))
        for item in design.questionnaire:
            if isinstance(item, RatingItem) and item.column in design.composite[1]:
                x = 5 + 1.2 * (shift + z) + self.item_noise * rng.standard_normal()
                values[item.column] = int(np.clip(round(x), item.low, item.high))
        knew = bool(rng.random() < self.p_knew_confederate)
        suspicious = bool(rng.random() < self.p_suspicious)
        withdraw = bool(rng.random() < self.p_withdraw)
        for item in design.questionnaire:
            if isinstance(item, RatingItem) and item.column not in values:
                values[item.column] = int(rng.integers(4, 8)) if knew else 1
            elif isinstance(item, TextItem):
                pool = _SUSPICIOUS_ANSWERS if suspicious else _PLAIN_ANSWERS
                values[item.column] = pool[int(rng.integers(len(pool)))]
        exclusion = "knew_confederate" if knew else ("suspicious" if suspicious else NO_EXCLUSION)
        return SimPerson(condition, tickets, values, exclusion, "withdraw" if withdraw else "keep")


#: Simulated answers to the suspicion probe: commas and quotes on purpose, so
#: the CSV writer's quoting is exercised (no line breaks: Enter submits the
#: answer on the screen, so a real one cannot hold any).  No names.
_PLAIN_ANSWERS = (
    "How people judge modern art.",
    "Whether first impressions of paintings, like colour and shape, change over time",
    'Aesthetic judgement; maybe "complexity" vs simplicity',
    "Art preferences of students, and whether they are stable",
)
_SUSPICIOUS_ANSWERS = (
    "I think the raffle tickets were part of it, to see if the drink made me buy more.",
    'My partner was "in on it", I guess; the study was about favors.',
)


@dataclass(frozen=True)
class SimPerson:
    condition: str
    tickets: int
    values: Mapping[str, object]
    exclusion: str
    debrief: str


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

    def think_time(self, prompt: LabPrompt) -> float:
        """Simulated seconds before the answer (drawn from ``rng``)."""
        lo, hi = {"ready": (5, 30), "cue_card": (20, 60), "consent": (20, 60), "break": (60, 180),
                  "painting": (4, 10), "rating": (3, 8), "text": (20, 60), "debrief": (60, 120),
                  }.get(prompt.kind, (2, 6))
        return self.rng.uniform(lo, hi)

    def choose(self, prompt: LabPrompt, condition: Optional[str]):
        k = prompt.kind
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
        if k == "break":
            return NEXT
        if k in ("painting", "rating", "text"):
            return p.values[prompt.item.column]
        if k == "fidelity":
            return "as_scripted"
        if k in ("tickets", "tickets_confirm"):
            return str(p.tickets)
        if k == "exclusion":
            return p.exclusion
        if k == "debrief":
            return p.debrief
        raise ValueError(f"the scripted participant has no answer for a {k!r} screen")


class LabScriptedIO:
    """Data-only simulation: answers go straight to the logic, no window."""

    def __init__(self, participant: LabScriptedParticipant, clock: SimClock):
        self.participant = participant
        self.clock = clock

    def wait(self, prompt: LabPrompt) -> LabResponse:
        value = self.participant.choose(prompt, prompt.condition)
        return LabResponse(value, self.clock.advance(self.participant.think_time(prompt)))


class LabDriver:
    """The driver of a lab paradigm (see :mod:`paradigms.engine.sessions`).

    ``design`` is the paradigm's :class:`LabDesign`.
    """

    def __init__(self, design: LabDesign):
        self.design = design

    def run(self, paradigm, experiment, store, slots, io, new_id) -> str:
        return run_lab_session(paradigm, experiment, self.design, store, slots, io, new_id)

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]) -> CountModel:
        model = paradigm.experiment(experiment).model
        return model.with_means(overrides) if overrides else model

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return LabScriptedParticipant(model, self.design, rng, participants)

    def scripted_io(self, paradigm, experiment, model, rng, clock, participants):
        return LabScriptedIO(self.scripted_participant(paradigm, experiment, model, rng, participants), clock)

    def screen_io(self, paradigm, experiment, win, scripted=None, time_scale: float = 1.0):
        from ..screens.lab import LabScreen
        return LabScreen(win, paradigm, self.design, scripted=scripted, time_scale=time_scale)
