"""Loading and validating session CSVs: good files load, each kind of bad file is refused
with a one-line message naming the file, the line/row and the column."""
import pytest

from analysis import DataValidationError, load_sessions, rows_from_counts, write_session_csv
import paradigms

COLS = paradigms.get("cialdini1975").columns(1)
COUNTS = {"rejection_moderation": (3, 5), "exposure_control": (1, 4), "smaller_request_only": (2, 6)}


def _write(path, rows=None, columns=COLS, **kw):
    rows = rows if rows is not None else rows_from_counts("cialdini1975", 1, COUNTS, **kw)
    return write_session_csv(path, rows, columns)


def test_valid_files_load_with_exclusions_and_withdrawals(tmp_path):
    rows = rows_from_counts("cialdini1975", 1, COUNTS)
    rows[0]["data_consent"] = "0"
    rows[1].update(excluded="1", exclusion_reason="not_alone", complied="", target_request_answer="")
    _write(tmp_path / "s1" / "a_data.csv", rows)
    _write(tmp_path / "s2" / "deep" / "b_data.csv", site="S2")
    (tmp_path / "s2" / "notes.csv").write_text("not,a,session\n")  # ignored: not *_data.csv
    loaded = load_sessions(tmp_path / "s1", tmp_path / "s2")
    assert len(loaded.files) == 2
    assert len(loaded.data) == 15 + 15 - 1            # the withdrawn row is gone entirely
    assert rows[0]["participant_id"] not in set(loaded.data["participant_id"])
    assert len(loaded.analysable()) == 15 + 15 - 2
    rep = loaded.report.set_index("status")
    assert set(loaded.report["status"]) == {"withdrawn", "excluded"}
    assert rep.loc["excluded", "reason"] == "not_alone"
    assert str(loaded.data["complied"].dtype) == "Int64"
    assert loaded.experiments() == [("cialdini1975", 1)]


def test_byte_order_mark_is_tolerated(tmp_path):
    p = _write(tmp_path / "x_data.csv")
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert len(load_sessions(p).data) == 15


def _assert_one_line(exc, *parts):
    msg = str(exc.value)
    assert "\n" not in msg
    for part in parts:
        assert part in msg, (part, msg)


def test_missing_column(tmp_path):
    p = _write(tmp_path / "m_data.csv", columns=[c for c in COLS if c != "complied"])
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _assert_one_line(e, str(p), "line 1", "'complied'", "missing")


@pytest.mark.parametrize("column,value,expect", [
    ("complied", "yes", "not an integer"),
    ("complied", "2", "not allowed"),
    ("excluded", "", "required"),
    ("condition", "two_requester_control", "not allowed"),      # a condition of experiment 2, not 1
    ("condition", "nonsense", "not allowed"),
    ("target_request_answer", "maybe", "not allowed"),
    ("session", "0", "below the minimum"),
    ("t_start", "yesterday", "ISO 8601"),
    ("experiment", "9", "no experiment 9"),
    ("study", "milgram1963", "unknown study"),
])
def test_bad_cell(tmp_path, column, value, expect):
    rows = rows_from_counts("cialdini1975", 1, COUNTS)
    rows[3][column] = value                       # data row 4 = CSV line 5
    p = _write(tmp_path / "bad_data.csv", rows)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _assert_one_line(e, str(p), "line 5", "data row 4", f"'{column}'", expect)


def test_duplicate_participant_id_across_files(tmp_path):
    a = _write(tmp_path / "a_data.csv")
    b = _write(tmp_path / "b_data.csv")          # same ids again
    with pytest.raises(DataValidationError) as e:
        load_sessions(a, b)
    _assert_one_line(e, str(b), str(a), "line 2", "data row 1", "'participant_id'", "duplicates")


def test_empty_file(tmp_path):
    p = tmp_path / "e_data.csv"
    p.write_text("")
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _assert_one_line(e, str(p), "line 1", "header", "empty")


def test_ragged_row(tmp_path):
    p = _write(tmp_path / "r_data.csv")
    lines = p.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 2)[0]         # data row 2 loses its last two fields
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _assert_one_line(e, str(p), "line 3", "data row 2", f"'{COLS[-2]}'", "fields")


def test_included_row_without_outcome(tmp_path):
    rows = rows_from_counts("cialdini1975", 1, COUNTS)
    rows[0]["complied"] = ""
    p = _write(tmp_path / "o_data.csv", rows)
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _assert_one_line(e, str(p), "line 2", "data row 1", "'complied'")


def test_folder_without_session_files(tmp_path):
    with pytest.raises(DataValidationError) as e:
        load_sessions(tmp_path)
    _assert_one_line(e, str(tmp_path), "_data.csv")
