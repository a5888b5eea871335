"""Issue 23.4: an answer's button is in the same place on every screen of a study that offers it
(a requester tapping by position never mis-taps), in every window shape."""
from __future__ import annotations

import pytest

import paradigms
from paradigms.engine.field import FieldTrial
from paradigms.screens.layout import Box, Frame, lab_boxes, placed_grid

SIZES = [(1280, 800), (1024, 768), (800, 1280)]


class _Size:
    def __init__(self, size):
        self.size = size


def _field_places(paradigm, size):
    """{(experiment, code): set of button centres (reading order: -y, x)} over every step screen."""
    width = Frame(_Size(size)).width
    out: dict = {}
    for e in paradigm.experiments:
        for c in e.conditions:
            t = FieldTrial(paradigm, e, c, "P", 1, "2026-01-01T00:00:00+00:00")
            for step in c.steps:
                prompt = t._make_prompt()
                cells, _ = placed_grid(prompt.choices, Box(0, 0, -0.2, width))
                for ch, (pos, _) in zip(prompt.choices, cells):
                    out.setdefault((e.number, ch.code), set()).add((round(-pos[1], 6), round(pos[0], 6)))
                t._step += 1
    return out


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("study", ["cialdini1975", "burger1986", "pollock1998"])
def test_every_answer_keeps_its_place_on_every_step_screen(study, size):
    places = _field_places(paradigms.get(study), size)
    moved = {k: v for k, v in places.items() if len(v) > 1}
    assert not moved, moved
    # the door-in-the-face: agreed is left of refused on the first and on the target request alike
    if study == "cialdini1975":
        assert max(places[(1, "agree")]) < min(places[(1, "refuse")]) < min(places[(1, "exclude")])


def test_the_confederates_report_keeps_its_places_on_the_lab_screen():
    regan = paradigms.get("regan1971")
    e = regan.experiments[0]
    from paradigms.engine.lab import LabTrial
    xs: dict = {}
    for c in e.conditions:
        t = LabTrial(regan, e, regan.session.design, c, "P", 1, "t")
        for i, entry in enumerate(t._queue):
            if entry[0] != "fidelity":
                continue
            t._i = i
            prompt = t.prompt()
            b = lab_boxes(prompt, (1024, 768))
            for ch, (pos, _) in zip(prompt.choices, b["buttons"]):
                xs.setdefault(ch.code, set()).add(round(pos[0], 6))
    assert all(len(v) == 1 for v in xs.values()), xs
    assert xs["as_scripted"] < xs["deviated"] < xs["declined_drink"] or \
        min(xs["as_scripted"]) < min(xs["deviated"]) < min(xs["declined_drink"])
