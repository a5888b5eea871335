"""Recompute published statistics from published cell counts.

For one study (and experiment), :func:`reproduce` rebuilds participant-level data
from the published counts (or from a rate and a cell size), runs the tests the
paper reports, and lists each published figure beside the recomputed one, with
match/mismatch judged at the published precision:

* ``exact`` -- the recomputed value, rounded (half up) to the printed decimals,
  is the printed value;
* ``within_last_digit`` -- off by at most one unit of the last printed digit
  (what hand calculation from rounded intermediate values produces); counted as a match;
* ``mismatch``.

Where the usual method (Pearson χ² without correction, two-tailed p) does not
match but another common method does (Yates' correction, N − 1 χ², likelihood-ratio
G, one-tailed p, Fisher's exact), the check names that method.  Where cell sizes
are unknown, what can be computed from rates alone (Cohen's h, the risk
difference without CI) is listed, and what cannot is said plainly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import pandas as pd
from scipy import stats

from analysis.stats.binary import cohens_h, fisher_exact_p, newcombe_diff_ci, odds_ratio_ci, pearson_chi2
from analysis.declared import declaration, known_studies
from analysis.errors import ReferenceDataError
from analysis.replication.published import load_published, split_conditions
from analysis.format import format_number, pct, round_half_up
from analysis.results import Result, Results, jsonable

__all__ = ["Check", "Reproduction", "Reproductions", "reproduce", "reproduce_experiment", "agreement",
           "chi2_candidates", "attainable_counts"]

EXACT, CLOSE, MISMATCH = "exact", "within_last_digit", "mismatch"
NOT_COMPUTABLE, NOT_PUBLISHED, NOT_AVAILABLE = "not_computable", "no_published_value", "not_available"


# --------------------------------------------------------------------------- #
# Result objects
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Check(Result):
    """One published figure beside its recomputation.

    ``match`` is True (exact or within one unit of the last printed digit), False
    (mismatch) or None (nothing to compare: the figure is not available, or cannot
    be recomputed from what is published, or is a derived figure with no
    published counterpart).  ``agreement`` says which.
    """

    _aliases = {"estimate": "recomputed", "term": "label", "measure": "statistic"}

    statistic: str
    condition: str
    control: str
    measure: str
    published: Optional[float]
    as_printed: str
    recomputed: Optional[float]
    match: Optional[bool]
    agreement: str
    method: str
    source: str = ""
    confidence: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        """``statistic of condition [vs control]``: what the row checks."""
        return f"{self.statistic} of {self.condition}" + (f" vs {self.control}" if self.control else "")

    def _own_row(self, part: str = "") -> dict:
        # ``statistic`` names the published figure here (a field, and a --json key, older than the
        # base): the frame carries it as ``measure`` and leaves the numeric ``statistic`` column empty
        row = super()._own_row(part)
        row["statistic"] = None
        return row

    @property
    def known_conflict(self) -> bool:
        """The published row is flagged as conflicting with other sources (its note starts ``CONFLICT``)."""
        return self.note.startswith("CONFLICT") or "; CONFLICT" in self.note

    def __str__(self) -> str:
        what = self.condition + (f" vs {self.control}" if self.control else "")
        pub = self.as_printed or ("NA" if self.published is None else format_number(self.published, 3))
        missing = self.recomputed is None or (isinstance(self.recomputed, float) and math.isnan(self.recomputed))
        if missing:
            rec = "NA"
        elif self.as_printed.rstrip().endswith("%") or (self.statistic == "rate" and not self.as_printed):
            rec = pct(self.recomputed, 2)  # published and recomputed on one scale: percent
        else:
            rec = format_number(self.recomputed, 4)
        return f"{self.statistic:<16} {what:<58} published {pub:<14} recomputed {rec:<9} {self.agreement}"


@dataclass(frozen=True)
class Reproduction(Result):
    """Every check of one experiment of one study (``experiment`` None: not numbered by the source)."""

    study: str
    experiment: Optional[int]
    checks: tuple[Check, ...]
    counts: dict
    conflicts: tuple[str, ...]
    cannot: tuple[str, ...]
    notes: tuple[str, ...]
    #: how ``compliance list`` numbers this experiment, where it differs from the source
    numbering: str = ""

    @property
    def n_match(self) -> int:
        return sum(1 for c in self.checks if c.match is True)

    @property
    def n_mismatch(self) -> int:
        """Mismatches, not counting figures from a source already known to conflict with the others."""
        return sum(1 for c in self.checks if c.match is False and not c.known_conflict)

    @property
    def n_known_conflict(self) -> int:
        """Mismatches of figures from a source known to conflict (shown under "Source conflict")."""
        return sum(1 for c in self.checks if c.match is False and c.known_conflict)

    def __str__(self) -> str:
        exp = f"Experiment {self.experiment}" if self.experiment is not None else "(experiment not numbered)"
        known = (f", {self.n_known_conflict} from a source known to conflict (not counted as a mismatch)"
                 if self.n_known_conflict else "")
        if self.numbering:
            exp += f" ({self.numbering})"
        lines = [f"{self.study}, {exp}: {self.n_match} match, {self.n_mismatch} mismatch{known}, "
                 f"{sum(1 for c in self.checks if c.match is None)} not compared"]
        if self.counts:
            lines.append("  cell counts used: " + "; ".join(
                f"{c} {x}/{n}" + (f" ({how})" if how else "") for c, (x, n, how) in self.counts.items()))
        for c in self.checks:
            lines.append(f"  {c}")
            if c.method:
                lines.append(f"      method: {c.method}")
            if c.note:
                lines.append(f"      note: {c.note}")
        for s in self.conflicts:
            lines.append(f"  Source conflict: {s}")
        for s in self.cannot:
            lines.append(f"  Cannot recompute: {s}")
        for s in self.notes:
            lines.append(f"  Note: {s}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"study": self.study, "experiment": self.experiment,
                "checks": [c.to_dict() for c in self.checks],
                "counts": {k: {"complied": x, "n": n, "derived": how} for k, (x, n, how) in self.counts.items()},
                "conflicts": list(self.conflicts), "cannot": list(self.cannot), "notes": list(self.notes),
                "numbering": self.numbering,
                "n_match": self.n_match, "n_mismatch": self.n_mismatch, "n_known_conflict": self.n_known_conflict}


# --------------------------------------------------------------------------- #
# Matching at printed precision
# --------------------------------------------------------------------------- #
def _round(x: float, decimals: int) -> Decimal:
    return round_half_up(x, decimals)


def agreement(recomputed: float, published: float, decimals: int) -> str:
    """``exact``, ``within_last_digit`` or ``mismatch`` at ``decimals`` printed decimals.

    Examples
    --------
    >>> agreement(0.011319, 0.011, 3), agreement(6.4145, 6.42, 2), agreement(5.11, 6.42, 2)
    ('exact', 'within_last_digit', 'mismatch')
    """
    if recomputed is None or math.isnan(recomputed):
        return NOT_COMPUTABLE
    if _round(recomputed, decimals) == _round(published, decimals):
        return EXACT
    if abs(Decimal(repr(float(recomputed))) - _round(published, decimals)) <= Decimal(1).scaleb(-decimals):
        return CLOSE
    return MISMATCH


def attainable_counts(rate: float, decimals: int, n: int) -> list[int]:
    """Counts k (0..n) whose k/n rounds to ``rate`` at ``decimals`` (rates as proportions).

    Examples
    --------
    >>> attainable_counts(0.63, 2, 40)
    [25]
    >>> attainable_counts(0.5, 1, 7)
    []
    """
    return [k for k in range(n + 1) if _round(k / n, decimals) == _round(rate, decimals)]


def _smallest_n(rate: float, decimals: int, n_max: int = 200) -> Optional[tuple[int, int]]:
    for n in range(1, n_max + 1):
        ks = attainable_counts(rate, decimals, n)
        if ks:
            return ks[0], n
    return None


# --------------------------------------------------------------------------- #
# Candidate methods for a 2×2 test
# --------------------------------------------------------------------------- #
def chi2_candidates(x1: int, n1: int, x2: int, n2: int) -> dict[str, tuple[float, float]]:
    """χ² statistic and two-tailed p under common methods, for the 2×2 table.

    Keys: ``pearson`` (no continuity correction), ``yates``, ``n-1`` (Egon Pearson's
    N − 1 χ² = Pearson × (N − 1)/N), ``likelihood-ratio`` (G).  Values: (statistic, p).

    Examples
    --------
    >>> c = chi2_candidates(25, 40, 12, 40)
    >>> sorted(c)
    ['likelihood-ratio', 'n-1', 'pearson', 'yates']
    >>> round(c['pearson'][0], 4)
    8.4978
    """
    table = [[x1, n1 - x1], [x2, n2 - x2]]
    n = n1 + n2
    pear = pearson_chi2(table, correction=False, warn=False)
    yat = pearson_chi2(table, correction=True, warn=False)
    out = {"pearson": (pear.statistic, pear.pvalue), "yates": (yat.statistic, yat.pvalue)}
    if not math.isnan(pear.statistic):
        n1chi = pear.statistic * (n - 1) / n
        out["n-1"] = (n1chi, float(stats.chi2.sf(n1chi, 1)))
        g = stats.chi2_contingency(table, correction=False, lambda_="log-likelihood")
        out["likelihood-ratio"] = (float(g.statistic), float(g.pvalue))
    return out


_METHOD_TEXT = {
    "pearson": "Pearson χ² without continuity correction",
    "yates": "Pearson χ² with Yates' continuity correction",
    "n-1": "N − 1 χ² (Egon Pearson)",
    "likelihood-ratio": "likelihood-ratio G",
}


def _p_candidates(x1, n1, x2, n2) -> dict[str, float]:
    out = {}
    for k, (_, p) in chi2_candidates(x1, n1, x2, n2).items():
        out[f"{_METHOD_TEXT[k]}, two-tailed"] = p
    for k, (_, p) in chi2_candidates(x1, n1, x2, n2).items():
        out[f"{_METHOD_TEXT[k]}, one-tailed (p/2)"] = p / 2
    out["Fisher's exact, two-sided"] = fisher_exact_p(x1, n1, x2, n2)
    alt = "greater" if x1 / n1 >= x2 / n2 else "less"
    out["Fisher's exact, one-sided"] = float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]],
                                                                alternative=alt).pvalue)
    return out


def _best(candidates: dict[str, float], published: float, decimals: int) -> tuple[str, float, str]:
    """First candidate (in order) that matches exactly, else within the last digit, else the first."""
    for level in (EXACT, CLOSE):
        for name, v in candidates.items():
            if agreement(v, published, decimals) == level:
                return name, v, level
    name, v = next(iter(candidates.items()))
    return name, v, agreement(v, published, decimals)


# --------------------------------------------------------------------------- #
# Reproduction
# --------------------------------------------------------------------------- #
def _rows_for(pub: pd.DataFrame, study: str, experiment: Optional[int]) -> pd.DataFrame:
    sel = pub[pub["study"] == study]
    if experiment is None:
        return sel[sel["experiment"].isna()]
    return sel[sel["experiment"] == experiment]


def _first_value(rows: pd.DataFrame) -> Optional[pd.Series]:
    rows = rows[rows["value"].notna()].sort_values(["confidence", "line"], kind="stable")
    return None if rows.empty else rows.iloc[0]


def _cell_counts(rows: pd.DataFrame) -> tuple[dict, list[str]]:
    """{(measure, condition): (complied, n, how)} from published counts, or rate × n."""
    counts: dict = {}
    notes: list[str] = []
    for (measure, cond), grp in rows[rows["condition"] != ""].groupby(["measure", "condition"], sort=False):
        n_row = _first_value(grp[grp["statistic"] == "n"])
        x_row = _first_value(grp[grp["statistic"] == "complied"])
        r_row = _first_value(grp[grp["statistic"] == "rate"])
        if n_row is None:
            continue
        n = int(n_row["value"])
        if x_row is not None:
            counts[(measure, cond)] = (int(x_row["value"]), n, "")
        elif r_row is not None:
            ks = attainable_counts(float(r_row["value"]), int(r_row["decimals"]), n)
            if ks:
                counts[(measure, cond)] = (ks[0], n, f"derived: {r_row['as_printed']} of {n}")
                if len(ks) > 1:
                    notes.append(f"{cond}: {r_row['as_printed']} of n = {n} fits {', '.join(map(str, ks))}; "
                                 f"used {ks[0]}")
            else:
                notes.append(f"{cond}: {r_row['as_printed']} is not attainable with n = {n}")
    return counts, notes


def _pooled(counts: dict, measure: str, label: str) -> Optional[tuple[int, int]]:
    parts = split_conditions(label)
    if not parts or any((measure, p) not in counts for p in parts):
        return None
    return (sum(counts[(measure, p)][0] for p in parts), sum(counts[(measure, p)][1] for p in parts))


def _participants(counts: dict) -> pd.DataFrame:
    """Participant-level rows (measure, condition, complied) rebuilt from the counts."""
    recs = []
    for (measure, cond), (x, n, _) in counts.items():
        recs += [{"measure": measure, "condition": cond, "complied": int(i < x)} for i in range(n)]
    return pd.DataFrame(recs, columns=["measure", "condition", "complied"])


def _counts_from_participants(people: pd.DataFrame, counts: dict) -> dict:
    out = {}
    for (measure, cond), (_, _, how) in counts.items():
        sub = people[(people["measure"] == measure) & (people["condition"] == cond)]["complied"]
        out[(measure, cond)] = (int(sub.sum()), int(len(sub)), how)
    return out


def _rate_of(rows: pd.DataFrame, counts: dict, measure: str, label: str) -> tuple[Optional[float], str]:
    pooled = _pooled(counts, measure, label)
    if pooled is not None and pooled[1] > 0:
        return pooled[0] / pooled[1], "counts"
    r = _first_value(rows[(rows["measure"] == measure) & (rows["condition"] == label) & (rows["statistic"] == "rate")])
    if r is not None:
        return float(r["value"]), "rates"
    return None, ""


def _declared_pairs(study: str, experiment: Optional[int]) -> list[tuple[str, str]]:
    try:
        if study not in known_studies() or experiment is None:
            return []
        exp = declaration(study).experiment(experiment)
    except Exception:  # the paradigm may not declare this experiment: use the published pairs only
        return []
    return [(k.treatment, "+".join(k.control)) for k in exp.contrasts if k.factor is None]


def reproduce_experiment(study: str, experiment: Optional[int],
                         published: Optional[pd.DataFrame] = None) -> Reproduction:
    """Checks of one experiment (``experiment=None``: figures the source does not number).

    Raises
    ------
    ReferenceDataError
        If the study or experiment is not in the reference data.

    Examples
    --------
    >>> r = reproduce_experiment('cialdini1975', 1)
    >>> r.study, r.experiment, r.n_mismatch
    ('cialdini1975', 1, 0)
    """
    pub = load_published() if published is None else published
    if study not in set(pub["study"]):
        raise ReferenceDataError(f"unknown study {study!r} in the published reference data; known: "
                                 + ", ".join(sorted(set(pub["study"]))))
    rows = _rows_for(pub, study, experiment)
    if rows.empty:
        known = sorted({int(e) for e in pub.loc[pub["study"] == study, "experiment"].dropna()})
        raise ReferenceDataError(f"{study} has no experiment {experiment} in the published reference data; "
                                 f"known: {', '.join(map(str, known)) or 'none numbered'}")
    counts, notes = _cell_counts(rows)
    whole = f"Experiment {experiment}" if experiment is not None else "the experiment"  # no condition named
    # Rebuild participants and count them again: the tests run on participant-level data.
    counts = _counts_from_participants(_participants(counts), counts)
    out = _Checks()
    for _, r in rows.sort_values("line").iterrows():
        _check_row(out, r, counts, whole)
    _effect_checks(out, rows, counts, study, experiment)
    counts_out = {cond if measure == "complied" else f"{cond} [{measure}]": v for (measure, cond), v in counts.items()}
    return Reproduction(study, experiment, tuple(out.checks), counts_out, _source_conflicts(rows, whole),
                        tuple(dict.fromkeys(out.cannot)), tuple(notes),
                        _declared_numbering(study, experiment, rows, pub))


class _Checks:
    """The checks of one experiment as they are made, and what cannot be recomputed."""

    def __init__(self):
        self.checks: list[Check] = []
        self.cannot: list[str] = []

    def add(self, **kw) -> None:
        kw.setdefault("note", "")
        self.checks.append(Check(**kw))


def _joined(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def _check_row(out: _Checks, r, counts: dict, whole: str) -> None:
    """The check of one published figure: a rate, a test (χ² or p), or what cannot be recomputed."""
    stat, cond, ctrl, measure = r["statistic"], r["condition"], r["control"], r["measure"]
    base = dict(statistic=stat, condition=cond, control=ctrl, measure=measure,
                as_printed=r["as_printed"], source=r["source"], confidence=str(r["confidence"]))
    pubv = None if pd.isna(r["value"]) else float(r["value"])
    if stat in ("n", "complied") and pubv is not None and measure in {m for m, _ in counts} \
            and (measure, cond) in counts:
        return  # inputs, shown under "cell counts used"
    if stat == "rate" and pubv is not None:
        return _check_rate(out, r, base, counts, pubv)
    if stat in ("chi2", "p"):
        return _check_test(out, r, base, counts, pubv)
    if pubv is None:
        out.add(**base, published=None, recomputed=None, match=None, agreement=NOT_AVAILABLE, method="",
                note=r["note"] or "not available")
        out.cannot.append(f"{stat} of {cond or whole}" + (f" vs {ctrl}" if ctrl else "") + ": " +
                          (r["note"] or "not available"))
        return
    # published, but nothing we can recompute from the reference data (means, r, k, ...)
    why = ("a cell mean is an input: without SDs and cell sizes no F test can be recomputed"
           if stat == "mean" else "reported as published; the reference data hold nothing to recompute it from")
    out.add(**base, published=pubv, recomputed=None, match=None, agreement=NOT_COMPUTABLE, method="",
            note=_joined(r["note"], why))


def _check_rate(out: _Checks, r, base: dict, counts: dict, pubv: float) -> None:
    """A published rate against complied / n of the counts used."""
    measure, cond = r["measure"], r["condition"]
    c = _pooled(counts, measure, cond)
    if c is None:
        sm = _smallest_n(pubv, int(r["decimals"]))
        hint = f"; the smallest cell consistent with {r['as_printed']} is {sm[0]}/{sm[1]}" if sm else ""
        out.add(**base, published=pubv, recomputed=None, match=None, agreement=NOT_COMPUTABLE,
                method="", note=f"cell size not published: the rate is an input, not a check{hint}")
        return
    x, n = c
    a = agreement(x / n, pubv, int(r["decimals"]))
    note = r["note"]
    if a == MISMATCH:
        ks = attainable_counts(pubv, int(r["decimals"]), n)
        note = _joined(note, f"{r['as_printed']} is not attainable with n = {n}" if not ks else
                       f"{r['as_printed']} of {n} would be {ks[0]}/{n}, the counts used give {x}/{n}")
    how = counts.get((measure, cond), (0, 0, ""))[2]
    if how and a != MISMATCH and how.startswith(f"derived: {r['as_printed']} "):
        note = _joined(note, f"the count was derived from this rate and n, so the check is only that "
                             f"{r['as_printed']} is attainable with n = {n}")
    out.add(**base, published=pubv, recomputed=x / n, match=a in (EXACT, CLOSE), agreement=a,
            method="complied / n", note=note)


def _check_test(out: _Checks, r, base: dict, counts: dict, pubv: Optional[float]) -> None:
    """A published χ² or p against every method's value from the counts used; the best match is kept."""
    stat, cond, ctrl, measure = r["statistic"], r["condition"], r["control"], r["measure"]
    t, k = _pooled(counts, measure, cond), _pooled(counts, measure, ctrl)
    if t is None or k is None:
        out.add(**base, published=pubv, recomputed=None, match=None,
                agreement=NOT_AVAILABLE if pubv is None else NOT_COMPUTABLE, method="",
                note=_joined(r["note"], "cell counts not published: no test can be recomputed"))
        out.cannot.append(f"{stat} of {cond} vs {ctrl}: cell counts not published")
        return
    (x1, n1), (x2, n2) = t, k
    if stat == "chi2":
        cands = {_METHOD_TEXT[m]: s for m, (s, _) in chi2_candidates(x1, n1, x2, n2).items()}
    else:
        cands = _p_candidates(x1, n1, x2, n2)
        if r["tails"] == 2:
            cands = dict(sorted(cands.items(), key=lambda kv: "one" in kv[0]))
    if pubv is None:
        name, v = next(iter(cands.items()))
        derived = any(counts[(measure, p)][2] for p in split_conditions(cond) + split_conditions(ctrl))
        out.add(**base, published=None, recomputed=v, match=None, agreement=NOT_PUBLISHED, method=name,
                note=_joined(r["note"], "recomputed from " + ("counts derived from rates and n" if derived
                                                              else "the published counts")))
        return
    first = next(iter(cands))
    name, v, a = _best(cands, pubv, int(r["decimals"]))
    others = "; ".join(f"{m}: {format_number(s, 4)}" for m, s in cands.items() if m != name)
    note = r["note"]
    if name != first and a != MISMATCH:
        note = _joined(note, f"does not match under {first} ({format_number(cands[first], 4)}): "
                             f"the paper must have used {name}")
    if a == CLOSE:
        note = _joined(note, "off by at most one unit of the last printed digit, as hand calculation "
                             "from rounded intermediate values would give")
    out.add(**base, published=pubv, recomputed=v, match=a in (EXACT, CLOSE), agreement=a, method=name,
            note=_joined(note, f"other methods: {others}"))


