"""Who is analysed: one rule, used by the loader, every analysis and the CLI summary.

Every participant row is in exactly one of three states:

``withdrawn``
    ``data_consent == 0``: the participant withdrew the data after the debriefing.
    The row is kept on the device, marked, and never analysed, **whatever**
    ``excluded`` says.  Withdrawal wins over exclusion: it is the participant's
    decision about their own data, it is the stronger restriction (an excluded
    row is still read and reported; a withdrawn one is not even held in memory
    by :func:`analysis.load.sessions.load_sessions`), and a row with ``excluded = 1`` and
    ``data_consent = 0`` must be counted once, in one place, by every part of the
    toolkit.
``excluded``
    ``excluded == 1`` and not withdrawn: reported with its reason, left out of
    the tests.
``analysed``
    everything else (``excluded`` 0 or empty; ``data_consent`` 1 or empty, the
    participant could not be asked).

Numbers in text form (``"1"``, ``"0"``, as read from a CSV without types) count as
numbers; anything that is not a number counts as empty.
"""
from __future__ import annotations

from typing import Mapping, Union

import numpy as np
import pandas as pd

__all__ = ["ANALYSED", "EXCLUDED", "WITHDRAWN", "STATUSES", "participant_status", "analysed_mask",
           "split_by_status", "report_counts"]

ANALYSED = "analysed"
EXCLUDED = "excluded"
WITHDRAWN = "withdrawn"
#: The three states, in the order reports list them.
STATUSES = (ANALYSED, EXCLUDED, WITHDRAWN)


def participant_status(data: Union[pd.DataFrame, Mapping]) -> Union[pd.Series, str]:
    """Whether each participant is analysed, excluded or withdrawn.

    H0/H1 do not apply: this is the bookkeeping rule every test relies on.
    Withdrawn (``data_consent == 0``) wins over excluded (``excluded == 1``).

    Parameters
    ----------
    data : DataFrame or mapping
        Rows with the columns ``excluded`` and ``data_consent`` (either may be
        missing: a missing ``excluded`` means 0, a missing ``data_consent``
        means not asked), or one row as a mapping.

    Returns
    -------
    Series of str, or str
        ``"analysed"``, ``"excluded"`` or ``"withdrawn"`` per row (index of
        ``data``); a single string for a mapping.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"excluded": [0, 1, 0, 1, None],
    ...                      "data_consent": [1, 1, 0, 0, None]})
    >>> participant_status(rows).tolist()
    ['analysed', 'excluded', 'withdrawn', 'withdrawn', 'analysed']
    >>> participant_status({"excluded": 1, "data_consent": 0})
    'withdrawn'
    """
    if not isinstance(data, pd.DataFrame):   # one row: no frame built (the loader's hot path once)
        excluded, consent = _number(data.get("excluded")), _number(data.get("data_consent"))
        if consent == 0:
            return WITHDRAWN
        return EXCLUDED if excluded == 1 else ANALYSED
    idx = data.index
    excluded = _column(data, "excluded") == 1
    withdrawn = _column(data, "data_consent") == 0
    out = np.full(len(idx), ANALYSED, dtype=object)
    out[excluded] = EXCLUDED
    out[withdrawn] = WITHDRAWN
    return pd.Series(out, index=idx, dtype=object)


def analysed_mask(data: pd.DataFrame) -> np.ndarray:
    """``participant_status(data) == "analysed"`` as a boolean array, without the strings
    (the same rule: neither ``excluded == 1`` nor ``data_consent == 0``).

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"excluded": [0, 1, 0, 1, None], "data_consent": [1, 1, 0, 0, None]})
    >>> analysed_mask(rows).tolist()
    [True, False, False, False, True]
    """
    return ~(_column(data, "excluded") == 1) & ~(_column(data, "data_consent") == 0)


def _number(value) -> float:
    """A cell as a number (NaN for empty or not a number)."""
    if value is None or isinstance(value, bool):
        return float(value) if isinstance(value, bool) else float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats (NaN for empty, missing or not a number), without a Python loop."""
    if name not in frame:
        return np.full(len(frame), np.nan)
    col = frame[name]
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(col, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def split_by_status(data: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The analysed rows of a frame, and how many were excluded and withdrawn.

    For a tidy frame that did not come through the loader (the loader applies
    the rule once: :meth:`analysis.load.sessions.LoadedData.analysable`).

    Parameters
    ----------
    data : DataFrame
        Rows with ``excluded`` and ``data_consent`` (either may be missing).

    Returns
    -------
    (DataFrame, dict)
        The ``analysed`` rows (a copy) and ``{"excluded": n, "withdrawn": n}``.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"excluded": [0, 1, 0, 1], "data_consent": [1, 1, 0, 0]})
    >>> kept, dropped = split_by_status(rows)
    >>> len(kept), dropped
    (1, {'excluded': 1, 'withdrawn': 2})
    """
    status = participant_status(data)
    kept = data[(status == ANALYSED).to_numpy()].copy()
    return kept, {"excluded": int((status == EXCLUDED).sum()), "withdrawn": int((status == WITHDRAWN).sum())}


def report_counts(report: pd.DataFrame) -> dict:
    """How many participants a load report lists as excluded and as withdrawn.

    Parameters
    ----------
    report : DataFrame
        The ``report`` of :class:`~analysis.load.sessions.LoadedData` (column ``status``),
        already cut to one experiment.

    Returns
    -------
    dict
        ``{"excluded": n, "withdrawn": n}``.

    Examples
    --------
    >>> import pandas as pd
    >>> report_counts(pd.DataFrame({"status": ["excluded", "withdrawn", "withdrawn", "pending"]}))
    {'excluded': 1, 'withdrawn': 2}
    """
    if report is None or not len(report):
        return {"excluded": 0, "withdrawn": 0}
    status = report["status"]
    return {"excluded": int((status == EXCLUDED).sum()), "withdrawn": int((status == WITHDRAWN).sum())}
