"""What ``compliance schedule``, ``run`` and ``simulate`` do, as functions.

The paradigm's declared session type picks its driver
(:func:`~paradigms.engine.drivers.driver_for`); the one session loop
(:func:`~paradigms.engine.loop.run_participants`) runs it.  The engine draws
nothing: a real session and a visual simulation are handed a *presenter* by
the caller (the CLI passes the presentation side's ``present``), a
context manager that opens the window and yields the screen for the paradigm::

    with present(paradigm, experiment, size=(1280, 800), fullscreen=True,
                 scripted=None, time_scale=1.0) as io:
        ...  # io.wait(prompt) -> Response

so logic never knows its presentation.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping, Optional

from ..base import BinaryModel, Paradigm, Rate
from ..vocab.count import CellMean, CountModel
from ..errors import UsageError
from .drivers import FieldDriver, LabDriver, driver_for
from .loop import run_participants
from .recovery import Recovery, crash_row, recover_data_dir
from .schedule import Schedule, ScheduleError, SlotLedger, load_schedule, make_schedule, write_schedule
from .simulate import ScriptedIO, SimClock, sim_id_factory
from .store import SessionStore, dataset_uid

__all__ = ["FieldDriver", "LabDriver", "driver_for", "new_participant_id", "create_schedule", "simulate",
           "run_session", "SessionResult", "site_shifted", "site_seed", "simulate_sites", "sites_sharing_seed",
           "SITE_STREAM_RULE"]


def new_participant_id() -> str:
    """A random pseudonym; carries nothing about the person."""
    return "P" + secrets.token_hex(4)


@dataclass(frozen=True)
class SessionResult:
    status: str
    csv_path: Path
    sidecar_path: Path
    rows: int
    #: what the command found and put on record of earlier crashes in the data folder
    recovery: Recovery = Recovery()


def create_schedule(paradigm: Paradigm, experiment: int, participants: int, seed: int, out) -> Schedule:
    return write_schedule(make_schedule(paradigm, experiment, participants, seed), out)


def _ledger_slots(ledger: SlotLedger, store: SessionStore) -> Iterator:
    """Slots taken from the ledger one by one, each naming this session unambiguously: its file
    (relative to the data folder), its session uid and the data folder's identifier."""
    folder = dataset_uid(store.root)
    check = _same_folder_check(ledger, folder)
    while ledger.remaining() > 0:
        try:
            slot = ledger.claim_next(check=check, session_file=store.csv_path.name,
                                     session_uid=store.session_uid, dataset_uid=folder)
        except ScheduleError as exc:
            if "all" in str(exc) and "slots are used" in str(exc):
                return  # another tablet took the last slot meanwhile
            raise
        store.event("slot_claimed", slot=slot.slot, condition=slot.condition)
        yield slot


def _show_end(io, status: str, store, ledger) -> None:
    """On the screen, not only the terminal: the session's summary, and whether the schedule is done."""
    own = store.own_rows()
    lines = [f"Session {store.session} {status}: {own} participant{'' if own == 1 else 's'} recorded in this "
             "session."]
    if store.n_recovered:
        lines.append(f"Its file also keeps the record of {store.n_recovered} slot"
                     f"{'' if store.n_recovered == 1 else 's'} lost in an earlier crash.")
    if ledger is not None and ledger.remaining() == 0:
        lines.append(f"The schedule is complete: all {len(ledger.schedule.slots)} slots are used. "
                     "Make a new schedule for more participants.")
        title = "End of the schedule"
    else:
        title = "Session ended"
    io.show_message(title, lines, button="Close [Space]")


def _journal_into(io, store) -> None:
    """A screen that journals what it draws and ignores writes into the session's journal."""
    io.journal = store.event


def _same_folder_check(ledger: SlotLedger, folder: Optional[str]):
    """A check for :meth:`SlotLedger.claim_next`: a schedule's slots go to one data folder only."""
    def check(records) -> None:
        for rec in records:
            other = rec.get("dataset_uid")
            if other and other != folder:
                raise ScheduleError(
                    f"{ledger.path}: this schedule's slots are recorded in another data folder "
                    f"(session file {rec.get('session_file')}); run into that folder, or add --pilot for a "
                    "practice run (pilot runs never take real slots)")
    return check


