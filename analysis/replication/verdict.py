"""Did it replicate?  Every confirmatory contrast, original beside replication, judged five ways.

For each confirmatory contrast of an experiment's plan (``Experiment.plan.confirmatory``)
:func:`replicate` puts the original (``analysis.replication.original.original_effect``: published
counts, or counts derived from a published rate and n, marked) beside the
replication (session data, counts typed in, or a published replication from
``data/published/replications.csv``) and computes:

1. effects: risk difference (Newcombe CI), odds ratio (Woolf CI), Cohen's h (CI
   h ± 1.96·√(1/n1 + 1/n2)) of each, and the replication's effect as a fraction of
   the original's;
2. the verdicts of :mod:`analysis.replication.criteria`: significance with the
   original's test in the original's direction, consistency (CI and Patil et al.'s
   prediction interval), small telescopes against d33 (``analysis.power.exact.d33``),
   TOST equivalence against d33 or a pre-registered SESOI, the replication Bayes
   factor (two-sided and directional), and the fixed-effect combination (inverse
   variance and Mantel-Haenszel) as the last line.

Where the original's counts are unknown every criterion that needs them says
"not computable: original n unknown".  Where one side is known only by its χ² (or
Cohen's w) and N, the criteria that work from w and N are computed on w instead
(and say so): significance, consistency, the prediction interval (Fisher z of φ),
small telescopes (w33, noncentral χ²), equivalence on w and the fixed-effect
combination of φ; the Bayes factors and Mantel-Haenszel need counts.

The result is a :class:`Replication`: a list of :class:`ContrastReplication`, each
holding its :class:`~analysis.replication.criteria.Criterion` list, rendered as one
table (a row per criterion, a column per contrast) with the APA sentences under it.

Examples
--------
>>> from analysis import replicate
>>> r = replicate(study="cialdini1975", experiment=1,
...               counts={"rejection_moderation": (66, 130), "exposure_control": (40, 130),
...                       "smaller_request_only": (44, 131)})
>>> [c.decision for c in r.contrasts[0].criteria][:3]
['succeeded', 'failed', 'succeeded']
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import pandas as pd

import analysis.replication.criteria as rc
from analysis.declared import control_labels, declaration
from analysis.errors import AnalysisError, ReferenceDataError
from analysis.replication.criteria import NOT_COMPUTABLE, CRITERIA, Criterion, not_computable
from analysis.format import format_number, pct, pct_of
from analysis.results import Result, frame_of
from analysis.stats import effects

__all__ = ["ContrastSide", "Side", "Effects", "ContrastReplication", "Replication", "replicate", "compare", "effects_of",
           "load_replications", "counts_side", "original_test", "COUNTS", "DERIVED", "RATES_ONLY", "W_AND_N", "MISSING",
           "ORIGINAL_N_UNKNOWN"]

COUNTS, DERIVED, RATES_ONLY, W_AND_N, MISSING = "counts", "derived", "rates only", "w and N", "not computable"
ORIGINAL_N_UNKNOWN = "original n unknown"
_TESTS = ("chi2", "yates", "fisher", "barnard")
#: The two columns of each contrast in the verdict table: what the test found, and what that means.
FINDING, SUCCEEDED_COLUMN = "finding", "replication succeeded?"


# --------------------------------------------------------------------------- #
# One study's side of a contrast
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ContrastSide(Result):
    """What is known of one study (``original`` or ``replication``) for one contrast: both arms
    (treatment and pooled controls) and the test's w and N, however much of that is known.

    Not :class:`~analysis.replication.original.OriginalArm`, which is ONE arm of the original with the
    published figures behind it (conditions pooled, conflicts, derivation notes); the original's
    ContrastSide is built from its two arms by :meth:`from_original`.  ``Side`` is the old name.

    ``status`` says how much: ``counts`` (k and n per side), ``derived`` (counts
    derived from a published rate and n), ``rates only``, ``w and N`` (only Cohen's w,
    or χ², and the total N), or ``not computable`` (``reason`` says why).
    """

    _aliases = {'pvalue': 'p_published', 'term': 'role'}

    role: str
    status: str
    x1: Optional[int] = None
    n1: Optional[int] = None
    x2: Optional[int] = None
    n2: Optional[int] = None
    p1: float = math.nan
    p2: float = math.nan
    w: float = math.nan
    n: Optional[int] = None
    p_published: float = math.nan
    reason: str = ""
    source: str = ""
    confidence: str = ""

    @classmethod
    def from_original(cls, effect) -> "ContrastSide":
        """The original's side of a contrast from its two arms (an
        :class:`~analysis.replication.original.OriginalEffect`): counts where both arms have them, else
        both rates, else nothing with the reason.  The arms' numbers are read, never kept twice.

        Examples
        --------
        >>> from analysis.replication.original import original_effect
        >>> s = ContrastSide.from_original(original_effect("burger1986", 1, 0))
        >>> s.status, s.counts
        ('derived', (22, 30, 12, 30))
        """
        t, c = effect.treatment, effect.control
        src, conf = effect.source, effect.confidence
        if effect.counts_known:
            return counts_side("original", t.complied, t.n, c.complied, c.n, derived=t.derived or c.derived,
                               source=src, confidence=conf)
        if effect.rates_known:
            return cls("original", RATES_ONLY, p1=float(t.rate), p2=float(c.rate),
                       reason="cell sizes not published", source=src, confidence=conf)
        return cls("original", MISSING, reason=effect.reason or "not published", source=src, confidence=conf)

    @property
    def has_counts(self) -> bool:
        return self.status in (COUNTS, DERIVED)

    @property
    def has_rates(self) -> bool:
        return not (math.isnan(self.p1) or math.isnan(self.p2))

    @property
    def has_w(self) -> bool:
        return not math.isnan(self.w) and self.n is not None

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.x1, self.n1, self.x2, self.n2)

    @property
    def direction(self) -> int:
        """+1 treatment higher, −1 lower, 0 unknown (no rates)."""
        if not self.has_rates:
            return 0
        return 1 if self.p1 >= self.p2 else -1

    def __str__(self) -> str:
        if self.has_counts:
            s = f"{pct_of(self.x1, self.n1)} vs {pct_of(self.x2, self.n2)}"
            if self.status == DERIVED:
                s += " [derived from published rates and n]"
        elif self.has_rates:
            s = f"{pct(self.p1)} vs {pct(self.p2)} (cell sizes unknown)"
        elif self.has_w:
            s = f"w = {format_number(self.w)}, N = {self.n} (counts unknown)"
        else:
            s = f"not computable: {self.reason}"
        return s


def counts_side(role: str, x1: int, n1: int, x2: int, n2: int, *, derived: bool = False, source: str = "",
                confidence: str = "", reason: str = "") -> ContrastSide:
    """A :class:`ContrastSide` from counts (``derived``: from a published rate and n).

    Examples
    --------
    >>> s = counts_side('original', 25, 40, 12, 40)
    >>> s.status, s.has_counts, round(s.p1, 3)
    ('counts', True, 0.625)
    """
    for name, x, n in (("treatment", x1, n1), ("control", x2, n2)):
        if n <= 0:
            raise AnalysisError(f"{role}: the {name} side has no participants")
        if not 0 <= x <= n:
            raise AnalysisError(f"{role}: {name} k = {x} is not between 0 and n = {n}")
    return ContrastSide(role, DERIVED if derived else COUNTS, int(x1), int(n1), int(x2), int(n2), x1 / n1, x2 / n2,
                _w_from_counts(x1, n1, x2, n2), n1 + n2, reason=reason, source=source, confidence=confidence)


#: The old name of :class:`ContrastSide`, kept importable.
Side = ContrastSide


def _w_from_counts(x1, n1, x2, n2) -> float:
    from analysis.stats.binary import pearson_chi2

    chi = pearson_chi2([[x1, n1 - x1], [x2, n2 - x2]], warn=False).statistic
    return math.sqrt(chi / (n1 + n2)) if not math.isnan(chi) else math.nan


# --------------------------------------------------------------------------- #
# Effects
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Effects(Result):
    """Effect sizes of one side: RD (Newcombe CI), OR (Woolf CI), Cohen's h (normal CI), w.

    CIs are NaN without cell sizes; everything but w is NaN without rates.
    """

    _aliases = {'estimate': 'rd', 'ci_low': 'rd_low', 'ci_high': 'rd_high', 'term': 'role'}
    _measure = "risk difference"

    role: str
    rd: float = math.nan
    rd_low: float = math.nan
    rd_high: float = math.nan
    odds_ratio: float = math.nan
    or_low: float = math.nan
    or_high: float = math.nan
    h: float = math.nan
    h_low: float = math.nan
    h_high: float = math.nan
    w: float = math.nan
    haldane_corrected: bool = False

    def __str__(self) -> str:
        f = format_number
        if math.isnan(self.rd) and not math.isnan(self.w):
            return f"{self.role}: w = {f(self.w)}"
        ci = (lambda lo, hi, d=2: "" if math.isnan(lo) else f", 95% CI [{f(lo, d)}, {f(hi, d)}]")
        return (f"{self.role}: RD = {f(self.rd, 3)}{ci(self.rd_low, self.rd_high, 3)}; "
                f"OR = {f(self.odds_ratio)}{ci(self.or_low, self.or_high)}"
                + (" (Haldane-corrected)" if self.haldane_corrected else "")
                + f"; h = {f(self.h)}{ci(self.h_low, self.h_high)}")


def effects_of(side: ContrastSide) -> Effects:
    """The :class:`Effects` of a side, with CIs where its cell sizes are known.

    Examples
    --------
    >>> e = effects_of(counts_side('replication', 25, 40, 12, 40))
    >>> print(e)
    replication: RD = 0.325, 95% CI [0.107, 0.503]; OR = 3.89, 95% CI [1.53, 9.87]; h = 0.66, 95% CI [0.23, 1.10]
    """
    from analysis.stats.binary import newcombe_diff_ci, odds_ratio_ci

    if side.has_counts:
        x1, n1, x2, n2 = side.counts
        lo, hi = newcombe_diff_ci(x1, n1, x2, n2)
        orr, olo, ohi, corrected = odds_ratio_ci(x1, n1, x2, n2)
        h = effects.cohens_h_counts(x1, n1, x2, n2)
        h_lo, h_hi = effects.wald_ci(h.yi, h.vi)
        return Effects(side.role, side.p1 - side.p2, lo, hi, orr, olo, ohi, h.yi, h_lo, h_hi, side.w, corrected)
    if side.has_rates:
        p1, p2 = side.p1, side.p2
        orr = (p1 * (1 - p2)) / (p2 * (1 - p1)) if 0 < p1 < 1 and 0 < p2 < 1 else math.nan
        return Effects(side.role, p1 - p2, odds_ratio=orr, h=effects.cohens_h(p1, p2), w=side.w)
    return Effects(side.role, w=side.w)


def _ratio(rep: float, orig: float) -> float:
    if math.isnan(rep) or math.isnan(orig) or orig == 0:
        return math.nan
    return rep / orig


# --------------------------------------------------------------------------- #
# One contrast
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ContrastReplication(Result):
    """Original and replication of one confirmatory contrast, and every criterion's verdict."""

    label: str
    treatment: str
    control: tuple[str, ...]
    original: ContrastSide
    replication: ContrastSide
    original_effects: Effects
    replication_effects: Effects
    #: the replication's effect as a fraction of the original's, per scale
    fraction_h: float
    fraction_rd: float
    fraction_log_or: float
    fraction_w: float
    test: str
    direction: int
    d33_h: float
    d33_rd: float
    d33_text: str
    sesoi: float
    sesoi_scale: str
    sesoi_source: str
    criteria: tuple[Criterion, ...]
    notes: tuple[str, ...] = ()

    @property
    def control_label(self) -> str:
        return " + ".join(self.control)

    def criterion(self, name: str) -> Criterion:
        for c in self.criteria:
            if c.criterion == name:
                return c
        raise KeyError(name)

    @property
    def decisions(self) -> dict[str, str]:
        return {c.criterion: c.decision for c in self.criteria}

    def __str__(self) -> str:
        lines = [f"{self.label}: {self.treatment} vs {self.control_label}",
                 f"  original:    {self.original}", f"  replication: {self.replication}"]
        lines += [f"  {e}" for e in (self.original_effects, self.replication_effects)
                  if not (math.isnan(e.rd) and math.isnan(e.w))]
        if not math.isnan(self.fraction_h):
            lines.append(f"  replication / original: h {format_number(self.fraction_h)}, "
                         f"RD {format_number(self.fraction_rd)}, log OR {format_number(self.fraction_log_or)}")
        elif not math.isnan(self.fraction_w):
            lines.append(f"  replication / original: w {format_number(self.fraction_w)}")
        reasons = {c.reason for c in self.criteria}
        if all(c.decision == NOT_COMPUTABLE for c in self.criteria) and len(reasons) == 1:
            lines.append(f"  Every criterion: not computable ({reasons.pop()}).")
        else:
            lines += [f"  {c}" for c in self.criteria]
        lines += [f"  Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["control"] = self.control_label
        d["control_conditions"] = list(self.control)
        d["decisions"] = self.decisions
        return d

    def to_frame(self, part: str = "criteria") -> pd.DataFrame:
        """One row per criterion (long format).

        Columns: :data:`~analysis.results.FRAME_COLUMNS` (``term`` the criterion's id,
        ``measure`` its scale), then ``contrast, treatment, control, criterion, label,
        decision, low, high, bound, p, scale, reason, derived, apa``.
        """
        rows = []
        for c in self.criteria:
            r = c.to_dict()
            r.update(c._own_row(part), contrast=self.label, treatment=self.treatment, control=self.control_label)
            rows.append(r)
        return frame_of(rows, extra=_CRITERION_COLUMNS)


_CRITERION_COLUMNS = ("contrast", "treatment", "control", "criterion", "label", "decision", "estimate", "low", "high",
                      "bound", "statistic", "p", "scale", "reason", "derived", "apa")


def _effect_row(side: ContrastSide) -> str:
    if side.has_counts or side.has_rates:
        e = effects_of(side)
        return f"h = {format_number(e.h)}, OR = {format_number(e.odds_ratio)}"
    if side.has_w:
        return f"w = {format_number(side.w)}"
    return "unknown"


# --------------------------------------------------------------------------- #
# The whole experiment
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Replication(Result):
    """The replication verdicts of one experiment: one :class:`ContrastReplication` per
    confirmatory contrast.  ``str()`` is the verdict table with the APA sentences under it."""

    study: str
    experiment: int
    replication: str
    contrasts: tuple[ContrastReplication, ...]
    notes: tuple[str, ...] = ()
    #: where original and replication publish only the whole study's rate (analysis/whole_study.py)
    whole_study: Optional[Result] = None
    #: how the replication's sessions were made (``real``, ``pilot``, ``simulated``); () for counts typed in
    data_origin: tuple[str, ...] = ()
    #: the sites of session data (their counts added into one sample)
    sites: tuple[str, ...] = ()

    @property
    def origin_label(self) -> str:
        """The line that heads every output of simulated (or pilot) data: ``SIMULATED DATA: ...``."""
        from analysis.load.sessions import origin_label

        return origin_label(self.data_origin)

    @property
    def simulated(self) -> bool:
        return "simulated" in self.data_origin

    def _judged(self) -> list[tuple[str, str, str, tuple[Criterion, ...]]]:
        """(column label, original, replication, criteria) of every contrast, then of the whole study
        where one is compared (its rate, when no contrast is published by both)."""
        out = [(k.label, _effect_row(k.original), _effect_row(k.replication), k.criteria) for k in self.contrasts]
        w = self.whole_study
        if w is not None:
            counts = w.replication_counts
            rep = f"{counts[0]}/{w.replication_n}" if len(counts) == 1 else \
                f"{w.replication_as_printed} of {w.replication_n}"
            out.append((f"whole study ({w.measure} rate)", f"{w.original_as_printed} (n {w.original_n})", rep,
                        w.criteria))
        return out

    def table(self) -> pd.DataFrame:
        """The verdict table: a row per criterion and, per contrast (and the whole study where it is
        compared), two columns: what the test found (``finding``) and whether that counts as the
        replication succeeding (``replication succeeded?``: yes, no, inconclusive, not computable)."""
        data = {}
        for label, orig, rep, criteria in self._judged():
            found = {"original": orig, "replication": rep}
            found.update({CRITERIA[c.criterion]: c.finding_text for c in criteria})
            verdict = {"original": "", "replication": ""}
            verdict.update({CRITERIA[c.criterion]: c.succeeded_text for c in criteria})
            data[(label, FINDING)], data[(label, SUCCEEDED_COLUMN)] = found, verdict
        index = ["original", "replication"] + list(CRITERIA.values())
        df = pd.DataFrame(data, index=index).fillna("")
        df.columns = pd.MultiIndex.from_tuples(list(data), names=["contrast", "column"])
        return df

    def to_frame(self) -> pd.DataFrame:
        """Every criterion of every contrast, one row each (long format): the contrasts'
        frames stacked, with ``study`` and ``experiment`` after their columns."""
        frames = [k.to_frame("contrasts.criteria") for k in self.contrasts]
        df = pd.concat(frames, ignore_index=True) if frames else frame_of([], extra=_CRITERION_COLUMNS)
        df["study"], df["experiment"] = self.study, self.experiment
        return df

    def to_dict(self) -> dict:
        return {"study": self.study, "experiment": self.experiment, "replication": self.replication,
                "data_origin": list(self.data_origin), "simulated": self.simulated,
                "origin_label": self.origin_label or None, "sites": list(self.sites),
                "contrasts": [k.to_dict() for k in self.contrasts], "notes": list(self.notes),
                "table": {label: {c.criterion: c.decision for c in criteria}
                          for label, _, _, criteria in self._judged()},
                "findings": {label: {c.criterion: {"finding": c.finding_text,
                                                   "replication_succeeded": c.replication_succeeded}
                                     for c in criteria} for label, _, _, criteria in self._judged()},
                "whole_study": self.whole_study.to_dict() if self.whole_study is not None else None}

    def _repr_html_(self) -> str:
        """Jupyter: the origin label, the verdict table as HTML, then the text (sentences and notes)."""
        import html

        head = f'<p style="color:#c00000"><b>{html.escape(self.origin_label)}</b></p>' if self.origin_label else ""
        return head + self.table().to_html() + f'<pre class="compliance-result">{html.escape(str(self))}</pre>'

    def __str__(self) -> str:
        lines = [self.origin_label] if self.origin_label else []
        lines += [f"{self.study}, Experiment {self.experiment}: replication verdicts ({self.replication})"]
        if len(self.sites) > 1:
            lines.append(f"{len(self.sites)} sites ({', '.join(self.sites)}) added into one sample; "
                         "`compliance pool` pools them site by site")
        t = self.table()
        for i, (label, *_rest) in enumerate(self._judged(), 1):
            lines += ["", f"[{i}] {label}"] + _text_table(t[label])
        lines.append("")
        for i, k in enumerate(self.contrasts, 1):
            lines.append(f"[{i}] " + str(k))
            lines.append("")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines).rstrip()


