"""Issue 15.16 (withdrawal after the session, on the record) and 15.17 (tamper evidence: verify)."""
from __future__ import annotations

import json
import shutil

import pytest

import paradigms
from analysis import AnalysisError, load_sessions
from analysis.records.audit import AUDIT_LOG, append_withdrawal, read_audit_log
from analysis.records.verify import verify


@pytest.fixture
def session(tmp_path):
    from paradigms.engine.sessions import simulate
    d = tmp_path / "data"
    res = simulate(paradigms.get("cialdini1975"), 1, 24, seed=4, data_dir=d / "site1")
    return d, res


def _ids(res):
    import csv
    with open(res.csv_path, encoding="utf-8", newline="") as fh:
        return [r["participant_id"] for r in csv.DictReader(fh)]


# --------------------------------------------------------------------------- 15.16
def test_withdraw_is_logged_applied_by_the_loader_and_never_rewrites_the_csv(session, cli):
    d, res = session
    pid = _ids(res)[3]
    before = res.csv_path.read_bytes()
    n_before = len(load_sessions(d).data)
    proc = cli("withdraw", d, pid, "--reason", "asked by e-mail", "--by", "E7", check=0)
    assert pid in proc.stdout
    assert res.csv_path.read_bytes() == before                   # the CSV is never rewritten
    assert not (d / AUDIT_LOG).exists()       # beside the session, not in the folder named (issue 22.2)
    (entry,) = [e for e in read_audit_log(d / "site1" / AUDIT_LOG) if e["action"] == "withdraw"]
    assert (entry["participant_id"], entry["by"], entry["reason"], entry["action"]) == \
        (pid, "E7", "asked by e-mail", "withdraw")
    assert entry["t"].startswith("20") and entry["session_file"] == res.csv_path.name
    loaded = load_sessions(d)
    assert pid not in set(loaded.data["participant_id"])          # never analysed, not even held
    assert len(loaded.data) == n_before - 1
    rep = loaded.report.set_index("participant_id")
    assert rep.loc[pid, "status"] == "withdrawn"
    assert "asked by e-mail" in rep.loc[pid, "reason"] and "E7" in rep.loc[pid, "reason"]
    # the site folder alone: the log above it still applies
    assert pid not in set(load_sessions(d / "site1").data["participant_id"])


def test_withdraw_unknown_or_twice_is_an_error_and_writes_nothing(session, cli):
    d, res = session
    log = d / "site1" / AUDIT_LOG
    before = log.read_bytes()                                   # the session's close entry
    proc = cli("withdraw", d, "nobody-0000", "--reason", "x", "--by", "E1")
    assert proc.returncode == 2 and "nobody-0000" in proc.stderr and "no participant" in proc.stderr
    assert log.read_bytes() == before
    pid = _ids(res)[0]
    cli("withdraw", d, pid, "--reason", "x", "--by", "E1", check=0)
    size = log.stat().st_size
    proc = cli("withdraw", d, pid, "--reason", "again", "--by", "E1")
    assert proc.returncode == 2 and "already withdrawn" in proc.stderr
    assert log.stat().st_size == size
    proc = cli("withdraw", d, _ids(res)[1], "--reason", "x", "--by", "Ann Smith")
    assert proc.returncode == 2 and "--by" in proc.stderr


def test_audit_log_is_append_only_with_a_chain(session):
    d, res = session
    ids = _ids(res)
    for pid in ids[:3]:
        append_withdrawal(d, pid, f"reason {pid}", "E1")
    log = d / "site1" / AUDIT_LOG
    entries = read_audit_log(log)
    assert [(e["seq"], e["action"]) for e in entries] == [(1, "close"), (2, "withdraw"), (3, "withdraw"),
                                                         (4, "withdraw")]
    assert entries[2]["prev_sha256"] == entries[1]["sha256"]
    assert verify(d).ok
    lines = log.read_text().splitlines()
    lines[1] = lines[1].replace(ids[0], ids[5])                  # an entry edited afterwards
    log.write_text("\n".join(lines) + "\n")
    res2 = verify(d)
    assert any(AUDIT_LOG in x and "line 3" in x and "prev_sha256" in x for x in res2.discrepancies), res2


# --------------------------------------------------------------------------- 15.17
def test_sidecar_records_hashes_and_verify_passes_on_untouched_data(session, cli):
    d, res = session
    meta = json.loads(res.sidecar_path.read_text())
    assert len(meta["csv_sha256"]) == 64 and len(meta["journal_sha256"]) == 64
    proc = cli("verify", d)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all match" in proc.stdout


def test_verify_reports_each_discrepancy_in_a_line(session, cli):
    d, res = session
    # a row edited by hand, a row deleted, a row added: the CSV no longer matches its hash
    lines = res.csv_path.read_text().splitlines()
    ids = _ids(res)
    gone = lines.pop(5)                                         # participant ids[4] deleted
    extra = lines[2].replace(ids[1], "p-forged01")
    lines.append(extra)
    res.csv_path.write_text("\n".join(lines) + "\n")
    proc = cli("verify", d)
    assert proc.returncode == 1
    out = proc.stdout.splitlines()
    assert any(str(res.csv_path) in x and "csv_sha256" in x for x in out), out
    assert any(ids[4] in x and "no row" in x for x in out), out
    assert any("p-forged01" in x and "never journalled" in x for x in out), out
    assert gone not in proc.stdout


def test_verify_finds_a_changed_journal_and_a_final_answer_without_a_row(session, cli):
    d, res = session
    ev = res.csv_path.with_name(res.csv_path.name.replace("_data.csv", "_events.jsonl"))
    with open(ev, "a") as fh:
        fh.write(json.dumps({"t": "x", "event": "tap", "screen": "debrief", "code": "debriefed",
                             "participant_id": "p-lost0001"}) + "\n")
    proc = cli("verify", d)
    assert proc.returncode == 1
    assert "journal_sha256" in proc.stdout
    assert any("p-lost0001" in x and "final answer" in x for x in proc.stdout.splitlines()), proc.stdout


def test_analyze_refuses_a_file_that_no_longer_matches_its_hash_unless_told(session, cli):
    d, res = session
    text = res.csv_path.read_text()
    res.csv_path.write_text(text.replace(",1,1,20", ",1,1,20", 1) + "")   # unchanged: no warning
    assert "no longer matches" not in cli("analyze", d, check=0).stdout
    lines = text.splitlines()
    lines[-1] = lines[-1]                                       # same content, but re-written with CRLF
    res.csv_path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    proc = cli("analyze", d)                                    # issue 22: refused, one line naming the file
    assert proc.returncode == 2 and str(res.csv_path) in proc.stderr and "csv_sha256" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not proc.stdout
    proc = cli("analyze", d, "--accept-unverified", check=0)
    assert "no longer matches" in proc.stdout and str(res.csv_path) in proc.stdout
    assert proc.stdout.startswith("UNVERIFIED DATA")
