"""The session loop's path for an IO that shows nothing (a data-only simulation with a batched store:
:func:`paradigms.engine.loop._run_unseen`) writes the files its general path writes.

Each case runs the same simulation twice, once with ``ScriptedIO.unseen`` off (every screen through
the general path: the participant's own prompt, :class:`~paradigms.engine.loop._Screens`) and once
on, and compares the CSV, the journal (wall-clock times blanked) and the sidecar byte for byte.  The
scripted participant is also made to give refused answers (a rating off the scale, a ticket count
confirmed wrong, which sends the trial back a screen) and to quit, the paths a plain simulation never
takes.
"""
from __future__ import annotations

import pytest

import paradigms
from paradigms.engine.lab import LabScriptedParticipant
from paradigms.engine.prompts import QUIT
from paradigms.engine.sessions import simulate
from paradigms.engine.simulate import ScriptedIO
from tests.engine.test_simulate_identical import normalised


def _both(tmp_path, monkeypatch, pid="regan1971", n=40, seed=4, state=None):
    got = {}
    for unseen in (False, True):
        if state is not None:  # the scripted participant's own count starts again
            state.clear()
        monkeypatch.setattr(ScriptedIO, "unseen", unseen)
        folder = tmp_path / str(unseen)
        simulate(paradigms.get(pid), 1, n, seed=seed, data_dir=folder)
        got[unseen] = normalised(folder)
    return got[False], got[True]


@pytest.mark.parametrize("pid", ["regan1971", "burger1986", "kunz1976"])
def test_the_unseen_path_writes_the_general_paths_files(tmp_path, monkeypatch, pid):
    general, unseen = _both(tmp_path, monkeypatch, pid)
    assert unseen == general
    assert unseen["journal"].count(b'"event": "show"') > 40


def _stubborn(monkeypatch) -> dict:
    """A participant who rates the third painting 12 on a 1..9 scale first, and every third one who
    confirms a ticket count one more than the first entry (then types both again)."""
    choose = LabScriptedParticipant.choose
    state = {}

    def stubborn(self, prompt, condition):
        value = choose(self, prompt, condition)
        if prompt.kind == "cue_card":
            state["n"] = state.get("n", 0) + 1
            state["painting"] = state["confirm"] = 0
        if prompt.kind == "painting" and prompt.index == 3 and state["painting"] == 0:
            state["painting"] += 1
            return 12
        if prompt.kind == "tickets_confirm" and state["n"] % 3 == 0 and state["confirm"] == 0:
            state["confirm"] += 1
            return str(int(value) + 1)
        return value
    monkeypatch.setattr(LabScriptedParticipant, "choose", stubborn)
    return state


def test_refused_answers_go_on_as_the_general_path_does(tmp_path, monkeypatch):
    state = _stubborn(monkeypatch)
    general, unseen = _both(tmp_path, monkeypatch, n=12, state=state)
    journal = unseen["journal"]
    assert journal.count(b'"event": "refused"') == 12 + 4 and b"is outside 1..9" in journal
    assert b"the two entries differ" in journal
    assert unseen == general


@pytest.mark.parametrize("kind", ["rating", "handover"])
def test_a_quit_is_journalled_as_the_general_path_does(tmp_path, monkeypatch, kind):
    """Quit on the second participant's first questionnaire screen, or on a hand-over screen."""
    choose = LabScriptedParticipant.choose
    seen = {}

    def quitting(self, prompt, condition):
        seen[prompt.kind] = seen.get(prompt.kind, 0) + 1
        if prompt.kind == kind and seen.get("cue_card") == 2:
            return QUIT
        return choose(self, prompt, condition)
    monkeypatch.setattr(LabScriptedParticipant, "choose", quitting)
    general, unseen = _both(tmp_path, monkeypatch, n=5, state=seen)
    assert b'"status": "aborted"' in unseen["sidecar"] and b"session_quit" in unseen["csv"]
    assert unseen == general
