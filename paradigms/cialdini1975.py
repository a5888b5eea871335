"""Door-in-the-face: Cialdini, Vincent, Lewis, Catalan, Wheeler & Darby (1975).

Reciprocal concessions procedure for inducing compliance: The door-in-the-face
technique. *Journal of Personality and Social Psychology, 31*(2), 206-215.

A requester from the "County Youth Counseling Program" stops a student walking
alone on campus. In the rejection-moderation condition the requester first asks
for an extreme favor (unpaid counselling of juvenile delinquents, two hours a
week for at least two years); after the refusal they retreat to the target
request (chaperoning a two-hour trip to the zoo).  The outcome is whether the
passer-by agrees to the target request.

Read this module top to bottom: citation, the scripts, the three experiments
(conditions, confirmatory contrasts, simulation model), the measures, and the
consent, debriefing and training texts.  Everything else is derived.
"""
from __future__ import annotations

from .vocab import (Answer, BinaryModel, Condition, Contrast, ContrastPlan, Experiment, FieldSession, Rate, Step,
                    declare)

__all__ = ["PARADIGM"]

CITATION = (
    "Cialdini, R. B., Vincent, J. E., Lewis, S. K., Catalan, J., Wheeler, D., & Darby, B. L. (1975). "
    "Reciprocal concessions procedure for inducing compliance: The door-in-the-face technique. "
    "Journal of Personality and Social Psychology, 31(2), 206-215."
)

# --------------------------------------------------------------------------- #
# Answers the requester records (one tap, or the key in brackets).
# --------------------------------------------------------------------------- #
AGREE_TARGET = Answer("agree", "Agreed [A]", "a", sets={"complied": 1}, position=0)
REFUSE_TARGET = Answer("refuse", "Refused [R]", "r", sets={"complied": 0}, position=1)
REFUSE_FIRST = Answer("refuse", "Refused [R]", "r", position=1)
AGREE_FIRST = Answer("agree", "Agreed [A]", "a", ends=True, position=0,
                     sets={"excluded": 1, "exclusion_reason": "agreed_first_request"})

# --------------------------------------------------------------------------- #
# The scripts.  Wording follows the secondary accounts of the paper (county
# youth counselling programme; two hours a week for two years; a two-hour zoo
# trip).  The exact sentences are a reconstruction: see PROVENANCE.
# --------------------------------------------------------------------------- #
INTRO = ("Hello, I'm with the County Youth Counseling Program. "
         "Do you have a moment?")

EXTREME_REQUEST = Step(
    id="first_request",
    say=(INTRO + " We're currently recruiting university students to work as voluntary, "
         "unpaid counselors at the County Juvenile Detention Center. The position would "
         "require two hours of your time per week for a minimum of two years. You would be "
         "working as a big brother or big sister to one of the young people there. "
         "Would you be interested in being considered for one of these positions?"),
    note="Wait for a clear answer. If the passer-by agrees, thank them warmly; they are "
         "recorded as excluded (agreed_first_request) and the target request is not made.",
    answers=(REFUSE_FIRST, AGREE_FIRST),
)

#: the target request after "We're recruiting" (with "also" only where another request came first)
TARGET_TEXT = ("university students to chaperone a group of young people "
               "from the County Juvenile Detention Center on a trip to the zoo. It would be "
               "voluntary and unpaid, and would take about two hours of one afternoon or evening. "
               "Would you be interested in being considered for this?")

TARGET_AFTER_RETREAT = Step(
    id="target_request",
    say="Oh. Well, we also have another program you might be interested in. We're also recruiting " + TARGET_TEXT,
    note="Say this straight after the refusal, in the same friendly tone.",
    answers=(AGREE_TARGET, REFUSE_TARGET),
    target=True,
)

TARGET_ALONE = Step(
    id="target_request",
    say=INTRO + " We're recruiting " + TARGET_TEXT,
    note="This is the only request. Do not mention any other programme.",
    answers=(AGREE_TARGET, REFUSE_TARGET),
    target=True,
)

EXPOSURE_CHOICE = Step(
    id="target_request",
    say=(INTRO + " We're recruiting university students for two programs. In the first, you "
         "would work as a voluntary, unpaid counselor at the County Juvenile Detention Center, "
         "two hours a week for a minimum of two years. In the second, you would chaperone a "
         "group of young people from the Center on a two-hour trip to the zoo, one afternoon "
         "or evening. Would you be interested in being considered for either one?"),
    note="Describe both programmes in one breath and ask for a choice; do not ask the large "
         "request first and wait. Choosing the counselling programme is recorded but is not "
         "compliance with the target request.",
    answers=(Answer("agree", "Zoo trip [A]", "a", sets={"complied": 1}, position=0),
             Answer("agree_first", "Counselling [C]", "c", sets={"complied": 0}, position=2),
             REFUSE_TARGET),
    target=True,
)

