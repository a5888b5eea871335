"""Favor and liking: Regan (1971).

Effects of a favor and liking on compliance. *Journal of Experimental Social
Psychology, 7*(6), 627-639.

A male participant and a confederate ("Joe"), introduced as another
participant, rate paintings for an "art appreciation" study.  Joe is made
pleasant or unpleasant (how he answers a phone call in front of the
participant).  During a break Joe brings back two soft drinks and gives one to
the participant unasked (confederate favor), or the experimenter brings them
(experimenter favor: the same benefit, not from the requester), or Joe comes
back empty-handed (no favor).  After the ratings, with the experimenter out of
the room, Joe asks the participant to buy raffle tickets at 25 cents each.  The
outcome is the number of tickets bought (a count); liking of Joe is rated
afterwards.  3 favor x 2 liking conditions, between subjects.

Read this module top to bottom: citation, the confederate's scripts, the six
conditions, the experiment (contrasts and simulation model), the lab session
(cover task, questionnaire), the measures, and the consent, debriefing,
training and coding texts.  ``session=LabSession(DESIGN)`` says it runs on the lab
screens.
"""
from __future__ import annotations

from .vocab import (Answer, Break, CellMean, Condition, Contrast, CountModel, CountPlan, Experiment, LabDesign,
                    LabSession, RatingItem, Step, TextItem, declare)

__all__ = ["PARADIGM"]

CITATION = ("Regan, D. T. (1971). Effects of a favor and liking on compliance. "
            "Journal of Experimental Social Psychology, 7(6), 627-639.")

CONFEDERATE = "Joe"
MAX_TICKETS = 20

# --------------------------------------------------------------------------- #
# What the confederate's report of each scripted event can be (recorded by the
# experimenter after the participant has left the computer; a fidelity check,
# not an outcome).
# --------------------------------------------------------------------------- #
AS_SCRIPTED = Answer("as_scripted", "Done as scripted [D]", "d", tone="positive", position=0)
DEVIATED = Answer("deviated", "Deviated from the script [V]", "v", tone="negative", position=1)
DECLINED_DRINK = Answer("declined_drink", "Participant declined the drink [R]", "r", tone="neutral",
                        position=2)

# --------------------------------------------------------------------------- #
# The scripts.  Every sentence below is a RECONSTRUCTION (see PROVENANCE); the
# phone-call manipulation itself rests on one weak source.
# --------------------------------------------------------------------------- #
PHONE_PLEASANT = Step(
    title="PLEASANT PHONE CALL",
    id="phone_call",
    say=("(The phone on the desk rings while the experimenter is out. Joe answers.) "
         "\"Hello? ... No, I'm sorry, she's just stepped out for a minute. Can I take a message "
         "for her? ... Sure, no trouble at all. ... Okay, I've got it, I'll make sure she gets it "
         "as soon as she's back. You're welcome. Bye now.\" (To the participant, smiling:) "
         "\"Someone looking for the experimenter.\""),
    note=("Pleasant call: friendly, patient, helpful. The experimenter places the call from the next "
          "room about one minute after leaving, before the first painting. RECONSTRUCTION: the "
          "liking manipulation is described only by a weak source (a phone call answered politely "
          "or rudely); the words are ours."),
    answers=(AS_SCRIPTED, DEVIATED),
)

PHONE_UNPLEASANT = Step(
    title="UNPLEASANT PHONE CALL",
    id="phone_call",
    say=("(The phone on the desk rings while the experimenter is out. Joe answers.) "
         "\"Yeah? ... No, she's not here. ... How should I know where she is? ... Look, I'm not "
         "her secretary. Call back later.\" (Hangs up without saying goodbye; to the participant, "
         "annoyed:) \"Some people.\""),
    note=("Unpleasant call: curt and rude to the caller, never to the participant. The experimenter "
          "places the call from the next room about one minute after leaving, before the first "
          "painting. RECONSTRUCTION: as for the pleasant call; the words are ours."),
    answers=(AS_SCRIPTED, DEVIATED),
)

DRINK_FROM_CONFEDERATE = Step(
    title="FAVOR: THE CONFEDERATE BRINGS THE DRINKS",
    id="drink",
    say=("(At the break Joe leaves for about two minutes and comes back with two bottles of soft "
         "drink; he hands one to the participant unasked.) \"I asked her if I could get myself a "
         "Coke, and she said it was okay, so I bought one for you, too.\""),
    note=("Confederate favor: Joe brings two drinks and gives one, unasked. Give it casually; do "
          "not wait for thanks or mention it again. RECONSTRUCTION of the wording."),
    answers=(AS_SCRIPTED, DECLINED_DRINK, DEVIATED),
)

