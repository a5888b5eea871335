"""Issue 22.1: ``report --out FILE --force`` replaces only a page ``report`` wrote, never a session
file, its sidecar or journal, an audit log, a schedule or its ledger, the dataset description or a
user's own page."""
from __future__ import annotations

import contextlib
import io

import pytest

import paradigms
from paradigms.cli import main


def run(*argv):
    """The real command line, in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from paradigms.engine.sessions import simulate
    from analysis.records.audit import append_withdrawal
    from analysis.load.sessions import find_session_files
    import csv

    d = tmp_path_factory.mktemp("data")
    simulate(paradigms.get("cialdini1975"), 1, 12, seed=3, data_dir=d / "site1")
    (f,) = find_session_files(d)
    with open(f, encoding="utf-8", newline="") as fh:
        pid = next(csv.DictReader(fh))["participant_id"]
    append_withdrawal(d, pid, "asked by e-mail", "E1")
    assert run("schedule", "cialdini1975", "--participants", 6, "--seed", 1, "--out", d / "sched.csv")[0] == 0
    (d / "sched.csv.slots.log").write_text("{}\n")   # a ledger (its content is not the point)
    (d / "mine.html").write_text("<!DOCTYPE html><html><head><title>my notes</title></head></html>\n")
    return d


def _targets(d):
    from analysis.records.audit import AUDIT_LOG
    site1 = d / "site1"
    out = [p for p in site1.iterdir() if p.suffix in (".csv", ".json", ".jsonl")]
    out += [p for p in (d / AUDIT_LOG, site1 / AUDIT_LOG) if p.exists()]
    return out + [d / "sched.csv", d / "sched.csv.slots.log", d / "mine.html"]


def test_report_force_never_replaces_a_file_it_did_not_write(site):
    targets = _targets(site)
    names = {p.name for p in targets}
    assert any(n.endswith("_data.csv") for n in names) and any(n.endswith("_events.jsonl") for n in names)
    assert {"dataset_description.json", "audit_log.jsonl", "sched.csv", "mine.html"} <= names
    for target in targets:
        before = target.read_bytes()
        status, out, err = run("report", site / "site1", "--out", target, "--force")
        assert status == 2, (target, err)
        assert "not written by 'compliance report'" in err and str(target) in err
        assert target.read_bytes() == before, target


def test_report_force_replaces_an_earlier_report(site, tmp_path):
    from analysis.commands.report import REPORT_MARKER, written_by_report

    page = tmp_path / "r.html"
    assert run("report", site / "site1", "--out", page)[0] == 0
    assert REPORT_MARKER in page.read_bytes()[:4096] and written_by_report(page)   # the template carries it
    status, _, err = run("report", site / "site1", "--out", page)
    assert status == 2 and "already exists" in err
    first = page.read_bytes()
    page.write_bytes(first.replace(b"</body>", b"<!-- earlier --></body>"))
    assert run("report", site / "site1", "--out", page, "--force")[0] == 0
    assert b"<!-- earlier -->" not in page.read_bytes()