def _text_table(t: pd.DataFrame) -> list[str]:
    """One contrast's rows of the verdict table as fixed-width text: criterion, finding, verdict."""
    rows = [[idx] + list(t.loc[idx]) for idx in t.index]
    head = ["criterion", FINDING, SUCCEEDED_COLUMN]
    width = [min(max(len(str(r[i])) for r in rows + [head]), (58, 60, 30)[i]) for i in range(3)]

    def fmt(r):
        return "  ".join(_clip(str(v), width[i]).ljust(width[i]) for i, v in enumerate(r)).rstrip()

    return [fmt(head), "  ".join("-" * w for w in width)] + [fmt(r) for r in rows]


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# --------------------------------------------------------------------------- #
# The criteria of one contrast
# --------------------------------------------------------------------------- #
def compare(original: ContrastSide, replication: ContrastSide, *, label: str = "", treatment: str = "treatment",
            control: Sequence[str] = ("control",), test: str = "chi2", alpha: float = 0.05,
            sesoi_h: Optional[float] = None, sesoi_rd: Optional[float] = None,
            notes: Sequence[str] = ()) -> ContrastReplication:
    """Every criterion for one contrast, given what is known of each side.

    Parameters
    ----------
    original, replication : ContrastSide
    test : {"chi2", "yates", "fisher", "barnard"}
        The test the original reported (used for significance and for d33).
    sesoi_h, sesoi_rd : float, optional
        A pre-registered smallest effect of interest (Cohen's h or risk difference);
        default: d33 on the h scale.

    Examples
    --------
    >>> o = counts_side("original", 12, 24, 10, 48)
    >>> r = counts_side("replication", 250, 500, 208, 1000)
    >>> k = compare(o, r)
    >>> sorted(set(k.decisions.values()))
    ['succeeded']
    """
    if test not in _TESTS:
        raise AnalysisError(f"test {test!r} is not one of {', '.join(_TESTS)}")
    _check_sesoi(sesoi_h, sesoi_rd)
    notes = list(notes)
    oe, re_ = effects_of(original), effects_of(replication)
    direction = original.direction
    d33_h = d33_rd = math.nan
    d33_text = ""
    if original.has_counts:
        d33_h, d33_rd, d33_text = _d33(original, test, alpha, direction)
    if sesoi_h is not None:
        sesoi, scale, src = float(sesoi_h), "h", "pre-registered SESOI (--sesoi-h)"
    elif sesoi_rd is not None:
        sesoi, scale, src = float(sesoi_rd), "RD", "pre-registered SESOI (--sesoi-rd)"
    else:
        sesoi, scale, src = d33_h, "h", "d33"
    if original.has_counts and replication.has_counts:
        crit = _criteria_counts(original, replication, test, alpha, direction, d33_h, sesoi, scale, src)
    elif replication.has_counts and original.has_rates:
        crit = _criteria_rates(original, replication, test, alpha, direction, sesoi, scale, src)
    elif original.has_w and replication.has_w and (original.status == W_AND_N or replication.status == W_AND_N):
        crit = _criteria_w(original, replication, alpha, sesoi_h, sesoi_rd)
        notes.append("one side is known only by w (or χ²) and N: the criteria that work from w and N are computed "
                     "on w (significance, consistency, prediction interval, small telescopes, equivalence, "
                     "fixed-effect on φ); the Bayes factors and Mantel-Haenszel need cell counts")
    else:
        crit = _criteria_none(original, replication, test, alpha, sesoi, scale, src)
    if original.status == DERIVED:
        crit = [c if c.decision == NOT_COMPUTABLE else _mark_derived(c) for c in crit]
        notes.append("the original's counts are derived from its published rates and n: criteria that use them "
                     "are marked (derived counts)")
    return ContrastReplication(
        label=label or f"{treatment} vs {' + '.join(control)}", treatment=treatment, control=tuple(control),
        original=original, replication=replication, original_effects=oe, replication_effects=re_,
        fraction_h=_ratio(re_.h, oe.h), fraction_rd=_ratio(re_.rd, oe.rd),
        fraction_log_or=_ratio(_log(re_.odds_ratio), _log(oe.odds_ratio)), fraction_w=_ratio(re_.w, oe.w),
        test=test, direction=direction, d33_h=d33_h, d33_rd=d33_rd, d33_text=d33_text,
        sesoi=sesoi, sesoi_scale=scale, sesoi_source=src, criteria=tuple(crit), notes=tuple(notes))


