"""The proof of the declaration (issue 8, part 6): a new study is one declaration, nothing else.

Two made-up studies are declared in this module only -- a binary field study with two conditions
and a count study of a 2 x 2 lab design -- and go through the schedule, a data-only simulation, the
printed protocol, the codebook and the analysis, with no line changed outside this file.  The
analysis numbers are checked against scipy and statsmodels computed another way.
"""
from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

import paradigms
from paradigms.vocab import (Answer, BinaryModel, Break, CellMean, Condition, Contrast, ContrastPlan, CountModel,
                             CountPlan, Experiment, FieldSession, LabDesign, LabSession, Paradigm, RatingItem, Rate,
                             Step, TextItem)

# --------------------------------------------------------------------------- #
# A binary field study: does a compliment before a request raise compliance?
# --------------------------------------------------------------------------- #
AGREE = Answer("agree", "Agreed [A]", "a", sets={"complied": 1})
REFUSE = Answer("refuse", "Refused [R]", "r", sets={"complied": 0})
ASK = "Could you spare two minutes to fill in a short survey about the campus library?"
COMPLIMENT = Step("compliment", "I like your scarf, by the way.", (Answer("said", "Said it [S]", "s"),),
                  note="Say it warmly, then go on.")
REQUEST = Step("survey_request", ASK, (AGREE, REFUSE), target=True, title="THE REQUEST")

SURVEY = Paradigm(
    id="testcompliment",
    citation="Made up for the toolkit's tests (no such study).",
    title="A compliment before a request",
    session=FieldSession(),  # setting (field) and outcome (binary) are derived
    experiments=(Experiment(
        1, "Compliment vs none",
        conditions=(Condition("compliment", "treatment", "Compliment, then the request.", (COMPLIMENT, REQUEST)),
                    Condition("plain", "control", "The request alone.", (REQUEST,))),
        plan=ContrastPlan((Contrast("compliment", ("plain",), "compliment vs none"),)),
        model=BinaryModel({"compliment": Rate(0.7, "made up"), "plain": Rate(0.3, "made up")}),
    ),),
    measures=(),
    consent="Consent is sought at the debriefing (made-up text).",
    debriefing="Thank you: the compliment was part of a study (made-up text).",
    training="Practise the compliment (made-up text).",
    coding_rules="Agreed means said yes to the survey (made-up text).",
    provenance="Everything here is made up for a test.",
)

# --------------------------------------------------------------------------- #
# A count study in the lab: a gift (yes/no) x a warm or cold helper; pens taken for a charity.
# --------------------------------------------------------------------------- #
FIDELITY = (Answer("as_scripted", "Done as scripted [D]", "d"), Answer("deviated", "Deviated [V]", "v"))
GIFT = Step("gift", "The helper hands over a chocolate.", FIDELITY, note="Hand it over at the break.")
NO_GIFT = Step("no_gift", "Nothing is handed over.", FIDELITY, note="Do nothing at the break.")
WARM = Step("warm", "The helper chats warmly.", FIDELITY, note="Smile; ask about their day.")
COLD = Step("cold", "The helper is curt.", FIDELITY, note="Answer in one word.")
PENS = Step("pens", "The helper asks them to buy charity pens.", FIDELITY, target=True)


def _cell(gift: str, warmth: str) -> Condition:
    steps = (WARM if warmth == "warm" else COLD, GIFT if gift == "gift" else NO_GIFT, PENS)
    return Condition(f"{gift}_{warmth}", "treatment" if gift == "gift" else "control", f"{gift}, {warmth}",
                     steps, factors={"gift": gift, "warmth": warmth})


CELLS = tuple(_cell(g, w) for g in ("gift", "none") for w in ("warm", "cold"))
MEANS = {"gift_warm": 4.0, "gift_cold": 3.0, "none_warm": 1.5, "none_cold": 1.0}
LIKING = (RatingItem("warm_01", "How friendly was the helper?", "not at all", "very"),
          RatingItem("warm_02", "Would you work with them again?", "no", "gladly"))
PEN_DESIGN = LabDesign(
    welcome="You will rate some photographs (made-up text). Do you agree to take part?",
    painting_question="How much do you like this photograph?", painting_low="not at all", painting_high="a lot",
    paintings=4,
    breaks=(Break("start", "Please wait.", "warm"), Break("middle", "A short break.", "gift"),
            Break("end", "Nearly done.", "pens")),
    questionnaire=LIKING + (TextItem("guess", "What was this study about?"),),
    composite=("warmth_score", tuple(i.column for i in LIKING)),
    debriefing_participant="The study was about gifts (made-up text).",
    data_question="May we use your answers?",
    max_tickets=10,
    confederate_name="the helper",
    count_column="pens",
    count_title="Pens bought",
    count_question="How many pens did the participant buy?",
)
PENS_STUDY = Paradigm(
    id="testpens",
    citation="Made up for the toolkit's tests (no such study).",
    title="A gift and warmth, and pens bought",
    setting="lab",
    session=LabSession(PEN_DESIGN),
    outcome="count",
    experiments=(Experiment(
        1, "Gift x warmth",
        conditions=CELLS,
        plan=CountPlan(outcome="pens", factors=("gift", "warmth"),
                       contrasts=(Contrast("gift", ("none",), "gift vs none", factor="gift"),),
                       references={"gift": "none", "warmth": "cold"}),
        model=CountModel(cell_means={k: CellMean(v, "made up") for k, v in MEANS.items()}, dispersion=0.3,
                         dispersion_source="made up", slope_factor="gift", liking_slope={"gift": 0.0, "none": 0.0},
                         liking_slope_source="made up", shift_factor="warmth",
                         liking_shift={"warm": 0.5, "cold": -0.5}, liking_shift_source="made up",
                         cell_factors={c.name: dict(c.factors) for c in CELLS}, max_tickets=10),
    ),),
    measures=(),
    consent="Deception: the helper is a confederate (made-up text).",
    debriefing="Everything is explained (made-up text).",
    training="Rehearse the scripts (made-up text).",
    coding_rules="Count the pens bought (made-up text).",
    provenance="Everything here is made up for a test.",
    exclusion_reasons={"suspicious": "guessed the hypothesis"},
)


