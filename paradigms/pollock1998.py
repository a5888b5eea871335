"""Mindfulness limits that's-not-all: Pollock, Smith, Knowles & Bruce (1998).

Mindfulness limits compliance with the that's-not-all technique.
*Personality and Social Psychology Bulletin, 24*(11), 1153-1157.

Boxes of chocolates are sold at a table.  One experiment, 2 × 2 × 3 between
subjects: price (a $1 box or a $5 box) × technique (that's-not-all: the price
is announced 25% higher, $1.25 or $6.25, and cut to the final price before the
customer answers; control: the final price from the start) × reason to buy
(none, weak, good).  The technique raised buying of the cheap box but not of
the expensive one, whose cost invites thought: the claim is the technique ×
price interaction (tested by :func:`analysis.stats.factorial.technique_by_price`).

The factors are declared on each condition (``Condition.factors``), so every
row of the data carries ``price``, ``technique`` and ``reason`` beside
``condition``.  The seller's screens and the simulated customer are those of
Burger (1986) (:mod:`paradigms.burger1986`): a timed "INTERRUPT NOW" cue, a
tap for a late interruption (a flagged protocol deviation, never an
exclusion), one tap for bought / did not buy.
"""
from __future__ import annotations

from .vocab import BinaryModel, Condition, Contrast, Experiment, FactorialLogitPlan, Rate, declare
from .vocab.sales import (EXCLUSIONS, INTERRUPTED_BEFORE_CUE, READY_NOTE, SALES_TABLE, SPOKE_BEFORE_CUE,
                          interruption_step, purchase_step, sales_measures)

__all__ = ["PARADIGM"]

CITATION = (
    "Pollock, C. L., Smith, S. D., Knowles, E. S., & Bruce, H. J. (1998). Mindfulness limits compliance "
    "with the that's-not-all technique. Personality and Social Psychology Bulletin, 24(11), 1153-1157."
)

# --------------------------------------------------------------------------- #
# The design: levels of the three factors, as written to the data.
# --------------------------------------------------------------------------- #
#: price factor level -> (announced that's-not-all price, final price), dollars
PRICES = {"1": (1.25, 1.00), "5": (6.25, 5.00)}
PRICE_WORD = {"1": "cheap", "5": "expensive"}
TECHNIQUES = ("tna", "control")
TECHNIQUE_WORD = {"tna": "thats_not_all", "control": "control"}
REASONS = ("none", "weak", "good")
REASON_WORD = {"none": "no", "weak": "weak", "good": "good"}

# --------------------------------------------------------------------------- #
# The scripts.  Prices follow the reference; every sentence, and the text of
# both reasons, is a RECONSTRUCTION (see PROVENANCE).
# --------------------------------------------------------------------------- #
#: What the seller adds after the final price.  RECONSTRUCTION: the reference
#: says only that a reason to buy was absent, weak or good.  The weak reason is
#: placebic (it names no benefit); the good one names a worthy use of the money.
REASON_TEXT = {
    "none": "",
    "weak": "We're selling them because we have chocolates to sell.",
    "good": "All the money we make goes to the local children's hospital.",
}
REASON_NOTE = {
    "none": "Give no reason to buy.",
    "weak": "Give the weak reason word for word; add nothing to it.",
    "good": "Give the good reason word for word; add nothing to it.",
}


def _dollars(x: float) -> str:
    return f"${x:.0f}" if float(x).is_integer() else f"${x:.2f}"


_DECIDE = ("Then wait for the customer's decision. Say nothing more about the price or the chocolates. "
           "Tap Bought when they pay, Did not buy when they say no or walk away.")


def _box(price: str) -> str:
    return "small box" if price == "1" else "large box"


def condition(price: str, technique: str, reason: str) -> Condition:
    """One of the twelve cells: its name, role, factors and script."""
    announced, final = PRICES[price]
    name = f"{PRICE_WORD[price]}_{TECHNIQUE_WORD[technique]}_{REASON_WORD[reason]}_reason"
    reason_line = (" " + REASON_TEXT[reason]) if REASON_TEXT[reason] else ""
    show = f"Hold up the {_box(price)} as you say the price. "
    if technique == "tna":
        steps = (
            interruption_step(f"These boxes of chocolates are {_dollars(announced)}.",
                              cue=f"INTERRUPT NOW: cut the price to {_dollars(final)}!",
                              improvement="cut the price", show=show),
            purchase_step(f"... but that's not all: today they're just {_dollars(final)}.{reason_line}",
                          REASON_NOTE[reason] + " " + _DECIDE, final),
        )
        summary = (f"{_dollars(final)} box announced at {_dollars(announced)}, cut to {_dollars(final)} "
                   f"before the customer answers; reason: {reason}.")
        role = "treatment"
    else:
        steps = (purchase_step(f"These boxes of chocolates are {_dollars(final)}.{reason_line}",
                               show + REASON_NOTE[reason] + " " + _DECIDE, final),)
        summary = f"{_dollars(final)} box at {_dollars(final)} from the start; reason: {reason}."
        role = "control"
    return Condition(name, role, summary, steps=steps,
                     factors={"price": price, "technique": technique, "reason": reason})


