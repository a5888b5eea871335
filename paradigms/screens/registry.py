"""Which screen draws a paradigm's session: chosen by the declared session type, in this one place.

:func:`present` is the presenter the engine is handed (see
:mod:`paradigms.engine.sessions`): it opens the PsychoPy window and yields the
screen class registered for the paradigm's session type.  A new kind of
session registers its screen with :func:`register_screen`.  Importing this
module imports no PsychoPy; opening a screen does.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

from ..base import FieldSession, SessionType
from ..vocab.lab import LabSession
from ..vocab.mail import MailSession

__all__ = ["present", "screen_for", "register_screen"]


def _field_screen(win, paradigm, experiment, scripted=None, time_scale: float = 1.0):
    from .field import FieldScreen
    return FieldScreen(win, paradigm, scripted=scripted, time_scale=time_scale, experiment=experiment)


def _lab_screen(win, paradigm, experiment, scripted=None, time_scale: float = 1.0):
    from .lab import LabScreen
    return LabScreen(win, paradigm, paradigm.session.design, scripted=scripted, time_scale=time_scale)


def _mail_screen(win, paradigm, experiment, scripted=None, time_scale: float = 1.0):
    from .mail import MailScreen
    return MailScreen(win, paradigm, scripted=scripted, time_scale=time_scale)


_SCREENS: dict[type, Callable] = {FieldSession: _field_screen, LabSession: _lab_screen, MailSession: _mail_screen}


def register_screen(session_type: type, factory: Callable) -> None:
    """Draw sessions of ``session_type`` with ``factory(win, paradigm, experiment, scripted, time_scale)``."""
    if not (isinstance(session_type, type) and issubclass(session_type, SessionType)):
        raise TypeError(f"{session_type!r} is not a session type (a subclass of paradigms.base.SessionType)")
    _SCREENS[session_type] = factory


def screen_for(paradigm, experiment: int, win, scripted=None, time_scale: float = 1.0):
    """The screen of ``paradigm``'s session type on ``win`` (real input, or ``scripted``'s answers)."""
    for cls in type(paradigm.session).__mro__:
        if cls in _SCREENS:
            return _SCREENS[cls](win, paradigm, experiment, scripted=scripted, time_scale=time_scale)
    raise TypeError(f"{paradigm.id}: no screen for a {type(paradigm.session).__name__}")


@contextmanager
def present(paradigm, experiment: int, size=(1280, 800), fullscreen: bool = False, scripted=None,
            time_scale: float = 1.0):
    """Open the window, yield the paradigm's screen on it, close the window however the session ends."""
    from .window import open_window
    win = open_window(size=tuple(size), fullscreen=fullscreen)
    try:
        yield screen_for(paradigm, experiment, win, scripted=scripted, time_scale=time_scale)
    finally:
        win.close()
