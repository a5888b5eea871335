"""That's-not-all: Burger (1986).

Increasing compliance by improving the deal: The that's-not-all technique.
*Journal of Personality and Social Psychology, 51*(2), 277-283.

A seller at a bake-sale table states a price and then, *before the customer
answers*, improves the deal: two cookies are added "for that price"
(Experiment 1), or the price is cut from $1 to 75 cents (Experiment 2).  The
control customer is offered the final deal from the start.  The outcome is
whether the customer buys (``complied``) and what they paid (``amount_paid``).

The timing is the technique: the improvement must come before the customer
answers.  The seller's first screen (the opening offer) shows an orange
"INTERRUPT NOW" banner a few seconds in; the seller then taps whether the
improvement came in time or the customer spoke first.  A late interruption is
a *protocol deviation*, kept and flagged in ``protocol_deviation``, never an
exclusion.  Control conditions have no interruption step.

Read this module top to bottom: citation, answers, scripts, conditions, the
experiments (numbered as in the paper where the reference allows; see
PROVENANCE), measures, texts, and the driver whose simulated customer
sometimes answers before the seller can interrupt.  Everything else is
derived.
"""
from __future__ import annotations

from types import MappingProxyType

from .base import (EXCLUSION_REASONS, Answer, BinaryModel, Condition, Contrast, ContrastPlan, DeclarationError,
                   Experiment, Measure, Paradigm, Rate, Step)
from .engine.sessions import FieldDriver
from .engine.simulate import ScriptedParticipant

CITATION = (
    "Burger, J. M. (1986). Increasing compliance by improving the deal: The that's-not-all technique. "
    "Journal of Personality and Social Psychology, 51(2), 277-283."
)

#: Seconds after the opening-offer screen appears (the seller tapped Approach as
#: they began the line) at which the "INTERRUPT NOW" banner shows: time to say
#: the price and pause for a breath.  RECONSTRUCTION: the reference gives no timing.
INTERRUPT_AFTER_S = 2.5

#: Value of ``protocol_deviation`` when the customer answered before the improvement.
SPOKE_BEFORE_CUE = "spoke_before_cue"

#: Value of ``protocol_deviation`` when the seller tapped *Interrupted in time*
#: before the banner was due: the improvement came too early, before the pause.
INTERRUPTED_BEFORE_CUE = "interrupted_before_cue"

#: Probability that a simulated customer answers before the seller can interrupt.
#: A simulation assumption (no source reports how often this happened).
SPEAK_FIRST_P = 0.05

# --------------------------------------------------------------------------- #
# Answers the seller records (one tap, or the key in brackets).
# --------------------------------------------------------------------------- #
IN_TIME = Answer("in_time", "Interrupted in time [I]", "i", tone="positive")
ANSWERED_FIRST = Answer("answered_first", "Customer answered first [F]", "f",
                        sets={"protocol_deviation": SPOKE_BEFORE_CUE}, tone="negative")


def bought(price: float) -> Answer:
    """The customer bought at the final ``price`` (dollars)."""
    return Answer("agree", "Bought [B]", "b", sets={"complied": 1, "amount_paid": float(price)})


DID_NOT_BUY = Answer("refuse", "Did not buy [N]", "n", sets={"complied": 0, "amount_paid": 0.0})


def interruption_step(say: str, cue: str, improvement: str, show: str = "") -> Step:
    """The opening offer of a that's-not-all condition, with the timed cue.

    Both answers go on to the purchase step: a late improvement is still made
    (so the customer hears the same final deal) and flagged, not excluded.
    """
    return Step(
        id="opening_offer",
        say=say,
        note=(show + f"Say the line, then pause. At the orange banner ({INTERRUPT_AFTER_S:g} s in), {improvement} "
              f"at once, before the customer answers; tap I as you start. If the customer spoke first, tap F "
              f"and still {improvement}."),
        answers=(IN_TIME, ANSWERED_FIRST),
        cue=cue,
        cue_after=INTERRUPT_AFTER_S,
        before_cue={"protocol_deviation": INTERRUPTED_BEFORE_CUE},
        title="OPENING OFFER",
    )


def purchase_step(say: str, note: str, price: float) -> Step:
    """The final offer and the customer's decision (the target request)."""
    return Step(id="purchase", say=say, note=note, answers=(bought(price), DID_NOT_BUY), target=True,
                title="DECISION: BUY?")


