"""What the screens say (issue 13, finding 8): paragraphs reflowed, READY and the cue card in
the same order, no note on a screen asking for what cannot be done from it."""
from __future__ import annotations

import re

import pytest

import paradigms
from paradigms.screens.layout import reflow


@pytest.mark.parametrize("pid", ["cialdini1975", "burger1986", "pollock1998", "regan1971"])
def test_debriefing_is_shown_as_paragraphs_not_source_lines(pid):
    text = paradigms.get(pid).debriefing
    shown = reflow(text)
    assert re.search(r"\n[a-z]", shown) is None  # no line broken mid-sentence
    assert shown.split() == text.split()  # the same words, in the same order


def test_reflow_keeps_paragraphs_and_stage_directions():
    assert reflow("A b\nc.\n\nD e\n(Hand over.)\n- item\n- item") == "A b c.\n\nD e\n(Hand over.)\n- item\n- item"


def test_regan_ready_screen_and_cue_card_agree():
    """READY comes before the participant arrives, as the cue card after it says."""

    from paradigms.engine.lab import LabTrial, ready_prompt

    p = paradigms.get("regan1971")
    ready = ready_prompt(p, 1, "S1", 0).text
    assert "has arrived" not in ready and "before the next participant arrives" in ready
    e = p.experiment(1)
    card = LabTrial(p, e, p.session.design, e.conditions[0], "P1", 1, "t").prompt()
    assert card.kind == "cue_card" and "before the participant arrives" in card.note
    assert "participant is seated" in card.note and "participant is seated" in card.choices[0].label.lower() + card.note


def test_seller_screens_ask_nothing_that_belongs_before_the_study():
    p = paradigms.get("pollock1998")
    notes = [s.note for e in p.experiments for c in e.conditions for s in c.steps]
    assert notes and not any("before the study" in n or "beneficiary" in n for n in notes)
    assert "beneficiary" in p.training  # it is in the protocol's training section instead
