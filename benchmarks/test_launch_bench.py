"""P1, launch (issue 14): how long ``compliance run`` takes to show its window.

Group ``launch`` and its baseline:

- the baseline: a bare PsychoPy script that opens a window and draws a line of text, from the
  process's start to that frame;
- ``compliance run`` (a real pilot session, windowed) from the process's start to its first
  frame, the "Loading..." frame it shows before it builds the rest (the window writes the
  frame's time to ``COMPLIANCE_FIRST_FRAME``).  Goal: at most 1.15 times the baseline;
- the same command to its first *screen* (the ready screen), from the event journal's first
  ``drawn`` event.

Rounds alternate between the two commands, so both meet the same load on a shared machine;
each round is a fresh process in a fresh folder, stopped once its frame is reported.  The
summary prints the medians and their ratios (``P1 launch``).  Needs a display: ``make bench`` runs under ``xvfb-run``.  Nothing is asserted about
the times: the summary prints each as a ratio to the baseline, with the absolute times.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROUNDS = 5
BARE = """
import json, os, time
from psychopy import visual
win = visual.Window(size=(1280, 800), units="height", color="#f4f1ea", checkTiming=False, winType="pyglet")
visual.TextStim(win, "Loading...", height=0.05, color="#5b5b60").draw()
win.flip()
with open(os.environ["COMPLIANCE_FIRST_FRAME"], "w") as fh:
    json.dump({"t": time.time()}, fh)
time.sleep(60)
"""

pytestmark = pytest.mark.skipif(not os.environ.get("DISPLAY"),
                                reason="the launch benchmark opens windows: run it under xvfb-run (make bench)")


class Launcher:
    """Starts a command per round and waits for its first frame (or first screen); stops it untimed."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.proc = None
        self.n = 0

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def start(self, cmd, wait_for: str = "frame") -> float:
        """Seconds from the start of ``cmd`` to its first frame (``"frame"``) or first screen (``"screen"``)."""
        self.n += 1
        run = f"{time.time_ns()}-{self.n}"  # every round its own marker and data folder
        marker = self.folder / f"frame-{run}.json"
        data = self.folder / f"d{run}"
        env = {**os.environ, "COMPLIANCE_FIRST_FRAME": str(marker), "COMPLIANCE_WINDOWED": "1"}
        cmd = [c.replace("{data}", str(data)) for c in cmd]
        t0 = time.time()
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.folder, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.data = data
        self.t0 = t0
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{cmd[:3]} ended before its first frame (rc {self.proc.returncode})")
            if wait_for == "frame" and marker.exists() and marker.stat().st_size:
                return json.loads(marker.read_text())["t"] - t0
            if wait_for == "screen":
                journals = list(data.glob("*_events.jsonl")) if data.exists() else []
                if journals:
                    for line in journals[0].read_text().split("\n")[:-1]:
                        if '"event": "drawn"' in line:
                            return time.time() - t0
            time.sleep(0.002)

    def screen_after_frame(self) -> float:
        """After :meth:`start` returned the first frame: seconds from the start to the first screen."""
        return self.start_wait("screen")

    def start_wait(self, wait_for: str) -> float:
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the command ended before its first {wait_for} (rc {self.proc.returncode})")
            journals = list(self.data.glob("*_events.jsonl")) if self.data.exists() else []
            if journals and '"event": "drawn"' in journals[0].read_text():
                return time.time() - self.t0
            time.sleep(0.002)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("launch")
    subprocess.run([str(BIN / "compliance"), "schedule", "cialdini1975", "--participants", "60", "--seed", "1",
                    "--out", str(d / "s.csv")], check=True, capture_output=True)
    (d / "bare.py").write_text(BARE)
    return d


RUN = [str(BIN / "compliance"), "run", "cialdini1975", "--schedule", "s.csv", "--site", "S1", "--experimenter",
       "E1", "--data-dir", "{data}", "--windowed", "--pilot"]  # a pilot takes no slot: every round starts alike


@pytest.mark.benchmark(group="launch")
def test_launch_bare_psychopy_baseline(benchmark, folder, request):
    """Rounds alternate: ``compliance run`` (its first frame and its first screen, timed here), then the
    bare script (timed by pytest-benchmark), so both see the same load on a shared machine."""
    import statistics
    run, bare = Launcher(folder), Launcher(folder)
    frames, screens, bares = [], [], []

    def run_round():  # untimed by pytest-benchmark: the session's launch, timed by hand
        bare.stop()
        frames.append(run.start(RUN, "frame"))
        screens.append(run.screen_after_frame())
        run.stop()

    def bare_round():
        bares.append(bare.start([sys.executable, "bare.py"], "frame"))

    try:
        benchmark.pedantic(bare_round, setup=run_round, rounds=ROUNDS, iterations=1)
    finally:
        run.stop()
        bare.stop()
    med = {k: statistics.median(v) for k, v in (("bare", bares), ("frame", frames), ("screen", screens))}
    benchmark.extra_info.update(seconds_bare=bares, seconds_run_first_frame=frames,
                                seconds_run_first_screen=screens)
    request.config._launch_p1 = med  # printed by conftest.py at the end of the run
