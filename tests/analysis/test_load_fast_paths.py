"""The loader's fast paths (issue 26.3) give what the paths they replace gave."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.load.validate import _numbers

CELLS = st.sampled_from(["", " ", "0", "1", " 1 ", "+2", "-3.5", "1e3", "nan", "inf", "-inf", "x", "1,5", "0.1"])


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=12))
def test_numbers_of_a_column_with_empty_cells_are_pandas_to_numeric(cells):
    """Empty cells are made null before pyarrow's cast (a column with an empty cell took the slow
    path before); the values are pandas' to_numeric of the trimmed cells, NaN where empty or not a number."""
    df = pd.DataFrame({"c": pd.array(cells, dtype="str")})
    expected = pd.to_numeric(pd.Series([c.strip() for c in cells]).replace("", None), errors="coerce") \
        .astype(float).to_numpy()
    got = _numbers(df, "c")
    assert got.dtype == float and np.array_equal(got, expected, equal_nan=True)


CONDITIONS = st.sampled_from(["a", "b", "c", None])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(CONDITIONS, st.sampled_from([0, 1, 2, None])), min_size=1, max_size=30),
       dtype=st.sampled_from(["string", "str"]))
def test_condition_cells_by_codes_are_the_groupby(rows, dtype):
    """analyze's per-condition counts (a bincount of the condition's codes, issue 26.3) are the
    groupby of the rows with both cells given that logistic_regression made, in first-seen order."""
    from analysis.stats.binary import _condition_cells

    df = pd.DataFrame({"condition": pd.array([c for c, _ in rows], dtype=dtype),
                       "complied": pd.array([y for _, y in rows], dtype="Int64")})
    d = df[["condition", "complied"]].dropna().copy()
    d["complied"] = d["complied"].astype(int)
    d["condition"] = d["condition"].astype(str)
    g = d.groupby("condition", sort=False)["complied"].agg(["sum", "count"])
    expected = {str(c): (int(r["sum"]), int(r["count"])) for c, r in g.iterrows()}
    got = _condition_cells(df)
    assert got == expected and list(got) == list(expected)


@settings(max_examples=200, deadline=None)
@given(files=st.lists(st.sampled_from(["f1", "f2", "f3"]), min_size=2, max_size=30), data=st.data())
def test_files_of_runs_are_pandas_unique(files, data):
    """LoadedData.files_of looks at the first row of each run of one file; the same files, in the
    same order, as pandas.unique of every selected row."""
    from analysis.load.sessions import _first_seen

    col = pd.Series(pd.array(files, dtype="str"))
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(files), max_size=len(files))))
    assert _first_seen(col, mask) == list(pd.unique(col[mask]))


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["s1", "s2"]), st.sampled_from([1, 2]),
                               st.sampled_from([0, 1, None]), st.sampled_from([0, 1, None])), min_size=2, max_size=20))
def test_analysable_and_experiments_are_the_status_rule_and_drop_duplicates(rows):
    """LoadedData.analysable (a numeric mask) keeps the rows participant_status calls analysed, the
    very frame pandas' filter gave; experiments() the first-seen pairs drop_duplicates gave."""
    from analysis.load.sessions import LoadedData
    from analysis.load.status import ANALYSED, participant_status

    df = pd.DataFrame({"study": pd.array([r[0] for r in rows], dtype="string"),
                       "experiment": pd.array([r[1] for r in rows], dtype="Int64"),
                       "excluded": pd.array([r[2] for r in rows], dtype="Int64"),
                       "data_consent": pd.array([r[3] for r in rows], dtype="Int64")})
    loaded = LoadedData(df, pd.DataFrame({"study": [], "experiment": []}), ())
    pd.testing.assert_frame_equal(loaded.analysable(), df[(participant_status(df) == ANALYSED).to_numpy()])
    d = df[["study", "experiment"]].drop_duplicates()
    assert loaded.experiments() == list(dict.fromkeys(zip(d["study"], d["experiment"].astype(int))))


