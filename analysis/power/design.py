"""One design decision per contrast: the test, allocation, alpha and sidedness of a declared contrast.

Every place that asks a design question of a declared contrast (``compliance power``,
``replicate``'s small telescopes, the report's power table, ``compliance plan``, the Python API)
reads it from :func:`design_of`, so the question has one answer (issue 21):

* **test**: the test the original reported for this contrast, i.e. the method that reproduces
  its published statistic (:func:`analysis.replication.reproduce.reproduce_experiment`); else
  the method that reproduces another published statistic of the same experiment ("the paper's
  test", e.g. Cialdini et al. 1975, Experiment 1: Pearson χ² without correction reproduces both
  its χ² = 6.42 and its χ² = .50); else Pearson's χ² without correction, assumed and said so.
  The original ran its test on every comparison it made, so a comparison it did not print is
  tested as it tested the others.
* **allocation**: from the declared conditions: the number of conditions pooled on the
  control side over the number on the treatment side (one condition vs two pooled controls
  is 1:2); the replication keeps equal cells per condition.
* **alpha and the multiplicity correction**: the plan's ``alpha`` and ``correction``
  (``none``, ``holm`` or ``bonferroni``) over its confirmatory family; ``alpha_per_test``
  is α/m for Bonferroni and for Holm (Holm's first step, the level at which a planned
  contrast must be able to reject on its own: conservative), α for none.
* **sidedness**: from the published ``tails`` of the contrast's p value (1: one-sided in the
  direction of the original's effect); two-sided when not published.
* **d33**: the effect the original's design (its n, its test, its sidedness, α) had 33%
  exact power to detect (Simonsohn, 2015), :func:`analysis.power.exact.d33`.

The original's power and d33 use the original's own test at the plan's ``alpha``; planning a
replication uses ``alpha_per_test``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from paradigms import limits

from analysis.errors import AnalysisError
from analysis.results import Result

__all__ = ["ContrastDesign", "design_of", "designs_of", "CORRECTIONS", "BASES", "basis_rates", "ContrastPlanRow",
           "telescopes_test_n", "plan_experiment"]

#: Multiplicity corrections a plan may declare.
CORRECTIONS = {"none": "no correction", "holm": "Holm's step-down correction",
               "bonferroni": "Bonferroni correction"}
_METHOD_TO_TEST = (("Yates", "yates"), ("Fisher", "fisher"), ("Barnard", "barnard"), ("Pearson", "chi2"))
_ASSUMED = "chi2"


@dataclass(frozen=True)
class ContrastDesign(Result):
    """The design of one declared contrast, each decision named once (see the module docstring).

    Attributes
    ----------
    study, experiment, label : the contrast.
    treatment, control : tuple of str
        The declared conditions on each side.
    test, test_source : the test (a key of :data:`analysis.power.exact.TESTS`) and why.
    alternative, alternative_source : ``two-sided``, ``greater`` or ``less``, and why.
    alpha, correction, family_size, alpha_per_test : the family's level and correction.
    ratio : float
        Control over treatment participants (the allocation), from the declared conditions.
    original : OriginalEffect
        The published figures (:func:`analysis.replication.original.original_effect`).

    A :class:`~analysis.results.Result`: no test, so ``statistic``, ``pvalue``, ``ci_low`` and
    ``ci_high`` are None; its frame row is the α per test (``estimate``), followed by the
    original's rows (part ``original``).
    """

    _aliases = {"term": "label", "estimate": "alpha_per_test"}
    _measure = "alpha per test (after the family's correction)"

    study: str
    experiment: int
    label: str
    treatment: tuple[str, ...]
    control: tuple[str, ...]
    test: str
    test_source: str
    alternative: str
    alternative_source: str
    alpha: float
    correction: str
    family_size: int
    alpha_per_test: float
    ratio: float
    original: object = field(repr=False, default=None)

    @property
    def allocation(self) -> str:
        """The allocation as ``a:b`` (treatment:control), e.g. ``1:2``."""
        a, b = len(self.treatment), len(self.control)
        g = math.gcd(a, b)
        return f"{a // g}:{b // g}"

    @property
    def p1(self) -> Optional[float]:
        """The original's treatment rate (None when not published)."""
        return self.original.treatment.rate if self.original is not None and self.original.rates_known else None

    @property
    def p2(self) -> Optional[float]:
        """The original's control rate (None when not published)."""
        return self.original.control.rate if self.original is not None and self.original.rates_known else None

    @property
    def n1(self) -> Optional[int]:
        """The original's treatment n (None when not published)."""
        return self.original.treatment.n if self.original is not None and self.original.counts_known else None

    @property
    def n2(self) -> Optional[int]:
        """The original's control n (None when not published)."""
        return self.original.control.n if self.original is not None and self.original.counts_known else None

    def describe(self) -> str:
        """The design in one phrase: test, sidedness, α and allocation.

        Examples
        --------
        >>> d = design_of("cialdini1975", 1, 0)
        >>> d.describe()
        "Pearson's χ² test (no continuity correction), two-sided, α = .05, allocation 1:2 (treatment:control)"
        """
        from analysis.power.exact import TESTS

        a = _alpha_text(self.alpha_per_test if self.correction != "none" else self.alpha)
        corr = "" if self.correction == "none" else (
            f" per test ({CORRECTIONS[self.correction]} over {self.family_size}, family α = "
            f"{_alpha_text(self.alpha)})")
        return (f"{TESTS[self.test]}, {self.alternative}, α = {a}{corr}, allocation {self.allocation} "
                f"(treatment:control)")

    def d33(self):
        """d33 of the original's design: :func:`analysis.power.exact.d33` at its n, test and sidedness.

        Returns None when the original's counts are not published.

        Examples
        --------
        >>> round(design_of("cialdini1975", 1, 1).d33().cohens_h, 3)
        0.438
        """
        if self.n1 is None or self.p2 is None or not 0 < self.p2 < 1:
            return None
        direction = "decrease" if (self.p1 is not None and self.p1 < self.p2) else "increase"
        if self.alternative != "two-sided":
            direction = "decrease" if self.alternative == "less" else "increase"
        return _d33_cached(self.n1, self.n2, self.p2, self.alpha, self.test, self.alternative, direction)

    def power_of_original(self):
        """Exact power of the original's test at its n to detect its own published effect (None if unknown).

        Examples
        --------
        >>> round(design_of("cialdini1975", 1, 0).power_of_original().power, 2)
        0.73
        """
        if self.n1 is None or not (0 < self.p1 < 1 and 0 < self.p2 < 1):
            return None
        from analysis.power.exact import power_two_proportions

        return power_two_proportions(self.p1, self.p2, self.n1, self.n2, self.alpha, self.test, self.alternative)

    def __str__(self) -> str:
        return f"{self.label}: {self.describe()}"

    def to_dict(self) -> dict:
        """JSON-ready: every decision, with the original's figures."""
        return {"study": self.study, "experiment": self.experiment, "label": self.label,
                "treatment": list(self.treatment), "control": list(self.control), "test": self.test,
                "test_source": self.test_source, "alternative": self.alternative,
                "alternative_source": self.alternative_source, "alpha": self.alpha,
                "correction": self.correction, "family_size": self.family_size,
                "alpha_per_test": self.alpha_per_test, "allocation": self.allocation, "ratio": self.ratio,
                "description": self.describe()}


