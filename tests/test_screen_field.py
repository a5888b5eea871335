"""The requester's PsychoPy screen under a (virtual) display."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from paradigms.engine.field import QUIT, FieldTrial
from paradigms.engine.sessions import simulate

pytestmark = pytest.mark.screen


def test_visual_simulation_writes_the_data_only_schema(ditf, tmp_path):
    shots = tmp_path / "shots"
    vis = simulate(ditf, 1, 6, seed=3, data_dir=tmp_path / "v", mode="visual", time_scale=0.005,
                   screenshot_dir=shots)
    dat = simulate(ditf, 1, 6, seed=3, data_dir=tmp_path / "d")
    v = pd.read_csv(vis.csv_path, dtype=str, keep_default_na=False)
    d = pd.read_csv(dat.csv_path, dtype=str, keep_default_na=False)
    assert list(v.columns) == list(d.columns)
    # same seed, same scripted answers: the screen changes how answers arrive, not what they are
    same = ["participant_id", "slot", "condition", "complied", "first_request_answer", "target_request_answer",
            "excluded", "debriefed", "data_consent"]
    assert v[same].equals(d[same])
    assert all(t.startswith("20") for t in v["t_target_request"])
    titles = {p.name.split("_", 1)[1] for p in shots.glob("*.png")}
    assert {"ready.png", "debriefing.png", "step_1_of_2__first_request.png",
            "step_2_of_2__target_request.png"} <= titles


def test_escape_asks_then_quits(ditf):
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    win = open_window(size=(800, 500))
    try:
        screen = FieldScreen(win, ditf)
        e = ditf.experiment(1)
        prompt = FieldTrial(ditf, e, e.condition("smaller_request_only"), "P1", 1, "t").prompt()
        press = screen.kb.device.makeResponse
        timers = [threading.Timer(0.3, press, kwargs=dict(code=None, tDown=0.0, name="escape")),
                  threading.Timer(0.6, press, kwargs=dict(code=None, tDown=0.0, name="n")),
                  threading.Timer(0.9, press, kwargs=dict(code=None, tDown=0.0, name="escape")),
                  threading.Timer(1.2, press, kwargs=dict(code=None, tDown=0.0, name="y"))]
        for t in timers:
            t.start()
        # first Esc is cancelled with N; the second is confirmed with Y
        assert screen.wait(prompt).code == QUIT
        assert all(not t.is_alive() for t in timers)
    finally:
        win.close()


def test_keyboard_shortcut_gives_the_answer(ditf):
    from paradigms.screens.field import FieldScreen
    from paradigms.screens.window import open_window
    win = open_window(size=(800, 500))
    try:
        screen = FieldScreen(win, ditf)
        e = ditf.experiment(1)
        prompt = FieldTrial(ditf, e, e.condition("exposure_control"), "P1", 1, "t").prompt()
        t = threading.Timer(0.2, screen.kb.device.makeResponse, kwargs=dict(code=None, tDown=0.0, name="c"))
        t.start()
        assert screen.wait(prompt).code == "agree_first"
    finally:
        win.close()
