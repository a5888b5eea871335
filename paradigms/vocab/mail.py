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
    key_card = (
        ("Up / Down", "pick a card on the mailing log"),
        ("S", "Send the next card of the schedule; then S sent / X not sent"),
        ("R", "Reply received for the picked card; then type the day (YYYY-MM-DD) and Enter"),
        ("N", "No reply for the picked card (once its reply window has closed)"),
        ("U", "the picked card was Returned"),
        ("Q", "End the session (asks first)"),
        ("Esc", "Quit the session (asks first)"),
        ("F1", "this key card"),
    )

    def __post_init__(self):
        object.__setattr__(self, "reply_days", tuple(self.reply_days))
        if not (isinstance(self.window_days, int) and self.window_days >= 1):
            raise DeclarationError(f"MailSession: window_days must be a whole number of days >= 1, "
                                   f"not {self.window_days!r}")
        lo, hi = self.reply_days
        if not (0 <= lo <= hi <= self.window_days):
            raise DeclarationError(f"MailSession: reply_days {self.reply_days!r} must be two days within the "
                                   f"window (0 <= first <= second <= {self.window_days})")

    def protocol_texts(self) -> dict:
        """The protocol's mail-specific paragraphs: the mailing log, the addresses, the window."""
        w = self.window_days
        return {
            "trained": "technician who keeps the mailing log",
            "session": (
                "## The mailing log\n\n"
                "There is no live participant: each card is two records in the session files, appended and never "
                "rewritten. **Send the next card** takes the schedule's next slot and shows the card number, the "
                "recipient's pseudonymous id and the card to write; *Sent* writes the card's dispatch record "
                "(`record = dispatch`; the day sent is `t_card`). Days or weeks later, in any later session, pick "
                f"the card on the log (arrow keys) and record its outcome record (`record = outcome`): *Reply "
                f"received* with the day it arrived (`reply_date`, YYYY-MM-DD; `reply_days` and `complied` follow: "
                f"1 within {w} days, 0 later), *No reply* (only once the card's {w}-day window has closed: the log "
                "refuses it before), or *Returned* (the card came back undelivered: excluded). A session may be "
                "short (open the log, record what came in the post, end it); cards stay open across days and "
                "sessions, and sessions go on after every slot of the schedule has been used.\n\n"
                "**Addresses never enter the toolkit.** The lab keeps its own list of recipients (name and address), "
                "apart from the session data, keyed by the pseudonymous id the log shows when a card is sent; it "
                "is used to post the cards and the debriefing letters and to match a reply to its card, and is "
                "destroyed when the study ends.\n\n"
                "The log refuses, in one line and without writing anything: an outcome for a card never sent, a "
                "second outcome for the same card, *No reply* while the window is open, a reply dated before its "
                "card was sent or after today. At analysis the loader joins each card's two records into one "
                "row; a card without an outcome is reported as **pending** (never as a refusal) and left out of "
                f"the tests. Simulated replies arrive uniformly {self.reply_days[0]} to {self.reply_days[1]} days "
                "after sending (a simulation assumption)."),
            "exclusions": "Record an exclusion on the mailing log: *Not sent* on the card screen, *Returned* for a "
                          "card the post office brings back; the record is kept and marked.",
            "debriefing": "When a card's outcome is recorded the technician posts the debriefing letter and records "
                          "*Letter posted* or *Not posted* (`debriefed` 1 or 0); `data_consent` stays empty (the "
                          "recipient could not be asked), and a withdrawal that comes back is recorded with "
                          "`compliance withdraw`.",
        }

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