def _alpha_text(alpha: float) -> str:
    """α as every output prints it (:func:`analysis.format.alpha_text`)."""
    from analysis.format import alpha_text

    return alpha_text(alpha)


@lru_cache(maxsize=256)
def _d33_cached(n1, n2, p2, alpha, test, alternative, direction):
    from analysis.power.exact import d33

    return d33(n1, n2, p2, alpha, test, alternative, direction=direction)


@lru_cache(maxsize=32)
def _reproduction(study: str, experiment: int):
    from analysis.errors import ReferenceDataError
    from analysis.replication.reproduce import reproduce_experiment

    try:
        return reproduce_experiment(study, experiment)
    except ReferenceDataError:
        return None


def _test_of(study: str, experiment: int, contrast) -> tuple[str, str]:
    """The test (see the module docstring: this contrast's reproduced method, the paper's, or assumed)."""
    rep = _reproduction(study, experiment)
    ctrl = "+".join(contrast.control)
    checks = list(rep.checks) if rep is not None else []
    mine = [c for c in checks if c.condition == contrast.treatment and c.control == ctrl]
    for c in mine:
        if c.statistic in ("chi2", "p") and c.match:
            for word, key in _METHOD_TO_TEST:
                if word in c.method:
                    return key, f"the original's test: {c.method} (reproduces its published {c.as_printed})"
    for c in checks:
        if c.statistic in ("chi2", "p") and c.match and c.control:
            for word, key in _METHOD_TO_TEST:
                if word in c.method:
                    return key, (f"the paper's test for its other comparisons: {c.method} (reproduces its "
                                 f"published {c.as_printed} for {c.condition} vs {c.control.replace('+', ' + ')})")
    if any(c.statistic == "chi2" and c.published is not None for c in mine):
        return _ASSUMED, ("the original reported a χ² test; without its counts the variant cannot be told: "
                          "Pearson's χ² (no correction) assumed")
    return _ASSUMED, "the original's test is not published: Pearson's χ² (no correction) assumed"


