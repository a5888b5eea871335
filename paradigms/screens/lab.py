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

import numpy as np
from psychopy import core, event, visual

from ..engine.lab import LabPrompt
from ..engine.prompts import Choice
from ..vocab.lab import LabDesign
from .base import CONFIRM_END_TEXT, CONFIRM_END_TITLE, ESCAPE, HELP, HELP_KEY, ScreenBase
from .field import poll_keys
from .layout import Box, fit_text, is_experimenter_key, lab_boxes, reflow, slider_line, snap

__all__ = ["LabScreen", "paint"]

INK = "#1d1d1f"
SOFT = "#5b5b60"
ERROR = "#b3261e"
EXPERIMENTER_BAND = "#c75000"
TONE_COLOURS = {"positive": "#1b7f3b", "negative": "#b3261e", "neutral": "#55585e"}
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
class LabScreen(ScreenBase):
    """Draws lab prompts and collects one response per prompt."""

    def __init__(self, win, paradigm, design: LabDesign, scripted=None, time_scale: float = 1.0):
        self._open_input(win, paradigm, scripted, time_scale)
        self.design = design
        self.time_scale = float(time_scale) * (LAB_COMPRESSION if float(time_scale) < 1 else 1.0)
        self.mouse = event.Mouse(win=win, visible=True)  # the slider's own clicks
        self._stim_cache: dict = {}

    def show_message(self, title: str, lines, button: str = "OK [Space]", event: str = "message") -> None:
        """A message for the experimenter (the session's summary, a recovered crash, the key card):
        shown on an experimenter screen until acknowledged with a click or Space; journalled."""
        text = "\n\n".join(str(x) for x in lines)
        self._log(event, title=title, text=text)
        prompt = LabPrompt("message", "experimenter", title, text=text,
                           choices=(Choice("ok", button, "space", "positive"),))
        plan = ([("key", "space")], 0.0) if self.scripted is not None else None
        while self._collect(prompt, plan) != "ok":
            pass

    # -- synthetic input ------------------------------------------------------
    @staticmethod
    def _synthetic(prompt: LabPrompt, value) -> list[tuple[str, str]]:
        """The key presses (``("key", name)``) and typing (``("type", text)``) that give ``value``."""
        if prompt.kind in ("painting", "rating"):
            return [("key", str(int(value))), ("key", "space")]
        if prompt.kind in ("text", "tickets", "tickets_confirm"):
            return [("type", str(value)), ("key", "return")]
        return [("key", prompt.choice(str(value)).key)]

    # -- layout ---------------------------------------------------------------
    # Every part of a screen has a box from :func:`~paradigms.screens.layout.lab_boxes` (the window's
    # own size and shape); texts are fitted to their boxes.  Stimuli are memoised: building texts,
    # buttons and sliders is what costs time, and the same ones come back screen after screen.
    def _memo(self, key, factory):
        stim = self._stim_cache.get(key)
        if stim is None:
            stim = self._stim_cache[key] = factory()
        return stim

    def _fit(self, text, box, largest, smallest=0.016, **kwargs):
        kwargs.setdefault("color", INK)
        return self._memo(("fit", text, box, largest, smallest, tuple(sorted(kwargs.items()))),
                          lambda: fit_text(self.win, text, box, largest=largest, smallest=smallest, **kwargs))

    def _button(self, label: str, tone: str, pos, size, letter: float):
        return self._memo(("button", label, tone, pos, size, letter), lambda: visual.ButtonStim(
            self.win, text=label, pos=pos, size=size, letterHeight=letter, fillColor=TONE_COLOURS[tone],
            color="white", borderColor=None, bold=True, padding=0.01, font=FONT))

    def _slider(self, prompt: LabPrompt, box: Box):
        item = prompt.item
        n = item.high - item.low + 1
        y, line_h, length = slider_line(box, n)
        label_h = snap(min(0.03, 1.2 * line_h))

        def make():
            ticks = list(range(item.low, item.high + 1))
            return visual.Slider(self.win, ticks=ticks, labels=[str(t) for t in ticks], granularity=1,
                                 style="rating", size=(length, line_h), pos=(0, y), labelHeight=label_h, font=FONT,
                                 color=INK, fillColor="#17406d", borderColor=INK, units="height")
        slider = self._memo(("slider", item.low, item.high, box), make)
        slider.reset()
        return slider

    def _entry(self, box: Box, big: bool):
        def make():
            # no placeholder: PsychoPy's "Type here..." sat under the caret of an empty box
            return visual.TextBox2(self.win, "", pos=box.centre, size=(box.width, box.height),
                                   anchor="center", alignment="top-left" if big else "center",
                                   letterHeight=snap(min(0.04 if big else 0.056, box.height * 0.5)),
                                   color=INK, fillColor="white", borderColor=INK, borderWidth=2, font=FONT,
                                   editable=True, padding=0.015, placeholder="")
        entry = self._memo(("entry", box, big), make)
        entry.text = ""
        entry.hasFocus = True
        return entry

    def _painting(self, column: str, box: Box):
        def make():
            # a PIL image is unambiguous (PsychoPy's reading of float arrays has changed between releases)
            from PIL import Image
            pixels = Image.fromarray(np.round(paint(_painting_seed(column)) * 255).astype(np.uint8))
            return visual.ImageStim(self.win, image=pixels, size=(box.width, box.width), pos=box.centre,
                                    units="height")
        return self._memo(("painting", column, box), make)

    # -- one screen -------------------------------------------------------------
    def boxes(self, prompt: LabPrompt) -> dict:
        """Where each part of ``prompt`` goes in this window (:func:`~paradigms.screens.layout.lab_boxes`)."""
        return lab_boxes(prompt, self.win.size)

    def _compose(self, prompt: LabPrompt):
        """The stimuli of a screen: ``(stims, slider, entry, buttons, continue_button)``."""
        b = self.boxes(prompt)
        kind = prompt.kind
        stims: list = []
        slider = entry = continue_button = None
        buttons: list = []
        if "band" in b:
            stims.append(self._fit("EXPERIMENTER SCREEN  -  not for the participant's eyes", b["band"], 0.026,
                                   color="white", fillColor=EXPERIMENTER_BAND, bold=True, align="center",
                                   anchor="center"))
            if prompt.header:
                header = self._memo(("header", b["header"]), lambda: fit_text(
                    self.win, prompt.header, b["header"], largest=0.022, smallest=0.016, color=SOFT,
                    align="center"))
                if header.text != prompt.header:
                    header.text = prompt.header
                stims.append(header)
            colour = "#8a3b00"
        else:
            colour = "#17406d"
        stims.append(self._fit(prompt.title, b["title"], 0.042, 0.02, color=colour, bold=True, align="center"))
        if kind in ("painting", "rating"):
            if kind == "painting":
                stims.append(self._painting(prompt.item.column, b["image"]))
                stims.append(self._fit(prompt.text, b["text"], 0.036, 0.02, align="center", anchor="center"))
            else:
                stims.append(self._fit(reflow(prompt.text), b["text"], 0.05, 0.02, align="center",
                                       anchor="center"))
            slider = self._slider(prompt, b["slider"])
            stims.append(self._fit(prompt.item.low_label, b["low"], 0.026, color=SOFT, align="top-left"))
            stims.append(self._fit(prompt.item.high_label, b["high"], 0.026, color=SOFT, align="top-right"))
            stims.append(self._fit("Click on the scale (or press 1-9), then press Space or Continue.", b["hint"],
                                   0.022, color=SOFT, align="center", anchor="center"))
            c = b["continue"]
            label = "Continue [Space]"
            continue_button = (Choice("continue", label, "space", "positive"),
                               self._button(label, "positive", c.centre, (c.width, c.height),
                                            snap(min(0.026, (c.width - 0.03) / (0.6 * len(label))))))
        elif kind in ("text", "tickets", "tickets_confirm"):
            big = kind == "text"
            stims.append(self._fit(reflow(prompt.text), b["text"], 0.042 if big else 0.036))
            if prompt.note:
                stims.append(self._fit(prompt.note, b["note"], 0.026, color=SOFT, italic=True))
            entry = self._entry(b["entry"], big)
            stims.append(entry)
            stims.append(self._fit("Press Enter when done.", b["hint"], 0.024, color=SOFT, align="center"))
        elif kind in ("break", "handover"):
            stims.append(self._fit(reflow(prompt.text), b["text"], 0.05, 0.02, align="center", anchor="center"))
            if prompt.note:
                stims.append(self._fit(prompt.note, b["note"], 0.02, color=SOFT, align="center"))
        else:  # choice screens
            largest = 0.04 if kind == "cue_card" else 0.034
            stims.append(self._fit(reflow(prompt.text), b["text"], largest, 0.016))
            if prompt.note:
                if kind == "debrief":
                    stims.append(self._fit(reflow(prompt.note), b["note"], 0.032, bold=True, align="center"))
                else:
                    stims.append(self._fit(reflow(prompt.note), b["note"], 0.022, color=SOFT, italic=True))
            shown = [c for c in prompt.choices if not is_experimenter_key(c.key)]
            for ch, (pos, size) in zip(shown, b["buttons"]):
                buttons.append((ch, self._button(ch.label, ch.tone, pos, size, b["letter"])))
            hidden = [c for c in prompt.choices if is_experimenter_key(c.key)]
            if hidden:
                stims.append(self._fit("   ".join(f"{c.label}: {c.key.upper()}" for c in hidden), b["hidden"],
                                       0.018, color=SOFT, align="center"))
        if prompt.error:
            stims.append(self._fit(prompt.error, b["error"], 0.03, 0.016, color=ERROR, bold=True,
                                   align="center"))
        return stims, slider, entry, buttons, continue_button

    def _collect(self, prompt: LabPrompt, plan=None):
        """Draw ``prompt`` until it is answered; the answer, ``HELP`` or ``ESCAPE``."""
        win = self.win
        stims, slider, entry, buttons, continue_button = self._compose(prompt)
        keys = {c.key: c.code for c in prompt.choices}
        actions, due = (list(plan[0]), plan[1]) if plan else ([], None)
        self._drop_stale_input(prompt.kind)
        clock = core.Clock()
        shot_key = prompt.kind + ("_error" if prompt.error else "")
        answer = lit = None
        first = True
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
                self._show_answered(lit, shot_key)
                return answer
            win.flip()
            if first:
                self._log("drawn", screen=prompt.kind, audience=prompt.audience)
                first = False
            if due is not None and actions and clock.getTime() >= due:
                self._inject(actions.pop(0), clock.getTime())
                due = clock.getTime() + min(0.5 * self.time_scale, 0.3)  # the next action, a moment later
            answer, lit = self._take_taps(prompt, buttons, slider, continue_button, answer, lit)
            answer, lit, leave = self._take_keys(prompt, keys, buttons, slider, entry, continue_button, answer, lit)
            if leave is not None:
                return leave
            # an answer: one more frame, so the screenshot shows the answered screen

    def _show_answered(self, lit, shot_key: str) -> None:
        """The answered screen's last frame: the button taken lit (the tap was counted), screenshotted."""
        if lit is not None:
            visual.Rect(self.win, width=lit.size[0], height=lit.size[1], pos=lit.pos, fillColor="white",
                        opacity=0.55, lineColor=INK, lineWidth=4).draw()
        self._screenshot(shot_key)
        self.win.flip()
        if lit is not None and self.scripted is None:
            core.wait(0.1)

    def _take_taps(self, prompt: LabPrompt, buttons, slider, continue_button, answer, lit):
        """``(answer, lit)`` after this frame's taps: a button's code, or the slider's rating by Continue."""
        for point in self.taps.pop():
            if answer is not None:  # behind the press that was taken: this screen is about to go
                self._log("ignored_during_transition", screen=prompt.kind,
                          tap=[round(point[0], 3), round(point[1], 3)])
                continue
            for ch, b in buttons:
                if b.contains(point):
                    answer, lit = ch.code, b
            if slider is not None and slider.getRating() is not None and continue_button[1].contains(point):
                answer, lit = slider.getRating(), continue_button[1]
        return answer, lit

    def _take_keys(self, prompt: LabPrompt, keys, buttons, slider, entry, continue_button, answer, lit):
        """``(answer, lit, leave)`` after this frame's keys; ``leave`` is ``HELP`` or ``ESCAPE`` when
        the screen is left without an answer, else ``None``."""
        escape = False
        for name in poll_keys(self.kb, self.keys):
            if answer is not None or escape:  # behind the press that was taken: journalled, not lost
                self._log("ignored_during_transition", screen=prompt.kind, key=name)
                continue
            if name == "escape":
                escape = True
                continue
            if name == HELP_KEY and prompt.audience == "experimenter":
                return answer, lit, HELP
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
        return answer, lit, (ESCAPE if escape else None)


def _set_slider(slider, value: int) -> None:
    """What a click on the scale does on mouse release (``Slider.getMouseResponses``)."""
    slider.markerPos = value
    slider.recordRating(slider.markerPos)


_CONFIRM_END = LabPrompt(
    "confirm_end", "experimenter", CONFIRM_END_TITLE, text=CONFIRM_END_TEXT,
    choices=(Choice("yes", "End the session [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))
_CONFIRM_QUIT = LabPrompt(
    "confirm", "experimenter", "Quit the session?",
    text="Everything recorded so far is already saved. The participant in progress is saved as excluded "
         "(session_quit).",
    choices=(Choice("yes", "Quit [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))


LabScreen.confirm_end, LabScreen.confirm_quit = _CONFIRM_END, _CONFIRM_QUIT