def _check_slots_joined(df, schedule_key):
    """check_slots as it was before integer codes (issue 26.3): the group's cells joined with '\\x1f'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from analysis.load.validate import _np, _refuse_first, _text

    if "slot" not in df.columns or df.empty:
        return
    has_slot = df["slot"].notna().to_numpy(bool)
    parts = [_text(df[c].astype(str)) if c in df.columns else _text(pd.Series([""] * len(df)))
             for c in ("study", "experiment", "site")]
    group = pc.binary_join_element_wise(*parts, _text(schedule_key.astype(str).reset_index(drop=True)), "\x1f")
    group = (group.combine_chunks() if hasattr(group, "combine_chunks") else group).dictionary_encode()
    g = _np(group.indices).astype(np.int64)
    slot = _text(df["slot"])
    try:
        v = _np(pc.if_else(pa.array(has_slot), slot, "0").cast(pa.int64()))
        key = pd.Series(g * (int(v.max()) + 1 if len(v) else 1) + v) if (v >= 0).all() else None
    except pa.ArrowException:
        key = None
    if key is None:
        key = pd.Series(pc.binary_join_element_wise(_text(pd.Series(g.astype(str))), slot, "\x1f"))
    dup = key.duplicated(keep="first").to_numpy(bool) & has_slot
    if not dup.any():
        return
    i = int(np.flatnonzero(dup)[0])
    same = (key == key.iat[i]).to_numpy(bool) & has_slot
    j = int(np.flatnonzero(same)[0])
    _refuse_first(dup, df, "slot",
                  lambda i: f"slot {df['slot'].iat[i]} is filled twice in the same schedule: also by "
                            f"{df['source_file'].iat[j]} line {int(df['source_line'].iat[j])} "
                            f"(data row {int(df['source_row'].iat[j])})")


def _outcome(fn, *args):
    from analysis.errors import DataValidationError
    try:
        fn(*args)
    except DataValidationError as exc:
        return str(exc)
    return None


SLOT_ROWS = st.lists(st.tuples(st.sampled_from(["s1", "s2"]), st.sampled_from(["1", "01", "2"]),
                               st.sampled_from(["A", "B", ""]), st.sampled_from(["h1", "h2", "session:3"]),
                               st.sampled_from(["1", "2", "02", "3", None, "x", "-1"])), min_size=1, max_size=25)


@settings(max_examples=300, deadline=None)
@given(rows=SLOT_ROWS)
def test_check_slots_by_integer_codes_is_the_joined_check(rows):
    """check_slots groups by integer codes of each cell (issue 26.3): on cells without the joining
    character, the very error (or none) that joining the cells with '\\x1f' gave."""
    from analysis.load.validate import check_slots

    df = pd.DataFrame({"study": [r[0] for r in rows], "experiment": [r[1] for r in rows],
                       "site": [r[2] for r in rows], "slot": [r[4] for r in rows],
                       "source_file": [f"f{k % 3}" for k in range(len(rows))],
                       "source_line": np.arange(2, len(rows) + 2), "source_row": np.arange(1, len(rows) + 1)})
    sched = pd.Series([r[3] for r in rows])
    assert _outcome(check_slots, df, sched) == _outcome(_check_slots_joined, df, sched)


def test_check_slots_does_not_merge_groups_whose_cells_hold_the_joining_character():
    """Joined with '\\x1f', ('a', 'b\\x1fc', 'd') and ('a\\x1fb', 'c', 'd') were one group: a slot filled once
    in each was refused as filled twice.  With integer codes they are two groups."""
    from analysis.load.validate import check_slots

    df = pd.DataFrame({"study": ["a", "a\x1fb"], "experiment": ["b\x1fc", "c"], "site": ["d", "d"],
                       "slot": ["1", "1"], "source_file": ["f", "g"], "source_line": [2, 2], "source_row": [1, 1]})
    sched = pd.Series(["h", "h"])
    assert _outcome(_check_slots_joined, df, sched) is not None   # the old grouping merged them
    assert _outcome(check_slots, df, sched) is None
    df["study"] = ["a", "a"]
    df["experiment"] = ["b\x1fc", "b\x1fc"]
    assert "slot 1 is filled twice" in _outcome(check_slots, df, sched)


POOL_ROWS = st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6"]), st.sampled_from(["1", "2"]),
                               st.sampled_from(["A", "B"]), st.sampled_from(["3", "4", "03"]),
                               st.sampled_from(["1", "2", "3", "", "+2"]), st.booleans()),
                     min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(files=st.lists(st.tuples(POOL_ROWS, st.sampled_from([None, "", "sha-a", "sha-b", "session:3"])),
                      min_size=1, max_size=4), unique_ids=st.booleans())
def test_ids_and_slots_on_the_pool_are_the_framed_checks(files, unique_ids):
    """The loader's unique-id and slot checks on the pooled columns (a sort, integer codes; issue
    26.3) pass exactly where check_unique_ids and check_slots on a frame of those columns pass."""
    import pyarrow as pa

    from analysis.load.cells import Pool
    from analysis.load.read import FileCells
    from analysis.load.sessions import _check_ids_and_slots, _ids_once, _slots_once

    cells, solo = [], []
    for k, (rows, sha) in enumerate(files):
        cols = ("participant_id", "experiment", "site", "session", "slot")
        if unique_ids:   # then the slot check decides
            rows = [(f"u{k}-{i}",) + r[1:] for i, r in enumerate(rows)]
        table = pa.table({"study": ["cialdini1975"] * len(rows),
                          **{c: [r[j] for r in rows] for j, c in enumerate(cols)}})
        cells.append(FileCells(None, f"f{k}_data.csv", table.column_names, table,
                               np.arange(2, len(rows) + 2), None if sha is None else {"schedule_sha256": sha}))
        solo += [r[5] for r in rows]
    pool = Pool(cells)
    solo = np.array(solo)
    fast = _ids_once(pool, solo) and _slots_once(pool, solo)
    assert fast == (_outcome(_check_ids_and_slots, pool, solo) is None)


def _pool_of(columns: dict, chunks: int = 1):
    """A Pool of one file (or several files of one header, in ``chunks``) holding ``columns`` as text."""
    import pyarrow as pa

    from analysis.load.cells import Pool
    from analysis.load.read import FileCells

    n = len(next(iter(columns.values())))
    cut = [k * n // chunks for k in range(chunks + 1)]
    cells = []
    for k in range(chunks):
        t = pa.table({c: pa.array(v[cut[k]:cut[k + 1]], pa.string()) for c, v in columns.items()})
        cells.append(FileCells(None, f"f{k}_data.csv", list(columns), t, np.arange(2, t.num_rows + 2), None))
    return Pool(cells)


NUMBER_CELLS = st.sampled_from(["", "0", "1", "-2", "12", "-0", "007", "1.5", "1e3", "nan", "inf", " 1", "+2", "x",
                                "123456789012345678"])


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(NUMBER_CELLS, min_size=1, max_size=12), chunks=st.integers(1, 3))
def test_casts_without_filling_the_text_are_the_filled_casts(cells, chunks):
    """Pool.is_int / is_num cast with the empty cells made null (a bitmap; issue 26.3) instead of a
    copy of the column with '0' in them: the same values where the filled cast worked, and the
    same columns refused by the cast."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pool = _pool_of({"c": cells}, min(chunks, len(cells)))
    filled = pc.if_else(pa.array(np.array([c == "" for c in cells])), "0", pool.col("c"))
    for typ, is_ok, key in ((pa.int64(), pool.is_int, "ints"), (pa.float64(), pool.is_num, "floats")):
        try:
            expected = filled.cast(typ).to_numpy()
        except pa.ArrowException:
            expected = None
        is_ok("c")
        cast = ("cast" if key == "ints" else "castnum", "c") in pool._cache
        assert cast == (expected is not None)
        if cast:
            assert np.array_equal(pool._cache[(key, "c")], expected, equal_nan=key == "floats")


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(NUMBER_CELLS, min_size=1, max_size=12))
def test_pool_numbers_are_the_consistency_checks_numbers(cells):
    """The consistency checks take a column's floats from the casts the cell checks made
    (Pool.numbers; issue 26.3): where the pool has them, they are what _numbers computes
    from the text (compared as the checks compare: NaN, == 0, == 1, isclose)."""
    from analysis.load.validate import _numbers

    pool = _pool_of({"c": cells})
    pool.is_int("c")
    pool.is_num("c")
    got = pool.numbers("c")
    expected = _numbers(pd.DataFrame({"c": pd.array(cells, dtype="str")}), "c")
    if got is not None:
        assert np.array_equal(got, expected, equal_nan=True)