CONDITIONS = tuple(condition(p, t, r) for p in PRICES for r in REASONS for t in TECHNIQUES)
_BY = {(c.factors["price"], c.factors["technique"], c.factors["reason"]): c.name for c in CONDITIONS}

# --------------------------------------------------------------------------- #
# Contrasts: that's-not-all vs control within each price and reason.  The
# paper's claim (the technique helps at $1, not at $5) is the technique × price
# interaction, which a Contrast cannot express: it is the confirmatory test of
# analysis.stats.factorial.technique_by_price, beside the pooled simple effects at
# each price.  Of the per-cell contrasts only the one the source gives a figure
# for ($1, no reason: 55% vs 36%) is confirmatory; the rest are exploratory.
# --------------------------------------------------------------------------- #
CONTRASTS = tuple(
    Contrast(_BY[(p, "tna", r)], (_BY[(p, "control", r)],),
             f"that's-not-all vs control, {_dollars(PRICES[p][1])} box, {REASON_WORD[r]} reason",
             confirmatory=(p == "1" and r == "none"))
    for p in PRICES for r in REASONS)

# --------------------------------------------------------------------------- #
# Simulation rates.  Only six percentages exist (the seed article, weak):
# $1: 76% vs 45%; $5: 18% vs 24%; $1 with no reason: 55% vs 36%.  Mapping:
# the no-reason figures go to the $1 no-reason cells; the $1 figures to the $1
# cells with a reason (read as the reason-given cells, an assumption); the $5
# figures to all three $5 cells (no by-reason figures exist).  Every rate is a
# published number; none is back-solved (that would need cell sizes, which are
# unknown, and would produce numbers no source prints).
# --------------------------------------------------------------------------- #
_SEED = "the seed article (weak; cell sizes unknown)"
_SRC = {
    ("1", "tna", "none"): (0.55, f"$1 box, no reason: 55% (that's-not-all), {_SEED}"),
    ("1", "control", "none"): (0.36, f"$1 box, no reason: 36% (control), {_SEED}"),
    ("5", "tna"): (0.18, f"$5 box: 18% (that's-not-all), {_SEED}; printed for the $5 box without a "
                         "by-reason split, so used for every reason level (assumption)"),
    ("5", "control"): (0.24, f"$5 box: 24% (control), {_SEED}; printed without a by-reason split, so "
                             "used for every reason level (assumption)"),
    ("1", "tna"): (0.76, f"$1 box: 76% (that's-not-all), {_SEED}; printed for the $1 box beside a separate "
                         "no-reason figure, so read as the reason-given cells (assumption; if 76% is the "
                         "mean over all three reasons the weak/good cells would be higher)"),
    ("1", "control"): (0.45, f"$1 box: 45% (control), {_SEED}; read as the reason-given cells "
                             "(assumption, as for 76%)"),
}


def _rate(price: str, technique: str, reason: str) -> Rate:
    p, src = _SRC.get((price, technique, reason)) or _SRC[(price, technique)]
    return Rate(p, src)


MODEL = BinaryModel({c.name: _rate(c.factors["price"], c.factors["technique"], c.factors["reason"])
                     for c in CONDITIONS})

EXPERIMENTS = (
    Experiment(
        1, "Price ($1 vs $5) × technique (that's-not-all vs final price from the start) × reason "
           "(none, weak, good)",
        conditions=CONDITIONS,
        plan=FactorialLogitPlan(CONTRASTS, treatment_factor="technique", moderator="price",
                                treatment_level="tna", control_level="control", covariates=("reason",)),
        model=MODEL,
        notes=("One experiment, twelve between-subjects cells; every row carries the factors price "
               "(1, 5: the final price in dollars), technique (tna, control) and reason (none, weak, good). "
               "Confirmatory test: the technique × price interaction in a logistic regression "
               "(analysis.stats.factorial.technique_by_price: complied ~ technique * price + reason), with "
               "the simple effect of the technique at each price. Published (weak, the seed article "
               "only): $1 box 76% vs 45%; $5 box 18% vs 24%; $1 box with no reason 55% vs 36%. Cell sizes, "
               "the rates of the other reason cells, and every test: NOT AVAILABLE. The simulated "
               "customer answers before the interruption with probability 5% (assumption)."),
    ),
)

MEASURES = sales_measures(max(v[1] for v in PRICES.values()))