DRINK_FROM_EXPERIMENTER = Step(
    title="FAVOR: THE EXPERIMENTER BRINGS THE DRINKS",
    id="drink",
    say=("(At the break Joe leaves for about two minutes and comes back empty-handed. The "
         "experimenter comes in with two bottles of soft drink.) \"I brought you each a Coke.\" "
         "(She hands one to the participant and one to Joe.)"),
    note=("Experimenter favor: the experimenter, not Joe, brings the drinks, so the participant "
          "gets the same benefit but not from the requester. Joe says nothing about it. "
          "RECONSTRUCTION of the wording."),
    answers=(AS_SCRIPTED, DECLINED_DRINK, DEVIATED),
)

NO_DRINK = Step(
    title="NO FAVOR: THE CONFEDERATE RETURNS EMPTY-HANDED",
    id="drink",
    say=("(At the break Joe leaves for about two minutes and comes back empty-handed.) "
         "\"Sorry, had to stretch my legs.\""),
    note=("No favor: Joe comes back empty-handed; nobody brings drinks. RECONSTRUCTION of the "
          "wording."),
    answers=(AS_SCRIPTED, DEVIATED),
)

TICKET_REQUEST = Step(
    title="TICKET REQUEST",
    id="ticket_request",
    say=("(After the last painting the experimenter leaves the room \"to get the questionnaires\". "
         "Joe, casually, holding a roll of tickets:) \"Would you do me a favor? I'm selling raffle "
         "tickets for a new car, and if I sell the most tickets I win fifty dollars. They're a "
         "quarter each. Would you buy any? Any would help, the more the better.\" "
         "(Whatever the answer:) \"Thanks anyway.\" or \"Thanks a lot.\""),
    note=("Joe makes the request in the same words and tone in every condition, takes the money, "
          "hands over the tickets, and writes the number on the sealed slip for the experimenter. "
          "He never repeats or presses the request and never mentions the drink. "
          "RECONSTRUCTION: 25 cents a ticket and \"any would help, the more the better\" are from "
          "the secondary accounts; the prize differs between accounts (a new car; a \"$50 prize\") "
          "and this wording makes the car the raffle prize and the fifty dollars the seller's."),
    answers=(AS_SCRIPTED, DEVIATED),
    target=True,
)


# --------------------------------------------------------------------------- #
# Conditions: 3 favor x 2 liking, between subjects.
# --------------------------------------------------------------------------- #
def _cell(favor: str, liking: str, role: str, summary: str, drink: Step) -> Condition:
    phone = PHONE_PLEASANT if liking == "pleasant" else PHONE_UNPLEASANT
    return Condition(f"{favor}_{liking}", role, summary, steps=(phone, drink, TICKET_REQUEST),
                     factors={"favor": favor, "liking": liking})


CONDITIONS = (
    _cell("confederate_favor", "pleasant", "treatment",
          "Pleasant Joe brings the participant a drink, then asks him to buy tickets.", DRINK_FROM_CONFEDERATE),
    _cell("confederate_favor", "unpleasant", "treatment",
          "Unpleasant Joe brings the participant a drink, then asks him to buy tickets.", DRINK_FROM_CONFEDERATE),
    _cell("experimenter_favor", "pleasant", "control",
          "The experimenter brings the drinks; pleasant Joe asks him to buy tickets.", DRINK_FROM_EXPERIMENTER),
    _cell("experimenter_favor", "unpleasant", "control",
          "The experimenter brings the drinks; unpleasant Joe asks him to buy tickets.", DRINK_FROM_EXPERIMENTER),
    _cell("no_favor", "pleasant", "control",
          "No drinks; pleasant Joe asks him to buy tickets.", NO_DRINK),
    _cell("no_favor", "unpleasant", "control",
          "No drinks; unpleasant Joe asks him to buy tickets.", NO_DRINK),
)

#: The confirmatory contrasts are on the favor factor, pooled over liking with
#: equal cell weights (``analysis.stats.counts`` tests them); the same comparisons
#: within each liking level follow, not confirmatory.
FAVOR_CONTRASTS = (
    Contrast("confederate_favor", ("no_favor",), "confederate favor vs no favor (the favor raises compliance)",
             factor="favor"),
    Contrast("confederate_favor", ("experimenter_favor",),
             "confederate favor vs experimenter favor (it is the favor from the requester, not the drink)",
             factor="favor"),
)

