"""Pool from a published table of sites (``compliance pool --table SITES.csv --study S``).

Many Labs-style reports publish each site's counts, not its session files.  The table is long:
one row per site and condition, conditions named as the study's declaration names them:

* binary plans: ``site, condition, complied, n``;
* count plans (Regan): ``site, condition, mean, sd, n``.

Bad input stops with one line naming the file, the row (the line of the file) and the field: an
unknown condition, a missing or non-numeric value, a negative count, more compliers than
participants, a site listed twice for one condition, a site with one condition only.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
>>> _ = p.write_text("site,condition,complied,n\\nA,thats_not_all,14,20\\nA,control,8,20\\n"
...                  "B,thats_not_all,11,18\\nB,control,7,19\\n")
>>> res = pool_table(p, "burger1986", 1)
>>> res.n_sites, res.data_origin
(2, ('table',))
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Union

import pandas as pd

from analysis.errors import AnalysisError

__all__ = ["BINARY_COLUMNS", "COUNT_COLUMNS", "read_site_table", "pool_table"]

BINARY_COLUMNS = ("site", "condition", "complied", "n")
COUNT_COLUMNS = ("site", "condition", "mean", "sd", "n")


def _number(path, line: int, field: str, raw, whole: bool) -> float:
    where = f"{path}: line {line}, field {field!r}"
    text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw).strip()
    if not text:
        raise AnalysisError(f"{where}: empty; give a number")
    try:
        x = float(text)
    except ValueError:
        raise AnalysisError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise AnalysisError(f"{where}: {text!r} is not a finite number")
    if x < 0:
        raise AnalysisError(f"{where}: {text} is negative")
    if whole and x != int(x):
        raise AnalysisError(f"{where}: {text} is not a whole number")
    return x


def read_site_table(path: Union[str, Path], study: str, experiment: int = 1) -> pd.DataFrame:
    """Read and check a table of sites; returns the rows typed, in file order.

    Parameters
    ----------
    path : str or Path
        The CSV (UTF-8, a header row).
    study, experiment
        The declaration whose conditions (and plan: binary or count) the table follows.

    Returns
    -------
    DataFrame
        Columns ``site, condition, complied, n`` (binary plans) or ``site, condition, mean, sd, n``
        (count plans).

    Raises
    ------
    AnalysisError
        One line naming the file, line and field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text("site,condition,complied,n\\nA,thats_not_all,25,20\\n")
    >>> try:
    ...     read_site_table(p, "burger1986", 1)
    ... except AnalysisError as e:
    ...     print(str(e).split("t.csv: ")[1])
    line 2, field 'complied': 25 complied of n = 20 is impossible
    """
    from paradigms.base import CountPlan

    from analysis.declared import declaration

    path = Path(path)
    try:
        paradigm = declaration(study)
        exp = paradigm.experiment(int(experiment))
    except Exception as exc:  # a declaration lookup error: said in one line
        raise AnalysisError(f"--study {study} --experiment {experiment}: {exc}") from None
    study = paradigm.id
    counts = isinstance(exp.plan, CountPlan)
    cols = COUNT_COLUMNS if counts else BINARY_COLUMNS
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise AnalysisError(f"{path}: no such file (--table)") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    missing = [c for c in cols if c not in raw.columns]
    kind = "count" if counts else "binary"
    if missing:
        raise AnalysisError(f"{path}: no column {missing[0]!r}; a table for {study} ({kind} plan) needs the "
                            f"columns {', '.join(cols)}")
    if raw.empty:
        raise AnalysisError(f"{path}: no rows")
    known = exp.condition_names
    out, seen, conds_of = [], {}, {}
    for i, row in enumerate(raw[list(cols)].itertuples(index=False), start=2):
        rec = dict(zip(cols, row))
        site, cond = str(rec["site"]).strip(), str(rec["condition"]).strip()
        if not site:
            raise AnalysisError(f"{path}: line {i}, field 'site': empty")
        if cond not in known:
            raise AnalysisError(f"{path}: line {i}, field 'condition': {cond!r} is not a condition of {study} "
                                f"experiment {experiment} (known: {', '.join(known)})")
        if (site, cond) in seen:
            raise AnalysisError(f"{path}: line {i}: site {site!r}, condition {cond!r} again (first on line "
                                f"{seen[site, cond]})")
        seen[site, cond] = i
        conds_of.setdefault(site, []).append(i)
        n = _number(path, i, "n", rec["n"], True)
        if counts:
            mean = _number(path, i, "mean", rec["mean"], False)
            sd = _number(path, i, "sd", rec["sd"], False)
            if n < 2:
                raise AnalysisError(f"{path}: line {i}, field 'n': {n:g}; a mean with an SD needs n >= 2")
            out.append((site, cond, mean, sd, int(n)))
        else:
            x = _number(path, i, "complied", rec["complied"], True)
            if n < 1:
                raise AnalysisError(f"{path}: line {i}, field 'n': 0; a condition row needs participants")
            if x > n:
                raise AnalysisError(f"{path}: line {i}, field 'complied': {x:g} complied of n = {n:g} is impossible")
            out.append((site, cond, int(x), int(n)))
    for site, lines in conds_of.items():
        if len(lines) < 2:
            raise AnalysisError(f"{path}: line {lines[0]}: site {site!r} has one condition only; a site needs "
                                "the conditions of a contrast")
    return pd.DataFrame(out, columns=list(cols))


def pool_table(path: Union[str, Path], study: str, experiment: int = 1, method: str = "REML", knha: bool = False,
               level: float = 0.95, include_original: bool = False):
    """Pool a multi-site replication published as a table of per-site counts (no session files).

    Parameters
    ----------
    path : str or Path
        The table (see :func:`read_site_table`).
    study, experiment
        The declared paradigm and experiment.
    method, knha, level, include_original
        As :func:`analysis.meta.pooling.pool`.

    Returns
    -------
    PoolResult
        ``data_origin`` is ``("table",)`` and ``files`` the table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = p.write_text("site,condition,complied,n\\nA,thats_not_all,14,20\\nA,control,8,20\\n"
    ...                  "B,thats_not_all,11,18\\nB,control,7,19\\nC,thats_not_all,9,15\\nC,control,4,16\\n")
    >>> print(pool_table(p, "burger1986", 1).contrasts[0].headline)   # doctest: +ELLIPSIS
    REML, k = 3: OR = 3.41, 95% CI [1.54, 7.56], ...
    """
    from analysis.meta.pooling import _originals, pool_count_cells, pool_counts

    rows = read_site_table(path, study, experiment)
    note = (f"sites from the table {path} (published per-site counts), not from session files",)
    if "mean" in rows.columns:
        return pool_count_cells(rows, study, int(experiment), method=method, knha=knha, level=level,
                                files=(str(path),), notes=note, data_origin=("table",))
    originals = _originals(study, int(experiment)) if include_original else None
    return pool_counts(rows, study, int(experiment), method=method, knha=knha, level=level, originals=originals,
                       files=(str(path),), notes=note, data_origin=("table",))
