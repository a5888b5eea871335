"""Holiday cards to strangers: Kunz & Woolcott (1976).

Season's greetings: From my status to yours. *Social Science Research, 5*(3), 269-278.

A sociologist mailed Christmas cards to several hundred strangers picked from a
directory, and many of them sent a card back: the reciprocity literature's most
retold study.  The sender's apparent status varied.  The outcome is whether a
card (or any reply) came back within the reply window.  Its direct test, Meier
(2016), mailed 755 cards from a more- or less-similar stranger and got about 2%
back, against the original's roughly 20%.

There is no live participant: the session is a mailing log (``MailSession``).
The technician records each card as it is posted (a *dispatch* record) and,
days or weeks later, its reply with the date received, or no reply once the
window has closed, or the card returned undelivered (an *outcome* record).
Addresses never enter the toolkit: the lab keeps its own list keyed by the
pseudonymous id the log shows when a card is sent.

Read this module top to bottom: citation, the cards, the two experiments (the
original's status manipulation; Meier's similarity manipulation), the measures,
and the consent, debriefing and training texts.  What the sources do not give
is marked RECONSTRUCTION.
"""
from __future__ import annotations

from .vocab import (Answer, BinaryModel, Condition, Contrast, ContrastPlan, Experiment, MailSession, Rate, Step,
                    declare)

__all__ = ["PARADIGM"]

CITATION = ("Kunz, P. R., & Woolcott, M. (1976). Season's greetings: From my status to yours. "
            "Social Science Research, 5(3), 269-278.")
REPLICATION = ("Meier, B. P. (2016). Bah humbug: Unexpected Christmas cards and the reciprocity norm. "
               "The Journal of Social Psychology. doi:10.1080/00224545.2015.1129306")

#: The reply window: a card back within eight weeks of sending is compliance.
#: RECONSTRUCTION: the sources do not say how long the original waited.
WINDOW_DAYS = 56

# --------------------------------------------------------------------------- #
# What the technician records when a card goes out (one key each).
# --------------------------------------------------------------------------- #
SENT = Answer("sent", "Sent [S]", "s", tone="positive")
NOT_SENT = Answer("not_sent", "Not sent [X]", "x", ends=True, tone="neutral",
                  sets={"excluded": 1, "exclusion_reason": "not_sent"})

# --------------------------------------------------------------------------- #
# The cards.  The greeting is the same on every card; what varies is the
# sender.  The sources say only that the sender's apparent status varied
# (Kunz & Woolcott) and that the sender was more or less similar to the
# recipient (Meier): how either was signalled is a RECONSTRUCTION.
# --------------------------------------------------------------------------- #
GREETING = "Season's greetings, and best wishes for the New Year!"


def _card(signature: str, note: str) -> Step:
    return Step(id="card", say=f"{GREETING}\n\n{signature}", answers=(SENT, NOT_SENT), title="THE CARD",
                note=note)


HIGH_STATUS_CARD = _card(
    "- Dr. [sender's family name] and family",
    "An expensive card, signed with the sender's professional title and the lab's return address. "
    "RECONSTRUCTION: the sources say only that the sender's apparent status varied.")
LOW_STATUS_CARD = _card(
    "- [sender's first name] and family",
    "A plain, inexpensive card, signed with first names only and the lab's return address. "
    "RECONSTRUCTION: the sources say only that the sender's apparent status varied.")
MORE_SIMILAR_CARD = _card(
    "- [sender's first name] and family, [the recipient's own town]",
    "The card names something the sender shares with the recipient (here the town). RECONSTRUCTION: the "
    "reference notes do not say how Meier (2016) signalled similarity; fix it in the lab's pre-registration.")
LESS_SIMILAR_CARD = _card(
    "- [sender's first name] and family, [a distant town]",
    "The card names nothing the sender shares with the recipient. RECONSTRUCTION, as for the more-similar card.")

