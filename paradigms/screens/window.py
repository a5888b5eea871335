"""Opening a PsychoPy window that works on a tablet, a lab PC and under Xvfb."""
from __future__ import annotations

import os


def open_window(size=(1280, 800), fullscreen: bool = False, color="#f4f1ea"):
    """A window in ``height`` units (the screen is 1.0 tall, about 1.6 wide on a tablet).

    Timing checks are off and gamma errors only warn: the requester's screen
    shows text and buttons, no timed stimuli, and must also open under Xvfb.
    """
    from psychopy import logging, visual
    logging.console.setLevel(logging.ERROR)
    if os.environ.get("COMPLIANCE_WINDOWED"):
        fullscreen = False
    return visual.Window(size=size, fullscr=fullscreen, units="height", color=color,
                         checkTiming=False, gammaErrorPolicy="warn", allowGUI=not fullscreen,
                         winType="pyglet")