def _check_sesoi(sesoi_h: Optional[float], sesoi_rd: Optional[float]) -> None:
    if sesoi_h is not None and sesoi_rd is not None:
        raise AnalysisError("give --sesoi-h or --sesoi-rd, not both")
    if sesoi_h is not None and not (math.isfinite(sesoi_h) and 0 < sesoi_h <= math.pi):
        raise AnalysisError(f"--sesoi-h {sesoi_h}: must be a positive number (Cohen's h is at most π)")
    if sesoi_rd is not None and not (math.isfinite(sesoi_rd) and 0 < sesoi_rd < 1):
        raise AnalysisError(f"--sesoi-rd {sesoi_rd}: must be a positive number below 1")


def _log(x: float) -> float:
    return math.log(x) if x > 0 and math.isfinite(x) else math.nan


def _mark_derived(c: Criterion) -> Criterion:
    from dataclasses import replace

    return replace(c, derived=True, sentence=c.sentence.rstrip(".") + " (original counts derived from its "
                                                                       "published rates and n).")


def _d33(original: ContrastSide, test: str, alpha: float, direction: int) -> tuple[float, float, str]:
    """d33 of the original's design from ``analysis.power.exact.d33`` (exact power), as positive h and RD."""
    try:
        from analysis.power.exact import d33
    except ImportError:  # pragma: no cover - the power module is part of the package
        return math.nan, math.nan, "d33 not available: analysis.power.exact is missing"
    res = d33(original.n1, original.n2, original.p2, alpha=alpha, test=test, alternative="two-sided",
              direction="increase" if direction >= 0 else "decrease")
    if math.isnan(res.cohens_h):
        return math.nan, math.nan, str(res)
    return abs(res.cohens_h), abs(res.risk_difference), str(res)