# --------------------------------------------------------------------------- #
# Conditions.
# --------------------------------------------------------------------------- #
HIGH_STATUS = Condition("high_status", "treatment", "A card from a sender of apparently high status.",
                        steps=(HIGH_STATUS_CARD,))
LOW_STATUS = Condition("low_status", "control", "A card from a sender of apparently low status.",
                       steps=(LOW_STATUS_CARD,))
MORE_SIMILAR = Condition("more_similar", "treatment", "A card from a stranger more similar to the recipient.",
                         steps=(MORE_SIMILAR_CARD,))
LESS_SIMILAR = Condition("less_similar", "control", "A card from a stranger less similar to the recipient.",
                         steps=(LESS_SIMILAR_CARD,))

# --------------------------------------------------------------------------- #
# Experiments: conditions, the confirmatory contrast, the simulation model.
# No per-condition reply rate is published for either study: the models give
# both conditions the study's overall rate (no difference), and say so.
# --------------------------------------------------------------------------- #
_ORIGINAL_RATE = ("Meier (2016) quotes the original's reply rate as 20% (secondary; 117 of about 600 in other "
                  "secondary accounts); per-condition rates not published: the same rate in both conditions is a "
                  "simulation assumption")
_MEIER_RATE = ("Meier (2016), Study 1: 'unexpectedly low (2%)' of 755 (abstract, a rounded rate); per-condition "
               "rates not published: the same rate in both conditions is a simulation assumption")

EXPERIMENTS = (
    Experiment(
        1, "Holiday cards from a higher- vs a lower-status sender (the original)",
        conditions=(HIGH_STATUS, LOW_STATUS),
        plan=ContrastPlan((Contrast("high_status", ("low_status",), "higher- vs lower-status sender"),)),
        model=BinaryModel({"high_status": Rate(0.20, _ORIGINAL_RATE), "low_status": Rate(0.20, _ORIGINAL_RATE)}),
        notes="About 600 cards in the original (the exact number is not available). Replies: 117, 'nearly 200' "
              "or 'over 200', by source. The conditions' exact definitions, cell sizes and per-condition replies "
              "are not available, nor is which sender the original expected to get more replies.",
    ),
    Experiment(
        2, "Holiday cards from a more- vs a less-similar stranger (Meier, 2016, Study 1)",
        conditions=(MORE_SIMILAR, LESS_SIMILAR),
        plan=ContrastPlan((Contrast("more_similar", ("less_similar",), "more- vs less-similar sender"),)),
        model=BinaryModel({"more_similar": Rate(0.02, _MEIER_RATE), "less_similar": Rate(0.02, _MEIER_RATE)}),
        notes="755 recipients in Meier (2016), Study 1; about 2% replied (the exact count is not given); "
              "per-condition replies are not available.",
    ),
)

MEASURES = ()

# --------------------------------------------------------------------------- #
# Ethics and training texts.
# --------------------------------------------------------------------------- #
CONSENT = """\
This is a field study with deception by post: the recipients are strangers who are not told that
the card is part of a study, because knowing would change whether they reply. Prior consent is
therefore waived (your ethics board must approve this, and the choice of recipients: a public
directory, adults only). Consent is sought afterwards, by letter: once a card's outcome is
recorded, the debriefing letter explains the study and says how to have the record withdrawn.

Addresses never enter the toolkit. The lab keeps its own list of recipients (name and address),
apart from the session data, keyed by the pseudonymous id the mailing log shows when a card is
sent; the list is used to post the cards and the debriefing letters, to match a reply to its
card, and is destroyed when the study ends. No name, address or description of a recipient is
ever typed into the toolkit; the session data hold the pseudonymous id, the condition and the
dates only."""

