"""Frozen result objects of the analysis, with APA sentences and JSON-safe dicts.

Every result has ``__str__`` (an APA-style sentence, e.g.
``χ²(1, N = 72) = 6.41, p = .011``) and ``to_dict()`` (plain Python types only;
NaN becomes ``None``), which is what ``compliance analyze --json`` prints.
"""
from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass, field
from typing import ClassVar, Mapping, Optional

import numpy as np

from analysis.format import format_number, format_p, pct, round_half_up  # re-exported: the one formatter

__all__ = [
    "Result",
    "Results",
    "Analyses",
    "FRAME_COLUMNS",
    "COMMON",
    "frame_of",
    "LikelihoodRatioTest",
    "format_p",
    "format_number",
    "round_half_up",
    "jsonable",
    "ConditionRate",
    "ChiSquareResult",
    "ContrastResult",
    "LogitTerm",
    "LogitResult",
    "ExclusionCount",
    "ExperimentAnalysis",
]


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #
def _isnan(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


_pct = pct  # the one percentage formatter (analysis.format.pct)


def jsonable(obj):
    """Convert a result (or nested containers of them) to JSON-safe Python objects.

    NaN and infinities become ``None``; numpy scalars become Python numbers; tuples
    become lists; objects with ``to_dict`` are converted with it.

    Examples
    --------
    >>> jsonable({'p': float('nan'), 'k': (1, 2), 'x': LikelihoodRatioTest('favor', 6.2, 2, 0.045)})['x']['pvalue']
    0.045
    >>> jsonable({'p': float('nan'), 'k': (1, 2)})
    {'p': None, 'k': [1, 2]}
    """
    if hasattr(obj, "to_dict") and not isinstance(obj, type):
        return obj.to_dict()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return None if (math.isnan(f) or math.isinf(f)) else f
    if obj is None or isinstance(obj, str):
        return obj
    try:
        import pandas as pd

        if obj is pd.NA or obj is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return str(obj)


#: The columns of every :meth:`Result.to_frame`, in this order (a class may add columns after them).
FRAME_COLUMNS = ("part", "result", "term", "measure", "estimate", "ci_low", "ci_high", "statistic", "pvalue", "n")

#: The attributes every result has (a field, a property reading an older-named field, or None).
COMMON = ("statistic", "pvalue", "ci_low", "ci_high")

_FRAME_KEYS = ("term", "estimate", "n") + COMMON


def _common_property(name: str) -> property:
    def get(self):
        source = type(self)._aliases.get(name)
        return None if source is None else getattr(self, source)

    get.__name__ = name
    get._common = True
    get.__doc__ = (f"The result's ``{name}`` under its common name (the field ``_aliases[{name!r}]`` "
                   f"names), or None where it does not apply.")
    return property(get)


def _adds_common(to_dict):
    def wrapped(self) -> dict:
        return self._with_common(to_dict(self))

    wrapped.__name__, wrapped.__doc__, wrapped.__wrapped__ = to_dict.__name__, to_dict.__doc__, to_dict
    wrapped._adds_common = True
    return wrapped


@dataclass(frozen=True)
class Result:
    """The base of every result object of :mod:`analysis`: a frozen dataclass.

    Every result has

    * ``str(result)``: an APA-style sentence (or a block of them);
    * the common attributes ``statistic``, ``pvalue``, ``ci_low`` and ``ci_high``:
      a field of that name, or a read-only property that reads the result's own
      older-named field (``chi2_p``, ``rd_ci_low``, ``rr_low``, ...; the class's
      ``_aliases`` says which), or None where the quantity does not apply;
    * ``to_dict()``: JSON-safe Python objects for ``--json``, every field under its
      own name (the keys ``--json`` consumers rely on) plus the common names that
      apply (added, never replacing a key);
    * ``to_frame()``: a tidy :class:`pandas.DataFrame`, one row per estimate or
      term, with the columns :data:`FRAME_COLUMNS` first (as statsmodels'
      ``summary_frame``); a result made of other results (an experiment's
      analysis, a model, a verdict table) stacks its parts' rows, ``part`` naming
      the field each row came from.

    A subclass declares, in the class attribute ``_aliases``, which of its fields
    (or properties) play the parts ``statistic``, ``pvalue``, ``ci_low``,
    ``ci_high``, ``estimate`` (the quantity the CI belongs to), ``term`` (what
    labels a row), ``n`` and ``measure`` (when the field says what the estimate is),
    and in ``_measure`` what its estimate is otherwise.

    Examples
    --------
    >>> from analysis.stats.binary import pearson_chi2
    >>> r = pearson_chi2([[30, 10], [15, 25]], warn=False)
    >>> isinstance(r, Result), round(r.statistic, 4), round(r.pvalue, 6)
    (True, 11.4286, 0.000723)
    >>> list(r.to_frame().columns) == list(FRAME_COLUMNS)
    True
    """

    #: common name (and frame key) -> the field or property holding it; a missing key means None
    _aliases: ClassVar[Mapping[str, str]] = {}
    #: what ``estimate`` is (a frame's ``measure``), e.g. "risk difference"
    _measure: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fields_above = set()
        for base in cls.__mro__[1:]:
            fields_above |= set(getattr(base, "__dataclass_fields__", {}))
        own = set(cls.__dict__.get("__annotations__", {})) | set(cls.__dict__)
        for name in COMMON:
            if name not in own and name not in fields_above and not _inherits_own(cls, name):
                setattr(cls, name, _common_property(name))
        to_dict = cls.__dict__.get("to_dict")
        if to_dict is not None and not getattr(to_dict, "_adds_common", False):
            cls.to_dict = _adds_common(to_dict)

    def _with_common(self, d: dict) -> dict:
        """``d`` with the common names that apply added (an existing key is never replaced)."""
        if isinstance(d, dict):
            for name in COMMON:
                if name not in d and (name in self._aliases or name in _field_names(self)):
                    d[name] = jsonable(getattr(self, name))
        return d

    def to_dict(self) -> dict:
        """The fields as JSON-safe Python objects (NaN becomes None), plus the common names.

        Examples
        --------
        >>> from analysis.stats.binary import pearson_chi2
        >>> d = pearson_chi2([[30, 10], [15, 25]], warn=False).to_dict()
        >>> sorted(d)
        ['correction', 'df', 'min_expected', 'n', 'notes', 'pvalue', 'statistic']
        """
        return self._with_common({f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)})

    # ----------------------------------------------------------------------- notebooks
    def _repr_html_(self) -> str:
        """Jupyter shows a result as it reads in the terminal (its ``str``), in a monospace block.

        Examples
        --------
        >>> from analysis.stats.binary import pearson_chi2
        >>> pearson_chi2([[25, 15], [12, 28]])._repr_html_()
        '<pre class="compliance-result">χ²(1, N = 80) = 8.50, p = .004</pre>'
        """
        return f'<pre class="compliance-result">{html.escape(str(self))}</pre>'

    def _repr_markdown_(self) -> str:
        """The same as Markdown (a fenced block), for front ends that prefer it."""
        return "```text\n" + str(self) + "\n```"

    # ----------------------------------------------------------------------- tidy frames
    def _value(self, key: str):
        if key in COMMON:
            return getattr(self, key)
        source = self._aliases.get(key, "n" if key == "n" else None)
        return None if source is None else getattr(self, source, None)

    def _parts(self):
        """(field name, result) for every result this one is made of, in field order."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Result):
                yield f.name, v
            elif isinstance(v, (tuple, list)):
                for x in v:
                    if isinstance(x, Result):
                        yield f.name, x

    def _own_row(self, part: str = "") -> dict:
        measure = getattr(self, self._aliases["measure"]) if "measure" in self._aliases else self._measure
        row = {"part": part, "result": type(self).__name__, "measure": measure or None}
        row.update({k: self._value(k) for k in _FRAME_KEYS})
        return row

    def _frame_rows(self, part: str = "") -> list:
        parts = list(self._parts())
        rows = []
        if not parts or any(k in self._aliases for k in ("estimate",) + COMMON):
            rows.append(self._own_row(part))
        for name, child in parts:
            rows += child._frame_rows(f"{part}.{name}" if part else name)
        return rows

    def to_frame(self) -> "pd.DataFrame":
        """A tidy DataFrame: one row per estimate or term, the columns :data:`FRAME_COLUMNS`.

        ``part`` is the field a row came from ("" for the result itself), ``result``
        the class of the row's result, ``term`` its label, ``measure`` what
        ``estimate`` is, ``ci_low``/``ci_high`` the interval of ``estimate``,
        ``statistic``/``pvalue`` the test, ``n`` the observations.  Values are
        those of the attributes (NaN stays NaN; ``to_dict`` turns it into None).

        Examples
        --------
        >>> from analysis.stats.binary import condition_rate
        >>> condition_rate("control", 2, 4).to_frame()[["term", "estimate", "n"]]
              term  estimate  n
        0  control       0.5  4
        """
        return frame_of(self._frame_rows())


class Results(list):
    """A list of results that reads well: ``str`` is each result's text, a blank line between,
    and Jupyter shows them the same way; everything else is a list's (``(e1,) = results`` works).

    Examples
    --------
    >>> from analysis.stats.binary import pearson_chi2
    >>> rs = Results([pearson_chi2([[25, 15], [12, 28]]), pearson_chi2([[5, 5], [5, 5]], warn=False)])
    >>> print(rs)
    χ²(1, N = 80) = 8.50, p = .004
    <BLANKLINE>
    χ²(1, N = 20) = 0.00, p > .999
    >>> (first, second) = rs; len(rs), isinstance(rs, list)
    (2, True)
    """

    def __str__(self) -> str:
        return "\n\n".join(str(r) for r in self)

    def _repr_html_(self) -> str:
        return "\n".join(r._repr_html_() if hasattr(r, "_repr_html_") else
                         f'<pre class="compliance-result">{html.escape(str(r))}</pre>' for r in self)

    def _repr_markdown_(self) -> str:
        return "```text\n" + str(self) + "\n```"

    def to_dict(self) -> list:
        """Each result's ``to_dict()``, in order."""
        return [jsonable(r) for r in self]


