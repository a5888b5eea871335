"""The whole study's rate, original beside replication, where no contrast of the plan is published.

Some famous replications compare one rate, not a contrast: Kunz & Woolcott's
(1976) holiday cards came back from about 20% of the strangers, Meier's (2016)
from about 2%, and neither study publishes its conditions' counts.  For such a
pair :func:`compare_whole_study` puts the two rates side by side and computes
what the published figures allow:

* the replication's 95% CI (Wilson) -- over **every** count its rounded rate
  allows (2% of 755: any of 12..18 replies), never one guessed count;
* consistency: whether the original's rate (with its own rounding) lies inside
  that CI for every such count (``succeeded``), for none (``failed``), or for
  some only (``inconclusive``);
* every other criterion: not computable, with the reason (the original's number
  of cards is not published; a single rate has no control to compare with).

:func:`analysis.replication.verdict.replicate` adds its sentences to the verdicts' notes.

Examples
--------
>>> pub = load_published()
>>> from analysis.replication.verdict import load_replications
>>> reps = load_replications()
>>> c = compare_whole_study("kunz1976", 1, reps[reps.replication == "meier2016"], pub)
>>> c.replication_counts[0], c.replication_counts[-1], c.consistency.decision
(12, 18, 'failed')
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import pandas as pd

from analysis.replication.published import load_published
from analysis.format import pct
from analysis.replication.criteria import (CRITERIA, FAILED, INCONCLUSIVE, NOT_COMPUTABLE, SUCCEEDED, Criterion,
                                           not_computable)
from analysis.results import Result

__all__ = ["WholeStudyComparison", "compare_whole_study"]


@dataclass(frozen=True)
class WholeStudyComparison(Result):
    """The whole study's rate of an original and a replication, and what can be judged from them."""

    _aliases = {"ci_low": "ci_low", "ci_high": "ci_high"}

    study: str
    experiment: int
    measure: str
    original_rate: float
    original_as_printed: str
    original_source: str
    original_n: str
    original_figures: tuple[str, ...]
    replication_n: int
    replication_as_printed: str
    replication_counts: tuple[int, ...]
    ci_low: float
    ci_high: float
    criteria: tuple[Criterion, ...]

    @property
    def consistency(self) -> Criterion:
        return next(c for c in self.criteria if c.criterion == "consistency_ci")

    def lines(self) -> list[str]:
        """The comparison as sentences (the verdicts' notes)."""
        k = self.replication_counts
        counts = f"{k[0]}/{self.replication_n}" if len(k) == 1 else \
            f"any of {k[0]}..{k[-1]} of {self.replication_n} (its rounded rate {self.replication_as_printed})"
        out = [f"whole study ({self.measure}, no contrast of the plan published by both): original "
               f"{self.original_as_printed} ({self.original_source}; n {self.original_n}); replication {counts}, "
               f"95% CI [{pct(self.ci_low)}, {pct(self.ci_high)}] (Wilson"
               + (", the union over those counts)" if len(k) > 1 else ")")]
        if len(self.original_figures) > 1:
            out.append("the original's figures, side by side: " + "; ".join(self.original_figures))
        out += [str(c) for c in self.criteria if c.decision != NOT_COMPUTABLE]
        skipped = [c for c in self.criteria if c.decision == NOT_COMPUTABLE]
        if skipped:
            out.append(f"the other {len(skipped)} criteria: not computable ({skipped[0].reason})")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _whole(rows: pd.DataFrame, measure: str) -> pd.DataFrame:
    return rows[(rows["condition"] == "") & (rows["control"] == "") & (rows["measure"] == measure)]


def _best(rows: pd.DataFrame, stat: str) -> Optional[pd.Series]:
    sel = rows[(rows["statistic"] == stat) & rows["value"].notna()].sort_values(["confidence", "line"], kind="stable")
    return None if sel.empty else sel.iloc[0]


def _rounding(value: float, decimals) -> tuple[float, float]:
    """The interval of values that print as ``value`` at ``decimals`` (half up): [lo, hi)."""
    if decimals is None or pd.isna(decimals):
        return value, value
    half = float(Decimal(1).scaleb(-int(decimals)) / 2)
    return value - half, value + half