def _effect_checks(out: _Checks, rows: pd.DataFrame, counts: dict, study: str, experiment) -> None:
    """Derived effect sizes (Cohen's h, RD, OR) for every compared pair, from analysis.stats.effects."""
    pairs = list(dict.fromkeys(
        [(r["condition"], r["control"], r["measure"]) for _, r in rows.iterrows() if r["control"]]
        + [(t, c, "complied") for t, c in _declared_pairs(study, experiment)]))
    for t, c, measure in pairs:
        p1, how1 = _rate_of(rows, counts, measure, t)
        p2, how2 = _rate_of(rows, counts, measure, c)
        if p1 is None or p2 is None:
            continue
        both_counts = how1 == how2 == "counts"
        src = "the cell counts used" if both_counts else "published rates"
        base = dict(condition=t, control=c, measure=measure, published=None, as_printed="", match=None,
                    agreement=NOT_PUBLISHED, source="derived", confidence="")
        out.add(statistic="cohens_h", recomputed=cohens_h(p1, p2), method=f"2·asin√p1 − 2·asin√p2 from {src}",
                **base)
        if both_counts:
            (x1, n1), (x2, n2) = _pooled(counts, measure, t), _pooled(counts, measure, c)
            lo, hi = newcombe_diff_ci(x1, n1, x2, n2)
            orr, olo, ohi, _ = odds_ratio_ci(x1, n1, x2, n2)
            out.add(statistic="risk_difference", recomputed=p1 - p2, method=f"p1 − p2 from {src}",
                    note=f"95% CI [{format_number(lo, 3)}, {format_number(hi, 3)}] (Newcombe hybrid score)", **base)
            out.add(statistic="odds_ratio", recomputed=orr, method="Woolf log CI",
                    note=f"95% CI [{format_number(olo)}, {format_number(ohi)}]", **base)
        else:
            out.add(statistic="risk_difference", recomputed=p1 - p2, method=f"p1 − p2 from {src}",
                    note="no CI: cell sizes not published", **base)
            out.cannot.append(f"CIs, chi2 and p of {t} vs {c}: cell sizes not published")