class Analyses(Results):
    """What :func:`analysis.analyze` returns: one analysis per experiment found, as a :class:`Results`
    list (``(res,) = analyze(folder)`` works), each headed by its data's origin line where the data are
    not real (``SIMULATED DATA: ...``, ``PILOT DATA: ...``), in ``str``, Jupyter and Markdown alike.

    Examples
    --------
    >>> from analysis.stats.binary import pearson_chi2
    >>> rs = Analyses([pearson_chi2([[25, 15], [12, 28]])], labels=["SIMULATED DATA: not evidence about people"])
    >>> print(rs)
    SIMULATED DATA: not evidence about people
    χ²(1, N = 80) = 8.50, p = .004
    >>> rs.labels, len(rs)
    (('SIMULATED DATA: not evidence about people',), 1)
    """

    def __init__(self, items=(), labels=()):
        super().__init__(items)
        labels = tuple(labels)
        self.labels = labels + ("",) * (len(self) - len(labels))

    def _texts(self) -> list:
        return [(f"{label}\n" if label else "") + str(r) for r, label in zip(self, self.labels)]

    def __str__(self) -> str:
        return "\n\n".join(self._texts())

    def _repr_html_(self) -> str:
        return "\n".join(f'<pre class="compliance-result">{html.escape(t)}</pre>' for t in self._texts())