# --------------------------------------------------------------------------- #
# The scripts.  The deals (a cupcake for 75 cents, two cookies added "for
# that price"; $1 cut to 75 cents) follow the reference; every sentence is a
# RECONSTRUCTION (see PROVENANCE).
# --------------------------------------------------------------------------- #
PRICE = 0.75  # dollars: the final price in every condition of every experiment

_DECIDE = ("Then wait for the customer's decision. Say nothing more about the price or the "
           "cakes. Tap Bought when they pay, Did not buy when they say no or walk away.")

COOKIES_OPENING = interruption_step(
    "These cupcakes are 75 cents each.",
    cue="INTERRUPT NOW: add the two cookies!",
    improvement="add the two cookies")

COOKIES_ADDED = purchase_step(
    "... and that's not all: for that price you also get these two cookies with it.",
    "Point to the two cookies as you add them. " + _DECIDE, PRICE)

COOKIES_FROM_START = purchase_step(
    "These cupcakes are 75 cents each, and for that price you get two cookies with it.",
    "Show the cupcake and the two cookies together as you say the price. " + _DECIDE, PRICE)

DOLLAR_OPENING = interruption_step(
    "These cupcakes are one dollar each.",
    cue="INTERRUPT NOW: cut the price to 75 cents!",
    improvement="cut the price")

PRICE_CUT = purchase_step(
    "... but that's not all: I'll let you have one for 75 cents.",
    _DECIDE, PRICE)

SEVENTY_FIVE_FROM_START = purchase_step(
    "These cupcakes are 75 cents each.",
    _DECIDE, PRICE)

BARGAIN_AT_ONCE = purchase_step(
    "These cupcakes were one dollar each, but we've reduced them: they're 75 cents now. "
    "That's a bargain.",
    "Say it in one breath: no pause, no interruption, the reduction is announced with the price. "
    + _DECIDE, PRICE)

# --------------------------------------------------------------------------- #
# Conditions.
# --------------------------------------------------------------------------- #
THATS_NOT_ALL = Condition(
    "thats_not_all", "treatment",
    "Cupcake at 75 cents; before the customer answers, two cookies are added for that price.",
    steps=(COOKIES_OPENING, COOKIES_ADDED))

CONTROL = Condition(
    "control", "control",
    "Cupcake and two cookies shown together at 75 cents from the start.",
    steps=(COOKIES_FROM_START,))

PRICE_REDUCTION = Condition(
    "price_reduction", "treatment",
    "Cupcake announced at $1; before the customer answers, the price is cut to 75 cents.",
    steps=(DOLLAR_OPENING, PRICE_CUT))

PRICE_REDUCTION_CONTROL = Condition(
    "price_reduction_control", "control",
    "Cupcake at 75 cents from the start.",
    steps=(SEVENTY_FIVE_FROM_START,))

BARGAIN_CONTROL = Condition(
    "bargain_control", "control",
    "Cupcake at 75 cents, announced at once as a bargain reduced from $1 (no interruption). "
    "RECONSTRUCTION of the abstract's bargain explanation.",
    steps=(BARGAIN_AT_ONCE,))

# --------------------------------------------------------------------------- #
# Experiments, numbered as in the paper where the reference allows.
# Rates: the published ones where they exist; otherwise borrowed, and said so.
# --------------------------------------------------------------------------- #
_E1 = ("Experiment 1: 73% (22/30 with n = 30) in several secondary sources; "
       "the seed article gives the same 73%")
_E1_CONTROL = ("Experiment 1: 40% (12/30 with n = 30) in several secondary sources. CONFLICT: the "
               "seed article gives 45%. 40% is the default because several sources agree on it and it "
               "is attainable with the reported n = 30 per condition (45% of 30 is 13.5); 45% is kept "
               "in data/published/ and can be simulated with --rate control=0.45")
_SIMILAR = ("not published: the seed article says only that the price-reduction figures were 'similar' "
            "to Experiment 1's; borrowed from Experiment 1 ({}) as a simulation assumption")
_BORROW6 = "not published (Experiment 6 is known only from the abstract); {}; a simulation assumption"

_UNKNOWN_COMMON = ("Not in the reference, so not scripted as fact: how customers were selected, who "
                   "ran the table, how the interruption was staged, the exact words, whether a customer "
                   "could buy more than one item.")