# --------------------------------------------------------------------------- #
# Simulation model.  Cell means are the weak cell-means table of the reference
# data; nothing else about the distribution is published, so every other
# parameter is a stated assumption.
# --------------------------------------------------------------------------- #
_MEANS = ("cell-means table of tickets bought, one blog (weak, not checked against the paper); "
          "data/published/published_results.csv")

MODEL = CountModel(
    cell_means={
        "confederate_favor_pleasant": CellMean(1.91, _MEANS),
        "confederate_favor_unpleasant": CellMean(1.60, _MEANS),
        "experimenter_favor_pleasant": CellMean(1.50, _MEANS),
        "experimenter_favor_unpleasant": CellMean(1.00, _MEANS),
        "no_favor_pleasant": CellMean(0.80, _MEANS),
        "no_favor_unpleasant": CellMean(0.80, _MEANS),
    },
    dispersion=0.5,
    dispersion_source="SDs not available; a simulation assumption",
    slope_factor="favor",
    liking_slope={"confederate_favor": 0.0, "experimenter_favor": 0.0, "no_favor": 0.6},
    liking_slope_source=("the direction follows the secondary headline (liking predicted purchases only "
                         "in the no-favor condition); the sizes are simulation assumptions"),
    shift_factor="liking",
    liking_shift={"pleasant": 0.75, "unpleasant": -0.75},
    liking_shift_source="size of the liking manipulation not available; a simulation assumption",
    cell_factors={c.name: dict(c.factors) for c in CONDITIONS},
    max_tickets=MAX_TICKETS,
)

def _within(k: Contrast, liking: str) -> Contrast:
    """The favor contrast ``k`` within one liking level: its cells found by their factors, its label
    said by its levels (not confirmatory)."""
    def cell(favor: str) -> str:
        return next(c.name for c in CONDITIONS if dict(c.factors) == {"favor": favor, "liking": liking})

    def words(levels) -> str:
        return " + ".join(level.replace("_", " ") for level in levels)
    return Contrast(cell(k.treatment), tuple(cell(c) for c in k.control),
                    f"{words((k.treatment,))} vs {words(k.control)}, {liking} confederate", confirmatory=False)


#: The analysis plan: the favor contrasts on tickets (two-factor count
#: models referenced to no favor and the unpleasant confederate), the liking x
#: tickets correlations compared between favor levels, and the threshold
#: measure (more than one ticket, confederate favor vs the pooled controls).
#: The per-liking-level contrasts are the same comparisons within each cell
#: of liking, not confirmatory (they appear in the binary-style summaries).
PLAN = CountPlan(
    outcome="tickets",
    factors=("favor", "liking"),
    contrasts=FAVOR_CONTRASTS + tuple(_within(k, lk) for k in FAVOR_CONTRASTS for lk in ("pleasant", "unpleasant")),
    references={"favor": "no_favor", "liking": "unpleasant"},
    score="liking_score",
    correlation_pairs=(("no_favor", "confederate_favor"), ("no_favor", "experimenter_favor"),
                       ("experimenter_favor", "confederate_favor")),
    threshold=1,
    threshold_contrast=("confederate_favor", ("experimenter_favor", "no_favor")),
)

EXPERIMENTS = (
    Experiment(
        1, "Favor (confederate, experimenter, none) x liking (pleasant, unpleasant)",
        conditions=CONDITIONS,
        plan=PLAN,
        model=MODEL,
        notes=("81 male undergraduates in the original; cell sizes, SDs and F values are not available. "
               "The confirmatory contrasts are on the favor factor, pooled over liking with equal cell "
               "weights; the others are the same comparisons within each liking level. Secondary "
               "tests: the correlation of liking with tickets within each favor condition (no favor vs "
               "confederate favor, Fisher z), and the share buying more than one ticket (confederate favor "
               "vs the pooled controls; a chapter review reports 58% vs 25%, secondary)."),
    ),
)

