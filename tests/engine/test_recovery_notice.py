"""Issue 23.3: after a crash the next session tells the person at the screen, in sentences, what
happened, which slot, what was saved and what to do; and it counts only its own participants."""
from __future__ import annotations

import random
from contextlib import contextmanager

from paradigms.engine import sessions
from paradigms.engine.schedule import make_schedule, write_schedule
from paradigms.engine.simulate import ScriptedIO, ScriptedParticipant, SimClock
from tests.engine.test_recovery import _die, _journal


def test_the_next_session_shows_the_notice_and_counts_only_its_own(ditf, tmp_path):
    write_schedule(make_schedule(ditf, 1, 12, 1), tmp_path / "s.csv")
    data = tmp_path / "d"
    _die(tmp_path / "s.csv", data, "row:2")  # slot 2 was in progress in session 1
    prompts = []

    class Screen(ScriptedIO):
        def wait(self, prompt):
            prompts.append(prompt)
            return super().wait(prompt)

    @contextmanager
    def present(paradigm, experiment, size=None, fullscreen=False):
        yield Screen(ScriptedParticipant(paradigm.experiment(experiment).model, random.Random(2), 1), SimClock())

    res = sessions.run_session(ditf, 1, tmp_path / "s.csv", "S1", "E1", data, present=present)
    journal = _journal(res.csv_path.with_name(res.csv_path.name.replace("_data.csv", "_events.jsonl")))
    (notice,) = [e for e in journal if e["event"] == "message" and e["title"].startswith("Recovered")]
    text = notice["text"]
    assert "Session 1 at site S1 ended without closing properly" in text
    assert "The 1 participant it recorded is saved" in text
    assert "Slot 2 was in progress in session 1 at site S1" in text and "What to do:" in text
    assert "_data" not in text and ".csv" not in text  # no file names
    paragraphs = text.split("\n\n")  # one sentence group a paragraph: the screen never runs two together
    assert len(paragraphs) == 4 and all(p.rstrip().endswith(".") for p in paragraphs)
    # the ready screen counts this session's own participants: the lost slot's row is not one of them
    ready = [p for p in prompts if p.kind == "ready"]
    assert ready[0].header.endswith("0 recorded") and ready[1].header.endswith("1 recorded")
    (end,) = [e for e in journal if e["event"] == "message" and e["title"] != notice["title"]]
    assert "1 participant recorded in this session" in end["text"] and "1 slot lost in an earlier crash" in end["text"]
    assert res.rows == 1
