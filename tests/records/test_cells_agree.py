"""Issue 22.5: cells a session records together must agree, or the file is refused in one line.

Three edits the reliability audit found accepted silently: a Regan ``liking_score`` that is not
the mean of its items (it moved the liking-tickets r from .119 to .088), a target answer
``refuse`` beside ``complied = 1``, and data kept (``data_consent = 1``) from a participant
recorded as not debriefed.  Each is made to a real session file (``simulate``), and the
loader must name the file, the line and the column; the unedited file loads.
"""
from __future__ import annotations

import csv
import io
import shutil

import pytest

import paradigms
from analysis import DataValidationError, load_sessions
from paradigms.engine.sessions import simulate


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    out = {}
    for study, exp in (("cialdini1975", 1), ("regan1971", 1), ("pollock1998", 1)):
        d = tmp_path_factory.mktemp(study)
        res = simulate(paradigms.get(study), exp, 40, seed=5, data_dir=d)
        out[study] = res.csv_path
    return out


def _rows(path):
    records = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return records[0], records[1:]


def _edited(src, tmp_path, edit):
    """A copy of the session (CSV only: no sidecar, no audit log) with ``edit(header, rows)``
    applied; returns the copy and the CSV line of the row edited."""
    header, rows = _rows(src)
    r = edit(header, rows)
    dst = tmp_path / src.name
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header] + rows)
    dst.write_text(buf.getvalue(), encoding="utf-8")
    return dst, r + 2


def _first(header, rows, **want):
    return next(i for i, row in enumerate(rows) if all(row[header.index(k)] == v for k, v in want.items()))


def _refused(path, line, column):
    with pytest.raises(DataValidationError) as e:
        load_sessions(path.parent)
    msg = str(e.value)
    assert "\n" not in msg and path.name in msg, msg
    assert f"line {line} " in msg and f"column {column!r}" in msg, msg
    return msg


def test_the_unedited_sessions_load(sessions, tmp_path):
    for study, src in sessions.items():
        (tmp_path / study).mkdir()
        dst, _ = _edited(src, tmp_path / study, lambda h, r: 0)
        assert len(load_sessions(dst.parent).data) > 0


def test_a_refused_target_request_recorded_as_complied_is_refused(sessions, tmp_path):
    def edit(h, rows):
        i = _first(h, rows, target_request_answer="refuse", complied="0")
        rows[i][h.index("complied")] = "1"
        return i
    dst, line = _edited(sessions["cialdini1975"], tmp_path, edit)
    msg = _refused(dst, line, "complied")
    assert "contradicts target_request_answer 'refuse', which records complied = 0" in msg


def test_an_agreed_target_request_recorded_as_not_complied_is_refused(sessions, tmp_path):
    def edit(h, rows):
        i = _first(h, rows, target_request_answer="agree", complied="1")
        rows[i][h.index("complied")] = "0"
        return i
    dst, line = _edited(sessions["cialdini1975"], tmp_path, edit)
    assert "records complied = 1" in _refused(dst, line, "complied")


def test_a_sale_not_made_with_money_paid_is_refused(sessions, tmp_path):
    def edit(h, rows):
        i = _first(h, rows, purchase_answer="refuse", excluded="0")
        rows[i][h.index("amount_paid")] = "1.0"
        return i
    dst, line = _edited(sessions["pollock1998"], tmp_path, edit)
    assert "records amount_paid = 0" in _refused(dst, line, "amount_paid")


def test_a_liking_score_that_contradicts_its_items_is_refused(sessions, tmp_path):
    items = ("like_01", "like_02", "like_03", "like_04")

    def edit(h, rows):
        i = next(i for i, row in enumerate(rows) if all(row[h.index(c)] for c in items))
        mean = sum(int(rows[i][h.index(c)]) for c in items) / 4
        rows[i][h.index("liking_score")] = f"{mean + 1 if mean < 8 else mean - 1:g}"
        return i
    dst, line = _edited(sessions["regan1971"], tmp_path, edit)
    assert "is not the mean of like_01, like_02, like_03, like_04" in _refused(dst, line, "liking_score")


def test_a_liking_score_rounded_to_two_decimals_still_agrees(sessions, tmp_path):
    items = ("like_01", "like_02", "like_03", "like_04")

    def edit(h, rows):
        for row in rows:
            if row[h.index("liking_score")]:
                row[h.index("liking_score")] = f"{float(row[h.index('liking_score')]):.2f}"
        return 0
    dst, _ = _edited(sessions["regan1971"], tmp_path, edit)
    # the check's own arithmetic, done another way: every kept score is its items' mean to 2 decimals
    header, rows = _rows(dst)
    for row in rows:
        if row[header.index("liking_score")] and all(row[header.index(c)] for c in items):
            mean = sum(int(row[header.index(c)]) for c in items) / 4
            assert abs(float(row[header.index("liking_score")]) - mean) <= 0.005 + 1e-9
    assert len(load_sessions(dst.parent).data) > 0


def test_a_liking_score_beside_an_empty_item_is_refused(sessions, tmp_path):
    def edit(h, rows):
        i = next(i for i, row in enumerate(rows) if row[h.index("liking_score")] and row[h.index("data_consent")] == "1")
        rows[i][h.index("like_03")] = ""
        return i
    dst, line = _edited(sessions["regan1971"], tmp_path, edit)
    assert "its item like_03 is empty" in _refused(dst, line, "liking_score")


@pytest.mark.parametrize("study", ["cialdini1975", "regan1971"])
def test_data_kept_from_a_participant_not_debriefed_is_refused(sessions, tmp_path, study):
    def edit(h, rows):
        i = _first(h, rows, debriefed="1", data_consent="1")
        rows[i][h.index("debriefed")] = "0"
        return i
    dst, line = _edited(sessions[study], tmp_path, edit)
    assert "although debriefed = 0" in _refused(dst, line, "data_consent")


def test_not_debriefed_with_consent_left_empty_is_accepted(sessions, tmp_path):
    """What the screen records for *Could not debrief*: debriefed 0, data_consent empty."""
    def edit(h, rows):
        i = _first(h, rows, debriefed="1", data_consent="1")
        rows[i][h.index("debriefed")] = "0"
        rows[i][h.index("data_consent")] = ""
        return i
    dst, _ = _edited(sessions["cialdini1975"], tmp_path, edit)
    assert len(load_sessions(dst.parent).data) > 0


def test_analyze_refuses_the_edited_file_with_exit_2(sessions, tmp_path):
    from paradigms.cli import main

    def edit(h, rows):
        i = _first(h, rows, target_request_answer="refuse", complied="0")
        rows[i][h.index("complied")] = "1"
        return i
    dst, line = _edited(sessions["cialdini1975"], tmp_path, edit)
    before = dst.read_bytes()
    assert main(["analyze", str(dst.parent), "--accept-unverified"]) == 2
    assert dst.read_bytes() == before