EXTREME_THEN_HANDOVER = Step(
    id="first_request",
    say=EXTREME_REQUEST.say,
    note=("Requester 1 makes this request. After the refusal, requester 1 says goodbye and "
          "walks on; requester 2, who has been standing nearby, approaches within a few seconds. "
          "Hand the tablet to requester 2, or requester 2 records on a second tablet."),
    answers=(REFUSE_FIRST, AGREE_FIRST),
)

TARGET_SECOND_REQUESTER = Step(
    id="target_request",
    say="Hello, I'm also with the County Youth Counseling Program. We're recruiting " + TARGET_TEXT,
    note="Requester 2 speaks. Do not refer to the first request or to requester 1.",
    answers=(AGREE_TARGET, REFUSE_TARGET),
    target=True,
)

EQUIVALENT_REQUEST = Step(
    id="first_request",
    say=(INTRO + " We're recruiting university students to spend two hours one afternoon "
         "helping with a recreation session at the County Juvenile Detention Center. "
         "Would you be interested in being considered for this?"),
    note=("The first request is of the same size as the target request, so refusing it and "
          "hearing the target is no concession. RECONSTRUCTION: the original equivalent "
          "request's wording is not known."),
    answers=(REFUSE_FIRST, AGREE_FIRST),
)

# --------------------------------------------------------------------------- #
# Conditions.
# --------------------------------------------------------------------------- #
REJECTION_MODERATION = Condition(
    "rejection_moderation", "treatment",
    "Extreme request, refused, then the target request (the door-in-the-face).",
    steps=(EXTREME_REQUEST, TARGET_AFTER_RETREAT))

EXPOSURE_CONTROL = Condition(
    "exposure_control", "control",
    "Both requests described together; the passer-by may volunteer for either.",
    steps=(EXPOSURE_CHOICE,))

SMALLER_REQUEST_ONLY = Condition(
    "smaller_request_only", "control",
    "The target request alone.",
    steps=(TARGET_ALONE,))

TWO_REQUESTER_CONTROL = Condition(
    "two_requester_control", "control",
    "Extreme request by one requester, refused; a second requester makes the target request.",
    steps=(EXTREME_THEN_HANDOVER, TARGET_SECOND_REQUESTER))

EQUIVALENT_REQUEST_CONTROL = Condition(
    "equivalent_request_control", "control",
    "A first request of the same size as the target, refused, then the target request.",
    steps=(EQUIVALENT_REQUEST, TARGET_AFTER_RETREAT))

# --------------------------------------------------------------------------- #
# Experiments: conditions, confirmatory contrasts, default simulation model.
# Rates are the published ones (data/published/); where a rate is not
# published the model borrows one and says so in its source.
# --------------------------------------------------------------------------- #
VS_SMALLER_REQUEST_ONLY = Contrast("rejection_moderation", ("smaller_request_only",),
                                   "door-in-the-face vs smaller request only")
_E1 = "Experiment 1, Table 1 (12/24, 6/24, 4/24), via a secondary note"
_BORROW = "not published; borrowed from Experiment 1 ({}) as a simulation assumption"