def _field_names(obj) -> set:
    return {f.name for f in dataclasses.fields(obj)}


def _inherits_own(cls, name: str) -> bool:
    """True when a class between ``cls`` and :class:`Result` defines ``name`` itself (not our alias)."""
    for base in cls.__mro__[1:]:
        if base is Result:
            return False
        if name in base.__dict__:
            v = base.__dict__[name]
            return not (isinstance(v, property) and getattr(v.fget, "_common", False))
    return False


def frame_of(rows, extra: tuple = ()) -> "pd.DataFrame":
    """A DataFrame of row dicts with the columns :data:`FRAME_COLUMNS` (then ``extra``).

    Examples
    --------
    >>> list(frame_of([{"term": "x", "estimate": 1.0}]).columns)[:5]
    ['part', 'result', 'term', 'measure', 'estimate']
    """
    import pandas as pd

    return pd.DataFrame(list(rows), columns=list(FRAME_COLUMNS) + [c for c in extra if c not in FRAME_COLUMNS])


#: The older name of the base (``analysis.results._Result``), kept importable.
_Result = Result


# --------------------------------------------------------------------------- #
# Result objects
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ConditionRate(Result):
    """Compliance in one condition, with a Wilson score interval.

    ``rate``, ``ci_low`` and ``ci_high`` are NaN when ``n == 0``.
    """

    _aliases = {"estimate": "rate", "term": "condition"}
    _measure = "compliance rate"

    condition: str
    n: int
    complied: int
    rate: float
    ci_low: float
    ci_high: float
    method: str = "wilson"
    confidence: float = 0.95
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.n == 0:
            return f"{self.condition}: no participants analysed"
        return (f"{self.condition}: {self.complied}/{self.n} complied ({_pct(self.rate)}), "
                f"{pct(self.confidence, 0)} CI [{_pct(self.ci_low)}, {_pct(self.ci_high)}] ({self.method.capitalize()})")


