"""Pre-registrable schedules and durable slot bookkeeping.

A schedule assigns conditions to numbered slots in randomised blocks: each
block holds every condition of the experiment once, in an order drawn from a
seeded generator.  The same paradigm, experiment, size and seed always give a
byte-identical CSV.  Its SHA-256 is written beside it (``NAME.sha256``, in
``sha256sum`` format) with the parameters that made it (``NAME.meta.json``),
so the file can be pre-registered and checked before every session.

``SlotLedger`` records each slot as it is taken (``NAME.slots.log``, one
fsynced line per slot) *before* the participant is approached: after a crash
the next session resumes at the next unused slot, never reusing nor skipping
one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from ..base import Paradigm
from ..errors import ComplianceError
from .. import limits as _limits
from . import locks as _locks
from .store import now_iso

__all__ = ["Slot", "Schedule", "ScheduleError", "make_schedule", "write_schedule", "load_schedule",
           "SlotLedger", "sha256_of"]


#: The most slots one schedule (or one simulated session) may have.
MAX_PARTICIPANTS = _limits.PARTICIPANTS.value  # one place for every limit: paradigms.limits


class ScheduleError(ComplianceError, ValueError):
    """A schedule is malformed, tampered with, or used up."""


@dataclass(frozen=True)
class Slot:
    slot: int
    block: int
    condition: str


@dataclass(frozen=True)
class Schedule:
    paradigm: str
    experiment: int
    seed: int
    slots: tuple[Slot, ...]
    factors: tuple[str, ...] = ()
    factor_levels: tuple[tuple[str, ...], ...] = ()
    path: Optional[Path] = None
    sha256: Optional[str] = None

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["slot", "block", "condition", *self.factors])
        for s, levels in zip(self.slots, self.factor_levels or [()] * len(self.slots)):
            w.writerow([s.slot, s.block, s.condition, *levels])
        return buf.getvalue()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_schedule(paradigm: Paradigm, experiment: int, participants: int, seed: int) -> Schedule:
    """Block-randomised, balanced assignment of the experiment's conditions.

    Each complete block contains every condition exactly once.  When
    ``participants`` is not a multiple of the number of conditions the last
    block is cut short (its first slots only), so counts differ by at most one.

    Uses :class:`random.Random` seeded with ``seed``: Python documents that a
    seeded ``Random`` reproduces its sequence across versions.
    """
    exp = paradigm.experiment(experiment)
    if int(participants) < 1:
        raise ScheduleError(f"--participants must be at least 1, not {participants}")
    if int(participants) > MAX_PARTICIPANTS:
        raise ScheduleError(f"--participants {participants} is more than {MAX_PARTICIPANTS:,}; "
                            "split the study into several schedules")
    if int(seed) < 0:
        # random.Random(-5) is random.Random(5): two "different" seeds, one schedule
        raise ScheduleError(f"--seed must be 0 or more, not {seed}")
    names = list(exp.condition_names)
    rng = random.Random(int(seed))
    slots = []
    block = 0
    while len(slots) < participants:
        block += 1
        order = names[:]
        rng.shuffle(order)
        for cond in order:
            if len(slots) == participants:
                break
            slots.append(Slot(len(slots) + 1, block, cond))
    factors = exp.factors
    levels = tuple(tuple(exp.condition(s.condition).factors.get(f, "") for f in factors) for s in slots)
    return Schedule(paradigm.id, exp.number, int(seed), tuple(slots), factors, levels)


def _sidecars(path: Path) -> tuple[Path, Path, Path]:
    return (path.with_name(path.name + ".sha256"), path.with_name(path.name + ".meta.json"),
            path.with_name(path.name + ".slots.log"))


def write_schedule(schedule: Schedule, path) -> Schedule:
    """Write the schedule and its hash; refuse to overwrite any existing file."""
    path = Path(path)
    sha_path, meta_path, log_path = _sidecars(path)
    for p in (path, sha_path, meta_path):
        if p.exists():
            raise FileExistsError(f"{p}: already exists; a schedule is never overwritten "
                                  "(choose another --out)")
    if log_path.exists():
        raise FileExistsError(f"{log_path}: the slot log of an earlier schedule of this name remains; "
                              "a new schedule never inherits it (move it away or choose another --out)")
    path.parent.mkdir(parents=True, exist_ok=True)
    data = schedule.to_csv().encode("utf-8")
    digest = sha256_of(data)
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    with open(sha_path, "x", encoding="utf-8") as fh:
        fh.write(f"{digest}  {path.name}\n")
    from .. import __version__
    meta = {"paradigm": schedule.paradigm, "experiment": schedule.experiment, "seed": schedule.seed,
            "participants": len(schedule.slots), "sha256": digest, "method": "random.Random(seed).shuffle "
            "per block of all conditions", "toolkit_version": __version__}
    with open(meta_path, "x", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=2)
        fh.write("\n")
    return Schedule(schedule.paradigm, schedule.experiment, schedule.seed, schedule.slots,
                    schedule.factors, schedule.factor_levels, path, digest)


def _registered_hash(sha_path: Path) -> str:
    """The digest in a ``sha256sum``-style file; a one-line error if it holds none."""
    try:
        text = sha_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    fields = text.split()
    digest = fields[0].lower() if fields else ""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ScheduleError(f"{sha_path}: holds no SHA-256 (expected 64 hex digits and the file name)")
    return digest


def _check_against_seed(path: Path, meta: Mapping, paradigm: Paradigm, experiment: int, slots) -> None:
    """The slots must be the ones the recorded seed makes: a schedule edited and re-hashed is caught."""
    try:
        seed, n = int(meta["seed"]), int(meta["participants"])
    except (KeyError, TypeError, ValueError):
        raise ScheduleError(f"{path}: its .meta.json lacks the seed or the number of participants") from None
    if n != len(slots):
        raise ScheduleError(f"{path}: {len(slots)} slots, but its .meta.json records {n} participants")
    if seed < 0 or not 1 <= n <= MAX_PARTICIPANTS:
        raise ScheduleError(f"{path}: its .meta.json records seed {seed} and {n} participants, "
                            "which no schedule is made with")
    made = make_schedule(paradigm, experiment, n, seed).slots
    for want, got in zip(made, slots):
        if want != got:
            raise ScheduleError(f"{path}: slot {got.slot} is {got.condition!r} (block {got.block}), but seed {seed} "
                                f"makes {want.condition!r} (block {want.block}) there; the schedule was changed")


def load_schedule(path, paradigm: Paradigm, experiment: int) -> Schedule:
    """Read a schedule, check its SHA-256 and that it belongs to this paradigm."""
    path = Path(path)
    sha_path, meta_path, _ = _sidecars(path)
    if not path.exists():
        raise ScheduleError(f"{path}: schedule file not found")
    if not sha_path.exists():
        raise ScheduleError(f"{sha_path}: hash file missing; a schedule must carry its SHA-256")
    data = path.read_bytes()
    got = sha256_of(data)
    want = _registered_hash(sha_path)
    if got != want:
        raise ScheduleError(f"{path}: SHA-256 {got[:12]}... does not match the registered "
                            f"{want[:12]}... in {sha_path.name}; the schedule was changed")
    if not meta_path.exists():
        raise ScheduleError(f"{meta_path}: parameter file missing; a schedule must carry its .meta.json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScheduleError(f"{meta_path}: not readable JSON ({exc})") from None
    if str(meta.get("sha256", "")).lower() != got:
        raise ScheduleError(f"{path}: SHA-256 {got[:12]}... does not match {str(meta.get('sha256'))[:12]}... "
                            f"recorded in {meta_path.name}; the schedule or its records were changed")
    if meta.get("paradigm", paradigm.id) != paradigm.id:
        raise ScheduleError(f"{path}: schedule is for {meta['paradigm']!r}, not {paradigm.id!r}")
    if int(meta.get("experiment", experiment)) != int(experiment):
        raise ScheduleError(f"{path}: schedule is for experiment {meta['experiment']}, not {experiment}")
    exp = paradigm.experiment(experiment)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    slots = []
    for i, r in enumerate(rows, start=2):
        try:
            slot = int(r["slot"])
            block = int(r["block"])
        except (KeyError, TypeError, ValueError):
            raise ScheduleError(f"{path}: line {i}, field slot/block: not an integer") from None
        cond = r.get("condition") or ""
        if cond not in exp.condition_names:
            raise ScheduleError(f"{path}: line {i}, field condition: unknown condition {cond!r}")
        slots.append(Slot(slot, block, cond))
    _check_against_seed(path, meta, paradigm, exp.number, slots)
    return Schedule(paradigm.id, exp.number, int(meta.get("seed", -1)), tuple(slots), exp.factors,
                    tuple(tuple(exp.condition(s.condition).factors.get(f, "") for f in exp.factors)
                          for s in slots), path, got)


class SlotLedger:
    """Append-only record of the slots taken from one schedule (``NAME.slots.log``).

    Each line is a JSON record.  A slot is read and taken under an exclusive
    lock on the log (:mod:`paradigms.engine.locks`), so two tablets sharing the
    schedule folder never take the same slot.  Every record carries the
    schedule's SHA-256: a log left behind by another schedule of the same name
    is refused, never inherited.
    """

    def __init__(self, schedule: Schedule):
        if schedule.path is None:
            raise ScheduleError("a slot ledger needs a schedule read from a file")
        self.schedule = schedule
        self.path = _sidecars(Path(schedule.path))[2]

    # -- reading -----------------------------------------------------------
    def _parse(self, text: str) -> list[dict]:
        """The log's records; a torn last line (a crash mid-write) counts as the next slot taken."""
        out: list[dict] = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
                if not isinstance(rec, dict):
                    raise TypeError
                if "slot" in rec:
                    rec["slot"] = int(rec["slot"])
            except (ValueError, TypeError):
                # the slot may have been taken, so count the slot after the last good one as used
                rec = {"slot": max((r["slot"] for r in out if "slot" in r), default=0) + 1, "torn": True}
            out.append(rec)
        self._check_binding(out)
        return out

    def _check_binding(self, records: list[dict]) -> None:
        want = self.schedule.sha256
        for rec in records:
            got = rec.get("schedule_sha256")
            if want and got and got != want:
                raise ScheduleError(
                    f"{self.path}: this slot log belongs to another schedule (SHA-256 {got[:12]}...), "
                    f"not to {Path(self.schedule.path).name} ({want[:12]}...); move the old log away")

    def records(self) -> list[dict]:
        """Every record of the log (claims and anything else the log holds)."""
        if not self.path.exists():
            return []
        with open(self.path, "r", encoding="utf-8") as fh:
            _locks.lock(fh, exclusive=False)
            try:
                return self._parse(fh.read())
            finally:
                _locks.unlock(fh)

    def claims(self) -> list[dict]:
        return [r for r in self.records() if "slot" in r]

    def used(self) -> list[int]:
        return [r["slot"] for r in self.claims()]

    def remaining(self) -> int:
        last = max(self.used(), default=0)
        return sum(1 for s in self.schedule.slots if s.slot > last)

    # -- taking a slot -----------------------------------------------------
    def claim_next(self, check=None, **fields) -> Slot:
        """Take the next unused slot; durable on disk before it is returned.

        ``check(records)``, if given, is called under the lock with the log's
        records before the slot is taken (it may raise to refuse the claim).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as fh:
            _locks.lock(fh, exclusive=True)
            try:
                fh.seek(0)
                records = self._parse(fh.read())
                if check is not None:
                    check(records)
                last = max((r["slot"] for r in records if "slot" in r), default=0)
                for s in self.schedule.slots:
                    if s.slot > last:
                        rec = {"slot": s.slot, "condition": s.condition, "claimed": now_iso(),
                               "schedule_sha256": self.schedule.sha256, **fields}
                        fh.seek(0, os.SEEK_END)
                        fh.write(json.dumps(rec) + "\n")
                        fh.flush()
                        os.fsync(fh.fileno())
                        return s
            finally:
                _locks.unlock(fh)
        raise ScheduleError(f"{self.schedule.path}: all {len(self.schedule.slots)} slots are used; "
                            "make a new schedule")
