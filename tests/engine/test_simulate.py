"""Simulated participants: reproducible, faithful to the model, same schema as a real session."""
from __future__ import annotations

import pandas as pd
import pytest

import paradigms
from paradigms.base import DeclarationError
from paradigms.engine.sessions import simulate


def test_same_seed_same_files(ditf, tmp_path):
    a = simulate(ditf, 1, 30, seed=4, data_dir=tmp_path / "a")
    b = simulate(ditf, 1, 30, seed=4, data_dir=tmp_path / "b")
    c = simulate(ditf, 1, 30, seed=5, data_dir=tmp_path / "c")
    assert a.csv_path.read_bytes() == b.csv_path.read_bytes()
    assert a.csv_path.read_bytes() != c.csv_path.read_bytes()


def test_schema_is_the_codebook(tmp_path):
    for pid in paradigms.names():
        p = paradigms.get(pid)
        for e in p.experiments:
            r = simulate(p, e.number, 8, seed=1, data_dir=tmp_path / pid / str(e.number))
            df = pd.read_csv(r.csv_path, dtype=str, keep_default_na=False)
            assert tuple(df.columns) == p.columns(e.number)
            per = 2 if p.session.deferred_outcome else 1  # a mailed card: its dispatch and its outcome record
            assert len(df) == 8 * per and (df["participant_id"].value_counts() == per).all()
            assert set(df["condition"]) <= set(e.condition_names)
            done = df[df["record"] == "outcome"] if per == 2 else df
            assert len(done) == 8 and (done["debriefed"] == "1").all()


@pytest.mark.parametrize("p_rm", [0.0, 1.0])
def test_rate_override_is_obeyed(ditf, tmp_path, p_rm):
    r = simulate(ditf, 1, 30, seed=2, data_dir=tmp_path, rates={"rejection_moderation": p_rm})
    df = pd.read_csv(r.csv_path)
    rm = df[df.condition == "rejection_moderation"]
    assert len(rm) == 10 and (rm["complied"] == p_rm).all()
    assert (rm["first_request_answer"] == "refuse").all()  # nobody agrees to the extreme request


def test_unknown_condition_in_rate_refused(ditf, tmp_path):
    with pytest.raises(DeclarationError, match="unknown condition 'zoo'"):
        simulate(ditf, 1, 3, seed=2, data_dir=tmp_path, rates={"zoo": 0.5})
    assert not tmp_path.exists() or not list(tmp_path.glob("*_data.csv"))


def test_long_run_rates_converge_to_the_model(ditf, tmp_path):
    """With 3000 simulated passers-by each observed rate lies within 4 SE of the model's."""
    r = simulate(ditf, 1, 3000, seed=8, data_dir=tmp_path)
    df = pd.read_csv(r.csv_path)
    model = ditf.experiment(1).model
    for cond, g in df.groupby("condition"):
        p = model.rates[cond].p
        se = (p * (1 - p) / len(g)) ** 0.5
        assert abs(g["complied"].mean() - p) < 4 * se, cond
    # exposure-control refusals are refusals, not volunteering for counselling
    assert set(df.loc[df.condition == "exposure_control", "target_request_answer"]) == {"agree", "refuse"}


def test_exclusion_rate_produces_coded_exclusions(ditf, tmp_path):
    from paradigms.base import BinaryModel
    from paradigms.engine import sessions

    class Driver(sessions.FieldDriver):
        def model(self, paradigm, experiment, overrides):
            m = paradigm.experiment(experiment).model
            return BinaryModel(m.rates, m.first_agree, exclusion_rate=0.5)

    orig = sessions.driver_for
    sessions.driver_for = lambda p: Driver(p.session)
    try:
        r = simulate(ditf, 1, 200, seed=3, data_dir=tmp_path)
    finally:
        sessions.driver_for = orig
    df = pd.read_csv(r.csv_path, keep_default_na=False)
    ex = df[df.excluded == 1]
    assert 60 < len(ex) < 140
    assert set(ex["exclusion_reason"]) == {"knows_requester"} and (ex["complied"] == "").all()


def test_progress_is_shown_on_a_terminal_only():
    import io

    from paradigms.engine.sessions import _with_progress

    class Tty(io.StringIO):
        def isatty(self):
            return True
    tty, pipe = Tty(), io.StringIO()
    assert list(_with_progress(range(600), "sim", stream=tty)) == list(range(600))
    assert list(_with_progress(range(600), "sim", stream=pipe)) == list(range(600))
    assert tty.getvalue().endswith("600/600\n") and "#" * 30 in tty.getvalue()
    assert pipe.getvalue() == ""
    short = Tty()
    list(_with_progress(range(10), "sim", stream=short))
    assert short.getvalue() == ""  # short runs stay quiet