def compare_whole_study(study: str, experiment: int, replication_rows: pd.DataFrame,
                        published: Optional[pd.DataFrame] = None,
                        measure: str = "complied") -> Optional[WholeStudyComparison]:
    """The whole-study rates of the original and a published replication; ``None`` if either lacks one.

    The original's rate is its best published whole-study rate (or complied / n
    when both are published); the replication's counts are its published count,
    or every count of its n whose rate rounds to its published rate (at the
    printed decimals, half up).

    Examples
    --------
    >>> from analysis.replication.verdict import load_replications
    >>> reps = load_replications()
    >>> c = compare_whole_study("kunz1976", 1, reps[reps.replication == "meier2016"])
    >>> f"{c.ci_low:.4f} {c.ci_high:.4f}", c.consistency.decision
    ('0.0091 0.0374', 'failed')
    """
    from statsmodels.stats.proportion import proportion_confint

    from analysis.replication.reproduce import attainable_counts

    pub = load_published() if published is None else published
    orig = _whole(pub[(pub["study"] == study) & (pub["experiment"] == int(experiment))], measure)
    rep = _whole(replication_rows, measure)
    o_rate, o_n, o_k = _best(orig, "rate"), _best(orig, "n"), _best(orig, "complied")
    r_rate, r_n, r_k = _best(rep, "rate"), _best(rep, "n"), _best(rep, "complied")
    if r_n is None or (r_rate is None and r_k is None):
        return None
    if o_rate is not None:
        rate, printed, source = float(o_rate["value"]), o_rate["as_printed"], o_rate["source"]
        lo_o, hi_o = _rounding(rate, o_rate["decimals"])
    elif o_k is not None and o_n is not None:
        rate = float(o_k["value"]) / float(o_n["value"])
        printed, source, lo_o, hi_o = f"{int(o_k['value'])}/{int(o_n['value'])}", o_k["source"], rate, rate
    else:
        return None
    n_text = (str(int(o_n["value"])) if o_n is not None else
              next((f"'{a}' (not published exactly)" for a in orig.loc[orig["statistic"] == "n", "as_printed"] if a),
                   "not published"))
    figures = tuple(f"{r['statistic']} {r['as_printed']} ({r['source']}, {r['confidence']})"
                    for _, r in orig.sort_values("line").iterrows() if r["as_printed"])
    n = int(r_n["value"])
    counts = [int(r_k["value"])] if r_k is not None else \
        attainable_counts(float(r_rate["value"]), int(r_rate["decimals"]), n)
    cis = [tuple(float(v) for v in proportion_confint(k, n, alpha=0.05, method="wilson")) for k in counts]
    low, high = min(c[0] for c in cis), max(c[1] for c in cis)
    inside = [lo <= lo_o and hi_o <= hi for lo, hi in cis]
    outside = [hi_o <= lo or lo_o >= hi for lo, hi in cis]
    rep_printed = r_rate["as_printed"] if r_rate is not None else f"{counts[0]}/{n}"
    if all(outside):
        decision, why = FAILED, "outside"
    elif all(inside):
        decision, why = SUCCEEDED, "inside"
    else:
        decision, why = INCONCLUSIVE, "inside for some of the counts the rounding allows and outside for others"
    every = "for every count the replication's rounding allows" if len(counts) > 1 else ""
    sentence = (f"{CRITERIA['consistency_ci']}: {decision}: the original's rate, {printed}, lies {why} the "
                f"replication's 95% CI [{pct(low)}, {pct(high)}]" + (f" {every}" if why in ("inside", "outside")
                                                                       and every else "") + ".")
    consistency = Criterion("consistency_ci", decision, estimate=sum(counts) / len(counts) / n, low=low, high=high,
                            bound=rate, scale="rate", reason=f"the original's rate {why} the replication's CI",
                            sentence=sentence,
                            finding=f"original's {printed} {why.split(' for ')[0]} the 95% CI [{pct(low)}, {pct(high)}]")
    reason = (f"the original's n is not published (as printed: {n_text.split(' (')[0]})" if o_n is None else
              "the other criteria compare a treatment with a control; a whole-study rate has none")
    crit = [consistency if name == "consistency_ci" else not_computable(name, reason) for name in CRITERIA]
    return WholeStudyComparison(study, int(experiment), measure, rate, printed, source, n_text, figures, n,
                                rep_printed, tuple(counts), low, high, tuple(crit))