@dataclass(frozen=True)
class ChiSquareResult(Result):
    """A Pearson chi-square test of independence (conditions × complied)."""

    _aliases = {"statistic": "statistic", "pvalue": "pvalue"}
    _measure = "Pearson chi-square"

    statistic: float
    df: int
    n: int
    pvalue: float
    correction: bool = False
    min_expected: float = math.nan
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        tag = " (Yates)" if self.correction else ""
        return (f"χ²({self.df}, N = {self.n}) = {format_number(self.statistic)}, "
                f"{format_p(self.pvalue)}{tag}")


@dataclass(frozen=True)
class ContrastResult(Result):
    """A treatment against one or more pooled control conditions.

    Methods (pinned): risk difference with Newcombe's hybrid score interval
    (method 10 of Newcombe 1998); odds ratio with Woolf's log interval, Haldane's
    0.5 added to every cell only when a cell is zero; risk ratio with the Katz log
    interval, same correction; Cohen's h = 2 asin √p1 − 2 asin √p2; Pearson χ² with
    and without Yates' correction; Fisher's exact test and Barnard's exact test
    (pooled Wald statistic), both two-sided.
    """

    _aliases = {"statistic": "chi2", "pvalue": "chi2_p", "ci_low": "rd_ci_low", "ci_high": "rd_ci_high",
                "estimate": "risk_difference", "term": "label"}
    _measure = "risk difference"

    treatment: str
    control: tuple[str, ...]
    label: str
    confirmatory: bool
    n_treatment: int
    complied_treatment: int
    n_control: int
    complied_control: int
    rate_treatment: float
    rate_control: float
    risk_difference: float
    rd_ci_low: float
    rd_ci_high: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    risk_ratio: float
    rr_ci_low: float
    rr_ci_high: float
    cohens_h: float
    chi2: float
    chi2_p: float
    chi2_yates: float
    chi2_yates_p: float
    fisher_p: float
    barnard_p: float
    min_expected: float
    haldane_corrected: bool = False
    confidence: float = 0.95
    notes: tuple[str, ...] = ()

    @property
    def control_label(self) -> str:
        return " + ".join(self.control)

    @property
    def n(self) -> int:
        return self.n_treatment + self.n_control

    def __str__(self) -> str:
        ci = f"{pct(self.confidence, 0)} CI"
        rd = (f"RD = {format_number(self.risk_difference, leading_zero=False)}, {ci} "
              f"[{format_number(self.rd_ci_low, leading_zero=False)}, "
              f"{format_number(self.rd_ci_high, leading_zero=False)}]")
        orr = (f"OR = {format_number(self.odds_ratio)}, {ci} [{format_number(self.or_ci_low)}, "
               f"{format_number(self.or_ci_high)}]" + (" (Haldane-corrected)" if self.haldane_corrected else ""))
        return (f"{self.treatment} vs {self.control_label}: "
                f"{self.complied_treatment}/{self.n_treatment} ({_pct(self.rate_treatment)}) vs "
                f"{self.complied_control}/{self.n_control} ({_pct(self.rate_control)}); {rd}; {orr}; "
                f"h = {format_number(self.cohens_h)}; "
                f"χ²(1, N = {self.n}) = {format_number(self.chi2)}, {format_p(self.chi2_p)}; "
                f"Fisher's exact {format_p(self.fisher_p)}")

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["control"] = self.control_label
        d["control_conditions"] = list(self.control)
        d["n"] = self.n
        d["apa"] = str(self)
        return d


