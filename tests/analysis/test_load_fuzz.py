"""Issue 15.7: malformed variants of real session files (made by ``compliance simulate`` for
cialdini1975, pollock1998 and regan1971) are refused with one line naming the file (and the
row and field where there is one), never with numpy, pandas, pyarrow or statsmodels text.

Seeded and fast: each mutation is applied to each paradigm's session once; a sample of
them also goes through ``compliance analyze`` (exit code 2, one line on stderr)."""
from __future__ import annotations

import random
import re
import shutil
import warnings

import pytest

from analysis import DataValidationError, load_sessions

STUDIES = {"cialdini1975": ["--experiment", "1"], "pollock1998": [], "regan1971": []}
FOREIGN = re.compile(r"Traceback|numpy|pandas|pyarrow|arrow|statsmodels|operands could not|broadcast|"
                     r"dtype|ArrowInvalid|Error\(|NaTType|object at 0x", re.IGNORECASE)


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    import subprocess
    import sys
    out = {}
    for study, extra in STUDIES.items():
        d = tmp_path_factory.mktemp(study)
        subprocess.run([sys.executable, "-m", "paradigms.cli", "simulate", study, *extra, "--participants", "12",
                        "--seed", "7", "--data-dir", str(d), "--quiet"], check=True, capture_output=True)
        out[study] = next(d.glob("*_data.csv"))
    return out


def _cells(text):
    import csv
    import io
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    return records[0], records[1:]


def _join(header, rows, end="\n"):
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=end)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _set(col_kind):
    """A mutation setting one cell of a column of the given dtype (chosen by the codebook)."""
    def mutate(text, rng, codebook, value):
        header, rows = _cells(text)
        names = [m.name for m in codebook if m.dtype == col_kind and m.name in header]
        col = rng.choice(names)
        r = rng.randrange(len(rows))
        rows[r][header.index(col)] = value
        return _join(header, rows), (r + 2, col)
    return mutate


def _required_empty(text, rng, codebook, value=None):
    header, rows = _cells(text)
    col = rng.choice([m.name for m in codebook if not m.missing_ok and m.name in header])
    r = rng.randrange(len(rows))
    rows[r][header.index(col)] = ""
    return _join(header, rows), (r + 2, col)


def _truncate_row(text, rng, codebook, value=None):
    header, rows = _cells(text)
    r = rng.randrange(len(rows))
    rows[r] = rows[r][: rng.randrange(1, len(header) - 1)]
    return _join(header, rows), (r + 2, None)


def _extra_field(text, rng, codebook, value=None):
    header, rows = _cells(text)
    r = rng.randrange(len(rows))
    rows[r].append("x")
    return _join(header, rows), (r + 2, None)


def _cut_file(text, rng, codebook, value=None):
    return text[: len(text) - rng.randrange(2, 40)], (None, None)


def _drop_column(text, rng, codebook, value=None):
    header, rows = _cells(text)
    i = rng.randrange(len(header))
    return _join(header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in rows]), (1, header[i])


def _extra_column(text, rng, codebook, value=None):
    header, rows = _cells(text)
    return _join(header + ["notes"], [r + ["n"] for r in rows]), (1, "notes")


def _duplicate_header(text, rng, codebook, value=None):
    header, rows = _cells(text)
    return _join(header + [header[3]], [r + [r[3]] for r in rows]), (1, header[3])


def _header_twice(text, rng, codebook, value=None):
    header, rows = _cells(text)
    rows.insert(rng.randrange(len(rows)), list(header))
    return _join(header, rows), (None, None)


def _semicolons(text, rng, codebook, value=None):
    header, rows = _cells(text)
    return ";".join(header) + "\n" + "".join(";".join(r) + "\n" for r in rows), (1, None)


def _tabs(text, rng, codebook, value=None):
    header, rows = _cells(text)
    return "\t".join(header) + "\n" + "".join("\t".join(r) + "\n" for r in rows), (1, None)


def _binary_junk(text, rng, codebook, value=None):
    junk = bytes(rng.randrange(256) for _ in range(64))
    return text.encode("utf-8")[:200] + junk + text.encode("utf-8")[200:], (None, None)


def _nul_bytes(text, rng, codebook, value=None):
    return text[:150] + "\x00\x00" + text[150:], (None, None)


def _latin1(text, rng, codebook, value=None):
    return text.encode("utf-8") + "Zoë,ß\n".encode("latin-1"), (None, None)


def _bom_and_bad_cell(text, rng, codebook, value=None):
    t, where = _set("integer")(text, rng, codebook, "one")
    return "\ufeff" + t, where


def _mixed_line_ends_and_bad_cell(text, rng, codebook, value=None):
    t, where = _set("datetime")(text, rng, codebook, "2026-02-30T10:00:00+00:00")
    lines = t.split("\n")
    return "".join(ln + ("\r\n" if i % 2 else "\n") for i, ln in enumerate(lines[:-1])), where


def _quoted_newline_and_bad_cell(text, rng, codebook, value=None):
    header, rows = _cells(text)
    rows[0][header.index("experimenter")] = "E\n1"       # the writer quotes it
    return _join(header, rows), (3, "experimenter")   # the record ends on line 3, where it is named


def _only_header(text, rng, codebook, value=None):
    return text.split("\n")[0] + "\n", (None, None)


def _empty(text, rng, codebook, value=None):
    return "", (1, None)


def _blank_lines(text, rng, codebook, value=None):
    t, where = _set("integer")(text, rng, codebook, "1.5")
    return t.replace("\n", "\n\n", 3), (None, where[1])