DEBRIEFING = """\
A mailed card has no debriefing in person. The protocol debriefs by post: when a card's outcome is
recorded (a reply, or none once the reply window has closed), the lab posts this letter to the
recipient, and the technician records that it was posted (debriefed = 1; 0 if it could not be
posted). A returned card cannot be debriefed (debriefed = 0). RECONSTRUCTION: neither source
describes a debriefing.

"Dear recipient, some weeks ago you received a holiday card from us. We should tell you that we
do not know you: the card was part of a study of how people respond to greetings from strangers,
repeating a classic study from 1976. Whether or not you replied was not wrong in any way. We
recorded only whether a reply came, under a code number, never your name or address, which we
keep apart and will destroy when the study ends. If you do not want your anonymous record to be
used, write to us at the address below quoting the number printed on this letter, and it will be
withdrawn. Thank you, and our apologies for the surprise." (The number printed is the card's
pseudonymous id, from the lab's list.)

data_consent stays empty (the recipient could not be asked); a withdrawal that comes back is
recorded afterwards with `compliance withdraw DATA_DIR --participant ID`, which never rewrites a
session file."""

TRAINING = """\
- Before the first session, the lab draws its recipients (e.g. from a public directory) and keeps
  their names and addresses on its own list, outside the toolkit.
- Send the next card: the log shows the card's number, its pseudonymous id and the card to write.
  Write the id beside the next unused address on the lab's list, write the card exactly as shown
  (the condition decides the sender; you do not choose it), post it, then press Sent. A card that
  cannot be posted (an unusable address, a spoiled card) is Not sent: its slot is used and stays so.
- When a reply arrives, find its sender on the lab's list, read the id beside it, pick that card on
  the log (arrow keys) and press Reply received; type the date the reply arrived (YYYY-MM-DD, the
  postmark's day if you cannot tell), then post the debriefing letter and record it.
- Once a card's reply window has closed (the log says so) and nothing came, pick it and press No
  reply; post the debriefing letter and record it. The log refuses No reply while the window is open.
- A card the post office returns is Returned (excluded; no letter can be posted).
- A session can be short: open the log, record what came in the post, end the session. The cards
  stay open across days and sessions; nothing already recorded is ever changed."""

CODING_RULES = f"""\
- complied = 1 when a reply from the recipient (a card, a letter, a note) arrives within {WINDOW_DAYS} days of
  the day the card was sent (reply_days <= {WINDOW_DAYS}); 0 when no reply has come when the window closes
  (reply = none), and 0 for a reply that comes later (recorded, with reply_days above {WINDOW_DAYS}).
- reply_date is the day the reply arrived at the lab, as the technician types it; a reply dated before its
  card was sent, or in the future, is refused.
- One outcome per card: a second reply from the same recipient is not recorded (the log refuses it).
- A reply from someone not on the lab's list (no card id) is not recorded.
- A card returned undelivered is excluded (returned); a card not posted is excluded (not_sent).
- At analysis, a card whose window is still open is pending: reported, never counted as a refusal."""

PROVENANCE = f"""\
The design (about 600 cards to strangers picked from a directory; the sender's apparent status varied)
and the replication's design (755 cards from a more- vs a less-similar stranger) follow the reference
notes (data/published/published_results.csv: secondary accounts of the original; the abstract of
Meier, 2016). {REPLICATION}. The card's wording, how status and similarity are signalled, the
{WINDOW_DAYS}-day reply window and the debriefing letter are a RECONSTRUCTION: the sources describe none
of them. Which sender the original expected to get more replies is not available; the contrast is declared
high vs low status without a claim about its direction. The simulated reply delays (uniform between 4 and
35 days after sending) are a simulation assumption, not a published figure."""

PARADIGM = declare(
    globals(),
    id="kunz1976",
    title="Holiday cards to strangers (reciprocity by post)",
    session=MailSession(window_days=WINDOW_DAYS, reply_days=(4, 35)),
    exclusion_reasons={
        "not_sent": "the card was not posted (an unusable address, a spoiled card); its slot stays used",
        "returned": "the post office returned the card undelivered",
    },
)
