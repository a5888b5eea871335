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

Read this module top to bottom: citation, scripts, conditions, the experiments
(numbered as in the paper where the reference allows; see PROVENANCE),
measures, texts, and the declaration, whose session is the sales table
(``paradigms.vocab.sales``: the answers, the timed cue, and a simulated
customer who sometimes answers before the seller can interrupt).  Everything
else is derived.
"""
from __future__ import annotations

from .vocab import BinaryModel, Condition, Contrast, ContrastPlan, Experiment, Rate, declare
from .vocab.sales import EXCLUSIONS, READY_NOTE, SALES_TABLE, interruption_step, purchase_step, sales_measures

__all__ = ["PARADIGM"]

CITATION = (
    "Burger, J. M. (1986). Increasing compliance by improving the deal: The that's-not-all technique. "
    "Journal of Personality and Social Psychology, 51(2), 277-283."
)

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
MEASURES = sales_measures(PRICE)


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
(data/published/published_results.csv) gives: the bake sale with cupcakes; Experiment 1's
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


PARADIGM = declare(
    globals(),
    id="burger1986",
    title="That's-not-all (improving the deal before the answer)",
    session=SALES_TABLE,
    exclusion_reasons=EXCLUSIONS,
    ready_say="Wait for a customer to stop at the bake-sale table.",
    ready_note=READY_NOTE,
)
