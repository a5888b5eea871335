"""What every session screen shares, whatever it draws: the journal, the key card behind F1, the
question before Q ends a session, and the notice of a recovered crash.

The screens (:class:`~paradigms.screens.field.FieldScreen`, :class:`~paradigms.screens.lab.LabScreen`,
:class:`~paradigms.screens.mail.MailScreen`) draw differently; these are the parts that must read
and behave the same on all of them.
"""
from __future__ import annotations

from ..engine.prompts import SessionScreen

__all__ = ["ScreenBase", "HELP_KEY", "HELP", "CONFIRM_END_TITLE", "CONFIRM_END_TEXT"]

#: the key that shows the session type's key card, on every screen the technician reads
HELP_KEY = "f1"
#: what a screen's collect returns when the help key was pressed
HELP = "__help__"
CONFIRM_END_TITLE = "End the session?"
CONFIRM_END_TEXT = ("Everything recorded so far is already saved. The session ends and its summary is "
                    "shown.")


class ScreenBase(SessionScreen):
    """The base of every screen: set :attr:`journal` (``store.event``) to have it journal what it shows."""

    paradigm = None
    scripted = None

    def _log(self, event_name: str, **fields) -> None:
        if self.journal is not None:
            self.journal(event_name, **fields)

    def key_card(self) -> list[str]:
        """The key card of this paradigm's session type, one key a line (the README carries the same)."""
        card = self.paradigm.session.key_card if self.paradigm is not None else ()
        return [f"{key}:  {what}" for key, what in card]

    def show_help(self) -> None:
        """The key card, until acknowledged; journalled as ``help``."""
        self.show_message("Keys", self.key_card(), event="help")