def _pilot_slots(schedule: Schedule, store: SessionStore) -> Iterator:
    """A pilot's slots: the schedule's order from slot 1, taken from no ledger."""
    for slot in schedule.slots:
        store.event("slot_claimed", slot=slot.slot, condition=slot.condition, pilot=True)
        yield slot


def simulate(paradigm: Paradigm, experiment: int, participants: int, seed: int, data_dir,
             mode: str = "data-only", rates: Optional[Mapping[str, float]] = None,
             time_scale: float = 0.02, site: str = "SIM", experimenter: str = "bot",
             session: Optional[int] = None, screenshot_dir=None, site_sd: float = 0.0,
             window_size=(1280, 800), on_recovery=None, present=None,
             durability: Optional[str] = None, site_stream: Optional[Mapping] = None) -> SessionResult:
    """Run ``participants`` simulated participants through the real session code.

    The schedule is made in memory from ``seed`` (as ``compliance schedule``
    would make it); answers are drawn from a generator seeded with ``seed``,
    so data-only runs with the same seed give the same outcomes.  ``site_sd``
    varies the effect between sites: see :func:`site_shifted`.  ``site_stream`` (set by
    :func:`simulate_sites` for a call of several sites) is recorded in the sidecar.
    ``mode="visual"`` draws every screen through ``present`` (see the module's
    docstring) with the same answers as synthetic input.
    ``durability`` is the store's policy (:class:`~paradigms.engine.store.SessionStore`):
    by default ``batched`` for data-only runs, ``per_event`` for visual ones.

    Examples
    --------
    >>> import tempfile, paradigms
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = simulate(paradigms.get("cialdini1975"), 1, 12, seed=3, data_dir=d)
    ...     (res.status, res.rows)
    ('completed', 12)
    """
    if mode not in ("data-only", "visual"):
        raise UsageError(f"--mode must be data-only or visual, not {mode!r}")
    if mode == "visual" and present is None:
        raise UsageError("--mode visual needs the session screens: pass present=, the presenter of the "
                         "presentation side (the compliance CLI passes it)")
    driver = driver_for(paradigm)
    model = driver.model(paradigm, experiment, dict(rates or {}))
    if site_sd:
        model = site_shifted(paradigm, experiment, model, site, seed, site_sd)
    schedule = make_schedule(paradigm, experiment, participants, seed)
    rng = random.Random(int(seed) + 1)
    meta = {"mode": f"simulate:{mode}", "seed": int(seed), "schedule_sha256": None,
            "simulation_model": _describe_model(model), "pilot": True}
    if site_stream:
        meta["site_stream"] = dict(site_stream)
    # data-only: no participant to lose, so rows and events are written in blocks (one fsync at close)
    store = SessionStore(data_dir, paradigm, experiment, site, experimenter, session, meta,
                         durability=durability or ("batched" if mode == "data-only" else "per_event"))
    recovery = recover_data_dir(data_dir)
    if on_recovery is not None and recovery:
        on_recovery(recovery)
    slots = _with_progress(schedule.slots, f"simulating {paradigm.id}")
    # pseudonyms from their own generator, seeded by everything that names the session, so
    # simulated ids are reproducible and yet unique across paradigms, sites and sessions
    new_id = sim_id_factory(random.Random(f"{paradigm.id}:{experiment}:{site}:{store.session}:{seed}"))
    scripted = driver.scripted_participant(paradigm, experiment, model, rng, participants)
    with store:
        extra = driver.simulation_meta(paradigm)
        if extra:
            store.set_meta(**extra)
        if mode == "data-only":
            io = ScriptedIO(scripted, SimClock())
            try:
                status = run_participants(paradigm, experiment, store, slots, io, new_id, driver)
            except Exception:
                # a data-only simulation that failed recorded nothing worth keeping: the folder is
                # left as it was found (Ctrl-C keeps what was simulated, marked aborted)
                store.discard()
                raise
        else:
            with present(paradigm, experiment, size=tuple(window_size), fullscreen=False, scripted=scripted,
                         time_scale=time_scale) as io:
                _journal_into(io, store)
                if screenshot_dir is not None:
                    io.screenshot_dir = Path(screenshot_dir)
                status = run_participants(paradigm, experiment, store, slots, io, new_id, driver)
        store.status = status
    return SessionResult(status, store.csv_path, store.sidecar_path, store.n_rows, recovery)


