"""Who is analysed: one rule, used by the loader, every analysis and the CLI summary.

Every participant row is in exactly one of three states:

``withdrawn``
    ``data_consent == 0``: the participant withdrew the data after the debriefing.
    The row is kept on the device, marked, and never analysed, **whatever**
    ``excluded`` says.  Withdrawal wins over exclusion: it is the participant's
    decision about their own data, it is the stronger restriction (an excluded
    row is still read and reported; a withdrawn one is not even held in memory
    by :func:`analysis.load.load_sessions`), and a row with ``excluded = 1`` and
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

import pandas as pd

__all__ = ["ANALYSED", "EXCLUDED", "WITHDRAWN", "STATUSES", "participant_status"]

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
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        frame = pd.DataFrame([{"excluded": data.get("excluded"), "data_consent": data.get("data_consent")}])
    idx = frame.index
    excluded = pd.to_numeric(frame["excluded"], errors="coerce") if "excluded" in frame else pd.Series(0, index=idx)
    consent = (pd.to_numeric(frame["data_consent"], errors="coerce") if "data_consent" in frame
               else pd.Series(float("nan"), index=idx))
    excluded = excluded.astype("Float64").fillna(0).to_numpy(dtype=float) == 1
    withdrawn = consent.astype("Float64").fillna(1).to_numpy(dtype=float) == 0
    out = pd.Series(ANALYSED, index=idx, dtype=object)
    out[excluded] = EXCLUDED
    out[withdrawn] = WITHDRAWN
    if isinstance(data, pd.DataFrame):
        return out
    return str(out.iloc[0])
