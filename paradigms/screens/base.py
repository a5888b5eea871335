"""What every session screen shares, whatever it draws: the input set-up (keyboard, taps, every key
press), the answer loop of :meth:`ScreenBase.wait` (the scripted participant's plan, the key card
behind F1, the question before Q or Esc ends a session), the scripted keys and typing, the stale
input dropped and journalled, the screenshots, the journal, and the notice of a recovered crash.

The screens (:class:`~paradigms.screens.field.FieldScreen`, :class:`~paradigms.screens.lab.LabScreen`,
:class:`~paradigms.screens.mail.MailScreen`) draw differently; these are the parts that must read
and behave the same on all of them.  A screen provides :meth:`ScreenBase._collect` (draw a prompt
until it is answered), :meth:`ScreenBase._synthetic` (the keys and typing that give a scripted
answer) and its two confirmation prompts (:attr:`ScreenBase.confirm_end`,
:attr:`ScreenBase.confirm_quit`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..engine.prompts import END, QUIT, Response, SessionScreen

__all__ = ["ScreenBase", "HELP_KEY", "HELP", "ESCAPE", "CONFIRM_END_TITLE", "CONFIRM_END_TEXT"]

#: the key that shows the session type's key card, on every screen the technician reads
HELP_KEY = "f1"
#: what a screen's collect returns when the help key was pressed
HELP = "__help__"
#: what a screen's collect returns for Esc (the session may be quit, after a question)
ESCAPE = "__escape__"
CONFIRM_END_TITLE = "End the session?"
CONFIRM_END_TEXT = ("Everything recorded so far is already saved. The session ends and its summary is "
                    "shown.")


class ScreenBase(SessionScreen):
    """The base of every screen: set :attr:`journal` (``store.event``) to have it journal what it shows."""

    paradigm = None
    scripted = None
    time_scale = 1.0
    #: where the first frame of each kind of screen is saved as a PNG (``None``: nowhere)
    screenshot_dir: Optional[Path] = None
    #: the prompts asked after Q (end the session) and Esc (quit it), in this screen's prompt type
    confirm_end = None
    confirm_quit = None

    def _open_input(self, win, paradigm, scripted, time_scale: float) -> None:
        """The set-up every screen shares: the window, the keyboard, the tap and key listeners, no
        screenshots, no journal until the session sets one."""
        from psychopy.hardware import keyboard

        from .field import KeyListener, TapListener

        self.win = win
        self.paradigm = paradigm
        self.scripted = scripted
        self.time_scale = float(time_scale)
        self.kb = keyboard.Keyboard(backend="event")
        self.taps = TapListener(win)  # taps on buttons: a touch tap is shorter than a frame
        self.keys = KeyListener(win)  # every key press, as the window gets it
        self.screenshot_dir = None
        self.journal = None
        self._shots: set[str] = set()

    # -- the answer loop --------------------------------------------------------
    def wait(self, prompt) -> Response:
        """Show ``prompt`` until it is answered: its response (or ``QUIT`` after Esc and Yes)."""
        plan = None
        if self.scripted is not None:
            value = self.scripted.choose(prompt, prompt.condition)
            plan = (self._synthetic(prompt, value), self._think_due(prompt))
        while True:
            value = self._collect(prompt, plan)
            if value == HELP:
                self.show_help()
            elif value == END and self.scripted is None:  # Q asks, as Esc does
                if self._collect(self.confirm_end) == "yes":
                    return self._respond(value)
            elif value != ESCAPE:
                return self._respond(value)
            elif self._collect(self.confirm_quit) == "yes":
                return self._respond(QUIT)
            plan = None if plan is None else (plan[0], 0.0)  # back on the screen: answer at once

    def _collect(self, prompt, plan=None):  # pragma: no cover - each screen its own
        """Draw ``prompt`` until it is answered; the answer, :data:`HELP` or :data:`ESCAPE`.  ``plan``:
        the scripted participant's ``(actions, due)`` (see :meth:`_inject`)."""
        raise NotImplementedError

    def _synthetic(self, prompt, value) -> list:  # pragma: no cover - each screen its own
        """The key presses (``("key", name)``) and typing (``("type", text)``) that give ``value``."""
        raise NotImplementedError

    def _think_due(self, prompt) -> float:
        """Seconds until the scripted participant answers ``prompt``."""
        return self.scripted.think_time(prompt) * self.time_scale

    def _now(self) -> str:
        """The time an answer is stamped with (ISO 8601)."""
        from ..engine.store import now_iso
        return now_iso()

    def _respond(self, value) -> Response:
        return Response(value, self._now())

    # -- input --------------------------------------------------------------------
    def _inject(self, action: tuple[str, str], t: float) -> None:
        """One scripted action, the way a person's arrives: a key press, or text typed."""
        kind, what = action
        if kind == "key":
            self.kb.device.makeResponse(code=None, tDown=t, name=what)
        else:
            for ch in what:  # the path pyglet's on_text takes for a real key press
                self.win.backend.onText(ch)

    def _drop_stale_input(self, screen: str) -> None:
        """Journal (and drop) every press and tap that came while no screen was up to take it."""
        from .field import poll_keys

        # dropped on purpose (a double tap must not answer a question not yet seen), and journalled
        for name in poll_keys(self.kb, self.keys):
            self._log("ignored_during_transition", screen=screen, key=name)
        for x, y in self.taps.pop():
            self._log("ignored_during_transition", screen=screen, tap=[round(x, 3), round(y, 3)])
        # no event.clearEvents(): it pumps the window's events and then empties the key buffer, so a
        # key that arrived between the poll above and that call would be dropped unjournalled

    # -- screenshots, journal, help -------------------------------------------------
    def _screenshot(self, key: str, name: Optional[str] = None) -> None:
        """Save the back buffer as ``NN_<name or key>.png`` the first time ``key`` is drawn."""
        if self.screenshot_dir is None or key in self._shots:
            return
        self._shots.add(key)
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self.win.getMovieFrame(buffer="back")
        self.win.saveMovieFrames(str(self.screenshot_dir / f"{len(self._shots):02d}_{name or key}.png"))

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
