"""Claim slots from a schedule's ledger in a tight loop, as a second tablet would.

Used by the two-tablet test: two of these processes share one schedule file and
claim slots at the same time; each prints the slots it got, one per line.

    python -m tests.helpers.claim_slots SCHEDULE GO_FILE N
"""
from __future__ import annotations

import os
import sys
import time

import paradigms
from paradigms.engine.schedule import ScheduleError, SlotLedger, load_schedule


def main(schedule_path: str, go_file: str, n: str) -> None:
    ledger = SlotLedger(load_schedule(schedule_path, paradigms.get("cialdini1975"), 1))
    while not os.path.exists(go_file):  # start together
        time.sleep(0.001)
    for _ in range(int(n)):
        try:
            slot = ledger.claim_next(session_file=f"pid-{os.getpid()}")
        except ScheduleError:
            break
        print(slot.slot, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
