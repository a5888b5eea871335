"""Laying a screen out from the window's actual size and shape.

Every screen is drawn in PsychoPy's ``height`` units: the window is 1.0 tall
and ``aspect`` wide (1.6 on a 16:10 tablet, 1.33 at 4:3, 0.625 on a portrait
800x1280 one).  :class:`Frame` is that window with its margins; screens ask
it for the usable width and stack their parts top to bottom in boxes
(:meth:`Frame.rows`), so nothing runs off the side of a 4:3 tablet or over
its neighbour.  Text is fitted to its box (:func:`fit_text`): the largest
letter height at which the laid-out lines fit, measured on the text itself.

:func:`extent` is the rectangle a drawn stimulus covers, in pixels from the
window's centre -- what the layout tests check.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from ..errors import UsageError

__all__ = ["Frame", "Box", "fit_text", "fit_letter", "extent", "button_grid", "placed_grid", "grid_rows", "pin_font", "font_files", "FONT_FILES", "FONT_DIR", "FONT", "parse_size", "reflow"]

#: the one font of every screen: DejaVu Sans, shipped with the toolkit (``paradigms/screens/fonts``,
#: Bitstream Vera licence with public-domain changes: LICENSE_DEJAVU) and used by its files, never
#: looked up by name among the machine's fonts -- a name lookup found "DejaVu Sans Condensed" or the
#: regular face depending on the order the system's font files were found in
FONT = "DejaVu Sans"
FONT_DIR = Path(__file__).resolve().with_name("fonts")
#: the shipped file of each style PsychoPy asks for (bold titles, italic notes)
FONT_FILES = {b"Book": "DejaVuSans.ttf", b"Bold": "DejaVuSans-Bold.ttf", b"Oblique": "DejaVuSans-Oblique.ttf",
              b"Bold Oblique": "DejaVuSans-BoldOblique.ttf"}


def pin_font() -> dict:
    """Make every TextBox2 (and the buttons and scales built on it) draw :data:`FONT` from the shipped
    files: the family's entry in PsychoPy's font index holds exactly those four styles.  Returns the
    index entry ``{style: [path]}`` (what the tests check).  Idempotent; needs PsychoPy."""
    from psychopy.visual.textbox2.textbox2 import allFonts
    paths = [FONT_DIR / name for name in FONT_FILES.values()]
    allFonts.getFontsMatching(FONT)  # the machine's fonts are indexed first (once)
    allFonts.addFontFiles([str(p) for p in paths])
    family = allFonts._fontInfos.setdefault(FONT.encode(), {})  # PsychoPy keeps no public setter for this
    shipped = {}
    for style, infos in list(family.items()):
        mine = [fi for fi in infos if Path(fi.path).resolve().parent == FONT_DIR]
        if style in FONT_FILES and mine:
            shipped[style] = mine[:1]
    family.clear()
    family.update(shipped)
    return {style: [str(fi.path) for fi in infos] for style, infos in family.items()}


def font_files() -> list[str]:
    """The shipped font files, for PsychoPy's pyglet ``TextStim`` (``fontFiles=``)."""
    return [str(FONT_DIR / name) for name in FONT_FILES.values()]
#: line spacing of Noto Sans in TextBox2, in letter heights (measured)
LINE_PITCH = 1.4
#: average advance of a Noto Sans character, in letter heights (measured on the scripts)
CHAR_WIDTH = 0.6
#: the widest a line of text is allowed to be, in height units (reading comfort on wide screens)
MAX_TEXT_WIDTH = 1.6


