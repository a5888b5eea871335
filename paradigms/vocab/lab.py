"""The vocabulary of a lab session: what the participant's and the experimenter's screens show, in order.

A lab paradigm (Regan, 1971, is the first) runs one participant at a time in a
room with a confederate: a cover task of ratings in two blocks around scripted
breaks, a questionnaire, then the experimenter's entries (the count outcome,
the confederate's report of how the scripts went, any exclusion) and the
debriefing.  A declaration says all of that with the classes below and hands
them to the paradigm as ``session=LabSession(design)``; the engine
(``paradigms.engine.lab``) turns them into screens of logic, the presentation
(``paradigms.screens.lab``) into PsychoPy stimuli.

Nothing here imports the engine or PsychoPy.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, replace

from ..base import DeclarationError, Measure, SessionType

__all__ = ["RatingItem", "TextItem", "Break", "LabDesign", "LabSession"]


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
    #: the count column the experimenter's entry fills, and the question on that screen
    count_column: str = "tickets"
    count_title: str = "Tickets bought"
    count_question: str = "How many raffle tickets did the participant buy?"
    count_note: str = "Take the number from the confederate's sealed slip, out of the participant's sight."
    #: design factors the protocol keeps the experimenter blind to: her screens never name them (only
    #: the confederate's cue card does)
    blind_to: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "breaks", tuple(self.breaks))
        object.__setattr__(self, "questionnaire", tuple(self.questionnaire))
        if len(self.breaks) != 3:
            raise DeclarationError(f"LabDesign: breaks must be three (before, between and after the two "
                                   f"rating blocks), not {len(self.breaks)}")
        if self.paintings < 1:
            raise DeclarationError(f"LabDesign: paintings must be at least 1, not {self.paintings}")
        for item in self.questionnaire:
            if not isinstance(item, (RatingItem, TextItem)):
                raise DeclarationError(f"LabDesign: questionnaire item {item!r} is not a RatingItem or TextItem")
        columns = {i.column for i in self.questionnaire}
        missing = [c for c in self.composite[1] if c not in columns]
        if missing:
            raise DeclarationError(f"LabDesign: composite {self.composite[0]!r} names items not in the "
                                   f"questionnaire: {', '.join(missing)}")

    def protocol_debriefing(self, before: str, after: str, width: int = 99) -> str:
        """The printed protocol's debriefing: ``before``, then the participant's debriefing
        (:attr:`debriefing_participant`, the one text of it) quoted as one paragraph wrapped at
        ``width`` characters, then ``after`` (what the experimenter does next).

        >>> d = LabDesign("w", "q", "lo", "hi", 2, (Break("a", "x", "s"),) * 3, (), ("c", ()),
        ...               "You were told a story.\\n\\nIt was planned.", "Keep?")
        >>> print(d.protocol_debriefing("Read it:", "Then ask.", width=20))
        Read it:
        "You were told a
        story. It was
        planned."
        Then ask.
        """
        quoted = textwrap.fill('"' + " ".join(self.debriefing_participant.split()) + '"', width=width)
        return f"{before}\n{quoted}\n{after}"

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




@dataclass(frozen=True)
class LabSession(SessionType):
    """A lab session: participant and experimenter screens, in the order ``design`` gives.

    The engine drives it with its lab trial (``paradigms.engine.lab``); the
    presentation draws it on one PsychoPy window that participant and
    experimenter share.
    """

    design: LabDesign
    setting = "lab"
    key_card = (
        ("Space", "Next participant (ready screen); the confederate has read the cue card: start"),
        ("Y / N", "the participant: consent, and whether his answers may be used"),
        ("1-9, arrows, Space", "the participant: a rating on the scale, then go on"),
        ("Enter", "a typed answer or ticket count is done"),
        ("F9", "experimenter: continue after a break or the hand-over screen"),
        ("D / V / R", "experimenter: the confederate's report (done as scripted / deviated / declined the drink)"),
        ("0-3", "experimenter: no exclusion, or the exclusion's reason"),
        ("F10", "experimenter, on the debriefing: the participant left before the debriefing"),
        ("Q", "End the session (ready screen; asks first)"),
        ("Esc", "Quit the session (asks first; a participant in progress is saved as excluded)"),
        ("F1", "this key card (experimenter screens)"),
    )

    def __post_init__(self):
        if not isinstance(self.design, LabDesign):
            raise DeclarationError(f"LabSession: design must be a LabDesign, not {type(self.design).__name__}")

    def measure(self, column: str, description: str) -> Measure:
        """The column ``column`` as this session fills it (:meth:`measures`: its type and bounds, which
        the design says once), described in the declaration's own words.

        A declaration describes a column further this way without saying its bounds again.
        """
        for m in self.measures():
            if m.name == column:
                return replace(m, description=description)
        raise DeclarationError(f"LabSession: the session fills no column {column!r}; it fills "
                               + ", ".join(m.name for m in self.measures()))

    def measures(self) -> tuple[Measure, ...]:
        """The columns the lab screens fill, derived from the design (the declaration may describe
        them further in ``Paradigm.measures``): the count, the composite's items and the composite,
        the other questionnaire items, the cover-task ratings."""
        d = self.design
        items = {i.column: i for i in d.questionnaire}
        composite, parts = d.composite

        def rated(i: RatingItem, what: str) -> Measure:
            return Measure(i.column, "integer", f"{what}\"{i.question}\" (rated {i.low}..{i.high}: {i.low} = "
                           f"{i.low_label}, {i.high} = {i.high_label})", minimum=i.low, maximum=i.high)

        out = [Measure(d.count_column, "integer", f"{d.count_question} (0..{d.max_tickets}, entered twice by the "
                       "experimenter; empty if never reached)", minimum=0, maximum=d.max_tickets)]
        out += [rated(items[c], "") for c in parts if isinstance(items[c], RatingItem)]
        lows = [items[c].low for c in parts if isinstance(items[c], RatingItem)]
        highs = [items[c].high for c in parts if isinstance(items[c], RatingItem)]
        out.append(Measure(composite, "number", f"mean of {', '.join(parts)}", minimum=min(lows, default=None),
                           maximum=max(highs, default=None)))
        for i in d.questionnaire:
            if i.column in parts:
                continue
            out.append(rated(i, "") if isinstance(i, RatingItem) else
                       Measure(i.column, "string", f"free-text answer to \"{i.question}\", verbatim"))
        out += [Measure(c, "integer", f"cover task: rating {c[-2:]} of {d.paintings} (1..9)", minimum=1, maximum=9)
                for c in d.painting_columns]
        return tuple(out)