def _criteria_counts(o: ContrastSide, r: ContrastSide, test, alpha, direction, d33_h, sesoi, scale, src) -> list[Criterion]:
    oc, rcnt = o.counts, r.counts
    d = direction or 1
    out = [rc.significance(*rcnt, direction=d, test=test, alpha=alpha),
           rc.consistency_ci(math.log(effects_of(o).odds_ratio), *rcnt),
           rc.prediction_interval(*oc, *rcnt),
           rc.small_telescopes(*rcnt, h33=d33_h, direction=d, alpha=alpha)
           if not math.isnan(d33_h) else not_computable("small_telescopes", "d33 not available"),
           rc.equivalence(*rcnt, direction=d, sesoi=sesoi, scale=scale, alpha=alpha, source=src)
           if not math.isnan(sesoi) else not_computable("equivalence", "no SESOI: d33 not available"),
           rc.replication_bayes_factor(*oc, *rcnt),
           rc.replication_bayes_factor(*oc, *rcnt, directional=True, direction=d),
           rc.fixed_effect(*oc, *rcnt, direction=d, alpha=alpha),
           rc.mantel_haenszel(*oc, *rcnt, direction=d, alpha=alpha)]
    return out


def _criteria_rates(o: ContrastSide, r: ContrastSide, test, alpha, direction, sesoi, scale, src) -> list[Criterion]:
    rcnt = r.counts
    why = f"{ORIGINAL_N_UNKNOWN} (only its rates are published)"
    lor = _log(effects_of(o).odds_ratio)
    out = [rc.significance(*rcnt, direction=direction, test=test, alpha=alpha),
           rc.consistency_ci(lor, *rcnt) if not math.isnan(lor)
           else not_computable("consistency_ci", "the original's odds ratio is undefined (a rate of 0 or 1)"),
           not_computable("prediction_interval", why), not_computable("small_telescopes", why),
           rc.equivalence(*rcnt, direction=direction, sesoi=sesoi, scale=scale, alpha=alpha, source=src)
           if not math.isnan(sesoi) else not_computable("equivalence", why + "; give --sesoi-h or --sesoi-rd"),
           not_computable("bayes_factor", why), not_computable("bayes_factor_directional", why),
           not_computable("fixed_effect", why), not_computable("mantel_haenszel", why)]
    return out