def site_shifted(paradigm: Paradigm, experiment: int, model, site: str, seed: int, site_sd: float):
    """The model at one simulated site of a multi-site replication (``--site-sd``).

    The site draws u ~ N(0, ``site_sd``) from a generator seeded by the site's
    name and ``seed``, and every treatment condition is shifted by u (controls
    are not), so each treatment-vs-control effect varies between sites with
    SD τ = ``site_sd`` on its own scale:

    * a :class:`~paradigms.base.BinaryModel`: the log-odds of compliance (the
      log odds ratio's τ); rates of 0 or 1 stay as they are;
    * a :class:`~paradigms.vocab.count.CountModel` (Regan): the log of the cell's
      mean tickets, i.e. the cell mean times exp(u) (the log ratio of means' τ, in
      expectation up to the truncation of counts at ``max_tickets``); a mean of 0
      stays 0.  Shifting the controls' means too would cancel in every ratio.

    Examples
    --------
    >>> import math, paradigms
    >>> p = paradigms.get("regan1971")
    >>> base = p.experiment(1).model
    >>> m = site_shifted(p, 1, base, "S1", 7, 0.5)
    >>> u = math.log(m.cell_means["confederate_favor_pleasant"].mean / base.cell_means["confederate_favor_pleasant"].mean)
    >>> round(math.log(m.cell_means["confederate_favor_unpleasant"].mean / base.cell_means["confederate_favor_unpleasant"].mean) - u, 12)
    0.0
    >>> m.cell_means["no_favor_pleasant"] == base.cell_means["no_favor_pleasant"]
    True
    """
    import math
    if not isinstance(model, (BinaryModel, CountModel)):
        raise UsageError(f"--site-sd shifts the log-odds of compliance or the log mean of a count; {paradigm.id} "
                         f"has a {type(model).__name__}, neither a binary nor a count model")
    if not (site_sd > 0 and math.isfinite(site_sd)):
        raise UsageError(f"--site-sd {site_sd}: a standard deviation must be a positive number")
    u = random.Random(f"site-sd:{paradigm.id}:{experiment}:{site}:{seed}").gauss(0.0, site_sd)
    treated = [c.name for c in paradigm.experiment(experiment).conditions if c.role == "treatment"]
    if isinstance(model, CountModel):
        return _count_shifted(model, treated, u, site, site_sd)
    shifted = {}
    for name in treated:
        p = model.rates[name].p
        if 0.0 < p < 1.0:
            shifted[name] = Rate(1 / (1 + math.exp(-(math.log(p / (1 - p)) + u))),
                                 f"{model.rates[name].source}; log-odds shifted by {u:+.4f} at site {site} "
                                 f"(--site-sd {site_sd:g})")
    return BinaryModel({**model.rates, **shifted}, model.first_agree, model.exclusion_rate)


def _count_shifted(model: CountModel, treated, u: float, site: str, site_sd: float) -> CountModel:
    """``model`` with every treated cell's mean multiplied by exp(``u``) (its log mean shifted by u)."""
    import dataclasses
    import math
    means = dict(model.cell_means)
    for name in treated:
        cell = means[name]
        if cell.mean > 0:
            means[name] = CellMean(cell.mean * math.exp(u), f"{cell.source}; log mean shifted by {u:+.4f} at site "
                                                              f"{site} (--site-sd {site_sd:g})")
    return dataclasses.replace(model, cell_means=means)


