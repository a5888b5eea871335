"""The vocabulary a paradigm is declared in.

A paradigm module (``paradigms/cialdini1975.py`` and its siblings) is data: it
builds one :class:`Paradigm` out of the frozen dataclasses below, top to bottom.
Everything else -- schedules, the requester's screen, the CSV codebook, the
simulated participant, the printed protocol and the analysis plan -- is derived
from that one object, so nothing is written twice.

Nothing in this module (or in any paradigm declaration) imports PsychoPy.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping, Optional, Sequence

from .errors import ComplianceError

__all__ = [
    "Answer",
    "Step",
    "Condition",
    "Contrast",
    "ContrastPlan",
    "FactorialLogitPlan",
    "CountPlan",
    "Plan",
    "Measure",
    "Rate",
    "BinaryModel",
    "Experiment",
    "Paradigm",
    "declare",
    "DECLARED_NAMES",
    "SessionType",
    "FieldSession",
    "DeclarationError",
    "COMMON_MEASURES",
    "BINARY_MEASURES",
    "EXCLUSION_REASONS",
]


class DeclarationError(ComplianceError, ValueError):
    """A paradigm declaration, or a name looked up in one, is not valid."""


def _frozen(mapping: Optional[Mapping]) -> Mapping:
    return MappingProxyType(dict(mapping or {}))


# --------------------------------------------------------------------------- #
# Scripts: what the requester says, and the answers they can record.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Answer:
    """One answer the requester can record with a tap or a key.

    Parameters
    ----------
    code : str
        The value written to the data (``"agree"``, ``"refuse"``, ...).
    label : str
        Text on the touch button.
    key : str
        Keyboard shortcut for the same answer (a single PsychoPy key name).
    sets : mapping
        Measure values this answer records (``{"complied": 1}``).
    ends : bool
        If true, no further step of the script is run for this participant.
    tone : str, optional
        Colour of the button (``positive``, ``negative``, ``neutral``).
    """

    code: str
    label: str
    key: str
    sets: Mapping[str, object] = field(default_factory=dict)
    ends: bool = False
    #: button colour: "positive", "negative" or "neutral"; by default agree is
    #: positive, refuse negative, anything else neutral
    tone: Optional[str] = None
    #: the button's place from the left (0, 1, ...), the same on every screen of the study that offers
    #: it, so that a tap by position always means the same answer; a place no answer of a step takes is
    #: left empty.  Without it, answers sit in the order the step lists them
    position: Optional[int] = None

    def __post_init__(self):
        object.__setattr__(self, "sets", _frozen(self.sets))
        if self.position is not None and not (isinstance(self.position, int) and self.position >= 0):
            raise DeclarationError(f"answer {self.code!r}: position must be a whole number from 0, "
                                   f"not {self.position!r}")
        if self.tone not in (None, "positive", "negative", "neutral"):
            raise DeclarationError(f"answer {self.code!r}: tone must be positive, negative or neutral")


@dataclass(frozen=True)
class Step:
    """One thing the requester says, then waits for an answer.

    ``id`` names the step; the answer is stored in the column ``<id>_answer``
    and its time in ``t_<id>``.  ``target`` marks the target request, the one
    whose answer codes ``complied``.
    """

    id: str
    say: str
    answers: tuple[Answer, ...]
    note: str = ""
    target: bool = False
    #: a banner the screen shows ``cue_after`` seconds into the step (e.g.
    #: "INTERRUPT NOW: add the cookies"), for scripts whose timing matters
    cue: str = ""
    cue_after: Optional[float] = None
    #: values recorded when an answer is given before the cue is due (less than
    #: ``cue_after`` seconds after the previous tap), for the columns that answer
    #: does not set itself -- e.g. ``{"protocol_deviation": "interrupted_before_cue"}``
    before_cue: Mapping[str, object] = field(default_factory=dict)
    #: what the screen calls the step; default "FIRST REQUEST" / "TARGET REQUEST"
    title: str = ""

    @property
    def display_title(self) -> str:
        return self.title or ("TARGET REQUEST" if self.target else "FIRST REQUEST")

    def __post_init__(self):
        object.__setattr__(self, "before_cue", _frozen(self.before_cue))
        if self.cue and self.cue_after is None:
            raise DeclarationError(f"step {self.id!r}: a cue needs cue_after (seconds)")
        if self.before_cue and not self.cue:
            raise DeclarationError(f"step {self.id!r}: before_cue needs a cue")

    @property
    def answer_column(self) -> str:
        return f"{self.id}_answer"

    @property
    def time_column(self) -> str:
        return f"t_{self.id}"

    def answer(self, code: str) -> Answer:
        for a in self.answers:
            if a.code == code:
                return a
        raise DeclarationError(
            f"step {self.id!r} has no answer {code!r}; known: "
            + ", ".join(a.code for a in self.answers)
        )


@dataclass(frozen=True)
class Condition:
    """A between-subjects condition: its role and its script, step by step."""

    name: str
    role: str  # "treatment" or "control"
    summary: str
    steps: tuple[Step, ...]
    factors: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.role not in ("treatment", "control"):
            raise DeclarationError(f"condition {self.name!r}: role must be treatment or control, not {self.role!r}")
        object.__setattr__(self, "factors", _frozen(self.factors))


@dataclass(frozen=True)
class Contrast:
    """A planned comparison: one treatment against one or more pooled controls.

    By default ``treatment`` and ``control`` name conditions.  With ``factor``
    set they name levels of that factor, and each side pools every condition
    at those levels (e.g. ``favor = confederate_favor`` vs ``favor = no_favor``
    over both liking conditions).
    """

    treatment: str
    control: tuple[str, ...]
    label: str
    confirmatory: bool = True
    factor: Optional[str] = None

    def __post_init__(self):
        object.__setattr__(self, "control", tuple(self.control))

    @property
    def treatment_label(self) -> str:
        return f"{self.factor}={self.treatment}" if self.factor else self.treatment

    @property
    def control_label(self) -> str:
        return " + ".join(f"{self.factor}={c}" if self.factor else c for c in self.control)


# --------------------------------------------------------------------------- #
# The analysis plan: what is analysed, and which tests are confirmatory.
# The analysis (and power, replication verdicts, pooling, the report) chooses
# what to do by the plan's type, never by a study's name.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class ContrastPlan:
    """Binary outcome: each declared contrast is two proportions compared.

    ``contrasts`` are tested in order; those with ``confirmatory=True`` are the
    study's confirmatory tests (and what power, replication verdicts and pooling
    work on).  ``alpha`` is the confirmatory family's level and ``correction`` how
    it is shared over the family (``none``, ``holm`` or ``bonferroni``).
    """

    contrasts: tuple[Contrast, ...]
    alpha: float = 0.05
    correction: str = "none"

    def __post_init__(self):
        object.__setattr__(self, "contrasts", tuple(self.contrasts))
        if self.correction not in ("none", "holm", "bonferroni"):
            raise DeclarationError(f"plan: correction must be none, holm or bonferroni, not {self.correction!r}")
        if not 0 < self.alpha < 1:
            raise DeclarationError(f"plan: alpha must be between 0 and 1, not {self.alpha!r}")

    @property
    def confirmatory(self) -> tuple[Contrast, ...]:
        """The confirmatory contrasts, in declared order."""
        return tuple(k for k in self.contrasts if k.confirmatory)

    def check(self, experiment: "Experiment") -> None:
        """Raise :class:`DeclarationError` if the plan names what ``experiment`` lacks."""
        for k in self.contrasts:
            experiment.members(k.treatment, k.factor)
            experiment.members(k.control, k.factor)


@dataclass(frozen=True)
class FactorialLogitPlan(ContrastPlan):
    """Binary outcome with a confirmatory treatment × moderator interaction.

    The model is ``complied ~ treatment_factor * moderator + covariates`` (a
    logistic regression); ``treatment_level`` vs ``control_level`` of
    ``treatment_factor`` is the technique compared, and its simple effect at
    each level of ``moderator`` is reported beside the interaction (Pollock et
    al., 1998: technique × price, with reason as a covariate).  The inherited
    ``contrasts`` are the per-cell comparisons.
    """

    treatment_factor: str = ""
    moderator: str = ""
    treatment_level: str = ""
    control_level: str = ""
    covariates: tuple[str, ...] = ()

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "covariates", tuple(self.covariates))
        for name in ("treatment_factor", "moderator", "treatment_level", "control_level"):
            if not getattr(self, name):
                raise DeclarationError(f"FactorialLogitPlan: {name} is required")

    @property
    def factors(self) -> tuple[str, ...]:
        return (self.treatment_factor, self.moderator) + self.covariates

    def check(self, experiment: "Experiment") -> None:
        super().check(experiment)
        for f in self.factors:
            if f not in experiment.factors:
                raise DeclarationError(f"experiment {experiment.number}: the plan names unknown factor {f!r}")
        experiment.members(self.treatment_level, self.treatment_factor)
        experiment.members(self.control_level, self.treatment_factor)


@dataclass(frozen=True)
class CountPlan:
    """Count outcome in a two-factor design (Regan, 1971: favor × liking).

    Parameters
    ----------
    outcome : str
        The count column (``tickets``).
    factors : (str, str)
        The two design factors; the first is the one the contrasts compare.
    contrasts : tuple of Contrast
        Planned contrasts.  Those on levels of the first factor (``factor=``
        set) are tested on the counts, pooled over the second factor with equal
        cell weights; contrasts of single conditions (no ``factor``) are
        within-cell comparisons, listed but not tested on the counts.
    references : mapping
        Reference level of each factor in the regressions.
    score : str, optional
        A score correlated with the outcome within each level of the first
        factor (``liking_score``); None for none.
    correlation_pairs : tuple of (level, level)
        Levels of the first factor whose correlations are compared (Fisher z).
    threshold : int, optional
        The threshold measure is ``outcome > threshold``; None for none.
    threshold_contrast : (level, tuple of levels), optional
        Treatment level vs pooled control levels for the threshold measure.
    """

    outcome: str
    factors: tuple[str, str]
    contrasts: tuple[Contrast, ...]
    references: Mapping[str, str]
    score: Optional[str] = None
    correlation_pairs: tuple[tuple[str, str], ...] = ()
    threshold: Optional[int] = None
    threshold_contrast: Optional[tuple[str, tuple[str, ...]]] = None

    def __post_init__(self):
        object.__setattr__(self, "factors", tuple(self.factors))
        object.__setattr__(self, "contrasts", tuple(self.contrasts))
        object.__setattr__(self, "references", _frozen(self.references))
        object.__setattr__(self, "correlation_pairs", tuple(tuple(p) for p in self.correlation_pairs))
        if self.threshold_contrast is not None:
            t, c = self.threshold_contrast
            object.__setattr__(self, "threshold_contrast", (t, tuple(c)))
        if len(self.factors) != 2:
            raise DeclarationError(f"CountPlan: factors must name two factors, not {self.factors!r}")

    @property
    def confirmatory(self) -> tuple[Contrast, ...]:
        return tuple(k for k in self.contrasts if k.confirmatory)

    def check(self, experiment: "Experiment") -> None:
        for f in self.factors:
            if f not in experiment.factors:
                raise DeclarationError(f"experiment {experiment.number}: the plan names unknown factor {f!r}")
        for f, level in self.references.items():
            experiment.members(level, f)
        for k in self.contrasts:
            experiment.members(k.treatment, k.factor)
            experiment.members(k.control, k.factor)
        for pair in self.correlation_pairs:
            experiment.members(pair, self.factors[0])
        if self.threshold_contrast is not None:
            experiment.members(self.threshold_contrast[0], self.factors[0])
            experiment.members(self.threshold_contrast[1], self.factors[0])


#: Any analysis plan.
Plan = (ContrastPlan, CountPlan)


# --------------------------------------------------------------------------- #
# The codebook.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Measure:
    """One column of the data: its type, allowed values and meaning.

    ``dtype`` is one of ``string``, ``integer``, ``number``, ``datetime``.
    ``allowed`` restricts values; ``minimum``/``maximum`` bound numbers.
    ``missing_ok`` says whether an empty cell is valid (e.g. the answer to a
    request that was never made).
    """

    name: str
    dtype: str
    description: str
    allowed: Optional[tuple] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    missing_ok: bool = True

    def __post_init__(self):
        if self.dtype not in ("string", "integer", "number", "datetime"):
            raise DeclarationError(f"measure {self.name!r}: unknown dtype {self.dtype!r}")
        if self.allowed is not None:
            object.__setattr__(self, "allowed", tuple(self.allowed))

    def to_dict(self) -> dict:
        d = {"name": self.name, "dtype": self.dtype, "description": self.description,
             "missing_ok": self.missing_ok}
        if self.allowed is not None:
            d["levels"] = list(self.allowed)
        if self.minimum is not None:
            d["minimum"] = self.minimum
        if self.maximum is not None:
            d["maximum"] = self.maximum
        return d


#: Exclusion reasons every field paradigm offers the requester (code -> meaning).
EXCLUSION_REASONS: Mapping[str, str] = MappingProxyType({
    "knows_requester": "the passer-by knows the requester or the study",
    "left_before_request": "the passer-by walked on before the target request was made",
    "not_alone": "the passer-by was not alone when approached",
    "already_approached": "the passer-by had already been approached in this study",
    "agreed_first_request": "the passer-by agreed to the first (extreme) request, so no retreat was possible",
    "other": "another reason, described in the session notes",
})

#: Exclusion reasons the engine itself records: the session was quit with a
#: participant in progress; a lab participant declined consent.
ENGINE_EXCLUSION_REASONS: Mapping[str, str] = MappingProxyType({
    "session_quit": "the session was ended while this participant's record was in progress",
    "session_crash": "the session crashed (or was killed) while this participant's record was in progress; "
                     "the next session of the schedule records the slot as lost",
    "declined_consent": "the participant declined consent; nothing but the slot is kept",
})

#: Columns every session CSV carries, whatever the paradigm.
COMMON_MEASURES: tuple[Measure, ...] = (
    Measure("participant_id", "string", "pseudonym generated at approach; never a name or contact detail",
            missing_ok=False),
    Measure("study", "string", "paradigm id", missing_ok=False),
    Measure("experiment", "integer", "experiment number within the paradigm", minimum=1, missing_ok=False),
    Measure("site", "string", "site code (no place names needed)", missing_ok=False),
    Measure("session", "integer", "session number at this site", minimum=1, missing_ok=False),
    Measure("experimenter", "string", "pseudonymous code of the requester or experimenter", missing_ok=False),
    Measure("slot", "integer", "slot of the pre-registered schedule this participant filled", minimum=1),
    Measure("condition", "string", "condition name, as declared by the paradigm", missing_ok=False),
    Measure("excluded", "integer", "1 if the participant is excluded from the confirmatory tests",
            allowed=(0, 1), missing_ok=False),
    Measure("exclusion_reason", "string", "coded reason for an exclusion (empty if not excluded)",
            allowed=tuple(EXCLUSION_REASONS) + ("session_quit", "session_crash")),
    Measure("debriefed", "integer", "1 if the debriefing was given, 0 if it could not be",
            allowed=(0, 1), missing_ok=False),
    Measure("data_consent", "integer", "1 if the participant agreed that the data be used, 0 if they "
            "withdrew it (kept, marked, never analysed); empty if they could not be asked", allowed=(0, 1)),
    Measure("t_start", "datetime", "ISO 8601 time the participant was approached", missing_ok=False),
    Measure("t_end", "datetime", "ISO 8601 time the participant's record was completed", missing_ok=False),
)

#: Columns every binary-outcome paradigm adds.
BINARY_MEASURES: tuple[Measure, ...] = (
    Measure("complied", "integer", "1 if the participant agreed to the target request, 0 if not; "
            "empty if the target request was never made", allowed=(0, 1)),
)


# --------------------------------------------------------------------------- #
# Simulation model.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Rate:
    """A compliance probability for simulation, and where it comes from."""

    p: float
    source: str

    def __post_init__(self):
        if not 0.0 <= self.p <= 1.0:
            raise DeclarationError(f"rate {self.p!r} is outside [0, 1]")


@dataclass(frozen=True)
class BinaryModel:
    """Default simulation model of a binary paradigm: P(comply) per condition.

    ``first_agree`` is the probability of agreeing to a non-target request
    (Cialdini et al. report that nobody agreed to the extreme request).
    ``exclusion_rate`` is the probability a simulated passer-by is excluded.
    """

    rates: Mapping[str, Rate]
    first_agree: float = 0.0
    exclusion_rate: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "rates", _frozen(self.rates))

    def with_rates(self, overrides: Mapping[str, float]) -> "BinaryModel":
        rates = dict(self.rates)
        for cond, p in overrides.items():
            if cond not in rates:
                raise DeclarationError(f"--rate: unknown condition {cond!r}; known: {', '.join(rates)}")
            if not 0.0 <= float(p) <= 1.0:
                raise DeclarationError(f"--rate {cond}={p}: a compliance probability must be in [0, 1]")
            rates[cond] = Rate(float(p), "set on the command line")
        return BinaryModel(rates, self.first_agree, self.exclusion_rate)

    def describe(self) -> dict:
        """JSON-safe description (written to the session sidecar); every simulation model has one."""
        return {"kind": "binary", "first_agree": self.first_agree, "exclusion_rate": self.exclusion_rate,
                "rates": {k: {"p": r.p, "source": r.source} for k, r in self.rates.items()}}


# --------------------------------------------------------------------------- #
# Session types: how a paradigm is run.  The engine picks its driver by the
# type, the presentation its screen; a declaration only names one.
# --------------------------------------------------------------------------- #
class SessionType:
    """Base of the session types (:class:`FieldSession`, ``paradigms.vocab.lab.LabSession``).

    A subclass says which ``setting`` it is for (``"field"``, ``"lab"`` or ``"mail"``).
    ``deferred_outcome`` is true for a session type whose outcome arrives in a
    later record than the one a schedule slot opens (a mailed card, and its reply
    weeks later): its sessions go on after the schedule's slots are used (to
    record outcomes), and the loader joins the records of one participant.
    """

    setting = ""
    deferred_outcome = False
    #: every key of this kind of session and what it does, for the on-screen help (F1) and the README
    key_card: tuple[tuple[str, str], ...] = ()

    def measures(self) -> tuple["Measure", ...]:
        """The columns this kind of session fills beyond the common ones (none by default)."""
        return ()

    def protocol_texts(self) -> Mapping[str, str]:
        """What the printed protocol says differently for this kind of session (none by default):
        ``trained`` (who the training notes are for), ``session`` (a section on how the session runs),
        ``exclusions`` (how an exclusion is recorded), ``debriefing`` (how the debriefing is recorded)."""
        return {}


@dataclass(frozen=True)
class FieldSession(SessionType):
    """One requester's (or seller's) tablet: the script step by step, one tap per answer.

    A step may carry a timed cue (``Step.cue``, ``Step.cue_after``): the screen
    shows its banner that many seconds in.  ``speak_first`` is for simulation
    only: the probability that a simulated person answers a cued step before
    the cue (the requester then records the answer that sets
    ``protocol_deviation``); it needs a paradigm with cued steps.
    """

    speak_first: float = 0.0
    setting = "field"
    key_card = (
        ("Space", "Approach: take the next slot (ready screen)"),
        ("A / R", "the person agreed / refused; every answer's letter is on its button (C counselling, "
                  "B bought, N did not buy, I interrupted in time, F customer answered first)"),
        ("X", "Exclude...: then 1-6 picks the reason, B goes back to the script"),
        ("D / W / N", "after the debriefing: data kept / withdrew data / could not debrief"),
        ("Q", "End the session (asks first)"),
        ("Esc", "Quit the session (asks first; a person in progress is saved as excluded)"),
        ("F1", "this key card"),
    )

    def __post_init__(self):
        if not 0.0 <= float(self.speak_first) <= 1.0:
            raise DeclarationError(f"FieldSession: speak_first {self.speak_first!r} is outside [0, 1]")


# --------------------------------------------------------------------------- #
# Experiments and paradigms.
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Experiment:
    """One experiment: its conditions, its analysis plan and its simulation model."""

    number: int
    title: str
    conditions: tuple[Condition, ...]
    plan: "ContrastPlan | CountPlan"
    model: object
    notes: str = ""

    def __post_init__(self):
        names = [c.name for c in self.conditions]
        if len(set(names)) != len(names):
            raise DeclarationError(f"experiment {self.number}: duplicate condition names")
        if not isinstance(self.plan, Plan):
            raise DeclarationError(f"experiment {self.number}: plan must be a ContrastPlan, FactorialLogitPlan "
                                   f"or CountPlan, not {type(self.plan).__name__}")
        self.plan.check(self)

    @property
    def contrasts(self) -> tuple[Contrast, ...]:
        """Every declared contrast of the plan (confirmatory and not)."""
        return self.plan.contrasts

    def members(self, names, factor: Optional[str] = None) -> tuple[str, ...]:
        """Condition names behind contrast names (conditions, or levels of ``factor``)."""
        names = (names,) if isinstance(names, str) else tuple(names)
        if factor is None:
            for n in names:
                self.condition(n)
            return names
        levels = {c.factors.get(factor) for c in self.conditions}
        for n in names:
            if n not in levels:
                raise DeclarationError(f"experiment {self.number}: factor {factor!r} has no level {n!r}")
        return tuple(c.name for c in self.conditions if c.factors.get(factor) in names)

    @property
    def condition_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.conditions)

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise DeclarationError(
            f"unknown condition {name!r} in experiment {self.number}; known: {', '.join(self.condition_names)}"
        )

    @property
    def factors(self) -> tuple[str, ...]:
        out: list[str] = []
        for c in self.conditions:
            for f in c.factors:
                if f not in out:
                    out.append(f)
        return tuple(out)

    @property
    def answer_places(self) -> int:
        """How many places the answer buttons of this experiment's steps share (one more than the
        highest declared :attr:`Answer.position`; 0 when no answer declares one)."""
        positions = [a.position for c in self.conditions for s in c.steps for a in s.answers
                     if a.position is not None]
        return max(positions) + 1 if positions else 0

    @property
    def steps(self) -> tuple[Step, ...]:
        """Every distinct step id of every condition, in first-seen order."""
        seen: dict[str, Step] = {}
        for c in self.conditions:
            for s in c.steps:
                seen.setdefault(s.id, s)
        return tuple(seen.values())


_SETTINGS = ("field", "lab", "mail")
_OUTCOMES = {"binary": (ContrastPlan,), "count": (CountPlan,)}


@dataclass(frozen=True)
class Paradigm:
    """A whole study, declared as data.

    ``setting`` and ``outcome`` are derived, not declared: the setting is the
    session type's (:attr:`SessionType.setting`), the outcome the plans' (a
    :class:`ContrastPlan` or :class:`FactorialLogitPlan` analyses a ``binary``
    outcome, a :class:`CountPlan` a ``count``).  Both stay readable as
    attributes; a declaration that still gives one must agree with what it is
    derived from.

    It checks itself when built: ``setting``, ``session``, ``outcome``, each
    experiment's ``plan`` and simulation ``model`` must agree, and a
    :class:`DeclarationError` names the field that does not.
    """

    id: str
    citation: str
    title: str
    experiments: tuple[Experiment, ...]
    measures: tuple[Measure, ...]
    consent: str
    debriefing: str
    training: str
    coding_rules: str
    provenance: str
    exclusion_reasons: Mapping[str, str] = field(default_factory=lambda: EXCLUSION_REASONS)
    #: what the field screen says while the requester waits for the next person
    ready_say: str = "Wait for a passer-by walking alone."
    ready_note: str = "Tap Approach as you step towards them: the screen then shows the script."
    #: how the paradigm is run (FieldSession, LabSession, ...); by default one requester's tablet
    session: SessionType = field(default_factory=FieldSession)
    #: "field", "lab" or "mail": derived from ``session`` (give it only to state it; it must agree)
    setting: Optional[str] = None
    #: "binary" or "count": derived from the experiments' plans (give it only to state it; it must agree)
    outcome: Optional[str] = None

    def __post_init__(self):
        where = f"paradigm {self.id!r}"
        if not (isinstance(self.id, str) and self.id.isidentifier() and self.id == self.id.lower()):
            raise DeclarationError(f"{where}: id must be a lower-case identifier, e.g. 'cialdini1975'")
        if self.setting is not None and self.setting not in _SETTINGS:
            raise DeclarationError(f"{where}: setting must be one of {', '.join(_SETTINGS)}, not {self.setting!r}")
        if self.outcome is not None and self.outcome not in _OUTCOMES:
            raise DeclarationError(f"{where}: outcome must be one of {', '.join(_OUTCOMES)}, not {self.outcome!r}")
        object.__setattr__(self, "setting", self._derived_setting(where))
        object.__setattr__(self, "experiments", tuple(self.experiments))
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "exclusion_reasons", _frozen(self.exclusion_reasons))
        if not self.experiments:
            raise DeclarationError(f"{where}: experiments: at least one is needed")
        numbers = [e.number for e in self.experiments]
        if len(set(numbers)) != len(numbers):
            raise DeclarationError(f"{where}: experiments: duplicate experiment numbers {numbers}")
        object.__setattr__(self, "outcome", self._derived_outcome(where))
        for e in self.experiments:
            if self.outcome == "binary":
                if not isinstance(e.model, BinaryModel):
                    raise DeclarationError(f"{where}: experiment {e.number}: model must be a BinaryModel for a "
                                           f"binary outcome, not {type(e.model).__name__}")
                missing = [c for c in e.condition_names if c not in e.model.rates]
                if missing:
                    raise DeclarationError(f"{where}: experiment {e.number}: model: no simulation rate for "
                                           + ", ".join(missing))
        if getattr(self.session, "speak_first", 0.0) and not any(s.cue for e in self.experiments for s in e.steps):
            raise DeclarationError(f"{where}: session: speak_first needs a step with a timed cue")
        for m in self.measures:
            if not isinstance(m, Measure):
                raise DeclarationError(f"{where}: measures: {m!r} is not a Measure")

    def _derived_setting(self, where: str) -> str:
        """The session type's setting; a declared ``setting`` must be the same."""
        if not isinstance(self.session, SessionType):
            raise DeclarationError(f"{where}: session must be a session type (FieldSession, LabSession, ...), "
                                   f"not {type(self.session).__name__}")
        setting = self.session.setting
        if setting not in _SETTINGS:
            raise DeclarationError(f"{where}: session {type(self.session).__name__} says no setting: a session "
                                   f"type's setting must be one of {', '.join(_SETTINGS)}, not {setting!r}")
        if self.setting is not None and self.setting != setting:
            raise DeclarationError(f"{where}: session {type(self.session).__name__} is for the "
                                   f"{setting} setting, but setting is {self.setting!r}")
        return setting

    def _derived_outcome(self, where: str) -> str:
        """The outcome the experiments' plans analyse; a declared ``outcome`` must be the same."""
        first = self.experiments[0]  # its plan is a Plan: Experiment checks that
        outcome = self.outcome or next(o for o, plans in _OUTCOMES.items() if isinstance(first.plan, plans))
        plans = _OUTCOMES[outcome]
        for e in self.experiments:
            if isinstance(e.plan, plans):
                continue
            said = (f"experiment {first.number}'s {type(first.plan).__name__} does: one outcome per paradigm"
                    if self.outcome is None else f"use {plans[0].__name__}")
            raise DeclarationError(f"{where}: experiment {e.number}: plan {type(e.plan).__name__} does not "
                                   f"analyse a {outcome} outcome ({said})")
        return outcome

    def experiment(self, number: int) -> Experiment:
        for e in self.experiments:
            if e.number == int(number):
                return e
        raise DeclarationError(
            f"{self.id} has no experiment {number}; known: "
            + ", ".join(str(e.number) for e in self.experiments)
        )

    def codebook(self, experiment: Optional[int] = None) -> tuple[Measure, ...]:
        """Every column of the session CSV, in file order.

        With ``experiment`` given, the step columns are that experiment's;
        without it, the union over all experiments (the dataset description).
        The declaration is frozen, so each codebook is derived once and kept.
        """
        key = None if experiment is None else int(experiment)
        cache = self.__dict__.setdefault("_codebooks", {})
        if key not in cache:
            cache[key] = self._derive_codebook(key)
        return cache[key]

    def _derive_codebook(self, experiment: Optional[int]) -> tuple[Measure, ...]:
        exps: Sequence[Experiment] = (
            [self.experiment(experiment)] if experiment is not None else self.experiments
        )
        cols: dict[str, Measure] = {m.name: m for m in COMMON_MEASURES}
        conds = tuple(c.name for e in exps for c in e.conditions)
        cols["condition"] = Measure("condition", "string", "condition name, as declared by the paradigm",
                                    allowed=tuple(dict.fromkeys(conds)), missing_ok=False)
        for e in exps:
            for f in e.factors:
                levels = tuple(dict.fromkeys(c.factors[f] for c in e.conditions if f in c.factors))
                cols[f] = Measure(f, "string", f"factor {f!r} of the design", allowed=levels)
        # the reasons this paradigm's screens can record, and those the engine records itself
        reasons = list(self.exclusion_reasons) + list(ENGINE_EXCLUSION_REASONS)
        reasons += [a.sets["exclusion_reason"] for e in exps for c in e.conditions for st in c.steps
                    for a in st.answers if "exclusion_reason" in a.sets]
        cols["exclusion_reason"] = replace(cols["exclusion_reason"], allowed=tuple(dict.fromkeys(reasons)))
        if self.outcome == "binary":
            for m in BINARY_MEASURES:
                cols[m.name] = m
        for m in self.session.measures():
            cols[m.name] = m
        for m in self.measures:
            cols[m.name] = m
        for e in exps:
            for s in e.steps:
                codes = tuple(dict.fromkeys(a.code for c in e.conditions for st in c.steps
                                            if st.id == s.id for a in st.answers))
                prev = cols.get(s.answer_column)
                if prev is not None and prev.allowed:
                    codes = tuple(dict.fromkeys(prev.allowed + codes))
                cols[s.answer_column] = Measure(
                    s.answer_column, "string", f"answer to the step {s.id!r} (empty if not reached)",
                    allowed=codes)
                cols[s.time_column] = Measure(s.time_column, "datetime", f"time the answer to {s.id!r} was recorded")
        return tuple(cols.values())

    def columns(self, experiment: Optional[int] = None) -> tuple[str, ...]:
        return tuple(m.name for m in self.codebook(experiment))


