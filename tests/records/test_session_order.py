"""Issue 22.3: session files are taken in session-number order everywhere (session-2 before
session-10), so a kunz1976 outcome recorded in session 10 for a card sent in session 2 finds its
dispatch record: the mailing log opens, and the loader joins the card."""
from __future__ import annotations

import csv

import pytest

import paradigms
from paradigms.engine.store import session_sort_key

KUNZ = paradigms.get("kunz1976")


@pytest.fixture
def split(tmp_path):
    """A simulated kunz1976 session cut in two: the dispatch records in session 2, the outcomes in
    session 10 (no sidecars: what is tested is the order the files are read in)."""
    from paradigms.engine.sessions import simulate

    res = simulate(KUNZ, 1, 12, seed=5, data_dir=tmp_path / "sim")
    with open(res.csv_path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header, rows = reader.fieldnames, list(reader)
    root = tmp_path / "d"
    root.mkdir()
    for number, kind in ((2, "dispatch"), (10, "outcome")):
        path = root / f"study-kunz1976_exp-1_site-S1_session-{number}_data.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, header, lineterminator="\n")
            w.writeheader()
            w.writerows({**r, "session": number, "site": "S1"} for r in rows if r["record"] == kind)
    n_out = sum(r["record"] == "outcome" for r in rows)
    assert n_out > 0
    return root, n_out


def test_the_mailing_log_opens_once_session_10_holds_outcomes(split):
    from paradigms.engine.mail import MailLog

    root, n_out = split
    log = MailLog.load(root, KUNZ, 1, KUNZ.session.window_days)
    assert sum(c.outcome is not None for c in log.cards.values()) == n_out


def test_the_loader_joins_outcomes_of_session_10_to_dispatches_of_session_2(split):
    from analysis.load.sessions import find_session_files, load_sessions

    root, n_out = split
    assert [p.name.split("_")[3] for p in find_session_files(root)] == ["session-2", "session-10"]
    loaded = load_sessions(root)
    assert len(loaded.data) == n_out


def test_sort_key_orders_numbers_as_numbers_within_each_folder():
    names = [f"site-S{s}/x_session-{n}_data.csv" for s in (10, 2) for n in (10, 9, 1)]
    assert sorted(names, key=session_sort_key) == [
        "site-S2/x_session-1_data.csv", "site-S2/x_session-9_data.csv", "site-S2/x_session-10_data.csv",
        "site-S10/x_session-1_data.csv", "site-S10/x_session-9_data.csv", "site-S10/x_session-10_data.csv"]