TIME_CELLS = st.one_of(
    st.sampled_from(["", "2026-01-05T10:00:00+00:00", "1999-12-31T23:59:59.5Z", "9999-01-01T00:00:00-05:00",
                     "2024-09-08T09:00:02.611+00:00", "2024-09-08T09:00:02", "x024-09-08T09:00:02Z"]),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})?\Z"),
    st.text(alphabet="0123456789-T:+Z.\xff", max_size=30))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(TIME_CELLS, min_size=1, max_size=10))
def test_time_shapes_and_years_are_the_regular_expression(cells):
    """full_time_shape's mask is the store's time pattern and its years (int16 since issue 26.3)
    the first four digits of each complete time, 0 elsewhere."""
    import re

    import pyarrow as pa

    from analysis.load.validate import _FULL_TIME, full_time_shape

    full, year = full_time_shape(pa.array(cells, pa.string()), with_year=True)
    expected = [re.fullmatch(_FULL_TIME, c) is not None for c in cells]
    assert full.tolist() == expected
    assert year.dtype == np.int16
    assert year.tolist() == [int(c[:4]) if ok else 0 for c, ok in zip(cells, expected)]


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.sampled_from(["", "a", "bc", "agree", "refuse"]), min_size=1, max_size=12),
       cut=st.integers(0, 12), start=st.integers(0, 3))