def _criteria_w(o: ContrastSide, r: ContrastSide, alpha, sesoi_h, sesoi_rd) -> list[Criterion]:
    need = "needs cell counts (only w and N are known)"
    orig, rep = rc.WN(o.w, o.n), rc.WN(r.w, r.n)
    w33 = rc.w33(o.n, alpha=alpha)
    if sesoi_h is not None or sesoi_rd is not None:
        eq = not_computable("equivalence", "a SESOI on h or RD cannot be turned into w without the rates")
    else:
        eq = rc.equivalence(rep, sesoi=w33, alpha=alpha, source="w33")
    pub = None if math.isnan(r.p_published) else r.p_published
    return [rc.significance(rep, alpha=alpha, p_published=pub),
            rc.consistency_ci(o.w, rep),
            rc.prediction_interval(orig, rep),
            rc.small_telescopes(rep, d33=w33, alpha=alpha),
            eq,
            not_computable("bayes_factor", need), not_computable("bayes_factor_directional", need),
            rc.fixed_effect(orig, rep, alpha=alpha),
            not_computable("mantel_haenszel", need)]


def _criteria_none(o: ContrastSide, r: ContrastSide, test, alpha, sesoi, scale, src) -> list[Criterion]:
    if not (r.has_counts or r.has_w):
        why = f"replication: {r.reason or 'nothing known for this contrast'}"
    else:
        why = ORIGINAL_N_UNKNOWN + (f" ({o.reason})" if o.reason else "")
    out = [not_computable(name, why) for name in CRITERIA]
    if r.has_counts and o.status == MISSING and scale in ("h", "RD") and not math.isnan(sesoi):
        # a pre-registered SESOI needs nothing of the original, but the verdict needs its direction
        out[4] = rc.equivalence(*r.counts, direction=1, sesoi=sesoi, scale=scale, alpha=alpha, source=src)
        if out[4].decision != rc.FAILED:
            out[4] = not_computable("equivalence", f"{why}; not equivalent within ±{format_number(sesoi)} "
                                                   f"({format_number(out[4].p, 3)}), and the original's "
                                                   f"direction is unknown")
    return out