EXPERIMENTS = (
    Experiment(
        1, "Bake sale: two cookies added before the customer answers (that's-not-all) vs offered "
           "from the start",
        conditions=(THATS_NOT_ALL, CONTROL),
        plan=ContrastPlan((
            Contrast("thats_not_all", ("control",),
                     "that's-not-all vs the same deal from the start (the paper's Experiment 1)"),
        )),
        model=BinaryModel({
            "thats_not_all": Rate(0.73, _E1),
            "control": Rate(0.40, _E1_CONTROL),
        }),
        notes=("The paper's Experiment 1. n = 30 per condition (secondary). Bought: 73% vs 40% in several "
               "secondary sources, 73% vs 45% in the seed article (both kept in data/published/). The "
               "test statistic is not available. " + _UNKNOWN_COMMON),
    ),
    Experiment(
        2, "Price reduction: $1 cut to 75 cents before the customer answers vs 75 cents from the start",
        conditions=(PRICE_REDUCTION, PRICE_REDUCTION_CONTROL),
        plan=ContrastPlan((
            Contrast("price_reduction", ("price_reduction_control",),
                     "that's-not-all by price reduction vs the final price from the start"),
        )),
        model=BinaryModel({
            "price_reduction": Rate(0.73, _SIMILAR.format("73%")),
            "price_reduction_control": Rate(0.40, _SIMILAR.format("40%, the default control rate")),
        }),
        notes=("The seed article describes this variant without an experiment number. The abstract says "
               "Experiments 1-2 show the effect against a control offered the better deal at the outset, "
               "which fits it, so it is declared as Experiment 2; that the variant IS the paper's "
               "Experiment 2 is an assumption. Cell sizes, rates and tests are not available (the figures "
               "were 'similar'). " + _UNKNOWN_COMMON),
    ),
    Experiment(
        6, "Bargain control: the same reduction announced at once, without the interruption",
        conditions=(PRICE_REDUCTION, BARGAIN_CONTROL),
        plan=ContrastPlan((
            Contrast("price_reduction", ("bargain_control",),
                     "that's-not-all vs a bargain announced without the interruption (rules out a pure "
                     "bargain explanation, per the abstract)"),
        )),
        model=BinaryModel({
            "price_reduction": Rate(0.73, _BORROW6.format("borrowed from Experiment 1's 73%")),
            "bargain_control": Rate(0.40, _BORROW6.format(
                "set to Experiment 1's control rate (40%): the abstract says the bargain alone does not "
                "explain the effect, but gives no figures")),
        }),
        notes=("Modelled on the paper's Experiment 6, which the abstract says rules out a pure bargain "
               "explanation. Its design, conditions, wording, cell sizes and results are NOT in the "
               "reference: the two conditions here are a RECONSTRUCTION of that idea (the bargain "
               "control hears the same reduction from $1 to 75 cents, announced at once). Whether the "
               "paper also ran a plain 75-cent control in this experiment is unknown. Experiments 3-5 "
               "and 7 of the paper (reciprocity, anchor point, comparison with the door-in-the-face) "
               "are known only from the abstract and are not declared. " + _UNKNOWN_COMMON),
    ),
)

# --------------------------------------------------------------------------- #
# Measures beyond the common ones (the step answers and times are derived).
# --------------------------------------------------------------------------- #
MEASURES = (
    Measure("amount_paid", "number",
            "dollars paid: the final price of one item when the customer bought, 0 when not; empty if "
            "the decision was never reached", minimum=0.0, maximum=PRICE),
    Measure("protocol_deviation", "string",
            f"'{SPOKE_BEFORE_CUE}' when the customer answered before the seller could improve the deal "
            f"(the interruption came late); '{INTERRUPTED_BEFORE_CUE}' when the seller recorded the "
            "interruption before the banner was due (it came too early); the row is kept and analysed, "
            "flagged, NOT excluded; empty when the interruption came in time or the condition has none",
            allowed=(SPOKE_BEFORE_CUE, INTERRUPTED_BEFORE_CUE)),
)

# --------------------------------------------------------------------------- #
# Exclusion reasons: a subset of the toolkit's codes, with their meaning at a
# sales table (the codes must stay those of the common codebook).
# --------------------------------------------------------------------------- #
EXCLUSIONS = MappingProxyType({
    "knows_requester": "the customer knows the seller or the study",
    "left_before_request": "the customer walked away before the final offer was complete",
    "not_alone": "the customer was with someone who took part in the decision",
    "already_approached": "the customer had already heard an offer at this table",
    "other": "another reason, described in the session notes",
})
if not set(EXCLUSIONS) <= set(EXCLUSION_REASONS):
    raise DeclarationError("burger1986: exclusion codes must be those of the common codebook: "
                           + ", ".join(sorted(set(EXCLUSIONS) - set(EXCLUSION_REASONS))))