def test_nulls_by_a_bitmap_are_if_else(cells, cut, start):
    """typed_frame's text columns are made null where empty by a bitmap over the column's own
    buffers (validate._valid_where; issue 26.3), which is what pc.if_else(empty, None, cells) gave,
    for chunked and sliced columns too."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from analysis.load.validate import _valid_where

    cut = min(cut, len(cells))
    arr = pa.chunked_array([pa.array(cells[:cut], pa.string()), pa.array(cells[cut:], pa.string())]).slice(
        min(start, len(cells) - 1))
    keep = np.array([c != "" for c in arr.to_pylist()])
    got = _valid_where(arr, keep)
    assert got.to_pylist() == pc.if_else(pa.array(~keep), None, arr).to_pylist()


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.sampled_from(["", "a", "b", "cialdini1975", "1", "01"]), min_size=0, max_size=15),
       cut=st.integers(0, 15), breaks=st.lists(st.booleans(), min_size=15, max_size=15))
def test_codes_from_runs_are_dictionary_encode(cells, cut, breaks):
    """validate.run_encode (each run's first cell encoded; issue 26.3), used for the study and
    experiment codes of every row and the slot check's groups, gives pyarrow's dictionary_encode:
    the same codes and the same values in the same order, whatever runs are cut."""
    import pyarrow as pa

    from analysis.load.validate import run_encode

    cut = min(cut, len(cells))
    arr = pa.chunked_array([pa.array(cells[:cut], pa.string()), pa.array(cells[cut:], pa.string())])
    codes, values = run_encode(arr, np.array(breaks[:len(cells)], bool))
    d = pa.array(cells, pa.string()).dictionary_encode()
    assert codes.tolist() == d.indices.to_pylist() and values.to_pylist() == d.dictionary.to_pylist()


def _file_names_joined(files, fidx):
    """cells._file_names as it was before issue 26.3: the names' bytes joined in Python."""
    import pyarrow as pa

    names = [str(f).encode("utf-8") for f in files]
    lens = np.array([len(b) for b in names], dtype=np.int64)
    data = b"".join(names[int(k)] for k in fidx)
    offsets = np.concatenate([[0], np.cumsum(lens[fidx])]).astype(np.int32)
    return pa.Array.from_buffers(pa.string(), len(fidx), [None, pa.py_buffer(offsets), pa.py_buffer(data)]) \
        .to_pandas().array


@settings(max_examples=200, deadline=None)
@given(files=st.lists(st.sampled_from(["a_data.csv", "dir/é_data.csv", "b", "x" * 70]), min_size=1, max_size=4),
       data=st.data())
def test_file_names_by_take_are_the_joined_names(files, data):
    """The frame's source_file column (numpy's broadcast of each name into its run of rows, or
    pyarrow's take of the names; issue 26.3) is the column of
    joined names it was: same values, same dtype; and a text column's kept rows by a boolean
    filter are its take of their indices."""
    import pyarrow as pa

    from analysis.load.cells import _file_names

    fidx = np.array(data.draw(st.lists(st.integers(0, len(files) - 1), min_size=1, max_size=20)), dtype=np.int64)
    for rows in (fidx, np.sort(fidx)):   # any order (a take), and file order (runs of one name)
        got, expected = pd.Series(_file_names(files, rows)), pd.Series(_file_names_joined(files, rows))
        pd.testing.assert_series_equal(got, expected)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(fidx), max_size=len(fidx))))
    col = pa.chunked_array([pa.array([files[k] for k in fidx], pa.string())])
    assert col.filter(pa.array(keep)).equals(col.take(pa.array(np.flatnonzero(keep), pa.int64())))


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(NUMBER_CELLS, min_size=1, max_size=12))
def test_withdrawn_mask_without_the_float_cast_is_the_rule(cells):
    """withdrawn_mask reads the floats only where a cell is not an integer (issue 26.3: a column of
    integers is not cast to float as well); the rows are those the integer-or-number rule gave."""
    from analysis.load.validate import withdrawn_mask

    pool = _pool_of({"data_consent": cells})
    got = withdrawn_mask(pool)
    ref = _pool_of({"data_consent": cells})
    ok, big = ref.is_int("data_consent")
    expected = ~ref.empty("data_consent") & ((ok & ~big & (ref.ints("data_consent") == 0))
                                             | (ref.is_num("data_consent") & ~ok & (ref.floats("data_consent") == 0)))
    assert got.tolist() == expected.tolist()


