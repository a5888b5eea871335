"""What the original study found for one declared contrast, from the published figures.

:func:`original_effect` reads ``data/published/published_results.csv`` (through
:func:`analysis.replication.published.load_published`) and returns, for each side of a contrast
(treatment and control), what is known, in this order of preference:

1. **published counts** ``k/n`` (``complied`` and ``n`` rows);
2. counts **derived** from a published rate and a published n (``k = round(rate · n)``,
   ``derived=True``, the rounding noted, and a note when no integer k reproduces the
   printed rate);
3. the **rate only** (n not published: counts are None);
4. **nothing**, with a reason (``"rates not published"``, or for a side pooling several
   conditions whose n is unknown ``"not computable: original n unknown"``, since rates
   cannot be pooled without their n).

A side that pools several controls sums their counts (or uses a figure published for
the pooled label itself, e.g. ``a+b``).  Conflicting published figures for one condition
are resolved explicitly: published counts first, then the highest confidence
(primary > secondary > weak), then file order; the figures not used are listed in the
side's ``alternatives`` and in a note.  Nothing is ever guessed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional, Union

import pandas as pd

from analysis.declared import declaration
from analysis.errors import AnalysisError
from analysis.format import pct
from analysis.results import Result
from analysis.replication.published import CONFIDENCE_LEVELS, load_published, split_conditions

__all__ = ["OriginalArm", "OriginalSide", "OriginalEffect", "original_effect"]


@dataclass(frozen=True)
class OriginalArm(Result):
    """One arm (treatment or pooled controls) of the original's contrast, with the published figures
    behind it: which conditions it pools, where each number was read, how sure that source is, which
    conflicting figures were not used, and whether the counts were derived from a rate and n.

    Not :class:`~analysis.replication.verdict.ContrastSide`, which is a whole study's view of a
    contrast (both arms, or only w and N) as the replication criteria take it; the original's is
    built from its two arms (``ContrastSide.from_original``).  ``OriginalSide`` is the old name.

    Attributes
    ----------
    conditions : tuple of str
        The declared condition names pooled on this side.
    complied, n : int or None
        Counts, published or derived; None when not available.
    rate : float or None
        ``complied / n`` when counts are known, else the published rate, else None.
    derived : bool
        True when the counts were derived from a published rate and n.
    source : str
        Where the figures used were read ("; "-joined when several).
    confidence : str
        The lowest confidence among the figures used (``primary``, ``secondary``, ``weak``), or "".
    reason : str
        Why the rate is missing ("" when a rate is known).
    alternatives : tuple of str
        Published figures for the same conditions that were NOT used (conflicts).
    notes : tuple of str
    """

    _aliases = {'estimate': 'rate', 'term': 'label'}
    _measure = "compliance rate"

    conditions: tuple[str, ...]
    complied: Optional[int]
    n: Optional[int]
    rate: Optional[float]
    derived: bool = False
    source: str = ""
    confidence: str = ""
    reason: str = ""
    alternatives: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The pooled conditions, ``a + b``."""
        return " + ".join(self.conditions)

    @property
    def has_counts(self) -> bool:
        return self.complied is not None and self.n is not None

    def __str__(self) -> str:
        label = " + ".join(self.conditions)
        if self.rate is None:
            return f"{label}: {self.reason}"
        if self.has_counts:
            how = "derived from the published rate and n" if self.derived else "published counts"
            fig = f"{self.complied}/{self.n} = {pct(self.rate)} ({how})"
        else:
            fig = f"{pct(self.rate)} (n not published)"
        return f"{label}: {fig}; {self.source} [{self.confidence}]"

    def to_dict(self) -> dict:
        return {"conditions": list(self.conditions), "complied": self.complied, "n": self.n, "rate": self.rate,
                "derived": self.derived, "source": self.source, "confidence": self.confidence,
                "reason": self.reason, "alternatives": list(self.alternatives), "notes": list(self.notes)}


#: The old name of :class:`OriginalArm`, kept importable.
OriginalSide = OriginalArm