def _alternative_of(study: str, experiment: int, contrast, original) -> tuple[str, str]:
    from analysis.replication.published import load_published

    pub = load_published()
    rows = pub[(pub["study"] == study) & (pub["experiment"] == experiment) & (pub["condition"] == contrast.treatment)
               & (pub["control"] == "+".join(contrast.control)) & (pub["statistic"] == "p")]
    tails = [t for t in rows["tails"].tolist() if str(t).strip() not in ("", "nan", "None", "<NA>")] \
        if "tails" in rows else []
    if tails and int(float(tails[0])) == 1:
        p1, p2 = (original.treatment.rate, original.control.rate) if original.rates_known else (None, None)
        alt = "less" if (p1 is not None and p1 < p2) else "greater"
        return alt, "the original's p value is one-tailed"
    if tails:
        return "two-sided", "the original's p value is two-tailed"
    return "two-sided", "sidedness not published: two-sided"


def _plan_family(plan) -> tuple[float, str, int]:
    alpha = float(getattr(plan, "alpha", 0.05))
    correction = getattr(plan, "correction", "none")
    if correction not in CORRECTIONS:
        raise AnalysisError(f"plan correction {correction!r} is not one of {', '.join(CORRECTIONS)}")
    return alpha, correction, len(plan.confirmatory)


def design_of(study: str, experiment: int, contrast) -> ContrastDesign:
    """The design of one declared contrast: test, allocation, alpha, sidedness, the original's figures.

    Parameters
    ----------
    study : str
        Paradigm id.
    experiment : int
    contrast : Contrast, str or int
        A contrast of the plan, its label, or its index in ``plan.contrasts``.

    Returns
    -------
    ContrastDesign

    Raises
    ------
    AnalysisError
        Unknown study, experiment or contrast, or a plan without contrasts.

    Examples
    --------
    >>> d = design_of("cialdini1975", 1, 0)
    >>> d.test, d.allocation, d.alternative, d.alpha
    ('chi2', '1:2', 'two-sided', 0.05)
    """
    from analysis.declared import declaration
    from paradigms.base import DeclarationError

    from analysis.replication.original import original_effect

    try:
        exp = declaration(study).experiment(int(experiment))
    except (KeyError, DeclarationError, ValueError) as exc:
        raise AnalysisError(str(exc).strip("'\"")) from None
    k = _contrast(exp, contrast)
    treated, controls = exp.members(k.treatment, k.factor), exp.members(k.control, k.factor)
    original = original_effect(study, exp.number, k)
    test, test_source = _test_of(study, exp.number, k)
    alternative, alt_source = _alternative_of(study, exp.number, k, original)
    alpha, correction, m = _plan_family(exp.plan)
    per_test = alpha / m if correction in ("holm", "bonferroni") and m > 1 else alpha
    return ContrastDesign(study, exp.number, k.label, treated, controls, test, test_source, alternative, alt_source,
                          alpha, correction, m, per_test, len(controls) / len(treated), original)


