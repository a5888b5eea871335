"""What a screen of logic hands out and takes back, for every kind of session.

A trial (:class:`~paradigms.engine.field.FieldTrial`,
:class:`~paradigms.engine.lab.LabTrial`) hands out prompts -- a screen's title,
text and :class:`Choice` buttons -- and takes back one :class:`Response`: the
value given (a choice's code, a rating, a typed text) and the ISO 8601 time it
was given.  A touchscreen tap, a key press in the lab and a simulated
participant's answer all reach the logic as the same response.

>>> ok = Choice("agree", "Agreed [A]", "a", "positive")
>>> find_choice((ok,), "agree", "step").label
'Agreed [A]'
>>> Response("agree", "2026-01-05T10:00:04.000+00:00").value
'agree'
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional, Protocol

from ..errors import UsageError

__all__ = ["Choice", "Response", "SessionIO", "SessionScreen", "find_choice", "QUIT", "END"]

#: The value an IO returns when the user confirmed Esc (quit the session).
QUIT = "__quit__"
#: The value of the ready screen's "End session" choice.
END = "end_session"


@dataclass(frozen=True)
class Choice:
    """One button of a screen, with its keyboard shortcut and colour."""

    code: str
    label: str
    key: str
    tone: str = "neutral"  # "positive", "negative" or "neutral": colour on screen
    #: ``(place, places)``: the button's fixed place in a row of ``places`` (empty places stay empty);
    #: ``None``: buttons in the order given
    place: Optional[tuple[int, int]] = None


class Response(NamedTuple):
    """What came back from a screen: the value given and when (ISO 8601).

    A named tuple (one made per screen: a third of a frozen dataclass's cost) that compares as the
    frozen dataclass it was: equal only to a response (never to a plain tuple), hashed as its fields,
    read-only.

    >>> Response("agree", "t") == Response("agree", "t"), Response("agree", "t") == ("agree", "t")
    (True, False)
    >>> ("agree", "t") != Response("agree", "t"), hash(Response("agree", "t")) == hash(("agree", "t"))
    (True, True)
    """

    value: object
    t: str

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return tuple.__eq__(self, other)
        # another tuple would compare its items (tuple's own reflected comparison): unequal, as the dataclass
        return False if isinstance(other, tuple) else NotImplemented

    def __ne__(self, other):
        if other.__class__ is self.__class__:
            return tuple.__ne__(self, other)
        return True if isinstance(other, tuple) else NotImplemented

    __hash__ = tuple.__hash__


class SessionIO(Protocol):
    """Anything that shows a prompt and waits for its response: a PsychoPy screen or a scripted participant."""

    def wait(self, prompt) -> Response:  # pragma: no cover - protocol
        ...


class SessionScreen:
    """What a presenter yields for a session: it waits for prompts (:class:`SessionIO`) and shows the
    technician's messages.  This base journals a message (``store.event`` set as :attr:`journal`) and
    shows nothing; the presentation side's screens draw it too."""

    #: ``store.event`` when set: what the screen shows and ignores is journalled
    journal = None

    def wait(self, prompt) -> Response:  # pragma: no cover - each screen its own
        raise NotImplementedError

    def show_message(self, title: str, lines, button: str = "OK [Space]", event: str = "message") -> None:
        """A message for the technician, until acknowledged; journalled as ``event``."""
        if self.journal is not None:
            self.journal(event, title=title, text="\n\n".join(str(x) for x in lines))

    def show_recovery(self, recovery) -> None:
        """What the command found of an earlier crash, in plain sentences, before the first screen."""
        self.show_message("Recovered from an interrupted session", recovery.notice())


def find_choice(choices, code: str, screen: str) -> Choice:
    """The choice with ``code`` on a screen; a ValueError naming the screen otherwise.

    >>> find_choice((), "agree", "ready")
    Traceback (most recent call last):
    ...
    paradigms.errors.UsageError: 'agree' is not a choice on the ready screen (no choices)
    """
    for c in choices:
        if c.code == code:
            return c
    raise UsageError(f"{code!r} is not a choice on the {screen} screen "
                     f"({', '.join(c.code for c in choices) or 'no choices'})")
