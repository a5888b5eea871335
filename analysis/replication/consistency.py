"""Which cell counts fit the published statistics?  The GRIM idea applied to proportions.

Where a study's cell counts are unknown but its N and test statistics are published,
:func:`search_counts` enumerates every table -- every split of N into the experiment's
conditions (each at least 1, or the published cell sizes) and every number who
complied in each -- and keeps those whose statistics, computed under one method,
all agree with the printed values at their printed precision (a value printed with
d decimals stands for the interval ±0.5·10⁻ᵈ around it).  Methods (one method for
every statistic of a table):

* ``pearson``: Pearson χ² without continuity correction, N(ad − bc)² / (r1 r2 c1 c2);
* ``yates``: with Yates' correction as ``scipy.stats.chi2_contingency`` applies it,
  N·max(0, |ad − bc| − N/2)² / (r1 r2 c1 c2);
* ``n-1``: Egon Pearson's N − 1 χ², Pearson × (N − 1)/N;

each p two-tailed from χ²(1).  A table in which a test's margin is zero has no χ² and
fits nothing.  Published rates, if any, are constraints too.  When no table fits all
statistics the search says so, and says which statistics can be fitted together,
and whether a printed χ² and its printed p can be reconciled at all.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import pandas as pd
from scipy import stats

from analysis.declared import declaration
from analysis.errors import ReferenceDataError
from analysis.replication.published import load_published, split_conditions
from analysis.results import Result

__all__ = ["SEARCH_METHODS", "Constraint", "MethodFit", "CountSearch", "search_counts"]

SEARCH_METHODS = {
    "pearson": "Pearson χ² without continuity correction",
    "yates": "Pearson χ² with Yates' continuity correction",
    "n-1": "N − 1 χ² (Egon Pearson)",
}
#: How many fitting tables a result keeps (the count is always exact).
MAX_LISTED = 1000
_EPS = 1e-9


@dataclass(frozen=True)
class Constraint(Result):
    """One published figure the tables must reproduce."""

    _aliases = {'estimate': 'value', 'term': 'label', 'measure': 'statistic'}

    statistic: str
    condition: str
    control: str
    value: float
    decimals: int
    as_printed: str
    source: str = ""

    def _own_row(self, part: str = "") -> dict:
        # ``statistic`` names the published figure (a field older than the base): see ``measure``
        row = super()._own_row(part)
        row["statistic"] = None
        return row

    @property
    def label(self) -> str:
        what = self.condition + (f" vs {self.control}" if self.control else "")
        return f"{self.statistic} of {what} ({self.as_printed})"

    def interval(self) -> tuple[float, float]:
        half = 0.5 * 10.0 ** (-self.decimals)
        return self.value - half - _EPS, self.value + half + _EPS


@dataclass(frozen=True)
class MethodFit(Result):
    """Tables that fit under one method: all constraints, and each constraint left out in turn."""

    _aliases = {'estimate': 'n_fits', 'term': 'method'}
    _measure = "count tables that fit"

    method: str
    description: str
    level: str
    n_fits: int
    tables: tuple[tuple[tuple[int, int], ...], ...]
    #: constraint label left out -> number of tables fitting all the others
    without: dict

    def to_dict(self) -> dict:
        return {"method": self.method, "description": self.description, "level": self.level, "n_fits": self.n_fits,
                "tables": [[{"complied": k, "n": n} for k, n in t] for t in self.tables],
                "without": dict(self.without)}


@dataclass(frozen=True)
class CountSearch(Result):
    """Every count table consistent with a study's published N and statistics."""

    study: str
    experiment: int
    conditions: tuple[str, ...]
    n_total: int
    cell_sizes: Optional[tuple[int, ...]]
    constraints: tuple[Constraint, ...]
    n_tables: int
    fits: tuple[MethodFit, ...]
    notes: tuple[str, ...] = ()

    @property
    def any_fit(self) -> bool:
        """Some table fits every statistic at its printed precision, under some method."""
        return any(f.n_fits for f in self.fits if f.level == "exact")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["any_fit"] = self.any_fit
        return d

    def __str__(self) -> str:
        sizes = ("cell sizes " + ", ".join(map(str, self.cell_sizes)) if self.cell_sizes
                 else "cell sizes unknown (every split, each at least 1)")
        lines = [f"{self.study}, Experiment {self.experiment}: consistency search over {self.n_tables:,} count "
                 f"tables (N = {self.n_total}; {sizes}; conditions {', '.join(self.conditions)})",
                 "  published statistics to fit, at their printed precision:"]
        lines += [f"    {c.label}" for c in self.constraints]
        exact = [f for f in self.fits if f.level == "exact"]
        loose = {f.method: f for f in self.fits if f.level != "exact"}
        for f in exact:
            lines.append(f"  {f.description}: " + (f"{f.n_fits} table(s) fit every statistic at its printed precision"
                                                   if f.n_fits else "no table fits every statistic at its printed "
                                                                    "precision"))
            shown = f
            if not f.n_fits:
                shown = loose[f.method]
                lines.append(f"    within one unit of the last printed digit: {shown.n_fits} table(s)")
            for t in shown.tables[:20]:
                lines.append("      " + "; ".join(f"{c} {k}/{n}" for c, (k, n) in zip(self.conditions, t)))
            if shown.n_fits > 20:
                lines.append(f"      ... and {shown.n_fits - 20} more (--json lists up to {MAX_LISTED})")
            if not f.n_fits:
                for label, n in f.without.items():
                    lines.append(f"    leaving out {label}: {n} table(s) fit the rest at printed precision")
        if not self.any_fit:
            lines.append("  Under no method does any table fit every published statistic at its printed precision.")
        lines += [f"  Note: {n}" for n in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
def _chi2(method: str, a, n1, c, n2):
    """Vectorised χ² of the 2×2 (a of n1) vs (c of n2) under ``method``; NaN where a margin is zero."""
    b, d = n1 - a, n2 - c
    n = n1 + n2
    den = (a + c) * (b + d) * n1 * n2
    diff = np.abs(a * d - b * c).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "yates":
            diff = np.maximum(diff - n / 2, 0.0)
        x = n * diff ** 2 / den
        if method == "n-1":
            x = x * (n - 1) / n
    return np.where(den > 0, x, np.nan)


def _constraints(rows: pd.DataFrame) -> tuple[list[Constraint], list[str]]:
    """The published figures to fit: one per (statistic, condition, control), the best source
    (highest confidence, then file order); conflicting figures left out are named in a note."""
    out, dropped = [], []
    usable = rows[rows["value"].notna() & rows["statistic"].isin(["chi2", "p", "rate"])]
    usable = usable[(usable["statistic"] == "rate") == (usable["control"] == "")]
    for (stat, cond, ctrl), grp in usable.sort_values(["confidence", "line"], kind="stable").groupby(
            ["statistic", "condition", "control"], sort=False):
        r = grp.iloc[0]
        out.append((int(r["line"]), Constraint(stat, cond, ctrl, float(r["value"]), int(r["decimals"]),
                                               r["as_printed"], r["source"])))
        for _, o in grp.iloc[1:].iterrows():
            if float(o["value"]) != float(r["value"]):
                dropped.append(f"{stat} of {cond}" + (f" vs {ctrl}" if ctrl else "") + f": {o['as_printed']} "
                               f"({o['source']}, {o['confidence']}) left out; {r['as_printed']} "
                               f"({r['source']}, {r['confidence']}) used")
    return [c for _, c in sorted(out, key=lambda t: t[0])], dropped


def _compatibility_notes(constraints: list[Constraint]) -> list[str]:
    """Whether each printed χ² and printed p of the same contrast can be reconciled (df = 1)."""
    notes = []
    for c in constraints:
        if c.statistic != "chi2":
            continue
        for p in constraints:
            if p.statistic == "p" and (p.condition, p.control) == (c.condition, c.control):
                lo, hi = c.interval()
                p_hi, p_lo = float(stats.chi2.sf(max(lo, 0), 1)), float(stats.chi2.sf(hi, 1))
                plo, phi = p.interval()
                chi_for_p = (float(stats.chi2.isf(min(phi, 1), 1)), float(stats.chi2.isf(max(plo, 1e-300), 1)))
                if p_hi < plo or p_lo > phi:
                    notes.append(
                        f"{c.as_printed} and {p.as_printed} cannot both hold for one χ²(1) statistic: "
                        f"χ² in [{lo + _EPS:.3f}, {hi - _EPS:.3f}] gives p in [{p_lo:.4f}, {p_hi:.4f}], while "
                        f"{p.as_printed} needs χ² in [{chi_for_p[0]:.3f}, {chi_for_p[1]:.3f}]; the p was not "
                        f"computed from the printed χ² (another method, a table lookup, or a misprint)")
    return notes


def search_counts(study: str, experiment: int, published: Optional[pd.DataFrame] = None,
                  methods=tuple(SEARCH_METHODS)) -> CountSearch:
    """Enumerate the count tables consistent with ``study``'s published N and statistics.

    Parameters
    ----------
    study : str
    experiment : int
    published : DataFrame, optional
        :func:`analysis.replication.published.load_published` output.

    Raises
    ------
    ReferenceDataError
        The experiment has no published N, or no published statistic to fit.

    Examples
    --------
    >>> s = search_counts("cialdini1975", 1)
    >>> [(f.method, f.level, f.n_fits) for f in s.fits if f.n_fits]   # χ² 6.4145 is printed 6.42
    [('pearson', 'within_last_digit', 1)]
    >>> s.fits[3].tables
    (((12, 24), (6, 24), (4, 24)),)
    """
    pub = load_published() if published is None else published
    rows = pub[(pub["study"] == study) & (pub["experiment"] == int(experiment)) & (pub["measure"] == "complied")]
    if rows.empty:
        raise ReferenceDataError(f"{study} Experiment {experiment}: no published figures to search with")
    try:
        conds = tuple(declaration(study).experiment(int(experiment)).condition_names)
    except Exception:  # not a declared paradigm: the conditions named in the published rows
        conds = tuple(dict.fromkeys(p for c in list(rows["condition"]) + list(rows["control"])
                                    for p in split_conditions(c)))
    known = rows[rows["value"].notna()]
    sizes = []
    for c in conds:
        r = known[(known["condition"] == c) & (known["statistic"] == "n")]
        sizes.append(int(r.iloc[0]["value"]) if len(r) else None)
    total_rows = known[(known["condition"] == "") & (known["statistic"] == "n")]
    if all(s is not None for s in sizes):
        n_total = sum(sizes)
    elif len(total_rows):
        n_total = int(total_rows.iloc[0]["value"])
    else:
        raise ReferenceDataError(f"{study} Experiment {experiment}: neither the total N nor every cell size is "
                                 "published: nothing bounds the search")
    constraints, dropped = _constraints(rows)
    if not any(c.statistic in ("chi2", "p") for c in constraints):
        raise ReferenceDataError(f"{study} Experiment {experiment}: no published χ² or p to fit")
    index = {c: i for i, c in enumerate(conds)}
    for c in constraints:
        for part in split_conditions(c.condition) + split_conditions(c.control):
            if part not in index:
                raise ReferenceDataError(f"{study} Experiment {experiment}: {c.label} names {part!r}, not a "
                                         f"condition of the experiment ({', '.join(conds)})")
    fixed = tuple(sizes) if all(s is not None for s in sizes) else None
    splits = [fixed] if fixed else _compositions(n_total, len(conds), sizes)
    # each constraint as an interval of the quantity computed per table: a p becomes the
    # χ² interval it implies (p is monotone in χ²), so no p is computed per table
    levels = {"exact": 0.5, "within_last_digit": 1.0}
    bounds = {lv: [_bounds(c, w) for c in constraints] for lv, w in levels.items()}
    tests = list(dict.fromkeys((c.condition, c.control) for c in constraints if c.statistic != "rate"))
    kept = {(lv, m): [] for lv in levels for m in methods}
    counts = {(lv, m): 0 for lv in levels for m in methods}
    without = {(lv, m): {c.label: 0 for c in constraints} for lv in levels for m in methods}
    n_tables = 0
    for ns in splits:
        grids = np.meshgrid(*[np.arange(n + 1) for n in ns], indexing="ij", copy=False)
        ks = [g.ravel() for g in grids]
        n_tables += ks[0].size
        rates = {i: ks[i] / ns[i] for i in {index[c.condition] for c in constraints if c.statistic == "rate"}}
        for m in methods:
            chis = {}
            for cond, ctrl in tests:
                t = [index[p] for p in split_conditions(cond)]
                u = [index[p] for p in split_conditions(ctrl)]
                chis[(cond, ctrl)] = _chi2(m, sum(ks[i] for i in t), sum(ns[i] for i in t),
                                           sum(ks[i] for i in u), sum(ns[i] for i in u))
            for lv in levels:
                ok = []
                for c, (lo, hi) in zip(constraints, bounds[lv]):
                    v = rates[index[c.condition]] if c.statistic == "rate" else chis[(c.condition, c.control)]
                    with np.errstate(invalid="ignore"):
                        ok.append((v >= lo) & (v <= hi))
                allok = np.logical_and.reduce(ok)
                hits = np.flatnonzero(allok)
                counts[(lv, m)] += hits.size
                room = max(0, MAX_LISTED - len(kept[(lv, m)]))
                for h in hits[:room]:
                    kept[(lv, m)].append(tuple((int(ks[i][h]), int(ns[i])) for i in range(len(conds))))
                if len(ok) > 1:
                    for j, c in enumerate(constraints):
                        without[(lv, m)][c.label] += int(np.count_nonzero(
                            np.logical_and.reduce([o for i, o in enumerate(ok) if i != j])))
    fits = tuple(MethodFit(m, SEARCH_METHODS[m], lv, counts[(lv, m)], tuple(_by_balance(kept[(lv, m)])),
                           without[(lv, m)] if len(constraints) > 1 else {})
                 for lv in levels for m in methods)
    notes = _compatibility_notes(constraints) + dropped
    if fixed is None:
        notes.append("cell sizes are not published: every split of N into the conditions (each at least 1) was tried")
    notes.append("tables are listed most balanced first (smallest spread of cell sizes)")
    return CountSearch(study, int(experiment), conds, n_total, fixed, tuple(constraints), n_tables, fits,
                       tuple(notes))


def _bounds(c: Constraint, units: float) -> tuple[float, float]:
    """The interval a table's χ² (or rate) must fall in for ``c``, ``units`` of the last printed digit
    either side of the printed value (0.5: the printed precision; 1: within the last digit)."""
    half = units * 10.0 ** (-c.decimals)
    lo, hi = c.value - half - _EPS, c.value + half + _EPS
    if c.statistic != "p":
        return lo, hi
    lo, hi = max(lo, 0.0), min(hi, 1.0)
    return (float(stats.chi2.isf(hi, 1)) if hi < 1 else 0.0,
            float(stats.chi2.isf(lo, 1)) if lo > 0 else math.inf)


def _by_balance(tables):
    return sorted(tables, key=lambda t: (max(n for _, n in t) - min(n for _, n in t), t))


def _compositions(total: int, parts: int, sizes):
    """Every tuple of ``parts`` positive cell sizes summing to ``total`` (known sizes held fixed)."""
    free = [i for i, s in enumerate(sizes) if s is None]
    rest = total - sum(s for s in sizes if s is not None)
    if not free:
        return [tuple(sizes)] if rest == 0 else []
    out = []
    for cut in itertools.combinations(range(1, rest), len(free) - 1):
        bounds = (0,) + cut + (rest,)
        vals = [bounds[i + 1] - bounds[i] for i in range(len(free))]
        s = list(sizes)
        for i, v in zip(free, vals):
            s[i] = v
        out.append(tuple(s))
    return out
