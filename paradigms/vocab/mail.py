"""The vocabulary of a mail session: cards posted to strangers, and their replies weeks later.

There is no live participant.  A technician works through a *mailing log*:
one record says that card k (the schedule's slot k, a pseudonymous recipient
id, the slot's condition) was posted; a later record -- another day, another
session -- says that a reply came back (and the date it was received), that
none came once the reply window had closed, or that the post office returned
the card.  Both records are rows of the session files, appended and never
rewritten; the loader joins them into one row per card, and a card whose
window is still open is *pending*, never a refusal.

Addresses never enter the toolkit: the lab keeps its own list of recipients,
keyed by the pseudonymous id the mailing log shows when a card is sent.

A declaration says ``session=MailSession(window_days=56)``; each condition has
one step, the card (its text is what the technician writes, its answers are
*Sent* and *Not sent*).  The engine (``paradigms.engine.mail``) keeps the
mailing log; the presentation (``paradigms.screens.mail``) draws it.

Nothing here imports the engine or PsychoPy.

>>> s = MailSession(window_days=56)
>>> (s.setting, s.deferred_outcome, [m.name for m in s.measures()][:2])
('mail', True, ['record', 'reply'])
"""
from __future__ import annotations

from dataclasses import dataclass

from ..base import DeclarationError, Measure, SessionType

__all__ = ["MailSession", "DISPATCH", "OUTCOME", "REPLY_CODES"]

#: The two records of a card, in the column ``record``.
DISPATCH, OUTCOME = "dispatch", "outcome"

#: The outcomes a card can have (column ``reply``): a reply came back, none came
#: within the window, or the post office returned the card (an exclusion).
REPLY_CODES = {
    "received": "a reply came back (its date in reply_date)",
    "none": "no reply had come when the reply window closed",
    "returned": "the post office returned the card undelivered",
}


@dataclass(frozen=True)
class MailSession(SessionType):
    """A mailing log: card k sent; later its reply (with the date received) or no reply.

    Parameters
    ----------
    window_days : int
        The reply window, in days from the day the card was sent: a reply
        received within it is compliance (``complied = 1``); a reply received
        later is recorded, coded 0 and marked late (``reply_days`` above the
        window); *No reply* can be recorded only once the window has closed.
    reply_days : (int, int)
        Simulation only: a simulated reply arrives uniformly between these
        many days after the card was sent.  No source gives the delays; the
        default is an assumption, said so in the protocol.
    """

    window_days: int = 56
    reply_days: tuple[int, int] = (4, 35)
    setting = "mail"
    deferred_outcome = True

    def __post_init__(self):
        object.__setattr__(self, "reply_days", tuple(self.reply_days))
        if not (isinstance(self.window_days, int) and self.window_days >= 1):
            raise DeclarationError(f"MailSession: window_days must be a whole number of days >= 1, "
                                   f"not {self.window_days!r}")
        lo, hi = self.reply_days
        if not (0 <= lo <= hi <= self.window_days):
            raise DeclarationError(f"MailSession: reply_days {self.reply_days!r} must be two days within the "
                                   f"window (0 <= first <= second <= {self.window_days})")

    def measures(self) -> tuple[Measure, ...]:
        """The mailing log's columns (beyond the common ones and the card step's answer and time)."""
        return (
            Measure("record", "string", "which record of the card this row is: dispatch (the card was posted; "
                    "the outcome is still open) or outcome (what came of it, recorded later)",
                    allowed=(DISPATCH, OUTCOME), missing_ok=False),
            Measure("reply", "string", "outcome record: " + "; ".join(f"{k} = {v}" for k, v in REPLY_CODES.items())
                    + " (empty on the dispatch record)", allowed=tuple(REPLY_CODES)),
            Measure("reply_date", "string", "outcome record: the date the reply was received, YYYY-MM-DD, as "
                    "typed by the technician (empty unless reply = received)"),
            Measure("reply_days", "integer", f"outcome record: days from sending to the reply's arrival; above "
                    f"{self.window_days} (the window) the reply is late and complied is 0", minimum=0),
        )