#: The names every declaration module gives its parts, by the :class:`Paradigm` field each fills;
#: :func:`declare` takes them from the module, so a declaration names them once.
DECLARED_NAMES: Mapping[str, str] = MappingProxyType({
    "citation": "CITATION", "experiments": "EXPERIMENTS", "measures": "MEASURES", "consent": "CONSENT",
    "debriefing": "DEBRIEFING", "training": "TRAINING", "coding_rules": "CODING_RULES",
    "provenance": "PROVENANCE",
})


def declare(namespace: Mapping[str, object], **fields) -> Paradigm:
    """The paradigm a declaration module declares: its parts by their names, and what differs.

    Every declaration module builds the same parts under the same names (:data:`DECLARED_NAMES`:
    ``CITATION``, ``EXPERIMENTS``, ``MEASURES``, ``CONSENT``, ``DEBRIEFING``, ``TRAINING``,
    ``CODING_RULES``, ``PROVENANCE``); ``declare(globals(), id=..., title=..., session=...)`` takes
    them from the module and passes the rest (``fields``) to :class:`Paradigm` as given.

    A missing name, or a field given both ways, is a :class:`DeclarationError` that names it.
    """
    where = f"declaration {namespace.get('__name__', '?')}"
    missing = [name for name in DECLARED_NAMES.values() if name not in namespace]
    if missing:
        raise DeclarationError(f"{where}: no {', '.join(missing)} (a declaration names its parts "
                               f"{', '.join(DECLARED_NAMES.values())})")
    twice = [f for f in fields if f in DECLARED_NAMES]
    if twice:
        raise DeclarationError(f"{where}: {', '.join(twice)} given as an argument and as "
                               f"{', '.join(DECLARED_NAMES[f] for f in twice)}: say it once")
    return Paradigm(**{f: namespace[name] for f, name in DECLARED_NAMES.items()}, **fields)
