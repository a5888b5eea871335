"""The requester's tablet screen (PsychoPy), for every field paradigm.

It shows a :class:`~paradigms.engine.field.Prompt` -- title, the words to say
in large type, a stage direction, touch buttons -- and returns the answer as a
:class:`~paradigms.engine.field.Response`.  A tap on a button and its keyboard
shortcut reach the logic as the same response.  In the visual simulation a
scripted participant chooses the answer and presses its key through PsychoPy's
keyboard device (``KeyboardDevice.makeResponse``), after a simulated delay
compressed by ``time_scale``.

Esc asks before quitting; quitting returns :data:`~paradigms.engine.field.QUIT`
and the session loop saves everything.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from psychopy import core, event, visual
from psychopy.hardware import keyboard

from ..engine.field import END, EXCLUDE, QUIT, Choice, Prompt, Response
from ..engine.store import now_iso

__all__ = ["FieldScreen", "TONE_COLOURS", "TapListener", "key_name", "poll_keys"]

TONE_COLOURS = {"positive": "#1b7f3b", "negative": "#b3261e", "neutral": "#55585e"}
INK = "#1d1d1f"
SOFT = "#5b5b60"

# layout, in height units (the screen is 1.0 tall; a 16:10 tablet is 1.6 wide)
WIDTH = 1.52
SAY_BOX = 0.5           # height of the box for the words to say
#: letter heights tried, largest first; 0.052 is ~42 px on an 800-px-tall tablet,
#: readable at arm's length; long texts (the debriefing) step down until they fit
SAY_SIZES = (0.056, 0.052, 0.048, 0.044, 0.04, 0.036, 0.032, 0.028)
LINE_PITCH = 1.4        # line spacing of Noto Sans in TextBox2, in letter heights (measured)
NARROW = (EXCLUDE, END)


_FITTED: dict[tuple, float] = {}


def fit_text(win, text: str, pos, width: float, height: float):
    """A TextBox2 with the largest letter height at which ``text`` fits the box.

    The size found is remembered per text, so a script shown again is laid out
    once: a screen must appear at once after a tap.
    """
    def make(size):
        return visual.TextBox2(win, text, pos=pos, size=(width, height), anchor="top-center",
                               alignment="top-left", letterHeight=size, color=INK, font="Noto Sans",
                               editable=False)
    key = (text, width, height)
    if key in _FITTED:
        return make(_FITTED[key])
    for size in SAY_SIZES:
        box = make(size)
        lines = getattr(box, "_lineNs", None)  # TextBox2's line index per character
        n_lines = int(lines.max()) + 1 if lines is not None and len(lines) else 1
        if n_lines * LINE_PITCH * size <= height:
            break
    _FITTED[key] = size
    return box


class FieldScreen:
    """Draws prompts and collects one answer per prompt."""

    def __init__(self, win, paradigm=None, scripted=None, time_scale: float = 1.0,
                 experiment: Optional[int] = None):
        self.win = win
        self.paradigm = paradigm
        self.scripted = scripted
        self.time_scale = float(time_scale)
        self.kb = keyboard.Keyboard(backend="event")
        self.taps = TapListener(win)
        self.screenshot_dir: Optional[Path] = None
        self._shot_titles: set[str] = set()
        #: screens put up so far; input is taken from the moment a screen is up
        self.screens_shown = 0
        if paradigm is not None and experiment is not None:
            self._lay_out_scripts(paradigm.experiment(experiment))

    def _lay_out_scripts(self, experiment) -> None:
        """Fit every text of the session before the first passer-by, so no screen lags."""
        texts = {self.paradigm.ready_say, self.paradigm.debriefing}
        texts.update(step.say for c in experiment.conditions for step in c.steps)
        for text in texts:
            fit_text(self.win, text, pos=(0, 0.375), width=WIDTH, height=SAY_BOX)

    # -- drawing -----------------------------------------------------------
    def _stims(self, prompt: Prompt):
        win = self.win
        stims = []
        if prompt.header:
            stims.append(visual.TextStim(win, prompt.header, pos=(0, 0.465), height=0.024, color=SOFT,
                                         wrapWidth=WIDTH))
        title_colour = "#8a1c1c" if (prompt.step is not None and prompt.step.target) else "#17406d"
        stims.append(visual.TextStim(win, prompt.title, pos=(0, 0.41), height=0.042, color=title_colour,
                                     bold=True, wrapWidth=WIDTH))
        if prompt.say:
            stims.append(fit_text(win, prompt.say, pos=(0, 0.375), width=WIDTH, height=SAY_BOX))
        if prompt.note:
            stims.append(visual.TextBox2(
                win, prompt.note, pos=(0, -0.135), size=(WIDTH, 0.11), anchor="top-center",
                alignment="top-left", letterHeight=0.025, color=SOFT, italic=True, font="Noto Sans",
                editable=False))
        buttons = self._buttons(prompt.choices, many=prompt.kind == "exclude")
        return stims, buttons

    def _buttons(self, choices, many: bool = False):
        buttons = []
        if many:  # two rows of reasons
            per_row = (len(choices) + 1) // 2
            w, h, gap = (WIDTH - 0.03 * (per_row - 1)) / per_row, 0.11, 0.03
            for i, ch in enumerate(choices):
                row, col = divmod(i, per_row)
                x = -WIDTH / 2 + w / 2 + col * (w + gap)
                y = 0.05 - row * (h + 0.04)
                buttons.append((ch, self._button(ch, (x, y), (w, h), 0.03)))
            return buttons
        n = len(choices)
        gap = 0.03
        # "Exclude..." and "End session" are the narrow ones: answers come first
        weights = [0.7 if ch.code in NARROW else 1.0 for ch in choices]
        unit = (WIDTH - gap * (n - 1)) / sum(weights)
        x = -WIDTH / 2
        for ch, wt in zip(choices, weights):
            w = unit * wt
            buttons.append((ch, self._button(ch, (x + w / 2, -0.38), (w, 0.16), 0.036)))
            x += w + gap
        return buttons

    def _button(self, ch: Choice, pos, size, letter):
        return visual.ButtonStim(self.win, text=ch.label, pos=pos, size=size, letterHeight=letter,
                                 fillColor=TONE_COLOURS[ch.tone], color="white", borderColor=None,
                                 bold=True, padding=0.01)

    def _draw(self, stims, buttons, title: str):
        for s in stims:
            s.draw()
        for _, b in buttons:
            b.draw()
        if self.screenshot_dir is not None and title not in self._shot_titles:
            self._shot_titles.add(title)
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            self.win.getMovieFrame(buffer="back")
            safe = "".join(c if c.isalnum() else "_" for c in title.lower()).strip("_")
            self.win.saveMovieFrames(str(self.screenshot_dir / f"{len(self._shot_titles):02d}_{safe}.png"))
        self.win.flip()

    # -- input -------------------------------------------------------------
    def wait(self, prompt: Prompt) -> Response:
        scripted_key = due = None
        if self.scripted is not None:
            scripted_key = prompt.choice(self.scripted.choose(prompt, prompt.condition)).key
            due = self.scripted.think_time(prompt) * self.time_scale
        while True:
            code = self._collect(prompt, scripted_key, due)
            if code != "escape":
                return Response(code, now_iso())
            if self._collect(_CONFIRM_QUIT) == "yes":
                return Response(QUIT, now_iso())
            due = None if scripted_key is None else 0.0  # back on the screen: answer at once

    def _collect(self, prompt: Prompt, scripted_key: Optional[str] = None, due: Optional[float] = None) -> str:
        """Draw the prompt until a button is tapped or a key pressed; its code.

        Returns ``"escape"`` for Esc.  Only a tap that starts while this
        screen is shown counts.
        """
        stims, buttons = self._stims(prompt)
        keys = {ch.key: ch.code for ch in prompt.choices}
        step = prompt.step
        cue = cue_at = None
        if step is not None and step.cue:
            cue = visual.TextBox2(self.win, step.cue, pos=(0, -0.2), size=(WIDTH, 0.13), anchor="center",
                                  alignment="center", letterHeight=0.06, color="white", fillColor="#c75000",
                                  bold=True, font="Noto Sans", editable=False)
            cue_at = step.cue_after * self.time_scale
        self.kb.clearEvents()
        event.clearEvents()
        self.taps.clear()  # a tap on the previous screen does not carry over
        clock = core.Clock()
        first = True
        while True:
            now = clock.getTime()  # one reading per frame: what is drawn is what the answer follows
            if cue is not None and now >= cue_at and cue not in stims:
                stims = stims + [cue]
            self._draw(stims, buttons, prompt.title + (" cue" if cue is not None and cue in stims else ""))
            if first:
                self.screens_shown += 1
                first = False
            if due is not None and now >= due:
                # the scripted participant presses the answer's key, as a person would
                self.kb.device.makeResponse(code=None, tDown=clock.getTime(), name=scripted_key)
                due = None
            for point in self.taps.pop():
                for ch, b in buttons:
                    if b.contains(point):
                        return ch.code
            for name in poll_keys(self.kb):
                if name == "escape":
                    return "escape"
                if name in keys:
                    return keys[name]


class TapListener:
    """Every press of the mouse or a finger, where it landed, in window units.

    A tap on a touch screen is a press and a release within a few
    milliseconds, often inside one frame, so polling the button state misses
    it; this listens to the window's own press events instead.  Points are in
    ``height`` units, the units of the window.
    """

    def __init__(self, win):
        self.win = win
        self._points: list[tuple[float, float]] = []
        win.winHandle.push_handlers(on_mouse_press=self._on_press)

    def _on_press(self, x, y, button, modifiers):
        w, h = self.win.winHandle.width, self.win.winHandle.height  # pyglet's own (logical) pixels
        self._points.append(((x - w / 2) / h, (y - h / 2) / h))

    def clear(self) -> None:
        self._points.clear()

    def pop(self) -> list[tuple[float, float]]:
        pts, self._points = self._points, []
        return pts


def poll_keys(kb) -> list[str]:
    """Names of every key pressed since the last poll, real or synthetic.

    PsychoPy 2026.2's ``Keyboard`` with the ``event`` backend keeps only the
    first of the keys that arrived since its last poll
    (``KeyboardDevice.dispatchMessages`` takes ``event.getKeys(...)[0]``), so
    a fast typist's Enter after a digit is lost.  Real keys are therefore read
    from ``psychopy.event`` directly, all of them; then the keyboard device
    gives the synthetic presses made with ``makeResponse`` (the scripted
    participant), and any real key that arrived in between.
    """
    names = list(event.getKeys(modifiers=False))
    names += [key_name(k) for k in kb.getKeys(waitRelease=False)]
    return names


def key_name(press) -> str:
    """The key's name from a PsychoPy ``KeyPress``.

    With the ``event`` backend, PsychoPy 2026.2 stores a real key press's name
    as ``[name, time]`` (``KeyboardDevice.dispatchMessages`` passes the
    time-stamped pair to ``parseMessage``), while ``makeResponse`` stores the
    plain name; accept both.
    """
    name = press.name
    if isinstance(name, (list, tuple)):
        name = name[0] if name else ""
    return str(name)


_CONFIRM_QUIT = Prompt(
    "confirm", "Quit the session?",
    "Everything recorded so far is already saved. A participant in progress is saved as "
    "excluded (session_quit).", "",
    (Choice("yes", "Quit [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))