MUTATIONS = [
    ("int_word", _set("integer"), "seven"),
    ("int_float", _set("integer"), "1.5"),
    ("int_huge", _set("integer"), "9" * 40),
    ("int_negative_huge", _set("integer"), "-" + "9" * 25),
    ("int_nan", _set("integer"), "nan"),
    ("int_inf", _set("integer"), "inf"),
    ("time_word", _set("datetime"), "yesterday"),
    ("time_month_13", _set("datetime"), "2026-13-05T10:00:00+00:00"),
    ("time_year_0", _set("datetime"), "0000-01-05T10:00:00+00:00"),
    ("time_no_offset", _set("datetime"), "2026-01-05T10:00:00"),
    ("time_future", _set("datetime"), "2999-01-05T10:00:00+00:00"),
    ("time_date_only", _set("datetime"), "2026-01-05"),
    ("string_not_allowed", _set("string"), "\u00a0weird value"),
    ("required_empty", _required_empty, None),
    ("truncated_row", _truncate_row, None),
    ("extra_field", _extra_field, None),
    ("cut_file", _cut_file, None),
    ("missing_column", _drop_column, None),
    ("extra_column", _extra_column, None),
    ("duplicate_header_column", _duplicate_header, None),
    ("header_repeated_as_row", _header_twice, None),
    ("semicolons", _semicolons, None),
    ("tabs", _tabs, None),
    ("binary_junk", _binary_junk, None),
    ("nul_bytes", _nul_bytes, None),
    ("latin1", _latin1, None),
    ("bom_and_bad_cell", _bom_and_bad_cell, None),
    ("mixed_line_ends", _mixed_line_ends_and_bad_cell, None),
    ("quoted_newline", _quoted_newline_and_bad_cell, None),
    ("only_header", _only_header, None),
    ("empty", _empty, None),
    ("blank_lines", _blank_lines, None),
]
NUMBER_MUTATIONS = [("num_nan", "nan"), ("num_inf", "-inf"), ("num_huge", "1e400"), ("num_word", "five")]


def _variant(originals, study, name, mutate, value, tmp_path, seed):
    import paradigms
    src = originals[study]
    d = tmp_path / f"{study}-{name}"
    d.mkdir()
    csv = d / src.name
    rng = random.Random(f"{seed}-{study}-{name}")
    text = src.read_text(encoding="utf-8")
    exp = int(text.split("\n")[1].split(",")[2])
    body, where = mutate(text, rng, paradigms.get(study).codebook(exp), value)
    csv.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    side = src.with_suffix(".json")
    shutil.copy(side, d / side.name)   # its csv_sha256 no longer matches: a warning, not the refusal
    return csv, where


def _check_refusal(exc_info, csv, where):
    msg = str(exc_info.value)
    assert "\n" not in msg, msg
    assert str(csv) in msg, msg
    assert not FOREIGN.search(msg), msg
    line, col = where
    if line is not None:
        assert f"line {line}" in msg, (where, msg[len(str(csv)):])
    if col is not None:
        assert repr(col) in msg, (where, msg[len(str(csv)):])


CASES = [(s, n, m, v) for s in STUDIES for n, m, v in MUTATIONS]


@pytest.mark.parametrize("study,name,mutate,value", CASES, ids=[f"{s}-{n}" for s, n, _, _ in CASES])
def test_malformed_file_is_refused_in_one_line(originals, tmp_path, study, name, mutate, value):
    csv, where = _variant(originals, study, name, mutate, value, tmp_path, seed=15)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DataValidationError) as e:
            load_sessions(csv.parent)
    _check_refusal(e, csv, where)


@pytest.mark.parametrize("name,value", NUMBER_MUTATIONS)
def test_bad_numbers_in_numeric_measures(originals, tmp_path, name, value):
    for study in ("pollock1998", "regan1971"):
        csv, where = _variant(originals, study, name, _set("number"), value, tmp_path, seed=15)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(DataValidationError) as e:
                load_sessions(csv)
        _check_refusal(e, csv, where)


def test_analyze_exits_non_zero_with_one_line_on_a_sample(originals, tmp_path, cli, capsys):
    """A seeded sample through the analyze command: in process for 12 of them, and 3 through
    the installed ``compliance`` command itself (a subprocess each: the slow part).

    Each variant is a hand-edited copy of a sealed session, which ``verify`` (and so ``analyze``)
    refuses first; ``--accept-unverified`` lets the loader's own refusal be seen."""
    from analysis.cli import main

    rng = random.Random(2026)
    sample = rng.sample(CASES, 12)
    for k, (study, name, mutate, value) in enumerate(sample):
        csv, _ = _variant(originals, study, name, mutate, value, tmp_path, seed=15)
        if k < 3:
            proc = cli("analyze", csv.parent, "--accept-unverified")
            code, stderr = proc.returncode, proc.stderr
        else:
            code = main(["analyze", str(csv.parent), "--accept-unverified"])
            stderr = capsys.readouterr().err
        err = [ln for ln in stderr.splitlines() if not ln.startswith("warning:")]
        assert code == 2, (study, name, stderr)
        assert len(err) == 1 and str(csv) in err[0] and not FOREIGN.search(err[0]), (study, name, stderr)


@pytest.mark.parametrize("column", ["slot", "tickets"])
def test_an_integer_too_large_for_int64_is_refused_not_a_traceback(originals, tmp_path, column):
    """A 30-digit integer in a column without a maximum (slot) used to reach pandas' Int64
    conversion and fail there (OverflowError); it is a one-line refusal of that cell."""
    study = "regan1971"
    src = originals[study]
    header, rows = _cells(src.read_text(encoding="utf-8"))
    rows[2][header.index(column)] = "1" + "0" * 30
    p = tmp_path / src.name
    p.write_text(_join(header, rows), encoding="utf-8")
    with pytest.raises(DataValidationError) as e:
        load_sessions(p)
    _check_refusal(e, p, (4, column))