#: How a call that simulates several sites gives each its own stream (said in the sidecar and README).
SITE_STREAM_RULE = "seed of a site = numpy SeedSequence([--seed, crc32(site code in UTF-8)]).generate_state(1)[0]"


def site_seed(seed: int, site: str) -> int:
    """The seed of one site's stream when several sites are simulated in one call.

    Numpy's :class:`~numpy.random.SeedSequence` of the call's seed and the CRC-32 of the site
    code, its first 32-bit word: sites of one call get independent streams, and the same call
    gives the same seeds.  Simulating that site alone with ``--seed site_seed(seed, site)`` gives
    the same data.

    Examples
    --------
    >>> site_seed(1, "A") == site_seed(1, "A") != site_seed(1, "B")
    True
    """
    import zlib

    from numpy.random import SeedSequence
    if int(seed) < 0:
        raise UsageError(f"--seed must be 0 or more, not {seed}")
    return int(SeedSequence([int(seed), zlib.crc32(site.encode("utf-8"))]).generate_state(1)[0])


def sites_sharing_seed(data_dir, paradigm: Paradigm, experiment: int, seed: int, site: str) -> list:
    """Other sites in ``data_dir`` simulated one a call with this ``seed``: the same draws as ``site``'s.

    A call of one site uses its seed as it is (:func:`simulate_sites`), so sites simulated in
    separate calls with one seed share their participants' draws; ``compliance simulate`` says so.

    Examples
    --------
    >>> import tempfile, paradigms
    >>> p = paradigms.get("burger1986")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = simulate(p, 1, 4, 3, d, site="A")
    ...     sites_sharing_seed(d, p, 1, 3, "B"), sites_sharing_seed(d, p, 1, 4, "B")
    (['A'], [])
    """
    import json
    found = set()
    pattern = f"study-{paradigm.id}_exp-{int(experiment)}_site-*_data.json"
    for side in Path(data_dir).glob(pattern) if Path(data_dir).is_dir() else ():
        try:
            d = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours to judge here: analyze and verify name a broken sidecar
        if (isinstance(d, dict) and str(d.get("mode", "")).startswith("simulate") and d.get("seed") == int(seed)
                and d.get("site") != site and "site_stream" not in d):
            found.add(str(d.get("site")))
    return sorted(found)


def simulate_sites(paradigm: Paradigm, experiment: int, participants: int, seed: int, sites, data_dir,
                   **kwargs) -> list:
    """:func:`simulate` at each of ``sites`` (``participants`` each); one :class:`SessionResult` a site.

    One site: exactly :func:`simulate` with ``seed`` (its files do not change with this function).
    Several sites: each its own stream, :func:`site_seed` of ``seed`` and the site code (the
    sidecar records both seeds and the rule), so no two sites of one call share their draws.
    Every site code (and the session files it would write) is checked before anything is written.

    Examples
    --------
    >>> import tempfile, paradigms
    >>> with tempfile.TemporaryDirectory() as d:
    ...     res = simulate_sites(paradigms.get("burger1986"), 1, 10, 3, ["A", "B"], d)
    ...     [(r.csv_path.name.split("_")[2], r.rows) for r in res]
    [('site-A', 10), ('site-B', 10)]
    """
    sites = [str(s) for s in sites] or ["SIM"]
    if len(sites) == 1:
        return [simulate(paradigm, experiment, participants, seed, data_dir, site=sites[0], **kwargs)]
    twice = sorted({s for s in sites if sites.count(s) > 1})
    if twice:
        raise UsageError(f"--site {twice[0]} is given twice; name each site once")
    seeds = {s: site_seed(seed, s) for s in sites}
    if len(set(seeds.values())) < len(sites):  # a CRC-32 collision: never silently share a stream
        raise UsageError("--site: two of these site codes get the same stream; rename one")
    for s in sites:  # checks only: a bad third site leaves no first and second site written
        SessionStore(data_dir, paradigm, experiment, s, kwargs.get("experimenter", "bot"), kwargs.get("session"))
    out = []
    for s in sites:
        stream = {"call_seed": int(seed), "site_seed": seeds[s], "sites_in_call": sites, "rule": SITE_STREAM_RULE}
        out.append(simulate(paradigm, experiment, participants, seeds[s], data_dir, site=s,
                            site_stream=stream, **kwargs))
    return out


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
    """The model's own description (``BinaryModel.describe``, ``CountModel.describe``: every simulation
    model declares one), for the sidecar."""
    return model.describe()


