"""Sessions as people make them, without a screen: ``run_session`` (mode ``run`` or ``pilot``, slots
from a written schedule) driven by a scripted participant instead of the PsychoPy presenter.

The files carry the same tamper evidence as a real session's (the store writes and chains them), so
tests that need real or pilot data never relabel a simulated sidecar by hand (which ``verify``, and
so ``analyze``, refuse: issue 22.4).
"""
from __future__ import annotations

import random
from contextlib import contextmanager
from pathlib import Path

import paradigms
from paradigms.engine.schedule import make_schedule, write_schedule
from paradigms.engine.sessions import run_session
from paradigms.engine.simulate import ScriptedIO, ScriptedParticipant, SimClock


def run_by_people(data_dir, site: str, seed: int, participants: int, study: str = "cialdini1975",
                  experiment: int = 1, pilot: bool = False):
    """Run ``participants`` scripted people through a real (or pilot) session of ``study``."""
    p = paradigms.get(study)
    exp = p.experiment(experiment)
    data_dir = Path(data_dir)
    schedule_dir = data_dir.parent / f"{data_dir.name}-schedules"
    schedule_dir.mkdir(parents=True, exist_ok=True)
    path = schedule_dir / f"{study}-{site}-{seed}.csv"
    write_schedule(make_schedule(p, experiment, participants, seed), path)
    rng = random.Random(seed)

    @contextmanager
    def present(paradigm, exp_number, size=None, fullscreen=None):
        yield ScriptedIO(ScriptedParticipant(exp.model, rng, participants), SimClock())

    return run_session(p, experiment, path, site, "E1", data_dir, pilot=pilot, present=present)
