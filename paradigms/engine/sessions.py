"""What ``compliance schedule``, ``run`` and ``simulate`` do, as functions.

A paradigm's *driver* knows how one participant goes through its screens.
Field paradigms (the requester's tablet) all share :class:`FieldDriver`; a lab
paradigm supplies its own by defining ``DRIVER`` in its module.  A driver has:

``run(paradigm, experiment, store, slots, io, new_id) -> status``
    the session loop, independent of presentation;
``scripted_io(paradigm, experiment, model, rng, clock, participants)``
    the data-only simulated participant;
``screen_io(paradigm, experiment, win, scripted=None, time_scale=1.0)``
    the PsychoPy presentation (imports PsychoPy; real input, or synthetic
    input from ``scripted`` for the visual simulation);
``model(paradigm, experiment, overrides) -> model``
    the simulation model with ``--rate``-style overrides applied.
"""
from __future__ import annotations

import importlib
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional

from ..base import BinaryModel, Paradigm, Rate
from .field import run_field_session
from .schedule import Schedule, SlotLedger, load_schedule, make_schedule, write_schedule
from .simulate import ScriptedIO, ScriptedParticipant, SimClock, sim_id_factory
from .store import SessionStore, find_interrupted

__all__ = ["FieldDriver", "driver_for", "new_participant_id", "create_schedule", "simulate",
           "run_session", "SessionResult", "site_shifted"]


def new_participant_id() -> str:
    """A random pseudonym; carries nothing about the person."""
    return "P" + secrets.token_hex(4)


class FieldDriver:
    """The requester's tablet: the script, one tap per answer."""

    def run(self, paradigm, experiment, store, slots, io, new_id):
        return run_field_session(paradigm, experiment, store, slots, io, new_id)

    def model(self, paradigm: Paradigm, experiment: int, overrides: Mapping[str, float]) -> BinaryModel:
        model = paradigm.experiment(experiment).model
        return model.with_rates(overrides) if overrides else model

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return ScriptedParticipant(model, rng, participants)

    def scripted_io(self, paradigm, experiment, model, rng, clock, participants):
        return ScriptedIO(self.scripted_participant(paradigm, experiment, model, rng, participants), clock)

    def screen_io(self, paradigm, experiment, win, scripted=None, time_scale: float = 1.0):
        from ..screens.field import FieldScreen
        return FieldScreen(win, paradigm, scripted=scripted, time_scale=time_scale, experiment=experiment)


def driver_for(paradigm: Paradigm):
    module = importlib.import_module(f"paradigms.{paradigm.id}")
    return getattr(module, "DRIVER", None) or FieldDriver()


@dataclass(frozen=True)
class SessionResult:
    status: str
    csv_path: Path
    sidecar_path: Path
    rows: int


def create_schedule(paradigm: Paradigm, experiment: int, participants: int, seed: int, out) -> Schedule:
    return write_schedule(make_schedule(paradigm, experiment, participants, seed), out)


def _ledger_slots(ledger: SlotLedger, store: SessionStore) -> Iterator:
    while ledger.remaining() > 0:
        slot = ledger.claim_next(session_file=store.csv_path.name)
        store.event("slot_claimed", slot=slot.slot, condition=slot.condition)
        yield slot


def _open_window(size=(1280, 800), fullscreen=False):
    from ..screens.window import open_window
    return open_window(size=size, fullscreen=fullscreen)


def simulate(paradigm: Paradigm, experiment: int, participants: int, seed: int, data_dir,
             mode: str = "data-only", rates: Optional[Mapping[str, float]] = None,
             time_scale: float = 0.02, site: str = "SIM", experimenter: str = "bot",
             session: Optional[int] = None, screenshot_dir=None, site_sd: float = 0.0) -> SessionResult:
    """Run ``participants`` simulated passers-by through the real session code.

    The schedule is made in memory from ``seed`` (as ``compliance schedule``
    would make it); answers are drawn from a generator seeded with ``seed``,
    so data-only runs with the same seed give the same outcomes.  ``site_sd``
    (binary paradigms) varies the effect between sites: see :func:`site_shifted`.
    """
    if mode not in ("data-only", "visual"):
        raise ValueError(f"--mode must be data-only or visual, not {mode!r}")
    driver = driver_for(paradigm)
    model = driver.model(paradigm, experiment, dict(rates or {}))
    if site_sd:
        model = site_shifted(paradigm, experiment, model, site, seed, site_sd)
    schedule = make_schedule(paradigm, experiment, participants, seed)
    rng = random.Random(int(seed) + 1)
    meta = {"mode": f"simulate:{mode}", "seed": int(seed), "schedule_sha256": None,
            "simulation_model": _describe_model(model), "pilot": True}
    store = SessionStore(data_dir, paradigm, experiment, site, experimenter, session, meta)
    slots = _with_progress(schedule.slots, f"simulating {paradigm.id}")
    # pseudonyms from their own generator, seeded by everything that names the session, so
    # simulated ids are reproducible and yet unique across paradigms, sites and sessions
    new_id = sim_id_factory(random.Random(f"{paradigm.id}:{experiment}:{site}:{store.session}:{seed}"))
    with store:
        if mode == "data-only":
            io = driver.scripted_io(paradigm, experiment, model, rng, SimClock(), participants)
            status = driver.run(paradigm, experiment, store, slots, io, new_id)
        else:
            scripted = driver.scripted_participant(paradigm, experiment, model, rng, participants)
            win = _open_window()
            try:
                io = driver.screen_io(paradigm, experiment, win, scripted=scripted, time_scale=time_scale)
                if screenshot_dir is not None:
                    io.screenshot_dir = Path(screenshot_dir)
                status = driver.run(paradigm, experiment, store, slots, io, new_id)
            finally:
                win.close()
        store.status = status
    return SessionResult(status, store.csv_path, store.sidecar_path, store.n_rows)