def run_session(paradigm: Paradigm, experiment: int, schedule_path, site: str, experimenter: str,
                data_dir, session: Optional[int] = None, fullscreen: bool = True,
                size=(1280, 800), pilot: bool = False, on_recovery=None, present=None) -> SessionResult:
    """A real session: the PsychoPy screen, slots taken from the schedule's ledger.

    Everything is checked before the data folder is touched (schedule, codes,
    session number, the folder's dataset description, which folder the
    schedule's slots go to).  Then what earlier crashes left in the folder is
    recovered (:func:`~paradigms.engine.recovery.recover_data_dir`):
    ``on_recovery(recovery)`` is called with what was found before the window
    opens, the presentation is given it too (``io.show_recovery(recovery)``
    if it has that method), and the slots lost in a crash get their rows
    (``exclusion_reason = session_crash``) at the top of this session's file.

    A pilot (``pilot=True``) never takes a slot of the schedule: it runs the
    schedule's order from slot 1 without touching the slot log.  ``present``
    opens the screen (see the module's docstring); it is required.
    """
    if present is None:
        raise UsageError("a real session needs the session screens: pass present=, the presenter of the "
                         "presentation side (the compliance CLI passes it)")
    schedule = load_schedule(schedule_path, paradigm, experiment)
    ledger = None if pilot else SlotLedger(schedule)
    if ledger is not None and ledger.remaining() == 0 and not paradigm.session.deferred_outcome:
        raise UsageError(f"{schedule.path}: all {len(schedule.slots)} slots are used; make a new schedule")
    meta = {"mode": "pilot" if pilot else "run", "seed": schedule.seed,
            # the file's name and hash only: the path as typed may name the user (a home folder)
            "schedule_file": Path(schedule.path).name, "schedule_sha256": schedule.sha256, "pilot": pilot}
    store = SessionStore(data_dir, paradigm, experiment, site, experimenter, session, meta)  # checks only
    if ledger is not None:
        _same_folder_check(ledger, dataset_uid(data_dir))(ledger.records())
    recovery = recover_data_dir(data_dir, ledger=ledger)
    store.meta["recovered_interrupted_sessions"] = [*recovery.sessions, *recovery.orphans]
    if recovery.lost_slots:
        store.meta["recovered_lost_slots"] = [s.to_dict() for s in recovery.lost_slots]
    if on_recovery is not None and recovery:
        on_recovery(recovery)
    driver = driver_for(paradigm)
    with store:
        for lost in recovery.lost_slots:
            store.append(crash_row(paradigm, experiment, lost, new_participant_id))
            store.n_recovered += 1
            store.event("lost_slot_recorded", slot=lost.slot, condition=lost.condition,
                        crashed_session_file=lost.session_file, participant_id=lost.participant_id)
        slots = _pilot_slots(schedule, store) if pilot else _ledger_slots(ledger, store)
        with present(paradigm, experiment, size=size, fullscreen=fullscreen) as io:
            _journal_into(io, store)
            if recovery:
                io.show_recovery(recovery)
            status = run_participants(paradigm, experiment, store, slots, io, new_participant_id, driver)
            _show_end(io, status, store, ledger)
        store.status = status
    return SessionResult(status, store.csv_path, store.sidecar_path, store.own_rows(), recovery)


def _mark_interrupted(sidecar: Path) -> None:
    """Mark one session interrupted (row count from its CSV, hashes of CSV and journal)."""
    import json
    from .recovery import _mark_interrupted as mark
    mark(Path(sidecar), json.loads(Path(sidecar).read_text(encoding="utf-8")))