# --------------------------------------------------------------------------- #
# Ethics and training texts.
# --------------------------------------------------------------------------- #
CONSENT = """\
This is a field study with deception: customers at the chocolate table are not told in advance
that the way the price is announced, and the reason given, are being studied, because knowing
would change how they decide. The sale itself is real: a customer who buys pays the announced
price and gets the box; a stated reason to buy must be true. Prior consent is therefore waived
(your ethics board must approve this), and consent is sought at the debriefing: the seller
explains the study straight after the decision and asks whether the anonymous record may be
kept. If the person says no, tap "Withdrew data": the record is kept on the device, marked as
withdrawn, and left out of every analysis. No name, contact detail or description of the
person is ever written down; the participant id is a random pseudonym."""

#: one paragraph (no hard line breaks: the screen wraps it), then the stage direction
DEBRIEFING = (
    '"Thank you. I should tell you that this sale is part of a psychology study of how the way a '
    'price is announced affects whether people buy, replicating a study from 1998. Whether you '
    'bought was not right or wrong in any way, and nobody will contact you. We note only whether '
    'you bought and the price, never who you are. May we keep that anonymous record for the '
    'study? If you bought and would rather have your money back, here it is. This card has the '
    'study\'s contact address."'
    "\n" '(Hand over the card; refund on request.)'
)

TRAINING = """\
- Tap Approach when a customer stops at the table and you begin the opening line: the timer for
  the interruption starts then. Practise the line so it is finished when the banner shows.
- That's-not-all conditions: say the higher price ($1.25 or $6.25), pause, and cut it to the final
  price the moment the orange INTERRUPT NOW banner shows, before the customer answers. Tap I as you
  start speaking. If the customer answers or asks anything first, tap F and still cut the price:
  the row is flagged (protocol_deviation), not excluded. Do not cut the price before the banner:
  an I tapped before it is due is flagged too (interrupted_before_cue).
- Control conditions: the final price is announced from the start; there is no interruption.
- Say the reason (if the script has one) word for word, right after the final price.
- Before the study (not on the day): replace the good reason's beneficiary (the local children's
  hospital) by a real one at your site -- it must be true -- and use the same one in every session.
- Record the decision with one tap the moment it is made: Bought when they pay, Did not buy when
  they say no or walk away after the final offer.
- Keep both boxes on the table in every condition and show only the one the script names; keep the
  same clothes, tone and pace throughout. The schedule, not you, chooses the condition.
- Debrief every customer you can, and record whether you did."""

CODING_RULES = """\
- complied = 1 when the customer buys the offered box at the final price; 0 when they say no, or
  walk away after the final offer. amount_paid is the final price (1.00 or 5.00) when complied = 1
  and 0 when complied = 0.
- A customer who buys more than one box still counts once (complied = 1, amount_paid = the price of
  one box); a customer who buys the other box than the one offered is coded 0 and the fact is noted.
- opening_offer_answer = in_time when the price cut began before the customer answered;
  answered_first when the customer said anything about buying first. The latter sets
  protocol_deviation = """ + SPOKE_BEFORE_CUE + """; the participant stays in the analysis.
  in_time tapped before the banner was due sets protocol_deviation = """ + INTERRUPTED_BEFORE_CUE + """
  (the screen times it from the Approach tap); the participant stays in the analysis.
- A customer who leaves before the final offer (and the reason, if any) is complete is excluded
  (left_before_request)."""

PROVENANCE = """\
The design (boxes of chocolates sold at a table; a $1 box announced at $1.25 and a $5 box announced
at $6.25 in the that's-not-all conditions, the final price from the start in the controls; a reason
to buy that is absent, weak or good) and the six percentages come from the seed article only
(data/published/published_results.csv; confidence: weak, not checked against the paper).

RECONSTRUCTIONS: every script sentence; the text of the weak and the good reason (the reference
names the levels only: the weak reason here is placebic, the good one names a worthy use of the
money); where the reason is said (here: right after the final price, so it comes at the same point
before the decision in both techniques); the box sizes (small $1, large $5: the reference says
only cheap and expensive boxes); the interruption's timing (banner after 2.5 s).

UNKNOWN (not in the reference; not invented here): the paper's words and reasons; the setting and
who the customers were; how the interruption was staged; cell sizes; the rates of the $1 cells with
a weak or a good reason and of every $5 cell by reason; whether 76% / 45% are means over all three
reasons or over the reason-given cells; every test statistic. How the six published rates are mapped
onto the twelve cells for simulation is stated in each rate's source."""

PARADIGM = declare(
    globals(),
    id="pollock1998",
    title="That's-not-all limited by mindfulness (price × technique × reason)",
    session=SALES_TABLE,
    exclusion_reasons=EXCLUSIONS,
    ready_say="Wait for a customer to stop at the chocolate table.",
    ready_note=READY_NOTE,
)