@dataclass(frozen=True)
class LogitTerm(Result):
    """One condition's coefficient against the reference level."""

    _aliases = {"statistic": "z", "pvalue": "pvalue", "ci_low": "or_ci_low", "ci_high": "or_ci_high",
                "estimate": "odds_ratio", "term": "condition"}
    _measure = "odds ratio"

    condition: str
    coef: float
    se: float
    z: float
    pvalue: float
    odds_ratio: float
    or_ci_low: float
    or_ci_high: float
    #: "wald" (ML), or how the term was estimated where the ML estimate is infinite
    method: str = "wald"

    def __str__(self) -> str:
        how = "" if self.method == "wald" else f" ({self.method})"
        return (f"{self.condition}: b = {format_number(self.coef)}, SE = {format_number(self.se)}, "
                f"OR = {format_number(self.odds_ratio)}, 95% CI [{format_number(self.or_ci_low)}, "
                f"{format_number(self.or_ci_high)}], z = {format_number(self.z)}, {format_p(self.pvalue)}{how}")


@dataclass(frozen=True)
class LogitResult(Result):
    """Logistic regression of compliance on condition (treatment coding)."""

    _aliases = {"statistic": "lr_chi2", "pvalue": "lr_p", "term": "formula"}
    _measure = "likelihood-ratio chi-square"

    formula: str
    reference: str
    n: int
    terms: tuple[LogitTerm, ...]
    lr_chi2: float
    lr_df: int
    lr_p: float
    converged: bool
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = (f"Logistic regression, reference = {self.reference}, N = {self.n}: "
                f"LR χ²({self.lr_df}) = {format_number(self.lr_chi2)}, {format_p(self.lr_p)}")
        if not self.terms:
            return head + ("; " + "; ".join(self.notes) if self.notes else "")
        return head + "; " + "; ".join(str(t) for t in self.terms) + "".join(f"; note: {n}" for n in self.notes)


