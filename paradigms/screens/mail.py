"""The mailing log's screen (PsychoPy), for every mail paradigm (Kunz & Woolcott, 1976).

One screen class draws the log's prompts (:class:`~paradigms.engine.mail.MailPrompt`):

* ``ready`` -- the **mailing log**: the cards that are out, one line each (card
  number, pseudonymous id, condition, day sent, when its reply window closes);
  the arrow keys (or a tap on a line) pick one, and *Reply received [R]*,
  *No reply [N]* or *Returned [U]* act on the picked card (the response is
  ``"<action>:<participant_id>"``); *Send the next card [S]* takes the next slot;
* ``card`` -- the card to write, *Sent [S]* / *Not sent [X]*;
* ``date`` -- the day a reply arrived, typed (``YYYY-MM-DD``) in a text box, Enter;
* ``letter`` / ``confirm`` -- the debriefing letter; a returned card.

All checking happens in the logic, which hands the prompt back with its
``error`` (shown in red) when an entry is refused.  Esc asks before quitting.

In a visual simulation the scripted technician's answers arrive as key presses
(``KeyboardDevice.makeResponse``; typed dates through the window's ``onText``,
the path of a real key press) after a wait compressed by ``time_scale`` and cut
to :data:`MAX_WAIT_S`: a mailing log's waits are weeks.  Its responses carry the
technician's simulated time, as in the data-only simulation.
"""
from __future__ import annotations

from typing import Optional

from psychopy import core, event, visual

from ..engine.mail import MailPrompt
from ..engine.prompts import Choice
from ..engine.store import now_iso
from .base import CONFIRM_END_TEXT, CONFIRM_END_TITLE, ESCAPE, HELP, HELP_KEY, ScreenBase
from .field import poll_keys
from .layout import FONT, Frame, font_files, reflow

__all__ = ["MailScreen", "MAX_WAIT_S", "VISIBLE_CARDS"]

INK, SOFT, ERROR, PICK = "#1d1d1f", "#5b5b60", "#b3261e", "#d8e6f5"
TONES = {"positive": "#1b7f3b", "negative": "#b3261e", "neutral": "#55585e"}
#: the longest a scripted technician's answer is waited for, in real seconds
MAX_WAIT_S = 0.4
#: lines of the card list on the log screen (the list scrolls with the pick)
VISIBLE_CARDS = 10
_CARD_ACTIONS = ("received", "none", "returned")
_CONFIRM_END = MailPrompt("confirm_end", CONFIRM_END_TITLE, CONFIRM_END_TEXT, "",
                          (Choice("yes", "End the session [Y]", "y", "negative"),
                           Choice("no", "Continue [N]", "n", "positive")))
_CONFIRM_QUIT = MailPrompt("quit", "Quit the session?",
                           "Everything recorded so far is already saved. An outcome not yet recorded is not "
                           "written; a card being sent is saved as excluded (session_quit).", "",
                           (Choice("yes", "Quit [Y]", "y", "negative"), Choice("no", "Continue [N]", "n", "positive")))


