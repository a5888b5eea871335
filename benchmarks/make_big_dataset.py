"""Write a large, valid data set of Cialdini et al.'s (1975) Experiment 1 for the P2 benchmark.

    python benchmarks/make_big_dataset.py OUT_DIR [--rows 1000000] [--files 500] [--seed 1]

``--files`` sessions (``study-cialdini1975_exp-1_site-S<k>_session-<j>_data.csv``, each closed
as the session store closes a session: its journal with a ``row_written`` line per row, its
sidecar with the SHA-256 of CSV and journal, its entry on the folder's record chain, so that
``compliance verify`` finds them all in order and ``compliance analyze`` needs no
``--accept-unverified``) share
``--rows`` participants: the three conditions in rotation, compliance drawn at the
published rates (50%, 25%, 17%), 2% excluded (``not_alone``) and 1% withdrawn
(``data_consent = 0``).  Ids are unique across files; slots run from 1 within each
session (each session its own schedule, as simulations are).  Cells (and journal lines) are
made as whole numpy columns and written as text in the store's formats, not row by row
through the session engine, so a million rows take seconds; the files pass
:func:`analysis.load_sessions` unchanged.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

COLUMNS = ("participant_id", "study", "experiment", "site", "session", "experimenter", "slot", "condition",
           "excluded", "exclusion_reason", "debriefed", "data_consent", "t_start", "t_end", "complied",
           "first_request_answer", "t_first_request", "target_request_answer", "t_target_request")
CONDITIONS = np.array(["rejection_moderation", "exposure_control", "smaller_request_only"])
RATES = np.array([0.50, 0.25, 1 / 6])
SITES = 10   # the sessions are spread over ten sites


def _times(t0: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(t0, unit="ms"), "+00:00")


def session_columns(rng: np.random.Generator, n: int, first_id: int, site: str, session: int,
                    start: np.datetime64) -> dict[str, np.ndarray]:
    """The cells (as text) of one session of ``n`` participants."""
    cond = (np.arange(n) + session) % 3
    excluded = rng.random(n) < 0.02
    withdrawn = ~excluded & (rng.random(n) < 0.01)
    complied = rng.random(n) < RATES[cond]
    t_start = start + (np.arange(n) * 30_000 + rng.integers(0, 5_000, n)).astype("timedelta64[ms]")
    t_first = t_start + np.timedelta64(4_000, "ms")
    t_target = t_start + np.timedelta64(9_000, "ms")
    t_end = t_start + np.timedelta64(15_000, "ms")
    has_first = (cond == 0) & ~excluded
    answer = np.where(complied, "agree", "refuse")
    e = lambda: np.full(n, "", dtype=object)  # noqa: E731
    cols = {
        "participant_id": np.char.add("big-", np.char.zfill(np.arange(first_id, first_id + n).astype(str), 8)),
        "study": np.full(n, "cialdini1975"), "experiment": np.full(n, "1"), "site": np.full(n, site),
        "session": np.full(n, str(session)), "experimenter": np.full(n, "E1"),
        "slot": np.arange(1, n + 1).astype(str), "condition": CONDITIONS[cond],
        "excluded": np.where(excluded, "1", "0"), "exclusion_reason": np.where(excluded, "not_alone", ""),
        "debriefed": np.full(n, "1"), "data_consent": np.where(withdrawn, "0", "1"),
        "t_start": _times(t_start), "t_end": _times(t_end),
        "complied": np.where(excluded, "", np.where(complied, "1", "0")),
        "first_request_answer": np.where(has_first, "refuse", ""),
        "t_first_request": np.where(has_first, _times(t_first), ""),
        "target_request_answer": np.where(excluded, "", answer),
        "t_target_request": np.where(excluded, "", _times(t_target)),
    }
    del e
    return cols


def write_session(out: Path, cols: dict[str, np.ndarray], site: str, session: int, seed: int) -> Path:
    """One closed session, as the session store leaves it: the store opens it (header, journal,
    running sidecar), the rows and their ``row_written`` journal lines are written as whole blocks in
    the store's own formats (what its ``batched`` policy writes row by row), and the store closes it
    (the SHA-256 of CSV and journal in the sidecar, the close entry on the folder's record chain)."""
    import paradigms
    from paradigms.engine.store import SessionStore, _journal_chunks, now_iso

    paradigm = paradigms.get("cialdini1975")
    store = SessionStore(out, paradigm, 1, site, "E1", session=session, durability="batched",
                         meta={"mode": "simulate:data-only", "seed": seed, "schedule_sha256": None,
                               "note": "written by benchmarks/make_big_dataset.py for the P2 benchmark"})
    if tuple(store.columns) != COLUMNS:
        raise SystemExit(f"error: the codebook's columns changed: {store.columns}")
    body = np.array(cols["participant_id"], dtype=object)
    for c in COLUMNS[1:]:
        body = body + "," + np.asarray(cols[c], dtype=object)
    # a journal line per row, exactly as SessionStore.event writes it (json's encoder, checked below)
    t = now_iso()
    head = "".join(_journal_chunks({"t": t, "event": "row_written", "participant_id": "\x00", "slot": 0}))
    pre, post = head.split('"\\u0000"')[0], head.split('"\\u0000"')[1]
    pre_slot, post_slot = post.rsplit("0", 1)
    journal = pre + '"' + np.asarray(cols["participant_id"], dtype=object) + '"' + pre_slot \
        + np.asarray(cols["slot"], dtype=object) + post_slot
    first = {"t": t, "event": "row_written", "participant_id": str(cols["participant_id"][0]),
             "slot": int(cols["slot"][0])}
    if journal[0] != "".join(_journal_chunks(first)):
        raise SystemExit("error: the journal line differs from the store's")
    with store:
        with open(store.csv_path, "a", encoding="utf-8", newline="") as fh:
            fh.write("\n".join(body.tolist()) + "\n")
        with open(store.events_path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(journal.tolist()) + "\n")
        store.n_rows = len(body)
    return store.csv_path


def make(out, rows: int = 1_000_000, files: int = 500, seed: int = 1) -> list[Path]:
    """Write the data set into ``out``; returns the CSV paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*_data.csv")):
        raise SystemExit(f"error: {out} already holds session files; choose an empty folder")
    rng = np.random.default_rng(seed)
    sizes = np.full(files, rows // files)
    sizes[: rows % files] += 1
    paths, first = [], 1
    start = np.datetime64("2024-06-01T09:00:00.000", "ms")   # 500 days, all in the past
    for k, n in enumerate(sizes):
        site = f"S{k % SITES + 1}"
        session = k // SITES + 1
        cols = session_columns(rng, int(n), first, site, session, start + np.timedelta64(k, "D"))
        paths.append(write_session(out, cols, site, session, seed))
        first += int(n)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    if a.rows < a.files or a.files < 1:
        ap.error("--rows must be at least --files, and --files at least 1")
    paths = make(a.out, a.rows, a.files, a.seed)
    print(f"wrote {a.rows} rows in {len(paths)} session files to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