def site_shifted(paradigm: Paradigm, experiment: int, model, site: str, seed: int, site_sd: float):
    """The model at one simulated site of a multi-site replication (``--site-sd``).

    The site draws u ~ N(0, ``site_sd``) from a generator seeded by the site's
    name and ``seed``, and every treatment condition's log-odds of compliance is
    shifted by u (controls are not): each treatment-vs-control log odds ratio then
    varies between sites with SD τ = ``site_sd``.  Rates of 0 or 1 stay as they are.
    """
    import math
    if not isinstance(model, BinaryModel):
        raise ValueError(f"--site-sd shifts the log-odds of compliance; {paradigm.id} has a "
                         f"{type(model).__name__}, not a binary model")
    if not (site_sd > 0 and math.isfinite(site_sd)):
        raise ValueError(f"--site-sd {site_sd}: a standard deviation must be a positive number")
    u = random.Random(f"site-sd:{paradigm.id}:{experiment}:{site}:{seed}").gauss(0.0, site_sd)
    shifted = {}
    for c in paradigm.experiment(experiment).conditions:
        p = model.rates[c.name].p
        if c.role == "treatment" and 0.0 < p < 1.0:
            shifted[c.name] = Rate(1 / (1 + math.exp(-(math.log(p / (1 - p)) + u))),
                                   f"{model.rates[c.name].source}; log-odds shifted by {u:+.4f} at site {site} "
                                   f"(--site-sd {site_sd:g})")
    return BinaryModel({**model.rates, **shifted}, model.first_agree, model.exclusion_rate)


def _with_progress(items, label: str, stream=None, min_items: int = 500) -> Iterator:
    """Yield ``items``; on a terminal, show how far a long run has come (on stderr)."""
    import sys
    stream = stream or sys.stderr
    total = len(items)
    show = total >= min_items and getattr(stream, "isatty", lambda: False)()
    step = max(total // 50, 1)
    for i, item in enumerate(items, start=1):
        if show and (i % step == 0 or i == total):  # i items taken (the last may not be asked past)
            bar = "#" * (30 * i // total)
            stream.write(f"\r{label} [{bar:<30}] {i}/{total}")
            if i == total:
                stream.write("\n")
            stream.flush()
        yield item


def _describe_model(model) -> dict:
    if isinstance(model, BinaryModel):
        return {"kind": "binary", "first_agree": model.first_agree, "exclusion_rate": model.exclusion_rate,
                "rates": {k: {"p": r.p, "source": r.source} for k, r in model.rates.items()}}
    describe = getattr(model, "describe", None)
    return describe() if describe else {"kind": type(model).__name__}


def run_session(paradigm: Paradigm, experiment: int, schedule_path, site: str, experimenter: str,
                data_dir, session: Optional[int] = None, fullscreen: bool = True,
                size=(1280, 800), pilot: bool = False) -> SessionResult:
    """A real session: the PsychoPy screen, slots taken from the schedule's ledger."""
    schedule = load_schedule(schedule_path, paradigm, experiment)
    ledger = SlotLedger(schedule)
    if ledger.remaining() == 0:
        raise ValueError(f"{schedule.path}: all {len(schedule.slots)} slots are used; make a new schedule")
    interrupted = find_interrupted(Path(data_dir)) if Path(data_dir).exists() else []
    meta = {"mode": "pilot" if pilot else "run", "seed": schedule.seed,
            "schedule_file": str(schedule.path), "schedule_sha256": schedule.sha256, "pilot": pilot,
            "recovered_interrupted_sessions": [p.name for p in interrupted]}
    for p in interrupted:
        _mark_interrupted(p)
    driver = driver_for(paradigm)
    store = SessionStore(data_dir, paradigm, experiment, site, experimenter, session, meta)
    with store:
        win = _open_window(size=size, fullscreen=fullscreen)
        try:
            io = driver.screen_io(paradigm, experiment, win)
            status = driver.run(paradigm, experiment, store, _ledger_slots(ledger, store), io,
                                new_participant_id)
        finally:
            win.close()
        store.status = status
    return SessionResult(status, store.csv_path, store.sidecar_path, store.n_rows)


def _mark_interrupted(sidecar: Path) -> None:
    import json
    from .store import write_json_atomic
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    csv_path = sidecar.with_name(meta.get("data_file", ""))
    n = 0
    if csv_path.is_file():
        with open(csv_path, encoding="utf-8") as fh:
            n = max(sum(1 for line in fh if line.strip()) - 1, 0)
    meta.update(status="interrupted", n_rows=n,
                note="the session process ended without closing (crash or kill); rows up to the crash are "
                     "intact; see the events journal for any answer given after the last row")
    write_json_atomic(sidecar, meta)