_TIME_BYTES = "0123456789-T:+Z. x"


@st.composite
def _mutated_times(draw):
    """Times of the store's form (width 28-32, offset or Z, 1-7 digits of the second), some cells
    with one to three bytes replaced or one dropped or added: the cells the cast path takes."""
    frac = draw(st.integers(0, 7))
    zone = draw(st.sampled_from(["+00:00", "-05:30", "Z", "+01", "+0100", ""]))
    base = "2024-09-08T09:00:02" + ("." + "6118253"[:frac] if frac else "") + zone
    cells = []
    for _ in range(draw(st.integers(1, 8))):
        c = list(base)
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(["set", "set", "set", "drop", "add"]))
            at = draw(st.integers(0, len(c) - 1))
            ch = draw(st.sampled_from(_TIME_BYTES))
            if op == "set":
                c[at] = ch
            elif op == "drop":
                del c[at]
            else:
                c.insert(at, ch)
        cells.append(draw(st.sampled_from(["".join(c), "".join(c), ""])))
    return cells


@settings(max_examples=1500, deadline=None)
@given(cells=_mutated_times(), chunks=st.integers(1, 3))
def test_times_by_one_cast_are_the_shape_then_the_cast(cells, chunks):
    """Pool.full_time's one cast (validate._times_by_cast; issue 26.3) gives the mask, the UTC
    microseconds and the years of full_time_shape then utc_micros, wherever it answers."""

    from analysis.load.validate import _FULL_TIME, _times_by_cast, full_time_shape, utc_micros

    pool = _pool_of({"t": cells}, min(chunks, len(cells)))
    col = pool.col("t")
    full, year = full_time_shape(col, with_year=True)
    micros = utc_micros(col, full)
    got = _times_by_cast(col, pool.empty("t"))
    if got is None:
        return
    assert got[0].tolist() == full.tolist() == [re.fullmatch(_FULL_TIME, c) is not None for c in cells]
    assert micros is not None and got[1].tolist() == micros.tolist()
    assert got[2].dtype == np.int16 and got[2].tolist() == year.tolist()
    assert pool.full_time("t")[0].tolist() == full.tolist()


def test_times_by_one_cast_take_the_p2_form():
    """The store's own cells are taken by the one cast (not left to the two steps)."""
    import pyarrow as pa

    from analysis.load.validate import _times_by_cast

    cells = ["2024-09-08T09:00:02.611+00:00", "", "2024-09-08T09:00:17.611-05:00"]
    got = _times_by_cast(pa.chunked_array([pa.array(cells)]), np.array([c == "" for c in cells]))
    assert got is not None and got[0].tolist() == [True, False, True] and got[2].tolist() == [2024, 0, 2024]
    # what pyarrow's cast takes and the store's pattern refuses, at the store's width: the bytes rule them out
    for other in ("2024-09-08 09:00:02.611+00:00", "2024-09-08T09:00:02.6118+0000", "2024-09-08T09:00:02.611253+01"):
        got = _times_by_cast(pa.array([cells[0], other]), np.zeros(2, bool))
        assert got is not None and got[0].tolist() == [True, False] and got[2].tolist() == [2024, 0]


ID_CELLS = st.one_of(st.sampled_from(["big-00000001", "big-00000002", "big-0000000\xe9", "sim-8c0ff355", "p1", ""]),
                     st.from_regex(r"\A[ab]ig-[0-9a-f]{4,12}\Z"), st.from_regex(r"\A[ab]ig-0000[0-9]{4}\Z"))


