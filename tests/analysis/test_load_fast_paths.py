"""The loader's fast paths (issue 26.3) give what the paths they replace gave."""
from __future__ import annotations

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