# --------------------------------------------------------------------------- #
# The lab session: what the computer shows the participant.
# --------------------------------------------------------------------------- #
LIKING_ITEMS = (
    RatingItem("like_01", f"How much did you like your partner ({CONFEDERATE})?", "not at all", "very much"),
    RatingItem("like_02", "How pleasant did you find him?", "very unpleasant", "very pleasant"),
    RatingItem("like_03", "How much would you like to work with him again?", "not at all", "very much"),
    RatingItem("like_04", "How much would you like to get to know him better?", "not at all", "very much"),
)
KNEW_ITEM = RatingItem("knew_partner", f"How well did you know your partner ({CONFEDERATE}) before today?",
                       "not at all", "very well")
SUSPICION_ITEM = TextItem(
    "suspicion", "In a sentence or two: what do you think this study was about?",
    note="Type your answer, then press Enter. Please do not write anyone's name.")

DESIGN = LabDesign(
    welcome=(
        "This study is about how people judge paintings. You and another participant will look at a "
        "series of paintings and rate how much you like each one. There will be a short break in the "
        "middle. Afterwards you will answer a few questions about the session. The whole session takes "
        "about 30 minutes.\n\n"
        "Some details of the study can only be explained at the end; you will then be told everything, "
        "and you can ask that your answers are not used. Taking part is voluntary: you can stop at any "
        "time without giving a reason, and without losing your course credit. Your answers are stored "
        "under a code, never with your name.\n\n"
        "Do you agree to take part?"),
    painting_question="How much do you like this painting?",
    painting_low="not at all",
    painting_high="very much",
    paintings=12,
    breaks=(
        Break("setup", "The paintings are being prepared. Please wait; the session will start in a "
                       "moment.", "phone_call"),
        Break("break", "Half-way there. Please take a short break; the experimenter will continue "
                       "the session in a few minutes.", "drink"),
        Break("forms", "That was the last painting. Please wait: the experimenter is fetching the "
                       "final questionnaire.", "ticket_request"),
    ),
    questionnaire=LIKING_ITEMS + (KNEW_ITEM, SUSPICION_ITEM),
    composite=("liking_score", tuple(i.column for i in LIKING_ITEMS)),
    debriefing_participant=(
        "Thank you. This study was not about paintings. It is about how a favor and liking affect "
        "whether people agree to a request; it repeats a classic study from 1971. Your partner was a "
        "member of the research team. Whether he was pleasant or not, whether anyone brought a drink, "
        "and his request to buy raffle tickets were all planned in advance; you were assigned to one "
        "version by chance. There is no raffle: any money you paid is returned to you now. Whatever "
        "you did was entirely normal; there is no right or wrong answer.\n\n"
        "We had to keep this from you until now, because knowing it would have changed the study. "
        "Please do not tell other students about it until the study ends."),
    data_question="May we use your answers? They are stored under a code, never with your name.",
    max_tickets=MAX_TICKETS,
    confederate_name=CONFEDERATE,
    blind_to=("liking",),
)

# --------------------------------------------------------------------------- #
# Measures beyond the common ones and the design factors (favor, liking).  The
# step columns (phone_call_answer, drink_answer, ticket_request_answer and
# their times) are derived from the scripts above.
# --------------------------------------------------------------------------- #
#: how the study is run: the lab screens, in the design's order
SESSION = LabSession(DESIGN)
#: the session's columns in the declaration's words; their types and bounds are the design's (said once there)
_RATED = "rated on a 1-9 slider"
_measure = SESSION.measure
MEASURES = (
    _measure("tickets", f"number of 25-cent raffle tickets bought (0..{MAX_TICKETS}), entered twice by the "
             "experimenter; empty if the request was never reached"),
    *(_measure(i.column, f"liking of the confederate: \"{i.question}\" ({_RATED}: 1 = {i.low_label}, "
                         f"9 = {i.high_label})") for i in LIKING_ITEMS),
    _measure("liking_score", "mean of like_01..like_04 (the liking composite; the design factor is the "
             "column liking)"),
    _measure("knew_partner", f"\"{KNEW_ITEM.question}\" ({_RATED}: 1 = not at all, 9 = very well)"),
    _measure("suspicion", "free-text answer to the probe \"what do you think this study was about?\", "
             "verbatim (may contain commas, quotes, line breaks; the CSV quotes it)"),
    *(_measure(c, f"cover task: rating of painting {c[-2:]} ({_RATED}: 1 = not at all, 9 = very much; "
                  f"paintings {', '.join(x[-2:] for x in DESIGN.first_block)} before the break)")
      for c in DESIGN.painting_columns),
)

