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

from datetime import datetime, timedelta, timezone
from typing import Optional

from psychopy import core, event, visual

from ..engine.field import END, EXCLUDE, Choice, Prompt, Response
from ..engine.store import now_iso
from .base import CONFIRM_END_TEXT, CONFIRM_END_TITLE, ESCAPE, HELP, HELP_KEY, ScreenBase
from .layout import FONT, Box, Frame, fit_text, grid_rows, placed_grid, reflow

__all__ = ["FieldScreen", "TONE_COLOURS", "TapListener", "KeyListener", "key_name", "poll_keys"]

TONE_COLOURS = {"positive": "#1b7f3b", "negative": "#b3261e", "neutral": "#55585e"}
INK = "#1d1d1f"
SOFT = "#5b5b60"

NARROW = (EXCLUDE, END)
#: how long an accepted button stays lit before the next screen (seconds)
FLASH_S = 0.12


class FieldScreen(ScreenBase):
    """Draws prompts and collects one answer per prompt.

    The layout comes from the window's size (:class:`~paradigms.screens.layout.Frame`),
    and every screen's stimuli are built once and kept, so the next screen is
    up within a frame of the tap that calls it.  A tap or key that is taken
    lights its button for :data:`FLASH_S`; a press that arrives while no
    screen is up to take it (between an answer and the next screen's first
    frame) is ignored on purpose -- a double tap must not answer a question
    not yet seen -- and journalled as ``ignored_during_transition``.  Set
    :attr:`journal` (``store.event``) to have the screen journal what it
    draws (``drawn``, at its first frame) and what it ignores.
    """

    def __init__(self, win, paradigm=None, scripted=None, time_scale: float = 1.0,
                 experiment: Optional[int] = None):
        self._open_input(win, paradigm, scripted, time_scale)
        self.frame = Frame(win)
        self._shot_titles: set[str] = set()
        self._cache: dict = {}
        self._pending: list = []
        #: screens put up so far; input is taken from the moment a screen is up
        self.screens_shown = 0
        #: monotonic time of the last answer: the logic times a step's cue from it
        self._last_answer: Optional[float] = None
        self._sim_t = None
        if paradigm is not None and experiment is not None:
            self.prepare(paradigm.experiment(experiment))

    def prepare(self, experiment) -> None:
        """Queue every screen of the session to be built while the first one is up.

        The ready screen is built first and shown at once; the scripts, the
        exclusion and the debriefing screens are then built one per frame
        behind it (:meth:`_build_pending`), so the technician sees the window
        within a second or two and no later screen lags.
        """
        from ..engine.field import FieldTrial
        p = self.paradigm
        pending = []
        for c in experiment.conditions:
            trial = FieldTrial(p, experiment, c, "P", 0, "")
            pending.append(trial.prompt())
        # the exclusion and debriefing screens are the same for everyone
        trial = FieldTrial(p, experiment, experiment.conditions[0], "P", 0, "")
        trial._state = "exclude"
        pending.append(trial.prompt())
        trial._state = "debrief"
        pending.append(trial.prompt())
        self._pending = pending

    def _build_pending(self) -> None:
        """Build one queued screen (called between frames while a screen waits for input)."""
        if not self._pending:
            return
        prompt = self._pending.pop(0)
        self._stims(prompt)
        if prompt.step is not None and prompt.step.cue:
            self._cue(prompt)

    # -- drawing -----------------------------------------------------------
    def _layout(self, prompt: Prompt):
        """The boxes of a screen, top to bottom: header, title, words to say, cue, note, buttons."""
        fr = self.frame
        many = prompt.kind == "exclude"
        # buttons: how many rows they need in this window
        n_rows = grid_rows(prompt.choices, fr.width, max_height=0.13 if many else 0.16)
        row_h = 0.12 if n_rows > 1 else 0.15
        step = prompt.step
        heights = [0.03, 0.06]
        if many:  # the hint under the title, then the reasons filling the screen
            heights += [0.05, None]
            return dict(zip(("header", "title", "note", "buttons"), fr.rows(heights)))
        names = ["header", "title", "say"]
        heights.append(None)
        if step is not None and step.cue:
            names.append("cue")
            heights.append(0.1)
        if prompt.note:
            names.append("note")
            heights.append(0.1 if fr.portrait else 0.075)
        names.append("buttons")
        heights.append(n_rows * row_h + (n_rows - 1) * 0.025)
        return dict(zip(names, fr.rows(heights)))

    def _stims(self, prompt: Prompt):
        """The screen's texts and buttons (built once per screen and window size; the header is
        the one part that changes from one passer-by to the next)."""
        key = (prompt.kind, prompt.title, prompt.say, prompt.note, prompt.choices,
               prompt.step.id if prompt.step else None, self.frame.key())
        built = self._cache.get(key)
        if built is None:
            built = self._cache[key] = self._build(prompt)
        header, stims, buttons = built
        if header is not None and header.text != prompt.header:
            header.text = prompt.header
        return ([header] if header is not None and prompt.header else []) + stims, buttons

    def _build(self, prompt: Prompt):
        win = self.win
        boxes = self._layout(prompt)
        header = None
        if prompt.header:
            header = fit_text(win, prompt.header, boxes["header"], largest=0.024, smallest=0.016, color=SOFT,
                              align="center")
        title_colour = "#8a1c1c" if (prompt.step is not None and prompt.step.target) else "#17406d"
        stims = [fit_text(win, prompt.title, boxes["title"], largest=0.042, smallest=0.02, color=title_colour,
                          bold=True, align="center")]
        if prompt.say and "say" in boxes:
            stims.append(fit_text(win, reflow(prompt.say), boxes["say"], largest=0.056, smallest=0.02, color=INK))
        if prompt.note:
            stims.append(fit_text(win, prompt.note, boxes["note"], largest=0.026, smallest=0.016, color=SOFT,
                                  italic=True, align="center" if prompt.kind == "exclude" else "top-left"))
        buttons = self._buttons(prompt.choices, boxes["buttons"], many=prompt.kind == "exclude")
        return header, stims, buttons

    def _cue(self, prompt: Prompt):
        """The orange banner of a timed step, in the box the layout keeps for it."""
        step = prompt.step
        key = ("cue", step.id, step.cue, prompt.choices, self.frame.key())
        if key not in self._cache:
            box = self._layout(prompt)["cue"]
            self._cache[key] = fit_text(self.win, step.cue, box, largest=0.06, smallest=0.02, color="white",
                                        fillColor="#c75000", bold=True, align="center", anchor="center")
        return self._cache[key]

    def _buttons(self, choices, box: Box, many: bool = False):
        # "Exclude..." and "End session" are the narrow ones: answers come first, each in its place
        weights = None if many else [0.7 if ch.code in NARROW else 1.0 for ch in choices]
        cells, letter = placed_grid(choices, box, max_height=0.13 if many else 0.16, weights=weights)
        if not many and len({round(pos[1], 6) for pos, _ in cells}) > 1:
            cells, letter = placed_grid(choices, box, max_height=0.16)  # rows: equal widths
        return [(ch, self._button(ch, pos, size, letter)) for ch, (pos, size) in zip(choices, cells)]

    def _button(self, ch: Choice, pos, size, letter):
        return visual.ButtonStim(self.win, text=ch.label, pos=pos, size=size, letterHeight=letter,
                                 fillColor=TONE_COLOURS[ch.tone], color="white", borderColor=None,
                                 bold=True, padding=0.01, font=FONT)

    def _draw(self, stims, buttons, title: str, lit=None):
        for s in stims:
            s.draw()
        for _, b in buttons:
            b.draw()
        if lit is not None:
            lit.draw()
        if self.screenshot_dir is not None and title not in self._shot_titles:
            self._shot_titles.add(title)
            self.screenshot_dir.mkdir(parents=True, exist_ok=True)
            self.win.getMovieFrame(buffer="back")
            safe = "".join(c if c.isalnum() else "_" for c in title.lower()).strip("_")
            self.win.saveMovieFrames(str(self.screenshot_dir / f"{len(self._shot_titles):02d}_{safe}.png"))
        self.win.flip()

    def _flash(self, stims, buttons, title: str, button) -> None:
        """Light the button that was taken, so the requester sees the tap was counted."""
        glow = visual.Rect(self.win, width=button.size[0], height=button.size[1], pos=button.pos,
                           fillColor="white", opacity=0.55, lineColor="#1d1d1f", lineWidth=4)
        clock = core.Clock()
        while clock.getTime() < FLASH_S * min(self.time_scale, 1.0) or clock.getTime() == 0.0:
            self._draw(stims, buttons, title, lit=glow)
            if self.time_scale < 1.0:
                break

    # -- input -------------------------------------------------------------
    def _respond(self, code: str) -> Response:
        """The answer, stamped now; the next screen's cue is timed from this moment.

        A real session stamps the wall clock.  A compressed visual simulation
        stamps simulated time (real seconds divided by ``time_scale``), so the
        logic reads the same intervals the scripted participant meant, as in
        the data-only simulation.
        """
        mono = core.monotonicClock.getTime()
        if self.time_scale == 1.0:
            t = now_iso()
        else:
            if self._sim_t is None:
                self._sim_t = datetime.now(timezone.utc)
            self._sim_t += timedelta(seconds=(mono - (self._last_answer or mono)) / self.time_scale)
            t = self._sim_t.isoformat(timespec="milliseconds")
        self._last_answer = mono
        return Response(code, t)

    def _synthetic(self, prompt: Prompt, value) -> list:
        """The scripted participant's answer: its button's key (the answer loop is the base's :meth:`wait`)."""
        return [("key", prompt.choice(value).key)]

    def show_message(self, title: str, lines, button: str = "OK [Space]", event: str = "message") -> None:
        """A message the technician must see (end of schedule, session summary, a recovered
        crash, the key card): shown until acknowledged with a tap or Space, and journalled
        (``message``, or ``event``)."""
        text = "\n\n".join(str(x) for x in lines)
        self._log(event, title=title, text=text)
        prompt = Prompt("message", title, text, "", (Choice("ok", button, "space", "positive"),))
        if self.scripted is not None:  # a simulation: shown for a frame, not waited on
            stims, buttons = self._stims(prompt)
            self._draw(stims, buttons, title)
            return
        while self._collect(prompt) != "ok":
            pass

    def _collect(self, prompt: Prompt, plan=None) -> str:
        """Draw the prompt until a button is tapped or a key pressed; its code.

        Returns :data:`~paradigms.screens.base.ESCAPE` for Esc.  Only a tap that starts while this
        screen is shown counts.  ``plan``: the scripted participant's ``(actions, due)``.
        """
        actions, due = (list(plan[0]), plan[1]) if plan else ([], None)
        stims, buttons = self._stims(prompt)
        keys = {ch.key: ch.code for ch in prompt.choices}
        by_code = {ch.code: b for ch, b in buttons}
        step = prompt.step
        cue = cue_at = None
        if step is not None and step.cue:
            cue = self._cue(prompt)
        self._drop_stale_input(prompt.kind)
        clock = core.Clock()
        if cue is not None:
            # due cue_after seconds after the tap that put this screen up, as the logic counts it
            since = self._last_answer if self._last_answer is not None else core.monotonicClock.getTime()
            cue_at = step.cue_after * self.time_scale - (core.monotonicClock.getTime() - since)
        first = True
        while True:
            now = clock.getTime()  # one reading per frame: what is drawn is what the answer follows
            if cue is not None and now >= cue_at and cue not in stims:
                stims = stims + [cue]
                self._log("cue_shown", screen=prompt.kind, step=step.id)
            title = prompt.title + (" cue" if cue is not None and cue in stims else "")
            self._draw(stims, buttons, title)
            if first:
                self.screens_shown += 1
                self._log("drawn", screen=prompt.kind, step=step.id if step is not None else None)
                first = False
            if due is not None and now >= due and actions:
                # the scripted participant presses the answer's key, as a person would
                self._inject(actions.pop(0), clock.getTime())
                due = None
            # taps, then keys; whatever comes behind the press that is taken (in the same poll) is
            # journalled, not dropped: this screen is about to go
            answer = None
            for point in self.taps.pop():
                if answer is not None:
                    self._log("ignored_during_transition", screen=prompt.kind, tap=[round(point[0], 3),
                                                                                   round(point[1], 3)])
                    continue
                for ch, b in buttons:
                    if answer is None and b.contains(point):
                        answer = ch.code
            for name in poll_keys(self.kb, self.keys):
                if answer is not None:
                    self._log("ignored_during_transition", screen=prompt.kind, key=name)
                elif name == "escape":
                    answer = ESCAPE
                elif name == HELP_KEY:
                    answer = HELP
                elif name in keys:
                    answer = keys[name]
                else:  # a key this screen offers no choice for: not taken, but not unseen either
                    self._log("ignored_not_a_choice", screen=prompt.kind, key=name)
            if answer in (ESCAPE, HELP):
                return answer
            if answer is not None:
                if answer in by_code:
                    self._flash(stims, buttons, title, by_code[answer])
                return answer
            self._build_pending()


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


