"""Every screen at six window shapes (4:3, 5:4, 3:2, 16:10, 16:9, portrait 10:16): each
stimulus's drawn extent (its box and its glyphs, measured on what PsychoPy lays out) lies inside
the window, and no two overlap.  Set ``COMPLIANCE_LAYOUT_SHOTS=DIR`` to save a PNG of each
screen (the back buffer, before the flip) and look at them."""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

import paradigms
from paradigms.engine.field import READY_CHOICES, FieldTrial, Prompt
from paradigms.screens.registry import screen_for

pytestmark = pytest.mark.screen

SIZES = [(1024, 768), (1280, 1024), (1440, 960), (1280, 800), (1920, 1080), (800, 1280)]
TOL = 1.0  # pixels


def _field_prompts():
    """The requester's and the seller's screens: ready, every first step (with the cue banner),
    the exclusion and the debriefing screens."""
    out = []
    for pid in ("cialdini1975", "pollock1998"):
        p = paradigms.get(pid)
        e = p.experiment(1)
        out.append((p, Prompt("ready", "READY", p.ready_say, p.ready_note, READY_CHOICES,
                              f"Session 1  |  site S1  |  12 recorded")))
        for c in e.conditions[:3]:
            trial = FieldTrial(p, e, c, "Pdeadbeef", 12, "t")
            out.append((p, trial.prompt()))
        trial = FieldTrial(p, e, e.conditions[0], "Pdeadbeef", 12, "t")
        trial._state = "exclude"
        out.append((p, trial.prompt()))
        trial._state = "debrief"
        out.append((p, trial.prompt()))
    return out


def _lab_prompts():
    """Every kind of Regan's lab screens, in the order one participant meets them, with the
    experimenter's ready screen before them, a refused entry's message on the ticket screen and
    the quit question."""
    import dataclasses
    import random

    from paradigms.engine.drivers import driver_for
    from paradigms.engine.lab import READY_CHOICES as LAB_READY, LabPrompt, LabTrial
    from paradigms.engine.simulate import ScriptedIO, SimClock
    from paradigms.screens.lab import _CONFIRM_QUIT
    p = paradigms.get("regan1971")
    e = p.experiment(1)
    driver = driver_for(p)
    io = ScriptedIO(driver.scripted_participant(p, 1, driver.model(p, 1, {}), random.Random(1), 1), SimClock())
    trial = LabTrial(p, e, driver.design, e.conditions[0], "Pdeadbeef", 1, "t")
    out = [LabPrompt("ready", "experimenter", "READY", text="Press Space before the next participant arrives: "
                     "the cue card with this session's scripts comes next.", choices=LAB_READY,
                     header="Session 1  |  site S1  |  12 recorded")]
    seen = set()
    while not trial.done:
        prompt = trial.prompt()
        if prompt.kind not in seen:
            seen.add(prompt.kind)
            out.append(prompt)
            if prompt.kind == "tickets":
                out.append(dataclasses.replace(prompt, error="tickets: 'two' is not a whole number from 0 to 20"))
        trial.respond(io.wait(prompt))
    out.append(_CONFIRM_QUIT)
    return p, driver, out


def _overlaps(a, b):
    return min(a[2], b[2]) - max(a[0], b[0]) > TOL and min(a[3], b[3]) - max(a[1], b[1]) > TOL


def _check(win, named, where, shots, failures):
    from paradigms.screens.layout import extent
    for _, s in named:
        s.draw()
    if shots is not None:
        win.getMovieFrame(buffer="back")
        win.saveMovieFrames(str(shots / f"{where.replace(' ', '_').replace('/', '-')}.png"))
    win.flip()
    w, h = win.size
    boxes = [(name, extent(s)) for name, s in named]
    boxes = [(n, b) for n, b in boxes if b is not None]
    for name, b in boxes:
        if b[0] < -w / 2 - TOL or b[2] > w / 2 + TOL or b[1] < -h / 2 - TOL or b[3] > h / 2 + TOL:
            failures.append(f"{where}: {name} runs off the window: {tuple(round(v) for v in b)} in {w}x{h}")
    for (na, a), (nb, b) in itertools.combinations(boxes, 2):
        if _overlaps(a, b):
            failures.append(f"{where}: {na} overlaps {nb}")


def _shot_dir(size):
    shots = os.environ.get("COMPLIANCE_LAYOUT_SHOTS")
    if not shots:
        return None
    d = Path(shots) / f"{size[0]}x{size[1]}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_field_and_seller_screens_fit_every_window_shape():
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    failures: list[str] = []
    for size in SIZES:  # one window per shape; every screen of both paradigms drawn in it
        win = open_window(size=size)
        try:
            assert tuple(win.size) == size
            screens = {}
            for p, prompt in _field_prompts():
                screen = screens.get(p.id) or screens.setdefault(p.id, FieldScreen(win, p))
                stims, buttons = screen._stims(prompt)
                named = [(f"text {i}", s) for i, s in enumerate(stims)]
                named += [(f"button {ch.code}", b) for ch, b in buttons]
                if prompt.step is not None and prompt.step.cue:
                    named.append(("cue banner", screen._cue(prompt)))
                _check(win, named, f"{size[0]}x{size[1]} {p.id} {prompt.kind} {prompt.title[:30]}",
                       _shot_dir(size), failures)
        finally:
            win.close()
    assert not failures, "\n".join(failures)


def test_lab_screens_fit_every_window_shape():
    """Regan's participant and experimenter screens (issue 13, findings 1 and 2): consent, the
    paintings and their scale, the breaks, the ratings, the text entries, the confederate's report
    with its long title, the tickets (and a refused entry), the exclusion, the debriefing."""
    from paradigms.screens.window import open_window
    failures: list[str] = []
    p, driver, prompts = _lab_prompts()
    kinds = {pr.kind for pr in prompts}
    assert {"ready", "cue_card", "consent", "painting", "break", "rating", "text", "fidelity", "tickets",
            "tickets_confirm", "exclusion", "debrief", "confirm"} <= kinds, kinds
    for size in SIZES:
        win = open_window(size=size)
        try:
            lab = screen_for(p, 1, win)
            for prompt in prompts:
                stims, slider, entry, buttons, cont = lab._compose(prompt)
                named = [(f"text {i}", s) for i, s in enumerate(stims)]
                named += [(f"button {ch.code}", b) for ch, b in buttons]
                if slider is not None:
                    slider.markerPos = 5
                    named += [("slider", slider), ("continue", cont[1])]
                if entry is not None:  # PsychoPy's "Type here..." placeholder sat under the caret
                    placeholder = getattr(getattr(entry, "_placeholder", None), "text", "")
                    assert not placeholder, (size, prompt.kind, placeholder)
                where = f"{size[0]}x{size[1]} regan1971 {prompt.kind}{' error' if prompt.error else ''}"
                _check(win, named, where, _shot_dir(size), failures)
        finally:
            win.close()
    assert not failures, "\n".join(failures)


def test_window_size_flag_opens_that_shape(cli, tmp_path):
    """``simulate --mode visual --window-size 800x1280``: the screens are drawn in a portrait window."""
    from PIL import Image
    proc = cli("simulate", "cialdini1975", "--participants", "1", "--mode", "visual", "--window-size", "800x1280",
               "--screenshots", "shots", "--data-dir", "d", "--quiet", "--time-scale", "0.005")
    assert proc.returncode == 0, proc.stderr
    shots = sorted((tmp_path / "shots").glob("*.png"))
    assert shots and all(Image.open(s).size == (800, 1280) for s in shots)