class MailScreen(ScreenBase):
    """Draws the mailing log's prompts and collects one response per prompt."""

    confirm_end, confirm_quit = _CONFIRM_END, _CONFIRM_QUIT

    def __init__(self, win, paradigm=None, scripted=None, time_scale: float = 1.0):
        self._open_input(win, paradigm, scripted, time_scale)
        self.width = Frame(win).aspect - 0.1
        self.screens_shown = 0
        #: the card picked on the log (kept between visits of the log)
        self.picked: Optional[str] = None

    def _think_due(self, prompt: MailPrompt) -> float:
        return min(self.scripted.think_time(prompt) * self.time_scale, MAX_WAIT_S)

    def _now(self) -> str:
        """A simulation stamps the scripted technician's clock (the days a card is out); a session, now."""
        if self.scripted is None:
            return now_iso()
        return self.scripted.now.isoformat(timespec="milliseconds")

    def show_message(self, title: str, lines, button: str = "OK [Space]", event: str = "message") -> None:
        """A message the technician must acknowledge (end of the schedule, the session's summary, a
        recovered crash, the key card)."""
        text = "\n\n".join(str(x) for x in lines)
        self._log(event, title=title, text=text)
        prompt = MailPrompt("message", title, text, "", (Choice("ok", button, "space", "positive"),))
        if self.scripted is not None:
            self._collect(prompt, ([("key", "space")], 0.0))
            return
        while self._collect(prompt) != "ok":
            pass

    # -- synthetic input --------------------------------------------------------
    def _synthetic(self, prompt: MailPrompt, value) -> list:
        if prompt.kind == "date":
            return [("type", str(value)), ("key", "return")]
        action, _, pid = str(value).partition(":")
        if prompt.kind == "ready" and action in _CARD_ACTIONS and pid:
            ids = [c.participant_id for c in prompt.cards]
            here = ids.index(self.picked) if self.picked in ids else 0
            there = ids.index(pid)
            arrows = [("key", "down" if there > here else "up")] * abs(there - here)
            return arrows + [("key", prompt.choice(action).key)]
        return [("key", prompt.choice(str(value)).key)]

    # -- drawing ----------------------------------------------------------------
    def _text(self, text, pos, height, color=INK, bold=False, italic=False, align="left", anchor="top"):
        w = self.width
        x = pos[0] - w / 2 if align == "left" else pos[0]
        return visual.TextStim(self.win, reflow(text), pos=(x, pos[1]), height=height, color=color, wrapWidth=w,
                               font=FONT, fontFiles=font_files(), bold=bold, italic=italic, anchorVert=anchor, alignText=align,
                               anchorHoriz="left" if align == "left" else "center")

    def _buttons(self, choices, y=-0.42, height=0.09):
        n, gap = len(choices), 0.02
        w = min((self.width - gap * (n - 1)) / max(n, 1), 0.5)
        x = -(n * w + (n - 1) * gap) / 2 + w / 2
        out = []
        for ch in choices:
            out.append((ch, visual.ButtonStim(self.win, text=ch.label, pos=(x, y), size=(w, height),
                                              letterHeight=0.024 if len(ch.label) < 22 else 0.02,
                                              fillColor=TONES[ch.tone], color="white", borderColor=None, bold=True,
                                              font=FONT)))
            x += w + gap
        return out

    def _card_rows(self, prompt: MailPrompt, top: float):
        """The list of cards out, around the picked one; returns (stims, [(pid, rect)])."""
        cards = prompt.cards
        ids = [c.participant_id for c in cards]
        if self.picked not in ids:
            self.picked = ids[0] if ids else None
        if not cards:
            return [self._text("No card is out: send the next card, or end the session.", (0, top), 0.028,
                               color=SOFT, italic=True)], []
        i = ids.index(self.picked)
        first = min(max(i - VISIBLE_CARDS // 2, 0), max(len(cards) - VISIBLE_CARDS, 0))
        stims, hits = [], []
        row_h = 0.036
        stims += self._columns(("card", "id", "condition", "sent", "reply window"), top, SOFT, True)
        for j, c in enumerate(cards[first:first + VISIBLE_CARDS]):
            y = top - (j + 1) * row_h - 0.006
            picked = c.participant_id == self.picked
            if picked:
                stims.append(visual.Rect(self.win, width=self.width, height=row_h, pos=(0, y - row_h / 2 + 0.004),
                                         fillColor=PICK, lineColor="#17406d"))
            state = f"open until {c.window_closes}" if c.window_open else f"CLOSED {c.window_closes}"
            stims += self._columns((str(c.slot), c.participant_id, c.condition.replace("_", " "), c.sent, state), y,
                                   INK if c.window_open else "#8a3b00", picked)
            hits.append((c.participant_id, y - row_h / 2 + 0.004, row_h))
        more = len(cards) - VISIBLE_CARDS
        if more > 0:
            stims.append(self._text(f"{first + 1}-{min(first + VISIBLE_CARDS, len(cards))} of {len(cards)} cards out "
                                    "(arrow keys scroll)", (0, top - (VISIBLE_CARDS + 1) * row_h - 0.01), 0.02,
                                    color=SOFT, italic=True))
        return stims, hits

    #: where the card list's columns start, as fractions of the width
    COLUMNS = (0.0, 0.08, 0.27, 0.5, 0.66)

    def _columns(self, cells, y: float, color: str, bold: bool) -> list:
        left = -self.width / 2 + 0.01
        return [visual.TextStim(self.win, text, pos=(left + x * self.width, y), height=0.024, color=color,
                                font=FONT, fontFiles=font_files(), bold=bold, anchorVert="top", anchorHoriz="left", alignText="left",
                                wrapWidth=self.width * 0.4) for text, x in zip(cells, self.COLUMNS)]

    def _compose(self, prompt: MailPrompt):
        """(stims, buttons, entry, rows) of one screen; the card list is rebuilt when the pick moves."""
        stims = [self._text(prompt.header, (0, 0.48), 0.022, color=SOFT)] if prompt.header else []
        stims.append(self._text(prompt.title, (0, 0.44), 0.044, color="#17406d", bold=True))
        entry, rows = None, []
        if prompt.kind == "ready":
            stims.append(self._text(prompt.text, (0, 0.37), 0.028))
            rows_stims, rows = self._card_rows(prompt, 0.3)
            stims += rows_stims
            stims.append(self._text(prompt.note, (0, -0.3), 0.022, color=SOFT, italic=True))
        elif prompt.kind == "card":
            stims.append(visual.Rect(self.win, width=min(1.2, self.width), height=0.3, pos=(0, 0.22),
                                     fillColor="white", lineColor="#8a3b00", lineWidth=3))
            stims.append(self._text(prompt.text, (0, 0.31), 0.038, align="center"))
            stims.append(self._text(prompt.note, (0, -0.04), 0.024, color=SOFT, italic=True))
        elif prompt.kind == "date":
            stims.append(self._text(prompt.text, (0, 0.34), 0.032))
            stims.append(self._text(prompt.note, (0, 0.2), 0.024, color=SOFT, italic=True))
            entry = visual.TextBox2(self.win, "", pos=(0, 0.0), size=(0.5, 0.1), anchor="center", alignment="center",
                                    letterHeight=0.05, color=INK, fillColor="white", borderColor=INK, borderWidth=2,
                                    font=FONT, editable=True, padding=0.015)
            entry.hasFocus = True
            stims.append(entry)
            stims.append(self._text("Type the date, then press Enter.", (0, -0.1), 0.024, color=SOFT, align="center"))
        else:
            stims.append(self._text(prompt.text, (0, 0.34), 0.032))
            if prompt.note:
                stims.append(self._text(prompt.note, (0, 0.1), 0.024, color=SOFT, italic=True))
        if prompt.error:
            stims.append(self._text(prompt.error, (0, -0.22), 0.026, color=ERROR, bold=True, align="center"))
        return stims, self._buttons(prompt.choices) if prompt.choices else [], entry, rows

    # -- one screen ---------------------------------------------------------------
    def _collect(self, prompt: MailPrompt, plan=None):
        """Draw ``prompt`` until it is answered; the answer, ``HELP`` or ``ESCAPE``."""
        stims, buttons, entry, rows = self._compose(prompt)
        keys = {c.key: c.code for c in prompt.choices}
        actions, due = (list(plan[0]), plan[1]) if plan else ([], None)
        self._drop_stale_input(prompt.kind)   # journalled, keys and taps alike, as the lab screen does
        clock = core.Clock()
        first, answer = True, None
        while answer is None:
            for s in stims:
                s.draw()
            for _, b in buttons:
                b.draw()
            self.win.flip()
            if first:
                self.screens_shown += 1
                self._log("drawn", screen=prompt.kind)
                first = False
            if due is not None and actions and clock.getTime() >= due:
                self._inject(actions.pop(0), clock.getTime())
                due = clock.getTime() + 0.03
            for x, y in self.taps.pop():
                for ch, b in buttons:
                    if b.contains((x, y)):
                        answer = self._act(prompt, ch.code)
                for pid, yc, h in rows:
                    if abs(y - yc) <= h / 2 and abs(x) <= self.width / 2 and pid != self.picked:
                        self.picked = pid
                        stims, buttons, entry, rows = self._compose(prompt)
            for name in poll_keys(self.kb, self.keys):
                if name == "escape":
                    return ESCAPE
                if name == HELP_KEY:
                    return HELP
                if entry is not None:
                    if name in ("return", "num_enter"):
                        answer = entry.text.replace("\n", "").strip()
                    continue
                if name in ("up", "down") and rows:
                    ids = [c.participant_id for c in prompt.cards]
                    i = ids.index(self.picked) + (1 if name == "down" else -1)
                    self.picked = ids[min(max(i, 0), len(ids) - 1)]
                    stims, buttons, entry, rows = self._compose(prompt)
                elif name in keys:
                    answer = self._act(prompt, keys[name])
                    break
        for s in stims:
            s.draw()
        for _, b in buttons:
            b.draw()
        self._screenshot(prompt.kind + ("_error" if prompt.error else ""))
        self.win.flip()
        return answer

    def _act(self, prompt: MailPrompt, code: str) -> str:
        """A card action on the log acts on the picked card."""
        if prompt.kind == "ready" and code in _CARD_ACTIONS and self.picked:
            return f"{code}:{self.picked}"
        return code