# --------------------------------------------------------------------------- #
# Ethics and training texts.
# --------------------------------------------------------------------------- #
CONSENT = """\
This is a field study with deception: customers at the sales table are not told in advance that
the way the price is announced is being studied, because knowing would change how they decide.
The sale itself is real: a customer who buys pays the announced price and gets the goods. Prior
consent is therefore waived (your ethics board must approve this), and consent is sought at the
debriefing: the seller explains the study straight after the decision and asks whether the
anonymous record may be kept. If the person says no, tap "Withdrew data": the record is kept on
the device, marked as withdrawn, and left out of every analysis. No name, contact detail or
description of the person is ever written down; the participant id is a random pseudonym."""

#: one paragraph (no hard line breaks: the screen wraps it), then the stage direction
DEBRIEFING = (
    '"Thank you. I should tell you that this sale is part of a psychology study of how the way a '
    'price is announced affects whether people buy, replicating a classic study from 1986. '
    'Whether you bought was not right or wrong in any way, and nobody will contact you. We note '
    'only whether you bought and the price, never who you are. May we keep that anonymous record '
    'for the study? If you bought and would rather have your money back, here it is. This card '
    'has the study\'s contact address."'
    "\n" '(Hand over the card; refund on request.)'
)

TRAINING = """\
- Tap Approach when a customer stops at the table and you begin the opening line: the timer for
  the interruption starts then. Practise the line so it is finished when the banner shows.
- That's-not-all conditions: say the opening price, pause, and make the improvement the moment
  the orange INTERRUPT NOW banner shows, before the customer answers. Tap I as you start speaking.
  If the customer answers or asks anything first, tap F and still make the improvement: the row is
  flagged (protocol_deviation), not excluded. Do not interrupt before the banner: an I tapped
  before it is due is flagged too (interrupted_before_cue).
- Control conditions: the final deal is announced from the start; there is no interruption.
- Record the decision with one tap the moment it is made: Bought when they pay, Did not buy when
  they say no or walk away after the final offer.
- Say nothing beyond the script: no pleading, no second offer, no comment on the cakes.
- Keep the same clothes, tone, pace and display of goods in every condition; you do not choose the
  condition, the schedule does, and the screen shows it only when you tap Approach.
- Debrief every customer you can, and record whether you did."""

CODING_RULES = """\
- complied = 1 when the customer buys at the final price (pays, or says yes and pays); 0 when they
  say no, or walk away after the final offer. amount_paid is the final price (0.75) when complied =
  1 and 0 when complied = 0.
- A customer who buys more than one item still counts once (complied = 1, amount_paid = the price
  of one item); the reference does not say how the paper counted this.
- opening_offer_answer = in_time when the improvement began before the customer answered;
  answered_first when the customer said anything about buying (yes, no, a question) first. The
  latter sets protocol_deviation = spoke_before_cue; the participant stays in the analysis.
  in_time tapped before the banner was due sets protocol_deviation = interrupted_before_cue (the
  screen times it from the Approach tap); the participant stays in the analysis.
- A customer who leaves before the final offer is complete is excluded (left_before_request)."""

PROVENANCE = """\
Every script sentence is a RECONSTRUCTION, not the paper's text. The reference
(shared/reference/published-results.md) gives: the bake sale with cupcakes; Experiment 1's
deals (a cupcake at 75 cents with two cookies added "for that price" before the customer
answers, vs the cupcake and two cookies shown together at 75 cents from the start); n = 30 per
condition and 73% vs 40% bought (secondary; the seed article gives 73% vs 45%: both kept); a
price-reduction variant ($1 reduced to 75 cents before the customer answers, vs 75 cents from
the start) with "similar" figures and no numbers; and the abstract's one-line summary of
Experiments 2-7.

Experiment numbers. Experiment 1 here is the paper's Experiment 1. Experiment 2 here is the
price-reduction variant, which the seed article does not number; the abstract's description of
Experiments 1-2 (the effect against a control offered the better deal at the outset) fits it,
so it is numbered 2 on that ASSUMPTION. Experiment 6 here is a RECONSTRUCTION of the abstract's
Experiment 6 (ruling out a pure bargain explanation): a bargain control told at once that the
price was reduced from $1 to 75 cents, without the interruption; the paper's own design of
Experiment 6 is not known. Experiments 3-5 and 7 are not declared: the reference gives nothing
to script them from.

UNKNOWN (not in the reference; not invented here): the exact words; how the interruption was
staged (the seller alone, or a second person); the interruption's timing (the banner after
2.5 s is this toolkit's choice); how customers were selected and what made someone a
participant; the setting and who ran the table; whether a customer could buy more than one
item; cell sizes and rates of every experiment but Experiment 1; every test statistic.

Simulation rates of Experiments 2 and 6 are borrowed from Experiment 1 and say so; the
probability that a simulated customer answers before the interruption (5%) is an assumption."""


