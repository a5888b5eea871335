"""Issue 22.9: the losing process of a same-site race gets one line saying another session on this
site took that session number, and what to do; the winner's files are untouched."""
from __future__ import annotations

import pytest

from paradigms.engine.store import SessionExistsError, SessionStore


@pytest.mark.parametrize("given", [None, 1])
def test_a_session_number_taken_between_the_check_and_the_create_is_one_line(ditf, tmp_path, given):
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1", session=given)   # checks: number 1 is free
    winner = store.csv_path
    winner.write_text("the other session's data\n", encoding="utf-8")     # the other process creates it now
    with pytest.raises(SessionExistsError) as e:
        store.open()
    msg = str(e.value)
    assert "\n" not in msg and "[Errno" not in msg
    assert "another session on site S1 took session number 1" in msg
    assert ("start this one again" if given is None else "choose another --session") in msg
    assert winner.read_text(encoding="utf-8") == "the other session's data\n"
    # the loser left nothing of its own (the folder's description stays: the winner's session needs it)
    assert not store.events_path.exists() and not store.sidecar_path.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset_description.json", winner.name]


def test_through_the_command_line_it_is_exit_2_and_one_line(tmp_path, monkeypatch, capsys):
    from paradigms.cli import main
    from paradigms.engine import store as store_mod

    real = store_mod.update_dataset_description

    def racing(root, paradigm):   # the other process creates session 1 just as this one opens it
        real(root, paradigm)
        (root / "study-cialdini1975_exp-1_site-SIM_session-1_data.csv").write_text("x\n", encoding="utf-8")
    monkeypatch.setattr(store_mod, "update_dataset_description", racing)
    status = main(["simulate", "cialdini1975", "--participants", "3", "--data-dir", str(tmp_path / "d"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "took session number 1" in err[0], err
