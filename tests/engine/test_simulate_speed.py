"""Data-only simulation does work per participant, not per participant squared (issue 26.4).

No timing here (that is ``make bench``): the tests check what made a kunz1976 card cost a minute
at 20,000 cards, the mailing-log screen listing every card out at every step, is gone, and that
what replaced it (counts kept as records arrive, the list made only when a screen draws it, the
technician's next outcome from a heap) says what the full listing said.
"""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

import paradigms
from paradigms.engine import mail
from paradigms.engine.mail import MailLog, OpenCards, closes
from paradigms.engine.sessions import simulate


def test_a_data_only_mail_simulation_never_lists_the_log(tmp_path, monkeypatch):
    calls = []
    real = MailLog.open_cards
    monkeypatch.setattr(MailLog, "open_cards", lambda self, today=None: calls.append(1) or real(self, today))
    res = simulate(paradigms.get("kunz1976"), 1, 120, seed=3, data_dir=tmp_path)
    df = pd.read_csv(res.csv_path)
    assert (df["record"] == "outcome").sum() == 120 and calls == []


def _recount(log: MailLog, today):
    out = [c for c in log.cards.values() if c.posted and c.outcome is None]
    closed = sum(1 for c in out if today is not None and today > closes(c.sent, log.window_days))
    return (sum(c.posted for c in log.cards.values()), sum(c.outcome is not None for c in log.cards.values()),
            len(out), closed, sorted(c.participant_id for c in out))


def test_the_kept_counts_and_the_lazy_listing_say_what_the_cards_say(tmp_path):
    """Half-way through a simulation's outcomes (windows open and closed), from the files."""
    p = paradigms.get("kunz1976")
    simulate(p, 1, 80, seed=5, data_dir=tmp_path)
    full = MailLog.load(tmp_path, p, 1, p.session.window_days)
    log = MailLog(p, 1, p.session.window_days)   # the same records, replayed, stopping half-way
    rows = [r for r in pd.read_csv(next(tmp_path.glob("*_data.csv")), dtype=str, keep_default_na=False)
            .to_dict("records")]
    dispatch = [r for r in rows if r["record"] == "dispatch"]
    outcome = [r for r in rows if r["record"] == "outcome"]
    for r in dispatch + outcome[:40]:
        log.add(r, "test")
    sent_days = sorted(c.sent for c in log.cards.values())
    for today in (None, sent_days[0], closes(sent_days[len(sent_days) // 2], log.window_days), date(2030, 1, 1)):
        n_sent, n_done, n_open, n_closed, ids = _recount(log, today)
        assert (log.n_posted, log.n_done, log.n_open(), log.n_closed(today)) == (n_sent, n_done, n_open, n_closed)
        view = OpenCards(log, today)
        assert len(view) == n_open and sorted(c.participant_id for c in view) == ids
        assert tuple(view) == log.open_cards(today) and view == OpenCards(log, today)
        assert all(view.is_open(i) for i in ids) and not view.is_open(outcome[0]["participant_id"])
    assert full.n_done == len(outcome) and full.n_open() == 0


@pytest.mark.parametrize("pid,n", [("kunz1976", 60), ("regan1971", 12)])
def test_the_same_seed_gives_the_same_files_as_a_listed_log(pid, n, tmp_path, monkeypatch):
    """The technician reading the full listing (as on the visual screen) and the data-only one
    reading the log's counts write byte-identical data."""
    fast = simulate(paradigms.get(pid), 1, n, seed=9, data_dir=tmp_path / "fast")
    monkeypatch.setattr(mail, "OpenCards", lambda log, today: log.open_cards(today))
    slow = simulate(paradigms.get(pid), 1, n, seed=9, data_dir=tmp_path / "slow")
    assert fast.csv_path.read_bytes() == slow.csv_path.read_bytes()