@dataclass(frozen=True)
class ExclusionCount(Result):
    """Rows left out of the tests: ``status`` is ``excluded`` or ``withdrawn``."""

    _aliases = {"term": "condition"}

    condition: str
    status: str
    reason: str
    n: int

    def __str__(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"{self.condition}: {self.n} {self.status}{why}"


@dataclass(frozen=True)
class LikelihoodRatioTest(Result):
    """A likelihood-ratio test of nested models (H0: the dropped term's coefficients are all zero).

    The one LR test class of the analysis: the count models' type II tests
    (:mod:`analysis.stats.counts`, formerly ``LRTest``) and the factorial logistic
    model's moderation test (:mod:`analysis.stats.factorial`) are both this class.
    ``term`` names the term tested (``label`` is the same, the name
    :mod:`analysis.stats.factorial` used); ``chi2`` is twice the log-likelihood
    difference on ``df`` degrees of freedom, ``p`` its upper-tail χ² p.  When the
    test could not be computed, ``chi2`` and ``p`` are NaN and ``notes`` say why.

    Examples
    --------
    >>> t = LikelihoodRatioTest("favor", 6.2, 2, 0.0450492)
    >>> print(t)
    favor: LR χ²(2) = 6.20, p = .045
    >>> t.statistic == t.chi2 and t.pvalue == t.p and t.label == t.term
    True
    """

    term: str
    chi2: float
    df: int
    p: float
    notes: tuple[str, ...] = ()

    _aliases = {"statistic": "chi2", "pvalue": "p", "term": "term"}
    _measure = "likelihood-ratio chi-square"

    @property
    def label(self) -> str:
        """The term tested (the field's name in :mod:`analysis.stats.factorial`'s former class)."""
        return self.term

    def test_text(self) -> str:
        """``χ²(df) = x, p = .yyy``, or the notes when the test was not computed."""
        if _isnan(self.chi2) and self.notes:
            return "; ".join(self.notes)
        return f"χ²({self.df}) = {format_number(self.chi2)}, {format_p(self.p)}"

    def __str__(self) -> str:
        if _isnan(self.chi2) and self.notes:
            return f"{self.term}: {self.test_text()}"
        return f"{self.term}: LR {self.test_text()}"

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["label"] = self.term
        return d


@dataclass(frozen=True)
class ExperimentAnalysis(Result):
    """Everything ``compliance analyze`` reports for one experiment of one paradigm."""

    paradigm: str
    experiment: int
    title: str
    conditions: tuple[ConditionRate, ...]
    contrasts: tuple[ContrastResult, ...]
    omnibus: ChiSquareResult
    logit: Optional[LogitResult]
    n_analysed: int
    n_excluded: int
    n_withdrawn: int
    exclusions: tuple[ExclusionCount, ...] = ()
    files: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: the declared factorial model (the plan is a ``FactorialLogitPlan``), e.g. Pollock's
    #: technique x price logistic regression (:mod:`analysis.stats.factorial`)
    interaction: Optional[object] = None
    #: records whose outcome is not known yet (a mailed card inside its reply window): never analysed
    n_pending: int = 0

    def to_dict(self) -> dict:
        d = super().to_dict()
        model = d.pop("interaction")
        if model is not None:  # the headline parts at the top level, the whole model beside them
            d["interaction"] = model.get("interaction")
            d["simple_effects"] = model.get("simple_effects")
            d["factorial_model"] = model
        return d

    def __str__(self) -> str:
        lines = [f"{self.paradigm}, Experiment {self.experiment}: {self.title}",
                 f"  analysed N = {self.n_analysed}; excluded {self.n_excluded}; "
                 f"withdrawn {self.n_withdrawn} (never analysed)"
                 + (f"; pending {self.n_pending} (outcome not known yet, not analysed)" if self.n_pending else "")]
        lines.append("  Compliance by condition (Wilson 95% CI):")
        lines += [f"    {c}" for c in self.conditions]
        lines.append("  Contrasts (treatment vs pooled controls):")
        for k in self.contrasts:
            tag = "" if k.confirmatory else " [not confirmatory]"
            lines.append(f"    {k.label}{tag}")
            lines.append(f"      {k}")
        lines.append(f"  Omnibus: {self.omnibus}")
        if self.logit is not None:
            lines.append(f"  {self.logit}")
        if self.interaction is not None:
            lines += ["  " + line for line in str(self.interaction).splitlines()]
        for n in self.notes:
            lines.append(f"  Note: {n}")
        return "\n".join(lines)