def reflow(text: str) -> str:
    r"""Join the hard-wrapped lines of each paragraph, so the screen wraps them to its own width.

    A blank line separates paragraphs; a line that starts a list item or a
    stage direction (``-``, ``*``, ``(``, ``"1."``) keeps its own line.

    Examples
    --------
    >>> reflow("Thank you. I\nam part of a study.\n(Hand over the card.)")
    'Thank you. I am part of a study.\n(Hand over the card.)'
    >>> reflow("One.\n\nTwo\nlines.")
    'One.\n\nTwo lines.'
    """
    out = []
    for para in text.split("\n\n"):
        lines = [ln.strip() for ln in para.split("\n") if ln.strip()]
        joined: list[str] = []
        for ln in lines:
            starts_item = ln[:1] in "-*(•" or (ln[:2].rstrip(".").isdigit() and "." in ln[:3])
            if joined and not starts_item:
                joined[-1] += " " + ln
            else:
                joined.append(ln)
        out.append("\n".join(joined))
    return "\n\n".join(out)


def parse_size(text: str) -> tuple[int, int]:
    """``"1024x768"`` -> ``(1024, 768)``; a ValueError naming the value otherwise.

    Examples
    --------
    >>> parse_size("800x1280")
    (800, 1280)
    """
    w, sep, h = str(text).lower().replace("×", "x").partition("x")
    try:
        size = (int(w), int(h))
    except ValueError:
        size = None
    if not sep or size is None or min(size) < 200 or max(size) > 8000:
        raise UsageError(f"--window-size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1024x768")
    return size


@dataclass(frozen=True)
class Box:
    """A rectangle in height units: centre x, top and bottom y, width."""

    x: float
    top: float
    bottom: float
    width: float

    @property
    def height(self) -> float:
        return self.top - self.bottom

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x, (self.top + self.bottom) / 2)


class Frame:
    """The window as a layout: its aspect, margins and usable width (height units)."""

    def __init__(self, win, margin: float = 0.025):
        w, h = (int(v) for v in win.size)
        self.pixels = (w, h)
        self.aspect = w / h
        self.margin = margin
        self.half_width = self.aspect / 2
        #: usable width for text and rows of buttons
        self.width = min(self.aspect - 2 * margin, MAX_TEXT_WIDTH)
        self.portrait = self.aspect < 1.0
        self.top = 0.5 - margin
        self.bottom = -0.5 + margin

    def key(self) -> tuple[int, int]:
        return self.pixels

    def rows(self, heights: Sequence[Optional[float]], top: Optional[float] = None,
             bottom: Optional[float] = None, gap: float = 0.015) -> list[Box]:
        """Stack boxes of the given heights from ``top`` down; ``None`` heights share what is left."""
        top = self.top if top is None else top
        bottom = self.bottom if bottom is None else bottom
        fixed = sum(h for h in heights if h is not None)
        n_free = sum(1 for h in heights if h is None)
        free = max(top - bottom - fixed - gap * (len(heights) - 1), 0.0)
        out, y = [], top
        for h in heights:
            hh = free / n_free if h is None else h
            out.append(Box(0.0, y, y - hh, self.width))
            y -= hh + gap
        return out