@settings(max_examples=500, deadline=None)
@given(ids=st.lists(ID_CELLS, min_size=1, max_size=10), chunks=st.integers(1, 3), data=st.data())
def test_ids_once_by_integer_keys_is_the_duplicate_check(ids, chunks, data):
    """_ids_once sorts one uint64 per id (its last eight bytes) where the ids share one width of
    8 bytes or more (issue 26.3), and sorts the strings only when two keys are equal: it finds a
    repeated id exactly where pandas' duplicated does, among the rows in ``solo``; equal ids
    have equal keys."""
    from analysis.load.sessions import _id_keys, _ids_once

    solo = np.array(data.draw(st.lists(st.booleans(), min_size=len(ids), max_size=len(ids))))
    pool = _pool_of({"participant_id": ids}, min(chunks, len(ids)))
    assert _ids_once(pool, solo) == (not pd.Series(ids)[solo].duplicated().any())
    keys = _id_keys(pool.col("participant_id"))
    if keys is not None:
        assert len(keys) == len(ids)
        for i in range(len(ids)):
            for j in range(len(ids)):
                if ids[i] == ids[j]:
                    assert keys[i] == keys[j]
                if len(ids[i]) == len(ids[j]) and ids[i][-8:] != ids[j][-8:]:
                    assert keys[i] != keys[j]


def test_ids_of_one_width_and_prefix_take_the_integer_keys():
    import pyarrow as pa

    from analysis.load.sessions import _id_keys

    assert _id_keys(pa.chunked_array([pa.array(["big-00000001", "big-00000002"]), pa.array(["big-00000003"])])) \
        is not None
    assert _id_keys(pa.chunked_array([pa.array(["big-00000001", "big-0000002"])])) is None


KEYWORD_FILE = st.tuples(
    st.sampled_from(["study-cialdini1975_exp-1_site-S1_session-3_data.csv", "site-S2_data.csv", "plain_data.csv"]),
    st.lists(st.tuples(st.sampled_from(["cialdini1975", "regan1971"]), st.sampled_from(["1", "2"]),
                       st.sampled_from(["S1", "S2", ""]), st.sampled_from(["3", "4"])), max_size=5),
    st.one_of(st.none(), st.fixed_dictionaries({}, optional={"paradigm": st.sampled_from(["cialdini1975", "regan1971"]),
                                                             "site": st.sampled_from(["S1", "S2"]),
                                                             "session": st.sampled_from([3, 4, None])})),
    st.booleans())


@settings(max_examples=500, deadline=None)
@given(files=st.lists(KEYWORD_FILE, min_size=1, max_size=4))
def test_keywords_on_the_pooled_columns_are_the_check_of_each_file(files):
    """first_keyword_problem (the pooled columns' run codes; issue 26.3) finds the file, and words
    the error, that check_keywords_fast on each file with rows in turn finds first."""
    import pyarrow as pa

    from analysis.errors import DataValidationError
    from analysis.load.cells import Pool
    from analysis.load.read import FileCells, check_keywords_fast, first_keyword_problem

    cells = []
    for k, (name, rows, sidecar, with_site) in enumerate(files):
        cols = ["study", "experiment"] + (["site"] if with_site else []) + ["session"]
        table = pa.table({c: pa.array([r[j] for r in rows] if c != "site" else [r[2] for r in rows], pa.string())
                          for j, c in enumerate(["study", "experiment", "site", "session"]) if c in cols}) \
            .select(cols)
        cells.append(FileCells(None, f"d{k}/{name}", cols, table, np.arange(2, len(rows) + 2), sidecar))
    expected = None
    for k, fc in enumerate(cells):
        if fc.n:
            try:
                check_keywords_fast(fc)
            except DataValidationError as exc:
                expected = (k, str(exc))
                break
    got = first_keyword_problem(Pool(cells))
    assert (None if got is None else (got[0], str(got[1]))) == expected


