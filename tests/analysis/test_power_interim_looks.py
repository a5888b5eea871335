"""Issue 24 (left over): every interim look is on record.

``analyze --interim`` appends a ``look`` entry to the data folder's hash-chained audit log (anchored in
``interim_looks.json``), says the looks on record, and flags looks that leave the registered plan.  The
data are made as people make them (``run_session`` with a scripted participant:
``tests.helpers.people``), never by relabelling a simulated sidecar.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil

import pytest

from tests.helpers.people import run_by_people


def _main(*argv):
    """``compliance ARGV``: (exit status, stdout, stderr)."""
    from paradigms.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def prereg(tmp_path_factory):
    """A group-sequential registration of burger1986: 2 looks, planned at 18/18 and 35/35."""
    from analysis.commands.preregister import read_preregistration

    d = tmp_path_factory.mktemp("prereg")
    assert _main("schedule", "burger1986", "--experiment", "1", "--participants", "66", "--seed", "5",
                 "--out", d / "s.csv")[0] == 0
    assert _main("preregister", "burger1986", "--schedule", d / "s.csv", "--looks", "2", "--out", d / "prereg.md")[0] == 0
    facts = read_preregistration(d / "prereg.md")
    assert (facts["sequential"]["n1"], facts["sequential"]["n2"]) == ([18, 35], [18, 35])   # what the tests assume
    return d / "prereg.md"


def _log(data):
    from analysis.records.audit import AUDIT_LOG, read_audit_log

    return read_audit_log(data / AUDIT_LOG)


def _looks(data):
    return [e for e in _log(data) if e["action"] == "look"]


def _interim_lines(text):
    lines = text.splitlines()
    heads = ("interim (", "SIMULATED data: interim (")
    return lines[next(k for k, ln in enumerate(lines) if ln.startswith(heads)):]


@pytest.fixture(scope="module")
def first_look(tmp_path_factory, prereg):
    """36 people (18/18: planned look 1), one look taken: (folder, stdout)."""
    data = tmp_path_factory.mktemp("first") / "data"
    run_by_people(data, "S1", 7, 36, study="burger1986")
    code, out, err = _main("analyze", data, "--interim", prereg)
    assert code == 0, err
    return data, out


def test_a_look_is_recorded_and_verify_passes(first_look, prereg):
    from statsmodels.stats.proportion import proportions_ztest

    from analysis.power.sequential import exact_sequential
    from analysis.records.verify import verify
    from paradigms.hashing import file_sha256

    data, out = first_look
    looks = _looks(data)
    assert len(looks) == 1 and [e["action"] for e in _log(data)] == ["close", "look"]
    e = looks[0]
    assert (e["preregistration"], e["preregistration_sha256"]) == ("prereg.md", file_sha256(prereg))
    assert (e["study"], e["experiment"], e["look"], e["looks"], e["n1"], e["n2"]) == ("burger1986", 1, 1, 2, 18, 18)
    assert e["t"].endswith("+00:00") and e["simulated"] is False and e["decision"] == "continue"
    # z: the pooled two-proportion z (statsmodels), from the counts the CSV holds, read here with csv
    import csv

    rows = list(csv.DictReader(open(next(data.glob("*_data.csv")), encoding="utf-8")))
    x = {c: sum(r["complied"] == "1" for r in rows if r["condition"] == c) for c in ("thats_not_all", "control")}
    z_ref, _ = proportions_ztest([x["thats_not_all"], x["control"]], [18, 18])
    assert e["z"] == pytest.approx(z_ref, rel=1e-12)
    assert e["critical"] == exact_sequential(35, 35, 2).critical_exact[0]
    res = verify(data)
    assert res.ok, res.discrepancies
    # the text says it, on one new line after the look's own
    assert f"on record: look 1 of 2, {e['t']}, entry 2 of {data / 'audit_log.jsonl'}" in out
    assert "(no earlier look on record)" in out and "UNPLANNED" not in out


def test_the_first_looks_text_is_unchanged_but_for_the_new_sentence(first_look, prereg):
    # today's text (interim_lines, with the same data) is kept line for line; the record is one line more
    from analysis.api import analyze
    from analysis.commands.preregister import read_preregistration
    from analysis.load.sessions import load_sessions
    from analysis.power.sequential import interim_lines

    data, out = first_look
    analysis = analyze(load_sessions(data))[0]
    before = interim_lines(read_preregistration(prereg), analysis, "prereg.md")
    now = _interim_lines(out)
    assert now[:len(before)] == before
    assert len(now) == len(before) + 1 and now[-1].startswith("  on record: look 1 of 2, ")


@pytest.mark.parametrize("tamper", ["edit", "cut", "drop-anchor"])
def test_editing_or_cutting_the_look_line_is_caught_by_verify(first_look, tmp_path, tamper):
    from analysis.records.verify import verify

    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    log = data / "audit_log.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    assert json.loads(lines[-1])["action"] == "look"     # the last line: no later prev_sha256 covers it
    if tamper == "edit":
        log.write_bytes(b"".join(lines[:-1]) + lines[-1].replace(b'"continue"', b'"stop: reject H0"'))
    elif tamper == "cut":
        log.write_bytes(b"".join(lines[:-1]))
    else:
        (data / "interim_looks.json").unlink()
    res = verify(data)
    assert not res.ok
    want = {"edit": "edited since it was recorded", "cut": "the log was cut or rewritten",
            "drop-anchor": "is not anchored"}[tamper]
    assert any(want in d for d in res.discrepancies), res.discrepancies
    # and analyze refuses the folder (its evidence fails) unless told to accept it
    code, _, err = _main("analyze", data)
    assert code == 2 and "nothing analysed" in err


def test_an_edit_inside_the_chain_is_caught_too(first_look, tmp_path):
    from analysis.records.verify import verify

    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    run_by_people(data, "S1", 8, 2, study="burger1986")     # a later close entry chains the look line
    log = data / "audit_log.jsonl"
    raw = log.read_bytes()
    assert raw.count(b'"action": "look"') == 1
    log.write_bytes(raw.replace(b'"n1": 18', b'"n1": 17'))
    assert any("prev_sha256" in d for d in verify(data).discrepancies)


def test_a_repeat_on_the_same_data_appends_nothing(first_look, prereg, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    log = data / "audit_log.jsonl"
    before = log.read_bytes()
    anchor = (data / "interim_looks.json").read_bytes()
    code, out, _ = _main("analyze", data, "--interim", prereg)
    assert code == 0 and "repeat: the same data as look 1 of 2 on record" in out and "nothing appended" in out
    assert log.read_bytes() == before and (data / "interim_looks.json").read_bytes() == anchor
    code, out, _ = _main("analyze", data, "--interim", prereg, "--json")
    i = json.loads(out)["interim"]
    assert (i["repeat"], i["recorded"], i["looks_on_record"], i["earlier_looks"]) == (True, False, 1, [])
    assert log.read_bytes() == before


def test_a_second_look_at_one_planned_look_is_flagged(first_look, prereg, tmp_path):
    from analysis.records.verify import verify

    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    run_by_people(data, "S1", 8, 10, study="burger1986")     # 23/23: still planned look 1 (look 2 at 35/35)
    code, out, _ = _main("analyze", data, "--interim", prereg)
    assert code == 0
    first = _looks(data)[0]
    assert f"(earlier: look 1 on {first['t']}, n = 18/18, continue)" in out
    assert "UNPLANNED: a second look at planned look 1" in out
    assert "UNPLANNED: look 2 on record taken at n = 23/23, before look 2's planned n = 35/35" in out
    assert "α spent beyond the registered plan" in out
    assert [e["n1"] for e in _looks(data)] == [18, 23] and verify(data).ok
    # --json: the same, as new keys (after a third look at the same planned look: also more looks than planned)
    run_by_people(data, "S1", 9, 2, study="burger1986")
    code, out, _ = _main("analyze", data, "--interim", prereg, "--json")
    i = json.loads(out)["interim"]
    assert (i["look"], i["looks_on_record"], i["unplanned_look"], i["look_after_stop"]) == (1, 3, True, False)
    assert i["alpha_beyond_plan"] is True and [x["n1"] for x in i["earlier_looks"]] == [18, 23]
    assert any("look 3 on record, but the plan has 2 looks" in f for f in i["look_flags"])


def test_a_look_after_a_stop_is_flagged(prereg, tmp_path):
    data = tmp_path / "data"
    run_by_people(data, "S1", 7, 70, study="burger1986")     # 35/35: the last planned look, a stop
    code, out, _ = _main("analyze", data, "--interim", prereg, "--json")
    i = json.loads(out)["interim"]
    assert i["stopped"] and i["look"] == 2 and i["look_flags"] == [] and not i["alpha_beyond_plan"]
    run_by_people(data, "S1", 8, 4, study="burger1986")      # collected on after the stop
    code, out, _ = _main("analyze", data, "--interim", prereg)
    assert code == 0
    assert f"UNPLANNED: a look after the stop on record (look 2 on {_looks(data)[0]['t']}, n = 35/35" in out
    code, out, _ = _main("analyze", data, "--interim", prereg, "--json")   # the same data: a repeat, still flagged
    i = json.loads(out)["interim"]
    assert i["repeat"] and i["look_after_stop"] and i["unplanned_look"]    # also a second look at look 2


def test_json_keys_are_a_superset_of_todays(first_look, prereg, tmp_path):
    # today's keys (README's interim paragraph), every one kept with the value interim_result gives
    from analysis.api import analyze
    from analysis.commands.preregister import read_preregistration
    from analysis.load.sessions import load_sessions
    from analysis.power.sequential import interim_result

    today = {"preregistration", "sequential", "simulated", "contrast", "look", "looks", "n1", "n2", "planned_n1",
             "planned_n2", "z", "statistic", "critical", "critical_normal", "decision", "stopped", "notes",
             "risk_difference", "pvalue_stagewise", "pvalue", "repeated_ci", "ci_low", "ci_high", "boundaries"}
    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    code, out, _ = _main("analyze", data, "--interim", prereg, "--json")
    i = json.loads(out)["interim"]
    assert today <= set(i)
    assert {"recorded", "repeat", "record", "looks_on_record", "earlier_looks", "look_flags", "unplanned_look",
            "look_after_stop", "look_before_planned_n", "alpha_beyond_plan"} <= set(i)
    ref = interim_result(read_preregistration(prereg), analyze(load_sessions(data))[0], "prereg.md")
    assert (i["z"], i["critical"], i["decision"], i["look"]) == (ref.z, ref.critical, ref.decision, ref.look)


def test_a_folder_that_is_not_writable_is_one_line_exit_2_nothing_written(first_look, prereg, tmp_path,
                                                                          monkeypatch):
    import errno

    import paradigms.engine.store as store

    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    run_by_people(data, "S1", 8, 10, study="burger1986")     # new data: a new look would be recorded
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    if os.geteuid() == 0:   # root writes through any mode: the write is refused as a read-only mount refuses it
        real_open = store.os.open

        def refused(path, *a, **k):
            if str(path).endswith("audit_log.jsonl"):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, *a, **k)

        monkeypatch.setattr(store.os, "open", refused)
    os.chmod(data, 0o555)
    os.chmod(data / "audit_log.jsonl", 0o444)
    try:
        code, out, err = _main("analyze", data, "--interim", prereg)
    finally:
        os.chmod(data, 0o755)
        os.chmod(data / "audit_log.jsonl", 0o644)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (code, out, err)
    assert "audit_log.jsonl" in err and "not taken" in err and "nothing written" in err
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_looks_at_simulated_data_are_recorded_marked_simulated(prereg, tmp_path):
    import paradigms
    from analysis.records.verify import verify
    from paradigms.engine.sessions import simulate

    data = tmp_path / "sim"
    simulate(paradigms.get("burger1986"), 1, 36, seed=3, data_dir=data, site="SIM")
    code, out, _ = _main("analyze", data, "--interim", prereg)
    assert code == 0
    lines = _interim_lines(out)
    assert lines[0].startswith("SIMULATED data: interim (")
    assert "(simulated data: on record as simulated, counted apart from real looks)" in lines[-1]
    (e,) = _looks(data)
    assert e["simulated"] is True and verify(data).ok


def test_replicate_lists_the_recorded_looks_against_the_planned_ones(first_look, prereg, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(first_look[0], data)
    code, out, _ = _main("replicate", data, "--preregistration", prereg, "--json")
    assert code == 0
    before = json.loads(out)["adherence"]["deviations"]
    assert not any("look" in d and "on record" in d for d in before)     # one look, as planned: no such line
    run_by_people(data, "S1", 8, 10, study="burger1986")                 # 23/23, looked at: a second look at look 1
    assert _main("analyze", data, "--interim", prereg)[0] == 0
    code, out, _ = _main("replicate", data, "--preregistration", prereg, "--json")
    dev = json.loads(out)["adherence"]["deviations"]
    t2 = _looks(data)[1]["t"]
    assert f"interim look 2 on record ({t2}, n = 23/23, continue): a second look at planned look 1 " \
           f"(the first on {_looks(data)[0]['t']}, n = 18/18): an unplanned look: α spent beyond the registered plan" in dev
    assert any(d.startswith("interim look 2 on record") and "before look 2's planned n = 35/35" in d for d in dev)
    # the lines there were before (the same data, the looks not read) are unchanged, and come first
    import analysis.power.adherence as adherence

    monkeypatch.setattr(adherence, "look_deviations", lambda *a, **k: [])
    code, out, _ = _main("replicate", data, "--preregistration", prereg, "--json")
    old = json.loads(out)["adherence"]["deviations"]
    assert old and dev[:len(old)] == old and len(dev) > len(old)


def test_a_planned_look_passed_without_a_look_on_record_is_a_deviation(prereg, tmp_path):
    data = tmp_path / "data"
    run_by_people(data, "S1", 7, 70, study="burger1986")                 # 35/35 at once: look 1 never taken
    code, out, _ = _main("replicate", data, "--preregistration", prereg)
    assert code == 0 and "planned look 1 of 2 (n = 18/18): no look on record" in out


def test_the_record_is_named_relative_to_the_working_folder(tmp_path, prereg, monkeypatch):
    """Run from the folder above the data, the look's record is named data/audit_log.jsonl in the text and
    the JSON: no absolute path (which carries the user's home folder) in an output one shares."""
    run_by_people(tmp_path / "data", "S1", 7, 36, study="burger1986")
    monkeypatch.chdir(tmp_path)
    code, out, err = _main("analyze", "data", "--interim", prereg)
    assert code == 0, err
    assert "entry 2 of data/audit_log.jsonl" in out and str(tmp_path) not in "\n".join(_interim_lines(out))
    code, out, err = _main("analyze", "data", "--interim", prereg, "--json")     # a repeat: named the same way
    assert code == 0, err
    assert '"log": "data/audit_log.jsonl"' in out and str(tmp_path) not in out.split('"interim"', 1)[1]