class KeyListener:
    """Every key press the window receives, by name, in the order pressed: the lowest layer that sees them.

    PsychoPy 2026.2's ``Keyboard`` with the ``event`` backend keeps only the first of the key presses
    that one of its polls takes from the window (``KeyboardDevice.dispatchMessages`` drains
    ``event.getKeys()`` and keeps ``[0]``): when two presses reach the process between two polls (a
    loaded machine that did not get to poll for a while), the second is dropped and nothing records
    it (``tests/screens/test_key_journal.py`` shows it with real X input).  This listens to the
    window's own ``on_key_press`` events, as :class:`TapListener` does for taps, so every press is
    seen exactly once.  Names are PsychoPy's (``psychopy.event``'s conversion of pyglet's symbols).
    """

    def __init__(self, win):
        self._names: list[str] = []
        win.winHandle.push_handlers(on_key_press=self._on_press)

    def _on_press(self, symbol, modifiers):
        import pyglet
        name = pyglet.window.key.symbol_string(symbol).lower()
        if "user_key" in name:  # a key pyglet cannot name: PsychoPy falls back to its text, so do we not
            return
        name = name.lstrip("_").lstrip("NUM_")  # as psychopy.event._onPygletKey does
        self._names.append("return" if name == "enter" else name)

    def pop(self) -> list[str]:
        names, self._names = self._names, []
        return names