@dataclass(frozen=True)
class OriginalEffect(Result):
    """The original study's figures for one declared contrast (treatment vs pooled controls)."""

    study: str
    experiment: int
    contrast: str
    measure: str
    treatment: OriginalArm
    control: OriginalArm
    notes: tuple[str, ...] = field(default=())

    @property
    def rates_known(self) -> bool:
        """Both rates are known (power of the original effect can be computed)."""
        return self.treatment.rate is not None and self.control.rate is not None

    @property
    def counts_known(self) -> bool:
        """Both sides have counts (published or derived): the original n is known."""
        return self.treatment.has_counts and self.control.has_counts

    @property
    def reason(self) -> str:
        """Why the effect is not computable ("" when both rates are known)."""
        return "; ".join(f"{s}: {side.reason}" for s, side in (("treatment", self.treatment),
                                                                 ("control", self.control)) if side.reason)

    @property
    def source(self) -> str:
        srcs = [s for s in (self.treatment.source, self.control.source) if s]
        return "; ".join(dict.fromkeys("; ".join(srcs).split("; "))) if srcs else ""

    @property
    def confidence(self) -> str:
        levels = [c for c in (self.treatment.confidence, self.control.confidence) if c]
        return max(levels, key=CONFIDENCE_LEVELS.index) if levels else ""

    def __str__(self) -> str:
        return (f"{self.study} Experiment {self.experiment}, {self.contrast}: "
                f"treatment {self.treatment}; control {self.control}")

    def to_dict(self) -> dict:
        return {"study": self.study, "experiment": self.experiment, "contrast": self.contrast,
                "measure": self.measure, "treatment": self.treatment.to_dict(), "control": self.control.to_dict(),
                "rates_known": self.rates_known, "counts_known": self.counts_known, "reason": self.reason,
                "source": self.source, "confidence": self.confidence, "notes": list(self.notes)}


# --------------------------------------------------------------------------- #
def _rows(pub: pd.DataFrame, condition: str, statistic: str) -> pd.DataFrame:
    """Rows with a value for ``condition`` (as a set of pooled names), best first."""
    want = set(split_conditions(condition))
    sel = pub[(pub["statistic"] == statistic) & pub["value"].notna()
              & (pub["control"] == "")
              & pub["condition"].map(lambda c: set(split_conditions(c)) == want).astype(bool)]
    return sel.sort_values(["confidence", "line"], kind="stable")


def _fig(r) -> str:
    return f"{r['as_printed'] or r['value']} ({r['source']}, {r['confidence']}, line {r['line']})"


def _worst(levels) -> str:
    levels = [str(c) for c in levels if str(c)]
    return max(levels, key=CONFIDENCE_LEVELS.index) if levels else ""


@dataclass
class _Cond:
    k: Optional[int] = None
    n: Optional[int] = None
    rate: Optional[float] = None
    derived: bool = False
    sources: list = field(default_factory=list)
    confidences: list = field(default_factory=list)
    alternatives: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _one(pub: pd.DataFrame, name: str) -> _Cond:
    """The figures of one condition (or one published pooled label)."""
    out = _Cond()
    ks, ns, rates = _rows(pub, name, "complied"), _rows(pub, name, "n"), _rows(pub, name, "rate")
    if len(ns):
        nr = ns.iloc[0]
        out.n = int(nr["value"])
        for _, r in ns.iloc[1:].iterrows():
            if int(r["value"]) != out.n:
                out.alternatives.append(f"n = {_fig(r)}")
    if len(ks) and out.n is not None:
        kr = ks.iloc[0]
        out.k = int(kr["value"])
        out.rate = out.k / out.n
        out.sources += [kr["source"], nr["source"]]
        out.confidences += [kr["confidence"], nr["confidence"]]
        for _, r in ks.iloc[1:].iterrows():
            if int(r["value"]) != out.k:
                out.alternatives.append(f"complied = {_fig(r)}")
        for _, r in rates.iterrows():
            tol = 0.5 * 10.0 ** -(int(r["decimals"]) if pd.notna(r["decimals"]) else 3) + 1e-12
            if abs(float(r["value"]) - out.rate) > tol:
                out.alternatives.append(f"rate = {_fig(r)}")
        return out
    if len(rates):
        rr = rates.iloc[0]
        out.rate = float(rr["value"])
        out.sources.append(rr["source"])
        out.confidences.append(rr["confidence"])
        for _, r in rates.iloc[1:].iterrows():
            if float(r["value"]) != out.rate:
                out.alternatives.append(f"rate = {_fig(r)}")
        if out.n is not None:
            decimals = int(rr["decimals"]) if pd.notna(rr["decimals"]) else 3
            k = int(math.floor(out.rate * out.n + 0.5))
            out.k, out.derived = k, True
            out.sources.append(nr["source"])
            out.confidences.append(nr["confidence"])
            note = (f"{name}: {k}/{out.n} derived from the published rate {rr['as_printed'] or out.rate} "
                    f"and n = {out.n} (k = rate × n rounded to the nearest integer)")
            if abs(k / out.n - out.rate) > 0.5 * 10.0 ** -decimals + 1e-12:
                note += (f"; {k}/{out.n} = {pct(k / out.n)} does not round to the printed rate: "
                         "the published rate and n disagree")
            out.notes.append(note)
            out.rate = k / out.n
    return out