def _report_rows_by_loop(pool, withdrawn, late, after):
    """The report's text columns and reasons as _report made them before issue 26.3: a Python
    list per column, a loop over the rows."""
    import pyarrow as pa

    in_report = np.flatnonzero(((pool.ints("excluded") == 1) & ~withdrawn) | withdrawn)
    take = pa.array(in_report)
    cols = {c: pool.col(c).take(take).to_pylist() if c in pool.table.column_names else [""] * in_report.size
            for c in ("study", "experiment", "condition", "participant_id", "exclusion_reason")}
    reasons = []
    for j, i in enumerate(in_report):
        if withdrawn[i]:
            e = after.get(cols["participant_id"][j])
            reasons.append(f"withdrawn after the session: {e['reason']} (recorded by {e['by']} on {e['t']}; "
                           f"audit_log.jsonl line {e['line']})" if late[i] else "data_consent = 0")
        else:
            reasons.append(cols["exclusion_reason"][j] or "")
    return pd.DataFrame({"study": cols["study"], "condition": cols["condition"], "reason": reasons,
                         "participant_id": cols["participant_id"]})


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["0", "1"]), st.sampled_from(["0", "1"]),
                               st.sampled_from(["", "ill", "knew the study"]), st.booleans(),
                               st.sampled_from(["a", "b"])), min_size=1, max_size=12),
       with_reason=st.booleans())
def test_report_without_a_loop_is_the_loop(rows, with_reason):
    """_report's columns from pyarrow and its reasons by np.where (issue 26.3): the text, the
    dtypes and the reasons (consent withdrawn, withdrawn later per the log, excluded) the
    per-row loop gave."""
    import analysis.load.sessions as S

    ids = [f"p{i}" for i in range(len(rows))]
    cols = {"participant_id": ids, "study": ["cialdini1975"] * len(rows), "experiment": ["1"] * len(rows),
            "condition": [r[4] for r in rows], "excluded": [r[0] for r in rows],
            "data_consent": [r[1] for r in rows]}
    if with_reason:
        cols["exclusion_reason"] = [r[2] for r in rows]
    pool = _pool_of(cols)
    late = np.array([r[3] for r in rows])
    after = {p: {"reason": f"asked {p}", "by": "E1", "t": "2026-01-01", "log": "x/audit_log.jsonl", "line": 1}
             for p, lt in zip(ids, late) if lt}
    withdrawn = S.checks.withdrawn_mask(pool) | late
    got = S._report(pool, withdrawn, late, after, None)
    want = _report_rows_by_loop(pool, withdrawn, late, after)
    if want.empty:   # no row to report: the branch that makes an empty frame is unchanged
        assert got.empty
        return
    for c in want.columns:
        pd.testing.assert_series_equal(got[c], want[c], check_names=False)
    assert got["status"].tolist() == ["withdrawn" if w else "excluded" for w in withdrawn[withdrawn | (
        pool.ints("excluded") == 1)]]


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.sampled_from(["", "a", "bc", " ", "\xe9"]), min_size=1, max_size=12),
       chunks=st.integers(1, 3), nulls=st.booleans())
def test_empty_cells_from_the_offsets_are_the_compare(cells, chunks, nulls):
    """Pool.empty reads a cell's length from the string offsets (issue 26.3): the cells
    pyarrow's compare with '' finds, chunked or not, with or without missing cells."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pool = _pool_of({"c": cells}, min(chunks, len(cells)))
    if nulls:   # a column some files lack: null cells, read as ''
        t = pool.table
        pool.table = t.set_column(0, "c", pa.chunked_array([pc.if_else(pc.equal(a, "a"), None, a)
                                                             for a in t.column("c").chunks], pa.string()))
    expected = pc.equal(pc.fill_null(pool.table.column("c"), ""), "").to_numpy(zero_copy_only=False)
    assert pool.empty("c").tolist() == expected.tolist()


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(TIME_CELLS, TIME_CELLS), min_size=1, max_size=6))
def test_check_times_with_the_pools_shapes_is_check_times_alone(rows):
    """check_times given the pool's shapes (mask, microseconds, year and, since issue 26.3, the
    non-empty cells) refuses the same cell with the same message as check_times computing them."""
    from analysis.load.validate import check_times

    starts, ends = [r[0] for r in rows], [r[1] for r in rows]
    pool = _pool_of({"t_start": starts, "t_end": ends})
    df = pd.DataFrame({"t_start": pd.arrays.ArrowExtensionArray(pool.col("t_start")),
                       "t_end": pd.arrays.ArrowExtensionArray(pool.col("t_end")),
                       "source_file": "f_data.csv", "source_line": np.arange(2, len(rows) + 2),
                       "source_row": np.arange(1, len(rows) + 1)})
    shapes = {c: pool.full_time(c) + (~pool.empty(c),) for c in ("t_start", "t_end")}
    assert _outcome(check_times, df, ["t_start", "t_end"], None, shapes) == \
        _outcome(check_times, df, ["t_start", "t_end"])
