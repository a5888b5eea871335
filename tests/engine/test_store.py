"""Session files: naming, exclusive creation, durable rows, sidecar and dataset description."""
from __future__ import annotations

import csv
import json

import pytest

import paradigms
from paradigms.engine.store import SessionExistsError, SessionStore, find_interrupted


def _row(pid="P1", cond="smaller_request_only", **kw):
    row = {"participant_id": pid, "slot": 1, "condition": cond, "excluded": 0, "debriefed": 1,
           "data_consent": 1, "t_start": "2026-01-01T10:00:00", "t_end": "2026-01-01T10:01:00", "complied": 1}
    row.update(kw)
    return row


def test_psychds_names_and_session_numbers(ditf, tmp_path):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as s1:
        s1.append(_row())
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as s2:
        pass
    assert s1.csv_path.name == "study-cialdini1975_exp-1_site-S1_session-1_data.csv"
    assert s2.session == 2
    assert s1.sidecar_path.exists() and s1.events_path.exists()


def test_existing_session_refused_and_untouched(ditf, tmp_path):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1", session=3) as s:
        s.append(_row())
    before = s.csv_path.read_bytes()
    with pytest.raises(SessionExistsError, match="session 3 of site S1 already exists"):
        SessionStore(tmp_path, ditf, 1, "S1", "E1", session=3)
    assert s.csv_path.read_bytes() == before


def test_rows_on_disk_before_close(ditf, tmp_path):
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1").open()
    store.append(_row("P1"))
    store.append(_row("P2", complied=0))
    with open(store.csv_path, newline="") as fh:  # read while the session is still open
        rows = list(csv.DictReader(fh))
    assert [r["participant_id"] for r in rows] == ["P1", "P2"]
    assert rows[1]["complied"] == "0" and rows[0]["site"] == "S1" and rows[0]["study"] == "cialdini1975"
    assert json.loads(store.sidecar_path.read_text())["status"] == "running"
    assert find_interrupted(tmp_path) == [store.sidecar_path]
    store.close()
    side = json.loads(store.sidecar_path.read_text())
    assert side["status"] == "completed" and side["n_rows"] == 2 and side["end_time"]
    assert {"paradigm", "experiment", "site", "session", "experimenter", "toolkit_version", "psychopy_version",
            "python_version", "start_time", "end_time", "status"} <= set(side)
    assert side["paradigm"] == "cialdini1975" and side["start_time"] <= side["end_time"]
    assert find_interrupted(tmp_path) == []


def test_unknown_column_refused(ditf, tmp_path):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as store:
        with pytest.raises(ValueError, match="not in the codebook: name"):
            store.append(_row(name="Alice"))


def test_text_with_commas_and_quotes_round_trips(ditf, tmp_path):
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as store:
        store.append(_row(exclusion_reason='other', participant_id='P"x,1'))
    with open(store.csv_path, newline="") as fh:
        assert next(csv.DictReader(fh))["participant_id"] == 'P"x,1'


def test_aborted_session_marked(ditf, tmp_path):
    with pytest.raises(RuntimeError):
        with SessionStore(tmp_path, ditf, 1, "S1", "E1") as store:
            store.append(_row())
            raise RuntimeError("GL context lost")
    side = json.loads(store.sidecar_path.read_text())
    assert side["status"] == "aborted" and "GL context lost" in side["note"] and side["n_rows"] == 1


def test_dataset_description_lists_every_codebook_column(tmp_path):
    for pid in paradigms.names():
        p = paradigms.get(pid)
        SessionStore(tmp_path, p, p.experiments[0].number, "S1", "E1").open().close()
    desc = json.loads((tmp_path / "dataset_description.json").read_text())
    names = {v["name"] for v in desc["variableMeasured"]}
    for pid in paradigms.names():
        assert set(paradigms.get(pid).columns()) <= names
        assert pid in desc["studies"]


def test_bad_site_code_refused(ditf, tmp_path):
    with pytest.raises(ValueError, match="letters and digits"):
        SessionStore(tmp_path, ditf, 1, "S 1/..", "E1")
    assert list(tmp_path.iterdir()) == []