def poll_keys(kb, listener: Optional[KeyListener] = None) -> list[str]:
    """Names of every key pressed since the last poll, real or synthetic.

    With a :class:`KeyListener`, real presses come from it (every one of them, see there) and the
    keyboard device gives only the synthetic presses made with ``makeResponse`` (the scripted
    participant; a real press the device also took is in the listener already).  Without one, real
    keys are read from ``psychopy.event`` directly, then the device's.
    """
    if listener is not None:
        event.getKeys(modifiers=False)  # pumps the window's events: the listener hears every press
        names = listener.pop()
        return names + [str(k.name) for k in kb.getKeys(waitRelease=False) if isinstance(k.name, str)]
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


_CONFIRM_END = Prompt("confirm_end", CONFIRM_END_TITLE, CONFIRM_END_TEXT, "",
                      (Choice("yes", "End the session [Y]", "y", "negative"),
                       Choice("no", "Continue [N]", "n", "positive")))
_CONFIRM_QUIT = Prompt(
    "confirm", "Quit the session?",
    "Everything recorded so far is already saved. A participant in progress is saved as "
    "excluded (session_quit).", "",
    (Choice("yes", "Quit [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))
FieldScreen.confirm_end, FieldScreen.confirm_quit = _CONFIRM_END, _CONFIRM_QUIT
