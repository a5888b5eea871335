"""Issue 22.2 and 22.4: withdrawals and sessions on a record chain that holds across copies; verify sees
a relabelled sidecar, a changed seed or experimenter, a session deleted whole, a log deleted or cut, a
CSV changed with its hash recomputed; analyze refuses data whose evidence fails; seal + manifest."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil

import pytest

import paradigms
from analysis.load.sessions import load_sessions
from analysis.records.audit import AUDIT_LOG, read_audit_log
from analysis.records.verify import verify
from paradigms.cli import main


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def _ids(csv_path):
    with open(csv_path, encoding="utf-8", newline="") as fh:
        return [r["participant_id"] for r in csv.DictReader(fh)]


@pytest.fixture
def site(tmp_path):
    """Two sessions of one site (sim 12 participants each), one participant withdrawn."""
    from paradigms.engine.sessions import simulate

    d = tmp_path / "data"
    a = simulate(paradigms.get("cialdini1975"), 1, 12, seed=4, data_dir=d / "site1")
    b = simulate(paradigms.get("cialdini1975"), 1, 12, seed=5, data_dir=d / "site1")
    pid = _ids(a.csv_path)[2]
    status, _, err = run("withdraw", d, pid, "--reason", "asked by e-mail on 3 May", "--by", "E1")
    assert status == 0, err
    return d, a, b, pid


def _analysed(path):
    return set(load_sessions(path, include_simulated=True).data["participant_id"])


# --------------------------------------------------------------------------- 22.2
def test_a_copied_site_folder_carries_the_withdrawal(site, tmp_path):
    d, a, b, pid = site
    copy = tmp_path / "elsewhere" / "site1"
    shutil.copytree(d / "site1", copy)
    assert pid not in _analysed(copy) and len(_analysed(copy)) == 23
    assert verify(copy).ok, verify(copy).discrepancies


@pytest.mark.parametrize("how", ["delete", "cut"])
def test_deleting_or_cutting_the_log_brings_no_one_back_and_is_reported(site, how):
    d, a, b, pid = site
    log = d / "site1" / AUDIT_LOG
    if how == "delete":
        log.unlink()
    else:
        lines = log.read_bytes().splitlines(keepends=True)
        assert json.loads(lines[-1])["action"] == "withdraw"
        log.write_bytes(b"".join(lines[:-1]))
    assert pid not in _analysed(d)                       # the sidecar's mark still applies
    res = verify(d)
    word = "deleted" if how == "delete" else "cut"
    assert any(AUDIT_LOG in x and word in x for x in res.discrepancies), res.discrepancies
    status, _, err = run("analyze", d)
    assert status == 2 and AUDIT_LOG in err


def test_a_hand_appended_withdrawal_that_breaks_the_chain_is_refused_by_analyze(site):
    d, a, b, pid = site
    log = d / "site1" / AUDIT_LOG
    other = _ids(b.csv_path)[0]
    forged = {"seq": 9, "t": "2026-01-01T00:00:00+00:00", "action": "withdraw", "participant_id": other,
              "session_file": b.csv_path.name, "reason": "x", "by": "E1", "prev_sha256": "0" * 64}
    with open(log, "a") as fh:
        fh.write(json.dumps(forged) + "\n")
    assert not verify(d).ok
    status, out, err = run("analyze", d)
    assert status == 2 and str(log) in err and not out and len(err.strip().splitlines()) == 1
    status, out, err = run("analyze", d, "--accept-unverified")
    assert status == 0 and "UNVERIFIED" in out
    status, out, err = run("analyze", d, "--accept-unverified", "--json")
    assert status == 0 and json.loads(out)["unverified"]


def test_the_gate_reads_the_ids_where_a_withdrawal_names_one_in_no_session(site):
    """The gate of analyze reads the sessions' participant ids only where a log records a withdrawal (the
    ids serve nothing else there); then a withdrawal of an id no session holds, chained correctly, is
    still refused."""
    import hashlib

    from analysis.errors import AnalysisError
    from analysis.records.verify import check_evidence

    d, a, b, pid = site
    assert check_evidence([d]) == ()
    log = d / "site1" / AUDIT_LOG
    last = log.read_bytes().splitlines()[-1]
    entry = {"seq": json.loads(last)["seq"] + 1, "t": "2026-01-01T00:00:00.000+00:00", "action": "withdraw",
             "participant_id": "p-nobody", "session_file": b.csv_path.name, "reason": "asked", "by": "E1",
             "prev_sha256": hashlib.sha256(last).hexdigest()}
    with open(log, "a") as fh:
        fh.write(json.dumps(entry) + "\n")
    with pytest.raises(AnalysisError, match="'p-nobody' is in no session file"):
        check_evidence([d])


def test_withdraw_refuses_an_id_in_two_files_and_a_reason_with_contact_details(site, tmp_path):
    d, a, b, pid = site
    logs = {p: p.read_bytes() for p in d.rglob(AUDIT_LOG)}
    status, _, err = run("withdraw", d, _ids(b.csv_path)[0], "--reason", "Jane Doe jane@example.com 555-1234",
                         "--by", "E1")
    assert status == 2 and "--reason" in err and "nothing written" in err
    for reason in ("call 555-123-4567", "see www.example.org", "asked by Jane Doe"):
        assert run("withdraw", d, _ids(b.csv_path)[0], "--reason", reason, "--by", "E1")[0] == 2, reason
    assert {p: p.read_bytes() for p in d.rglob(AUDIT_LOG)} == logs
    shutil.copytree(d / "site1", d / "site1copy")
    status, _, err = run("withdraw", d, _ids(b.csv_path)[0], "--reason", "asked", "--by", "E1")
    assert status == 2 and "2 rows" in err and "nothing written" in err


@pytest.mark.parametrize("reason, refused", [
    ("Ethics Board request of 3 May", False), ("asked by the Data Protection Officer", False),
    ("Review Board Chair asked on Monday", False), ("asked by Jane Doe", True), ("Dr Smith asked", True),
    ("Ethics Board request, Jane Doe", True), ("Ethics Board Jane Doe", True), ("Mary Ann Jones", True)])
def test_a_reason_naming_a_body_is_taken_and_one_naming_a_person_is_not(reason, refused):
    """Two capitalised words in a row are a name unless one of them names a body or role (the Ethics
    Board asked is a reason a lab writes); every pair is read, overlapping ones too."""
    from analysis.errors import AnalysisError
    from analysis.records.audit import check_reason

    if refused:
        with pytest.raises(AnalysisError, match="looks like a name"):
            check_reason(reason)
    else:
        assert check_reason(reason) == reason


# --------------------------------------------------------------------------- 22.4
@pytest.mark.parametrize("field, value", [("pilot", False), ("mode", "run"), ("seed", 99), ("experimenter", "E9")])
def test_a_relabelled_sidecar_is_a_discrepancy(site, field, value):
    d, a, b, pid = site
    meta = json.loads(a.sidecar_path.read_text())
    meta[field] = value
    a.sidecar_path.write_text(json.dumps(meta, indent=2))
    res = verify(d)
    assert any(a.sidecar_path.name in x and "sidecar_sha256" in x for x in res.discrepancies), res.discrepancies
    assert run("analyze", d, "--include-simulated")[0] == 2


def test_a_session_deleted_whole_is_a_discrepancy(site):
    d, a, b, pid = site
    for p in b.csv_path.parent.glob(b.csv_path.name.replace("_data.csv", "_*")):
        p.unlink()
    res = verify(d)
    assert any(b.csv_path.name in x and "gone" in x for x in res.discrepancies), res.discrepancies


def test_kunz_outcome_row_deleted_and_hash_recomputed_is_a_discrepancy(tmp_path):
    from paradigms.engine.sessions import simulate
    from paradigms.hashing import file_sha256

    res = simulate(paradigms.get("kunz1976"), 1, 10, seed=2, data_dir=tmp_path / "k")
    lines = res.csv_path.read_text().splitlines(keepends=True)
    out = [i for i, ln in enumerate(lines) if ",outcome," in ln]
    assert out
    del lines[out[-1]]
    res.csv_path.write_text("".join(lines))
    meta = json.loads(res.sidecar_path.read_text())
    meta["csv_sha256"] = file_sha256(res.csv_path)                  # the forger recomputes it
    res.sidecar_path.write_text(json.dumps(meta, indent=2))
    found = verify(tmp_path / "k").discrepancies
    assert any(res.csv_path.name in x and "record chain" in x for x in found), found


def test_a_killed_data_only_simulation_is_said_to_be_one_not_a_forgery(tmp_path):
    from paradigms.engine.sessions import simulate

    res = simulate(paradigms.get("cialdini1975"), 1, 12, seed=6, data_dir=tmp_path / "s")
    meta = json.loads(res.sidecar_path.read_text())
    assert meta["durability"] == "batched"
    # what a kill between the CSV block and the journal block leaves: no close, no hashes, the last
    # rows without their journal lines
    for k in ("csv_sha256", "journal_sha256", "audit_seq", "end_time"):
        meta.pop(k, None)
    meta["status"] = "interrupted"
    res.sidecar_path.write_text(json.dumps(meta, indent=2))
    (tmp_path / "s" / AUDIT_LOG).unlink()
    ev = res.csv_path.with_name(res.csv_path.name.replace("_data.csv", "_events.jsonl"))
    last = _ids(res.csv_path)[-2:]
    events = ev.read_text().splitlines(keepends=True)
    cut = min(i for i, ln in enumerate(events) if json.loads(ln).get("participant_id") in last)
    ev.write_text("".join(events[:cut]))
    out = verify(tmp_path / "s")
    assert out.ok, out.discrepancies
    assert sum("killed" in n and "not a forged row" in n for n in out.notes) == 2
    # the same rows in a session that closed normally are forged rows
    res2 = simulate(paradigms.get("cialdini1975"), 1, 12, seed=6, data_dir=tmp_path / "t")
    ev2 = res2.csv_path.with_name(res2.csv_path.name.replace("_data.csv", "_events.jsonl"))
    ev2.write_text("".join(ev2.read_text().splitlines(keepends=True)[:cut]))
    assert any("never journalled" in x for x in verify(tmp_path / "t").discrepancies)


# --------------------------------------------------------------------------- seal
def test_seal_and_verify_against_the_manifest_catch_a_whole_folder_rewritten(site, tmp_path):
    from paradigms.hashing import file_sha256

    d, a, b, pid = site
    m = tmp_path / "data.seal"
    status, out, err = run("seal", d, "--out", m)
    assert status == 0, err
    assert run("verify", d, "--manifest", m)[0] == 0
    # an informed forger: edits a row, recomputes the sidecar's hash, rewrites the log's close entry
    text = a.csv_path.read_text()
    a.csv_path.write_text(text.replace(",1,", ",0,", 1))
    meta = json.loads(a.sidecar_path.read_text())
    meta["csv_sha256"] = file_sha256(a.csv_path)
    a.sidecar_path.write_text(json.dumps(meta, indent=2))
    (d / "site1" / "notes_data.csv").write_text("participant_id\n")
    status, out, _ = run("verify", d, "--manifest", m)
    assert status == 1
    assert any(a.csv_path.name in x and "changed since the seal" in x for x in out.splitlines())
    assert any("notes_data.csv" in x and "added since the seal" in x for x in out.splitlines())
    # --force replaces only a manifest
    forged = a.csv_path.read_bytes()
    assert run("seal", d, "--out", a.csv_path, "--force")[0] == 2
    assert a.csv_path.read_bytes() == forged
    assert run("seal", d, "--out", m)[0] == 2 and run("seal", d, "--out", m, "--force")[0] == 0
