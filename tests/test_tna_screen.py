"""The seller's screen for the that's-not-all paradigms, under a (virtual) display."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

import paradigms
from paradigms.engine.field import FieldTrial
from paradigms.engine.sessions import simulate

pytestmark = pytest.mark.screen


@pytest.mark.parametrize("pid,experiment,n", [("pollock1998", 1, 12), ("burger1986", 1, 4)])
def test_visual_simulation_writes_the_data_only_columns(pid, experiment, n, tmp_path):
    p = paradigms.get(pid)
    shots = tmp_path / "shots"
    vis = simulate(p, experiment, n, seed=8, data_dir=tmp_path / "v", mode="visual", time_scale=0.005,
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
    """Every frame drawn is logged with its time: the banner frames start at cue_after."""
    import time

    from paradigms.burger1986 import DRIVER, INTERRUPT_AFTER_S
    from paradigms.screens.window import open_window

    p = paradigms.get("burger1986")
    e = p.experiment(1)
    prompt = FieldTrial(p, e, e.condition("thats_not_all"), "P1", 1, "t").prompt()
    scale = 0.4  # banner INTERRUPT_AFTER_S * 0.4 s after the screen opens
    win = open_window(size=(800, 500))
    try:
        screen = DRIVER.screen_io(p, 1, win, time_scale=scale)
        log = []
        draw = screen._draw
        n_base = len(screen._stims(prompt)[0])

        def logged(stims, buttons, title):
            # the screen adds the banner stim to what it draws, and tags the title with " cue"
            log.append((time.monotonic(), title, len(stims) > n_base))
            return draw(stims, buttons, title)

        screen._draw = logged  # set on the wrapped FieldScreen
        timer = threading.Timer(INTERRUPT_AFTER_S * scale + 0.5, screen.kb.device.makeResponse,
                                kwargs=dict(code=None, tDown=0.0, name="i"))
        timer.start()
        assert screen.wait(prompt).code == "in_time"
        timer.join()
    finally:
        win.close()
    t0 = log[0][0]
    with_cue = [t - t0 for t, _, cue in log if cue]
    without = [t - t0 for t, _, cue in log if not cue]
    assert with_cue and without
    assert min(with_cue) >= INTERRUPT_AFTER_S * scale - 0.05
    assert max(without) < min(with_cue)  # once shown, the banner stays
    assert all(title.endswith("OPENING OFFER cue") == cue for _, title, cue in log)
