"""Session files: tamper evidence, privacy, nothing half-written (issue 15 items 13-18)."""
from __future__ import annotations

import hashlib
import json

import pytest

from paradigms.engine.store import SessionStore


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sidecar_records_the_hashes_of_csv_and_journal_at_close(ditf, tmp_path):
    """Issue 15.17: the recording side of tamper evidence."""
    with SessionStore(tmp_path, ditf, 1, "S1", "E1") as store:
        store.append({"participant_id": "P1", "slot": 1, "condition": "smaller_request_only", "excluded": 0,
                      "debriefed": 1, "data_consent": 1, "complied": 1})
        assert "csv_sha256" not in json.loads(store.sidecar_path.read_text())  # not while running
    side = json.loads(store.sidecar_path.read_text())
    assert side["csv_sha256"] == _sha(store.csv_path)
    assert side["journal_sha256"] == _sha(store.events_path)
    # a changed CSV no longer matches
    text = store.csv_path.read_text()
    store.csv_path.write_text(text.replace("P1", "P2"))
    assert store.csv_path.read_text() != text
    assert side["csv_sha256"] != _sha(store.csv_path)


def test_sidecar_names_each_session_uniquely(ditf, tmp_path):
    with SessionStore(tmp_path / "a", ditf, 1, "S1", "E1") as a:
        pass
    with SessionStore(tmp_path / "b", ditf, 1, "S1", "E1") as b:
        pass
    ua = json.loads(a.sidecar_path.read_text())["session_uid"]
    ub = json.loads(b.sidecar_path.read_text())["session_uid"]
    assert ua and ub and ua != ub and a.session == b.session == 1


def test_a_symlink_planted_at_the_temporary_name_cannot_redirect_a_write(ditf, tmp_path):
    """Issue 15.13: temporary files are created exclusively under a fresh name."""
    store = SessionStore(tmp_path, ditf, 1, "S1", "E1").open()
    csv_before = store.csv_path.read_bytes()
    trap = store.sidecar_path.with_name(store.sidecar_path.name + ".tmp")
    trap.symlink_to(store.csv_path.name)
    store.close()
    assert store.csv_path.read_bytes() == csv_before
    assert json.loads(store.sidecar_path.read_text())["status"] == "completed"
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