# --------------------------------------------------------------------------- #
# The driver: the field tablet, with a simulated customer who sometimes answers
# before the seller can interrupt.
# --------------------------------------------------------------------------- #
class TNAParticipant(ScriptedParticipant):
    """A simulated customer (and diligent seller) for that's-not-all scripts.

    At a step with a cue (the opening offer) the customer speaks before the cue
    with probability ``speak_first``: the seller then records the answer that
    sets ``protocol_deviation``, and the simulated tap comes *before* the cue
    time; otherwise the seller interrupts in time, after the cue.  Buying at the
    purchase step follows the condition's rate whatever happened at the cue
    (no source says whether a late interruption changes buying).
    """

    def __init__(self, model, rng, participants, speak_first: float = SPEAK_FIRST_P):
        super().__init__(model, rng, participants)
        if not 0.0 <= float(speak_first) <= 1.0:
            raise ValueError(f"speak_first {speak_first!r} is outside [0, 1]")
        self.speak_first = float(speak_first)
        self._early = None  # True/False after choosing at a cue step, until its think time is drawn

    def choose(self, prompt, condition):
        step = prompt.step
        if prompt.kind == "step" and step is not None and step.cue:
            if self._exclude_next and self._first_screen:
                return super().choose(prompt, condition)
            self._first_screen = False
            self._early = self.rng.random() < self.speak_first
            flagged = [a for a in step.answers if "protocol_deviation" in a.sets]
            in_time = [a for a in step.answers if "protocol_deviation" not in a.sets]
            if not flagged or not in_time:
                raise ValueError(f"step {step.id!r} needs an in-time answer and one that sets protocol_deviation")
            return (flagged if self._early else in_time)[0].code
        return super().choose(prompt, condition)

    def think_time(self, prompt) -> float:
        step = prompt.step
        if prompt.kind == "step" and step is not None and step.cue and self._early is not None:
            early, self._early = self._early, None
            if early:
                return self.rng.uniform(0.3, 0.9) * step.cue_after
            return step.cue_after + self.rng.uniform(0.3, 1.5)
        return super().think_time(prompt)


class ThatsNotAllDriver(FieldDriver):
    """FieldDriver for the sales-table paradigms (Burger 1986, Pollock et al. 1998)."""

    def __init__(self, speak_first: float = SPEAK_FIRST_P):
        self.speak_first = float(speak_first)

    def scripted_participant(self, paradigm, experiment, model, rng, participants):
        return TNAParticipant(model, rng, participants, self.speak_first)

    def run(self, paradigm, experiment, store, slots, io, new_id):
        scripted = getattr(io, "participant", None) or getattr(io, "scripted", None)
        if isinstance(scripted, TNAParticipant):  # a simulation: record the assumption in the sidecar
            store.set_meta(simulated_speak_first_p=scripted.speak_first)
        return super().run(paradigm, experiment, store, slots, io, new_id)


DRIVER = ThatsNotAllDriver()

#: the ready screen of a sales table
READY_NOTE = ("Tap Approach as you begin the opening line: the script appears, and the timer for "
              "the interruption starts.")

PARADIGM = Paradigm(
    id="burger1986",
    citation=CITATION,
    title="That's-not-all (improving the deal before the answer)",
    setting="field",
    outcome="binary",
    experiments=EXPERIMENTS,
    measures=MEASURES,
    consent=CONSENT,
    debriefing=DEBRIEFING,
    training=TRAINING,
    coding_rules=CODING_RULES,
    provenance=PROVENANCE,
    exclusion_reasons=EXCLUSIONS,
    ready_say="Wait for a customer to stop at the bake-sale table.",
    ready_note=READY_NOTE,
)