def fit_letter(text: str, width: float, height: float, sizes: Sequence[float]) -> float:
    """The largest of ``sizes`` at which ``text`` fills at most ``width`` x ``height`` (an estimate
    from the mean character width; :func:`fit_text` measures)."""
    for size in sizes:
        per_line = max(int(width / (CHAR_WIDTH * size)), 1)
        n_lines = sum(max(1, -(-len(par) // per_line)) for par in text.split("\n"))
        if n_lines * LINE_PITCH * size <= height:
            return size
    return sizes[-1]


_FITTED: dict[tuple, float] = {}

#: the letter heights a screen uses (height units).  Few and shared: every letter height is a
#: font atlas that FreeType renders glyph by glyph, which is what makes a first screen slow
SIZES = (0.056, 0.048, 0.042, 0.036, 0.03, 0.026, 0.022, 0.019, 0.016)


def snap(letter: float) -> float:
    """The largest of :data:`SIZES` not above ``letter`` (the smallest if all are)."""
    for size in SIZES:
        if size <= letter + 1e-9:
            return size
    return SIZES[-1]


def fit_text(win, text: str, box: Box, largest: float = 0.056, smallest: float = 0.016,
             align: str = "top-left", anchor: str = "top-center", **kwargs):
    """A TextBox2 in ``box`` with the largest letter height at which ``text`` fits it.

    The size is estimated from the mean character width, then checked on the
    laid-out text (its number of lines and its widest line) and stepped down
    if it does not fit; it is remembered per text, box and window size, so a
    screen shown again is built at once.
    """
    from psychopy import visual

    pos = (box.x, box.top) if anchor.startswith("top") else box.centre
    kwargs.setdefault("font", FONT)

    def make(size):
        return visual.TextBox2(win, text, pos=pos, size=(box.width, box.height), anchor=anchor,
                               alignment=align, letterHeight=size, editable=False, padding=0.0, **kwargs)
    key = (text, box, largest, smallest, anchor, tuple(int(v) for v in win.size))
    if key in _FITTED:
        return make(_FITTED[key])
    sizes = [z for z in SIZES if snap(smallest) <= z <= largest + 1e-9] or [snap(smallest)]
    size = fit_letter(text, box.width, box.height, sizes)
    px = win.size[1]
    while True:
        stim = make(size)
        lines = getattr(stim, "_lineNs", None)
        n_lines = int(lines.max()) + 1 if lines is not None and len(lines) else 1
        widths = getattr(stim, "_lineWidths", None)
        widest = float(np.max(widths) - np.min(widths)) if widths is not None and len(widths) > 1 else 0.0
        fits = n_lines * LINE_PITCH * size * px <= box.height * px + 0.5 and widest <= box.width * px + 0.5
        smaller = [z for z in sizes if z < size]
        if fits or not smaller:
            break
        size = smaller[0]
    _FITTED[key] = size
    return stim


def button_grid(n: int, labels: Sequence[str], box: Box, max_height: float = 0.16, gap: float = 0.025,
                min_letter: float = 0.026, weights: Optional[Sequence[float]] = None, cols: Optional[int] = None):
    """Rows and columns for ``n`` buttons in ``box``: positions, sizes and one letter height.

    As many columns as the labels allow at ``min_letter`` (all in one row on a
    landscape tablet, two per row on a portrait one); rows share the box's height.
    Returns ``(list of (pos, size), letter)``.
    """
    longest = max((len(t) for t in labels), default=1)
    fixed = cols is not None
    cols = n if cols is None else cols
    while cols > 1 and not fixed:
        w = (box.width - gap * (cols - 1)) / cols
        if w >= CHAR_WIDTH * min_letter * longest + 0.04:
            break
        cols -= 1
    rows = -(-n // cols)
    h = min(max_height, (box.height - gap * (rows - 1)) / rows)
    out = []
    for r in range(rows):
        row_n = min(cols, n - r * cols)
        ws = list(weights[r * cols: r * cols + row_n]) if weights else [1.0] * row_n
        unit = (box.width - gap * (row_n - 1)) / sum(ws)
        x = box.x - box.width / 2
        y = box.top - h / 2 - r * (h + gap)
        for wt in ws:
            w = unit * wt
            out.append(((x + w / 2, y), (w, h)))
            x += w + gap
    narrowest = min(size[0] for _, size in out)
    letter = min(0.036, h * 0.3, (narrowest - 0.04) / (CHAR_WIDTH * longest))
    return out, snap(letter)


#: the narrowest a button with a fixed place may be (height units); fewer columns below it
PLACE_MIN_WIDTH = 0.25


def grid_rows(choices, width: float, max_height: float = 0.16) -> int:
    """How many rows of buttons :func:`placed_grid` lays ``choices`` out in, a box ``width`` wide
    (counting the rows of places no choice takes: the grid is the same on every screen)."""
    if choices and all(getattr(c, "place", None) for c in choices):
        n = choices[0].place[1]
        return -(-n // _place_columns(n, width))
    cells, _ = placed_grid(choices, Box(0, 0, -1, width), max_height=max_height)
    return len({round(pos[1], 6) for pos, _ in cells})


def _place_columns(n: int, width: float, gap: float = 0.025) -> int:
    """Columns of a grid of ``n`` fixed places: from the window's width alone, never from the labels."""
    cols = n
    while cols > 1 and (width - gap * (cols - 1)) / cols < PLACE_MIN_WIDTH:
        cols -= 1
    return cols


def placed_grid(choices, box: Box, max_height: float = 0.16, gap: float = 0.025, min_letter: float = 0.026,
                weights: Optional[Sequence[float]] = None):
    """:func:`button_grid` for ``choices``, one cell per choice in the choices' order; choices with a
    fixed place (``Choice.place = (i, n)``) take cell ``i`` of a row of ``n``, so an answer is in the
    same place on every screen that offers it, and a place no choice takes stays empty.

    >>> from types import SimpleNamespace as C
    >>> a, r = C(label="Agreed [A]", place=(0, 3)), C(label="Refused [R]", place=(1, 3))
    >>> (pr, _), (pa, _) = placed_grid([r, a], Box(0, 0, -0.2, 1.5))[0]
    >>> pa[0] < pr[0]  # agreed left of refused, whatever the order given
    True
    """
    labels = [c.label for c in choices]
    if not choices or not all(getattr(c, "place", None) for c in choices):
        return button_grid(len(choices), labels, box, max_height=max_height, gap=gap, min_letter=min_letter,
                           weights=weights)
    n = choices[0].place[1]
    by_place = [""] * n
    place_weights = [1.0] * n
    for i, c in enumerate(choices):
        by_place[c.place[0]] = c.label
        if weights:
            place_weights[c.place[0]] = weights[i]
    # the columns from the window alone (not from this screen's labels): the same grid on every screen
    cols = _place_columns(n, box.width, gap)
    cells, letter = button_grid(n, by_place, box, max_height=max_height, gap=gap, min_letter=min_letter,
                                weights=place_weights if weights else None, cols=cols)
    return [cells[c.place[0]] for c in choices], letter


def extent(stim) -> Optional[tuple[float, float, float, float]]:
    """``(left, bottom, right, top)`` in pixels from the window's centre of what ``stim`` draws:
    its box (when it has a fill or border) and its glyphs; ``None`` when it draws nothing."""
    if hasattr(stim, "labelObjs") and hasattr(stim, "line"):  # a Slider: its line and labels
        parts = [e for e in [extent(stim.line)] + [extent(o) for o in stim.labelObjs] if e is not None]
        if not parts:
            return None
        return (min(e[0] for e in parts), min(e[1] for e in parts), max(e[2] for e in parts),
                max(e[3] for e in parts))
    if hasattr(stim, "_pygletTextObj"):  # a TextStim: its laid-out text and anchors
        w, h = stim.boundingBox
        x, y = (float(v) for v in stim.posPix)
        x0 = {"left": x, "center": x - w / 2, "right": x - w}.get(stim.anchorHoriz, x - w / 2)
        y1 = {"top": y, "center": y + h / 2, "bottom": y + h}.get(stim.anchorVert, y + h / 2)
        return (x0, y1 - h, x0 + w, y1) if stim.text else None
    parts = []
    box = getattr(stim, "box", None)
    glyphs = getattr(stim, "_lineNs", None) is not None
    if box is not None and (getattr(stim, "fillColor", None) is not None
                            or getattr(stim, "borderColor", None) is not None):
        parts.append(np.asarray(box.verticesPix))
    if glyphs and getattr(stim, "text", ""):
        v = np.asarray(stim.verticesPix)
        if len(v):
            parts.append(v)
    if not glyphs and box is None and hasattr(stim, "verticesPix"):
        parts.append(np.asarray(stim.verticesPix))
    if not parts:
        return None
    allv = np.vstack(parts)
    return (float(allv[:, 0].min()), float(allv[:, 1].min()), float(allv[:, 0].max()), float(allv[:, 1].max()))


# --------------------------------------------------------------------------- #
# The lab screens (Regan, 1971): where each part of a screen goes.
# --------------------------------------------------------------------------- #
class _Size:
    """Stands in for a window where only the size matters (a pure layout)."""

    def __init__(self, size):
        self.size = tuple(int(v) for v in size)


def _needed(text: str, width: float, letter: float, most: float, least: float = 0.0) -> float:
    """The height ``text`` needs at ``letter`` in a box ``width`` wide, within ``least``..``most``."""
    if not text:
        return 0.0
    per_line = max(int(width / (CHAR_WIDTH * letter)), 1)
    lines = sum(max(1, -(-len(par) // per_line)) for par in text.split("\n"))
    return min(max(lines * LINE_PITCH * letter + 0.01, least), most)


#: the height of the experimenter's orange band across the top of the window
BAND = 0.055


def is_experimenter_key(key: str) -> bool:
    """F9, F10, ...: keys of choices the participant is not shown (no button is drawn for them)."""
    return len(key) > 1 and key[0] == "f" and key[1:].isdigit()


def lab_boxes(prompt, size) -> dict:
    """Where each part of a lab screen goes in a window of ``size`` pixels (height units).

    A pure function of the prompt's kind, texts and choices and of the
    window's shape: the screen (:class:`paradigms.screens.lab.LabScreen`)
    builds its stimuli in these boxes, and a test driving the real window
    from outside finds its buttons here.  Keys: ``band`` (experimenter
    screens: the orange strip, the full width of the window), ``header``,
    ``title``, ``text``, ``note``, ``image`` (a square), ``slider``,
    ``low``/``high`` (the scale's anchors), ``hint``, ``continue``,
    ``entry``, ``error``, ``hidden`` (the experimenter's keys, spelled out)
    and ``buttons`` (a list of ``((x, y), (w, h))``, one per button drawn, in
    the order of the choices with a button; ``letter`` their letter height).

    Examples
    --------
    >>> from types import SimpleNamespace as P
    >>> p = P(kind="consent", audience="participant", text="Welcome.", note="", error="",
    ...       choices=(P(label="I agree [Y]", key="y"), P(label="I do not [N]", key="n")))
    >>> b = lab_boxes(p, (800, 1280))
    >>> [round(x, 3) for x, _ in [pos for pos, _ in b["buttons"]]]  # side by side, inside 0.625 wide
    [-0.149, 0.149]
    """
    fr = Frame(_Size(size))
    out: dict = {}
    top = fr.top
    if prompt.audience == "experimenter":
        out["band"] = Box(0.0, 0.5, 0.5 - BAND, fr.aspect)
        top = 0.5 - BAND - 0.012
        names, heights = ["header", "title"], [0.028, 0.058]
    else:
        names, heights = ["title"], [0.064]
    note = getattr(prompt, "note", "") or ""
    error = getattr(prompt, "error", "") or ""
    if prompt.kind not in _FORM_KINDS:  # a text and buttons
        return _choice_boxes(prompt, fr, top, names, heights, note, error, out)
    _form_rows(prompt, fr.width, note, names, heights)
    if error:
        names.append("error")
        heights.append(_needed(error, fr.width, 0.026, 0.1, 0.045))
    if prompt.kind in _ENTRY_KINDS:
        names.append("rest")
        heights.append(None)
    boxes = dict(zip(names, fr.rows(heights, top=top)))
    out.update(boxes)
    out["buttons"], out["letter"] = [], 0.0
    _shape_form_boxes(prompt.kind, boxes, out, fr.width)
    return out


_ENTRY_KINDS = ("text", "tickets", "tickets_confirm")
#: the lab screens with no buttons of their own: a slider, a typed entry or a pause
_FORM_KINDS = ("painting", "rating", "break", "handover") + _ENTRY_KINDS


def _form_rows(prompt, w: float, note: str, names: list, heights: list) -> None:
    """The rows (names and heights, ``None`` for what is left) of a screen with a slider, entry or pause."""
    kind = prompt.kind
    if kind in ("painting", "rating"):
        if kind == "painting":
            names += ["image", "text"]
            heights += [None, _needed(prompt.text, w, 0.036, 0.12, 0.055)]
        else:
            names += ["text"]
            heights += [None]
        names += ["slider", "anchors", "footer"]
        heights += [0.075, 0.04, 0.075]
    elif kind in _ENTRY_KINDS:
        big = kind == "text"
        names += ["text"]
        heights += [_needed(prompt.text, w, 0.04 if big else 0.034, 0.2, 0.06)]
        if note:
            names.append("note")
            heights.append(_needed(note, w, 0.024, 0.12, 0.04))
        names += ["entry", "hint"]
        heights += [0.28 if big else 0.11, 0.04]
    else:  # break, handover
        names += ["text"]
        heights += [None]
        if note:
            names.append("note")
            heights.append(0.04)


def _choice_boxes(prompt, fr, top: float, names: list, heights: list, note: str, error: str, out: dict) -> dict:
    """The boxes of a screen of a text and buttons (the shown choices in a grid, the hidden keys spelled out)."""
    w = fr.width
    shown = [c for c in prompt.choices if not is_experimenter_key(c.key)]
    hidden = [c for c in prompt.choices if is_experimenter_key(c.key)]
    n_rows = grid_rows(shown, w, max_height=0.12) if shown else 0
    row_h = 0.1 if n_rows > 1 else 0.12
    names += ["text"]
    heights += [None]
    if note:
        bold = prompt.kind == "debrief"
        names.append("note")
        heights.append(_needed(note, w, 0.03 if bold else 0.02, 0.3 if fr.portrait else 0.2, 0.04))
    if error:
        names.append("error")
        heights.append(_needed(error, w, 0.026, 0.1, 0.045))
    if shown:
        names.append("buttons")
        heights.append(n_rows * row_h + (n_rows - 1) * 0.02)
    if hidden:
        names.append("hidden")
        heights.append(0.032)
    boxes = dict(zip(names, fr.rows(heights, top=top)))
    out.update(boxes)
    if shown:
        cells, letter = placed_grid(shown, boxes["buttons"], max_height=row_h, gap=0.02)
        out["buttons"], out["letter"] = cells, letter
    else:
        out["buttons"], out["letter"] = [], 0.0
    return out


def _shape_form_boxes(kind: str, boxes: dict, out: dict, w: float) -> None:
    """Give the image, slider, anchors, footer and entry rows their own shapes within their rows."""
    if "image" in boxes:  # a square, as large as its row allows
        b = boxes["image"]
        side = min(b.height, w)
        mid = (b.top + b.bottom) / 2
        out["image"] = Box(0.0, mid + side / 2, mid - side / 2, side)
    if "slider" in boxes:
        sw = min(w, 1.1)
        s, a = boxes["slider"], boxes.pop("anchors")
        out.pop("anchors")
        out["slider"] = Box(0.0, s.top, s.bottom, sw)
        aw = sw * 0.48
        out["low"] = Box(-sw / 2 + aw / 2, a.top, a.bottom, aw)
        out["high"] = Box(sw / 2 - aw / 2, a.top, a.bottom, aw)
        f = out.pop("footer")
        bw = min(0.34, w * 0.45)
        out["continue"] = Box(w / 2 - bw / 2, f.top, f.bottom, bw)
        out["hint"] = Box(-w / 2 + (w - bw - 0.03) / 2, f.top, f.bottom, w - bw - 0.03)
    if "entry" in boxes:
        e = boxes["entry"]
        ew = w if kind == "text" else min(0.4, w)
        out["entry"] = Box(0.0, e.top, e.bottom, ew)
        out.pop("rest", None)


def slider_line(box: Box, n_ticks: int) -> tuple[float, float, float]:
    """``(y, thickness, length)`` of a rating scale's line drawn in ``box``.

    PsychoPy's ``Slider`` draws its tick labels in boxes two line-thicknesses
    tall under the line, each a tick's spacing wide around its tick (so the
    end labels reach half a spacing beyond the line's ends): the line is
    placed so that all of it is inside ``box``.  Tick ``i`` (from 0) is at
    ``x = -length / 2 + i * length / (n_ticks - 1)``.
    """
    thickness = box.height / 3.5
    length = box.width * (n_ticks - 1) / n_ticks
    return box.top - thickness / 2, thickness, length
