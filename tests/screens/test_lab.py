"""Regan (1971) on the PsychoPy lab screens, driven by synthetic input under Xvfb.

Run with ``xvfb-run -a -s "-screen 0 1280x800x24" python -m pytest tests/screens/test_lab.py``.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

import paradigms
from paradigms.engine.sessions import simulate
from paradigms.screens.registry import present

pytestmark = pytest.mark.screen

TIME_COLUMNS = ("t_start", "t_end", "t_phone_call", "t_drink", "t_ticket_request")


@pytest.fixture(scope="module")
def regan():
    return paradigms.get("regan1971")


@pytest.fixture(scope="module")
def visual_run(regan, tmp_path_factory):
    root = tmp_path_factory.mktemp("visual")
    res = simulate(regan, 1, 6, seed=7, data_dir=root / "data", mode="visual", present=present, time_scale=0.01,
                   screenshot_dir=root / "shots")
    return res, root / "shots"


def test_visual_simulation_writes_what_data_only_writes(regan, visual_run, tmp_path):
    visual, _ = visual_run
    data_only = simulate(regan, 1, 6, seed=7, data_dir=tmp_path)
    v = pd.read_csv(visual.csv_path, dtype=str, keep_default_na=False)
    d = pd.read_csv(data_only.csv_path, dtype=str, keep_default_na=False)
    assert tuple(v.columns) == tuple(d.columns) == regan.columns(1)
    assert visual.status == "completed" and len(v) == 6
    # the same seed gives the same participants: every value but the clock times is equal
    same = [c for c in v.columns if c not in TIME_COLUMNS]
    pd.testing.assert_frame_equal(v[same], d[same])
    assert (v["debriefed"] == "1").all() and (v["tickets"] != "").all() and (v["suspicion"] != "").all()
    assert sorted(v["condition"]) == sorted(regan.experiment(1).condition_names)
    meta = json.loads(visual.sidecar_path.read_text())
    assert meta["mode"] == "simulate:visual" and meta["status"] == "completed" and meta["n_rows"] == 6


def test_every_screen_was_shown_and_captured(visual_run):
    _, shots = visual_run
    kinds = {p.stem.split("_", 1)[1] for p in shots.glob("*.png")}
    assert {"ready", "cue_card", "consent", "break", "painting", "rating", "text", "fidelity", "tickets",
            "tickets_confirm", "exclusion", "debrief"} <= kinds
    assert all(p.stat().st_size > 10_000 for p in shots.glob("*.png"))  # a drawn screen, not an empty frame


def test_painting_screens_show_distinct_paintings(regan):
    """The cover-task paintings are drawn from their seed: the same for every participant, distinct."""
    import numpy as np
    from paradigms.screens.lab import _painting_seed, paint
    cols = [f"painting_{i:02d}" for i in range(1, 13)]
    imgs = [paint(_painting_seed(c), 64) for c in cols]
    assert all(not np.array_equal(imgs[0], x) for x in imgs[1:])
    assert np.array_equal(imgs[3], paint(_painting_seed(cols[3]), 64))


def test_refused_ticket_entry_is_shown_and_entered_again(regan, tmp_path):
    """An experimenter who types "two" is refused on screen, then enters 3 twice; the row holds 3."""
    from paradigms.engine import sessions
    from paradigms.engine.lab import LabScriptedParticipant

    base = sessions.driver_for(regan)

    class Clumsy(LabScriptedParticipant):
        typed = []

        def choose(self, prompt, condition):
            value = super().choose(prompt, condition)
            if prompt.kind == "tickets":
                value = "two" if not prompt.error else "3"
            elif prompt.kind == "tickets_confirm":
                value = "3"
            if prompt.kind in ("tickets", "tickets_confirm"):
                Clumsy.typed.append(value)
            return value

    class Driver(type(base)):
        def scripted_participant(self, paradigm, experiment, model, rng, participants):
            return Clumsy(model, self.design, rng, participants)

    orig = sessions.driver_for
    sessions.driver_for = lambda p: Driver(p.session)
    try:
        res = simulate(regan, 1, 1, seed=3, data_dir=tmp_path / "d", mode="visual", present=present, time_scale=0.005,
                       screenshot_dir=tmp_path / "shots")
    finally:
        sessions.driver_for = orig
    df = pd.read_csv(res.csv_path)
    assert df["tickets"].tolist() == [3] and Clumsy.typed == ["two", "3", "3"]
    events = [json.loads(x) for x in res.csv_path.with_name(
        res.csv_path.name.replace("_data.csv", "_events.jsonl")).read_text().splitlines()]
    refused = [e for e in events if e["event"] == "refused"]
    assert len(refused) == 1 and refused[0]["screen"] == "tickets" and "'two'" in refused[0]["message"]
    assert list((tmp_path / "shots").glob("*_tickets_error.png"))