def designs_of(study: str, experiment: int) -> tuple[ContrastDesign, ...]:
    """The design of every confirmatory contrast of an experiment, in declared order.

    Examples
    --------
    >>> [d.allocation for d in designs_of("cialdini1975", 1)]
    ['1:2', '1:1', '1:1']
    """
    from analysis.declared import declaration

    try:
        plan = declaration(study).experiment(int(experiment)).plan
    except Exception as exc:  # noqa: BLE001 - unknown study/experiment: one line
        raise AnalysisError(str(exc).strip("'\"")) from None
    return tuple(design_of(study, experiment, k) for k in plan.confirmatory)


def _contrast(exp, contrast):
    contrasts = exp.plan.contrasts
    if isinstance(contrast, int) and not isinstance(contrast, bool):
        if not 0 <= contrast < len(contrasts):
            raise AnalysisError(f"experiment {exp.number} has {len(contrasts)} contrasts, not index {contrast}")
        return contrasts[contrast]
    if isinstance(contrast, str):
        for k in contrasts:
            if k.label == contrast:
                return k
        raise AnalysisError(f"experiment {exp.number} has no contrast labelled {contrast!r}")
    return contrast


# --------------------------------------------------------------------------- #
# Planning a replication: the sample size for the whole confirmatory family
# --------------------------------------------------------------------------- #
#: Bases for the effect a replication is planned to detect.
BASES = {
    "original": "the original's estimate",
    "safeguard": "safeguard power: the lower limit of the original's 60% CI of Cohen's h "
                 "(Perugini, Gallucci & Costantini, 2014)",
    "telescopes": "small telescopes: d33, the effect the original had 33% power to detect (Simonsohn, 2015)",
}


def basis_rates(design: ContrastDesign, basis: str) -> tuple[Optional[float], float, str]:
    """The treatment and control rates a replication is planned for under ``basis``, and a note.

    ``original``: the original's rates.  ``safeguard``: Cohen's h of the original lowered to the
    lower limit of its two-sided 60% Wald interval, ``h - z_.80 · √(1/n1 + 1/n2)``
    (:func:`analysis.stats.effects.wald_ci`), turned back into a treatment rate at the original's
    control rate; not computable when that limit is at or beyond 0.  ``telescopes``: the
    treatment rate of d33.  The treatment rate is None, with the reason in the note, when not
    computable.

    Examples
    --------
    >>> d = design_of("cialdini1975", 1, 0)
    >>> p1, p2, _ = basis_rates(d, "safeguard")
    >>> round(p2, 4), 0.2083 < p1 < 0.5
    (0.2083, True)
    """
    from analysis.stats.effects import cohens_h, cohens_h_var, wald_ci

    if design.p1 is None:
        return None, math.nan, "not computable: the original's rates are not published"
    p1, p2 = design.p1, design.p2
    if basis == "original":
        return p1, p2, BASES["original"]
    if design.n1 is None:
        return None, p2, "not computable: the original's n is not published"
    if basis == "safeguard":
        h = cohens_h(p1, p2)
        lo, hi = wald_ci(h, cohens_h_var(design.n1, design.n2), 0.60)
        limit = lo if h > 0 else hi
        if limit * h <= 0:
            return None, p2, "not computable: the original's 60% CI of h includes 0"
        q = math.sin(math.asin(math.sqrt(p2)) + limit / 2) ** 2
        return q, p2, f"{BASES['safeguard']}: h = {limit:.3f}"
    if basis == "telescopes":
        r = design.d33()
        if r is None or math.isnan(r.p_treatment):
            return None, p2, "not computable: d33 not available"
        return r.p_treatment, p2, f"{BASES['telescopes']}: h = {r.cohens_h:.3f}"
    raise AnalysisError(f"--basis {basis!r}: not one of {', '.join(BASES)}")