@pytest.fixture(scope="module", autouse=True)
def registered():
    for p in (SURVEY, PENS_STUDY):
        paradigms.register(p)
    yield
    for p in (SURVEY, PENS_STUDY):
        paradigms.unregister(p.id)


def _schedule_and_simulate(paradigm, n, tmp_path):
    from paradigms.engine.schedule import load_schedule
    from paradigms.engine.sessions import create_schedule, simulate
    sched = create_schedule(paradigm, 1, n, seed=4, out=tmp_path / "schedule.csv")
    assert load_schedule(sched.path, paradigm, 1).sha256 == sched.sha256
    with open(sched.path, newline="") as fh:
        conditions = {r["condition"] for r in csv.DictReader(fh)}
    assert conditions == set(paradigm.experiment(1).condition_names)
    return simulate(paradigm, 1, n, seed=4, data_dir=tmp_path / "data")


def test_the_binary_field_study_runs_from_its_declaration_alone(tmp_path):
    from analysis import analyze
    from paradigms.protocol import render_protocol
    assert "testcompliment" in paradigms.names()
    res = _schedule_and_simulate(SURVEY, 200, tmp_path)
    header = next(csv.reader(open(res.csv_path, newline="")))
    assert tuple(header) == SURVEY.columns(1)
    assert {"compliment_answer", "survey_request_answer", "complied"} <= set(header)
    protocol = render_protocol(SURVEY)
    assert ASK in protocol and "I like your scarf" in protocol and SURVEY.consent in protocol

    (result,) = analyze(tmp_path / "data", warn=False)
    df = pd.read_csv(res.csv_path)
    table = pd.crosstab(df["condition"], df["complied"]).loc[["compliment", "plain"], [1, 0]].to_numpy()
    (contrast,) = result.contrasts
    assert (contrast.treatment, contrast.control) == ("compliment", ("plain",))
    assert contrast.fisher_p == pytest.approx(stats.fisher_exact(table)[1], rel=1e-12)
    odds = (table[0, 0] * table[1, 1]) / (table[0, 1] * table[1, 0])
    assert contrast.odds_ratio == pytest.approx(odds, rel=1e-12) and odds > 1


def test_the_count_lab_study_runs_from_its_declaration_alone(tmp_path):
    from analysis import analyze
    from paradigms.protocol import render_protocol
    res = _schedule_and_simulate(PENS_STUDY, 120, tmp_path)
    df = pd.read_csv(res.csv_path)
    assert tuple(df.columns) == PENS_STUDY.columns(1)
    assert {"pens", "warm_01", "warm_02", "warmth_score", "guess", "painting_04"} <= set(df.columns)
    assert "tickets" not in df.columns and df["pens"].between(0, 10).all()
    protocol = render_protocol(PENS_STUDY)
    assert "The helper hands over a chocolate." in protocol and PENS_STUDY.consent in protocol
    codebook = {m.name: m for m in PENS_STUDY.codebook(1)}
    assert codebook["pens"].maximum == 10 and codebook["gift"].allowed == ("gift", "none")

    (result,) = analyze(tmp_path / "data", warn=False)
    kept = df[(df["excluded"] == 0) & (df["data_consent"] == 1)]
    # type II ANOVA on the counts, computed another way (statsmodels' anova_lm on OLS, sum-to-zero free)
    ols = smf.ols("pens ~ C(gift) * C(warmth)", data=kept).fit()
    ref = sm.stats.anova_lm(ols, typ=2)
    terms = {t.term: t for t in result.anova}
    gift = next(t for name, t in terms.items() if "gift" in name and "warmth" not in name)
    assert gift.F == pytest.approx(ref.loc["C(gift)", "F"], rel=1e-9)
    assert gift.p == pytest.approx(ref.loc["C(gift)", "PR(>F)"], rel=1e-6) and gift.p < 0.001
    cells = {(c.favor, c.liking): c for c in result.cells}  # the plan's first and second factor
    assert set(cells) == {("gift", "warm"), ("gift", "cold"), ("none", "warm"), ("none", "cold")}
    assert cells[("gift", "warm")].mean == pytest.approx(kept.loc[kept.condition == "gift_warm", "pens"].mean())
    assert np.isfinite(cells[("none", "cold")].sd)
    assert result.liking_correlation == ()  # the plan declares no score: no correlations, and no error
    text = str(result)
    assert "pens" in text and "gift" in text
    import json
    assert json.loads(json.dumps(result.to_dict()))["outcome"] == "pens"