# --------------------------------------------------------------------------- #
# Published replications (data/published/replications.csv)
# --------------------------------------------------------------------------- #
def _replications_file():
    from analysis.replication.published import PUBLISHED_DIR

    return PUBLISHED_DIR / "replications.csv"


def load_replications(path=None) -> pd.DataFrame:
    """Read ``data/published/replications.csv``: published replications, one figure a row.

    The columns are those of ``published_results.csv`` (checked by
    :func:`analysis.replication.published.load_published`), with ``study`` and ``experiment``
    naming the original that is replicated, plus ``replication`` (its id, e.g.
    ``genschow2021``) and ``citation``.

    Examples
    --------
    >>> df = load_replications()
    >>> {'study', 'statistic', 'value'} <= set(df.columns)
    True
    """
    import csv

    from analysis.replication.published import load_published

    path = path or _replications_file()
    df = load_published(path)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        extra = {}
        for line, rec in enumerate(reader, start=2):
            for col in ("replication", "citation"):
                if col not in rec or rec[col] is None:
                    raise ReferenceDataError(f"{path}: line 1 (header), column {col!r}: missing")
            if not rec["replication"].strip():
                raise ReferenceDataError(f"{path}: line {line}, column 'replication': empty, but a value is required")
            extra[line] = (rec["replication"].strip(), rec["citation"].strip())
    df["replication"] = [extra[ln][0] for ln in df["line"]]
    df["citation"] = [extra[ln][1] for ln in df["line"]]
    return df


def _published_side(rows: pd.DataFrame, contrast, role: str, experiment) -> ContrastSide:
    """A side from published figures: counts, or w / χ² and N, for one contrast."""
    ctrl = "+".join(contrast.control)
    sel = rows[(rows["condition"] == contrast.treatment) & (rows["control"] == ctrl) & rows["value"].notna()]
    sel = sel.sort_values(["confidence", "line"], kind="stable")

    def first(stat):
        s = sel[sel["statistic"] == stat]
        return None if s.empty else s.iloc[0]

    conds = set(contrast.control) | {contrast.treatment}
    total = None
    nrow = rows[(rows["statistic"] == "n") & (rows["condition"] == "") & rows["value"].notna()]
    if not nrow.empty and conds == set(experiment.condition_names):
        total = int(nrow.iloc[0]["value"])
    w_row, chi_row, p_row = first("w"), first("chi2"), first("p")
    p_pub = float(p_row["value"]) if p_row is not None else math.nan
    if total is not None and (w_row is not None or chi_row is not None):
        if w_row is not None:
            w, src = float(w_row["value"]), w_row
        else:
            w, src = math.sqrt(float(chi_row["value"]) / total), chi_row
        return ContrastSide(role, W_AND_N, w=w, n=total, p_published=p_pub,
                    source=f"{src['source']}: {src['as_printed']}; N = {total}", confidence=str(src["confidence"]),
                    reason="cell counts not published")
    missing = "no published statistic for this contrast" if (w_row is None and chi_row is None) else \
        "the contrast's N is not published"
    said = rows[(rows["condition"] == contrast.treatment) & (rows["control"] == ctrl) & (rows["note"] != "")]
    if w_row is None and chi_row is None and not said.empty:  # the reference data say why (an NA row's note)
        missing += f" ({said.iloc[0]['note']})"
    return ContrastSide(role, MISSING, reason=missing)


def _original_side(study: str, experiment, contrast) -> ContrastSide:
    """The original's side, from ``analysis.replication.original.original_effect``; falls back to its
    published χ² (or w) and N for the w-based criteria when its counts are unknown."""
    from analysis.replication.original import original_effect

    eff = original_effect(study, experiment.number, contrast)
    side = ContrastSide.from_original(eff)
    if side.status in (MISSING, RATES_ONLY):
        from analysis.replication.published import load_published

        pub = load_published()
        rows = pub[(pub["study"] == study) & (pub["experiment"] == experiment.number)]
        ws = _published_side(rows, contrast, "original", experiment)
        if ws.status == W_AND_N:
            return ContrastSide("original", W_AND_N, p1=side.p1, p2=side.p2, w=ws.w, n=ws.n, p_published=ws.p_published,
                        reason=side.reason, source=ws.source, confidence=ws.confidence)
    return side


