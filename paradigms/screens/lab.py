"""The lab screens (PsychoPy): the participant's cover task and questionnaire, and the
experimenter's cue card and entries, for lab paradigms (Regan, 1971).

:class:`LabScreen` shows a :class:`~paradigms.engine.lab.LabPrompt` and returns a
:class:`~paradigms.engine.prompts.Response`; all checking of values happens in
the pure logic (:mod:`paradigms.engine.lab`), which hands back the prompt with
an ``error`` to show when an entry is refused.

Input
-----
* Choices: a click on a button, or its key.  Keys of experimenter-only choices
  (function keys: F9 at the breaks, F10 "left before debriefing") are never
  drawn as buttons, so the participant cannot click them.
* Ratings (paintings, questionnaire): a ``visual.Slider`` 1..9.  A click or
  drag sets it (PsychoPy's own mouse handling); the digit keys 1-9 and the
  arrow keys set it too, through the same call the slider makes on mouse
  release (``markerPos = v; recordRating(v)``).  Space, Enter or the Continue
  button goes on once a rating is given.
* Free text (the suspicion probe, the ticket count): an editable
  ``visual.TextBox2``; Enter submits.

Synthetic input (the visual simulation)
---------------------------------------
The scripted participant's answer arrives the way a person's would: keys are
injected with ``KeyboardDevice.makeResponse`` (a choice's key; a rating's
digit followed by Space), and typed text is fed character by character to the
window backend's ``onText`` -- the handler pyglet calls for a real key press,
which passes it to the focused TextBox2 -- followed by an injected Enter.  So
the slider's keyboard path, the text box and the Enter key are exercised; the
mouse path of the slider is PsychoPy's and is not simulated.  The answer
comes after the participant's simulated thinking time times ``time_scale``;
a lab session lasts about half an hour, so a compressed run (``time_scale``
below 1) is compressed a further :data:`LAB_COMPRESSION` times, which keeps
the visual simulation of six participants within seconds at the command
line's default scale.  ``--real-time`` (``time_scale`` 1) is not changed.

Paintings are drawn procedurally (:func:`paint`): seeded abstract compositions
of rectangles, discs and lines rendered into a NumPy texture.  Nothing is
downloaded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
from psychopy import core, event, visual
from psychopy.hardware import keyboard

from ..engine.lab import LabPrompt
from ..engine.prompts import QUIT, Choice, Response
from ..vocab.lab import LabDesign
from ..engine.store import now_iso
from .field import TapListener, poll_keys
from .layout import Frame, reflow

__all__ = ["LabScreen", "paint"]

INK = "#1d1d1f"
SOFT = "#5b5b60"
ERROR = "#b3261e"
EXPERIMENTER_BAND = "#c75000"
TONE_COLOURS = {"positive": "#1b7f3b", "negative": "#b3261e", "neutral": "#55585e"}
WIDTH = 1.5  # usable width in height units (16:10 window is 1.6 wide)
from .layout import FONT  # noqa: E402
#: extra compression of a lab session's simulated times when ``time_scale`` < 1
LAB_COMPRESSION = 0.05
_DIGITS = {str(i): i for i in range(10)} | {f"num_{i}": i for i in range(10)}


# --------------------------------------------------------------------------- #
# Procedural paintings.
# --------------------------------------------------------------------------- #
_PALETTES = (
    [(0.86, 0.16, 0.12), (0.10, 0.22, 0.62), (0.96, 0.80, 0.10), (0.95, 0.95, 0.92)],  # primaries
    [(0.55, 0.23, 0.20), (0.85, 0.55, 0.30), (0.95, 0.85, 0.65), (0.30, 0.28, 0.35)],  # earth
    [(0.12, 0.45, 0.50), (0.90, 0.45, 0.35), (0.98, 0.90, 0.80), (0.20, 0.20, 0.30)],  # teal/coral
    [(0.35, 0.20, 0.45), (0.75, 0.35, 0.55), (0.95, 0.75, 0.45), (0.15, 0.15, 0.20)],  # dusk
)


def paint(seed: int, size: int = 512) -> np.ndarray:
    """An abstract painting as an RGB array of floats in [0, 1], rows from the top.

    The same ``seed`` always gives the same picture.  Three styles, chosen by
    the seed: a grid of coloured rectangles with black bars, discs and lines on
    a tinted ground, or soft colour fields.

    Examples
    --------
    >>> a = paint(3, 64); a.shape, bool((a >= 0).all() and (a <= 1).all())
    ((64, 64, 3), True)
    >>> bool((paint(3, 64) == a).all())
    True
    """
    rng = np.random.default_rng(seed)
    pal = np.array(_PALETTES[rng.integers(len(_PALETTES))])
    style = int(rng.integers(3))
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.ones((size, size, 3)) * pal[-1]
    if style == 0:  # rectangles and bars
        xs = np.sort(np.concatenate([[0, 1], rng.uniform(0.1, 0.9, rng.integers(2, 5))]))
        ys = np.sort(np.concatenate([[0, 1], rng.uniform(0.1, 0.9, rng.integers(2, 5))]))
        for i in range(len(xs) - 1):
            for j in range(len(ys) - 1):
                if rng.random() < 0.45:
                    m = (xx >= xs[i]) & (xx < xs[i + 1]) & (yy >= ys[j]) & (yy < ys[j + 1])
                    img[m] = pal[rng.integers(len(pal) - 1)]
        w = 0.012 + 0.01 * rng.random()
        for x in xs[1:-1]:
            img[np.abs(xx - x) < w] = 0.05
        for y in ys[1:-1]:
            img[np.abs(yy - y) < w] = 0.05
    elif style == 1:  # discs and lines
        img = img * (0.85 + 0.15 * yy[..., None])
        for _ in range(rng.integers(4, 9)):
            cx, cy, r = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.04, 0.22)
            m = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
            img[m] = pal[rng.integers(len(pal) - 1)]
            if rng.random() < 0.5:
                ring = np.abs(np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) - r) < 0.006
                img[ring] = 0.05
        for _ in range(rng.integers(3, 7)):
            x0, y0, x1, y1 = rng.uniform(0, 1, 4)
            d = np.abs((y1 - y0) * xx - (x1 - x0) * yy + x1 * y0 - y1 * x0) / np.hypot(x1 - x0, y1 - y0)
            t = ((xx - x0) * (x1 - x0) + (yy - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2)
            img[(d < 0.005) & (t >= 0) & (t <= 1)] = 0.05
    else:  # soft colour fields
        bands = np.sort(rng.uniform(0.15, 0.85, 2))
        cols = pal[rng.permutation(len(pal) - 1)]
        edges = [0.06, bands[0], bands[1], 0.94]
        for k in range(3):
            soft = 1 / (1 + np.exp(-(yy - edges[k]) * 60)) * 1 / (1 + np.exp((yy - edges[k + 1]) * 60))
            soft = soft * 1 / (1 + np.exp(-(xx - 0.08) * 60)) * 1 / (1 + np.exp((xx - 0.92) * 60))
            img = img * (1 - soft[..., None]) + cols[k] * soft[..., None]
        img = img * (0.94 + 0.06 * rng.random((size, size, 1)))
    return np.clip(img, 0, 1)


def _painting_seed(column: str) -> int:
    """Every participant sees the same painting under the same column."""
    return 19710000 + int(column.rsplit("_", 1)[-1])


# --------------------------------------------------------------------------- #
# The screen.
# --------------------------------------------------------------------------- #
class LabScreen:
    """Draws lab prompts and collects one response per prompt."""

    def __init__(self, win, paradigm, design: LabDesign, scripted=None, time_scale: float = 1.0):
        self.win = win
        self.paradigm = paradigm
        self.design = design
        self.scripted = scripted
        self.time_scale = float(time_scale) * (LAB_COMPRESSION if float(time_scale) < 1 else 1.0)
        self.kb = keyboard.Keyboard(backend="event")
        self.mouse = event.Mouse(win=win, visible=True)  # the slider's own clicks
        self.taps = TapListener(win)  # taps on buttons: a touch tap is shorter than a frame
        self.screenshot_dir: Optional[Path] = None
        self._shots: set[str] = set()
        self._stim_cache: dict = {}
        #: ``store.event`` when set: the screen journals ``drawn`` at each screen's first frame and
        #: every press that came while no screen was up (``ignored_during_transition``)
        self.journal = None
        #: the screens are laid out on a 1.6 x 1.0 page (16:10); in a narrower window the whole
        #: page is scaled down by ``k`` so that nothing runs off the side
        self.aspect = Frame(win).aspect
        self.k = min(1.0, self.aspect / 1.6)

    def _log(self, event_name: str, **fields) -> None:
        if self.journal is not None:
            self.journal(event_name, **fields)

    # -- public -------------------------------------------------------------
    def wait(self, prompt: LabPrompt) -> Response:
        plan = None
        if self.scripted is not None:
            value = self.scripted.choose(prompt, prompt.condition)
            due = self.scripted.think_time(prompt) * self.time_scale
            plan = (self._synthetic(prompt, value), due)
        while True:
            value = self._collect(prompt, plan)
            if value != "__escape__":
                return Response(value, now_iso())
            if self._collect(_CONFIRM_QUIT) == "yes":
                return Response(QUIT, now_iso())
            if plan is not None:
                plan = (plan[0], 0.0)

    # -- synthetic input ------------------------------------------------------
    @staticmethod
    def _synthetic(prompt: LabPrompt, value) -> list[tuple[str, str]]:
        """The key presses (``("key", name)``) and typing (``("type", text)``) that give ``value``."""
        if prompt.kind in ("painting", "rating"):
            return [("key", str(int(value))), ("key", "space")]
        if prompt.kind in ("text", "tickets", "tickets_confirm"):
            return [("type", str(value)), ("key", "return")]
        return [("key", prompt.choice(str(value)).key)]

    def _inject(self, action: tuple[str, str], t: float) -> None:
        kind, what = action
        if kind == "key":
            self.kb.device.makeResponse(code=None, tDown=t, name=what)
        else:
            for ch in what:  # the path pyglet's on_text takes for a real key press
                self.win.backend.onText(ch)

    # -- layout (stimuli are memoised: building TextStims, buttons and sliders is
    #    what costs time, and the same ones come back screen after screen) -------
    def _memo(self, key, factory):
        stim = self._stim_cache.get(key)
        if stim is None:
            stim = self._stim_cache[key] = factory()
        return stim

    def _text(self, text, pos, height, color=INK, anchor="top", align="left", bold=False, italic=False,
              wrap=WIDTH):
        """A block of text; ``pos`` is its top-centre (or centre with ``anchor="center"``)."""
        k = self.k
        text = reflow(text)
        pos, height, wrap = (pos[0] * k, pos[1] * k), height * k, wrap * k
        key = ("text", text, pos, height, color, anchor, align, bold, italic, wrap)

        def make():
            stim = visual.TextStim(self.win, text, pos=(pos[0] - wrap / 2 if align == "left" else pos[0], pos[1]),
                                   height=height, color=color, wrapWidth=wrap, font=FONT, bold=bold,
                                   italic=italic, anchorVert=anchor, alignText=align,
                                   anchorHoriz="left" if align == "left" else "center")
            return stim
        return self._memo(key, make)

    def _frame(self, prompt: LabPrompt) -> list:
        """Header, experimenter band and title."""
        win = self.win
        stims = []
        top = 0.5
        if prompt.audience == "experimenter":
            k = self.k
            stims.append(self._memo("band", lambda: visual.Rect(
                win, width=self.aspect, height=0.06 * k, pos=(0, 0.5 - 0.03 * k), fillColor=EXPERIMENTER_BAND,
                lineColor=None)))
            stims.append(self._text("EXPERIMENTER SCREEN  -  not for the participant's eyes", (0, top - 0.03),
                                    0.026, color="white", anchor="center", align="center", bold=True))
            if prompt.header:
                stims.append(self._text(prompt.header, (0, top - 0.085), 0.022, color=SOFT, anchor="center"))
            title_y, colour = top - 0.14, "#8a3b00"
        else:
            title_y, colour = top - 0.07, "#17406d"
        stims.append(self._text(prompt.title, (0, title_y), 0.042, color=colour, anchor="center", bold=True))
        return stims

    def _button(self, label: str, tone: str, pos, size, letter: float):
        k = self.k
        pos, size, letter = (pos[0] * k, pos[1] * k), (size[0] * k, size[1] * k), letter * k
        return self._memo(("button", label, tone, pos, size, letter), lambda: visual.ButtonStim(
            self.win, text=label, pos=pos, size=size, letterHeight=letter, fillColor=TONE_COLOURS[tone],
            color="white", borderColor=None, bold=True, padding=0.01, font=FONT))

    def _buttons(self, choices: tuple[Choice, ...], y: float = -0.4, height: float = 0.12):
        shown = [c for c in choices if not _experimenter_key(c.key)]
        if not shown:
            return []
        n, gap = len(shown), 0.03
        w = round(min((WIDTH - gap * (n - 1)) / n, 0.62), 4)
        total = n * w + (n - 1) * gap
        x = -total / 2 + w / 2
        out = []
        for ch in shown:
            out.append((ch, self._button(ch.label, ch.tone, (round(x, 4), y), (w, height),
                                         0.028 if len(ch.label) < 30 else 0.024)))
            x += w + gap
        return out

    def _slider(self, prompt: LabPrompt, y: float):
        item = prompt.item

        def make():
            ticks = list(range(item.low, item.high + 1))
            return visual.Slider(self.win, ticks=ticks, labels=[str(t) for t in ticks], granularity=1,
                                 style="rating", size=(1.0 * self.k, 0.035 * self.k), pos=(0, y * self.k),
                                 labelHeight=0.03 * self.k, font=FONT,
                                 color=INK, fillColor="#17406d", borderColor=INK, units="height")
        slider = self._memo(("slider", item.low, item.high, y), make)
        slider.reset()
        anchors = [self._text(item.low_label, (-0.5, y - 0.1), 0.026, color=SOFT, anchor="center",
                              align="center", wrap=0.4),
                   self._text(item.high_label, (0.5, y - 0.1), 0.026, color=SOFT, anchor="center",
                              align="center", wrap=0.4)]
        return slider, anchors

    def _entry(self, big: bool):
        def make():
            k = self.k
            box_size = (1.3 * k, 0.3 * k) if big else (0.4 * k, 0.1 * k)
            return visual.TextBox2(self.win, "", pos=(0, (-0.04 if big else -0.02) * k), size=box_size,
                                   anchor="center", alignment="top-left" if big else "center",
                                   letterHeight=(0.04 if big else 0.06) * k,
                                   color=INK, fillColor="white", borderColor=INK, borderWidth=2, font=FONT,
                                   editable=True, padding=0.015)
        entry = self._memo(("entry", big), make)
        entry.text = ""
        entry.hasFocus = True
        return entry

    def _painting(self, column: str):
        def make():
            # a PIL image is unambiguous (PsychoPy's reading of float arrays has changed between releases)
            from PIL import Image
            pixels = Image.fromarray(np.round(paint(_painting_seed(column)) * 255).astype(np.uint8))
            return visual.ImageStim(self.win, image=pixels, size=(0.5 * self.k, 0.5 * self.k), pos=(0, 0.15 * self.k),
                                    units="height")
        return self._memo(("painting", column), make)

    # -- one screen -------------------------------------------------------------
    def _compose(self, prompt: LabPrompt):
        """The stimuli of a screen: ``(stims, slider, entry, buttons, continue_button)``."""
        stims = self._frame(prompt)
        kind = prompt.kind
        slider = entry = None
        buttons: list = []
        continue_button = None
        err_y = -0.3
        if kind in ("painting", "rating"):
            if kind == "painting":
                stims.append(self._painting(prompt.item.column))
                stims.append(self._text(prompt.text, (0, -0.14), 0.036, anchor="center", align="center"))
                slider_y = -0.25
            else:
                stims.append(self._text(prompt.text, (0, 0.2), 0.05, anchor="center", align="center", wrap=1.3))
                slider_y = -0.02
            slider, anchors = self._slider(prompt, slider_y)
            stims += anchors
            stims.append(self._text("Click on the scale (or press 1-9), then press Space or Continue.",
                                    (-0.2, -0.44), 0.022, color=SOFT, anchor="center", align="center", wrap=1.0))
            continue_button = (Choice("continue", "Continue [Space]", "space", "positive"),
                               self._button("Continue [Space]", "positive", (0.56, -0.44), (0.32, 0.07), 0.026))
        elif kind in ("text", "tickets", "tickets_confirm"):
            big = kind == "text"
            stims.append(self._text(prompt.text, (0, 0.36 if big else 0.3), 0.042 if big else 0.036))
            if prompt.note:
                stims.append(self._text(prompt.note, (0, 0.2 if big else 0.13), 0.026, color=SOFT, italic=True))
            entry = self._entry(big)
            stims.append(entry)
            stims.append(self._text("Press Enter when done.", (0, -0.24 if big else -0.12), 0.024, color=SOFT,
                                    anchor="center", align="center"))
            err_y = -0.34 if big else -0.22
        elif kind == "break":
            stims.append(self._text(prompt.text, (0, 0.08), 0.05, anchor="center", align="center",
                                    wrap=WIDTH * 0.85))
            stims.append(self._text(prompt.note, (0, -0.44), 0.02, color=SOFT, anchor="center", align="center"))
        else:  # choice screens
            long_text = len(prompt.text) > 500
            text_y = 0.34 if prompt.audience == "experimenter" else 0.39
            height = {"cue_card": 0.04}.get(kind, 0.03 if long_text else 0.034)
            stims.append(self._text(prompt.text, (0, text_y), height))
            if prompt.note:
                if kind == "debrief":
                    stims.append(self._text(prompt.note, (0, -0.27), 0.032, bold=True, anchor="center",
                                            align="center"))
                else:
                    stims.append(self._text(prompt.note, (0, -0.24), 0.022, color=SOFT, italic=True))
            buttons = self._buttons(prompt.choices)
            hidden = [c for c in prompt.choices if _experimenter_key(c.key)]
            if hidden:
                stims.append(self._text("   ".join(f"{c.label}: {c.key.upper()}" for c in hidden), (0, -0.475),
                                        0.018, color=SOFT, anchor="center", align="center"))
        if prompt.error:
            stims.append(self._text(prompt.error, (0, err_y), 0.03, color=ERROR, bold=True, anchor="center",
                                    align="center"))
        return stims, slider, entry, buttons, continue_button

    def _collect(self, prompt: LabPrompt, plan=None):
        """Draw ``prompt`` until it is answered; the answer, or ``"__escape__"``."""
        win = self.win
        stims, slider, entry, buttons, continue_button = self._compose(prompt)
        keys = {c.key: c.code for c in prompt.choices}
        actions, due = (list(plan[0]), plan[1]) if plan else ([], None)

        # a press that came while no screen was up to take it is dropped on purpose (a double tap
        # must not answer a question not yet seen), and journalled
        for name in poll_keys(self.kb):
            self._log("ignored_during_transition", screen=prompt.kind, key=name)
        for x, y in self.taps.pop():
            self._log("ignored_during_transition", screen=prompt.kind, tap=[round(x, 3), round(y, 3)])
        event.clearEvents()
        clock = core.Clock()
        shot_key = prompt.kind + ("_error" if prompt.error else "")
        answer = None
        first = True
        lit = None
        while True:
            for s in stims:
                s.draw()
            if slider is not None:
                slider.draw()
                if slider.getRating() is not None:
                    continue_button[1].draw()
            for _, b in buttons:
                b.draw()
            if answer is not None:
                if lit is not None:  # the button taken is lit: the tap was counted
                    visual.Rect(win, width=lit.size[0], height=lit.size[1], pos=lit.pos, fillColor="white",
                                opacity=0.55, lineColor=INK, lineWidth=4).draw()
                self._screenshot(shot_key)
                win.flip()
                if lit is not None and self.scripted is None:
                    core.wait(0.1)
                return answer
            win.flip()
            if first:
                self._log("drawn", screen=prompt.kind, audience=prompt.audience)
                first = False
            if due is not None and actions and clock.getTime() >= due:
                self._inject(actions.pop(0), clock.getTime())
                due = clock.getTime() + min(0.5 * self.time_scale, 0.3)  # the next action, a moment later
            for point in self.taps.pop():
                for ch, b in buttons:
                    if b.contains(point):
                        answer, lit = ch.code, b
                if slider is not None and slider.getRating() is not None and continue_button[1].contains(point):
                    answer, lit = slider.getRating(), continue_button[1]
            for name in poll_keys(self.kb):
                if name == "escape":
                    return "__escape__"
                if entry is not None:
                    if name in ("return", "num_enter"):
                        answer = entry.text.replace("\n", " ").strip()
                    continue
                if slider is not None:
                    if name in _DIGITS and prompt.item.low <= _DIGITS[name] <= prompt.item.high:
                        _set_slider(slider, _DIGITS[name])
                    elif name in ("left", "right"):
                        cur = slider.getRating() or (prompt.item.low + prompt.item.high) // 2
                        step = -1 if name == "left" else 1
                        _set_slider(slider, min(max(cur + step, prompt.item.low), prompt.item.high))
                    elif name in ("space", "return") and slider.getRating() is not None:
                        answer, lit = slider.getRating(), continue_button[1]
                    continue
                if name in keys:
                    answer = keys[name]
                    lit = next((b for ch, b in buttons if ch.code == answer), None)
            if answer is not None:
                continue  # one more frame: the screenshot shows the answered screen

    def _screenshot(self, key: str) -> None:
        if self.screenshot_dir is None or key in self._shots:
            return
        self._shots.add(key)
        self.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self.win.getMovieFrame(buffer="back")
        self.win.saveMovieFrames(str(self.screenshot_dir / f"{len(self._shots):02d}_{key}.png"))


def _set_slider(slider, value: int) -> None:
    """What a click on the scale does on mouse release (``Slider.getMouseResponses``)."""
    slider.markerPos = value
    slider.recordRating(slider.markerPos)


def _experimenter_key(key: str) -> bool:
    return len(key) > 1 and key[0] == "f" and key[1:].isdigit()


_CONFIRM_QUIT = LabPrompt(
    "confirm", "experimenter", "Quit the session?",
    text="Everything recorded so far is already saved. The participant in progress is saved as excluded "
         "(session_quit).",
    choices=(Choice("yes", "Quit [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))
