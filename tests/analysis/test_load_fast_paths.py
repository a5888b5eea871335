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