# --------------------------------------------------------------------------- #
# The test the original reported
# --------------------------------------------------------------------------- #
_METHOD_TO_TEST = (("Yates", "yates"), ("Fisher", "fisher"), ("Barnard", "barnard"), ("Pearson", "chi2"))


def original_test(study: str, experiment: int, contrast, reproduction=None) -> tuple[str, str]:
    """The test the original reported for ``contrast`` (the method ``reproduce`` finds matching
    its published statistic), as a key of ``analysis.power.exact.TESTS``, and a note.

    Default ``chi2`` (Pearson, no correction) when no published statistic of this
    contrast can be reproduced.

    Examples
    --------
    >>> import paradigms
    >>> contrast = paradigms.get('cialdini1975').experiment(1).contrasts[0]
    >>> original_test('cialdini1975', 1, contrast)
    ('chi2', "the original's test: Pearson χ² without continuity correction (reproduces its published chi2 = 6.42)")
    """
    from analysis.replication.reproduce import reproduce_experiment

    rep = reproduction
    if rep is None:
        try:
            rep = reproduce_experiment(study, experiment)
        except ReferenceDataError:
            return "chi2", "the original's test is unknown: Pearson's χ² (no correction) assumed"
    ctrl = "+".join(contrast.control)
    for c in rep.checks:
        if c.statistic in ("chi2", "p") and c.condition == contrast.treatment and c.control == ctrl and c.match:
            for word, key in _METHOD_TO_TEST:
                if word in c.method:
                    return key, f"the original's test: {c.method} (reproduces its published {c.as_printed})"
    for c in rep.checks:
        if c.statistic == "chi2" and c.condition == contrast.treatment and c.control == ctrl and c.published is not None:
            return "chi2", (f"the original reported a χ² test ({c.as_printed}); without its counts the variant "
                            "cannot be told: Pearson's χ² (no correction) assumed")
    return "chi2", "the original's test for this contrast is not published: Pearson's χ² (no correction) assumed"


# --------------------------------------------------------------------------- #
# replicate()
# --------------------------------------------------------------------------- #
def _pool(counts: Mapping[str, tuple[int, int]], names: Sequence[str], label: str) -> tuple[int, int]:
    x = n = 0
    for c in names:
        k, m = counts[c]
        if m == 0:
            raise AnalysisError(f"contrast {label!r}: condition {c!r} has no participants in the replication")
        x, n = x + k, n + m
    return x, n


def _check_counts(counts: Mapping[str, tuple[int, int]], experiment, study) -> dict:
    out = {}
    for name, kn in counts.items():
        try:
            k, n = (int(v) for v in kn)
        except (TypeError, ValueError):
            raise AnalysisError(f"counts {name}: expected (k, n), got {kn!r}") from None
        if name not in experiment.condition_names:
            raise AnalysisError(f"counts: {study} Experiment {experiment.number} has no condition {name!r}; "
                                f"known: {', '.join(experiment.condition_names)}")
        if n < 0 or not 0 <= k <= n:
            raise AnalysisError(f"counts {name}={k}/{n}: k must be between 0 and n")
        out[name] = (k, n)
    return out