def _source_conflicts(rows: pd.DataFrame, whole: str) -> tuple[str, ...]:
    """Figures of one statistic that sources print differently, side by side."""
    conflicts = []
    for (cond, ctrl, measure, stat), grp in rows.groupby(["condition", "control", "measure", "statistic"], sort=False):
        vals = grp[grp["as_printed"] != ""]
        if vals["as_printed"].nunique() > 1:
            conflicts.append(f"{stat} of {cond or whole}" + (f" vs {ctrl}" if ctrl else "") + ": " + " vs ".join(
                f"{v['as_printed']} ({v['source']}, {v['confidence']})" for _, v in vals.iterrows()))
    return tuple(conflicts)


def _declared_numbering(study: str, experiment: Optional[int], rows: pd.DataFrame, pub: pd.DataFrame) -> str:
    """How ``compliance list`` numbers these figures, when that differs from the source's numbering."""
    try:
        declared = {e.number: e for e in declaration(study).experiments}
    except Exception:  # a study in the reference data that is not declared as a paradigm
        return ""
    def declared_as(rws) -> list[int]:
        conds = set()
        for c in list(rws["condition"]) + list(rws["control"]):
            conds.update(split_conditions(c))
        return [n for n, e in declared.items() if conds and conds <= set(e.condition_names)]

    if experiment is None:
        same = declared_as(rows)
        return f"compliance list: Experiment {same[0]}; the source does not number it" if len(same) == 1 else ""
    unnumbered = pub[(pub["study"] == study) & pub["experiment"].isna()]
    if experiment in declared and not declared_as(rows) and experiment in declared_as(unnumbered):
        return (f"the paper's Experiment {experiment}; compliance list's Experiment {experiment} is the "
                "figures the source does not number, below")
    return ""