@dataclass(frozen=True)
class ContrastPlanRow(Result):
    """One confirmatory contrast in a plan: the n per condition it needs under each basis.

    ``telescopes_test_n`` is Simonsohn's (2015) own small-telescopes sample size: the n per
    condition at which the one-sided test "the effect is smaller than d33" has 80% power when
    the true effect is 0 (normal approximation on Cohen's h, ``n1 = (z_{1-α} + z_.80)² (1 + 1/r)
    / h33²``; about 2.5 times the original's n), beside the n that detects d33 itself.

    A :class:`~analysis.results.Result` without a test (``statistic``, ``pvalue``, ``ci_low``,
    ``ci_high`` are None); ``to_dict()`` is the contrast's entry of ``compliance plan --json``;
    ``to_frame()`` has one row per basis (``estimate``: the n per condition), then the design's.
    """

    _measure = "n per condition"

    design: ContrastDesign
    rates: dict
    n_per_condition: dict
    notes: dict
    telescopes_test_n: Optional[int] = None

    def __str__(self) -> str:
        ns = ", ".join(f"{b} {'not computable' if n is None else n}" for b, n in self.n_per_condition.items())
        return f"{self.design.label}: n per condition: {ns}"

    def to_dict(self) -> dict:
        """The contrast's entry of ``compliance plan --json`` (design, label, rates, n per basis, notes)."""
        from analysis.results import jsonable

        return jsonable({"design": self.design.to_dict(), "label": self.design.label,
                         "rates": {b: {"p1": p[0], "p2": p[1]} for b, p in self.rates.items()},
                         "n_per_condition": self.n_per_condition, "notes": self.notes,
                         "telescopes_test_n": self.telescopes_test_n})

    def _frame_rows(self, part: str = "") -> list:
        """One row per basis (``estimate``: the n per condition it needs), then the design's rows."""
        rows = [{"part": part, "result": type(self).__name__, "term": self.design.label,
                 "measure": f"{self._measure} ({b})", "estimate": n, "ci_low": None, "ci_high": None,
                 "statistic": None, "pvalue": None, "n": None} for b, n in self.n_per_condition.items()]
        return rows + self.design._frame_rows(f"{part}.design" if part else "design")


def telescopes_test_n(design: ContrastDesign, target: float = 0.8) -> Optional[int]:
    """Simonsohn's small-telescopes n per condition (see :class:`ContrastPlanRow`); None without d33.

    Examples
    --------
    >>> d = design_of("cialdini1975", 1, 2)
    >>> round(telescopes_test_n(d) / d.n1, 1)     # about 2.5 times the original's n
    2.7
    """
    from analysis.stats.effects import z_critical

    r = design.d33()
    if r is None or math.isnan(r.cohens_h):
        return None
    za = z_critical(1 - 2 * design.alpha)          # one-sided level α
    zb = z_critical(2 * target - 1)                # one-sided power
    n1 = (za + zb) ** 2 * (1 + 1 / design.ratio) / r.cohens_h ** 2
    return int(math.ceil(n1 / len(design.treatment) - 1e-9))



def _check_within_exact_limit(design: ContrastDesign, p1: float, p2: float, target: float, alpha: float) -> None:
    """Refuse at once (one line) a sample size the exact search cannot reach within its table limit.

    The normal approximation on Cohen's h predicts n1; beyond :func:`paradigms.limits.exact_n_limit`
    the search would enumerate millions of tables at every n it tries and still find none (issue 22.7:
    every size has a stated limit, checked before work starts).
    """
    from analysis.format import alpha_text
    from analysis.power.exact import normal_approximation_n1
    from analysis.stats.effects import cohens_h

    h = abs(cohens_h(p1, p2))
    if h == 0 or not 0 < alpha < 1:
        return
    n1 = normal_approximation_n1(h, alpha, target, design.alternative == "two-sided", design.ratio)
    most = limits.exact_n_limit(design.ratio)
    if n1 > most:
        raise limits.LimitError(f"--target {target:g} at α = {alpha_text(alpha)}: {design.label} needs about "
                                f"{math.ceil(n1):,} per group (normal approximation), beyond the exact search's {most:,} per group: "
                                f"{limits.EXACT_N.why}")


def _n_needed(design: ContrastDesign, p1, p2, target: float, alpha: float):
    """n per condition for ``target`` power (first n reaching it; None when not computable/reached)."""
    from analysis.power.exact import sample_size_two_proportions

    if p1 is None or not (0 < p1 < 1 and 0 < p2 < 1) or abs(p1 - p2) < 1e-12:
        return None, None
    _check_within_exact_limit(design, p1, p2, target, alpha)
    r = sample_size_two_proportions(p1, p2, target, alpha, design.test, design.alternative, design.ratio,
                                    n_max=limits.exact_n_limit(design.ratio), design=design)
    if r.n_first is None:
        return None, r
    return int(math.ceil(r.n_first / len(design.treatment))), r