def _side(pub: pd.DataFrame, names: tuple[str, ...]) -> OriginalArm:
    pooled = "+".join(names)
    if len(names) > 1:
        direct = _one(pub, pooled)
        if direct.rate is not None:
            parts = [direct]
        else:
            parts = [_one(pub, c) for c in names]
    else:
        parts = [_one(pub, names[0])]
    alternatives = tuple(a for p in parts for a in p.alternatives)
    notes = [n for p in parts for n in p.notes]
    if alternatives:
        notes.append(f"{pooled}: conflicting published figures; used counts first, then the highest "
                     f"confidence, then file order; not used: " + "; ".join(alternatives))
    sources = "; ".join(dict.fromkeys(s for p in parts for s in p.sources))
    conf = _worst(c for p in parts for c in p.confidences)
    derived = any(p.derived for p in parts)
    if all(p.k is not None and p.n is not None for p in parts):
        k, n = sum(p.k for p in parts), sum(p.n for p in parts)
        return OriginalArm(names, k, n, k / n, derived, sources, conf, "", alternatives, tuple(notes))
    missing = [c for c, p in zip(names if len(parts) > 1 else (pooled,), parts) if p.rate is None]
    if missing:
        return OriginalArm(names, None, None, None, False, sources, conf,
                            f"rates not published ({', '.join(missing)})", alternatives, tuple(notes))
    if len(parts) == 1:
        return OriginalArm(names, None, None, parts[0].rate, False, sources, conf, "", alternatives,
                            tuple(notes) + (f"{pooled}: n not published; counts unknown",))
    no_n = [c for c, p in zip(names, parts) if p.n is None]
    return OriginalArm(names, None, None, None, False, sources, conf,
                        f"not computable: original n unknown ({', '.join(no_n)}), needed to pool the rates",
                        alternatives, tuple(notes))


def original_effect(study: str, experiment: int, contrast: Union[str, int, object], *,
                    measure: str = "complied", published: Optional[pd.DataFrame] = None) -> OriginalEffect:
    """The original study's counts or rates for one declared contrast.

    Parameters
    ----------
    study : str or paradigms.base.Paradigm
        The declared paradigm, or its id (turned into the declaration by :mod:`analysis.declared`).
    experiment : int
    contrast : Contrast, str or int
        A :class:`paradigms.base.Contrast` of the experiment's plan, its label, or its
        index in ``plan.contrasts``.  Its sides are expanded to condition names with
        ``Experiment.members`` (a contrast on factor levels pools every condition at
        those levels).
    measure : str
        The published measure (``complied``).
    published : DataFrame, optional
        :func:`analysis.replication.published.load_published` output (default: the bundled file).

    Returns
    -------
    OriginalEffect
        ``treatment`` and ``control`` :class:`OriginalArm`; ``rates_known`` says whether
        both rates are known, ``counts_known`` whether the original n is known too.

    Raises
    ------
    AnalysisError
        Unknown study, experiment or contrast.

    Examples
    --------
    >>> e = original_effect("cialdini1975", 1, 0)
    >>> e.treatment.complied, e.treatment.n, e.control.complied, e.control.n
    (12, 24, 10, 48)
    >>> e = original_effect("burger1986", 1, 0)
    >>> e.control.rate, e.control.derived, e.control.n
    (0.4, True, 30)
    """
    from paradigms.base import DeclarationError

    try:
        paradigm = declaration(study)
        exp = paradigm.experiment(int(experiment))
    except (KeyError, ValueError, DeclarationError) as exc:
        raise AnalysisError(f"study {study!r} experiment {experiment!r}: {exc}") from None
    study = paradigm.id
    contrasts = exp.plan.contrasts
    if isinstance(contrast, int) and not isinstance(contrast, bool):
        if not 0 <= contrast < len(contrasts):
            raise AnalysisError(f"contrast {contrast}: {study} experiment {experiment} has contrasts "
                                f"0..{len(contrasts) - 1}")
        k = contrasts[contrast]
    elif isinstance(contrast, str):
        found = [c for c in contrasts if c.label == contrast]
        if not found:
            raise AnalysisError(f"contrast {contrast!r} is not declared in {study} experiment {experiment}; "
                                f"declared: {'; '.join(c.label for c in contrasts)}")
        k = found[0]
    else:
        k = contrast
    pub = load_published() if published is None else published
    pub = pub[(pub["study"] == study) & (pub["experiment"] == int(experiment)) & (pub["measure"] == measure)]
    pub = pub[pub["experiment"].notna()]
    if k.factor is None:
        treated, controls = (k.treatment,), tuple(k.control)
    else:
        # figures published per factor level are labelled by the level; else expand to conditions
        treated = (k.treatment,) if len(_rows(pub, k.treatment, "rate")) + len(_rows(pub, k.treatment, "n")) \
            else exp.members(k.treatment, k.factor)
        pooled = "+".join(k.control)
        controls = tuple(k.control) if (len(_rows(pub, pooled, "rate")) or all(
            len(_rows(pub, c, "rate")) for c in k.control)) else exp.members(k.control, k.factor)
    t, c = _side(pub, tuple(treated)), _side(pub, tuple(controls))
    return OriginalEffect(study, int(experiment), k.label, measure, t, c, t.notes + c.notes)
