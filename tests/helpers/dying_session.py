"""A real field session that SIGKILLs itself at a chosen instant.

    python -m tests.helpers.dying_session SCHEDULE DATA_DIR POINT

POINT is ``before-sidecar`` (the session's CSV exists, its sidecar not yet:
the first milliseconds of a session) or ``row:K`` (the instant the K-th
participant's row is about to be written, after every answer was given).
The kill is a real ``SIGKILL`` of this process: no ``finally``, no ``atexit``.
"""
from __future__ import annotations

import os
import random
import signal
import sys

import paradigms
from paradigms.engine import store as store_mod
from paradigms.engine.schedule import SlotLedger, load_schedule
from paradigms.engine.loop import run_participants
from paradigms.engine.sessions import _ledger_slots, new_participant_id
from paradigms.engine.simulate import ScriptedIO, ScriptedParticipant, SimClock
from paradigms.engine.store import SessionStore


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


def main(schedule_path: str, data_dir: str, point: str) -> None:
    p = paradigms.get("cialdini1975")
    if point == "before-sidecar":
        real = store_mod.write_json_atomic

        def write(path, obj):
            if str(path).endswith("_data.json"):
                _die()
            return real(path, obj)
        store_mod.write_json_atomic = write
    elif point.startswith("row:"):
        k = int(point[4:])
        real_append = SessionStore.append

        def append(self, row):
            if self.n_rows + 1 == k:
                _die()
            return real_append(self, row)
        SessionStore.append = append
    ledger = SlotLedger(load_schedule(schedule_path, p, 1))
    store = SessionStore(data_dir, p, 1, "S1", "E1", meta={"mode": "run", "pilot": False,
                                                         "schedule_sha256": ledger.schedule.sha256})
    with store:
        io = ScriptedIO(ScriptedParticipant(p.experiment(1).model, random.Random(5), 10), SimClock())
        store.status = run_participants(p, 1, store, _ledger_slots(ledger, store), io, new_participant_id)


if __name__ == "__main__":
    main(*sys.argv[1:4])
