"""Opening a PsychoPy window that works on a tablet, a lab PC and under Xvfb.

``compliance run`` opens its window first (:func:`open_early`) and shows a
"Loading..." frame while it builds the rest: the session's screens, its
files and its checks.  The session then takes that same window
(:func:`open_window` hands it over when the size and mode match), so the
technician sees the window within a second or two of the command, not once
everything is ready.

With ``COMPLIANCE_FIRST_FRAME=FILE`` in the environment, the time of the first
frame is written to ``FILE`` as it is shown (``{"t": <unix time>, "modules": [...]}``, the
analysis libraries loaded by then): the launch benchmark
(``benchmarks/test_launch_bench.py``) and the import test (``tests/test_launch.py``) read it.
"""
from __future__ import annotations

import json
import os
import time
from typing import Optional

__all__ = ["open_window", "open_early", "close_early", "show_refusal", "refusal_sentences", "LOADING",
           "REFUSAL_TITLE"]

REFUSAL_TITLE = "This session cannot start"

LOADING = "Loading…"
_early: Optional[tuple] = None  # (window, size, fullscreen) opened ahead and not yet taken


def open_window(size=(1280, 800), fullscreen: bool = False, color="#f4f1ea"):
    """A window in ``height`` units (the screen is 1.0 tall, about 1.6 wide on a tablet).

    Timing checks are off and gamma errors only warn: the requester's screen
    shows text and buttons, no timed stimuli, and must also open under Xvfb.
    The window :func:`open_early` opened is returned instead of a new one
    when its size and mode are the ones asked for.
    """
    global _early
    if os.environ.get("COMPLIANCE_WINDOWED"):
        fullscreen = False
    if _early is not None:
        win, early_size, early_full = _early
        _early = None
        if tuple(early_size) == tuple(size) and early_full == fullscreen and not getattr(win, "_closed", False):
            return win
        win.close()
    from psychopy import logging, visual

    from .layout import pin_font
    logging.console.setLevel(logging.ERROR)
    win = visual.Window(size=size, fullscr=fullscreen, units="height", color=color,
                         checkTiming=False, gammaErrorPolicy="warn", allowGUI=not fullscreen,
                         winType="pyglet")
    pin_font()  # every screen draws with the shipped font files, the same on every machine and run
    return win


def open_early(size=(1280, 800), fullscreen: bool = False, text: str = LOADING):
    """Open the session's window now and show ``text`` on it; :func:`open_window` hands it over later.

    Returns the window.  Call :func:`close_early` when the session did not
    start (a check failed), so the window does not stay open.
    """
    global _early
    if os.environ.get("COMPLIANCE_WINDOWED"):
        fullscreen = False
    win = open_window(size=size, fullscreen=fullscreen)
    from psychopy import visual
    visual.TextStim(win, text, height=0.05, color="#5b5b60").draw()
    win.flip()
    _mark_first_frame()
    _early = (win, tuple(size), fullscreen)
    return win


def close_early() -> None:
    """Close the window :func:`open_early` opened, if the session never took it."""
    global _early
    if _early is not None:
        win, _early = _early[0], None
        win.close()


def refusal_sentences(message: str) -> list[str]:
    """A refusal's one-line message as plain sentences: its clauses (``;``) each a sentence.

    >>> refusal_sentences("s.csv: all 6 slots are used; make a new schedule")
    ['s.csv: all 6 slots are used.', 'Make a new schedule.']
    """
    out = []
    for part in str(message).split("; "):
        part = part.strip().rstrip(".")
        if part:
            out.append(part[:1].upper() + part[1:] + "." if out else part + ".")
    return out


def show_refusal(message: str, screenshot: Optional[str] = None) -> bool:
    """Show why the session cannot start on the window :func:`open_early` opened, in plain
    sentences, until Esc; ``False`` (nothing shown) when no such window is open.

    ``screenshot``: a PNG file to save the screen to (its first frame), for the tests.
    """
    if _early is None:
        return False
    from psychopy import event, visual

    from .layout import FONT, Frame, font_files
    win = _early[0]
    fr = Frame(win)
    text = "\n\n".join(refusal_sentences(message) + ["Nothing was recorded. Press Esc to close."])
    stims = [visual.TextStim(win, REFUSAL_TITLE, pos=(0, 0.38), height=0.045, color="#8a1c1c", bold=True,
                             font=FONT, fontFiles=font_files(), wrapWidth=fr.width),
             visual.TextStim(win, text, pos=(0, 0.3), height=0.03 if fr.portrait else 0.034, color="#1d1d1f",
                             font=FONT, fontFiles=font_files(), wrapWidth=fr.width, anchorVert="top", alignText="left")]
    event.clearEvents()
    first = True
    while True:
        for stim in stims:
            stim.draw()
        if first and screenshot:
            win.getMovieFrame(buffer="back")
            win.saveMovieFrames(screenshot)
        win.flip()
        first = False
        if "escape" in event.getKeys():
            return True


#: libraries a session does not need; which of them are loaded at the first frame is recorded
HEAVY = ("statsmodels", "scipy", "pandas", "matplotlib", "pyarrow", "analysis")


def _mark_first_frame() -> None:
    path = os.environ.get("COMPLIANCE_FIRST_FRAME")
    if path:
        import sys
        loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"t": time.time(), "modules": loaded}, fh)