# --------------------------------------------------------------------------- #
# Ethics, training and coding texts.
# --------------------------------------------------------------------------- #
CONSENT = """\
This is a laboratory study with deception: the cover story (an "art appreciation" study), the
confederate posing as a second participant, the phone call, the drink and the raffle are not
disclosed in advance, because knowing them would change the behaviour studied. Your ethics board
must approve the deception. Informed consent is taken BEFORE the session, on the participant's
screen (the text describes the session truthfully as far as it goes, says that some details are
explained at the end, and that he may stop at any time without losing credit); a participant who
does not agree is thanked and leaves, and his slot is recorded as excluded with data_consent = 0.
After the session the full debriefing is given and consent to use the data is asked again on the
screen (data_consent); a participant who withdraws is kept in the file, marked, and never analysed.
Money paid for tickets is returned at the debriefing. The free-text probe asks for no names, and no
name or contact detail is ever written to the data; the participant id is a random pseudonym."""

#: the participant's debriefing is written once, in DESIGN; the protocol quotes it between the stage directions
DEBRIEFING = DESIGN.protocol_debriefing(
    "On the participant's screen (read it with him, then talk it through):",
    "Return the money, introduce the confederate by his real role, answer questions, and let the\n"
    'participant answer "May we use your answers?" on the screen himself.')

TRAINING = """\
Confederate:
- Before each session read the CUE CARD on the experimenter's screen: it names this session's liking
  version (pleasant / unpleasant phone call) and favor version (you bring drinks / the experimenter
  brings them / nobody does). The request is the same in every condition.
- Learn the scripts by heart; rehearse the pleasant and unpleasant calls until they take the same
  time (about 30 s). Be rude only to the caller, never to the participant.
- Outside the phone call, behave the same in every condition: neutral, friendly, no small talk about
  the study; rate the paintings quietly.
- Make the request once, in the script's words; never repeat it, bargain or mention the drink. Take
  the money, hand over the tickets, write the number on the slip and seal it.
- After the session tell the experimenter whether each scripted event went as written (she records
  it: done as scripted / deviated / participant declined the drink).
- You must not know the participant: if you do, tell the experimenter before the session starts
  (swap confederates, or record knew_confederate).
Experimenter:
- Do not look at the cue card in front of the participant; leave the room at each break as the
  script says; press F9 on the participant's screen to continue after each break.
- Enter the ticket count from the sealed slip twice, out of the participant's sight.
- Keep blind to the liking version where possible (the confederate reads the cue card alone)."""

CODING_RULES = """\
- tickets = the number of tickets the participant took and paid for (or promised to pay for), from
  the confederate's sealed slip; 0 if he declined. Typed twice; the two entries must agree.
- The threshold measure is tickets > 1 (more than one ticket), as in the secondary review.
- liking_score = the mean of like_01..like_04, computed on the screen.
- suspicious: the probe answer or the funnel questions at debriefing mention the raffle, the drink or
  the partner as part of the study (a guess that the study "is not really about art" is not enough).
- knew_confederate: knew_partner above 1, confirmed by asking at debriefing.
- Exclusions are decided before the ticket count is looked at in any analysis.
- A participant who does not consent is recorded as excluded (other) with data_consent = 0."""

PROVENANCE = """\
The design (3 favor x 2 liking, between subjects), the favor manipulations and the request (raffle
tickets at 25 cents each; "any would help, the more the better") follow the abstract and secondary
accounts of the paper (data/published/published_results.csv). The liking manipulation (a phone call
answered politely or rudely) is known only from ONE WEAK SOURCE. Every sentence of the scripts is a
RECONSTRUCTION, not the paper's text. The prize is reported differently by the accounts (a new car;
a "$50 prize"); the script makes the car the raffle prize and the fifty dollars the seller's prize,
which is itself a RECONSTRUCTION. The number of paintings (12, six before the break),
the rating scales (1-9 sliders), the liking items, the suspicion probe and the on-screen procedure
are RECONSTRUCTIONS; the paintings are abstract compositions drawn by the program from a seed, not
the original slides. The participants in the original were male undergraduates; the texts follow
that, and a replication may recruit otherwise."""

EXCLUSION_REASONS = {
    "suspicious": "the participant suspected that the request, the drink or the partner was part of the study",
    "knew_confederate": "the participant knew the confederate before the session",
    "other": "another reason (including no consent), described in the session notes",
}

PARADIGM = declare(
    globals(),
    id="regan1971",
    title="Favor and liking (reciprocity in the lab)",
    session=SESSION,
    exclusion_reasons=EXCLUSION_REASONS,
)
