"""The vocabulary of the sales-table paradigms: that's-not-all (Burger, 1986; Pollock et al., 1998).

A seller states a price and then, *before the customer answers*, improves the
deal.  The seller's first screen (the opening offer) shows a timed cue, an
orange "INTERRUPT NOW" banner, a few seconds in; the seller taps whether the
improvement came in time or the customer spoke first.  A late (or an early)
interruption is a protocol deviation, kept and flagged, never an exclusion.

The answers, the two steps every that's-not-all script is made of, the
deviation codes, the measures and the exclusion reasons at a sales table live
here, so that each study module declares only its own scripts and
experiments.  :data:`SALES_TABLE` is the session type: the seller's tablet,
whose simulated customer sometimes answers before the cue.
"""
from __future__ import annotations

from types import MappingProxyType

from ..base import EXCLUSION_REASONS, Answer, DeclarationError, FieldSession, Measure, Step

__all__ = ["INTERRUPT_AFTER_S", "SPOKE_BEFORE_CUE", "INTERRUPTED_BEFORE_CUE", "SPEAK_FIRST_P", "IN_TIME",
           "ANSWERED_FIRST", "bought", "DID_NOT_BUY", "interruption_step", "purchase_step", "sales_measures",
           "EXCLUSIONS", "READY_NOTE", "SALES_TABLE"]

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
IN_TIME = Answer("in_time", "Interrupted in time [I]", "i", tone="positive", position=0)
ANSWERED_FIRST = Answer("answered_first", "Customer answered first [F]", "f",
                        sets={"protocol_deviation": SPOKE_BEFORE_CUE}, tone="negative", position=1)


def bought(price: float) -> Answer:
    """The customer bought at the final ``price`` (dollars)."""
    return Answer("agree", "Bought [B]", "b", sets={"complied": 1, "amount_paid": float(price)}, position=0)


DID_NOT_BUY = Answer("refuse", "Did not buy [N]", "n", sets={"complied": 0, "amount_paid": 0.0}, position=1)


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


def sales_measures(max_price: float) -> tuple[Measure, ...]:
    """The columns a sales table adds: what was paid (at most ``max_price``) and the deviation flag."""
    return (
        Measure("amount_paid", "number",
                "dollars paid: the final price of one item when the customer bought, 0 when not; empty if "
                "the decision was never reached", minimum=0.0, maximum=float(max_price)),
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
    raise DeclarationError("sales table: exclusion codes must be those of the common codebook: "
                           + ", ".join(sorted(set(EXCLUSIONS) - set(EXCLUSION_REASONS))))

#: the ready screen of a sales table
READY_NOTE = ("Tap Approach as you begin the opening line: the script appears, and the timer for "
              "the interruption starts.")

#: The seller's tablet: one screen, a timed cue on the opening offer, and a simulated customer who
#: answers before the cue with probability SPEAK_FIRST_P.
SALES_TABLE = FieldSession(speak_first=SPEAK_FIRST_P)
