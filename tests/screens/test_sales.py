"""The seller's screen for the that's-not-all paradigms, under a (virtual) display."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

import paradigms
from paradigms.engine.field import FieldTrial
from paradigms.engine.sessions import simulate
from paradigms.screens.registry import present

pytestmark = pytest.mark.screen


@pytest.mark.parametrize("pid,experiment,n", [("pollock1998", 1, 12), ("burger1986", 1, 4)])
def test_visual_simulation_writes_the_data_only_columns(pid, experiment, n, tmp_path):
    p = paradigms.get(pid)
    shots = tmp_path / "shots"
    # the banner is timed from the Approach tap: at 0.02 it is due 50 ms after it, after the first frame
    vis = simulate(p, experiment, n, seed=8, data_dir=tmp_path / "v", mode="visual", present=present, time_scale=0.02,
                   screenshot_dir=shots)
    dat = simulate(p, experiment, n, seed=8, data_dir=tmp_path / "d")
    v = pd.read_csv(vis.csv_path, dtype=str, keep_default_na=False)
    d = pd.read_csv(dat.csv_path, dtype=str, keep_default_na=False)
    assert list(v.columns) == list(d.columns) == list(p.columns(experiment))
    same = [c for c in d.columns if not c.startswith("t_")]
    assert v[same].equals(d[same])
    names = {s.name.split("_", 1)[1] for s in shots.glob("*.png")}
    # the opening offer is shown without and then with the INTERRUPT NOW banner
    assert {"step_1_of_2__opening_offer.png", "step_1_of_2__opening_offer_cue.png",
            "step_2_of_2__decision__buy.png", "step_1_of_1__decision__buy.png", "ready.png"} <= names


def test_cue_banner_appears_only_after_cue_after():
    """Order and content, not timing windows: the frames before the banner have none, the banner
    stays once shown, the key is pressed only when the screen has journalled the banner, and the
    banner is never early (a busy machine can only make it late)."""
    import time

    from paradigms.screens.registry import screen_for
    from paradigms.screens.window import open_window
    from paradigms.vocab.sales import INTERRUPT_AFTER_S

    p = paradigms.get("burger1986")
    e = p.experiment(1)
    prompt = FieldTrial(p, e, e.condition("thats_not_all"), "P1", 1, "t").prompt()
    scale = 0.2  # banner INTERRUPT_AFTER_S * 0.2 s after the screen opens
    win = open_window(size=(800, 500))
    try:
        screen = screen_for(p, 1, win, time_scale=scale)
        events = []
        screen.journal = lambda name, **kw: events.append((time.monotonic(), name, kw))
        log = []
        draw = screen._draw
        cue = screen._cue(prompt)

        def logged(stims, buttons, title, lit=None):
            log.append((time.monotonic(), title, cue in stims))
            return draw(stims, buttons, title, lit)

        screen._draw = logged

        def press_after_banner():
            while not any(name == "cue_shown" for _, name, _ in events):
                time.sleep(0.01)
            screen.kb.device.makeResponse(code=None, tDown=0.0, name="i")
        presser = threading.Thread(target=press_after_banner, daemon=True)
        presser.start()
        assert screen.wait(prompt).value == "in_time"
        presser.join(timeout=30)
    finally:
        win.close()
    names = [name for _, name, _ in events]
    assert names == ["drawn", "cue_shown"]
    flags = [cue_on for _, _, cue_on in log]
    assert flags[0] is False and True in flags
    first_cue = flags.index(True)
    assert all(flags[first_cue:]) and not any(flags[:first_cue])  # once shown, the banner stays
    assert all(title.endswith("OPENING OFFER cue") == cue_on for _, title, cue_on in log)
    assert log[first_cue][0] - log[0][0] >= INTERRUPT_AFTER_S * scale - 0.02  # never early
