"""Pooling on the other effect measures: count plans (SMD, ROM), whole-study rates (PLO), the
factorial interaction (log ratio of odds ratios).

Each site gives one effect ``yi`` with its sampling variance ``vi`` (from
:mod:`analysis.stats.effects`, the one home of every effect formula), and the sites are pooled by
:func:`analysis.meta.random.random_effects` (DL, REML and PM; the prediction interval), exactly as
the binary contrasts are.  One :class:`EffectPool` per measure and contrast.

* Count plans (Regan, 1971): for each confirmatory contrast, the cells on each side are one group
  per site (its mean and SD over the participants of those cells, from the cells' n, means and
  SDs), and the site's effect is Hedges' g (``SMD``) and the log ratio of means (``ROM``).
* Whole-study rate (Kunz & Woolcott, Meier): every condition of a site together, its rate of
  compliance as a logit proportion (``PLO``).
* Factorial plans (Pollock et al., 1998): per site, the log odds ratio of the technique at one level
  of the moderator minus that at the other (log ratio of odds ratios), variance the sum of the two
  Woolf variances, each table under the zero-cell rule.

Examples
--------
>>> p = pool_effect("rate", "PLO", ["A", "B", "C"], [-1.2, -0.8, -1.5], [0.1, 0.12, 0.09])
>>> p.headline.k, p.scale_name
(3, 'proportion')
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from analysis.declared import control_labels
from analysis.errors import AnalysisError
from analysis.format import format_number
from analysis.meta.random import ESTIMATORS, random_effects
from analysis.results import Result, jsonable
from analysis.stats.effects import (ZERO_CELL_RULE, hedges_g, log_odds_ratio, log_ratio_of_means,
                                    logit_proportion, wald_ci)

__all__ = ["MEASURES", "SiteValue", "EffectPool", "pool_effect", "group_moments"]

#: Each measure: (what it is, the scale it prints on, how it is back-transformed for printing).
MEASURES = {
    "SMD": ("standardised mean difference (Hedges' g, exact small-sample correction; metafor escalc SMD, "
            "vtype LS)", "g", "identity"),
    "ROM": ("log ratio of means (metafor escalc ROM)", "ratio of means", "exp"),
    "PLO": ("logit proportion of the whole study's compliance (metafor escalc PLO, 0.5 added to x and n - x "
            "when either is 0)", "proportion", "expit"),
    "LROR": ("log ratio of odds ratios (technique OR at one moderator level / at the other), variance the sum "
             "of the two Woolf variances; " + ZERO_CELL_RULE, "ratio of odds ratios", "exp"),
}


def _back(measure: str, x: float) -> float:
    how = MEASURES[measure][2]
    if how == "exp":
        return math.exp(x)
    if how == "expit":
        return 1 / (1 + math.exp(-x))
    return x


@dataclass(frozen=True)
class SiteValue(Result):
    """One site's effect ``yi`` (variance ``vi``) on ``measure``; ``detail`` shows its data."""

    _aliases = {"estimate": "yi", "term": "site", "ci_low": "wald_low", "ci_high": "wald_high"}

    site: str
    measure: str
    yi: float
    vi: float
    n: int
    detail: str = ""
    corrected: bool = False
    original: bool = False
    notes: tuple[str, ...] = ()

    def ci(self, level: float = 0.95) -> tuple[float, float]:
        """Wald interval on the measure's own scale (:func:`analysis.stats.effects.wald_ci`)."""
        return wald_ci(self.yi, self.vi, level)

    @property
    def wald_low(self) -> float:
        """The lower end of the 95% Wald interval (``ci_low``), on the measure's own scale."""
        return self.ci()[0]

    @property
    def wald_high(self) -> float:
        """The upper end of the 95% Wald interval (``ci_high``), on the measure's own scale."""
        return self.ci()[1]

    def __str__(self) -> str:
        lo, hi = self.ci()
        b = lambda x: format_number(_back(self.measure, x), 3 if self.measure == "PLO" else 2)  # noqa: E731
        fix = " (0.5 added, a zero cell)" if self.corrected else ""
        return (f"{self.site}: {self.detail}; {MEASURES[self.measure][1]} = {b(self.yi)}, 95% CI "
                f"[{b(lo)}, {b(hi)}]{fix}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        lo, hi = self.ci()
        d.update(ci_low=lo, ci_high=hi, se=math.sqrt(self.vi))
        return jsonable(d)


@dataclass(frozen=True)
class EffectPool(Result):
    """One measure pooled over sites: the sites' effects and a random-effects model per estimator."""

    _aliases = {"term": "label"}

    label: str
    measure: str
    method: str
    sites: tuple[SiteValue, ...]
    random: tuple = ()
    left_out: tuple[tuple[str, str], ...] = ()
    treatment: str = ""
    control: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def headline(self):
        """The model of the chosen estimator (None when fewer than two sites)."""
        return next((r for r in self.random if r.method == self.method), None)

    @property
    def scale_name(self) -> str:
        return MEASURES[self.measure][1]

    def back(self, x: float) -> float:
        """``x`` on the printed scale (OR-like measures exponentiated, PLO as a proportion)."""
        return _back(self.measure, x)

    def __str__(self) -> str:
        lines = [f"{self.label} [{self.measure}: {MEASURES[self.measure][0]}]"]
        lines += [f"  {s}" for s in self.sites]
        lines += [f"  {s}: left out ({why})" for s, why in self.left_out]
        d = 3 if self.measure == "PLO" else 2
        for r in self.random:
            tag = "   <- chosen" if r.method == self.method else ""
            b = lambda x: format_number(self.back(x), d)  # noqa: E731
            if r.method != self.method:
                continue
            lines.append(f"  {r}{tag}")
            if self.measure == "PLO":
                lines.append(f"    as a proportion: {b(r.estimate)}, {r.level:.0%} CI [{b(r.ci_low)}, "
                             f"{b(r.ci_high)}], {r.level:.0%} PI [{b(r.pi_low)}, {b(r.pi_high)}]")
        notes = list(self.notes) + [n for r in self.random if r.method == self.method for n in r.notes]
        lines += [f"  Note: {n}" for n in dict.fromkeys(notes)]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["left_out"] = [{"site": s, "reason": r} for s, r in self.left_out]
        d["headline"] = jsonable(self.headline)
        d["measure_description"] = MEASURES[self.measure][0]
        return jsonable(d)


def pool_effect(label: str, measure: str, sites: Sequence[str], yi, vi, n=None, details=None, corrected=None,
                method: str = "REML", test: str = "z", level: float = 0.95, left_out=(), notes=(),
                treatment: str = "", control: Sequence[str] = ()) -> EffectPool:
    """Pool per-site effects of one measure by random effects (every estimator of τ²).

    Parameters
    ----------
    label, measure : str
        What is pooled; ``measure`` is a key of :data:`MEASURES`.
    sites, yi, vi : sequences
        The sites and their effects with sampling variances; a site whose effect or variance is
        not finite is left out, and the note says why.
    method, test, level
        As :func:`analysis.meta.random.random_effects`.

    Returns
    -------
    EffectPool

    Examples
    --------
    >>> p = pool_effect("g", "SMD", ["A", "B"], [0.4, 0.6], [0.1, 0.1], method="DL")
    >>> round(p.headline.estimate, 3)
    0.5
    """
    if measure not in MEASURES:
        raise AnalysisError(f"measure {measure!r}: known measures are {', '.join(MEASURES)}")
    k = len(sites)
    n = list(n) if n is not None else [0] * k
    details = list(details) if details is not None else [""] * k
    corrected = list(corrected) if corrected is not None else [False] * k
    values, out = [], list(left_out)
    for s, y, v, m, dt, c in zip(sites, yi, vi, n, details, corrected):
        if math.isfinite(y) and math.isfinite(v) and v > 0:
            values.append(SiteValue(str(s), measure, float(y), float(v), int(m), dt, bool(c)))
        else:
            out.append((str(s), f"no finite {measure} ({dt})"))
    notes = list(notes)
    if any(v.corrected for v in values):
        notes.append(f"{sum(v.corrected for v in values)} site(s) with a zero cell: " + ZERO_CELL_RULE)
    if len(values) < 2:
        notes.append(f"only {len(values)} site(s) with a finite {measure}: nothing pooled")
        return EffectPool(label, measure, method, tuple(values), (), tuple(out), treatment, tuple(control),
                          tuple(notes))
    y = [v.yi for v in values]
    w = [v.vi for v in values]
    rnd = tuple(random_effects(y, w, m, test, level, measure, [v.site for v in values]) for m in ESTIMATORS)
    return EffectPool(label, measure, method, tuple(values), rnd, tuple(out), treatment, tuple(control),
                      tuple(notes))


def group_moments(means, sds, ns) -> tuple[float, float, int]:
    """Mean, SD (n - 1) and n of the union of groups given by their means, SDs and sizes.

    Examples
    --------
    >>> m, s, n = group_moments([1.0, 3.0], [1.0, 1.0], [3, 3])
    >>> m, round(s, 6), n
    (2.0, 1.414214, 6)
    """
    means, sds, ns = (np.asarray(v, dtype=float) for v in (means, sds, ns))
    n = float(ns.sum())
    mean = float(np.dot(ns, means) / n)
    ss = float(np.sum((ns - 1) * sds ** 2) + np.sum(ns * (means - mean) ** 2))
    return mean, math.sqrt(ss / (n - 1)) if n > 1 else math.nan, int(n)


def count_contrast_pools(cells, experiment, method: str, test: str, level: float) -> tuple[EffectPool, ...]:
    """SMD and ROM pools of every confirmatory contrast of a count plan.

    ``cells``: a frame with columns site, condition, mean, sd, n (one row per site and condition).
    Each side of a contrast is, per site, the union of its cells (:func:`group_moments`).
    """
    out = []
    sites = list(dict.fromkeys(cells["site"]))
    for k in experiment.plan.contrasts:
        if not k.confirmatory:
            continue
        treat, ctrl = experiment.members(k.treatment, k.factor), experiment.members(k.control, k.factor)
        rows, left = [], []
        for s in sites:
            sub = cells[cells["site"] == s].set_index("condition")
            miss = [c for c in treat + ctrl if c not in sub.index]
            if miss:
                left.append((str(s), "no participant in " + ", ".join(miss)))
                continue
            t = group_moments(*(sub.loc[list(treat), col] for col in ("mean", "sd", "n")))
            c = group_moments(*(sub.loc[list(ctrl), col] for col in ("mean", "sd", "n")))
            rows.append((str(s), t, c))
        if not rows:
            continue
        args = [np.array([r[i][j] for r in rows]) for i in (1, 2) for j in range(3)]
        m1, sd1, n1, m2, sd2, n2 = args
        details = [f"M = {format_number(t[0])} (SD {format_number(t[1])}, n = {t[2]}) vs "
                   f"{format_number(c[0])} (SD {format_number(c[1])}, n = {c[2]})" for _, t, c in rows]
        names = [r[0] for r in rows]
        tl, cl = k.treatment_label, control_labels(k)
        for measure, fn in (("SMD", hedges_g), ("ROM", log_ratio_of_means)):
            e = fn(m1, sd1, n1, m2, sd2, n2)
            out.append(pool_effect(k.label, measure, names, e.yi, e.vi, n1 + n2, details, None, method, test,
                                   level, left, (), tl, cl))
    return tuple(out)


def rate_pool(counts, by: str, method: str, test: str, level: float) -> EffectPool:
    """The whole study's rate of every site (all conditions together), pooled as logit proportions.

    ``counts``: columns ``by``, condition, n, complied.
    """
    tot = counts.groupby(by, sort=False)[["complied", "n"]].sum()
    e = logit_proportion(tot["complied"].to_numpy(), tot["n"].to_numpy())
    details = [f"{int(x)}/{int(n)} complied" for x, n in zip(tot["complied"], tot["n"])]
    return pool_effect("the whole study's rate of compliance (every condition together)", "PLO",
                       [str(s) for s in tot.index], e.yi, e.vi, tot["n"].to_numpy(), details, e.corrected,
                       method, test, level)


def interaction_pool(counts, experiment, by: str, method: str, test: str, level: float) -> Optional[EffectPool]:
    """Per site, the technique x moderator interaction as a log ratio of odds ratios, pooled.

    For a two-level moderator: log OR(technique | moderator = second level) - log OR(technique |
    first level), in the declared order of the moderator's levels; None for other plans.
    """
    plan = experiment.plan
    levels = list(dict.fromkeys(c.factors.get(plan.moderator) for c in experiment.conditions))
    if len(levels) != 2:
        return None
    wide = counts.pivot_table(index=by, columns="condition", values=["n", "complied"], aggfunc="sum",
                              fill_value=0, observed=True)
    arms = {}
    for lev in levels:
        for side, tl in (("t", plan.treatment_level), ("c", plan.control_level)):
            conds = [c.name for c in experiment.conditions if c.factors.get(plan.moderator) == lev
                     and c.factors.get(plan.treatment_factor) == tl]
            cols = [c for c in conds if c in wide["n"].columns]
            arms[lev, side] = (wide["complied"][cols].sum(axis=1).to_numpy(), wide["n"][cols].sum(axis=1).to_numpy())
    keep = np.all([arms[key][1] > 0 for key in arms], axis=0)
    sites = [str(s) for s in wide.index]
    left = [(s, "a technique x moderator cell with no participant") for s, k in zip(sites, keep) if not k]
    lo_, hi_ = levels
    e_lo = log_odds_ratio(*(a[keep] for a in arms[lo_, "t"] + arms[lo_, "c"]))
    e_hi = log_odds_ratio(*(a[keep] for a in arms[hi_, "t"] + arms[hi_, "c"]))
    names = [s for s, k in zip(sites, keep) if k]
    details = [f"OR at {plan.moderator}={hi_}: {format_number(math.exp(a))}, at {lo_}: {format_number(math.exp(b))}"
               for a, b in zip(e_hi.yi, e_lo.yi)]
    n = sum(arms[key][1][keep] for key in arms)
    label = (f"{plan.treatment_factor} x {plan.moderator} interaction: OR of {plan.treatment_level} vs "
             f"{plan.control_level} at {plan.moderator}={hi_} / at {plan.moderator}={lo_}")
    return pool_effect(label, "LROR", names, e_hi.yi - e_lo.yi, e_hi.vi + e_lo.vi, n, details,
                       e_hi.corrected | e_lo.corrected, method, test, level, left)
