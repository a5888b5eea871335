"""Issue 15, analysis side (items 1-6): files that load but are silently wrong are refused,
each with one line naming the file, the row and the field."""
from __future__ import annotations

import json
import os
import shutil
import warnings

import pandas as pd
import pytest

import paradigms
from analysis import DataValidationError, load_sessions, rows_from_counts, write_session_csv
from analysis.api import analyze

COLS = paradigms.get("cialdini1975").columns(1)
COUNTS = {"rejection_moderation": (3, 5), "exposure_control": (1, 4), "smaller_request_only": (2, 6)}


def _one_line(exc, *parts):
    msg = str(exc.value)
    assert "\n" not in msg, msg
    for part in parts:
        assert part in msg, (part, msg)
    return msg


def _rows(**kw):
    return rows_from_counts("cialdini1975", 1, COUNTS, **kw)


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _put_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def pollock_session(tmp_path_factory):
    from paradigms.engine.sessions import simulate
    d = tmp_path_factory.mktemp("pollock")
    res = simulate(paradigms.get("pollock1998"), 1, 96, seed=11, data_dir=d)
    return res


def _copy_session(res, dest):
    """A copy of a simulated session's files (CSV, sidecar, journal) in ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for p in res.csv_path.parent.iterdir():
        shutil.copy(p, dest / p.name)
    return dest / res.csv_path.name


# --------------------------------------------------------------------------- 15.1
def test_factor_column_contradicting_the_condition_is_refused(pollock_session, tmp_path):
    p = _copy_session(pollock_session, tmp_path / "d")
    lines = _lines(p)
    header = lines[0].split(",")
    i_price, i_cond = header.index("price"), header.index("condition")
    cells = lines[4].split(",")                  # data row 4, CSV line 5
    cells[i_price] = "5" if cells[i_price] == "1" else "1"
    lines[4] = ",".join(cells)
    _put_lines(p, lines)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 5", "data row 4", "'price'", cells[i_cond])


# --------------------------------------------------------------------------- 15.2
def test_symlinked_site_folder_is_followed(tmp_path):
    write_session_csv(tmp_path / "real" / "s1" / "a_data.csv", _rows(site="S1"), COLS)
    write_session_csv(tmp_path / "elsewhere" / "b_data.csv", _rows(site="S2"), COLS)
    os.symlink(tmp_path / "elsewhere", tmp_path / "real" / "s2")
    os.symlink(tmp_path / "real", tmp_path / "real" / "s1" / "loop")     # a loop must not hang
    loaded = load_sessions(tmp_path / "real")
    assert len(loaded.files) == 2
    assert len(loaded.data) == 30


def test_unreadable_subfolder_is_refused(tmp_path, monkeypatch):
    write_session_csv(tmp_path / "s1" / "a_data.csv", _rows(site="S1"), COLS)
    write_session_csv(tmp_path / "s2" / "b_data.csv", _rows(site="S2"), COLS)
    locked = tmp_path / "s2"
    real_scandir = os.scandir

    def scandir(path="."):                     # as chmod 000 does for anyone but root
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DataValidationError) as e:
        load_sessions(tmp_path)
    _one_line(e, str(locked), "cannot be read")


# --------------------------------------------------------------------------- 15.3
@pytest.mark.parametrize("column,value", [("experiment", "2"), ("site", "S9"), ("session", "7"),
                                          ("study", "burger1986")])
def test_row_of_another_experiment_site_or_session_in_a_named_file(tmp_path, column, value):
    rows = _rows(site="S1", session=3)
    if column == "experiment":
        rows[6].update(experiment="2", condition="two_requester_control")
    elif column == "study":
        rows[6].update(study="burger1986", experiment="1", condition="control")
    else:
        rows[6][column] = value
    p = write_session_csv(tmp_path / "study-cialdini1975_exp-1_site-S1_session-3_data.csv", rows, COLS)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 8", "data row 7", f"'{column}'", value)


def test_row_must_match_its_sidecar(tmp_path):
    rows = _rows(site="S1", session=3)
    rows[2]["experimenter"] = "E7"
    p = write_session_csv(tmp_path / "x_data.csv", rows, COLS)
    (tmp_path / "x_data.json").write_text(json.dumps({"paradigm": "cialdini1975", "experiment": 1, "site": "S1",
                                                       "session": 3, "experimenter": "E1"}))
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 4", "data row 3", "'experimenter'", "E7", "sidecar")


# --------------------------------------------------------------------------- 15.4
def test_the_same_slot_twice_is_refused(tmp_path):
    rows = _rows()
    copy = dict(rows[4], participant_id="PUB-1-9999")
    rows.append(copy)
    p = write_session_csv(tmp_path / "d_data.csv", rows, COLS)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), f"line {len(rows) + 1}", f"data row {len(rows)}", "'slot'", "line 6")


def test_the_same_slot_in_two_sessions_of_one_schedule_is_refused(pollock_session, tmp_path):
    a = _copy_session(pollock_session, tmp_path / "a")
    meta = json.loads(a.with_suffix(".json").read_text())
    meta["schedule_sha256"] = "ab" * 32
    a.with_suffix(".json").write_text(json.dumps(meta))
    stem2 = a.name.replace("session-1", "session-2")
    lines = _lines(a)
    header = lines[0].split(",")
    row = lines[3].split(",")
    row[header.index("participant_id")] = "sim-00000000"
    row[header.index("session")] = "2"
    b = tmp_path / "a" / stem2
    _put_lines(b, [lines[0], ",".join(row)])
    b.with_suffix(".json").write_text(json.dumps(dict(meta, session=2, data_file=b.name)))
    with pytest.raises(DataValidationError) as e:
        load_sessions(tmp_path / "a")
    _one_line(e, str(b), "line 2", "data row 1", "'slot'", str(a))


def test_simulated_sessions_with_their_own_schedules_may_repeat_slots(tmp_path):
    from paradigms.engine.sessions import simulate
    for seed in (1, 2):
        simulate(paradigms.get("cialdini1975"), 1, 12, seed=seed, data_dir=tmp_path)
    assert len(load_sessions(tmp_path).data) == 24


# --------------------------------------------------------------------------- 15.5
@pytest.mark.parametrize("column,value,expect", [
    ("t_start", "0001-01-01T10:00:00+00:00", "year 1"),
    ("t_end", "9999-01-01T10:00:00+00:00", "in the future"),
    ("t_end", "2026-01-05T09:00:00+00:00", "before t_start"),
    ("t_start", "2026-01-05T10:00:00", "UTC offset"),
])
def test_impossible_times(tmp_path, column, value, expect):
    rows = _rows()
    rows[3][column] = value
    p = write_session_csv(tmp_path / "t_data.csv", rows, COLS)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 5", "data row 4", f"'{column}'", expect)


def test_nan_in_a_numeric_measure(pollock_session, tmp_path):
    p = _copy_session(pollock_session, tmp_path / "d")
    lines = _lines(p)
    i = lines[0].split(",").index("amount_paid")
    cells = lines[2].split(",")
    cells[i] = "nan"
    lines[2] = ",".join(cells)
    _put_lines(p, lines)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 3", "data row 2", "'amount_paid'", "nan")


def test_row_cut_inside_its_last_timestamp(pollock_session, tmp_path):
    p = _copy_session(pollock_session, tmp_path / "d")
    text = p.read_text(encoding="utf-8")
    assert text.endswith("+00:00\n")              # the last column is a time
    p.write_text(text[: -len(".123+00:00\n")], encoding="utf-8")  # killed while writing it
    n = len(_lines(p))
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), f"line {n}", f"data row {n - 1}", "'t_purchase'")


def test_identifying_column_is_refused(tmp_path):
    rows = _rows()
    for r in rows:
        r["participant_name"] = "Ann Example"
    p = write_session_csv(tmp_path / "n_data.csv", rows, list(COLS) + ["participant_name"])
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 1", "'participant_name'", "identif")


def test_unknown_column_is_an_error_unless_the_codebook_allows_it(tmp_path):
    rows = _rows()
    for r in rows:
        r["weather"] = "rain"
    p = write_session_csv(tmp_path / "w_data.csv", rows, list(COLS) + ["weather"])
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "line 1", "'weather'", "codebook")
    # the data folder's codebook (dataset_description.json) declares it: allowed and kept
    (tmp_path / "dataset_description.json").write_text(json.dumps(
        {"variableMeasured": [{"name": "weather", "description": "sky at the site", "unitText": "string"}]}))
    assert set(load_sessions(p).data["weather"]) == {"rain"}


# --------------------------------------------------------------------------- 15.6
def test_header_only_file_alone_is_an_error(tmp_path):
    p = write_session_csv(tmp_path / "h_data.csv", [], COLS)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _one_line(e, str(p), "no participants")


def test_header_only_file_beside_other_data_is_a_stated_warning(tmp_path):
    write_session_csv(tmp_path / "a_data.csv", _rows(), COLS)
    h = write_session_csv(tmp_path / "h_data.csv", [], COLS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_sessions(tmp_path)
    assert len(loaded.data) == 15
    msgs = [str(w.message) for w in caught]
    assert any(str(h) in m and "no participants" in m for m in msgs), msgs


def test_header_only_through_the_cli(tmp_path, cli):
    p = write_session_csv(tmp_path / "h_data.csv", [], COLS)
    proc = cli("analyze", p)
    assert proc.returncode == 2
    assert "no participants" in proc.stderr and str(p) in proc.stderr


def test_valid_simulated_data_still_analyse(pollock_session):
    (out,) = analyze(pollock_session.csv_path, warn=False)
    rows = pd.read_csv(pollock_session.csv_path)
    analysed = rows[(rows["excluded"] != 1) & (rows["data_consent"] != 0)]
    assert out.n_analysed == len(analysed) and out.interaction.n == len(analysed)
    # the declared model on the same rows, straight from statsmodels: the same interaction
    import statsmodels.formula.api as smf
    analysed = analysed.assign(price=analysed["price"].astype(str))
    fit = smf.logit("complied ~ C(technique, Treatment(reference='control')) * C(price, Treatment(reference='1'))"
                    " + C(reason)", data=analysed).fit(method="newton", maxiter=100, disp=False)
    assert out.interaction.interaction.coef == pytest.approx(fit.params[out.interaction.interaction.model_term],
                                                             rel=1e-8)