def _data_counts(source, study, experiment) -> tuple[str, int, dict, str, tuple, tuple]:
    from analysis.load.sessions import LoadedData, load_sessions

    loaded = source if isinstance(source, LoadedData) else load_sessions(
        *([source] if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__") else source))
    found = loaded.experiments()
    if not found:
        raise AnalysisError(f"{', '.join(map(str, loaded.files)) or source}: no participants in the data")
    named = [(s, e) for s, e in found if (study is None or s == study) and (experiment is None or e == experiment)]
    files = ", ".join(loaded.files[:3]) + (" ..." if len(loaded.files) > 3 else "")
    if not named:
        have = ", ".join(f"{s} Experiment {e}" for s, e in found)
        want = f"{study or found[0][0]}" + (f" Experiment {experiment}" if experiment is not None else "")
        raise AnalysisError(f"{files}: the data are a replication of {have}, not of {want}")
    if len(named) > 1:
        raise AnalysisError(f"{files}: the data hold {', '.join(f'{s} Experiment {e}' for s, e in named)}; "
                            f"name one with --experiment")
    s, e = named[0]
    d = loaded.analysable()
    d = d[(d["study"] == s) & (d["experiment"].astype(int) == e) & d["complied"].notna()]
    exp = declaration(s).experiment(e)
    counts = {}
    for c in exp.condition_names:
        sub = d[d["condition"] == c]["complied"].astype(int)
        counts[c] = (int(sub.sum()), int(len(sub)))
    sites = tuple(sorted({str(x) for x in d["site"].dropna() if str(x)})) if "site" in d.columns else ()
    return s, e, counts, f"session data: {files}", loaded.origin_of(s, e), sites


def replicate(source=None, *, study: Optional[str] = None, experiment: Optional[int] = None,
              counts: Optional[Mapping[str, tuple[int, int]]] = None, published: Optional[str] = None,
              sesoi_h: Optional[float] = None, sesoi_rd: Optional[float] = None,
              alpha: float = 0.05) -> Replication:
    """Replication verdicts for every confirmatory contrast of one experiment.

    Give exactly one replication: ``source`` (session CSV file(s)/folder(s) or a
    :class:`~analysis.load.sessions.LoadedData`; study and experiment are read from the
    data, and must agree with ``study``/``experiment`` if those are named),
    ``counts`` (``{condition: (complied, n)}`` with ``study`` and ``experiment``),
    or ``published`` (the id of a published replication in
    ``data/published/replications.csv``).

    Parameters
    ----------
    sesoi_h, sesoi_rd : float, optional
        Smallest effect of interest for the equivalence test (default d33).
    alpha : float
        Significance level of every test (two-sided where the test is).

    Raises
    ------
    AnalysisError
        Bad input, in one line: a replication of another study or experiment than
        named, a contrast with an empty condition, counts with k > n, an unknown
        published replication, a plan without binary contrasts.

    Examples
    --------
    >>> r = replicate(study='cialdini1975', experiment=1, counts={"rejection_moderation": (25, 40), "exposure_control": (12, 40), "smaller_request_only": (13, 40)})
    >>> [k.label for k in r.contrasts]
    ["door-in-the-face vs the two controls combined (the paper's test)", 'door-in-the-face vs exposure control', 'door-in-the-face vs smaller request only']
    >>> r.contrasts[0].criterion('significance').decision
    'succeeded'
    """
    _check_sesoi(sesoi_h, sesoi_rd)
    given = [x is not None for x in (source, counts, published)]
    if sum(given) != 1:
        raise AnalysisError("give exactly one replication: session data, --counts, or --published")
    src = _replication_source(source, study, None if experiment is None else int(experiment), published)
    exp = _plan_experiment(src["study"], src["experiment"])
    cnt = src["counts"]
    if counts is not None:
        cnt = _check_counts(counts, exp, src["study"])
        cnt.update({c: (0, 0) for c in exp.condition_names if c not in cnt})
    out = _judge_contrasts(src["study"], exp, cnt, src["rows"], alpha, sesoi_h, sesoi_rd)
    notes = [] if out else ["the plan declares no confirmatory contrast"]
    if len(src["sites"]) > 1:
        notes.append(f"the data hold {len(src['sites'])} sites ({', '.join(src['sites'])}): their counts were added "
                     "into one sample here; `compliance pool` pools them site by site (random effects)")
    whole = None
    if src["rows"] is not None:  # where both publish only the whole study's rate (analysis/whole_study.py)
        from analysis.replication.whole_study import compare_whole_study
        whole = compare_whole_study(src["study"], src["experiment"], src["rows"])
        notes += whole.lines() if whole is not None else []
    return Replication(src["study"], int(src["experiment"]), src["what"], tuple(out), tuple(notes), whole,
                       data_origin=src["origin"], sites=src["sites"])


def _replication_source(source, study, experiment, published) -> dict:
    """Where the replication comes from: session data, a published replication, or counts (given later)."""
    if source is not None:
        study, experiment, cnt, what, origin, sites = _data_counts(source, study, experiment)
        return dict(study=study, experiment=experiment, counts=cnt, what=what, rows=None, origin=origin, sites=sites)
    if published is not None:
        reps = load_replications()
        rows = reps[reps["replication"] == published]
        if rows.empty:
            raise AnalysisError(f"unknown published replication {published!r}; known: "
                                + ", ".join(sorted(set(reps["replication"]))))
        target = (rows.iloc[0]["study"], int(rows.iloc[0]["experiment"]))
        study = target[0] if study is None else study
        experiment = target[1] if experiment is None else experiment
        if (study, experiment) != target:
            raise AnalysisError(f"--published {published}: it replicates {target[0]} Experiment {target[1]}, "
                                f"not {study} Experiment {experiment}")
        what = f"published replication {published}: {rows.iloc[0]['citation']}"
        return dict(study=study, experiment=experiment, counts=None, what=what, rows=rows, origin=(), sites=())
    if study is None or experiment is None:
        raise AnalysisError("--counts needs a study and --experiment")
    return dict(study=study, experiment=experiment, counts=None, what="counts given", rows=None, origin=(), sites=())


def _plan_experiment(study: str, experiment: int):
    """The declared experiment, which must have a binary contrast plan."""
    from paradigms.base import ContrastPlan, DeclarationError

    try:
        exp = declaration(study).experiment(experiment)
    except (DeclarationError, KeyError, ValueError) as exc:
        raise AnalysisError(str(exc).strip('"')) from None
    if not isinstance(exp.plan, ContrastPlan):
        raise AnalysisError(f"{study} Experiment {experiment} declares a {type(exp.plan).__name__}: replication "
                            "verdicts work on binary contrasts (a ContrastPlan)")
    return exp


def _judge_contrasts(study: str, exp, cnt, rep_rows, alpha, sesoi_h, sesoi_rd) -> list[ContrastReplication]:
    """Every confirmatory contrast: the original's side, the replication's, and every criterion."""
    from analysis.power.design import design_of

    out = []
    for k in exp.plan.confirmatory:
        treated, controls = exp.members(k.treatment, k.factor), exp.members(k.control, k.factor)
        control = control_labels(k)  # from the declared Contrast, never by parsing its label
        if rep_rows is not None:
            rside = _published_side(rep_rows, k, "replication", exp) if not k.factor else \
                ContrastSide("replication", MISSING, reason="no published statistic for this contrast")
        else:
            x1, n1 = _pool(cnt, treated, k.label)
            x2, n2 = _pool(cnt, controls, k.label)
            rside = counts_side("replication", x1, n1, x2, n2)
        oside = _original_side(study, exp, k)
        design = design_of(study, exp.number, k)  # the one home of the contrast's test (issue 21)
        test, tnote = design.test, design.test_source
        out.append(compare(oside, rside, label=k.label, treatment=k.treatment_label, control=control, test=test,
                           alpha=alpha, sesoi_h=sesoi_h, sesoi_rd=sesoi_rd, notes=[tnote]))
    return out