def plan_experiment(study: str, experiment: int, target: float = 0.8, alpha: Optional[float] = None,
                    basis: str = "original") -> dict:
    """The sample size a replication of one experiment needs: every confirmatory contrast, three bases.

    For each confirmatory contrast and each basis (:data:`BASES`) the first n per condition
    whose exact power (the contrast's test, at α per test after the declared correction, under
    the declared allocation) reaches ``target``.  The contrast needing the most participants
    under ``basis`` sets N: every declared condition gets that n; the power of every
    confirmatory contrast at that N is given.

    Returns
    -------
    dict
        ``rows`` (:class:`ContrastPlanRow`), ``sets_n`` (label), ``n_per_condition``,
        ``total_n``, ``conditions``, ``power`` (label -> PowerResult at N), ``alpha``,
        ``correction``, ``alpha_per_test``, ``basis``, ``target``.

    Examples
    --------
    >>> p = plan_experiment("burger1986", 1)
    >>> p["total_n"] == 2 * p["n_per_condition"]
    True
    """
    from analysis.declared import declaration
    from paradigms.base import ContrastPlan

    from analysis.power.exact import power_two_proportions

    if basis not in BASES:
        raise AnalysisError(f"--basis {basis!r}: not one of {', '.join(BASES)}")
    from paradigms.base import FactorialLogitPlan

    exp = declaration(study).experiment(int(experiment))
    if isinstance(exp.plan, FactorialLogitPlan):
        raise AnalysisError(f"{study} experiment {experiment}: the confirmatory test is the "
                            f"{exp.plan.treatment_factor} x {exp.plan.moderator} interaction, which has no exact "
                            f"power; use compliance power {study} --target POWER (simulated)")
    if not isinstance(exp.plan, ContrastPlan) or not exp.plan.confirmatory:
        raise AnalysisError(f"{study} experiment {experiment}: plan works on binary confirmatory contrasts "
                            f"(a ContrastPlan); this experiment declares a {type(exp.plan).__name__}")
    designs = designs_of(study, experiment)
    if alpha is not None:
        designs = tuple(_with_alpha(d, alpha) for d in designs)
    rows = []
    for d in designs:
        rates, ns, notes = {}, {}, {}
        for b in BASES:
            p1, p2, note = basis_rates(d, b)
            n, _ = _n_needed(d, p1, p2, target, d.alpha_per_test)
            rates[b], ns[b], notes[b] = (p1, p2), n, note
        rows.append(ContrastPlanRow(d, rates, ns, notes, telescopes_test_n(d, target)))
    needed = [(r.n_per_condition[basis], r.design.label) for r in rows if r.n_per_condition[basis] is not None]
    out = {"study": study, "experiment": int(experiment), "rows": rows, "basis": basis, "target": target,
           "alpha": designs[0].alpha, "correction": designs[0].correction, "alpha_per_test": designs[0].alpha_per_test,
           "family_size": len(designs), "conditions": list(exp.condition_names), "sets_n": None,
           "n_per_condition": None, "total_n": None, "power": {}}
    if not needed:
        return out
    n, label = max(needed)
    out.update(sets_n=label, n_per_condition=n, total_n=n * len(exp.condition_names))
    for r in rows:
        p1, p2 = r.rates[basis]
        d = r.design
        if p1 is not None and 0 < p1 < 1 and 0 < p2 < 1:
            out["power"][d.label] = power_two_proportions(p1, p2, n * len(d.treatment), n * len(d.control),
                                                          d.alpha_per_test, d.test, d.alternative)
    return out


def _with_alpha(d: ContrastDesign, alpha: float) -> ContrastDesign:
    from dataclasses import replace

    if not 0 < alpha < 1:
        raise AnalysisError(f"--alpha {alpha!r}: must be between 0 and 1")
    per = alpha / d.family_size if d.correction in ("holm", "bonferroni") and d.family_size > 1 else alpha
    return replace(d, alpha=alpha, alpha_per_test=per)
