"""Launch (issue 13 finding 10, issue 14 part 1): the commands import only what they need, and
``compliance run`` shows its window (a "Loading..." frame) before it builds the rest.

The imports are checked in a fresh interpreter through ``sys.modules``; nothing here is timed
(the launch benchmark, benchmarks/test_launch_bench.py, measures how long it takes)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import BIN

HEAVY = ("statsmodels", "scipy", "pandas")


def _modules_after(args, cwd, env=None):
    """Top-level modules imported by ``compliance ARGS`` (a fresh interpreter; its output discarded)."""
    code = ("import sys; from paradigms.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\n' + '\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env or os.environ)
    return set(proc.stderr.splitlines()), proc


def test_list_schedule_protocol_import_no_analysis_libraries(tmp_path):
    for args in (["list"], ["schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv"],
                 ["protocol", "regan1971"], ["run", "--help"]):
        mods, proc = _modules_after(args, tmp_path)
        assert "paradigms" in mods, (args, proc.stderr[-500:])
        bad = sorted(m for m in mods if m in HEAVY + ("matplotlib", "psychopy"))
        assert not bad, (args, bad)
    assert (tmp_path / "s.csv").exists()


def test_run_imports_no_analysis_library_before_its_window(cli, tmp_path):
    """Up to opening the window (here: refused, there is no display) ``run`` has imported PsychoPy's top
    level and nothing of statsmodels, scipy or pandas."""
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    mods, proc = _modules_after(["run", "cialdini1975", "--schedule", "s.csv", "--site", "S1", "--experimenter",
                                 "E1", "--data-dir", "d"], tmp_path, env)
    assert "no display to open the session window on" in proc.stderr
    assert not sorted(m for m in mods if m in HEAVY), sorted(m for m in mods if m in HEAVY)
    assert not (tmp_path / "d").exists()


@pytest.mark.screen
def test_run_shows_a_loading_frame_before_the_first_screen(cli, tmp_path):
    """``compliance run``: the first frame (the "Loading..." frame) comes before the session's first screen
    is drawn, and by then no statsmodels has been imported (PsychoPy itself loads scipy and pandas)."""
    cli("schedule", "cialdini1975", "--participants", "6", "--seed", "1", "--out", "s.csv", check=0)
    marker = tmp_path / "first-frame.json"
    proc = subprocess.Popen([str(BIN / "compliance"), "run", "cialdini1975", "--schedule", "s.csv", "--site", "S1",
                             "--experimenter", "E1", "--data-dir", "d", "--windowed"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COMPLIANCE_FIRST_FRAME": str(marker), "COMPLIANCE_WINDOWED": "1"})
    journal = tmp_path / "d" / "study-cialdini1975_exp-1_site-S1_session-1_events.jsonl"
    try:
        t0 = time.time()
        while not (journal.exists() and '"event": "drawn"' in journal.read_text()) and time.time() - t0 < 60:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.05)
        frame = json.loads(marker.read_text())
        drawn = next(json.loads(x) for x in journal.read_text().splitlines() if '"event": "drawn"' in x)
    finally:
        proc.kill()
        proc.wait()
    from datetime import datetime
    assert frame["t"] < datetime.fromisoformat(drawn["t"]).timestamp(), (frame, drawn)
    assert drawn["screen"] == "ready"
    assert "statsmodels" not in frame["modules"], frame["modules"]