EXPERIMENTS = (
    Experiment(
        1, "Rejection-moderation vs exposure and smaller-request-only controls",
        conditions=(REJECTION_MODERATION, EXPOSURE_CONTROL, SMALLER_REQUEST_ONLY),
        plan=ContrastPlan((
            Contrast("rejection_moderation", ("exposure_control", "smaller_request_only"),
                     "door-in-the-face vs the two controls combined (the paper's test)"),
            Contrast("rejection_moderation", ("exposure_control",), "door-in-the-face vs exposure control"),
            VS_SMALLER_REQUEST_ONLY,
            Contrast("exposure_control", ("smaller_request_only",),
                     "the two controls do not differ (the paper's check)", confirmatory=False),
        )),
        model=BinaryModel({
            "rejection_moderation": Rate(12 / 24, _E1),
            "exposure_control": Rate(6 / 24, _E1),
            "smaller_request_only": Rate(4 / 24, _E1),
        }),
        notes="n = 24 per condition in the original.",
    ),
    Experiment(
        2, "Rejection-moderation vs a two-requester control",
        conditions=(REJECTION_MODERATION, TWO_REQUESTER_CONTROL, SMALLER_REQUEST_ONLY),
        plan=ContrastPlan((
            Contrast("rejection_moderation", ("two_requester_control",),
                     "door-in-the-face vs the same requests from two requesters"),
            VS_SMALLER_REQUEST_ONLY,
        )),
        model=BinaryModel({
            "rejection_moderation": Rate(0.55, "Experiment 2, 55%, a course page (secondary)"),
            "two_requester_control": Rate(0.105, "Experiment 2, 10.5%, a course page (secondary)"),
            "smaller_request_only": Rate(4 / 24, _BORROW.format("4/24")),
        }),
        notes="Cell sizes, the smaller-request-only rate and the tests are not available.",
    ),
    Experiment(
        3, "Rejection-moderation vs an equivalent-request control",
        conditions=(REJECTION_MODERATION, EQUIVALENT_REQUEST_CONTROL, SMALLER_REQUEST_ONLY),
        plan=ContrastPlan((
            Contrast("rejection_moderation", ("equivalent_request_control", "smaller_request_only"),
                     "door-in-the-face vs the two controls combined (the paper's test)"),
            Contrast("rejection_moderation", ("equivalent_request_control",),
                     "door-in-the-face vs a first request of equal size (no concession)"),
            VS_SMALLER_REQUEST_ONLY,
            Contrast("equivalent_request_control", ("smaller_request_only",),
                     "the two controls do not differ (the paper's check)", confirmatory=False),
        )),
        model=BinaryModel({
            "rejection_moderation": Rate(12 / 24, _BORROW.format("12/24")),
            "equivalent_request_control": Rate(
                4 / 24, "not published; set equal to the smaller-request-only rate (no concession, "
                        "no effect) as a simulation assumption"),
            "smaller_request_only": Rate(4 / 24, _BORROW.format("4/24")),
        }),
        notes="N = 72 and the paper's two tests (chi2 = 0.0 between the controls; chi2 = 2.88, p = .091 for "
              "rejection-moderation vs the combined controls) are known through FReD; cell counts are not.",
    ),
)

# --------------------------------------------------------------------------- #
# Measures beyond the common ones (the step answers and times are derived
# from the scripts above).
# --------------------------------------------------------------------------- #
MEASURES = ()

# --------------------------------------------------------------------------- #
# Ethics and training texts.
# --------------------------------------------------------------------------- #
CONSENT = """\
This is a field study with deception: passers-by are not told in advance that they are in a
study, because knowing would change how they answer. Prior consent is therefore waived (your
ethics board must approve this), and consent is sought at the debriefing instead: the
requester explains the study straight after the answer and asks whether the anonymous record
of the answer may be kept. If the person says no, tap "Withdrew data": the record is kept
on the device, marked as withdrawn, and left out of every analysis. No name, contact detail
or description of the person is ever written down; the participant id is a random pseudonym."""

DEBRIEFING = """\
"Thank you. I should tell you that the programme I asked you about does not exist: I am
part of a psychology study of how people respond to requests, replicating a classic study
from 1975. Your answer was not wrong in any way, and nobody will contact you. We note only
whether you agreed, never who you are. May we keep that anonymous answer for the study?
If you have questions, this card has the study's contact address." (Hand over the card.)"""

TRAINING = """\
- Approach only people walking alone; stand still, smile, hold the tablet low and to the side.
- Read the script on the screen in a natural voice; learn it by heart so you glance, not read.
- Record the answer with one tap the moment it is given, before anything else is said.
- Say nothing beyond the script: no pleading, no second ask, no explanation of the programme.
- Keep the same clothes, tone and pace in every condition; you do not choose the condition, the
  schedule does, and the screen shows it only when you tap "Approach".
- If someone stops you who knows you or the study, tap "Exclude" and choose the reason.
- Debrief every participant you can, and record whether you did."""

CODING_RULES = """\
- complied = 1 when the passer-by says yes (or "sure", "OK", "I could do that") to the target
  request; 0 for a refusal, a hesitation that ends in no, or "maybe" that does not become yes.
- In the exposure control, choosing the zoo trip is compliance (1); choosing the counselling
  programme is recorded as agree_first and coded 0 for the target request.
- An answer to the first request is recorded before the target request is made.
- A passer-by who agrees to the extreme request is excluded (agreed_first_request).
- A passer-by who leaves before the target request is excluded (left_before_request)."""

PROVENANCE = """\
The condition structure and the key facts (County Youth Counseling Program; two hours a week for
a minimum of two years; a two-hour zoo trip with juvenile delinquents) follow secondary accounts
of the paper (data/published/published_results.csv). The exact sentences are a RECONSTRUCTION,
not the paper's text. The equivalent-request control's first request (Experiment 3) is not
described in the available sources and is a RECONSTRUCTION of a request of equal size. The
exposure control's wording (both requests described together, choose either) is a
RECONSTRUCTION of the procedure described in the sources."""

PARADIGM = declare(
    globals(),
    id="cialdini1975",
    title="Door-in-the-face (reciprocal concessions)",
    session=FieldSession(),
)