class Reproductions(Results):
    """The :class:`Reproduction` of each experiment of a study: a list (``(e1,) = reproduce(...)``)
    whose ``str`` is every experiment's checks, as ``compliance reproduce`` prints them."""


def reproduce(study: str, experiment: Optional[int] = None,
              published: Optional[pd.DataFrame] = None) -> Reproductions:
    """Reproduce the published statistics of ``study`` (every experiment, or one).

    Parameters
    ----------
    study : str
        A study id of the reference data (``cialdini1975``, ``burger1986``, ...).
    experiment : int, optional
        One experiment; default all, including figures the source does not number.

    Returns
    -------
    Reproductions
        A list, one :class:`Reproduction` per experiment; ``print()`` shows them all.

    Examples
    --------
    >>> res = reproduce("cialdini1975", 1)
    >>> type(res).__name__, len(res)
    ('Reproductions', 1)
    >>> print(str(res).splitlines()[0])
    cialdini1975, Experiment 1: 6 match, 0 mismatch, 2 from a source known to conflict (not counted as a mismatch), 12 not compared
    >>> (e1,) = reproduce("cialdini1975", 1)
    >>> [(c.as_printed, c.agreement) for c in e1.checks if c.statistic == "chi2"]
    [('chi2 = .50', 'within_last_digit'), ('chi2 = 6.42', 'within_last_digit')]
    """
    pub = load_published() if published is None else published
    if study not in set(pub["study"]):
        raise ReferenceDataError(f"unknown study {study!r} in the published reference data; known: "
                                 + ", ".join(sorted(set(pub["study"]))))
    if experiment is not None:
        return Reproductions([reproduce_experiment(study, int(experiment), pub)])
    exps = pub.loc[pub["study"] == study, "experiment"]
    numbered = sorted({int(e) for e in exps.dropna()})
    out = [reproduce_experiment(study, e, pub) for e in numbered]
    if exps.isna().any():
        out.append(reproduce_experiment(study, None, pub))
    return Reproductions(out)


def to_json(reproductions: list[Reproduction]):
    """JSON-safe form: one object, or a list when there are several."""
    d = [jsonable(r) for r in reproductions]
    return d[0] if len(d) == 1 else d
