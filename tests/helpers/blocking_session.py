"""A real field session whose requester pauses after every participant.

Used by the SIGKILL test: the session runs through the real engine (schedule
file, slot ledger, store), prints ``ROW k`` once participant k is on disk, and
then waits for a line on stdin before approaching the next passer-by, so the
test can kill it at a known point.

    python -m tests.helpers.blocking_session SCHEDULE DATA_DIR
"""
from __future__ import annotations

import random
import sys

import paradigms
from paradigms.engine.field import Prompt, Response
from paradigms.engine.schedule import SlotLedger, load_schedule
from paradigms.engine.loop import run_participants
from paradigms.engine.sessions import _ledger_slots, new_participant_id
from paradigms.engine.simulate import ScriptedParticipant, SimClock
from paradigms.engine.store import SessionStore


class PausingIO:
    def __init__(self, participant, clock, store):
        self.participant, self.clock, self.store = participant, clock, store

    def wait(self, prompt: Prompt) -> Response:
        if prompt.kind == "ready":
            print(f"ROW {self.store.rows_written()}", flush=True)
            if not sys.stdin.readline():
                return Response("end_session", self.clock.now())
        code = self.participant.choose(prompt, prompt.condition)
        return Response(code, self.clock.advance(1.0))


def main(schedule_path: str, data_dir: str) -> None:
    p = paradigms.get("cialdini1975")
    ledger = SlotLedger(load_schedule(schedule_path, p, 1))
    store = SessionStore(data_dir, p, 1, "S1", "E1")
    model = p.experiment(1).model
    with store:
        io = PausingIO(ScriptedParticipant(model, random.Random(3), 10_000), SimClock(), store)
        store.status = run_participants(p, 1, store, _ledger_slots(ledger, store), io, new_participant_id)


if __name__ == "__main__":
    main(*sys.argv[1:3])
